// Unit tests of TileValue and the reference tile kernels (isa/tile_kernels.hpp): each op against
// hand-computed values, mma against independent float loops, and readable shape/dtype errors.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "isa/tile_kernels.hpp"

using namespace tilesim::isa;
using Catch::Matchers::Contains;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

TileValue tile(DType t, Shape shape, std::vector<double> values) { return TileValue(t, std::move(shape), values); }

std::vector<double> values_of(const TileValue& t) { return t.values(); }

/// Round a float to bf16 with the classic bit trick (independent of isa/dtype.cpp); no NaNs here.
float bf16_round(float f) {
  uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  u = ((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16) << 16;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace

// ---- TileValue ----

TEST_CASE("TileValue rounds every store and compares bit patterns", "[tile]") {
  TileValue t = tile(DType::bf16, {2, 2}, {1.0, 1.00390625, 3.0, -0.0});
  CHECK(t.at(1) == 1.0);  // 1 + 2^-8 is a bf16 tie: rounds to even
  CHECK(t.at({1, 0}) == 3.0);
  CHECK(t.linear_index({1, 1}) == 3);
  CHECK(t.multi_index(2) == Index{1, 0});
  t.set({0, 0}, 1.0e39);
  CHECK(t.at(0) == kInf);  // bf16 overflow -> Inf (IEEE default)
  t.fill(2.0);
  CHECK(values_of(t) == std::vector<double>{2, 2, 2, 2});

  const TileValue pos_zero = TileValue::scalar(DType::f32, 0.0);
  const TileValue neg_zero = TileValue::scalar(DType::f32, -0.0);
  CHECK(pos_zero != neg_zero);  // bitwise
  CHECK(TileValue::scalar(DType::f32, kNaN) == TileValue::scalar(DType::f32, kNaN));
  CHECK(tile(DType::f32, {2}, {1, 2}) != tile(DType::f16, {2}, {1, 2}));
  CHECK(tile(DType::f32, {2}, {1, 2}) != tile(DType::f32, {1, 2}, {1, 2}));

  CHECK(tile(DType::f32, {2, 3}, {1, 2, 3, 4, 5, 6.5}).describe() == "f32[2x3] {1, 2, 3, 4, 5, 6.5}");
  CHECK(TileValue(DType::i8, {40}).describe(2) == "i8[40] {0, 0, ... (38 more)}");
  CHECK(TileValue::scalar(DType::f16, 1.5).describe() == "f16[] {1.5}");
}

TEST_CASE("TileValue rejects bad shapes and value counts", "[tile]") {
  CHECK_THROWS_WITH(tile(DType::f32, {2, 2}, {1, 2, 3}), Contains("needs 4 values but 3 were given"));
  CHECK_THROWS_WITH(TileValue(DType::f32, {1, 1, 1, 1, 2}), Contains("exceeds the maximum rank 4"));
  CHECK_THROWS_AS(TileValue(DType::f32, {2, -1}), SemanticError);
}

// ---- mma ----

TEST_CASE("mma bf16 x bf16 + f32 matches an fp32 loop bit for bit", "[mma]") {
  const int m = 48, n = 40, k = 72;
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> a(m * k), b(k * n), c(m * n);
  for (float& x : a) x = bf16_round(normal(rng));
  for (float& x : b) x = bf16_round(normal(rng) * 0.01f);
  for (float& x : c) x = normal(rng) * 100.0f;

  // Reference: fp32 RNE after each add, k ascending, starting from C.
  std::vector<float> expected(m * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      float acc = c[i * n + j];
      for (int kk = 0; kk < k; ++kk) {
        const float product = a[i * k + kk] * b[kk * n + j];  // exact: 8-bit significands
        acc = acc + product;
      }
      expected[i * n + j] = acc;
    }
  }
  const TileValue result = mma(TileValue(DType::f32, {m, n}, {c.begin(), c.end()}),
                               TileValue(DType::bf16, {m, k}, {a.begin(), a.end()}),
                               TileValue(DType::bf16, {k, n}, {b.begin(), b.end()}));
  CHECK(result == TileValue(DType::f32, {m, n}, {expected.begin(), expected.end()}));
  // The order matters: a different summation order of the same data gives different bits somewhere.
  int order_sensitive = 0;
  for (int i = 0; i < m * n; ++i) {
    float reversed = 0.0f;
    for (int kk = k - 1; kk >= 0; --kk) reversed = reversed + a[(i / n) * k + kk] * b[kk * n + i % n];
    reversed = reversed + c[i];
    if (reversed != expected[i]) ++order_sensitive;
  }
  CHECK(order_sensitive > 0);
}

#if defined(__FLT16_MAX__)
TEST_CASE("mma f16 x f16 + f16 rounds to f16 after every add, like a _Float16 loop", "[mma]") {
  const int m = 8, n = 8, k = 64;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-4.0f, 4.0f);
  std::vector<double> a(m * k), b(k * n), c(m * n, 0.0);
  for (double& x : a) x = static_cast<double>(static_cast<_Float16>(uniform(rng)));
  for (double& x : b) x = static_cast<double>(static_cast<_Float16>(uniform(rng)));
  std::vector<double> expected(m * n);
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      _Float16 acc = 0;
      for (int kk = 0; kk < k; ++kk) {
        // The float sum of two f16-exact values rounded to f16 is the correctly rounded f16 sum.
        const float product = static_cast<float>(a[i * k + kk]) * static_cast<float>(b[kk * n + j]);
        acc = static_cast<_Float16>(static_cast<float>(acc) + product);
      }
      expected[i * n + j] = static_cast<double>(acc);
    }
  }
  const TileValue result =
      mma(TileValue(DType::f16, {m, n}, c), TileValue(DType::f16, {m, k}, a), TileValue(DType::f16, {k, n}, b));
  CHECK(result == TileValue(DType::f16, {m, n}, expected));
}
#endif

TEST_CASE("mma tf32 truncates f32 operands to tf32", "[mma]") {
  const double x = 1.0 + std::ldexp(3, -11);  // f32-exact; tf32 truncation gives 1 + 2^-10
  const TileValue a = tile(DType::tf32, {1, 2}, {x, 1.0});
  const TileValue b = tile(DType::tf32, {2, 1}, {1.0, 2.0});
  const TileValue out = mma(TileValue(DType::f32, {1, 1}), a, b);
  CHECK(out.at(0) == 1.0 + std::ldexp(1, -10) + 2.0);
}

TEST_CASE("mma fp8 with a narrowed accumulator loses bits that fp32 keeps", "[mma]") {
  // A row: 256, 2^-4, 2^-4;  B column: 256, 2^-3, 2^-3.  Products: 2^16, 2^-7, 2^-7 (all e4m3-exact).
  const TileValue a = tile(DType::f8e4m3, {1, 3}, {256.0, 0.0625, 0.0625});
  const TileValue b = tile(DType::f8e4m3, {3, 1}, {256.0, 0.125, 0.125});
  const TileValue c = TileValue(DType::f32, {1, 1});
  REQUIRE(a.at(1) == 0.0625);

  // fp32: 2^16 has an ulp of 2^-7, so both small products survive.
  CHECK(mma(c, a, b).at(0) == 65536.0 + std::ldexp(1, -6));

  // 22 mantissa bits: the ulp at 2^16 is 2^-6; each 2^-7 added on its own is truncated away.
  MmaOptions narrow;
  narrow.acc_mantissa_bits = 22;
  narrow.acc_block_k = 1;
  CHECK(mma(c, a, b, narrow).at(0) == 65536.0);

  // Blocks of 2: the two small products are summed exactly (2^-6) before the narrowing, and survive.
  narrow.acc_block_k = 2;
  const TileValue a2 = tile(DType::f8e4m3, {1, 4}, {256.0, 0.0, 0.0625, 0.0625});
  const TileValue b2 = tile(DType::f8e4m3, {4, 1}, {256.0, 0.0, 0.125, 0.125});
  CHECK(mma(c, a2, b2, narrow).at(0) == 65536.0 + std::ldexp(1, -6));

  // Truncation is toward zero for negative sums too.
  narrow.acc_block_k = 1;
  const TileValue negative_a = tile(DType::f8e4m3, {1, 3}, {-256.0, -0.0625, -0.0625});
  CHECK(mma(c, negative_a, b, narrow).at(0) == -65536.0);
  CHECK(mma(c, negative_a, b).at(0) == -65536.0 - std::ldexp(1, -6));

  // The narrowing truncates the exact sum, not a double-rounded one: 2^31 - 2^-32 needs 63 bits, a double
  // add rounds it up to 2^31, but its truncation to 22 bits is the next value below, 2^31 - 2^8.
  const TileValue big_c = tile(DType::f32, {1, 1}, {std::ldexp(1, 31)});
  const TileValue tiny_a = tile(DType::f8e5m2, {1, 1}, {-std::ldexp(1, -16)});  // e5m2 min subnormal
  const TileValue tiny_b = tile(DType::f8e5m2, {1, 1}, {std::ldexp(1, -16)});
  CHECK(mma(big_c, tiny_a, tiny_b, narrow).at(0) == std::ldexp(1, 31) - 256.0);
  CHECK(mma(big_c, tiny_a, tiny_b).at(0) == std::ldexp(1, 31));  // fp32 RNE rounds back up

  // Small integer data is exact either way.
  const TileValue ones = tile(DType::f8e5m2, {2, 2}, {1, 2, 3, 4});
  CHECK(mma(TileValue(DType::f32, {2, 2}), ones, ones, narrow) == tile(DType::f32, {2, 2}, {7, 10, 15, 22}));
}

TEST_CASE("mma i8: exact sums, wrap-around by default, clamp with satfinite", "[mma]") {
  const TileValue a = tile(DType::i8, {1, 2}, {127, -128});
  const TileValue b = tile(DType::i8, {2, 1}, {127, 3});
  CHECK(mma(TileValue(DType::i32, {1, 1}), a, b).at(0) == 127 * 127 - 384);

  const TileValue big_c = tile(DType::i32, {1, 1}, {2147483000.0});
  const TileValue a1 = tile(DType::i8, {1, 1}, {127});
  const TileValue b1 = tile(DType::i8, {1, 1}, {127});
  CHECK(mma(big_c, a1, b1).at(0) == 2147483000.0 + 16129.0 - 4294967296.0);
  MmaOptions sat;
  sat.int_satfinite = true;
  CHECK(mma(big_c, a1, b1, sat).at(0) == 2147483647.0);
}

TEST_CASE("mma explains shape and dtype errors", "[mma][errors]") {
  const TileValue c(DType::f32, {16, 8});
  const TileValue a(DType::bf16, {16, 32});
  CHECK_THROWS_WITH(mma(c, a, TileValue(DType::bf16, {16, 8})),
                    Contains("A's columns (K=32) must equal B's rows (16)"));
  CHECK_THROWS_WITH(mma(TileValue(DType::f32, {8, 8}), a, TileValue(DType::bf16, {32, 8})),
                    Contains("C is f32[8x8] but A*B is 16x8"));
  CHECK_THROWS_WITH(mma(c, a, TileValue(DType::f16, {32, 8})), Contains("unsupported operand dtypes A bf16, B f16"));
  CHECK_THROWS_WITH(mma(TileValue(DType::f16, {16, 8}), a, TileValue(DType::bf16, {32, 8})),
                    Contains("accumulator dtype f16 is not supported for bf16"));
  CHECK_THROWS_WITH(mma(c, TileValue(DType::f32, {16, 32}), TileValue(DType::f32, {32, 8})),
                    Contains("unsupported operand dtypes A f32"));
  CHECK_THROWS_WITH(mma(c, TileValue(DType::bf16, {2, 16, 32}), TileValue(DType::bf16, {32, 8})),
                    Contains("must be rank-2 tiles"));
  MmaOptions bad;
  bad.acc_mantissa_bits = 30;
  CHECK_THROWS_WITH(mma(c, a, TileValue(DType::bf16, {32, 8}), bad), Contains("acc_mantissa_bits must be in 1..23"));
  // Mixed 8-bit and 4-bit operands are allowed (kind::f8f6f4).
  CHECK_NOTHROW(mma(c, TileValue(DType::f8e4m3, {16, 32}), TileValue(DType::f4e2m1, {32, 8})));
}

TEST_CASE("mma f64 x f64 + f64 is a k-ascending chain of f64 fused multiply-adds", "[mma][f64]") {
  // One fused step: (1 + 2^-30)^2 - 1 = 2^-29 + 2^-60 exactly; a product rounded to double first loses
  // the 2^-60 (DMMA's multiply-add has the precision of an f64 fma, PTX ISA mma).
  const double e = 1.0 + std::ldexp(1, -30);
  const TileValue c = tile(DType::f64, {1, 1}, {-1.0});
  const TileValue fused = mma(c, tile(DType::f64, {1, 1}, {e}), tile(DType::f64, {1, 1}, {e}));
  CHECK(fused.dtype() == DType::f64);
  CHECK(fused.at(0) == std::ldexp(1, -29) + std::ldexp(1, -60));
  // k ascending, one rounding per step: 1, then + 2^-53 twice, each a tie back to 1 (even). Summing the
  // small products first (or rounding to odd) would give 1 + 2^-52.
  const TileValue a = tile(DType::f64, {1, 3}, {1.0, std::ldexp(1, -53), std::ldexp(1, -53)});
  const TileValue b = tile(DType::f64, {3, 1}, {1.0, 1.0, 1.0});
  CHECK(mma(tile(DType::f64, {1, 1}, {0.0}), a, b).at(0) == 1.0);
  const TileValue a_rev = tile(DType::f64, {1, 3}, {std::ldexp(1, -53), std::ldexp(1, -53), 1.0});
  CHECK(mma(tile(DType::f64, {1, 1}, {0.0}), a_rev, b).at(0) == 1.0 + std::ldexp(1, -52));
  // A 2x2 product keeps full double precision (no f32 rounding of the accumulator).
  const TileValue x = tile(DType::f64, {2, 2}, {0.1, 0.2, 0.3, 0.4});
  const TileValue y = mma(tile(DType::f64, {2, 2}, {0, 0, 0, 0}), x, x);
  CHECK(y.at(0) == std::fma(0.2, 0.3, 0.1 * 0.1));
  CHECK(y.at(3) == std::fma(0.4, 0.4, 0.3 * 0.2));
  // f64 operands accumulate only in f64, and f64 does not mix with other operand dtypes.
  CHECK_THROWS_WITH(mma(TileValue(DType::f32, {2, 2}), x, x), Contains("accumulator dtype f32 is not supported for f64"));
  CHECK_THROWS_WITH(mma(tile(DType::f64, {2, 2}, {0, 0, 0, 0}), x, TileValue(DType::f32, {2, 2})),
                    Contains("unsupported operand dtypes A f64, B f32"));
}

// ---- map ----

TEST_CASE("unary ops compute in double and round once to the tile dtype", "[map]") {
  const TileValue x = tile(DType::f32, {5}, {-2.0, -0.0, 0.5, 1.0, 4.0});
  CHECK(values_of(unary(UnaryOp::relu, x)) == std::vector<double>{0, 0, 0.5, 1, 4});
  CHECK(values_of(unary(UnaryOp::neg, x)) == std::vector<double>{2, 0, -0.5, -1, -4});
  CHECK(values_of(unary(UnaryOp::abs, x)) == std::vector<double>{2, 0, 0.5, 1, 4});
  CHECK(unary(UnaryOp::exp2, x).at(0) == 0.25);
  CHECK(unary(UnaryOp::log2, x).at(4) == 2.0);
  CHECK(unary(UnaryOp::sqrt, x).at(4) == 2.0);
  CHECK(unary(UnaryOp::rsqrt, x).at(4) == 0.5);
  CHECK(unary(UnaryOp::recip, x).at(2) == 2.0);
  CHECK(std::isnan(unary(UnaryOp::sqrt, x).at(0)));
  CHECK(unary(UnaryOp::log, x).at(1) == -kInf);
  CHECK(unary(UnaryOp::exp, x).at(3) == static_cast<double>(static_cast<float>(std::exp(1.0))));
  CHECK(unary(UnaryOp::tanh, x).at(3) == static_cast<double>(static_cast<float>(std::tanh(1.0))));
  CHECK(unary(UnaryOp::sigmoid, x).at(1) == 0.5);
  CHECK(unary(UnaryOp::silu, x).at(3) == static_cast<double>(static_cast<float>(1.0 / (1.0 + std::exp(-1.0)))));
  const double gelu_tanh_1 = 0.5 * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * 1.044715));
  CHECK(unary(UnaryOp::gelu_tanh, x).at(3) == static_cast<double>(static_cast<float>(gelu_tanh_1)));
  CHECK(unary(UnaryOp::gelu_erf, x).at(3) == static_cast<double>(static_cast<float>(0.5 * (1 + std::erf(M_SQRT1_2)))));
  // Rounded once to the dtype: e in bf16 is 2.71875.
  CHECK(unary(UnaryOp::exp, TileValue::scalar(DType::bf16, 1.0)).at(0) == 2.71875);
  // Integers: exact, saturated on store.
  CHECK(unary(UnaryOp::neg, tile(DType::i8, {2}, {-128, 5})) == tile(DType::i8, {2}, {127, -5}));
  CHECK_THROWS_WITH(unary(UnaryOp::exp, TileValue(DType::i32, {2})), Contains("exp: needs a float tile, got i32[2]"));
  CHECK_THROWS_WITH(unary(UnaryOp::neg, TileValue(DType::i1, {2})), Contains("neg: i1 tiles are not arithmetic"));
}

TEST_CASE("cast rounds, saturates or keeps Inf as the policy says", "[map]") {
  const TileValue x = tile(DType::f32, {4}, {1000.0, -1.0e6, 2.5, 0.3});
  CHECK(values_of(cast(x, DType::f8e4m3)) == std::vector<double>{448, -448, 2.5, 0.3125});
  CHECK(values_of(cast(x, DType::i8)) == std::vector<double>{127, -128, 2, 0});
  const TileValue huge = tile(DType::f32, {2}, {1.0e6, kInf});
  CHECK(values_of(cast(huge, DType::f8e5m2)) == std::vector<double>{57344, 57344});
  CHECK(values_of(cast(huge, DType::f8e5m2, Overflow::ieee)) == std::vector<double>{kInf, kInf});
  CHECK(std::isnan(cast(huge, DType::f8e4m3, Overflow::ieee).at(0)));
  CHECK(cast(TileValue::scalar(DType::f32, 1.0 + std::ldexp(3, -11)), DType::tf32).at(0) == 1.0 + std::ldexp(1, -10));
}

TEST_CASE("binary ops broadcast numpy-style", "[map]") {
  const TileValue m = tile(DType::f32, {2, 3}, {1, 2, 3, 4, 5, 6});
  const TileValue row = tile(DType::f32, {3}, {10, 20, 30});
  const TileValue col = tile(DType::f32, {2, 1}, {100, 200});
  CHECK(binary(BinaryOp::add, m, row) == tile(DType::f32, {2, 3}, {11, 22, 33, 14, 25, 36}));
  CHECK(binary(BinaryOp::sub, col, m) == tile(DType::f32, {2, 3}, {99, 98, 97, 196, 195, 194}));
  CHECK(binary(BinaryOp::mul, TileValue::scalar(DType::f32, 2), m) == tile(DType::f32, {2, 3}, {2, 4, 6, 8, 10, 12}));
  CHECK(binary(BinaryOp::mul, col, row).shape() == Shape{2, 3});
  CHECK(binary(BinaryOp::div, m, row).at(0) == static_cast<double>(1.0f / 10.0f));
  CHECK(binary(BinaryOp::pow, m, TileValue::scalar(DType::f32, 2)).at(5) == 36.0);
  CHECK(binary(BinaryOp::max, tile(DType::f32, {2}, {kNaN, 1}), tile(DType::f32, {2}, {3, kNaN})) ==
        tile(DType::f32, {2}, {3, 1}));
  CHECK(binary(BinaryOp::min, m, row).at(5) == 6.0);
  // Result rounded once to the dtype: in bf16, 256 + 1 ties back to 256.
  CHECK(binary(BinaryOp::add, TileValue::scalar(DType::bf16, 256), TileValue::scalar(DType::bf16, 1)).at(0) == 256);
  // Integer division truncates toward zero; a zero divisor is an error.
  CHECK(values_of(binary(BinaryOp::div, tile(DType::i32, {2}, {-7, 7}), TileValue::scalar(DType::i32, 2))) ==
        std::vector<double>{-3, 3});
  CHECK_THROWS_WITH(binary(BinaryOp::div, TileValue::scalar(DType::i32, 1), TileValue::scalar(DType::i32, 0)),
                    Contains("integer division by zero"));
  CHECK(binary(BinaryOp::add, TileValue::scalar(DType::i8, 100), TileValue::scalar(DType::i8, 100)).at(0) == 127);

  CHECK_THROWS_WITH(binary(BinaryOp::add, m, tile(DType::f32, {2}, {1, 2})),
                    Contains("add: shapes 2x3 and 2 do not broadcast (dim 1: 3 vs 2)"));
  CHECK_THROWS_WITH(binary(BinaryOp::add, m, TileValue(DType::bf16, {2, 3})),
                    Contains("operand dtypes differ (f32[2x3] vs bf16[2x3]); insert an explicit cast"));
  CHECK_THROWS_WITH(binary(BinaryOp::pow, TileValue(DType::i32, {1}), TileValue(DType::i32, {1})),
                    Contains("pow: needs float tiles"));
}

TEST_CASE("compare gives i1 tiles and select picks by them", "[map]") {
  const TileValue a = tile(DType::f32, {4}, {1, 2, kNaN, 4});
  const TileValue b = TileValue::scalar(DType::f32, 2);
  CHECK(values_of(compare(CompareOp::lt, a, b)) == std::vector<double>{1, 0, 0, 0});
  CHECK(values_of(compare(CompareOp::le, a, b)) == std::vector<double>{1, 1, 0, 0});
  CHECK(values_of(compare(CompareOp::gt, a, b)) == std::vector<double>{0, 0, 0, 1});
  CHECK(values_of(compare(CompareOp::ge, a, b)) == std::vector<double>{0, 1, 0, 1});
  CHECK(values_of(compare(CompareOp::eq, a, b)) == std::vector<double>{0, 1, 0, 0});
  CHECK(values_of(compare(CompareOp::ne, a, b)) == std::vector<double>{1, 0, 1, 1});
  CHECK(compare(CompareOp::lt, a, b).dtype() == DType::i1);

  const TileValue cond = tile(DType::i1, {2, 1}, {1, 0});
  const TileValue yes = tile(DType::f32, {3}, {1, 2, 3});
  CHECK(select(cond, yes, TileValue::scalar(DType::f32, -1)) == tile(DType::f32, {2, 3}, {1, 2, 3, -1, -1, -1}));
  CHECK_THROWS_WITH(select(yes, yes, yes), Contains("select: the condition must be an i1 tile, got f32[3]"));
  // select moves data: an f8e5m2 Inf stays Inf.
  const TileValue inf = cast(TileValue::scalar(DType::f32, kInf), DType::f8e5m2, Overflow::ieee);
  CHECK(select(TileValue::scalar(DType::i1, 1), inf, inf).at(0) == kInf);
}

TEST_CASE("fma rounds once", "[map]") {
  const double x = 1.0 + std::ldexp(1, -12);  // x*x = 1 + 2^-11 + 2^-24: not an f32
  const TileValue a = TileValue::scalar(DType::f32, x);
  const TileValue minus_one = TileValue::scalar(DType::f32, -1.0);
  CHECK(fma(a, a, minus_one).at(0) == std::ldexp(1, -11) + std::ldexp(1, -24));
  // Two roundings would lose the 2^-24 term (1 + 2^-11 + 2^-24 ties to 1 + 2^-11 in f32).
  CHECK(binary(BinaryOp::add, binary(BinaryOp::mul, a, a), minus_one).at(0) == std::ldexp(1, -11));
  CHECK_THROWS_WITH(fma(a, a, TileValue::scalar(DType::f16, 1)), Contains("fma: operand dtypes differ"));
}

TEST_CASE("fma on f64 is fused: one rounding where multiply then add rounds twice", "[map][f64]") {
  const double e = 1.0 + std::ldexp(1, -30);  // e*e = 1 + 2^-29 + 2^-60: not a double
  const TileValue a = TileValue::scalar(DType::f64, e);
  const TileValue minus_one = TileValue::scalar(DType::f64, -1.0);
  CHECK(fma(a, a, minus_one).at(0) == std::ldexp(1, -29) + std::ldexp(1, -60));
  CHECK(binary(BinaryOp::add, binary(BinaryOp::mul, a, a), minus_one).at(0) == std::ldexp(1, -29));
  // The f32 path's exact-product + round-to-odd trick would be wrong here: the product is not exact.
  CHECK(fma(a, a, minus_one).at(0) != add_round_to_odd(e * e, -1.0));
}

TEST_CASE("reduce sums f64 tiles in f64", "[reduce][f64]") {
  // 1 + 2^-30 + 2^-30: f64 keeps both small terms, an f32 accumulator would drop them.
  const TileValue x = tile(DType::f64, {3}, {1.0, std::ldexp(1, -30), std::ldexp(1, -30)});
  CHECK(reduce(ReduceOp::sum, x, 0).at(0) == 1.0 + std::ldexp(1, -29));
  CHECK(reduce(ReduceOp::sum, tile(DType::f64, {2}, {0.1, 0.2}), 0).at(0) == 0.1 + 0.2);
}

// ---- reduce ----

TEST_CASE("reduce sums in f32 in index order, max and min ignore NaN", "[reduce]") {
  const TileValue m = tile(DType::f32, {2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(reduce(ReduceOp::sum, m, 1) == tile(DType::f32, {2}, {6, 15}));
  CHECK(reduce(ReduceOp::sum, m, 0) == tile(DType::f32, {3}, {5, 7, 9}));
  CHECK(reduce(ReduceOp::sum, m, 1, true).shape() == Shape{2, 1});
  CHECK(reduce(ReduceOp::max, m, 0, true) == tile(DType::f32, {1, 3}, {4, 5, 6}));
  CHECK(reduce(ReduceOp::min, m, 1) == tile(DType::f32, {2}, {1, 4}));

  // 2^24 + 1 + 1 in f32, left to right: each +1 is a tie that rounds back to 2^24.
  const TileValue big = tile(DType::f32, {3}, {16777216.0, 1.0, 1.0});
  CHECK(reduce(ReduceOp::sum, big, 0).at(0) == 16777216.0);
  // bf16 input: the f32 sum 259 is rounded once to bf16 (tie between 258 and 260 -> 260). Summing in
  // bf16 instead would give 256 (each 256 + 1 ties back to 256).
  const TileValue bf = tile(DType::bf16, {4}, {256.0, 1.0, 1.0, 1.0});
  CHECK(reduce(ReduceOp::sum, bf, 0).at(0) == 260.0);
  // Integers: exact, saturated on store.
  CHECK(reduce(ReduceOp::sum, tile(DType::i8, {3}, {100, 100, -50}), 0).at(0) == 127);

  CHECK(reduce(ReduceOp::max, tile(DType::f32, {3}, {kNaN, 2, 1}), 0).at(0) == 2.0);
  CHECK(std::isnan(reduce(ReduceOp::min, tile(DType::f32, {2}, {kNaN, kNaN}), 0).at(0)));
  CHECK_THROWS_WITH(reduce(ReduceOp::sum, m, 2), Contains("sum: axis 2 is out of range for f32[2x3] (valid: 0..1)"));
  CHECK_THROWS_WITH(reduce(ReduceOp::max, TileValue(DType::f32, {0, 3}), 0), Contains("cannot reduce the empty axis"));
}

// ---- transform ----

TEST_CASE("transpose, broadcast_to, reshape, slice, concat", "[transform]") {
  const TileValue m = tile(DType::f32, {2, 3}, {1, 2, 3, 4, 5, 6});
  CHECK(transpose(m) == tile(DType::f32, {3, 2}, {1, 4, 2, 5, 3, 6}));
  const TileValue cube = tile(DType::i32, {2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  // numpy semantics: out.shape[d] = in.shape[perm[d]], so out[i][j][k] = cube[j][k][i].
  CHECK(transpose(cube, {2, 0, 1}) == tile(DType::i32, {2, 2, 2}, {0, 2, 4, 6, 1, 3, 5, 7}));
  CHECK_THROWS_WITH(transpose(cube, {0, 0, 1}), Contains("not a permutation of 0..2"));
  CHECK_THROWS_WITH(transpose(cube), Contains("needs a rank-2 tile"));

  CHECK(broadcast_to(tile(DType::f32, {3}, {1, 2, 3}), {2, 3}) == tile(DType::f32, {2, 3}, {1, 2, 3, 1, 2, 3}));
  CHECK(broadcast_to(tile(DType::f32, {2, 1}, {1, 2}), {2, 2}) == tile(DType::f32, {2, 2}, {1, 1, 2, 2}));
  CHECK_THROWS_WITH(broadcast_to(m, {3, 3}), Contains("do not broadcast"));
  CHECK_THROWS_WITH(broadcast_to(m, {2, 1}), Contains("cannot be broadcast to 2x1"));

  CHECK(reshape(m, {3, 2}) == tile(DType::f32, {3, 2}, {1, 2, 3, 4, 5, 6}));
  CHECK_THROWS_WITH(reshape(m, {4, 2}), Contains("has 6 elements but shape 4x2 has 8"));

  CHECK(slice(m, {0, 1}, {2, 2}) == tile(DType::f32, {2, 2}, {2, 3, 5, 6}));
  CHECK(slice(m, {1, 0}, {1, 3}) == tile(DType::f32, {1, 3}, {4, 5, 6}));
  CHECK_THROWS_WITH(slice(m, {0, 2}, {1, 2}), Contains("[2, 4) is outside dim 1 (extent 3)"));

  const TileValue top = tile(DType::f32, {1, 3}, {7, 8, 9});
  CHECK(concat({m, top}, 0) == tile(DType::f32, {3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  CHECK(concat({m, tile(DType::f32, {2, 1}, {0, -1})}, 1) == tile(DType::f32, {2, 4}, {1, 2, 3, 0, 4, 5, 6, -1}));
  CHECK_THROWS_WITH(concat({m, top}, 1), Contains("does not match f32[2x3] outside axis 1"));
  CHECK_THROWS_WITH(concat({m, TileValue(DType::f16, {1, 3})}, 0), Contains("operand dtypes differ"));

  // Data movement keeps an f8e5m2 Inf.
  const TileValue inf = cast(tile(DType::f32, {1, 2}, {kInf, 1}), DType::f8e5m2, Overflow::ieee);
  CHECK(transpose(inf).at(0) == kInf);
  CHECK(reshape(inf, {2}).at(0) == kInf);
}

TEST_CASE("gather and scatter along an axis with index tiles", "[transform]") {
  const TileValue m = tile(DType::f32, {2, 3}, {10, 11, 12, 20, 21, 22});
  const TileValue idx = tile(DType::i32, {2, 2}, {2, 0, 1, 1});
  CHECK(gather(m, idx, 1) == tile(DType::f32, {2, 2}, {12, 10, 21, 21}));
  const TileValue rows = tile(DType::i8, {1, 3}, {1, 0, 1});
  CHECK(gather(m, rows, 0) == tile(DType::f32, {1, 3}, {20, 11, 22}));
  CHECK_THROWS_WITH(gather(m, tile(DType::i32, {2, 1}, {0, 3}), 1),
                    Contains("gather: index 3 at indices[1, 0] is outside 0..2 along axis 1 of f32[2x3]"));
  CHECK_THROWS_WITH(gather(m, TileValue(DType::f32, {2, 1}), 1), Contains("indices must be an i8 or i32 tile"));
  CHECK_THROWS_WITH(gather(m, TileValue(DType::i32, {3, 1}), 1), Contains("differ in dim 0"));

  const TileValue updates = tile(DType::f32, {2, 2}, {-1, -2, -3, -4});
  // Row 1 writes column 1 twice: the later update (-4) wins.
  CHECK(scatter(m, idx, updates, 1) == tile(DType::f32, {2, 3}, {-2, 11, -1, 20, -4, 22}));
  CHECK_THROWS_WITH(scatter(m, idx, TileValue(DType::f32, {2, 1}), 1),
                    Contains("updates f32[2x1] must have the shape of indices i32[2x2]"));
  CHECK_THROWS_WITH(scatter(m, tile(DType::i32, {1, 1}, {-1}), TileValue(DType::f32, {1, 1}), 0),
                    Contains("differ in dim 1"));
  CHECK_THROWS_WITH(scatter(m, tile(DType::i32, {1, 3}, {0, 2, 0}), TileValue(DType::f32, {1, 3}), 0),
                    Contains("index 2 at indices[0, 1] is outside 0..1 along axis 0"));
}

TEST_CASE("iota and full", "[transform]") {
  CHECK(iota(DType::i32, {2, 3}, 1) == tile(DType::i32, {2, 3}, {0, 1, 2, 0, 1, 2}));
  CHECK(iota(DType::f32, {2, 3}, 0) == tile(DType::f32, {2, 3}, {0, 0, 0, 1, 1, 1}));
  CHECK_THROWS_WITH(iota(DType::i8, {200}, 0), Contains("iota: 128 (extent 200 along axis 0) is not representable in i8"));
  CHECK_THROWS_WITH(iota(DType::f32, {2}, 1), Contains("axis 1 is out of range"));
  CHECK(full(DType::bf16, {2, 2}, 1.00390625) == tile(DType::bf16, {2, 2}, {1, 1, 1, 1}));
  CHECK(full(DType::f8e4m3, {1}, 1000).at(0) == 448.0);
}

TEST_CASE("op names parse back", "[map]") {
  for (const char* name : {"neg", "exp2", "gelu_tanh", "gelu_erf", "recip"}) {
    const auto op = parse_unary_op(name);
    REQUIRE(op.has_value());
    CHECK(std::string(unary_op_name(*op)) == name);
  }
  CHECK(parse_binary_op("pow") == BinaryOp::pow);
  CHECK(parse_compare_op("ge") == CompareOp::ge);
  CHECK(parse_reduce_op("min") == ReduceOp::min);
  CHECK_FALSE(parse_unary_op("gelu").has_value());
  CHECK_FALSE(parse_binary_op("mod").has_value());
}

// Unit tests of the functional interpreter (isa/interpreter.hpp): each class of op on small kernels
// with hand-computed results, the numerics of mma and atomics, and runtime errors with locations.
// Roles, channels, clusters and whole-kernel runs are in test_interpreter_roles.cpp.
#include <catch2/catch.hpp>

#include <cmath>

#include "isa/interpreter.hpp"
#include "isa/text_parser.hpp"

using namespace tilesim;
using namespace tilesim::isa;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

Module parse(const std::string& text) { return parse_module(text, "t.tile"); }

/// Runs the module's only kernel with zero buffers for every tensor, after `fill` sets the inputs.
Buffers run(const Module& m, const SymbolValues& scalars, const std::map<std::string, std::vector<double>>& inputs = {},
            const InterpreterOptions& options = {}, RunSummary* summary = nullptr) {
  Buffers b = zero_buffers(m.kernels.at(0), scalars);
  for (const auto& [name, values] : inputs) {
    TileValue& t = b.tensor(name);
    REQUIRE(static_cast<int64_t>(values.size()) == t.size());
    for (size_t i = 0; i < values.size(); ++i) t.set(static_cast<int64_t>(i), values[i]);
  }
  const RunSummary s = run_kernel(m, m.kernels.at(0).name, b, scalars, options);
  if (summary) *summary = s;
  return b;
}

std::string run_error(const Module& m, Buffers b, const SymbolValues& scalars, const InterpreterOptions& options = {}) {
  try {
    run_kernel(m, m.kernels.at(0).name, b, scalars, options);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string run_error(const std::string& text, const SymbolValues& scalars = {}, const InterpreterOptions& options = {}) {
  const Module m = parse(text);
  return run_error(m, zero_buffers(m.kernels.at(0), scalars), scalars, options);
}

}  // namespace

// ---- memory and the grid -----------------------------------------------------------------------------

TEST_CASE("interpreter: vector add runs every program of the grid, edge tile included", "[interpreter]") {
  const Module m = parse(R"(
kernel @vadd(%X: global<f32>[N], %Y: global<f32>[N], %Z: global<f32>[N], N: i32) grid(cdiv(N, 4)) {
  %i = program_id 0
  %x = load %X[%i] : tile<f32>[4] @reg
  %y = load %Y[%i] : tile<f32>[4] @reg
  %z = add %x, %y
  store %z, %Z[%i]
}
)");
  std::vector<double> x, y;
  for (int i = 0; i < 10; ++i) {
    x.push_back(i * 1.5);
    y.push_back(100.0 - i);
  }
  RunSummary s;
  const Buffers b = run(m, {{"N", 10}}, {{"X", x}, {"Y", y}}, {}, &s);
  for (int i = 0; i < 10; ++i) CHECK(b.tensor("Z").at(i) == x[static_cast<size_t>(i)] + y[static_cast<size_t>(i)]);
  CHECK(s.programs == 3);
  CHECK(s.count(OpId::load) == 6);
  CHECK(s.count(OpId::store) == 3);
}

TEST_CASE("interpreter: loads read 0 outside the tensor and stores drop those elements", "[interpreter]") {
  const Module m = parse(R"(
kernel @edge(%X: global<f32>[5, 6], %Y: global<f32>[5, 6], %S: global<f32>[4, 4]) {
  %c0 = const 0 : index
  %c1 = const 1 : index
  %t = load %X[%c1, %c1] : tile<f32>[4, 4] @reg
  store %t, %S[%c0, %c0]
  %ones = full 1.0 : tile<f32>[4, 4] @reg
  store %ones, %Y[%c1, %c1]
}
)");
  std::vector<double> x;
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 6; ++c) x.push_back(10 * r + c);
  const Buffers b = run(m, {}, {{"X", x}});
  // tile (1, 1) of 4x4 covers rows 4..7 and columns 4..7: only X[4, 4] and X[4, 5] exist
  const TileValue& s = b.tensor("S");
  for (int64_t i = 0; i < 16; ++i) CHECK(s.at(i) == (i == 0 ? 44.0 : i == 1 ? 45.0 : 0.0));
  const TileValue& y = b.tensor("Y");
  for (int64_t i = 0; i < 30; ++i) CHECK(y.at(i) == (i == 28 || i == 29 ? 1.0 : 0.0));
}

TEST_CASE("interpreter: atomic_add accumulates in program order with one rounding per add", "[interpreter]") {
  const Module m = parse(R"(
kernel @acc(%V: global<f32>[3], %C: global<f32>[1]) grid(3) {
  %p = program_id 0
  %c0 = const 0 : index
  %v = load %V[%p] : tile<f32>[1] @reg
  atomic_add %v, %C[%c0]
}
)");
  // 1 + 2^-24 is a tie that rounds to 1, twice; the reverse order would give 1 + 2^-23.
  const Buffers b = run(m, {}, {{"V", {1.0, 0x1.0p-24, 0x1.0p-24}}});
  CHECK(b.tensor("C").at(0) == 1.0);
  const Buffers r = run(m, {}, {{"V", {0x1.0p-24, 0x1.0p-24, 1.0}}});
  CHECK(r.tensor("C").at(0) == 1.0 + 0x1.0p-23);
}

TEST_CASE("interpreter: f64 atomic_add rounds each add to nearest even in f64", "[interpreter][f64]") {
  const Module m = parse(R"(
kernel @acc(%V: global<f64>[3], %C: global<f64>[1]) grid(3) {
  %p = program_id 0
  %c0 = const 0 : index
  %v = load %V[%p] : tile<f64>[1] @reg
  atomic_add %v, %C[%c0]
}
)");
  // 1 + 2^-53 is a tie that rounds to 1 (even), twice: a round-to-odd add left in f64 would give 1 + 2^-52
  // at the first step.
  CHECK(run(m, {}, {{"V", {1.0, 0x1.0p-53, 0x1.0p-53}}}).tensor("C").at(0) == 1.0);
  CHECK(run(m, {}, {{"V", {0x1.0p-53, 0x1.0p-53, 1.0}}}).tensor("C").at(0) == 1.0 + 0x1.0p-52);
}

// ---- map, reduce, transform ----------------------------------------------------------------------------

TEST_CASE("interpreter: map ops on tiles and scalars", "[interpreter]") {
  const Module m = parse(R"(
kernel @maps(%X: global<f32>[4], %A: global<f32>[4], %F: global<f32>[4], %S: global<f32>[4],
             %R: global<f32>[4], %D: global<f32>[4], %E: global<f32>[4], %M: global<i1>[4]) {
  %c0 = const 0 : index
  %x = load %X[%c0] : tile<f32>[4] @reg
  %two = const 2.0 : f32
  %one = const 1.0 : f32
  %a = add %x, %two
  store %a, %A[%c0]
  %f = fma %x, %x, %two
  store %f, %F[%c0]
  %mask = cmp.lt %x, %one
  store %mask, %M[%c0]
  %nx = neg %x
  %s = select %mask, %x, %nx
  store %s, %S[%c0]
  %r = relu %x
  store %r, %R[%c0]
  %four = const 4.0 : f32
  %d = div %x, %four
  store %d, %D[%c0]
  %e = exp %x
  store %e, %E[%c0]
}
)");
  const Buffers b = run(m, {}, {{"X", {1.5, -2.0, 0.25, 9.0}}});
  auto vals = [&](const char* n) { return b.tensor(n).values(); };
  CHECK(vals("A") == std::vector<double>{3.5, 0.0, 2.25, 11.0});
  CHECK(vals("F") == std::vector<double>{4.25, 6.0, 2.0625, 83.0});
  CHECK(vals("M") == std::vector<double>{0, 1, 1, 0});
  CHECK(vals("S") == std::vector<double>{-1.5, -2.0, 0.25, -9.0});
  CHECK(vals("R") == std::vector<double>{1.5, 0.0, 0.25, 9.0});
  CHECK(vals("D") == std::vector<double>{0.375, -0.5, 0.0625, 2.25});
  // transcendentals: libm's double result rounded once to f32 (tile_kernels.hpp)
  for (int64_t i = 0; i < 4; ++i) CHECK(b.tensor("E").at(i) == round_to(DType::f32, std::exp(b.tensor("X").at(i))));
}

TEST_CASE("interpreter: cast rounds to nearest even and saturates narrow formats", "[interpreter]") {
  const Module m = parse(R"(
kernel @casts(%X: global<f32>[4], %H: global<bf16>[4], %Q: global<f8e4m3>[4], %I: global<i32>[4]) {
  %c0 = const 0 : index
  %x = load %X[%c0] : tile<f32>[4] @reg
  %h = cast %x to=bf16
  store %h, %H[%c0]
  %q = cast %x to=f8e4m3
  store %q, %Q[%c0]
  %i = cast %x to=i32
  store %i, %I[%c0]
}
)");
  const Buffers b = run(m, {}, {{"X", {1.0 + 0x1.0p-8, 1.0 + 3 * 0x1.0p-8, 1000.0, -3.5}}});
  // bf16 keeps 7 mantissa bits: both inputs are ties, rounded to the even neighbour
  CHECK(b.tensor("H").values() == std::vector<double>{1.0, 1.0 + 0x1.0p-6, 1000.0, -3.5});
  // e4m3: 1000 saturates to 448 (satfinite); 1 + 3*2^-8 rounds to 1
  CHECK(b.tensor("Q").values() == std::vector<double>{1.0, 1.0, 448.0, -3.5});
  // i32: round half to even
  CHECK(b.tensor("I").values() == std::vector<double>{1.0, 1.0, 1000.0, -4.0});
}

TEST_CASE("interpreter: scalar control: for with iter values, if/else, rem, cdiv, casts", "[interpreter]") {
  const Module m = parse(R"(
kernel @ctl(%O: global<i32>[4], K: i32) {
  %c0 = const 0 : index
  %c1 = const 1 : index
  %c3 = const 3 : index
  %zero = const 0 : i32
  %sum = for %i = %c0 to K step %c1 iter(%s = %zero) {
    %ii = cast %i to=i32
    %s2 = add %s, %ii
    yield %s2
  }
  %r = rem K, %c3
  %q = cdiv K, %c3
  %p = cmp.lt %r, %c1
  %pick = if %p {
    yield %q
  } else {
    yield %r
  }
  %ri = cast %r to=i32
  %qi = cast %q to=i32
  %pi = cast %pick to=i32
  %t0 = broadcast %sum shape=[1]
  %t1 = broadcast %ri shape=[1]
  %t2 = broadcast %qi shape=[1]
  %t3 = broadcast %pi shape=[1]
  %out = concat %t0, %t1, %t2, %t3 axis=0
  store %out, %O[%c0]
}
)");
  CHECK(run(m, {{"K", 9}}).tensor("O").values() == std::vector<double>{36, 0, 3, 3});
  CHECK(run(m, {{"K", 10}}).tensor("O").values() == std::vector<double>{45, 1, 4, 1});
  CHECK(run(m, {{"K", 0}}).tensor("O").values() == std::vector<double>{0, 0, 0, 0});
}

TEST_CASE("interpreter: reduce and transform ops", "[interpreter]") {
  const Module m = parse(R"(
kernel @shapes(%X: global<f32>[2, 3], %I: global<i32>[2, 3], %RS: global<f32>[2], %RM: global<f32>[3],
               %RN: global<f32>[2, 1], %T: global<f32>[3, 2], %SL: global<f32>[2, 2], %ST: global<f32>[1, 3],
               %RH: global<f32>[3, 2], %G: global<f32>[2, 3], %SC: global<f32>[2, 3], %IO: global<i32>[2, 3],
               %CC: global<f32>[4, 3]) {
  %c0 = const 0 : index
  %c1 = const 1 : index
  %x = load %X[%c0, %c0] : tile<f32>[2, 3] @reg
  %idx = load %I[%c0, %c0] : tile<i32>[2, 3] @reg
  %rs = reduce.sum %x axis=1 keepdims=false
  store %rs, %RS[%c0]
  %rm = reduce.max %x axis=0 keepdims=false
  store %rm, %RM[%c0]
  %rn = reduce.min %x axis=1 keepdims=true
  store %rn, %RN[%c0, %c0]
  %t = transpose %x
  store %t, %T[%c0, %c0]
  %sl = slice %x offsets=[0, 1] sizes=[2, 2]
  store %sl, %SL[%c0, %c0]
  %st = subtile %x[%c1, %c0] shape=[1, 3]
  store %st, %ST[%c0, %c0]
  %rh = reshape %x shape=[3, 2]
  store %rh, %RH[%c0, %c0]
  %g = gather %x, %idx axis=1
  store %g, %G[%c0, %c0]
  %ten = const 10.0 : f32
  %upd = mul %x, %ten
  %sc = scatter %x, %idx, %upd axis=1
  store %sc, %SC[%c0, %c0]
  %io = iota axis=1 : tile<i32>[2, 3] @reg
  store %io, %IO[%c0, %c0]
  %cc = concat %x, %x axis=0
  store %cc, %CC[%c0, %c0]
}
)");
  const Buffers b = run(m, {}, {{"X", {1, 5, 3, 4, 2, 6}}, {"I", {2, 0, 1, 1, 1, 0}}});
  auto vals = [&](const char* n) { return b.tensor(n).values(); };
  using V = std::vector<double>;
  CHECK(vals("RS") == V{9, 12});
  CHECK(vals("RM") == V{4, 5, 6});
  CHECK(vals("RN") == V{1, 2});
  CHECK(vals("T") == V{1, 4, 5, 2, 3, 6});
  CHECK(vals("SL") == V{5, 3, 2, 6});
  CHECK(vals("ST") == V{4, 2, 6});
  CHECK(vals("RH") == V{1, 5, 3, 4, 2, 6});
  CHECK(vals("G") == V{3, 1, 5, 2, 2, 4});
  CHECK(vals("SC") == V{50, 30, 10, 60, 20, 6});  // duplicate index: the last update wins
  CHECK(vals("IO") == V{0, 1, 2, 0, 1, 2});
  CHECK(vals("CC") == V{1, 5, 3, 4, 2, 6, 1, 5, 3, 4, 2, 6});
}

// ---- dense compute --------------------------------------------------------------------------------------

TEST_CASE("interpreter: mma accumulates k-ascending with an f32 rounding per product", "[interpreter][mma]") {
  const Module m = parse(R"(
kernel @dot(%A: global<bf16>[1, 3], %B: global<bf16>[3, 1], %C: global<f32>[1, 1]) {
  %c0 = const 0 : index
  %a = load %A[%c0, %c0] : tile<bf16>[1, 3] @reg
  %b = load %B[%c0, %c0] : tile<bf16>[3, 1] @reg
  %z = zeros : tile<f32>[1, 1] @acc
  %c = mma %a, %b, %z
  store %c, %C[%c0, %c0]
}
)");
  // 1 + 2^-24 ties to 1, twice; summing the small products first would give 1 + 2^-23.
  CHECK(run(m, {}, {{"A", {1.0, 0x1.0p-24, 0x1.0p-24}}, {"B", {1, 1, 1}}}).tensor("C").at(0) == 1.0);
  CHECK(run(m, {}, {{"A", {0x1.0p-24, 0x1.0p-24, 1.0}}, {"B", {1, 1, 1}}}).tensor("C").at(0) == 1.0 + 0x1.0p-23);
}

TEST_CASE("interpreter: f32-operand mma is an fma chain with exact products", "[interpreter][mma]") {
  const Module m = parse(R"(
kernel @dot32(%A: global<f32>[1, 2], %B: global<f32>[2, 1], %C: global<f32>[1, 1]) {
  %c0 = const 0 : index
  %a = load %A[%c0, %c0] : tile<f32>[1, 2] @reg
  %b = load %B[%c0, %c0] : tile<f32>[2, 1] @reg
  %z = zeros : tile<f32>[1, 1] @acc
  %c = mma %a, %b, %z
  store %c, %C[%c0, %c0]
}
)");
  // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 rounds (a tie) to 1 + 2^-11; minus 1 leaves 2^-11. Operands cut to
  // tf32 would have given 1 - 1 = 0.
  const double e = 1.0 + 0x1.0p-12;
  CHECK(run(m, {}, {{"A", {e, -1.0}}, {"B", {e, 1.0}}}).tensor("C").at(0) == 0x1.0p-11);
}

TEST_CASE("interpreter: f64 mma is DMMA's chain of f64 fused multiply-adds", "[interpreter][mma][f64]") {
  const Module m = parse(R"(
kernel @dmma(%A: global<f64>[8, 4], %B: global<f64>[4, 8], %C: global<f64>[8, 8]) {
  %c0 = const 0 : index
  %a = load %A[%c0, %c0] : tile<f64>[8, 4] @reg
  %b = load %B[%c0, %c0] : tile<f64>[4, 8] @reg
  %c = load %C[%c0, %c0] : tile<f64>[8, 8] @reg
  %d = mma %a, %b, %c
  store %d, %C[%c0, %c0]
}
)");
  // C[0][0] = -1 + (1 + 2^-30)^2 + 0 + 0 + 0: fused, the 2^-60 term survives; every other element is a
  // plain double dot product of 0.1-ish values, checked against std::fma in k order.
  std::vector<double> a(32), b(32), c(64, 0.0);
  for (int i = 0; i < 32; ++i) a[static_cast<size_t>(i)] = 0.1 * (i + 1);
  for (int i = 0; i < 32; ++i) b[static_cast<size_t>(i)] = 1.0 / (i + 3);
  const double e = 1.0 + 0x1.0p-30;
  a[0] = e;
  a[1] = a[2] = a[3] = 0.0;
  b[0] = e;
  c[0] = -1.0;
  const Buffers out = run(m, {}, {{"A", a}, {"B", b}, {"C", c}});
  const TileValue& d = out.tensor("C");
  CHECK(d.dtype() == DType::f64);
  CHECK(d.at(0) == 0x1.0p-29 + 0x1.0p-60);
  for (int i = 1; i < 8; ++i) {
    for (int j = 0; j < 8; ++j) {
      double acc = 0.0;
      for (int k = 0; k < 4; ++k) acc = std::fma(a[static_cast<size_t>(i * 4 + k)], b[static_cast<size_t>(k * 8 + j)], acc);
      CHECK(d.at(i * 8 + j) == acc);
    }
  }
}

TEST_CASE("interpreter: mma_scaled multiplies each K block by its scales", "[interpreter][mma]") {
  const Module m = parse(R"(
kernel @scaled(%A: global<f8e4m3>[1, 32], %SA: global<f8e4m3>[1, 2], %B: global<f8e4m3>[32, 1],
               %SB: global<f8e4m3>[2, 1], %C: global<f32>[1, 1]) {
  %c0 = const 0 : index
  %a = load %A[%c0, %c0] : tile<f8e4m3>[1, 32] @reg
  %sa = load %SA[%c0, %c0] : tile<f8e4m3>[1, 2] @reg
  %b = load %B[%c0, %c0] : tile<f8e4m3>[32, 1] @reg
  %sb = load %SB[%c0, %c0] : tile<f8e4m3>[2, 1] @reg
  %z = zeros : tile<f32>[1, 1] @acc
  %c = mma_scaled %a, %sa, %b, %sb, %z block=16
  store %c, %C[%c0, %c0]
}
)");
  const std::vector<double> ones(32, 1.0);
  // 16 * (1 * 2)(1 * 1) + 16 * (1 * 0.5)(1 * 4) = 32 + 32
  CHECK(run(m, {}, {{"A", ones}, {"SA", {2.0, 0.5}}, {"B", ones}, {"SB", {1.0, 4.0}}}).tensor("C").at(0) == 64.0);
}

TEST_CASE("interpreter: the narrowed fp8 accumulator drops what full fp32 keeps", "[interpreter][mma]") {
  const Module m = parse(R"(
kernel @fp8(%A: global<f8e4m3>[1, 64], %B: global<f8e4m3>[64, 1], %C: global<f32>[1, 1]) {
  %c0 = const 0 : index
  %a = load %A[%c0, %c0] : tile<f8e4m3>[1, 64] @reg
  %b = load %B[%c0, %c0] : tile<f8e4m3>[64, 1] @reg
  %z = zeros : tile<f32>[1, 1] @acc
  %c = mma %a, %b, %z
  store %c, %C[%c0, %c0]
}
)");
  std::vector<double> a(64, 0.0), b(64, 0.0);
  a[0] = b[0] = 1.0;
  a[40] = b[40] = 0x1.0p-9;  // the smallest e4m3 subnormal; the product 2^-18 lands in the second block
  InterpreterOptions full, narrow;
  narrow.mma.acc_mantissa_bits = 13;
  narrow.mma.acc_block_k = 32;
  CHECK(run(m, {}, {{"A", a}, {"B", b}}, full).tensor("C").at(0) == 1.0 + 0x1.0p-18);
  CHECK(run(m, {}, {{"A", a}, {"B", b}}, narrow).tensor("C").at(0) == 1.0);  // 1 + 2^-18 truncated to 13 bits
}

// ---- errors ----------------------------------------------------------------------------------------------

TEST_CASE("interpreter errors: scalar arithmetic failures name the op's location and program", "[interpreter][errors]") {
  const std::string div0 = run_error(R"(kernel @e(%O: global<i32>[1]) grid(2) {
  %c0 = const 0 : index
  %c5 = const 5 : index
  %z = mul %c0, %c5
  %q = div %c5, %z
}
)");
  CHECK_THAT(div0, StartsWith("t.tile:5:8: error: 'div': integer division by zero (5 / 0) (in program (0))"));
  CHECK_THAT(div0, Contains("%q = div %c5, %z") && Contains("^"));

  CHECK_THAT(run_error(R"(kernel @e(K: i32) {
  %c0 = const 0 : index
  %r = rem K, %c0
}
)", {{"K", 7}}), StartsWith("t.tile:3:8: error: 'rem': remainder by zero (7 rem 0)"));

  CHECK_THAT(run_error(R"(kernel @e(K: i32) {
  %c4 = const 4 : index
  %r = cdiv K, %c4
}
)", {{"K", -3}}), StartsWith("t.tile:3:8: error: 'cdiv': cdiv needs a >= 0 and b > 0, got cdiv(-3, 4)"));

  CHECK_THAT(run_error(R"(kernel @e(%X: global<i32>[4]) {
  %c0 = const 0 : index
  %x = load %X[%c0] : tile<i32>[4] @reg
  %y = div %x, %x
}
)"), StartsWith("t.tile:4:8: error: 'div': div: integer division by zero"));

  CHECK_THAT(run_error(R"(kernel @e(S: i32) {
  %c0 = const 0 : index
  %c4 = const 4 : index
  for %i = %c0 to %c4 step S {
  }
}
)", {{"S", 0}}), StartsWith("t.tile:4:3: error: 'for': the step must be positive, got 0"));

  CHECK_THAT(run_error(R"(kernel @e() {
  %big = const 4611686018427387904 : index
  %two = const 2 : index
  %p = mul %big, %two
}
)"), StartsWith("t.tile:4:8: error: 'mul': index arithmetic overflows 64 bits"));
}

TEST_CASE("interpreter errors: bad indices into tiles and tensors", "[interpreter][errors]") {
  const char* subtile = R"(kernel @e(%X: global<f32>[4, 4], I: i32) {
  %c0 = const 0 : index
  %x = load %X[%c0, %c0] : tile<f32>[4, 4] @reg
  %s = subtile %x[I, %c0] shape=[2, 4]
}
)";
  CHECK_THAT(run_error(subtile, {{"I", 2}}),
             StartsWith("t.tile:4:8: error: 'subtile': block coordinate 2 is outside 0..1 in dim 0"));
  CHECK(run_error(subtile, {{"I", 1}}) == "(no error)");

  CHECK_THAT(run_error(R"(kernel @e(%X: global<f32>[2, 3], %I: global<i32>[2, 3]) {
  %c0 = const 0 : index
  %x = load %X[%c0, %c0] : tile<f32>[2, 3] @reg
  %i = full 3 : tile<i32>[2, 3] @reg
  %g = gather %x, %i axis=1
}
)"), StartsWith("t.tile:5:8: error: 'gather': gather: index 3 at indices[0, 0] is outside 0..2"));

  // A tile wholly outside the tensor is legal (it reads zeros) unless check_bounds asks otherwise.
  const char* outside = R"(kernel @e(%X: global<f32>[8]) {
  %c2 = const 2 : index
  %x = load %X[%c2] : tile<f32>[4] @reg
}
)";
  CHECK(run_error(outside) == "(no error)");
  InterpreterOptions strict;
  strict.check_bounds = true;
  CHECK_THAT(run_error(outside, {}, strict),
             StartsWith("t.tile:3:8: error: 'load': the 4 tile at elements [8..11] lies entirely outside %X (f32[8])"));
}

TEST_CASE("interpreter errors: arguments are checked against the parameters", "[interpreter][errors]") {
  const Module m = parse(R"(kernel @k(%X: global<f32>[N, 4],
          N: i32, scale: f32) {
  %c0 = const 0 : index
}
)");
  const Kernel& k = m.kernels[0];
  Buffers b;
  b.scalars["scale"] = 0.5;
  CHECK_THAT(run_error(m, b, {}), StartsWith("t.tile:2:11: error: scalar parameter N (i32) has no value"));
  CHECK_THAT(run_error(m, b, {{"N", 3}}), StartsWith("t.tile:1:11: error: tensor parameter %X (global<f32>[N, 4]) has no buffer"));
  b.tensors.emplace("X", TileValue(DType::f32, {3, 5}));
  CHECK_THAT(run_error(m, b, {{"N", 3}}),
             StartsWith("t.tile:1:11: error: buffer for %X is f32[3x5] but the parameter needs f32[3x4]"));
  b.tensors.at("X") = TileValue(DType::f32, {3, 4});
  CHECK(run_error(m, b, {{"N", 3}}) == "(no error)");
  CHECK_THAT(run_error(m, b, {{"N", int64_t{1} << 40}}), Contains("scalar parameter N = 1.09951e+12 does not fit i32"));
  CHECK_THAT(run_error(m, b, {{"N", 3}, {"M", 1}}),
             StartsWith("t.tile:1:1: error: 'M' is not a scalar parameter of kernel @k") && Contains("hint: the kernel's parameters are: X, N, scale"));
  Buffers extra = b;
  extra.tensors.emplace("Y", TileValue(DType::f32, {1}));
  CHECK_THAT(run_error(m, extra, {{"N", 3}}), Contains("buffer 'Y' is not a tensor parameter of kernel @k"));
  Buffers no_scale = b;
  no_scale.scalars.clear();
  CHECK_THAT(run_error(m, no_scale, {{"N", 3}}), Contains("scalar parameter scale (f32) has no value"));
  CHECK(param_shape(k, "X", {{"N", 7}}) == Shape{7, 4});
  CHECK_THROWS_AS(param_shape(k, "X", {}), InputError);

  Buffers any;
  CHECK_THROWS_WITH(run_kernel(m, "nope", any, {}), Contains("no kernel @nope in the module (kernels: @k)"));
}

TEST_CASE("interpreter errors: a kernel that fails verification is refused", "[interpreter][errors]") {
  const Module m = parse(R"(kernel @e(%X: global<f32>[4], %Y: global<f32>[4]) {
  %c0 = const 0 : index
  %x, %tx = copy_async %X[%c0] : tile<f32>[4] @scratch
  store %x, %Y[%c0]
}
)");
  CHECK_THAT(run_error(m, zero_buffers(m.kernels[0], {}), {}), Contains("t.tile:") && Contains("waited"));
}

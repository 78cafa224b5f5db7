// Unit tests of the exact-numerics layer (isa/dtype.hpp): known bit patterns for every conversion,
// exhaustive round trips and ties of the small formats, and cross-checks against the compiler's own
// conversions (double->float, _Float16) and an independent bf16 formula.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>

#include "isa/dtype.hpp"

using namespace tilesim::isa;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

uint32_t float_bits(float f) {
  uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float float_from_bits(uint32_t u) {
  float f = 0;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

double above(double x) { return std::nextafter(x, kInf); }
double below(double x) { return std::nextafter(x, -kInf); }

/// Patterns of a small float dtype, as a count of distinct storage words.
uint32_t pattern_count(DType t) { return t == DType::tf32 ? (1u << 19) : (1u << bits(t)); }
uint32_t pattern_at(DType t, uint32_t i) { return t == DType::tf32 ? i << 13 : i; }

uint32_t quiet_bit(DType t) {
  switch (t) {
    case DType::f16: return 0x200;
    case DType::bf16: return 0x40;
    case DType::tf32: return 0x400000;
    case DType::f8e5m2: return 0x2;
    default: return 0;  // f8e4m3 has one NaN; f4e2m1 has none
  }
}

const DType kSmallFloats[] = {DType::tf32, DType::f16, DType::bf16, DType::f8e4m3, DType::f8e5m2, DType::f4e2m1};

}  // namespace

TEST_CASE("dtype names parse back and unknown names are rejected", "[numerics]") {
  for (DType t : all_dtypes()) {
    const auto parsed = parse_dtype(dtype_name(t));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == t);
  }
  CHECK_FALSE(parse_dtype("float32").has_value());
  CHECK_FALSE(parse_dtype("").has_value());
  CHECK_FALSE(parse_dtype("F16").has_value());
  CHECK(bits(DType::f32) == 32);
  CHECK(bits(DType::tf32) == 32);
  CHECK(bits(DType::bf16) == 16);
  CHECK(bits(DType::f8e4m3) == 8);
  CHECK(bits(DType::f4e2m1) == 4);
  CHECK(bits(DType::i32) == 32);
  CHECK(is_float(DType::f4e2m1));
  CHECK_FALSE(is_float(DType::i8));
  CHECK(is_int(DType::i8));
  CHECK_FALSE(is_int(DType::i1));
  CHECK(is_bool(DType::i1));
}

TEST_CASE("f16 conversions hit the IEEE binary16 bit patterns", "[numerics]") {
  CHECK(encode(DType::f16, 1.0) == 0x3C00);
  CHECK(encode(DType::f16, -2.0) == 0xC000);
  CHECK(encode(DType::f16, 0.0) == 0x0000);
  CHECK(encode(DType::f16, -0.0) == 0x8000);
  CHECK(encode(DType::f16, 65504.0) == 0x7BFF);         // max finite
  CHECK(encode(DType::f16, below(65520.0)) == 0x7BFF);  // just below the overflow threshold
  CHECK(encode(DType::f16, 65520.0) == 0x7C00);         // tie with 2^16 rounds to even: overflow -> Inf
  CHECK(encode(DType::f16, 65520.0, Overflow::satfinite) == 0x7BFF);
  CHECK(encode(DType::f16, kInf) == 0x7C00);
  CHECK(encode(DType::f16, -kInf) == 0xFC00);
  CHECK(encode(DType::f16, kNaN) == 0x7E00);
  CHECK(encode(DType::f16, 1.0 + std::ldexp(1, -11)) == 0x3C00);      // tie -> even (down)
  CHECK(encode(DType::f16, 1.0 + 3 * std::ldexp(1, -11)) == 0x3C02);  // tie -> even (up)
  CHECK(encode(DType::f16, std::ldexp(1, -14)) == 0x0400);             // min normal
  CHECK(encode(DType::f16, 1023 * std::ldexp(1, -24)) == 0x03FF);      // max subnormal
  CHECK(encode(DType::f16, std::ldexp(1, -24)) == 0x0001);             // min subnormal
  CHECK(encode(DType::f16, std::ldexp(1, -25)) == 0x0000);             // half of it: tie -> 0
  CHECK(encode(DType::f16, above(std::ldexp(1, -25))) == 0x0001);
  CHECK(encode(DType::f16, -above(std::ldexp(1, -25))) == 0x8001);
  CHECK(encode(DType::f16, 3 * std::ldexp(1, -25)) == 0x0002);  // 1.5 units: tie -> even (2)
  CHECK(decode(DType::f16, 0x7BFF) == 65504.0);
  CHECK(decode(DType::f16, 0x0001) == std::ldexp(1, -24));
  CHECK(decode(DType::f16, 0xFC00) == -kInf);
  CHECK(std::isnan(decode(DType::f16, 0x7C01)));
  CHECK(std::signbit(decode(DType::f16, 0x8000)));
  CHECK(max_finite(DType::f16) == 65504.0);
  CHECK(min_subnormal(DType::f16) == std::ldexp(1, -24));
}

TEST_CASE("bf16 conversions hit the expected bit patterns", "[numerics]") {
  CHECK(encode(DType::bf16, 1.0) == 0x3F80);
  CHECK(encode(DType::bf16, -1.5) == 0xBFC0);
  CHECK(encode(DType::bf16, 1.0 + std::ldexp(1, -8)) == 0x3F80);      // tie -> even
  CHECK(encode(DType::bf16, 1.0 + 3 * std::ldexp(1, -8)) == 0x3F82);  // tie -> even
  const double bf16_max = (2 - std::ldexp(1, -7)) * std::ldexp(1, 127);
  CHECK(max_finite(DType::bf16) == bf16_max);
  CHECK(encode(DType::bf16, bf16_max) == 0x7F7F);
  CHECK(encode(DType::bf16, std::numeric_limits<float>::max()) == 0x7F80);  // rounds past max: Inf
  CHECK(encode(DType::bf16, std::numeric_limits<float>::max(), Overflow::satfinite) == 0x7F7F);
  CHECK(encode(DType::bf16, -kInf) == 0xFF80);
  CHECK(encode(DType::bf16, kNaN) == 0x7FC0);
  CHECK(encode(DType::bf16, -kNaN) == 0xFFC0);
  CHECK(encode(DType::bf16, std::ldexp(1, -133)) == 0x0001);  // min subnormal
  CHECK(encode(DType::bf16, std::ldexp(1, -134)) == 0x0000);  // half: tie -> 0
  CHECK(encode(DType::bf16, above(std::ldexp(1, -134))) == 0x0001);
  CHECK(encode(DType::bf16, -0.0) == 0x8000);
  CHECK(decode(DType::bf16, 0x7F7F) == bf16_max);
  CHECK(decode(DType::bf16, 0x0001) == std::ldexp(1, -133));
}

TEST_CASE("tf32: truncation for MMA operands, RNE and RNA conversions", "[numerics]") {
  const double tie = 1.0 + std::ldexp(1, -11);             // halfway between 1 and 1 + 2^-10
  const double odd_tie = 1.0 + 3 * std::ldexp(1, -11);     // halfway between 1 + 2^-10 and 1 + 2^-9
  const double over_tie = tie + std::ldexp(1, -20);        // just above the tie (f32-representable)
  CHECK(encode(DType::tf32, tie) == 0x3F800000);           // truncation
  CHECK(encode(DType::tf32, odd_tie) == 0x3F802000);
  CHECK(encode(DType::tf32, over_tie) == 0x3F800000);
  CHECK(encode(DType::tf32, -odd_tie) == 0xBF802000);
  CHECK(round_to(DType::tf32, over_tie) == 1.0);

  CHECK(encode_tf32(tie, Rounding::nearest_even) == 0x3F800000);
  CHECK(encode_tf32(odd_tie, Rounding::nearest_even) == 0x3F804000);
  CHECK(encode_tf32(over_tie, Rounding::nearest_even) == 0x3F802000);
  CHECK(round_tf32_rne(tie) == 1.0);

  CHECK(encode_tf32(tie, Rounding::nearest_away) == 0x3F802000);  // ties away from zero
  CHECK(round_tf32_rna(-tie) == -(1.0 + std::ldexp(1, -10)));
  CHECK(round_tf32_rna(odd_tie) == 1.0 + std::ldexp(1, -9));
  CHECK(round_tf32_rna(1.0 + std::ldexp(1, -12)) == 1.0);

  const double flt_max = std::numeric_limits<float>::max();
  CHECK(encode(DType::tf32, flt_max) == 0x7F7FE000);  // truncation never overflows
  CHECK(encode_tf32(flt_max, Rounding::nearest_even) == 0x7F800000);
  CHECK(encode_tf32(flt_max, Rounding::nearest_even, Overflow::satfinite) == 0x7F7FE000);
  CHECK(encode_tf32(flt_max, Rounding::nearest_away) == 0x7F800000);
  CHECK(encode(DType::tf32, kInf) == 0x7F800000);
  CHECK(encode(DType::tf32, -0.0) == 0x80000000);

  // A NaN whose payload sits only in the low 13 bits must stay NaN, not collapse to Inf.
  const double low_payload_nan = static_cast<double>(float_from_bits(0x7FC00001));
  CHECK(encode(DType::tf32, low_payload_nan) == 0x7FC00000);
  CHECK(std::isnan(decode(DType::tf32, 0x7FC00000)));

  CHECK(encode(DType::tf32, std::ldexp(1, -136)) == 0x00002000);  // min tf32 subnormal
  CHECK(encode(DType::tf32, std::ldexp(1, -149)) == 0);           // f32 min subnormal truncates to 0
  CHECK(round_tf32_rne(std::ldexp(3, -138)) == std::ldexp(1, -136));  // 0.75 units -> 1 unit
  CHECK(decode(DType::tf32, 0x3F801FFF) == 1.0);  // the low 13 bits are ignored
}

TEST_CASE("f8e4m3 (OCP FN): saturating and non-saturating conversions", "[numerics]") {
  CHECK(encode(DType::f8e4m3, 1.0) == 0x38);
  CHECK(encode(DType::f8e4m3, -1.0) == 0xB8);
  CHECK(encode(DType::f8e4m3, 1.0625) == 0x38);  // 1 + 2^-4: tie -> even
  CHECK(encode(DType::f8e4m3, 1.1875) == 0x3A);  // 1 + 3*2^-4: tie -> even
  CHECK(encode(DType::f8e4m3, 448.0) == 0x7E);   // max finite
  CHECK(max_finite(DType::f8e4m3) == 448.0);
  CHECK(encode(DType::f8e4m3, 464.0) == 0x7E);  // tie between 448 and 480 -> even mantissa (448)
  CHECK(encode(DType::f8e4m3, 464.0, Overflow::ieee) == 0x7E);
  CHECK(encode(DType::f8e4m3, above(464.0)) == 0x7E);  // satfinite is the default
  CHECK(encode(DType::f8e4m3, above(464.0), Overflow::ieee) == 0x7F);  // no Inf: NaN
  CHECK(encode(DType::f8e4m3, -1e6) == 0xFE);
  CHECK(encode(DType::f8e4m3, kInf) == 0x7E);
  CHECK(encode(DType::f8e4m3, -kInf) == 0xFE);
  CHECK(encode(DType::f8e4m3, kInf, Overflow::ieee) == 0x7F);
  CHECK(encode(DType::f8e4m3, kNaN) == 0x7F);
  CHECK(encode(DType::f8e4m3, -kNaN) == 0xFF);
  CHECK(encode(DType::f8e4m3, std::ldexp(1, -6)) == 0x08);   // min normal
  CHECK(encode(DType::f8e4m3, std::ldexp(7, -9)) == 0x07);   // max subnormal
  CHECK(encode(DType::f8e4m3, std::ldexp(1, -9)) == 0x01);   // min subnormal
  CHECK(encode(DType::f8e4m3, std::ldexp(1, -10)) == 0x00);  // half: tie -> 0
  CHECK(encode(DType::f8e4m3, above(std::ldexp(1, -10))) == 0x01);
  CHECK(encode(DType::f8e4m3, -0.0) == 0x80);
  CHECK(decode(DType::f8e4m3, 0x78) == 256.0);  // the top binade is finite except S.1111.111
  CHECK(decode(DType::f8e4m3, 0x7E) == 448.0);
  CHECK(std::isnan(decode(DType::f8e4m3, 0x7F)));
  CHECK(std::isnan(decode(DType::f8e4m3, 0xFF)));
  CHECK(decode(DType::f8e4m3, 0x01) == std::ldexp(1, -9));
}

TEST_CASE("f8e5m2: saturating and non-saturating conversions", "[numerics]") {
  CHECK(encode(DType::f8e5m2, 1.0) == 0x3C);
  CHECK(encode(DType::f8e5m2, 1.125) == 0x3C);  // 1 + 2^-3: tie -> even
  CHECK(encode(DType::f8e5m2, 1.375) == 0x3E);  // 1 + 3*2^-3: tie -> even
  CHECK(encode(DType::f8e5m2, 57344.0) == 0x7B);
  CHECK(max_finite(DType::f8e5m2) == 57344.0);
  CHECK(encode(DType::f8e5m2, below(61440.0), Overflow::ieee) == 0x7B);
  CHECK(encode(DType::f8e5m2, 61440.0, Overflow::ieee) == 0x7C);  // tie rounds up to 2^16: Inf
  CHECK(encode(DType::f8e5m2, 61440.0) == 0x7B);                  // satfinite (default)
  CHECK(encode(DType::f8e5m2, kInf) == 0x7B);
  CHECK(encode(DType::f8e5m2, kInf, Overflow::ieee) == 0x7C);
  CHECK(encode(DType::f8e5m2, -kInf, Overflow::ieee) == 0xFC);
  CHECK(encode(DType::f8e5m2, -1e9) == 0xFB);
  CHECK(encode(DType::f8e5m2, kNaN) == 0x7E);
  CHECK(encode(DType::f8e5m2, std::ldexp(1, -16)) == 0x01);  // min subnormal
  CHECK(encode(DType::f8e5m2, std::ldexp(1, -17)) == 0x00);
  CHECK(encode(DType::f8e5m2, above(std::ldexp(1, -17))) == 0x01);
  CHECK(encode(DType::f8e5m2, std::ldexp(1, -14)) == 0x04);  // min normal
  CHECK(decode(DType::f8e5m2, 0x7C) == kInf);
  CHECK(std::isnan(decode(DType::f8e5m2, 0x7D)));
  CHECK(decode(DType::f8e5m2, 0x7B) == 57344.0);
}

TEST_CASE("f4e2m1: the eight magnitudes, RNE ties, saturation", "[numerics]") {
  const double magnitudes[] = {0, 0.5, 1, 1.5, 2, 3, 4, 6};
  for (uint32_t p = 0; p < 8; ++p) {
    CHECK(decode(DType::f4e2m1, p) == magnitudes[p]);
    CHECK(decode(DType::f4e2m1, p | 0x8) == -magnitudes[p]);
    CHECK(encode(DType::f4e2m1, magnitudes[p]) == p);
  }
  CHECK(encode(DType::f4e2m1, 0.25) == 0x0);  // min subnormal / 2: tie -> 0
  CHECK(encode(DType::f4e2m1, above(0.25)) == 0x1);
  CHECK(encode(DType::f4e2m1, 0.75) == 0x2);  // tie 0.5 (odd) / 1.0 (even)
  CHECK(encode(DType::f4e2m1, 1.25) == 0x2);  // tie 1.0 / 1.5 -> 1.0
  CHECK(encode(DType::f4e2m1, 1.75) == 0x4);  // tie 1.5 / 2.0 -> 2.0
  CHECK(encode(DType::f4e2m1, 2.5) == 0x4);
  CHECK(encode(DType::f4e2m1, 3.5) == 0x6);
  CHECK(encode(DType::f4e2m1, 5.0) == 0x6);  // tie 4 / 6 -> 4
  CHECK(encode(DType::f4e2m1, above(5.0)) == 0x7);
  CHECK(encode(DType::f4e2m1, 7.0) == 0x7);  // saturates (no Inf)
  CHECK(encode(DType::f4e2m1, 1e30, Overflow::ieee) == 0x7);
  CHECK(encode(DType::f4e2m1, -kInf) == 0xF);
  CHECK(encode(DType::f4e2m1, kNaN) == 0x7);  // no NaN: +max, whatever the sign
  CHECK(encode(DType::f4e2m1, -kNaN) == 0x7);
  CHECK(encode(DType::f4e2m1, -0.0) == 0x8);
  CHECK(max_finite(DType::f4e2m1) == 6.0);
}

TEST_CASE("i8/i32: round to nearest even with saturation, NaN -> 0", "[numerics]") {
  CHECK(round_to(DType::i8, 2.5) == 2.0);
  CHECK(round_to(DType::i8, 3.5) == 4.0);
  CHECK(round_to(DType::i8, -2.5) == -2.0);
  CHECK(round_to(DType::i8, 0.5) == 0.0);
  CHECK(round_to(DType::i8, 127.4) == 127.0);
  CHECK(encode(DType::i8, 200.0) == 0x7F);
  CHECK(encode(DType::i8, -200.0) == 0x80);
  CHECK(encode(DType::i8, -1.0) == 0xFF);
  CHECK(encode(DType::i8, kNaN) == 0x00);
  CHECK(encode(DType::i8, kInf) == 0x7F);
  CHECK(decode(DType::i8, 0x80) == -128.0);
  CHECK(encode(DType::i32, 3e9) == 0x7FFFFFFFu);
  CHECK(encode(DType::i32, -3e9) == 0x80000000u);
  CHECK(encode(DType::i32, -1.5) == 0xFFFFFFFEu);
  CHECK(decode(DType::i32, 0xFFFFFFFEu) == -2.0);
  CHECK(round_to(DType::i32, 2147483646.5) == 2147483646.0);
  CHECK(encode(DType::i1, 0.0) == 0u);
  CHECK(encode(DType::i1, -3.0) == 1u);
}

TEST_CASE("every bit pattern of the small formats decodes and re-encodes to itself", "[numerics]") {
  for (DType t : kSmallFloats) {
    INFO(dtype_name(t));
    int mismatches = 0;
    for (uint32_t i = 0; i < pattern_count(t); ++i) {
      const uint32_t p = pattern_at(t, i);
      const double v = decode(t, p);
      const uint32_t back = encode(t, v, Overflow::ieee);
      // NaNs come back quiet (signalling NaNs gain the quiet bit); everything else is identical.
      const uint32_t expected = std::isnan(v) ? (p | quiet_bit(t)) : p;
      if (back != expected) ++mismatches;
      if (!std::isnan(v) && round_to(t, v, Overflow::ieee) != v) ++mismatches;
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("midpoints between neighbours round to the even pattern, and nudged midpoints to the nearer",
          "[numerics]") {
  for (DType t : kSmallFloats) {
    INFO(dtype_name(t));
    int wrong = 0, pairs = 0;
    // Positive finite patterns are ordered like their values; walk consecutive pairs.
    const uint32_t sign_bit = pattern_at(t, pattern_count(t) / 2);
    for (uint32_t i = 0; pattern_at(t, i + 1) < sign_bit; ++i) {
      const uint32_t lo = pattern_at(t, i), hi = pattern_at(t, i + 1);
      const double a = decode(t, lo), b = decode(t, hi);
      if (!std::isfinite(a) || !std::isfinite(b)) break;
      if (!(a < b)) ++wrong;
      const double mid = (a + b) / 2;  // exact in double
      const double even = ((lo >> (t == DType::tf32 ? 13 : 0)) & 1u) == 0 ? a : b;
      // tf32 rounds by truncation (RNE is round_tf32_rne) and converts from f32, so its nudges are f32
      // ulps; the other formats take any double.
      auto round_rne = [t](double x) { return t == DType::tf32 ? round_tf32_rne(x) : round_to(t, x, Overflow::ieee); };
      auto nudge = [t](double x, double toward) {
        return t == DType::tf32 ? static_cast<double>(std::nextafter(static_cast<float>(x), static_cast<float>(toward)))
                                : std::nextafter(x, toward);
      };
      if (round_rne(mid) != even) ++wrong;
      if (round_rne(nudge(mid, -kInf)) != a) ++wrong;
      if (round_rne(nudge(mid, kInf)) != b) ++wrong;
      if (t == DType::tf32 && (round_to(t, nudge(b, -kInf)) != a || round_tf32_rna(mid) != b)) ++wrong;
      ++pairs;
    }
    CHECK(pairs > 6);
    CHECK(wrong == 0);
  }
}

TEST_CASE("f32 codec agrees with the hardware double->float conversion", "[numerics]") {
  std::mt19937_64 rng(12345);
  int mismatches = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    // Random doubles over the whole f32 range and beyond, including f32 subnormals and overflow.
    const double mantissa = std::uniform_real_distribution<double>(1.0, 2.0)(rng);
    const int exponent = std::uniform_int_distribution<int>(-160, 140)(rng);
    const double x = (rng() & 1 ? -1 : 1) * std::ldexp(mantissa, exponent);
    const float hw = static_cast<float>(x);
    if (encode(DType::f32, x) != float_bits(hw)) ++mismatches;
    if (round_to(DType::f32, x) != static_cast<double>(hw)) ++mismatches;
    const auto pattern = static_cast<uint32_t>(rng());
    const double decoded = decode(DType::f32, pattern);
    const float expected = float_from_bits(pattern);
    if (std::isnan(expected) ? !std::isnan(decoded) : decoded != static_cast<double>(expected)) ++mismatches;
  }
  CHECK(mismatches == 0);
  // Ties in the subnormal range and at the overflow threshold.
  CHECK(encode(DType::f32, std::ldexp(1, -150)) == 0u);
  CHECK(encode(DType::f32, std::ldexp(3, -150)) == 2u);
  CHECK(encode(DType::f32, std::ldexp(2 - std::ldexp(1, -24), 127)) == 0x7F800000u);
  CHECK(encode(DType::f32, below(std::ldexp(2 - std::ldexp(1, -24), 127))) == 0x7F7FFFFFu);
}

#if defined(__FLT16_MAX__)
TEST_CASE("f16 codec agrees with the compiler's _Float16", "[numerics]") {
  int mismatches = 0;
  for (uint32_t p = 0; p < (1u << 16); ++p) {
    const auto half_bits = static_cast<uint16_t>(p);
    _Float16 h;
    std::memcpy(&h, &half_bits, sizeof h);
    const double expected = static_cast<double>(h);
    const double decoded = decode(DType::f16, p);
    if (std::isnan(expected) ? !std::isnan(decoded) : decoded != expected) ++mismatches;
  }
  CHECK(mismatches == 0);

  std::mt19937 rng(2024);
  mismatches = 0;
  for (int i = 0; i < 3'000'000; ++i) {
    // Uniform over f32 bit patterns near the f16 range (exponents 2^-30 .. 2^20) and over all patterns.
    const uint32_t pattern = i % 2 == 0 ? static_cast<uint32_t>(rng())
                                        : (static_cast<uint32_t>(rng()) & 0x807FFFFFu) |
                                              ((97u + static_cast<uint32_t>(rng() % 51)) << 23);
    const float f = float_from_bits(pattern);
    if (std::isnan(f)) continue;
    const _Float16 h = static_cast<_Float16>(f);
    uint16_t expected = 0;
    std::memcpy(&expected, &h, sizeof expected);
    if (encode(DType::f16, static_cast<double>(f)) != expected) ++mismatches;
  }
  CHECK(mismatches == 0);
}
#endif

TEST_CASE("bf16 codec agrees with the bit-twiddling reference on every tie class", "[numerics]") {
  // Reference: add 0x7FFF plus the lsb of the kept half, drop the low 16 bits (RNE incl. overflow to
  // Inf and subnormals); NaN keeps its top bits and gains the quiet bit.
  auto reference = [](uint32_t u) -> uint32_t {
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (u >> 16) | 0x40u;
    return (u + 0x7FFFu + ((u >> 16) & 1u)) >> 16;
  };
  const uint32_t low_halves[] = {0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF, 0x1234, 0xC000};
  int mismatches = 0;
  for (uint32_t high = 0; high < (1u << 16); ++high) {
    for (uint32_t low : low_halves) {
      const uint32_t u = (high << 16) | low;
      if (encode(DType::bf16, static_cast<double>(float_from_bits(u))) != reference(u)) ++mismatches;
    }
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 1'000'000; ++i) {
    const auto u = static_cast<uint32_t>(rng());
    if (encode(DType::bf16, static_cast<double>(float_from_bits(u))) != reference(u)) ++mismatches;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("add_round_to_odd avoids double rounding", "[numerics]") {
  const double a = 1.0, b = std::ldexp(1, -11) + std::ldexp(1, -60);  // exact sum is just above an f16 tie
  CHECK(round_to(DType::f16, a + b) == 1.0);  // the plain double add loses 2^-60 and ties to even
  CHECK(round_to(DType::f16, add_round_to_odd(a, b)) == 1.0 + std::ldexp(1, -10));
  CHECK(round_to(DType::f16, add_round_to_odd(a, -b)) == 1.0 - std::ldexp(1, -11));
  CHECK(add_round_to_odd(1.0, 2.0) == 3.0);  // exact sums are untouched
  CHECK(add_round_to_odd(1.0, -1.0) == 0.0);
}

TEST_CASE("f64: IEEE binary64 patterns, identity rounding, quieted NaNs, satfinite Inf", "[numerics][f64]") {
  CHECK(bits(DType::f64) == 64);
  CHECK(is_float(DType::f64));
  CHECK(default_overflow(DType::f64) == Overflow::ieee);
  CHECK(encode(DType::f64, 1.0) == 0x3FF0000000000000ull);
  CHECK(encode(DType::f64, -2.0) == 0xC000000000000000ull);
  CHECK(encode(DType::f64, -0.0) == 0x8000000000000000ull);
  CHECK(encode(DType::f64, 0.1) == 0x3FB999999999999Aull);
  CHECK(decode(DType::f64, 0x3FB999999999999Aull) == 0.1);
  CHECK(encode(DType::f64, kInf) == 0x7FF0000000000000ull);
  // Rounding to f64 keeps every double: no f32 rounding, no flush of subnormals, no overflow.
  const double third = 1.0 / 3.0;
  CHECK(round_to(DType::f64, third) == third);
  CHECK(round_to(DType::f64, third) != round_to(DType::f32, third));
  const double tiny = std::numeric_limits<double>::denorm_min();
  CHECK(round_to(DType::f64, tiny) == tiny);
  CHECK(min_subnormal(DType::f64) == tiny);
  CHECK(max_finite(DType::f64) == std::numeric_limits<double>::max());
  CHECK(round_to(DType::f64, 1e300) == 1e300);
  CHECK(round_to(DType::f64, -kInf) == -kInf);
  CHECK(round_to(DType::f64, kInf, Overflow::satfinite) == std::numeric_limits<double>::max());
  CHECK(encode(DType::f64, -kInf, Overflow::satfinite) == 0xFFEFFFFFFFFFFFFFull);
  // NaN: quieted, sign and payload kept (as the other IEEE formats do); quiet NaNs round-trip.
  CHECK(encode(DType::f64, decode(DType::f64, 0x7FF0000000000001ull)) == 0x7FF8000000000001ull);
  CHECK(encode(DType::f64, decode(DType::f64, 0xFFF8000000000123ull)) == 0xFFF8000000000123ull);
  CHECK(std::isnan(round_to(DType::f64, kNaN, Overflow::satfinite)));
  CHECK(parse_dtype("f64") == std::optional<DType>(DType::f64));
  CHECK(std::string(dtype_name(DType::f64)) == "f64");
}

TEST_CASE("fma_in rounds once in every float dtype, f64 included", "[numerics][f64]") {
  // f64: a*b = 1 + 2^-29 + 2^-60 is not a double; fused, a*b - 1 keeps the 2^-60 term, a double multiply
  // then add rounds twice and loses it.
  const double a = 1.0 + std::ldexp(1, -30);
  CHECK(fma_in(DType::f64, a, a, -1.0) == std::ldexp(1, -29) + std::ldexp(1, -60));
  volatile double product = a * a;  // rounded on its own, whatever the compiler's fp contraction
  CHECK(product - 1.0 == std::ldexp(1, -29));
  CHECK(fma_in(DType::f64, a, a, 0.0) == a * a);  // with c = 0: the product rounded once
  // f32: the product is exact in double, the round-to-odd add rounds once to f32.
  const double x = 1.0 + std::ldexp(1, -12);
  CHECK(fma_in(DType::f32, x, x, -1.0) == std::ldexp(1, -11) + std::ldexp(1, -24));
  // add_in: the f64 sum is the double sum (round to odd would leave an odd last bit).
  const double big = 1.0, small = std::ldexp(1, -53) + std::ldexp(1, -80);  // just above half an ulp of 1
  CHECK(add_in(DType::f64, big, small) == 1.0 + std::ldexp(1, -52));
  CHECK(add_in(DType::f64, 1.0, std::ldexp(1, -53)) == 1.0);                 // tie to even, not to odd
  CHECK(add_round_to_odd(1.0, std::ldexp(1, -53)) == 1.0 + std::ldexp(1, -52));  // what f64 must not keep
  CHECK(add_in(DType::f16, 1.0, std::ldexp(1, -11) + std::ldexp(1, -60)) == 1.0 + std::ldexp(1, -10));
}

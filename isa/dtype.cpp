#include "isa/dtype.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "sim/error.hpp"

namespace tilesim::isa {

namespace {

/// Where a binary float format keeps its NaNs.
enum class NanEncoding {
  ieee,           // exponent all ones, mantissa nonzero (mantissa zero = Inf)
  all_ones_only,  // only S.1...1.1...1 is NaN; the rest of the top binade is finite (OCP E4M3FN)
  none,           // no NaN and no Inf (OCP FP4 E2M1)
};

/// A sign/exponent/mantissa float layout. `shift` places the pattern in its storage word (tf32 lives in
/// the top 19 bits of a 32-bit word).
struct FloatFormat {
  int exp_bits;
  int man_bits;
  int bias;
  NanEncoding nan;
  int shift;

  int max_biased_exp() const { return (1 << exp_bits) - 1; }
  uint32_t man_mask() const { return (1u << man_bits) - 1; }
  int min_normal_exp() const { return 1 - bias; }
  bool has_inf() const { return nan == NanEncoding::ieee; }
};

constexpr FloatFormat kF32{8, 23, 127, NanEncoding::ieee, 0};
constexpr FloatFormat kTf32{8, 10, 127, NanEncoding::ieee, 13};
constexpr FloatFormat kF16{5, 10, 15, NanEncoding::ieee, 0};
constexpr FloatFormat kBf16{8, 7, 127, NanEncoding::ieee, 0};
constexpr FloatFormat kE4m3{4, 3, 7, NanEncoding::all_ones_only, 0};
constexpr FloatFormat kE5m2{5, 2, 15, NanEncoding::ieee, 0};
constexpr FloatFormat kE2m1{2, 1, 1, NanEncoding::none, 0};

const FloatFormat& float_format(DType t) {
  switch (t) {
    case DType::f32: return kF32;
    case DType::tf32: return kTf32;
    case DType::f16: return kF16;
    case DType::bf16: return kBf16;
    case DType::f8e4m3: return kE4m3;
    case DType::f8e5m2: return kE5m2;
    case DType::f4e2m1: return kE2m1;
    default: break;
  }
  panic("float_format: ", dtype_name(t), " is not a float dtype");
}

uint32_t pack(const FloatFormat& f, bool negative, uint32_t biased_exp, uint32_t mantissa) {
  const uint32_t sign = negative ? 1u : 0u;
  return ((sign << (f.exp_bits + f.man_bits)) | (biased_exp << f.man_bits) | mantissa) << f.shift;
}

/// Largest finite magnitude, as (biased exponent, mantissa) fields.
void max_finite_fields(const FloatFormat& f, uint32_t& biased_exp, uint32_t& mantissa) {
  switch (f.nan) {
    case NanEncoding::ieee:
      biased_exp = f.max_biased_exp() - 1;
      mantissa = f.man_mask();
      return;
    case NanEncoding::all_ones_only:
      biased_exp = f.max_biased_exp();
      mantissa = f.man_mask() - 1;
      return;
    case NanEncoding::none:
      biased_exp = f.max_biased_exp();
      mantissa = f.man_mask();
      return;
  }
}

double max_finite_value(const FloatFormat& f) {
  uint32_t e = 0, m = 0;
  max_finite_fields(f, e, m);
  return std::ldexp(static_cast<double>((1u << f.man_bits) + m), static_cast<int>(e) - f.bias - f.man_bits);
}

uint32_t max_finite_pattern(const FloatFormat& f, bool negative) {
  uint32_t e = 0, m = 0;
  max_finite_fields(f, e, m);
  return pack(f, negative, e, m);
}

uint64_t double_bits(double x) {
  uint64_t u = 0;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

double double_from_bits(uint64_t u) {
  double x = 0;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// The NaN pattern of f for a NaN input x: quiet, keeping x's sign and leading payload bits.
uint32_t nan_pattern(const FloatFormat& f, double x) {
  const bool negative = std::signbit(x);
  switch (f.nan) {
    case NanEncoding::ieee: {
      const uint64_t payload = (double_bits(x) & ((uint64_t{1} << 52) - 1)) >> (52 - f.man_bits);
      const uint32_t quiet_bit = 1u << (f.man_bits - 1);
      return pack(f, negative, f.max_biased_exp(), static_cast<uint32_t>(payload) | quiet_bit);
    }
    case NanEncoding::all_ones_only:
      return pack(f, negative, f.max_biased_exp(), f.man_mask());
    case NanEncoding::none:
      return max_finite_pattern(f, false);  // see dtype.hpp: NaN -> +max (hardware capture)
  }
  return 0;
}

/// Pattern for a magnitude that does not fit (finite overflow or Inf input) under the given policy.
uint32_t overflow_pattern(const FloatFormat& f, bool negative, bool saturate) {
  if (saturate || f.nan == NanEncoding::none) return max_finite_pattern(f, negative);
  if (f.has_inf()) return pack(f, negative, f.max_biased_exp(), 0);
  return pack(f, negative, f.max_biased_exp(), f.man_mask());  // E4M3FN: no Inf, overflow is NaN
}

/// q >= 0 rounded to an integer value.
double round_to_integer(double q, Rounding rounding) {
  const double floor_q = std::floor(q);
  const double fraction = q - floor_q;  // exact: q < 2^53
  switch (rounding) {
    case Rounding::toward_zero:
      return floor_q;
    case Rounding::nearest_away:
      return fraction >= 0.5 ? floor_q + 1 : floor_q;
    case Rounding::nearest_even:
      if (fraction > 0.5) return floor_q + 1;
      if (fraction < 0.5) return floor_q;
      return std::fmod(floor_q, 2.0) != 0.0 ? floor_q + 1 : floor_q;
  }
  return floor_q;
}

uint32_t encode_float(const FloatFormat& f, double x, Rounding rounding, Overflow overflow) {
  if (std::isnan(x)) return nan_pattern(f, x);
  const bool negative = std::signbit(x);
  const bool saturate = overflow == Overflow::satfinite;
  const double magnitude = std::fabs(x);
  if (std::isinf(magnitude)) return overflow_pattern(f, negative, saturate);
  if (magnitude == 0.0) return pack(f, negative, 0, 0);

  // Scale so that one unit is the format's quantum at x's binade (or the subnormal quantum), round that
  // to an integer, and scale back. Scaling by a power of two is exact here.
  int frexp_exp = 0;
  std::frexp(magnitude, &frexp_exp);  // magnitude = m * 2^frexp_exp, m in [0.5, 1)
  const int unbiased_exp = std::max(frexp_exp - 1, f.min_normal_exp());
  const int quantum_exp = unbiased_exp - f.man_bits;
  const double units = round_to_integer(std::ldexp(magnitude, -quantum_exp), rounding);
  if (units == 0.0) return pack(f, negative, 0, 0);
  const double rounded = std::ldexp(units, quantum_exp);

  if (rounded > max_finite_value(f)) {
    // Truncation never rounds up to Inf: a finite input beyond max truncates to max (IEEE 754 RZ).
    return overflow_pattern(f, negative, saturate || rounding == Rounding::toward_zero);
  }
  if (rounded < std::ldexp(1.0, f.min_normal_exp())) {
    return pack(f, negative, 0, static_cast<uint32_t>(units));  // subnormal: units < 2^man_bits
  }
  const int exp = std::ilogb(rounded);
  const auto significand = static_cast<uint32_t>(std::ldexp(rounded, f.man_bits - exp));
  return pack(f, negative, static_cast<uint32_t>(exp + f.bias), significand & f.man_mask());
}

double decode_float(const FloatFormat& f, uint32_t word) {
  const uint32_t pattern = word >> f.shift;
  const bool negative = ((pattern >> (f.exp_bits + f.man_bits)) & 1u) != 0;
  const uint32_t biased_exp = (pattern >> f.man_bits) & static_cast<uint32_t>(f.max_biased_exp());
  const uint32_t mantissa = pattern & f.man_mask();

  if (static_cast<int>(biased_exp) == f.max_biased_exp()) {
    const bool is_nan = (f.nan == NanEncoding::ieee && mantissa != 0) ||
                        (f.nan == NanEncoding::all_ones_only && mantissa == f.man_mask());
    if (is_nan) {
      const uint64_t bits = (negative ? uint64_t{1} << 63 : 0) | (uint64_t{0x7FF} << 52) |
                            (static_cast<uint64_t>(mantissa) << (52 - f.man_bits));
      return double_from_bits(bits);
    }
    if (f.nan == NanEncoding::ieee) {
      return negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    }
  }
  const double magnitude =
      biased_exp == 0
          ? std::ldexp(static_cast<double>(mantissa), f.min_normal_exp() - f.man_bits)
          : std::ldexp(static_cast<double>((1u << f.man_bits) | mantissa),
                       static_cast<int>(biased_exp) - f.bias - f.man_bits);
  return negative ? -magnitude : magnitude;
}

/// Integer range of an integer or boolean dtype.
void int_range(DType t, double& lo, double& hi) {
  switch (t) {
    case DType::i8: lo = -128.0; hi = 127.0; return;
    case DType::i32: lo = -2147483648.0; hi = 2147483647.0; return;
    case DType::i1: lo = 0.0; hi = 1.0; return;
    default: break;
  }
  panic("int_range: ", dtype_name(t), " is not an integer dtype");
}

/// cvt.rni.sat: nearest integer (ties to even), saturated to t's range, NaN -> 0.
double round_int(DType t, double x) {
  if (std::isnan(x)) return 0.0;
  double lo = 0, hi = 0;
  int_range(t, lo, hi);
  if (x <= lo) return lo;
  if (x >= hi) return hi;
  const double magnitude = round_to_integer(std::fabs(x), Rounding::nearest_even);
  return x < 0 ? -magnitude : magnitude;
}

// ---- f64: the interpreter's own type ----

constexpr uint64_t kF64Quiet = uint64_t{1} << 51;

/// x as an f64 under `overflow`: numbers stay (no finite value overflows binary64), +-Inf saturates to
/// +-max under satfinite, and a NaN keeps its sign and payload with the quiet bit set.
double to_f64(double x, Overflow overflow) {
  if (std::isnan(x)) return double_from_bits(double_bits(x) | kF64Quiet);
  if (std::isinf(x) && overflow == Overflow::satfinite) {
    return std::copysign(std::numeric_limits<double>::max(), x);
  }
  return x;
}

}  // namespace

const std::vector<DType>& all_dtypes() {
  static const std::vector<DType> kAll = {DType::f32,    DType::f64,    DType::tf32,
                                          DType::f16,    DType::bf16,   DType::f8e4m3,
                                          DType::f8e5m2, DType::f4e2m1, DType::i8,
                                          DType::i32,    DType::i1};
  return kAll;
}

const char* dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "f32";
    case DType::f64: return "f64";
    case DType::tf32: return "tf32";
    case DType::f16: return "f16";
    case DType::bf16: return "bf16";
    case DType::f8e4m3: return "f8e4m3";
    case DType::f8e5m2: return "f8e5m2";
    case DType::f4e2m1: return "f4e2m1";
    case DType::i8: return "i8";
    case DType::i32: return "i32";
    case DType::i1: return "i1";
  }
  return "?";
}

std::optional<DType> parse_dtype(std::string_view name) {
  for (DType t : all_dtypes()) {
    if (name == dtype_name(t)) return t;
  }
  return std::nullopt;
}

int bits(DType t) {
  switch (t) {
    case DType::f64: return 64;
    case DType::f32:
    case DType::tf32:
    case DType::i32: return 32;
    case DType::f16:
    case DType::bf16: return 16;
    case DType::f8e4m3:
    case DType::f8e5m2:
    case DType::i8:
    case DType::i1: return 8;
    case DType::f4e2m1: return 4;
  }
  return 0;
}

bool is_float(DType t) { return !is_int(t) && !is_bool(t); }
bool is_int(DType t) { return t == DType::i8 || t == DType::i32; }
bool is_bool(DType t) { return t == DType::i1; }

Overflow default_overflow(DType t) {
  switch (t) {
    case DType::f8e4m3:
    case DType::f8e5m2:
    case DType::f4e2m1: return Overflow::satfinite;
    default: return Overflow::ieee;
  }
}

double max_finite(DType t) {
  if (t == DType::f64) return std::numeric_limits<double>::max();
  if (is_float(t)) return max_finite_value(float_format(t));
  double lo = 0, hi = 0;
  int_range(t, lo, hi);
  return hi;
}

double min_subnormal(DType t) {
  if (!is_float(t)) return 1.0;
  if (t == DType::f64) return std::numeric_limits<double>::denorm_min();
  const FloatFormat& f = float_format(t);
  return std::ldexp(1.0, f.min_normal_exp() - f.man_bits);
}

uint64_t encode(DType t, double x) { return encode(t, x, default_overflow(t)); }

uint64_t encode(DType t, double x, Overflow overflow) {
  switch (t) {
    case DType::f64: return double_bits(to_f64(x, overflow));
    case DType::tf32: return encode_tf32(x, Rounding::toward_zero, overflow);
    case DType::i8: return static_cast<uint32_t>(static_cast<int32_t>(round_int(t, x))) & 0xFFu;
    case DType::i32: return static_cast<uint32_t>(static_cast<int32_t>(round_int(t, x)));
    case DType::i1: return (x != 0.0) ? 1u : 0u;  // NaN != 0: true
    default: return encode_float(float_format(t), x, Rounding::nearest_even, overflow);
  }
}

double decode(DType t, uint64_t bits) {
  switch (t) {
    case DType::f64: return double_from_bits(bits);
    case DType::i8: return static_cast<double>(static_cast<int8_t>(bits & 0xFFu));
    case DType::i32: return static_cast<double>(static_cast<int32_t>(bits));
    case DType::i1: return (bits & 1u) != 0 ? 1.0 : 0.0;
    default: {
      const FloatFormat& f = float_format(t);
      const int width = f.exp_bits + f.man_bits + 1 + f.shift;
      const uint32_t mask = width >= 32 ? ~0u : (1u << width) - 1;
      return decode_float(f, static_cast<uint32_t>(bits) & mask);
    }
  }
}

double round_to(DType t, double x) { return round_to(t, x, default_overflow(t)); }

double round_to(DType t, double x, Overflow overflow) {
  if (t == DType::f32 && overflow == Overflow::ieee && !std::isnan(x)) {
    // Fast path, the hottest conversion (every f32 accumulate): the hardware double->float conversion
    // is IEEE RNE with overflow to Inf in the default floating-point environment. Tests check it
    // against the generic codec.
    return static_cast<double>(static_cast<float>(x));
  }
  if (t == DType::f64) return to_f64(x, overflow);
  if (is_int(t)) return round_int(t, x);
  return decode(t, encode(t, x, overflow));
}

uint32_t encode_tf32(double x, Rounding rounding, Overflow overflow) {
  // tf32 conversions start from an f32 register value.
  const double as_f32 = std::isnan(x) ? x : decode_float(kF32, encode_float(kF32, x, Rounding::nearest_even, overflow));
  return encode_float(kTf32, as_f32, rounding, overflow);
}

double round_tf32_rna(double x, Overflow overflow) {
  return decode_float(kTf32, encode_tf32(x, Rounding::nearest_away, overflow));
}

double round_tf32_rne(double x, Overflow overflow) {
  return decode_float(kTf32, encode_tf32(x, Rounding::nearest_even, overflow));
}

double add_in(DType t, double a, double b) {
  if (t == DType::f64) return round_to(t, a + b);
  return round_to(t, add_round_to_odd(a, b));
}

double fma_in(DType t, double a, double b, double c) {
  if (t == DType::f64) return round_to(t, std::fma(a, b, c));
  return round_to(t, add_round_to_odd(a * b, c));
}

double add_round_to_odd(double a, double b) {
  const double sum = a + b;
  if (!std::isfinite(sum)) return sum;
  // Knuth's TwoSum: the exact rounding error of a + b.
  const double b_virtual = sum - a;
  const double a_virtual = sum - b_virtual;
  const double error = (a - a_virtual) + (b - b_virtual);
  if (error == 0.0 || (double_bits(sum) & 1u) != 0) return sum;
  // Inexact with an even last bit: step one ulp towards the exact value to make it odd.
  return std::nextafter(sum, error > 0 ? std::numeric_limits<double>::infinity()
                                       : -std::numeric_limits<double>::infinity());
}

}  // namespace tilesim::isa

// Element types of the tile ISA and their exact, bit-level conversions.
//
// Every value the functional interpreter holds is a double that is exactly representable in its dtype;
// these functions define how an arbitrary double becomes such a value (rounding, overflow, NaN) and how
// a dtype's bit pattern maps to and from a double. They are the numerics contract of the simulator:
//
//  - f32, f16, bf16: IEEE 754 round-to-nearest-even (RNE), gradual underflow (subnormals kept), overflow
//    to +-Inf, NaN stays a quiet NaN with its sign and leading payload bits.
//  - f64: IEEE 754 binary64, the interpreter's own value type, so rounding to f64 is the identity on
//    numbers (finite and +-Inf); a NaN is quieted (quiet bit set) with its sign and payload kept, as for
//    the other IEEE formats. Arithmetic on f64 operands is therefore computed in double and correctly
//    rounded for + - * / sqrt; fma must use one fused operation (std::fma), never a*b+c.
//  - tf32 (1-8-10): stored like an f32 register whose low 13 bits are zero. The default conversion is the
//    one tensor cores apply to fp32 MMA operands: the value is taken as an f32 and its low 13 mantissa
//    bits are ignored, i.e. truncated (round toward zero). cvt.rna.tf32.f32 (ties away from zero) and
//    cvt.rn.tf32.f32 (ties to even) are available through encode_tf32 / round_tf32_rna / round_tf32_rne.
//  - f8e4m3: OCP "E4M3FN": bias 7, no Inf, NaN only at S.1111.111, max finite 448.
//  - f8e5m2: IEEE-like: bias 15, Inf and NaN, max finite 57344.
//  - f4e2m1: OCP FP4: bias 1, values +-{0, 0.5, 1, 1.5, 2, 3, 4, 6}, no Inf and no NaN.
//  - i8, i32: round to nearest integer (ties to even) with saturation, NaN -> 0 (PTX cvt.rni.sat).
//  - i1: the boolean result of compares; any nonzero (or NaN) value is 1.
//
// Overflow policy: Overflow::ieee sends finite overflow to Inf (f64/f32/tf32/f16/bf16/f8e5m2) or NaN (f8e4m3,
// which has no Inf); Overflow::satfinite saturates finite overflow and +-Inf to +-max finite, as PTX
// cvt.rn.satfinite does (NaN stays NaN). Each dtype has a default policy (default_overflow): ieee for the
// IEEE formats, satfinite for the 8- and 4-bit formats (PTX only converts to them with .satfinite).
// f4e2m1 has neither Inf nor NaN, so it always saturates; a NaN input becomes +6 (0x7): this follows a
// reported hardware capture of the Blackwell f32->e2m1 satfinite conversion (NaN -> code 7, sign
// dropped); PTX leaves it unspecified.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tilesim::isa {

enum class DType { f32, f64, tf32, f16, bf16, f8e4m3, f8e5m2, f4e2m1, i8, i32, i1 };

/// How finite values beyond the largest finite value (and +-Inf inputs) are converted.
enum class Overflow {
  ieee,       // to +-Inf where the format has Inf, else to NaN (f8e4m3); integers always saturate
  satfinite,  // to +-max finite; NaN stays NaN (PTX .satfinite)
};

/// Rounding of the significand when converting to a narrower float format.
enum class Rounding {
  nearest_even,  // RNE (PTX .rn)
  nearest_away,  // ties away from zero (PTX .rna)
  toward_zero,   // truncation (PTX .rz; tensor-core tf32 operand conversion)
};

/// Every dtype, in declaration order.
const std::vector<DType>& all_dtypes();

/// Canonical spelling used by the `.tile` text format: "f32", "f64", "tf32", "f16", "bf16", "f8e4m3", "f8e5m2",
/// "f4e2m1", "i8", "i32", "i1".
const char* dtype_name(DType t);
std::optional<DType> parse_dtype(std::string_view name);

/// Storage width in bits: 64 for f64, 32 for tf32 (held like an f32), 4 for f4e2m1 (two per byte), 8 for
/// i1 (one byte per boolean).
int bits(DType t);
bool is_float(DType t);  // f64, f32, tf32, f16, bf16, f8*, f4e2m1
bool is_int(DType t);    // i8, i32 (not i1)
bool is_bool(DType t);   // i1

/// The conversion policy a plain round_to/encode uses for this dtype (see the header comment).
Overflow default_overflow(DType t);

/// Largest finite value (float dtypes) or largest integer (i8, i32, i1).
double max_finite(DType t);
/// Smallest positive subnormal of a float dtype (1 for integer dtypes).
double min_subnormal(DType t);

/// The bit pattern (in the low bits(t) bits, tf32 as a 32-bit f32-like word, f64 as all 64 bits) of x
/// converted to t.
uint64_t encode(DType t, double x);
uint64_t encode(DType t, double x, Overflow overflow);
/// The value a bit pattern of t stands for. Bits above bits(t) are ignored, and so are the low 13 bits
/// of a tf32 word (tensor cores ignore them too). NaN patterns decode to a NaN carrying the sign and the
/// payload at the top of the double's mantissa, so encode(decode(p)) == p for quiet NaNs.
double decode(DType t, uint64_t bits);

/// decode(t, encode(t, x)): x rounded to the nearest (per t's rules) representable value of t.
double round_to(DType t, double x);
double round_to(DType t, double x, Overflow overflow);

/// tf32 with an explicit rounding: x is first rounded to f32 (RNE; tf32 conversions take an f32 input),
/// then its significand is rounded to 10 bits. Returns the 32-bit tf32 word (low 13 bits zero).
uint32_t encode_tf32(double x, Rounding rounding, Overflow overflow = Overflow::ieee);
/// PTX cvt.rna.tf32.f32: round to nearest, ties away from zero.
double round_tf32_rna(double x, Overflow overflow = Overflow::ieee);
/// PTX cvt.rn.tf32.f32: round to nearest, ties to even.
double round_tf32_rne(double x, Overflow overflow = Overflow::ieee);

/// a + b rounded to double with round-to-odd. Rounding the result once more to any format with at most
/// 51 significand bits gives the correctly rounded a + b, which a plain double add does not guarantee.
/// Not for f64 results: rounding to f64 is the identity, so the round-to-odd result would stay.
double add_round_to_odd(double a, double b);

/// a + b rounded once to t (a, b representable in t), with t's default overflow policy: the double add
/// itself for f64, the round-to-odd add rounded to t for the narrower formats.
double add_in(DType t, double a, double b);
/// a * b + c rounded once to t (a, b, c representable in t): std::fma for f64 (DFMA: the product of two
/// f64 values is not exact in a double, so a*b+c would round twice), else the exact double product
/// (<= 2 x 24 significand bits) plus the round-to-odd add, rounded to t.
double fma_in(DType t, double a, double b, double c);

}  // namespace tilesim::isa

// Reference semantics of the tile ISA's operations on TileValues: what the functional interpreter
// computes. Each kernel checks its operands and throws SemanticError with a message naming the
// operation and the offending operands; the IR layer adds the source location.
//
// Numerics, unless an operation says otherwise:
//  - Map ops compute in double from the (already representable) inputs and round the result once to the
//    result dtype (RNE, the dtype's default overflow policy; see dtype.hpp: for f8/f4 results that is
//    cvt.rn.satfinite, so an infinite result becomes +-max). Data movement (select, transforms,
//    reduce max/min) keeps values unchanged, Inf included. For f32 and narrower
//    inputs, + - * / sqrt are therefore correctly rounded; fma rounds once (exact product and sum);
//    f64 is computed in double itself: + - * / sqrt are IEEE double operations and fma is std::fma
//    (one rounding, as DFMA);
//    transcendental ops are libm's double result rounded once (GPU approximations such as ex2.approx
//    may differ from this oracle by a few ulps).
//  - Integer map ops are exact and saturate to the result dtype on store; integer division truncates
//    toward zero and a zero divisor is an error.
//  - Operands of one op share a dtype (the ISA inserts no implicit casts; use cast()).
//  - Broadcasting follows numpy: shapes align at the trailing dim, a dim of 1 (or a missing leading
//    dim, or a rank-0 tile) stretches.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "isa/dtype.hpp"
#include "isa/tile_value.hpp"

namespace tilesim::isa {

// ---- dense compute ---------------------------------------------------------------------------------

/// How mma accumulates.
///
/// Operand and accumulator dtypes:
///   A, B in {f16}                        -> C in {f32, f16}
///   A, B in {bf16}, {tf32}               -> C in {f32}
///   A, B in {f8e4m3, f8e5m2, f4e2m1} (any mix, as kind::f8f6f4 allows) -> C in {f32, f16}
///   A, B in {i8}                         -> C in {i32}
///   A, B in {f64}                        -> C in {f64} (DMMA)
/// Order: for each C element, acc = C[i][j], then the products A[i][k] * B[k][j] for k ascending. Each
/// product is exact (inputs are already rounded to their dtype).
///  - f32 accumulator, acc_mantissa_bits == 23 (default): acc = round_f32(acc + product) after every
///    product (IEEE fp32, RNE).
///  - f32 accumulator, acc_mantissa_bits < 23: the narrowed-accumulator model. Products are summed
///    exactly in blocks of acc_block_k consecutive k; after each block, acc = acc + block_sum truncated
///    (toward zero) to acc_mantissa_bits explicit mantissa bits, then to the f32 range (overflow: Inf).
///    This approximates Hopper FP8 tensor cores, whose adder keeps fewer mantissa bits than fp32 when
///    it folds an instruction's products into the accumulator (the DeepSeek-V3 technical report, 2024,
///    §3.3.2, reports "around 14 bits" retained on H800). It is an approximation, not a bit-exact
///    description of the hardware; acc_mantissa_bits and acc_block_k are the knobs to fit it. Block sums
///    are exact for 8- and 4-bit inputs (double precision for wider ones).
///  - f16 accumulator: acc = round_f16(acc + product) after every product.
///  - f64 accumulator: acc = fma(A[i][k], B[k][j], acc) after every product: one IEEE double fused
///    multiply-add per step (PTX mma .f64: "identical to .f64 precision fused multiply-add", .rn). The
///    product of two f64 values is not exact in a double, so this is not acc + a*b. The acc_* options
///    do not apply.
///  - i32 accumulator: exact integer sum; on overflow the result wraps modulo 2^32 (PTX mma .s32
///    without .satfinite) or, with int_satfinite, clamps to [INT32_MIN, INT32_MAX] (.satfinite).
struct MmaOptions {
  int acc_mantissa_bits = 23;  // 1..23; 23 = full fp32
  int acc_block_k = 32;        // >= 1; products summed exactly before each narrowing (narrowed model)
  bool int_satfinite = false;
};

/// C + A*B with A MxK, B KxN, C MxN. Returns the new accumulator (same dtype and shape as C).
TileValue mma(const TileValue& c, const TileValue& a, const TileValue& b, const MmaOptions& options = {});

// ---- map -------------------------------------------------------------------------------------------

enum class UnaryOp {
  neg, abs, exp, exp2, log, log2, sqrt, rsqrt, tanh, sigmoid, silu,
  gelu_tanh,  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  gelu_erf,   // 0.5 x (1 + erf(x / sqrt(2)))
  relu,       // x > 0 ? x : +0 (NaN -> 0, like max.f32 with a NaN operand)
  recip,
};
enum class BinaryOp {
  add, sub, mul, div,
  max, min,  // a NaN operand loses to a number (IEEE maxNum, PTX max.f32); two NaNs give NaN
  pow,       // floats only
};
enum class CompareOp { lt, le, gt, ge, eq, ne };  // IEEE: any NaN operand compares false, except ne

const char* unary_op_name(UnaryOp op);
const char* binary_op_name(BinaryOp op);
const char* compare_op_name(CompareOp op);
std::optional<UnaryOp> parse_unary_op(std::string_view name);
std::optional<BinaryOp> parse_binary_op(std::string_view name);
std::optional<CompareOp> parse_compare_op(std::string_view name);

/// Result dtype = x's dtype. neg, abs, relu accept integers; the rest need a float dtype.
TileValue unary(UnaryOp op, const TileValue& x);
/// Element-wise conversion to `to` (round_to with the given policy, default: to's default policy).
TileValue cast(const TileValue& x, DType to);
TileValue cast(const TileValue& x, DType to, Overflow overflow);
/// a and b share a dtype; broadcast; result has that dtype.
TileValue binary(BinaryOp op, const TileValue& a, const TileValue& b);
/// a and b share a dtype; broadcast; result is i1.
TileValue compare(CompareOp op, const TileValue& a, const TileValue& b);
/// a * b + c rounded once; all three share a dtype; broadcast.
TileValue fma(const TileValue& a, const TileValue& b, const TileValue& c);
/// cond (i1) ? a : b; a and b share a dtype; broadcast over all three.
TileValue select(const TileValue& cond, const TileValue& a, const TileValue& b);

/// The numpy broadcast of two shapes; `op` names the operation in the error message.
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op);

// ---- reduce ----------------------------------------------------------------------------------------

enum class ReduceOp { sum, max, min };
const char* reduce_op_name(ReduceOp op);
std::optional<ReduceOp> parse_reduce_op(std::string_view name);

/// Reduce along `axis` (0 <= axis < rank; the axis must be non-empty). The result keeps the input dtype
/// and drops the axis (or keeps it with extent 1 when keepdims).
/// Float sum: accumulated in f32 (f64 for f64 tiles), in index order, starting from the first element,
/// acc = round_f32(acc + x) per element, then rounded once to the result dtype. Integer sum: exact,
/// saturated on store. max/min: NaN elements are ignored unless all are NaN (maxNum semantics).
TileValue reduce(ReduceOp op, const TileValue& x, int axis, bool keepdims = false);

// ---- transform -------------------------------------------------------------------------------------

/// Rank-2 transpose.
TileValue transpose(const TileValue& x);
/// out.shape[d] = x.shape[perm[d]]; perm is a permutation of 0..rank-1.
TileValue transpose(const TileValue& x, const std::vector<int>& perm);
/// numpy broadcast_to: x's shape must broadcast to `shape` exactly.
TileValue broadcast_to(const TileValue& x, const Shape& shape);
/// Same elements in row-major order, new shape with the same element count.
TileValue reshape(const TileValue& x, const Shape& shape);
/// The box starts[d] .. starts[d] + sizes[d] - 1 in every dim (inside x).
TileValue slice(const TileValue& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& sizes);
/// Join tiles of one dtype and rank along `axis`; the other dims must agree.
TileValue concat(const std::vector<TileValue>& parts, int axis);
/// numpy take_along_axis: indices (i8/i32) has x's rank and x's shape except along `axis`;
/// out[..., i, ...] = x[..., indices[..., i, ...], ...]. Out has indices' shape and x's dtype.
/// An index outside 0..x.shape[axis]-1 is an error.
TileValue gather(const TileValue& x, const TileValue& indices, int axis);
/// numpy put_along_axis on a copy of x: out[..., indices[..., i, ...], ...] = updates[..., i, ...].
/// indices and updates share a shape, equal to x's except along `axis`; updates has x's dtype.
/// Duplicate indices: the last in row-major order of `indices` wins.
TileValue scatter(const TileValue& x, const TileValue& indices, const TileValue& updates, int axis);
/// Each element = its index along `axis`, in `dtype` (the values must be representable).
TileValue iota(DType dtype, const Shape& shape, int axis);
/// Every element = value rounded to dtype.
TileValue full(DType dtype, const Shape& shape, double value);

}  // namespace tilesim::isa

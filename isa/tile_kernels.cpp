#include "isa/tile_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tilesim::isa {

namespace {

template <class... Args>
[[noreturn]] void fail(Args&&... args) {
  throw SemanticError(cat(std::forward<Args>(args)...));
}

/// Stores a value that is already representable in out's dtype unchanged (data movement).
void store_exact(TileValue& out, int64_t i, double x) { out.set(i, x, Overflow::ieee); }

void check_axis(std::string_view op, const TileValue& x, int axis) {
  if (axis < 0 || axis >= x.rank()) {
    fail(op, ": axis ", axis, " is out of range for ", x.type_string(), " (valid: 0..", x.rank() - 1, ")");
  }
}

void check_same_dtype(std::string_view op, const TileValue& a, const TileValue& b) {
  if (a.dtype() != b.dtype()) {
    fail(op, ": operand dtypes differ (", a.type_string(), " vs ", b.type_string(),
         "); insert an explicit cast");
  }
}

/// Product of shape[begin..end).
int64_t extent_product(const Shape& shape, int begin, int end) {
  int64_t n = 1;
  for (int d = begin; d < end; ++d) n *= shape[static_cast<size_t>(d)];
  return n;
}

/// Strides that read `in` as if broadcast to `out` (0 along stretched or missing dims).
Shape broadcast_strides(const Shape& in, const Shape& out) {
  const Shape in_strides = row_major_strides(in);
  Shape strides(out.size(), 0);
  const size_t lead = out.size() - in.size();
  for (size_t d = 0; d < in.size(); ++d) {
    strides[lead + d] = in[d] == 1 ? 0 : in_strides[d];
  }
  return strides;
}

/// Calls visit(out_position, offsets) for every element of `out` in row-major order, where offsets[j]
/// is the element offset into input j given per-dim strides[j].
template <class Visit>
void for_each_strided(const Shape& out, const std::vector<Shape>& strides, Visit visit) {
  const int64_t count = element_count(out);
  const int rank = static_cast<int>(out.size());
  Index counter(out.size(), 0);
  std::vector<int64_t> offsets(strides.size(), 0);
  for (int64_t i = 0; i < count; ++i) {
    visit(i, offsets);
    for (int d = rank - 1; d >= 0; --d) {
      const auto ud = static_cast<size_t>(d);
      ++counter[ud];
      for (size_t j = 0; j < strides.size(); ++j) offsets[j] += strides[j][ud];
      if (counter[ud] < out[ud]) break;
      for (size_t j = 0; j < strides.size(); ++j) offsets[j] -= strides[j][ud] * out[ud];
      counter[ud] = 0;
    }
  }
}

// ---- mma helpers ----

enum class MmaFamily { f16, bf16, tf32, fp8_fp4, i8, f64, unsupported };

MmaFamily mma_family(DType t) {
  switch (t) {
    case DType::f16: return MmaFamily::f16;
    case DType::bf16: return MmaFamily::bf16;
    case DType::tf32: return MmaFamily::tf32;
    case DType::f8e4m3:
    case DType::f8e5m2:
    case DType::f4e2m1: return MmaFamily::fp8_fp4;
    case DType::i8: return MmaFamily::i8;
    case DType::f64: return MmaFamily::f64;
    default: return MmaFamily::unsupported;
  }
}

bool accumulator_allowed(MmaFamily family, DType acc) {
  switch (family) {
    case MmaFamily::f16:
    case MmaFamily::fp8_fp4: return acc == DType::f32 || acc == DType::f16;
    case MmaFamily::bf16:
    case MmaFamily::tf32: return acc == DType::f32;
    case MmaFamily::i8: return acc == DType::i32;
    case MmaFamily::f64: return acc == DType::f64;
    case MmaFamily::unsupported: return false;
  }
  return false;
}

void check_mma_operands(const TileValue& c, const TileValue& a, const TileValue& b, const MmaOptions& options) {
  if (a.rank() != 2 || b.rank() != 2 || c.rank() != 2) {
    fail("mma: A, B and C must be rank-2 tiles, got A ", a.type_string(), ", B ", b.type_string(), ", C ",
         c.type_string());
  }
  if (a.dim(1) != b.dim(0)) {
    fail("mma: A is ", a.type_string(), " and B is ", b.type_string(), "; A's columns (K=", a.dim(1),
         ") must equal B's rows (", b.dim(0), ")");
  }
  if (c.dim(0) != a.dim(0) || c.dim(1) != b.dim(1)) {
    fail("mma: C is ", c.type_string(), " but A*B is ", a.dim(0), "x", b.dim(1), " (A ", a.type_string(),
         ", B ", b.type_string(), ")");
  }
  const MmaFamily fa = mma_family(a.dtype());
  const MmaFamily fb = mma_family(b.dtype());
  if (fa == MmaFamily::unsupported || fa != fb) {
    fail("mma: unsupported operand dtypes A ", dtype_name(a.dtype()), ", B ", dtype_name(b.dtype()),
         "; supported: f16, bf16, tf32, i8, f64 (A and B alike), or any mix of f8e4m3/f8e5m2/f4e2m1");
  }
  if (!accumulator_allowed(fa, c.dtype())) {
    fail("mma: accumulator dtype ", dtype_name(c.dtype()), " is not supported for ", dtype_name(a.dtype()),
         " inputs (f32 for floats, f16 also for f16/f8/f4, i32 for i8, f64 for f64)");
  }
  if (options.acc_mantissa_bits < 1 || options.acc_mantissa_bits > 23) {
    fail("mma: acc_mantissa_bits must be in 1..23, got ", options.acc_mantissa_bits);
  }
  if (options.acc_block_k < 1) fail("mma: acc_block_k must be >= 1, got ", options.acc_block_k);
}

/// |v| truncated to `mantissa_bits` explicit bits below its leading bit (binades below f32's normal
/// range use the quantum at 2^-126).
double truncate_mantissa(double v, int mantissa_bits) {
  if (v == 0.0 || !std::isfinite(v)) return v;
  const int quantum_exp = std::max(std::ilogb(v), -126) - mantissa_bits;
  return std::ldexp(std::trunc(std::ldexp(v, -quantum_exp)), quantum_exp);
}

/// (acc + block_sum) truncated to mantissa_bits, exactly: a double add may round up across a truncation
/// boundary, so the exact sum's position relative to the rounded one decides.
double narrowed_add(double acc, double block_sum, int mantissa_bits) {
  const double hi = acc + block_sum;
  if (!std::isfinite(hi)) return hi;
  const double b_virtual = hi - acc;
  const double lo = (acc - (hi - b_virtual)) + (block_sum - b_virtual);  // TwoSum error
  // The exact sum lies strictly between hi and its neighbour towards zero when lo points to zero; every
  // value in that open interval truncates like the neighbour (truncation points lie on the double grid).
  const bool exact_is_smaller = lo != 0.0 && (lo < 0) != (hi < 0);
  const double v = exact_is_smaller ? std::nextafter(hi, 0.0) : hi;
  return round_to(DType::f32, truncate_mantissa(v, mantissa_bits));
}

double mma_float_element(double acc, const double* a_row, const double* b_col, int64_t k_extent,
                         int64_t b_stride, DType acc_dtype, const MmaOptions& options) {
  const bool narrowed = acc_dtype == DType::f32 && options.acc_mantissa_bits < 23;
  if (!narrowed) {
    for (int64_t k = 0; k < k_extent; ++k) {
      const double product = a_row[k] * b_col[k * b_stride];  // exact: inputs have <= 11 significant bits
      acc = round_to(acc_dtype, add_round_to_odd(acc, product));
    }
    return acc;
  }
  for (int64_t k0 = 0; k0 < k_extent; k0 += options.acc_block_k) {
    const int64_t k1 = std::min<int64_t>(k_extent, k0 + options.acc_block_k);
    double block_sum = 0.0;
    for (int64_t k = k0; k < k1; ++k) block_sum += a_row[k] * b_col[k * b_stride];
    acc = narrowed_add(acc, block_sum, options.acc_mantissa_bits);
  }
  return acc;
}

/// f64 (DMMA): acc = fma(a, b, acc) for k ascending, each step one IEEE double fused multiply-add (PTX:
/// the precision of an .f64 mma's multiplications and additions is that of an f64 fma; .rn default).
double mma_f64_element(double acc, const double* a_row, const double* b_col, int64_t k_extent, int64_t b_stride) {
  for (int64_t k = 0; k < k_extent; ++k) acc = std::fma(a_row[k], b_col[k * b_stride], acc);
  return acc;
}

double mma_int_element(double acc, const double* a_row, const double* b_col, int64_t k_extent, int64_t b_stride,
                       bool satfinite) {
  auto sum = static_cast<int64_t>(acc);
  for (int64_t k = 0; k < k_extent; ++k) {
    sum += static_cast<int64_t>(a_row[k]) * static_cast<int64_t>(b_col[k * b_stride]);
  }
  if (satfinite) {
    return static_cast<double>(std::clamp<int64_t>(sum, std::numeric_limits<int32_t>::min(),
                                                   std::numeric_limits<int32_t>::max()));
  }
  return static_cast<double>(static_cast<int32_t>(static_cast<uint32_t>(sum)));  // wraps modulo 2^32
}

// ---- map helpers ----

bool unary_accepts_int(UnaryOp op) { return op == UnaryOp::neg || op == UnaryOp::abs || op == UnaryOp::relu; }

double apply_unary(UnaryOp op, double x) {
  constexpr double kSqrt2OverPi = 0.79788456080286535588;
  switch (op) {
    case UnaryOp::neg: return -x;
    case UnaryOp::abs: return std::fabs(x);
    case UnaryOp::exp: return std::exp(x);
    case UnaryOp::exp2: return std::exp2(x);
    case UnaryOp::log: return std::log(x);
    case UnaryOp::log2: return std::log2(x);
    case UnaryOp::sqrt: return std::sqrt(x);
    case UnaryOp::rsqrt: return 1.0 / std::sqrt(x);
    case UnaryOp::tanh: return std::tanh(x);
    case UnaryOp::sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case UnaryOp::silu: return x / (1.0 + std::exp(-x));
    case UnaryOp::gelu_tanh: return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x)));
    case UnaryOp::gelu_erf: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case UnaryOp::relu: return x > 0.0 ? x : 0.0;
    case UnaryOp::recip: return 1.0 / x;
  }
  return x;
}

double apply_binary(BinaryOp op, DType dtype, double a, double b) {
  switch (op) {
    case BinaryOp::add: return a + b;
    case BinaryOp::sub: return a - b;
    case BinaryOp::mul: return a * b;
    case BinaryOp::div:
      if (is_float(dtype)) return a / b;
      if (b == 0.0) fail("div: integer division by zero (", a, " / 0)");
      return static_cast<double>(static_cast<int64_t>(a) / static_cast<int64_t>(b));  // toward zero
    case BinaryOp::max: return std::fmax(a, b);
    case BinaryOp::min: return std::fmin(a, b);
    case BinaryOp::pow: return std::pow(a, b);
  }
  return a;
}

bool apply_compare(CompareOp op, double a, double b) {
  switch (op) {
    case CompareOp::lt: return a < b;
    case CompareOp::le: return a <= b;
    case CompareOp::gt: return a > b;
    case CompareOp::ge: return a >= b;
    case CompareOp::eq: return a == b;
    case CompareOp::ne: return a != b;
  }
  return false;
}

/// Applies fn(values...) over the broadcast of `inputs`, storing into a tile of `result` rounded with
/// `store_policy`.
template <class Fn>
TileValue map_broadcast(std::string_view op, DType result, const std::vector<const TileValue*>& inputs,
                        Overflow store_policy, Fn fn) {
  Shape out_shape = inputs[0]->shape();
  for (size_t j = 1; j < inputs.size(); ++j) out_shape = broadcast_shapes(out_shape, inputs[j]->shape(), op);
  std::vector<Shape> strides;
  for (const TileValue* t : inputs) strides.push_back(broadcast_strides(t->shape(), out_shape));
  TileValue out(result, out_shape);
  std::vector<double> operands(inputs.size());
  for_each_strided(out_shape, strides, [&](int64_t i, const std::vector<int64_t>& offsets) {
    for (size_t j = 0; j < inputs.size(); ++j) operands[j] = inputs[j]->values()[static_cast<size_t>(offsets[j])];
    out.set(i, fn(operands), store_policy);
  });
  return out;
}

template <class Enum, size_t N>
std::optional<Enum> parse_by_name(std::string_view name, const Enum (&all)[N], const char* (*to_name)(Enum)) {
  for (Enum e : all) {
    if (name == to_name(e)) return e;
  }
  return std::nullopt;
}

constexpr UnaryOp kUnaryOps[] = {UnaryOp::neg,     UnaryOp::abs,  UnaryOp::exp,       UnaryOp::exp2,
                                 UnaryOp::log,     UnaryOp::log2, UnaryOp::sqrt,      UnaryOp::rsqrt,
                                 UnaryOp::tanh,    UnaryOp::sigmoid, UnaryOp::silu,   UnaryOp::gelu_tanh,
                                 UnaryOp::gelu_erf, UnaryOp::relu, UnaryOp::recip};
constexpr BinaryOp kBinaryOps[] = {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div,
                                   BinaryOp::max, BinaryOp::min, BinaryOp::pow};
constexpr CompareOp kCompareOps[] = {CompareOp::lt, CompareOp::le, CompareOp::gt,
                                     CompareOp::ge, CompareOp::eq, CompareOp::ne};
constexpr ReduceOp kReduceOps[] = {ReduceOp::sum, ReduceOp::max, ReduceOp::min};

void check_index_tile(std::string_view op, const TileValue& x, const TileValue& indices, int axis) {
  if (!is_int(indices.dtype())) {
    fail(op, ": indices must be an i8 or i32 tile, got ", indices.type_string());
  }
  if (indices.rank() != x.rank()) {
    fail(op, ": indices ", indices.type_string(), " must have the rank of ", x.type_string());
  }
  check_axis(op, x, axis);
  for (int d = 0; d < x.rank(); ++d) {
    if (d != axis && indices.dim(d) != x.dim(d)) {
      fail(op, ": indices ", indices.type_string(), " and ", x.type_string(), " differ in dim ", d,
           " (only the axis ", axis, " may differ)");
    }
  }
}

/// The index value at position i of `indices`, checked against the axis extent.
int64_t checked_index(std::string_view op, const TileValue& x, const TileValue& indices, int64_t i, int axis) {
  const auto index = static_cast<int64_t>(indices.values()[static_cast<size_t>(i)]);
  if (index < 0 || index >= x.dim(axis)) {
    const Index where = indices.multi_index(i);
    std::string where_text;
    for (size_t d = 0; d < where.size(); ++d) where_text += (d ? ", " : "") + std::to_string(where[d]);
    fail(op, ": index ", index, " at indices[", where_text, "] is outside 0..", x.dim(axis) - 1, " along axis ",
         axis, " of ", x.type_string());
  }
  return index;
}

}  // namespace

// ---- dense compute ----

TileValue mma(const TileValue& c, const TileValue& a, const TileValue& b, const MmaOptions& options) {
  check_mma_operands(c, a, b, options);
  const int64_t m_extent = a.dim(0), k_extent = a.dim(1), n_extent = b.dim(1);
  TileValue out = c;
  const double* a_data = a.values().data();
  const double* b_data = b.values().data();
  for (int64_t i = 0; i < m_extent; ++i) {
    for (int64_t j = 0; j < n_extent; ++j) {
      const double acc = c.values()[static_cast<size_t>(i * n_extent + j)];
      const double* a_row = a_data + i * k_extent;
      const double* b_col = b_data + j;
      const double result =
          c.dtype() == DType::i32   ? mma_int_element(acc, a_row, b_col, k_extent, n_extent, options.int_satfinite)
          : c.dtype() == DType::f64 ? mma_f64_element(acc, a_row, b_col, k_extent, n_extent)
                                    : mma_float_element(acc, a_row, b_col, k_extent, n_extent, c.dtype(), options);
      out.set(i * n_extent + j, result);
    }
  }
  return out;
}

// ---- map ----

const char* unary_op_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::neg: return "neg";
    case UnaryOp::abs: return "abs";
    case UnaryOp::exp: return "exp";
    case UnaryOp::exp2: return "exp2";
    case UnaryOp::log: return "log";
    case UnaryOp::log2: return "log2";
    case UnaryOp::sqrt: return "sqrt";
    case UnaryOp::rsqrt: return "rsqrt";
    case UnaryOp::tanh: return "tanh";
    case UnaryOp::sigmoid: return "sigmoid";
    case UnaryOp::silu: return "silu";
    case UnaryOp::gelu_tanh: return "gelu_tanh";
    case UnaryOp::gelu_erf: return "gelu_erf";
    case UnaryOp::relu: return "relu";
    case UnaryOp::recip: return "recip";
  }
  return "?";
}

const char* binary_op_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return "add";
    case BinaryOp::sub: return "sub";
    case BinaryOp::mul: return "mul";
    case BinaryOp::div: return "div";
    case BinaryOp::max: return "max";
    case BinaryOp::min: return "min";
    case BinaryOp::pow: return "pow";
  }
  return "?";
}

const char* compare_op_name(CompareOp op) {
  switch (op) {
    case CompareOp::lt: return "lt";
    case CompareOp::le: return "le";
    case CompareOp::gt: return "gt";
    case CompareOp::ge: return "ge";
    case CompareOp::eq: return "eq";
    case CompareOp::ne: return "ne";
  }
  return "?";
}

const char* reduce_op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return "sum";
    case ReduceOp::max: return "max";
    case ReduceOp::min: return "min";
  }
  return "?";
}

std::optional<UnaryOp> parse_unary_op(std::string_view name) {
  return parse_by_name(name, kUnaryOps, unary_op_name);
}
std::optional<BinaryOp> parse_binary_op(std::string_view name) {
  return parse_by_name(name, kBinaryOps, binary_op_name);
}
std::optional<CompareOp> parse_compare_op(std::string_view name) {
  return parse_by_name(name, kCompareOps, compare_op_name);
}
std::optional<ReduceOp> parse_reduce_op(std::string_view name) {
  return parse_by_name(name, kReduceOps, reduce_op_name);
}

Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t d = 0; d < rank; ++d) {
    const int64_t da = d < rank - a.size() ? 1 : a[d - (rank - a.size())];
    const int64_t db = d < rank - b.size() ? 1 : b[d - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      fail(op, ": shapes ", shape_string(a), " and ", shape_string(b), " do not broadcast (dim ", d, ": ", da,
           " vs ", db, ")");
    }
    out[d] = da == 1 ? db : da;
  }
  return out;
}

TileValue unary(UnaryOp op, const TileValue& x) {
  if (is_bool(x.dtype())) fail(unary_op_name(op), ": i1 tiles are not arithmetic; cast to i32 first");
  if (!is_float(x.dtype()) && !unary_accepts_int(op)) {
    fail(unary_op_name(op), ": needs a float tile, got ", x.type_string(), "; cast it first");
  }
  TileValue out(x.dtype(), x.shape());
  for (int64_t i = 0; i < x.size(); ++i) out.set(i, apply_unary(op, x.values()[static_cast<size_t>(i)]));
  return out;
}

TileValue cast(const TileValue& x, DType to) { return cast(x, to, default_overflow(to)); }

TileValue cast(const TileValue& x, DType to, Overflow overflow) {
  TileValue out(to, x.shape());
  for (int64_t i = 0; i < x.size(); ++i) out.set(i, x.values()[static_cast<size_t>(i)], overflow);
  return out;
}

TileValue binary(BinaryOp op, const TileValue& a, const TileValue& b) {
  const char* name = binary_op_name(op);
  check_same_dtype(name, a, b);
  if (is_bool(a.dtype())) fail(name, ": i1 operands are not arithmetic; use select or cast");
  if (op == BinaryOp::pow && !is_float(a.dtype())) fail("pow: needs float tiles, got ", a.type_string());
  const DType dtype = a.dtype();
  return map_broadcast(name, dtype, {&a, &b}, default_overflow(dtype),
                       [&](const std::vector<double>& v) { return apply_binary(op, dtype, v[0], v[1]); });
}

TileValue compare(CompareOp op, const TileValue& a, const TileValue& b) {
  const char* name = compare_op_name(op);
  check_same_dtype(name, a, b);
  return map_broadcast(name, DType::i1, {&a, &b}, Overflow::ieee,
                       [&](const std::vector<double>& v) { return apply_compare(op, v[0], v[1]) ? 1.0 : 0.0; });
}

TileValue fma(const TileValue& a, const TileValue& b, const TileValue& c) {
  check_same_dtype("fma", a, b);
  check_same_dtype("fma", a, c);
  if (is_bool(a.dtype())) fail("fma: i1 operands are not arithmetic");
  const DType dtype = a.dtype();
  if (dtype == DType::f64) {
    // f64 products are not exact in a double: std::fma rounds once (as DFMA), a*b+c would round twice.
    return map_broadcast("fma", dtype, {&a, &b, &c}, default_overflow(dtype),
                         [](const std::vector<double>& v) { return std::fma(v[0], v[1], v[2]); });
  }
  // The product of two f32 (or narrower) values is exact in a double; round-to-odd on the add keeps one
  // rounding when the result is rounded to the dtype.
  return map_broadcast("fma", dtype, {&a, &b, &c}, default_overflow(dtype),
                       [](const std::vector<double>& v) { return add_round_to_odd(v[0] * v[1], v[2]); });
}

TileValue select(const TileValue& cond, const TileValue& a, const TileValue& b) {
  if (!is_bool(cond.dtype())) fail("select: the condition must be an i1 tile, got ", cond.type_string());
  check_same_dtype("select", a, b);
  return map_broadcast("select", a.dtype(), {&cond, &a, &b}, Overflow::ieee,  // data movement
                       [](const std::vector<double>& v) { return v[0] != 0.0 ? v[1] : v[2]; });
}

// ---- reduce ----

TileValue reduce(ReduceOp op, const TileValue& x, int axis, bool keepdims) {
  const char* name = reduce_op_name(op);
  check_axis(name, x, axis);
  if (x.dim(axis) == 0) fail(name, ": cannot reduce the empty axis ", axis, " of ", x.type_string());
  if (is_bool(x.dtype()) && op == ReduceOp::sum) fail("sum: cannot sum an i1 tile; cast it to i32 first");

  Shape out_shape = x.shape();
  if (keepdims) {
    out_shape[static_cast<size_t>(axis)] = 1;
  } else {
    out_shape.erase(out_shape.begin() + axis);
  }
  const int64_t outer = extent_product(x.shape(), 0, axis);
  const int64_t length = x.dim(axis);
  const int64_t inner = extent_product(x.shape(), axis + 1, x.rank());
  const bool float_sum = op == ReduceOp::sum && is_float(x.dtype());
  // Float sums accumulate in f32, or in f64 for f64 tiles (rounding to f64 is the identity).
  const DType sum_dtype = x.dtype() == DType::f64 ? DType::f64 : DType::f32;

  TileValue out(x.dtype(), out_shape);
  const std::vector<double>& in = x.values();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t r = 0; r < inner; ++r) {
      auto element = [&](int64_t k) { return in[static_cast<size_t>((o * length + k) * inner + r)]; };
      double acc = float_sum ? round_to(sum_dtype, element(0)) : element(0);
      for (int64_t k = 1; k < length; ++k) {
        switch (op) {
          case ReduceOp::sum:
            // f32 operands: the double sum rounded to f32 is the correctly rounded f32 sum (and a double
            // sum is the correctly rounded f64 sum).
            acc = float_sum ? round_to(sum_dtype, acc + element(k)) : acc + element(k);
            break;
          case ReduceOp::max: acc = std::fmax(acc, element(k)); break;
          case ReduceOp::min: acc = std::fmin(acc, element(k)); break;
        }
      }
      // max/min pick an element: store it unchanged; a sum is converted like any arithmetic result.
      out.set(o * inner + r, acc, op == ReduceOp::sum ? default_overflow(x.dtype()) : Overflow::ieee);
    }
  }
  return out;
}

// ---- transform ----

TileValue transpose(const TileValue& x) {
  if (x.rank() != 2) fail("transpose: needs a rank-2 tile (or a permutation), got ", x.type_string());
  return transpose(x, {1, 0});
}

TileValue transpose(const TileValue& x, const std::vector<int>& perm) {
  if (static_cast<int>(perm.size()) != x.rank()) {
    fail("transpose: permutation of length ", perm.size(), " for ", x.type_string());
  }
  std::vector<bool> seen(perm.size(), false);
  for (int p : perm) {
    if (p < 0 || p >= x.rank() || seen[static_cast<size_t>(p)]) {
      fail("transpose: the permutation is not a permutation of 0..", x.rank() - 1);
    }
    seen[static_cast<size_t>(p)] = true;
  }
  const Shape in_strides = row_major_strides(x.shape());
  Shape out_shape(perm.size()), strides(perm.size());
  for (size_t d = 0; d < perm.size(); ++d) {
    out_shape[d] = x.shape()[static_cast<size_t>(perm[d])];
    strides[d] = in_strides[static_cast<size_t>(perm[d])];
  }
  TileValue out(x.dtype(), out_shape);
  for_each_strided(out_shape, {strides}, [&](int64_t i, const std::vector<int64_t>& offsets) {
    store_exact(out, i, x.values()[static_cast<size_t>(offsets[0])]);
  });
  return out;
}

TileValue broadcast_to(const TileValue& x, const Shape& shape) {
  element_count(shape);  // validates rank and dims
  if (shape.size() < x.shape().size() || broadcast_shapes(x.shape(), shape, "broadcast_to") != shape) {
    fail("broadcast_to: ", x.type_string(), " cannot be broadcast to ", shape_string(shape));
  }
  TileValue out(x.dtype(), shape);
  for_each_strided(shape, {broadcast_strides(x.shape(), shape)}, [&](int64_t i, const std::vector<int64_t>& offsets) {
    store_exact(out, i, x.values()[static_cast<size_t>(offsets[0])]);
  });
  return out;
}

TileValue reshape(const TileValue& x, const Shape& shape) {
  if (element_count(shape) != x.size()) {
    fail("reshape: ", x.type_string(), " has ", x.size(), " elements but shape ", shape_string(shape), " has ",
         element_count(shape));
  }
  return TileValue(x.dtype(), shape, x.values(), Overflow::ieee);
}

TileValue slice(const TileValue& x, const std::vector<int64_t>& starts, const std::vector<int64_t>& sizes) {
  if (static_cast<int>(starts.size()) != x.rank() || static_cast<int>(sizes.size()) != x.rank()) {
    fail("slice: needs ", x.rank(), " starts and sizes for ", x.type_string(), ", got ", starts.size(), " and ",
         sizes.size());
  }
  const Shape in_strides = row_major_strides(x.shape());
  int64_t base = 0;
  for (int d = 0; d < x.rank(); ++d) {
    const auto ud = static_cast<size_t>(d);
    if (starts[ud] < 0 || sizes[ud] < 0 || starts[ud] + sizes[ud] > x.dim(d)) {
      fail("slice: [", starts[ud], ", ", starts[ud] + sizes[ud], ") is outside dim ", d, " (extent ", x.dim(d),
           ") of ", x.type_string());
    }
    base += starts[ud] * in_strides[ud];
  }
  TileValue out(x.dtype(), Shape(sizes));
  for_each_strided(out.shape(), {in_strides}, [&](int64_t i, const std::vector<int64_t>& offsets) {
    store_exact(out, i, x.values()[static_cast<size_t>(base + offsets[0])]);
  });
  return out;
}

TileValue concat(const std::vector<TileValue>& parts, int axis) {
  if (parts.empty()) fail("concat: needs at least one tile");
  const TileValue& first = parts.front();
  check_axis("concat", first, axis);
  Shape out_shape = first.shape();
  out_shape[static_cast<size_t>(axis)] = 0;
  for (const TileValue& part : parts) {
    check_same_dtype("concat", first, part);
    bool compatible = part.rank() == first.rank();
    for (int d = 0; compatible && d < first.rank(); ++d) compatible = d == axis || part.dim(d) == first.dim(d);
    if (!compatible) {
      fail("concat: ", part.type_string(), " does not match ", first.type_string(), " outside axis ", axis);
    }
    out_shape[static_cast<size_t>(axis)] += part.dim(axis);
  }
  const int64_t outer = extent_product(first.shape(), 0, axis);
  const int64_t inner = extent_product(first.shape(), axis + 1, first.rank());
  std::vector<double> values;
  values.reserve(static_cast<size_t>(element_count(out_shape)));
  for (int64_t o = 0; o < outer; ++o) {
    for (const TileValue& part : parts) {
      const int64_t chunk = part.dim(axis) * inner;
      const auto begin = part.values().begin() + o * chunk;
      values.insert(values.end(), begin, begin + chunk);
    }
  }
  return TileValue(first.dtype(), out_shape, values, Overflow::ieee);
}

TileValue gather(const TileValue& x, const TileValue& indices, int axis) {
  check_index_tile("gather", x, indices, axis);
  const int64_t inner = extent_product(x.shape(), axis + 1, x.rank());
  const int64_t x_length = x.dim(axis);
  const int64_t out_length = indices.dim(axis);
  TileValue out(x.dtype(), indices.shape());
  for (int64_t i = 0; i < out.size(); ++i) {
    const int64_t index = checked_index("gather", x, indices, i, axis);
    const int64_t outer_pos = i / (out_length * inner);
    const int64_t inner_pos = i % inner;
    store_exact(out, i, x.values()[static_cast<size_t>((outer_pos * x_length + index) * inner + inner_pos)]);
  }
  return out;
}

TileValue scatter(const TileValue& x, const TileValue& indices, const TileValue& updates, int axis) {
  check_index_tile("scatter", x, indices, axis);
  check_same_dtype("scatter", x, updates);
  if (updates.shape() != indices.shape()) {
    fail("scatter: updates ", updates.type_string(), " must have the shape of indices ", indices.type_string());
  }
  const int64_t inner = extent_product(x.shape(), axis + 1, x.rank());
  const int64_t x_length = x.dim(axis);
  const int64_t update_length = indices.dim(axis);
  TileValue out = x;
  for (int64_t i = 0; i < indices.size(); ++i) {
    const int64_t index = checked_index("scatter", x, indices, i, axis);
    const int64_t outer_pos = i / (update_length * inner);
    const int64_t inner_pos = i % inner;
    store_exact(out, (outer_pos * x_length + index) * inner + inner_pos, updates.values()[static_cast<size_t>(i)]);
  }
  return out;
}

TileValue iota(DType dtype, const Shape& shape, int axis) {
  TileValue out(dtype, shape);
  check_axis("iota", out, axis);
  const int64_t inner = extent_product(shape, axis + 1, out.rank());
  const int64_t length = out.dim(axis);
  for (int64_t i = 0; i < out.size(); ++i) {
    const auto position = static_cast<double>((i / inner) % length);
    if (round_to(dtype, position) != position) {
      fail("iota: ", position, " (extent ", length, " along axis ", axis, ") is not representable in ",
           dtype_name(dtype));
    }
    out.set(i, position);
  }
  return out;
}

TileValue full(DType dtype, const Shape& shape, double value) {
  TileValue out(dtype, shape);
  out.fill(value);
  return out;
}

}  // namespace tilesim::isa

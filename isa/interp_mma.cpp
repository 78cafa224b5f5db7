// The interpreter's mma variants that tile_kernels does not provide: f32 operands and block-scaled mma.
#include <algorithm>
#include <cmath>
#include <vector>

#include "isa/interp_internal.hpp"
#include "sim/error.hpp"

namespace tilesim::isa::interp {

namespace {

[[noreturn]] void semantic_fail(const std::string& message) { throw SemanticError(message); }

/// v truncated (toward zero) to `mantissa_bits` bits below its leading bit; binades below f32's normal
/// range keep the quantum of 2^-126 (so the result is an f32 subnormal grid point).
double truncate_to_bits(double v, int mantissa_bits) {
  if (v == 0.0 || !std::isfinite(v)) return v;
  const int quantum_exp = std::max(std::ilogb(v), -126) - mantissa_bits;
  return std::ldexp(std::trunc(std::ldexp(v, -quantum_exp)), quantum_exp);
}

/// acc + block_sum truncated to mantissa_bits as if computed exactly: the double sum may have rounded
/// away from zero across a truncation point, in which case its predecessor towards zero truncates like
/// the exact sum.
double narrowed_accumulate(double acc, double block_sum, int mantissa_bits) {
  const double sum = acc + block_sum;
  if (!std::isfinite(sum)) return sum;
  const double b_part = sum - acc;
  const double error = (acc - (sum - b_part)) + (block_sum - b_part);  // exact = sum + error
  const bool exact_nearer_zero = error != 0.0 && ((error < 0) != (sum < 0));
  const double below = exact_nearer_zero ? std::nextafter(sum, 0.0) : sum;
  return round_to(DType::f32, truncate_to_bits(below, mantissa_bits));
}

/// One C element: acc, then products(k) for k = 0..k_extent-1, accumulated per `options`.
template <class Product>
double accumulate_f32(double acc, int64_t k_extent, const MmaOptions& options, Product product) {
  if (options.acc_mantissa_bits >= 23) {
    for (int64_t k = 0; k < k_extent; ++k) acc = round_to(DType::f32, add_round_to_odd(acc, product(k)));
    return acc;
  }
  for (int64_t k0 = 0; k0 < k_extent; k0 += options.acc_block_k) {
    const int64_t k1 = std::min<int64_t>(k_extent, k0 + options.acc_block_k);
    double block_sum = 0.0;
    for (int64_t k = k0; k < k1; ++k) block_sum += product(k);
    acc = narrowed_accumulate(acc, block_sum, options.acc_mantissa_bits);
  }
  return acc;
}

void check_options(const char* op, const MmaOptions& options) {
  if (options.acc_mantissa_bits < 1 || options.acc_mantissa_bits > 23)
    semantic_fail(cat(op, ": acc_mantissa_bits must be in 1..23, got ", options.acc_mantissa_bits));
  if (options.acc_block_k < 1) semantic_fail(cat(op, ": acc_block_k must be >= 1, got ", options.acc_block_k));
}

void check_chain(const char* op, const TileValue& c, const TileValue& a, const TileValue& b) {
  if (a.rank() != 2 || b.rank() != 2 || c.rank() != 2)
    semantic_fail(cat(op, ": A, B and C must be rank-2 tiles, got A ", a.type_string(), ", B ", b.type_string(),
                      ", C ", c.type_string()));
  if (a.dim(1) != b.dim(0) || c.dim(0) != a.dim(0) || c.dim(1) != b.dim(1))
    semantic_fail(cat(op, ": shapes do not chain: A ", a.type_string(), ", B ", b.type_string(), ", C ",
                      c.type_string()));
  if (c.dtype() != DType::f32)
    semantic_fail(cat(op, ": the accumulator must be f32, got ", c.type_string()));
}

}  // namespace

TileValue mma_f32_operands(const TileValue& c, const TileValue& a, const TileValue& b, const MmaOptions& options) {
  check_chain("mma", c, a, b);
  check_options("mma", options);
  if (a.dtype() != DType::f32 || b.dtype() != DType::f32)
    semantic_fail(cat("mma: f32 path needs f32 operands, got ", a.type_string(), " and ", b.type_string()));
  const int64_t m_extent = a.dim(0), k_extent = a.dim(1), n_extent = b.dim(1);
  const double* a_data = a.values().data();
  const double* b_data = b.values().data();
  std::vector<double> out(c.values());
  for (int64_t i = 0; i < m_extent; ++i) {
    const double* a_row = a_data + i * k_extent;
    for (int64_t j = 0; j < n_extent; ++j) {
      double& acc = out[static_cast<size_t>(i * n_extent + j)];
      acc = accumulate_f32(acc, k_extent, options, [&](int64_t k) { return a_row[k] * b_data[k * n_extent + j]; });
    }
  }
  return TileValue(DType::f32, c.shape(), out);
}

TileValue mma_block_scaled(const TileValue& c, const TileValue& a, const TileValue& sa, const TileValue& b,
                           const TileValue& sb, int64_t block, const MmaOptions& options) {
  check_chain("mma_scaled", c, a, b);
  check_options("mma_scaled", options);
  if (block < 1) semantic_fail(cat("mma_scaled: block must be positive, got ", block));
  const int64_t m_extent = a.dim(0), k_extent = a.dim(1), n_extent = b.dim(1);
  const int64_t k_blocks = (k_extent + block - 1) / block;
  if (sa.rank() != 2 || sa.dim(0) != m_extent || sa.dim(1) != k_blocks)
    semantic_fail(cat("mma_scaled: the scale of A must be ", m_extent, "x", k_blocks, ", got ", sa.type_string()));
  if (sb.rank() != 2 || sb.dim(0) != k_blocks || sb.dim(1) != n_extent)
    semantic_fail(cat("mma_scaled: the scale of B must be ", k_blocks, "x", n_extent, ", got ", sb.type_string()));
  // Scaled operands: an f8/f4 significand (<= 4 bits) times an e4m3 scale (4 bits) is exact in double,
  // and so is the product of two of them (<= 16 bits).
  std::vector<double> a_scaled(static_cast<size_t>(a.size()));
  for (int64_t i = 0; i < m_extent; ++i)
    for (int64_t k = 0; k < k_extent; ++k)
      a_scaled[static_cast<size_t>(i * k_extent + k)] =
          a.values()[static_cast<size_t>(i * k_extent + k)] * sa.values()[static_cast<size_t>(i * k_blocks + k / block)];
  std::vector<double> b_scaled(static_cast<size_t>(b.size()));
  for (int64_t k = 0; k < k_extent; ++k)
    for (int64_t j = 0; j < n_extent; ++j)
      b_scaled[static_cast<size_t>(k * n_extent + j)] =
          b.values()[static_cast<size_t>(k * n_extent + j)] * sb.values()[static_cast<size_t>((k / block) * n_extent + j)];
  std::vector<double> out(c.values());
  for (int64_t i = 0; i < m_extent; ++i) {
    const double* a_row = a_scaled.data() + i * k_extent;
    for (int64_t j = 0; j < n_extent; ++j) {
      double& acc = out[static_cast<size_t>(i * n_extent + j)];
      acc = accumulate_f32(acc, k_extent, options,
                           [&](int64_t k) { return a_row[k] * b_scaled[static_cast<size_t>(k * n_extent + j)]; });
    }
  }
  return TileValue(DType::f32, c.shape(), out);
}

}  // namespace tilesim::isa::interp

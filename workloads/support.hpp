// Helpers shared by the workload implementations (not part of the public API): seeded random data,
// comparisons, common parameters, and the factories of the registered workloads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "workloads/template.hpp"
#include "workloads/workload.hpp"

namespace tilesim::workloads {

// ---- random data ---------------------------------------------------------------------------------

/// SplitMix64: small, fast, and the same sequence on every platform (std distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next();
  /// Uniform in [lo, hi).
  double uniform(double lo, double hi);
  /// Uniform integer in [lo, hi].
  int64_t integer(int64_t lo, int64_t hi);

 private:
  uint64_t state_;
};

/// A tensor of `dtype` with elements uniform in [lo, hi) rounded to the dtype (integers: uniform in
/// [ceil(lo), floor(hi)]).
isa::TileValue random_tensor(isa::DType dtype, const isa::Shape& shape, Rng& rng, double lo, double hi);

// ---- comparisons -----------------------------------------------------------------------------------

/// Element-wise bitwise equality of `got` with `want` (same dtype and shape).
Comparison::Output compare_exact(const std::string& name, const isa::TileValue& got, const isa::TileValue& want);

struct Tolerance {
  double atol = 0;
  double rtol = 0;
  std::string why;  // the justification, shown in the report
};

/// |got - ref| <= atol + rtol * |ref| per element (NaN matches only NaN, infinities must be equal).
Comparison::Output compare_close(const std::string& name, const isa::TileValue& got, const std::vector<double>& ref,
                                 const Tolerance& tolerance);

/// At most `max_ulps` units in the last place of got's dtype between got and want (same dtype/shape).
Comparison::Output compare_ulps(const std::string& name, const isa::TileValue& got, const isa::TileValue& want,
                                int64_t max_ulps, const std::string& why);

/// Distance in units in the last place of `dtype` between two values of it (0 when bitwise equal; for
/// floats the number of representable values between them; a NaN against a number counts as huge).
int64_t ulp_distance(isa::DType dtype, double a, double b);

/// "A[3, 17]" for element `i` of `t`.
std::string element_name(const std::string& tensor, const isa::TileValue& t, int64_t i);

// ---- reference numerics ------------------------------------------------------------------------------

/// One mma output element under the accumulator model of isa::MmaOptions (the reference side, written
/// from the documented model): start from `acc`, take product(k) for k in [k0, k1) ascending. f32: each
/// sum rounded to f32 (or, with acc_mantissa_bits < 23, exact sums of acc_block_k products added and
/// truncated; blocks start at k0); f16: each sum rounded to f16; i32: exact, wrapped to 32 bits.
double reference_accumulate(isa::DType acc_dtype, const isa::MmaOptions& options, double acc,
                            const std::function<double(int64_t)>& product, int64_t k0, int64_t k1);

// ---- parameters and builds -------------------------------------------------------------------------

ParamSpec seed_param();
/// acc_mantissa_bits and acc_block_k: the mma accumulator model (isa::MmaOptions).
std::vector<ParamSpec> mma_model_params();
isa::MmaOptions mma_options(const ParamSet& p);
/// A label the functional model does not use (kept for timing models and validation rows).
ParamSpec label_param(const std::string& name, const std::string& value, const std::string& description,
                      std::vector<std::string> choices = {});

/// The largest value of an i32 scalar parameter (problem sizes are i32 in the templates).
constexpr int64_t kMaxI32 = 2147483647;

/// Throws ConfigError("<workload>: <message>").
[[noreturn]] void config_fail(const ParamSet& p, const std::string& message);
/// integer(name) checked to be in [lo, hi].
int64_t int_in(const ParamSet& p, const std::string& name, int64_t lo, int64_t hi);
/// Unit roundoff of a float dtype (2^-significand bits): bf16 2^-8, f16 2^-11, f32 2^-24.
double unit_roundoff(isa::DType dtype);

/// Whether mma accumulates `in` operands in `acc` (f16/f8/f4 -> f32|f16, bf16/tf32 -> f32, i8 -> i32).
bool mma_dtypes_supported(isa::DType in, isa::DType acc);
/// ConfigError unless mma_dtypes_supported(p.dtype(in_param), p.dtype(acc_param)).
void check_mma_dtypes(const ParamSet& p, const std::string& in_param, const std::string& acc_param);

/// Starts a build: workload name, params and the instantiated module (args.kernel is the kernel run).
WorkloadBuild start_build(const ParamSet& p, const isa::Module& tmpl, const TemplateArgs& args);

// ---- the registered workloads ----------------------------------------------------------------------

std::vector<std::unique_ptr<Workload>> make_gemm_workloads();       // gemm, gemm_splitk, gemm_ws, gemm_epilogue
std::vector<std::unique_ptr<Workload>> make_attention_workloads();  // attention_fwd
std::vector<std::unique_ptr<Workload>> make_norm_workloads();       // softmax, layernorm, rmsnorm
std::vector<std::unique_ptr<Workload>> make_basic_workloads();      // elementwise, reduction, transpose
std::vector<std::unique_ptr<Workload>> make_microbench_workloads(); // pchase, stream, bulk_copy, mma, alu, launch

}  // namespace tilesim::workloads

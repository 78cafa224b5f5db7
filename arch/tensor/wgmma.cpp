// Hopper warp-group MMA. One wgmma.mma_async m64nNkK is issued by the 4 warps of a warp group and runs on
// the SM's four tensor cores together. Its cost follows from two rates:
//   compute  = 2*64*N*K / rate                       (the dense per-SM rate of the operand dtype)
//   operands = (A bytes if A is in scratch + B bytes) / wgmma_smem_bytes_per_cycle
// Operand streaming overlaps the math, so one instruction occupies the tensor pipe for
// max(compute, operands) cycles and completes after max(compute, operands, wgmma_min_latency).
// With 128 B/clk and 4096 FLOP/clk (f16) this gives SS latencies 18/20/24/32/64/128 cycles and RS
// 13/13/16/32/64/128 for N = 8..256 — the shape of Luo et al. 2024's measured wgmma latencies.
// A group that is not whole warp groups, and any f64 mma (PTX has no f64 wgmma), runs warp-level mma.sync
// instead (mma_sync.hpp).
#include <algorithm>
#include <cmath>

#include "arch/tensor/mma_sync.hpp"
#include "arch/tensor/tensor_unit.hpp"
#include "sim/error.hpp"

namespace tilesim::tensor {

namespace {

class WgmmaUnit final : public TensorUnit {
 public:
  explicit WgmmaUnit(const TensorUnitContext& ctx) : params_(ctx.params), sub_partitions_(ctx.sub_partitions) {}

  double rate_per_sm(isa::DType in) const override { return section_rate(params_, in); }

  MmaPlan plan(const MmaRequest& r) const override {
    const isa::DType in = isa::bits(r.a) >= isa::bits(r.b) ? r.a : r.b;
    // PTX has no f64 wgmma (wgmma.mma_async takes f16, bf16, tf32, e4m3/e5m2, s8/u8, b1): Hopper runs FP64
    // tensor work as warp-level DMMA (mma.sync .f64 m8n8k4, m16n8k4/k8/k16), as a compiler lowers it.
    if (r.warps % 4 != 0 || in == isa::DType::f64) return plan_mma_sync(r, params_, sub_partitions_);
    const double rate = required_rate(params_, in);
    const std::int64_t groups = r.warps / 4;
    const std::int64_t rows_per_group = cdiv(r.m, groups);
    const std::int64_t n_chunks = cdiv(r.n, 256);
    const std::int64_t n_inst = std::min<std::int64_t>(256, (cdiv(r.n, n_chunks) + 7) / 8 * 8);
    MmaPlan plan;
    plan.scope = MmaScope::warpgroup;
    plan.inst_m = 64;
    plan.inst_n = static_cast<int>(n_inst);
    plan.inst_k = instruction_k(in);
    plan.instruction = cat("wgmma.m64n", plan.inst_n, "k", plan.inst_k, ".", isa::dtype_name(in),
                           r.a_in_registers ? ".RS" : ".SS");
    plan.instructions_per_warp =
        static_cast<std::uint64_t>(cdiv(rows_per_group, 64) * n_chunks * cdiv(r.k, plan.inst_k));
    plan.flops_per_instruction = 2.0 * 64 * plan.inst_n * plan.inst_k;
    const double compute = plan.flops_per_instruction / rate;
    double operand_bytes = static_cast<double>(plan.inst_k) * plan.inst_n * element_bytes(r.b);
    if (!r.a_in_registers) operand_bytes += 64.0 * plan.inst_k * element_bytes(r.a);
    const double operands = operand_bytes / params_.real("wgmma_smem_bytes_per_cycle");
    plan.interval = std::max(compute, operands);
    plan.latency = std::max(plan.interval, params_.real("wgmma_min_latency"));
    return plan;
  }

 private:
  ParamValues params_;
  std::uint32_t sub_partitions_;
};

const RegisterTensorUnit<WgmmaUnit> kRegistration(
    "wgmma", "Hopper warp-group MMA: async, A from scratch or registers, B from scratch, register accumulators");

}  // namespace
}  // namespace tilesim::tensor

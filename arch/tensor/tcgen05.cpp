// Blackwell tcgen05.mma (cta_group::1). One thread issues an MMA of up to M = 128 rows and N = 256 columns
// for the whole CTA; it runs on the SM's tensor cores with its accumulator in tensor memory (TMEM).
//   compute  = 2*M*N*K / rate                          (the dense per-SM rate of the operand dtype)
//   operands = (A bytes if A is in shared memory + B bytes) / tcgen05_smem_bytes_per_cycle
// Operand streaming overlaps the math: one instruction occupies the pipe for max(compute, operands) cycles
// (the interval), and a lone MMA's result is visible (commit, mbarrier) tcgen05_latency + compute cycles
// after issue. An MMA that accumulates into the previous one's TMEM accumulator follows it at the interval
// (the accumulation stays in the pipe), so back-to-back MMAs run at the rate: single-MMA latencies 152 /
// 200 / 264 cycles for m64n64k16 / m128n128k16 / m128n256k16 bf16 with 136 and 8192 FLOP/clk, and the MMAs
// in flight needed to saturate, latency / interval rounded up, 5 / 4 / 3 (SemiAnalysis microbench-blackwell,
// B200). A from TMEM (TS) does not stream through shared memory.
#include <algorithm>
#include <cmath>

#include "arch/tensor/mma_sync.hpp"
#include "arch/tensor/tensor_unit.hpp"
#include "sim/error.hpp"

namespace tilesim::tensor {

namespace {

class Tcgen05Unit final : public TensorUnit {
 public:
  explicit Tcgen05Unit(const TensorUnitContext& ctx) : params_(ctx.params), sub_partitions_(ctx.sub_partitions) {}

  double rate_per_sm(isa::DType in) const override { return section_rate(params_, in); }

  MmaPlan plan(const MmaRequest& r) const override {
    const isa::DType in = isa::bits(r.a) >= isa::bits(r.b) ? r.a : r.b;
    // tcgen05.mma has no f64 kind: FP64 tensor work is warp-level DMMA (mma.sync .f64), as on Hopper.
    if (in == isa::DType::f64) return plan_mma_sync(r, params_, sub_partitions_);
    const double rate = required_rate(params_, in);
    if (r.b_in_registers)
      throw ConfigError("core.tensor.kind tcgen05: B must be in shared memory (tcgen05.mma reads B from SMEM only)");
    // One MMA covers up to 128 rows (M = 64 or 128 for cta_group::1) and 256 columns in steps of 16 (8 for
    // M = 64); larger tiles take several.
    const std::int64_t inst_m = r.m <= 64 ? 64 : 128;
    const std::int64_t n_chunks = cdiv(r.n, 256);
    const std::int64_t step = inst_m == 64 ? 8 : 16;
    const std::int64_t inst_n = std::min<std::int64_t>(256, (cdiv(r.n, n_chunks) + step - 1) / step * step);
    MmaPlan plan;
    plan.scope = MmaScope::warpgroup;
    plan.accumulate_in_pipe = true;
    plan.inst_m = static_cast<int>(inst_m);
    plan.inst_n = static_cast<int>(inst_n);
    plan.inst_k = instruction_k(in);
    plan.instruction = cat("tcgen05.mma.m", inst_m, "n", inst_n, "k", plan.inst_k, ".", isa::dtype_name(in),
                           r.a_in_registers ? ".TS" : ".SS");
    // Issued once per CTA; the warps of the issuing group see it as one instruction sequence each.
    plan.instructions_per_warp =
        static_cast<std::uint64_t>(cdiv(r.m, inst_m) * n_chunks * cdiv(r.k, plan.inst_k));
    plan.flops_per_instruction = 2.0 * static_cast<double>(inst_m * inst_n * plan.inst_k);
    const double compute = plan.flops_per_instruction / rate;
    double operand_bytes = static_cast<double>(plan.inst_k * inst_n) * element_bytes(r.b);
    if (!r.a_in_registers) operand_bytes += static_cast<double>(inst_m * plan.inst_k) * element_bytes(r.a);
    const double operands = operand_bytes / params_.real("tcgen05_smem_bytes_per_cycle");
    plan.interval = std::max(compute, operands);
    // The operand fetch of a lone MMA hides in the fixed part: m64n64k16 SS streams 4 KiB (32 cycles) but
    // completes in 136 + 16 = 152; its interval, 32, is what the 5 MMAs in flight it needs to saturate say.
    plan.latency = params_.real("tcgen05_latency") + compute;
    return plan;
  }

 private:
  ParamValues params_;
  std::uint32_t sub_partitions_;
};

const RegisterTensorUnit<Tcgen05Unit> kRegistration(
    "tcgen05", "Blackwell tcgen05.mma (cta_group::1): single-thread issue, A from SMEM or TMEM, B from SMEM, "
               "accumulators in tensor memory");

}  // namespace
}  // namespace tilesim::tensor

#include "arch/tensor/mma_sync.hpp"

#include <algorithm>
#include <cmath>

#include "sim/error.hpp"

namespace tilesim::tensor {

namespace {
const RegisterTensorUnit<MmaSyncUnit> kRegistration(
    "mma_sync", "warp-level mma.sync on each sub-partition's tensor core; scratch operands via ldmatrix");

}  // namespace

WarpGrid split_warps(std::int64_t m, std::int64_t n, std::uint32_t warps, int inst_m, int inst_n) {
  WarpGrid best;
  std::int64_t best_insts = -1;
  double best_aspect = 0;
  for (std::uint32_t wm = 1; wm <= warps; ++wm) {
    if (warps % wm) continue;
    const std::uint32_t wn = warps / wm;
    const std::int64_t tm = cdiv(m, wm), tn = cdiv(n, wn);
    const std::int64_t insts = cdiv(tm, inst_m) * cdiv(tn, inst_n);
    const double aspect = std::fabs(std::log(static_cast<double>(tm) / static_cast<double>(tn)));
    if (best_insts < 0 || insts < best_insts || (insts == best_insts && aspect < best_aspect)) {
      best = {wm, wn};
      best_insts = insts;
      best_aspect = aspect;
    }
  }
  return best;
}

MmaPlan plan_mma_sync(const MmaRequest& r, const ParamValues& p, std::uint32_t sub_partitions) {
  const isa::DType in = isa::bits(r.a) >= isa::bits(r.b) ? r.a : r.b;
  const double rate_sm = required_rate(p, in);
  // f64 (DMMA) is mma.sync-only (wgmma has no f64 variant), so the legacy-path fraction does not apply to
  // it: its rate_f64 is the rate of mma.sync itself.
  const bool f64 = in == isa::DType::f64;
  // GeForce tensor cores run f32 accumulation at half the f16-accumulate rate; integer (i32) and f64
  // accumulators are not affected.
  const bool float_acc_f32 = r.acc == isa::DType::f32 && !f64 && !isa::is_int(in);
  const double rate_sp = rate_sm / sub_partitions * (f64 ? 1.0 : p.real("sync_rate_fraction")) *
                         (float_acc_f32 ? p.real("acc_f32_rate_fraction") : 1.0);
  if (rate_sp <= 0)
    throw ConfigError(float_acc_f32 ? "core.tensor.sync_rate_fraction and acc_f32_rate_fraction: both must be positive "
                                      "to run warp-level MMA with an f32 accumulator"
                                    : "core.tensor.sync_rate_fraction: must be positive to run warp-level MMA");
  MmaPlan plan;
  plan.scope = MmaScope::warp;
  // f64 (DMMA) has its own instruction shapes: m8n8k4 (sm_80), m16n8k4/k8/k16 (sm_90) in PTX, vs m16n8kK
  // for the other dtypes; K follows instruction_k's 32-byte rule for f64 and, scaled by sync_k_bits / 256, for
  // the others (sm_75's m16n8k8 f16 and m8n8k16 i8 are 16 bytes deep).
  plan.inst_m = static_cast<int>(p.integer(f64 ? "sync_f64_m" : "sync_m"));
  plan.inst_n = static_cast<int>(p.integer(f64 ? "sync_f64_n" : "sync_n"));
  plan.inst_k = f64 ? instruction_k(in)
                    : std::max(1, instruction_k(in) * static_cast<int>(p.integer("sync_k_bits")) / 256);
  plan.instruction = cat("mma.sync.m", plan.inst_m, "n", plan.inst_n, "k", plan.inst_k, ".", isa::dtype_name(in));
  const WarpGrid g = split_warps(r.m, r.n, std::max<std::uint32_t>(1, r.warps), plan.inst_m, plan.inst_n);
  const std::int64_t tm = cdiv(r.m, g.wm), tn = cdiv(r.n, g.wn);
  plan.instructions_per_warp = static_cast<std::uint64_t>(cdiv(tm, plan.inst_m) * cdiv(tn, plan.inst_n) *
                                                          cdiv(r.k, plan.inst_k));
  plan.flops_per_instruction = 2.0 * plan.inst_m * plan.inst_n * plan.inst_k;
  const double acc_cycles = r.acc == isa::DType::f32 ? p.real("sync_acc_f32_cycles") : 0.0;
  plan.interval = plan.flops_per_instruction / rate_sp + acc_cycles;
  plan.latency = std::max(p.real("sync_latency") + acc_cycles, plan.interval);
  plan.operand_load_bytes = static_cast<std::uint32_t>(p.integer("ldmatrix_bytes"));
  const double a_bytes = r.a_in_registers ? 0 : static_cast<double>(tm) * static_cast<double>(r.k) * element_bytes(r.a);
  const double b_bytes = r.b_in_registers ? 0 : static_cast<double>(tn) * static_cast<double>(r.k) * element_bytes(r.b);
  plan.operand_loads_a = static_cast<std::uint64_t>(std::ceil(a_bytes / plan.operand_load_bytes));
  plan.operand_loads_per_warp =
      plan.operand_loads_a + static_cast<std::uint64_t>(std::ceil(b_bytes / plan.operand_load_bytes));
  return plan;
}

}  // namespace tilesim::tensor

// Tensor units: instruction plans from per-SM rates and latencies (first-principles checks against the
// published numbers the parameters come from).
#include <catch2/catch.hpp>

#include "arch/tensor/mma_sync.hpp"
#include "arch/tensor/tensor_unit.hpp"
#include "sim/config.hpp"
#include "sim/system.hpp"

using namespace tilesim;
using namespace tilesim::tensor;

namespace {
std::unique_ptr<TensorUnit> unit(const std::map<std::string, std::string>& over) {
  TensorUnitContext ctx{ParamValues::resolve(tensor_unit_schema(), over, "core.tensor"), 4};
  return make_tensor_unit(ctx, ctx.params.string("kind"));
}
MmaRequest req(std::int64_t m, std::int64_t n, std::int64_t k, bool rs, std::uint32_t warps = 4) {
  MmaRequest r;
  r.m = m;
  r.n = n;
  r.k = k;
  r.a = r.b = isa::DType::f16;
  r.acc = isa::DType::f32;
  r.a_in_registers = rs;
  r.warps = warps;
  return r;
}
}  // namespace

TEST_CASE("wgmma latency follows compute, scratch-operand streaming and a floor", "[tensor][wgmma]") {
  auto u = unit({{"kind", "wgmma"}});  // H100 defaults: 4096 FLOP/clk, 128 B/clk, floor 13
  // Luo et al. 2024 (H800), wgmma m64nNk16 f16->f32 latency: SS 18/20/24/32/64/128, RS 13/13/16/32/64/128.
  const int ns[] = {8, 16, 32, 64, 128, 256};
  const double ss[] = {18, 20, 24, 32, 64, 128};
  const double rs[] = {13, 13, 16, 32, 64, 128};
  for (int i = 0; i < 6; ++i) {
    CAPTURE(ns[i]);
    const MmaPlan s = u->plan(req(64, ns[i], 16, false));
    CHECK(s.scope == MmaScope::warpgroup);
    CHECK(s.instructions_per_warp == 1);
    CHECK(s.latency == Approx(ss[i]));
    CHECK(u->plan(req(64, ns[i], 16, true)).latency == Approx(rs[i]));
  }
  // m64n256k16: 2*64*256*16 / 4096 = 128 cycles per instruction, compute bound.
  CHECK(u->plan(req(64, 256, 16, false)).interval == Approx(128));
}

TEST_CASE("wgmma splits a tile over warp groups, N chunks and K steps", "[tensor][wgmma]") {
  auto u = unit({{"kind", "wgmma"}});
  const MmaPlan p = u->plan(req(128, 128, 64, false, 4));  // one warp group: 2 m64 tiles x 4 k16 steps
  CHECK(p.instructions_per_warp == 8);
  CHECK(p.inst_n == 128);
  const MmaPlan q = u->plan(req(128, 256, 64, false, 8));  // two warp groups: each 1 m-tile x 4 k-steps
  CHECK(q.instructions_per_warp == 4);
  const MmaPlan r = u->plan(req(64, 512, 16, false, 4));   // N > 256: two n256 chunks
  CHECK(r.instructions_per_warp == 2);
  CHECK(r.inst_n == 256);
  // fp8 runs k32 instructions at twice the f16 rate: the same 128 cycles for m64n256k32.
  MmaRequest f8 = req(64, 256, 32, false);
  f8.a = f8.b = isa::DType::f8e4m3;
  CHECK(u->plan(f8).inst_k == 32);
  CHECK(u->plan(f8).interval == Approx(128));
}

TEST_CASE("wgmma falls back to warp-level mma for groups that are not warp groups", "[tensor][wgmma]") {
  auto u = unit({{"kind", "wgmma"}, {"sync_rate_fraction", "0.5"}});
  const MmaPlan p = u->plan(req(32, 32, 16, false, 2));
  CHECK(p.scope == MmaScope::warp);
  // m16n8k16 = 4096 FLOP at 4096/4 x 0.5 = 512 FLOP/clk per sub-partition: 8 cycles.
  CHECK(p.interval == Approx(8));
}

TEST_CASE("mma.sync on Ampere: 8 cycles per m16n8k16 and ldmatrix operand loads", "[tensor][mma_sync]") {
  auto u = unit({{"kind", "mma_sync"}, {"rate_f16", "2048"}});  // A100: 312 TFLOPS / (108 x 1.41 GHz)
  const MmaPlan p = u->plan(req(128, 128, 32, false, 4));
  CHECK(p.scope == MmaScope::warp);
  CHECK(p.interval == Approx(8));
  // 2x2 warps, each 64x64: 4 x 8 m16n8 tiles x 2 k16 steps.
  CHECK(p.instructions_per_warp == 4 * 8 * 2);
  // A 64x32 + B 32x64 bf16 per warp = 8 KiB = 16 ldmatrix.x4.
  CHECK(p.operand_loads_per_warp == 16);
  const MmaPlan rs = u->plan(req(128, 128, 32, true, 4));
  CHECK(rs.operand_loads_per_warp == 8);
}

TEST_CASE("mma.sync with an f32 accumulator pays the configured extra cycles in latency and interval",
          "[tensor][mma_sync]") {
  // Volta's wmma.m16n16k16: 8192 FLOP at 1024/4 FLOP/clk per sub-partition = 32 cycles.
  auto u = unit({{"kind", "mma_sync"}, {"rate_f16", "1024"}, {"sync_m", "16"}, {"sync_n", "16"},
                 {"sync_latency", "33"}, {"sync_acc_f32_cycles", "2"}});
  MmaRequest f32acc = req(16, 16, 16, true, 1);
  MmaRequest f16acc = f32acc;
  f16acc.acc = isa::DType::f16;
  CHECK(u->plan(f16acc).interval == Approx(32));
  CHECK(u->plan(f16acc).latency == Approx(33));
  CHECK(u->plan(f32acc).interval == Approx(34));
  CHECK(u->plan(f32acc).latency == Approx(35));
  // Without the parameter (Ampere, Hopper) the accumulator dtype does not change the timing.
  auto plain = unit({{"kind", "mma_sync"}, {"rate_f16", "1024"}, {"sync_m", "16"}, {"sync_n", "16"}});
  CHECK(plain->plan(f32acc).interval == Approx(plain->plan(f16acc).interval));
  CHECK(plain->plan(f32acc).latency == Approx(plain->plan(f16acc).latency));
}

TEST_CASE("GeForce tensor cores halve f32-accumulating float mma, not f16-accumulating or integer",
          "[tensor][mma_sync]") {
  // RTX 4090 (Ada whitepaper): 330.3 TFLOPS FP16 with FP16 accumulate, 165.2 with FP32; INT8 660.6 TOPS.
  // 128 SMs x 2.52 GHz: 1024 and 512 FLOP/clk/SM for f16, 2048 OPS for i8.
  auto u = unit({{"kind", "mma_sync"}, {"rate_f16", "1024"}, {"rate_i8", "2048"}, {"rate_tf32", "512"},
                 {"acc_f32_rate_fraction", "0.5"}});
  MmaRequest f32acc = req(64, 64, 16, false);
  MmaRequest f16acc = f32acc;
  f16acc.acc = isa::DType::f16;
  // m16n8k16 = 4096 FLOP at 1024 / 4 per sub-partition: 16 cycles with f16 accumulation, 32 with f32.
  CHECK(u->plan(f16acc).interval == Approx(16));
  CHECK(u->plan(f32acc).interval == Approx(32));
  MmaRequest tf32 = f32acc;  // tf32 accumulates in f32 only: 82.6 TFLOPS on the 4090 = 512 x 0.5
  tf32.a = tf32.b = isa::DType::tf32;
  CHECK(u->plan(tf32).interval == Approx(2.0 * 16 * 8 * 8 / (512 / 4 * 0.5)));
  MmaRequest i8 = f32acc;  // i32 accumulators keep the full rate
  i8.a = i8.b = isa::DType::i8;
  i8.acc = isa::DType::i32;
  CHECK(u->plan(i8).interval == Approx(2.0 * 16 * 8 * 32 / (2048 / 4)));
  // The data-center default (1.0) leaves f32 accumulation at the full rate.
  auto dc = unit({{"kind", "mma_sync"}, {"rate_f16", "1024"}});
  CHECK(dc->plan(f32acc).interval == Approx(16));
}

TEST_CASE("mma.sync on Turing is 16 bytes deep: m16n8k8 f16, m8n8k16 i8", "[tensor][mma_sync]") {
  // RTX 2070 (Turing whitepaper): 1024 FLOP/clk/SM f16, 2048 i8; sm_75's shapes carry half sm_80's K.
  auto u = unit({{"kind", "mma_sync"}, {"rate_f16", "1024"}, {"rate_i8", "2048"}, {"sync_k_bits", "128"}});
  MmaRequest f16 = req(64, 64, 32, false);
  f16.acc = isa::DType::f16;
  const MmaPlan p = u->plan(f16);
  CHECK(p.inst_k == 8);
  CHECK(p.instruction == "mma.sync.m16n8k8.f16");
  CHECK(p.interval == Approx(2.0 * 16 * 8 * 8 / (1024 / 4)));  // 8 cycles
  // 2x2 warps of 32x32: 2 x 4 m16n8 tiles x 4 k8 steps.
  CHECK(p.instructions_per_warp == 2 * 4 * 4);
  MmaRequest i8 = f16;
  i8.a = i8.b = isa::DType::i8;
  i8.acc = isa::DType::i32;
  CHECK(u->plan(i8).inst_k == 16);
}

TEST_CASE("tcgen05: latency = tcgen05_latency + math, SS operands stream at 128 B/clk, TMEM accumulates in pipe",
          "[tensor][tcgen05]") {
  // B200 (SemiAnalysis microbench-blackwell, calibration.csv): single-MMA latency 152 / 200 / 264 cycles for
  // m64n64k16 / m128n128k16 / m128n256k16 bf16 at 8192 FLOP/clk/SM; m128n64k16 SS 5399 FLOP/clk (operand
  // bound), TS 8068 (compute bound).
  auto u = unit({{"kind", "tcgen05"}, {"rate_f16", "8192"}, {"tcgen05_latency", "136"},
                 {"tcgen05_smem_bytes_per_cycle", "128"}});
  const std::int64_t shapes[][2] = {{64, 64}, {128, 128}, {128, 256}};
  // m64n64k16 SS streams 4 KiB of operands (32 cycles) for 16 of math: its interval is 32, which is what
  // the 5 MMAs in flight it needs to saturate say (152 / 32 rounded up; 4 and 3 for the others).
  const double latency[] = {152, 200, 264}, interval[] = {32, 64, 128};
  for (int i = 0; i < 3; ++i) {
    CAPTURE(shapes[i][0], shapes[i][1]);
    const MmaPlan p = u->plan(req(shapes[i][0], shapes[i][1], 16, false));
    CHECK(p.scope == MmaScope::warpgroup);
    CHECK(p.accumulate_in_pipe);
    CHECK(p.instructions_per_warp == 1);
    CHECK(p.interval == Approx(interval[i]));
    CHECK(p.latency == Approx(latency[i]));
  }
  // m128n64k16: 32 cycles of math; SS streams 4 KiB of A + 2 KiB of B = 48 cycles (8192 x 32 / 48 = 5461
  // FLOP/clk against the measured 5399); TS (A in TMEM) only B: compute-bound.
  CHECK(u->plan(req(128, 64, 16, false)).interval == Approx(48));
  CHECK(u->plan(req(128, 64, 16, true)).interval == Approx(32));
  CHECK(u->plan(req(128, 64, 16, true)).instruction == "tcgen05.mma.m128n64k16.f16.TS");
  // A 256 x 512 tile: 2 row blocks x 2 column chunks per K step.
  CHECK(u->plan(req(256, 512, 32, false)).instructions_per_warp == 2 * 2 * 2);
  // f64 has no tcgen05 kind: warp-level DMMA. B from registers is refused by name.
  MmaRequest f64 = req(64, 64, 16, false);
  f64.a = f64.b = f64.acc = isa::DType::f64;
  auto dmma = unit({{"kind", "tcgen05"}, {"rate_f64", "128"}});
  CHECK(dmma->plan(f64).scope == MmaScope::warp);
  MmaRequest breg = req(128, 64, 16, false);
  breg.b_in_registers = true;
  CHECK_THROWS_WITH(u->plan(breg), Catch::Matchers::Contains("B must be in shared memory"));
}

TEST_CASE("warps split an output to minimise instructions, squarest first", "[tensor][mma_sync]") {
  CHECK(split_warps(128, 128, 4, 16, 8).wm == 2);
  CHECK(split_warps(128, 128, 4, 16, 8).wn == 2);
  const WarpGrid g = split_warps(64, 256, 8, 16, 8);  // 1x8 and 2x4 tie at 16 instructions: first kept
  CHECK(g.wm * g.wn == 8);
  CHECK(g.wm == 1);
  CHECK(split_warps(16, 256, 4, 16, 8).wm == 1);
}

TEST_CASE("a dtype without a rate is refused naming the parameter", "[tensor]") {
  auto u = unit({{"kind", "mma_sync"}, {"rate_f8", "0"}});
  MmaRequest r = req(64, 64, 32, false);
  r.a = r.b = isa::DType::f8e4m3;
  CHECK_THROWS_WITH(u->plan(r), Catch::Matchers::Contains("rate_"));
  CHECK_THROWS_WITH(unit({{"kind", "tcgen06"}}), Catch::Matchers::Contains("unknown kind 'tcgen06'"));
}

// ---- f64 (DMMA) ----

namespace {
/// The resolved `core.<section>` of a device preset with its SM layer on top, as validation cases layer them.
ParamValues preset_section(const char* device, const char* layer, const char* section) {
  ConfigTree t;
  t.merge_file(find_preset(device));
  if (layer) t.merge_file(find_preset(layer));
  t.apply_override("system=gpu");
  return parse_system(t).sections.at(section);
}
MmaRequest f64_req(std::int64_t m, std::int64_t n, std::int64_t k, std::uint32_t warps) {
  MmaRequest r = req(m, n, k, true, warps);
  r.a = r.b = r.acc = isa::DType::f64;
  return r;
}
}  // namespace

TEST_CASE("DMMA on the A100 preset: mma.sync m8n8k4 f64 issues every 16 cycles per sub-partition",
          "[tensor][mma_sync][f64]") {
  // 19.5 TFLOPS FP64 tensor / (108 SMs x 1.41 GHz) = 128 FLOP/clk/SM = 32 per sub-partition; one m8n8k4
  // is 2 x 8 x 8 x 4 = 512 FLOP: 16 cycles between issues, the A100 row's measured interval.
  TensorUnitContext ctx{preset_section("a100_sxm4", "sm80_core", "core.tensor"), 4};
  auto u = make_tensor_unit(ctx, "mma_sync");
  CHECK(u->rate_per_sm(isa::DType::f64) == Approx(128));
  const MmaPlan one = u->plan(f64_req(8, 8, 4, 1));
  CHECK(one.instruction == "mma.sync.m8n8k4.f64");
  CHECK(one.inst_m == 8);
  CHECK(one.inst_n == 8);
  CHECK(one.inst_k == 4);
  CHECK(one.instructions_per_warp == 1);
  CHECK(one.flops_per_instruction == Approx(512));
  CHECK(one.interval == Approx(16));
  // The throughput rows' 2x2 tile: each of 4 warps issues one m8n8k4 per mma, at the same interval.
  const MmaPlan four = u->plan(f64_req(16, 16, 4, 4));
  CHECK(four.instructions_per_warp == 1);
  CHECK(four.interval == Approx(16));
  // K = 16: four k4 steps per warp.
  CHECK(u->plan(f64_req(16, 16, 16, 4)).instructions_per_warp == 4);
}

TEST_CASE("f64 mma: no DMMA on Volta, Hopper warp groups run it as full-rate mma.sync f64", "[tensor][f64]") {
  // Volta has no FP64 tensor cores: rate_f64 = 0 is refused naming the parameter family.
  TensorUnitContext volta{preset_section("sm70_core", nullptr, "core.tensor"), 4};
  CHECK_THROWS_WITH(make_tensor_unit(volta, "mma_sync")->plan(f64_req(8, 8, 4, 1)),
                    Catch::Matchers::Contains("no tensor rate for operand dtype f64"));
  // Hopper: PTX has no f64 wgmma; the wgmma unit runs a warp group's f64 mma as warp-level DMMA, the plan
  // the mma_sync unit makes for it.
  TensorUnitContext hopper{preset_section("h100_sxm5", "sm90_core", "core.tensor"), 4};
  const MmaPlan group_f64 = make_tensor_unit(hopper, "wgmma")->plan(f64_req(64, 64, 16, 4));
  CHECK(group_f64.scope == MmaScope::warp);
  CHECK(group_f64.instruction == "mma.sync.m16n8k4.f64");
  CHECK(group_f64.instructions_per_warp == make_tensor_unit(hopper, "mma_sync")->plan(f64_req(64, 64, 16, 4)).instructions_per_warp);
  CHECK(group_f64.interval == Approx(16));
  // mma.sync f64 is Hopper's only FP64 tensor path: its rate is not cut by sync_rate_fraction (0.629).
  // 66.9 TFLOPS / (132 x 1.98 GHz) = 256 FLOP/clk/SM; m16n8k4 = 1024 FLOP at 64 per sub-partition.
  const MmaPlan p = make_tensor_unit(hopper, "mma_sync")->plan(f64_req(16, 8, 4, 1));
  CHECK(p.instruction == "mma.sync.m16n8k4.f64");
  CHECK(p.interval == Approx(16));
  // The other dtypes keep the fraction.
  MmaRequest f16 = req(16, 8, 16, true, 1);
  CHECK(make_tensor_unit(hopper, "mma_sync")->plan(f16).interval == Approx(4096.0 / (4096.0 / 4 * 0.629)));
}

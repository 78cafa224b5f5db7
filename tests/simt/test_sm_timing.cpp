// First-principles timing of the SM against stub memories with known latencies: dependent chains run at
// the pipe latency, independent work at the pipe rate, the SM sleeps while it waits.
#include <catch2/catch.hpp>

#include "sim/config.hpp"
#include "sim/system.hpp"
#include "tests/simt/sm_rig.hpp"

using namespace tilesim;

namespace {

const char* const kAluChain = R"(
kernel @alu_chain(%X: global<f32>[T], %Y: global<f32>[T], T: i32, ITERS: i32, a: f32, b: f32) {
  %c0 = const 0 : index
  %c1 = const 1 : index
  %x = load %X[%c0] : tile<f32>[T] @reg
  %y = for %i = %c0 to ITERS step %c1 iter(%v = %x) {
    %next = fma %v, a, b
    yield %next
  }
  store %y, %Y[%c0]
}
)";

const char* const kMmaChain = R"(
kernel @mma_ss(%A: global<bf16>[MI, KI], %B: global<bf16>[KI, NI], %C: global<f32>[NB, MI, NI],
               MI: i32, NI: i32, KI: i32, NB: i32, ITERS: i32)
    grid(NB) {
  %p = program_id 0
  %c0 = const 0 : index
  %c1 = const 1 : index
  %a, %ta = copy_async %A[%c0, %c0] : tile<bf16>[MI, KI] @scratch
  %b, %tb = copy_async %B[%c0, %c0] : tile<bf16>[KI, NI] @scratch
  wait %ta, %tb
  %zero = zeros : tile<f32>[MI, NI] @acc
  %acc = for %i = %c0 to ITERS step %c1 iter(%c = %zero) {
    %next = mma %a, %b, %c
    yield %next
  }
  %out = reshape %acc shape=[1, MI, NI]
  store %out, %C[%p, %c0, %c0]
}

kernel @mma_rs(%A: global<bf16>[MI, KI], %B: global<bf16>[KI, NI], %C: global<f32>[NB, MI, NI],
               MI: i32, NI: i32, KI: i32, NB: i32, ITERS: i32)
    grid(NB) {
  %p = program_id 0
  %c0 = const 0 : index
  %c1 = const 1 : index
  %a = load %A[%c0, %c0] : tile<bf16>[MI, KI] @reg
  %b, %tb = copy_async %B[%c0, %c0] : tile<bf16>[KI, NI] @scratch
  wait %tb
  %zero = zeros : tile<f32>[MI, NI] @acc
  %acc = for %i = %c0 to ITERS step %c1 iter(%c = %zero) {
    %next = mma %a, %b, %c
    yield %next
  }
  %out = reshape %acc shape=[1, MI, NI]
  store %out, %C[%p, %c0, %c0]
}
)";

// One warp group: per iteration a wgmma m64n256k16 on a chained accumulator (128 cycles of the tensor pipe)
// and, independent of it, exp2 over a 64 x 32 f32 tile (16 MUFU instructions per warp: 128 cycles of each
// sub-partition's 4-lane SFU).
const char* const kMmaBesideExp = R"(
kernel @mma_beside_exp(%A: global<bf16>[64, 16], %B: global<bf16>[16, 256], %C: global<f32>[64, 256],
                       %E: global<f32>[64, 32], ITERS: i32) {
  %c0 = const 0 : index
  %c1 = const 1 : index
  %a, %ta = copy_async %A[%c0, %c0] : tile<bf16>[64, 16] @scratch
  %b, %tb = copy_async %B[%c0, %c0] : tile<bf16>[16, 256] @scratch
  wait %ta, %tb
  %e0 = load %E[%c0, %c0] : tile<f32>[64, 32] @reg
  %zero = zeros : tile<f32>[64, 256] @acc
  %acc, %e = for %i = %c0 to ITERS step %c1 iter(%c = %zero, %x = %e0) {
    %next = mma %a, %b, %c
    %y = exp2 %x
    yield %next, %y
  }
  store %acc, %C[%c0, %c0]
  store %e, %E[%c0, %c0]
}
)";

// A dependent chase through a ring in scratch (workloads/pchase.tile's @pchase_shared): each gather is a
// shared-memory load whose index is the previous one's data.
const char* const kSharedChase = R"(
kernel @chase(%Next: global<i32>[N], %End: global<i32>[1], N: i32, STEPS: i32) {
  %c0 = const 0 : index
  %c1 = const 1 : index
  %ring, %tr = copy_async %Next[%c0] : tile<i32>[N] @scratch
  wait %tr
  %zero = const 0 : i32
  %start = broadcast %zero shape=[1]
  %end = for %s = %c0 to STEPS step %c1 iter(%pos = %start) {
    %next = gather %ring, %pos axis=0
    yield %next
  }
  store %end, %End[%c0]
}
)";

simt_test::RigOptions fast_memory() {
  simt_test::RigOptions o;
  o.mem_latency = 1;
  o.copy_latency = 1;
  o.scratch_latency = 1;
  o.copy_bytes_per_cycle = 1e6;
  return o;
}

/// Cycles per iteration of a chain of `iters` from one run (the constant part is small next to it).
double per_iteration(simt_test::SmRig& rig, double iters) {
  REQUIRE(rig.run().completed);
  return rig.kernel_cycles() / iters;
}

double mma_chain(const char* kernel, int n, int iters, std::uint32_t blocks = 1, const char* paused_by = "none") {
  core::LaunchArgs a;
  a.scalars = {{"MI", 64}, {"NI", n}, {"KI", 16}, {"NB", blocks}, {"ITERS", iters}};
  simt_test::RigOptions o = fast_memory();
  o.sm = {{"wgmma_paused_by", paused_by}};
  simt_test::SmRig rig(kMmaChain, kernel, a, o);
  return per_iteration(rig, iters);
}

}  // namespace

TEST_CASE("a dependent FFMA chain runs at the FP32 latency: loop overhead hides under it", "[sm][timing]") {
  core::LaunchArgs a;
  a.scalars = {{"T", 32}, {"ITERS", 4000}, {"a", 0.5}, {"b", 0.25}};
  simt_test::SmRig rig(kAluChain, "alu_chain", a, fast_memory());
  const double cyc = per_iteration(rig, 4000);
  CHECK(cyc >= 4.0);
  CHECK(cyc <= 4.02);
}

TEST_CASE("the FP32 latency is a parameter of the preset", "[sm][timing]") {
  core::LaunchArgs a;
  a.scalars = {{"T", 32}, {"ITERS", 4000}, {"a", 0.5}, {"b", 0.25}};
  simt_test::RigOptions o = fast_memory();
  o.sm = {{"fp32_latency", "6"}};
  simt_test::SmRig rig(kAluChain, "alu_chain", a, o);
  const double cyc = per_iteration(rig, 4000);
  CHECK(cyc >= 6.0);
  CHECK(cyc <= 6.02);
}

namespace {
/// kAluChain in f64 (the same chain, DFMA instead of FFMA).
std::string dfma_chain_text() {
  std::string t = kAluChain;
  for (std::size_t at; (at = t.find("f32")) != std::string::npos;) t.replace(at, 3, "f64");
  return t;
}

/// The resolved core.sm section of a preset, as overrides for the rig.
std::map<std::string, std::string> preset_sm(const char* preset) {
  ConfigTree t;
  t.merge_file(find_preset(preset));
  const SystemSpec spec = parse_system(t);
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : spec.sections.at("core.sm").all()) out[name] = value.text;
  out["program_launch"] = "0";  // a constant per program (CTA launch), not part of a step: as fast_memory()
  return out;
}

double dfma_chain(const std::map<std::string, std::string>& sm) {
  core::LaunchArgs a;
  a.scalars = {{"T", 32}, {"ITERS", 4000}, {"a", 0.75}, {"b", 0.125}};
  simt_test::RigOptions o = fast_memory();
  o.sm = sm;
  simt_test::SmRig rig(dfma_chain_text(), "alu_chain", a, o);
  return per_iteration(rig, 4000);
}
}  // namespace

TEST_CASE("a dependent DFMA chain on the sm70 layer takes the FP64 pipe's latency per step", "[sm][timing][f64]") {
  // Volta: DFMA dependent latency 8 cycles (Jia et al. 2018; gpu-benches V100 README), fp64_latency in
  // sm70_core, where FFMA takes 4 (fp32_latency): the f64 chain runs on the FP64 pipe, not the FP32 one.
  std::map<std::string, std::string> sm = preset_sm("sm70_core");
  REQUIRE(sm.at("fp64_latency") == "8");
  REQUIRE(sm.at("fp32_latency") == "4");
  const double cyc = dfma_chain(sm);
  CHECK(cyc >= 8.0);
  CHECK(cyc <= 8.02);
}

TEST_CASE("the DFMA chain's step is the fp64_latency parameter", "[sm][timing][f64]") {
  std::map<std::string, std::string> sm = preset_sm("sm70_core");
  sm["fp64_latency"] = "11";
  const double cyc = dfma_chain(sm);
  CHECK(cyc >= 11.0);
  CHECK(cyc <= 11.02);
}

TEST_CASE("a chained wgmma m64n256k16 takes 128 cycles per instruction", "[sm][timing][wgmma]") {
  const double c = mma_chain("mma_ss", 256, 2000);
  CHECK(c >= 128.0);
  CHECK(c <= 128.0 * 1.01);
}

TEST_CASE("a chained wgmma m64n8k16 SS takes its 18-cycle latency", "[sm][timing][wgmma]") {
  const double c = mma_chain("mma_ss", 8, 2000);
  CHECK(c >= 18.0);
  CHECK(c <= 18.0 * 1.02);
}

TEST_CASE("a chained wgmma m64n16k16 RS takes the 13-cycle floor", "[sm][timing][wgmma]") {
  const double c = mma_chain("mma_rs", 16, 2000);
  CHECK(c >= 13.0);
  CHECK(c <= 13.0 * 1.03);
}

// The latency rows (Luo et al. Table 9: 18 cycles for m64n8k16 SS, 128 for m64n256k16, 13 for m64n16k16 RS)
// come from loops whose counters run on the uniform datapath: with wgmma_paused_by issue (sm90_core) they
// must not pause the wgmma.
TEST_CASE("with wgmma_paused_by issue, uniform loop bookkeeping does not lengthen a wgmma m64n8k16 SS chain",
          "[sm][timing][wgmma]") {
  const double c = mma_chain("mma_ss", 8, 2000, 1, "issue");
  CHECK(c >= 18.0);
  CHECK(c <= 18.0 * 1.01);
}

TEST_CASE("with wgmma_paused_by issue, uniform loop bookkeeping does not lengthen a wgmma m64n256k16 chain",
          "[sm][timing][wgmma]") {
  const double c = mma_chain("mma_ss", 256, 2000, 1, "issue");
  CHECK(c >= 128.0);
  CHECK(c <= 128.0 * 1.005);
}

TEST_CASE("with wgmma_paused_by issue, uniform loop bookkeeping does not lengthen a wgmma m64n16k16 RS chain",
          "[sm][timing][wgmma]") {
  const double c = mma_chain("mma_rs", 16, 2000, 1, "issue");
  CHECK(c >= 13.0);
  CHECK(c <= 13.0 * 1.01);
}

TEST_CASE("a tcgen05 chain accumulating in tensor memory runs at the interval, not the latency",
          "[sm][timing][tcgen05]") {
  // B200 rates: m128n128k16 bf16 = 2 x 128 x 128 x 16 / 8192 = 64 cycles of pipe; its result is visible
  // 136 cycles after it leaves the pipe (200 in all). Chained into one TMEM accumulator, N MMAs take
  // about N x 64 cycles; the register-accumulator rule would take N x 200.
  core::LaunchArgs a;
  const int iters = 2000;  // the copies in and the last result out add about 700 cycles in all
  a.scalars = {{"MI", 128}, {"NI", 128}, {"KI", 16}, {"NB", 1}, {"ITERS", iters}};
  simt_test::RigOptions o = fast_memory();
  o.tensor = {{"kind", "tcgen05"}, {"rate_f16", "8192"}, {"tcgen05_latency", "136"}};
  o.sm = {{"wgmma_paused_by", "none"}};
  simt_test::SmRig rig(kMmaChain, "mma_ss", a, o);
  const double c = per_iteration(rig, iters);
  CHECK(c >= 64.0);
  CHECK(c <= 64.0 * 1.02);
}

TEST_CASE("independent chains of several programs share the tensor pipe at its rate", "[sm][timing][wgmma]") {
  // 4 programs on one SM, each a chain of m64n64k16 (32 cycles of pipe each): the pipe is the limit,
  // so four chains take 4 x 32 cycles per iteration, not 32.
  const double c = mma_chain("mma_ss", 64, 400, 4);
  CHECK(c >= 4 * 32.0);
  CHECK(c <= 4 * 32.0 * 1.02);
}

TEST_CASE("an SM waiting on memory sleeps: its active cycles stay far below the kernel's", "[sm][timing][event]") {
  core::LaunchArgs a;
  a.scalars = {{"T", 32}, {"ITERS", 10}, {"a", 0.5}, {"b", 0.25}};
  simt_test::RigOptions o;
  o.mem_latency = 20000;
  simt_test::SmRig rig(kAluChain, "alu_chain", a, o);
  REQUIRE(rig.run().completed);
  const double cycles = rig.stat("sm0", "cycles");
  const double active = cycles - rig.stat("sm0", "idle_cycles");
  CHECK(rig.kernel_cycles() > 40000);  // load + store round trips
  CHECK(active < 200);
}

TEST_CASE("GTO and LRR both finish and attribute every sub-partition cycle", "[sm][timing][scheduler]") {
  core::LaunchArgs a;
  a.scalars = {{"MI", 64}, {"NI", 64}, {"KI", 16}, {"NB", 3}, {"ITERS", 50}};
  simt_test::RigOptions o = fast_memory();
  o.sm = {{"scheduler", "lrr"}};
  simt_test::SmRig rig(kMmaChain, "mma_ss", a, o);
  REQUIRE(rig.run().completed);
  double sum = 0;
  for (const char* s : {"issued", "idle", "front_end", "dependency", "memory", "tensor", "barrier", "channel", "pipe", "lsu"})
    sum += rig.stat("sm0", std::string("stall_") + s);
  CHECK(sum == Approx(4 * rig.stat("sm0", "cycles")).margin(8));
  CHECK(rig.stat("sm0", "wgmma_instructions") == 3 * 50);
  CHECK(rig.stat("sm0", "tensor_flops") == Approx(3 * 50 * 2.0 * 64 * 64 * 16));
}

static double mma_beside_exp(const char* pauses) {
  core::LaunchArgs a;
  a.scalars = {{"ITERS", 400}};
  simt_test::RigOptions o = fast_memory();
  o.sm = {{"wgmma_paused_by", pauses}};
  simt_test::SmRig rig(kMmaBesideExp, "mma_beside_exp", a, o);
  return per_iteration(rig, 400);
}

// 128 cycles of tensor pipe and 128 cycles of SFU per iteration, independent of each other (kMmaBesideExp).
TEST_CASE("MUFU work beside wgmma overlaps it: an iteration takes about the longer of the two", "[sm][timing][wgmma]") {
  const double c = mma_beside_exp("none");
  CHECK(c >= 128.0);
  CHECK(c <= 128.0 * 1.25);
}

TEST_CASE("with wgmma_paused_by sfu, MUFU work beside wgmma adds its cycles to the tensor pipe's", "[sm][timing][wgmma]") {
  const double c = mma_beside_exp("sfu");
  CHECK(c >= 128.0 + 128.0);
  CHECK(c <= (128.0 + 128.0) * 1.1);
}

TEST_CASE("with wgmma_paused_by issue, every dispatch cycle beside wgmma adds to the tensor pipe's", "[sm][timing][wgmma]") {
  // Per iteration and warp: 16 FP32 + 16 MUFU instructions of the exp2 (one dispatch cycle each) beside the
  // 128-cycle wgmma; the loop's own bookkeeping adds a few more.
  const double c = mma_beside_exp("issue");
  CHECK(c >= 128.0 + 32.0);
  CHECK(c <= (128.0 + 32.0) * 1.15);
}

namespace {

// One program per SM at a time (its scratch takes most of the SM's): each loads a row and stores it.
const char* const kLoadStore = R"(
kernel @load_store(%X: global<f32>[N, T], %Y: global<f32>[N, T], N: i32, T: i32)
    grid(N)
    resources(warps=1, scratch=150000) {
  %c0 = const 0 : index
  %p = program_id 0
  %x = load %X[%p, %c0] : tile<f32>[1, T] @reg
  store %x, %Y[%p, %c0]
}
)";

}  // namespace

TEST_CASE("a program whose warps exited hands back its SM while its stores drain: the kernel waits for them",
          "[sm][timing][release]") {
  // 4 programs, one resident at a time, memory answering loads and stores after L = 1000 cycles. Holding the
  // SM until the stores are acknowledged would take about 4 x 2L; handing it back once the stores are
  // issued overlaps each store's round trip with the next program's load: about 4L + the last store's L.
  core::LaunchArgs a;
  a.scalars = {{"N", 4}, {"T", 32}};
  simt_test::RigOptions o;
  o.mem_latency = 1000;
  simt_test::SmRig rig(kLoadStore, "load_store", a, o);
  REQUIRE(rig.run().completed);
  CHECK(rig.stat("sm0", "programs") == 4);
  CHECK(rig.stat("sm0", "programs_released_draining") == 4);
  const double cycles = rig.kernel_cycles();
  INFO("kernel cycles " << cycles);
  CHECK(cycles >= 5 * 1000);  // the last store's acknowledgement is inside the kernel
  CHECK(cycles < 6 * 1000);   // not 8 round trips
}

namespace {
double shared_chase_step(const char* load_use) {
  core::LaunchArgs a;
  a.scalars = {{"N", 1024}, {"STEPS", 2000}};
  simt_test::RigOptions o = fast_memory();
  o.scratch_latency = 25;
  o.sm = {{"load_use_latency", load_use}};
  simt_test::SmRig rig(kSharedChase, "chase", a, o);
  return per_iteration(rig, 2000);
}
}  // namespace

// A gather from a scratch tile is a shared-memory load: a dependent chase pays the scratchpad's latency
// plus the load-use latency per step, not a shuffle's (the memory presets derive their shared-load latency,
// e.g. 29 cycles on H800 = 2 + 1 + 25 + 1, the same way).
TEST_CASE("a dependent shared-memory chase takes the scratch latency plus the load-use latency per step",
          "[sm][timing][memory]") {
  // 25 cycles of scratch, a link cycle each way, 2 cycles of load use.
  const double c = shared_chase_step("2");
  CHECK(c >= 25.0 + 2 + 2);
  CHECK(c <= 25.0 + 2 + 2 + 0.5);
}

TEST_CASE("the load-use latency is a parameter of the SM", "[sm][timing][memory]") {
  const double c = shared_chase_step("6");
  CHECK(c >= 25.0 + 2 + 6);
  CHECK(c <= 25.0 + 2 + 6 + 0.5);
}

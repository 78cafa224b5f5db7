// The `gpu` system kind as a user runs it (`tilesim run`, one process per simulation): real presets with
// the SM layers, values checked against the interpreter, the report, the timeline, determinism, and the
// case mappers that turn reference rows into runs.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "sim/config.hpp"
#include "tests/common/command.hpp"
#include "sim/system.hpp"
#include "validation/case_mapper.hpp"

using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using namespace tilesim;

namespace {

using Result = tilesim::test::CommandResult;
using tilesim::test::slurp;
Result run(const std::string& args) { return tilesim::test::run_tilesim(args); }
fs::path fresh_dir(const std::string& name) { return tilesim::test::fresh_temp_dir("simt_" + name); }

/// A statistic summed over every component of `kind` (total scope).
double sum_stat(const nlohmann::json& stats, const std::string& kind, const std::string& stat) {
  double v = 0;
  for (const auto& scope : stats["scopes"]) {
    if (scope["scope"] != "total") continue;
    for (const auto& c : scope["components"])
      if (c["kind"] == kind && c["stats"].contains(stat)) v += c["stats"][stat]["value"].get<double>();
  }
  return v;
}

const char* const kSmall = "--set workload.scale=functional --set workload.values=true";

}  // namespace

TEST_CASE("a functional-size GEMM on H100 carries values that match the interpreter", "[gpu][values]") {
  const fs::path d = fresh_dir("h100_gemm");
  const Result r = run(cat("run -p h100_pcie -p sm90_core ", kSmall, " -o ", d.string(), " --trace ", (d / "trace.json").string()));
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto stats = nlohmann::json::parse(slurp(d / "stats.json"));
  CHECK(sum_stat(stats, "value_check", "elements") > 0);
  CHECK(sum_stat(stats, "value_check", "mismatches") == 0);
  CHECK(sum_stat(stats, "simt_sm", "wgmma_instructions") > 0);  // Hopper: warp-group MMA
  // The report: time, TFLOPS, utilisation, stalls and the bound of the kernel.
  const std::string report = slurp(d / "report.txt");
  CHECK_THAT(report, Contains("TFLOPS") && Contains("utilisation:") && Contains("top stalls") && Contains("bound: ") &&
                         Contains("values match the functional interpreter"));
  // The timeline: program residency and tensor-pipe slices, loadable JSON.
  const auto trace = nlohmann::json::parse(slurp(d / "trace.json"));
  const auto& events = trace.is_object() ? trace["traceEvents"] : trace;
  bool programs = false, wgmma = false;
  for (const auto& e : events) {
    const std::string n = e.value("name", "");
    programs |= n.rfind("gemm (", 0) == 0;
    wgmma |= n.rfind("wgmma", 0) == 0;
  }
  CHECK(programs);
  CHECK(wgmma);
}

TEST_CASE("the same tile GEMM runs unchanged on A100 with mma.sync and cp.async", "[gpu][values]") {
  const fs::path d = fresh_dir("a100_gemm");
  const Result r = run(cat("run -p a100_sxm4 -p sm80_core ", kSmall, " -o ", d.string()));
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto stats = nlohmann::json::parse(slurp(d / "stats.json"));
  CHECK(sum_stat(stats, "value_check", "mismatches") == 0);
  CHECK(sum_stat(stats, "simt_sm", "wgmma_instructions") == 0);
  CHECK(sum_stat(stats, "simt_sm", "inst_tensor") > 0);      // warp-level mma.sync
  CHECK(sum_stat(stats, "simt_sm", "global_requests") > 0);  // cp.async pieces and stores through the LSU
  // The SM summary's tensor figure is the sub-partitions' tensor cores here (no warp-group pipe ran).
  const std::string report = slurp(d / "report.txt");
  CHECK_THAT(report, Contains("tensor cores ") && !Contains("tensor cores 0% busy") &&
                         !Contains("warp-group tensor pipe"));
}

TEST_CASE("the same tile GEMM and attention run unchanged on Ada and Turing with values", "[gpu][values]") {
  // rtx4090 and rtx2070 inherit their SM layers (sm89_core, sm75_core): mma.sync, no TMA, no clusters.
  for (const char* preset : {"rtx4090", "rtx2070"}) {
    for (const char* w : {"gemm", "attention_fwd"}) {
      const fs::path d = fresh_dir(cat(preset, "_", w));
      const Result r = run(cat("run -p ", preset, " --set workload.name=", w, " ", kSmall, " -o ", d.string()));
      INFO(preset << " " << w << ": " << r.output);
      REQUIRE(r.code == 0);
      const auto stats = nlohmann::json::parse(slurp(d / "stats.json"));
      CHECK(sum_stat(stats, "value_check", "elements") > 0);
      CHECK(sum_stat(stats, "value_check", "mismatches") == 0);
      CHECK(sum_stat(stats, "simt_sm", "wgmma_instructions") == 0);
      CHECK(sum_stat(stats, "simt_sm", "inst_tensor") > 0);
    }
  }
}

TEST_CASE("GEMM and attention run on B200's tcgen05 unit with values", "[gpu][values][tcgen05]") {
  for (const char* w : {"gemm_ws", "attention_fwd"}) {
    const fs::path d = fresh_dir(cat("b200_", w));
    const Result r = run(cat("run -p b200 -p sm100_core --set workload.name=", w, " ", kSmall, " -o ", d.string()));
    INFO(w << ": " << r.output);
    REQUIRE(r.code == 0);
    const auto stats = nlohmann::json::parse(slurp(d / "stats.json"));
    CHECK(sum_stat(stats, "value_check", "elements") > 0);
    CHECK(sum_stat(stats, "value_check", "mismatches") == 0);
    CHECK(sum_stat(stats, "simt_sm", "wgmma_instructions") > 0);  // the SM's tensor pipe, issued as tcgen05
  }
}

TEST_CASE("warp-specialised GEMM, attention and f64 mma carry values on H100", "[gpu][values]") {
  // gemm_fp8_scaled: its functional shape runs 2 x 1 clusters and promotes each K block's partial sum;
  // with 48-column tiles some tiles span two B scale blocks (the producer copies both, the consumers
  // select per column); with 64-row tiles one consumer warp group takes all rows (DeepGEMM for M <= 64).
  // An f64 mma of a warp group runs as warp-level DMMA (PTX has no f64 wgmma).
  const std::pair<const char*, const char*> cases[] = {
      {"gemm_ws", ""}, {"attention_fwd", ""}, {"gemm_fp8_scaled", ""},
      {"gemm_fp8_scaled", " --set workload.BLOCK_N=48 --set workload.N=160 --set workload.K=300"},
      {"gemm_fp8_scaled", " --set workload.BLOCK_M=64 --set workload.consumers=1 --set workload.M=100 --set workload.cluster_m=1"},
      {"mma", " --set workload.dtype_in=f64 --set workload.dtype_acc=f64"}};
  int index = 0;
  for (const auto& [w, extra] : cases) {
    const fs::path d = fresh_dir(cat("h100_", w, "_", index++));
    const Result r = run(cat("run -p h100_sxm5 -p sm90_core --set workload.name=", w, " ", kSmall, extra, " -o ", d.string()));
    INFO(w << extra << "\n" << r.output);
    REQUIRE(r.code == 0);
    const auto stats = nlohmann::json::parse(slurp(d / "stats.json"));
    CHECK(sum_stat(stats, "value_check", "elements") > 0);
    CHECK(sum_stat(stats, "value_check", "mismatches") == 0);
  }
}

TEST_CASE("two identical gpu runs give byte-identical stats", "[gpu][determinism]") {
  const fs::path a = fresh_dir("det_a"), b = fresh_dir("det_b");
  const std::string args = "run -p h100_pcie -p sm90_core --set workload.name=attention_fwd --set workload.scale=functional -o ";
  REQUIRE(run(args + a.string()).code == 0);
  REQUIRE(run(args + b.string()).code == 0);
  CHECK(slurp(a / "stats.json") == slurp(b / "stats.json"));
}

TEST_CASE("a preset may carry the sections of several system kinds", "[gpu][config]") {
  // The h100_pcie preset is a memory_probe system with probe `core` and `workload` keys; layered with the
  // Hopper SM layer it builds the gpu, and the probe system still builds from the same layers.
  ConfigTree t;
  t.merge_file(find_preset("h100_pcie"));
  t.merge_file(find_preset("sm90_core"));
  const SystemSpec gpu = parse_system(t);
  CHECK(gpu.system_kind == "gpu");
  CHECK(gpu.sections.at("core.sm").integer("sub_partitions") == 4);
  t.apply_override("system=memory_probe");
  const SystemSpec probe = parse_system(t);
  CHECK(probe.system_kind == "memory_probe");
  CHECK_FALSE(probe.sections.has("core.sm"));
  // A key no system kind declares is still an error.
  t.apply_override("core.sm.sub_partitons=2");
  t.apply_override("system=gpu");
  CHECK_THROWS_WITH(parse_system(t), Contains("sub_partitons") && Contains("sub_partitions"));
}

TEST_CASE("the gpu case mappers turn reference rows into runs with one kernel per workload", "[gpu][validation]") {
  using validation::CaseMapperRegistry;
  using validation::ReferenceRow;
  using validation::SimCase;
  auto mapper = [](const char* w) { return CaseMapperRegistry::instance().get(w, "test").make({}); };
  ReferenceRow lat;
  lat.id = "t1";
  lat.preset = "h800_pcie";
  lat.workload = "mma";
  lat.params = {{"instr", "wgmma"}, {"shape", "m64n128k16"}, {"dtype_in", "f16"}, {"mode", "latency"}, {"operands", "SS"}};
  lat.unit = "cycles";
  auto m = mapper("mma")->map(lat);
  REQUIRE(std::holds_alternative<SimCase>(m));
  const SimCase& c = std::get<SimCase>(m);
  CHECK(c.presets == std::vector<std::string>{"h800_pcie", "sm90_core"});
  CHECK(std::find(c.overrides.begin(), c.overrides.end(), "workload.shape=m64n128k16") != c.overrides.end());
  CHECK(std::find(c.overrides.begin(), c.overrides.end(), "workload.blocks=1") != c.overrides.end());
  CHECK(c.clock_key == "chip.core_clock");

  ReferenceRow tput = lat;
  tput.params["mode"] = "throughput";
  tput.unit = "TFLOPS";
  const SimCase t = std::get<SimCase>(mapper("mma")->map(tput));
  // Power-limited part: tensor-throughput rows run at the preset's sustained tensor clock.
  CHECK(std::find(t.overrides.begin(), t.overrides.end(), "chip.core_clock=1557MHz") != t.overrides.end());

  ReferenceRow g;
  g.id = "t2";
  g.preset = "h100_sxm5";
  g.workload = "gemm";
  g.params = {{"M", "8192"}, {"N", "8192"}, {"K", "8192"}, {"dtype_in", "tf32"}};
  g.unit = "TFLOPS";
  const SimCase gc = std::get<SimCase>(mapper("gemm")->map(g));
  ReferenceRow h200 = g;  // SCHEMA.md's h200: the GH100 SM layer on its own memory preset
  h200.preset = "h200";
  CHECK(std::get<SimCase>(mapper("gemm")->map(h200)).presets == std::vector<std::string>{"h200", "sm90_core"});
  // SCHEMA.md's GeForce/Ada presets carry their SM layer (inherits): the case merges the device preset alone.
  for (const char* p : {"rtx4090", "l40", "rtx2070"}) {
    ReferenceRow r = g;
    r.preset = p;
    r.params["dtype_in"] = "f16";
    CHECK(std::get<SimCase>(mapper("gemm")->map(r)).presets == std::vector<std::string>{p});
  }
  CHECK(std::find(gc.overrides.begin(), gc.overrides.end(), "workload.name=gemm_ws") != gc.overrides.end());
  CHECK(std::find(gc.overrides.begin(), gc.overrides.end(), "workload.BLOCK_K=32") != gc.overrides.end());  // 128 B of tf32

  // DeepGEMM rows run the block-scaled kernel with DeepGEMM's launch choice (get_best_configs): tile
  // widths in steps of 8, the fewest waves, then the fullest last wave; stages by its shared-memory sum.
  ReferenceRow dg = g;
  dg.preset = "h800_sxm5";
  dg.params = {{"M", "128"}, {"N", "2112"}, {"K", "7168"}, {"dtype_in", "e4m3"}, {"dtype_out", "bf16"}, {"impl", "deepgemm"}};
  auto has = [](const SimCase& c, const std::string& o) {
    return std::find(c.overrides.begin(), c.overrides.end(), o) != c.overrides.end();
  };
  // M = 128: 16-wide tiles fill the 132 SMs in one wave; no multicast below M = 1024; 8 stages.
  const SimCase small_m = std::get<SimCase>(mapper("gemm")->map(dg));
  CHECK(has(small_m, "workload.name=gemm_fp8_scaled"));
  CHECK(has(small_m, "workload.dtype_in=f8e4m3"));
  CHECK(has(small_m, "workload.BLOCK_N=16"));
  CHECK(has(small_m, "workload.cluster_m=1"));
  CHECK(has(small_m, "workload.cluster_n=1"));
  CHECK(has(small_m, "workload.stages=8"));
  // M = 4096, N = 2112: 32 x 19 tiles of 112 columns take 5 waves like 120 and 128 with the fullest last
  // wave (80 tiles); 112 does not divide 128 (two B scales, at most 6 stages); 2112 is not a multiple of
  // 224, so no multicast.
  dg.params["M"] = "4096";
  const SimCase mid = std::get<SimCase>(mapper("gemm")->map(dg));
  CHECK(has(mid, "workload.BLOCK_N=112"));
  CHECK(has(mid, "workload.cluster_n=1"));
  CHECK(has(mid, "workload.stages=6"));
  // N = 7168: 128-wide tiles (14 waves, the fewest), A multicast over pairs of tiles along N, and 5 stages:
  // 6 x 33296 B of stages plus the 32 KiB output tile and B's scales exceed the 227 KiB.
  dg.params["N"] = "7168";
  dg.params["K"] = "16384";
  const SimCase large = std::get<SimCase>(mapper("gemm")->map(dg));
  CHECK(has(large, "workload.BLOCK_N=128"));
  CHECK(has(large, "workload.cluster_m=1"));
  CHECK(has(large, "workload.cluster_n=2"));
  CHECK(has(large, "workload.stages=5"));
  // M = 64: DeepGEMM's 64-row tiles of one math warp group; 16-wide tiles fill the SMs in one wave, and
  // 8 stages of 10512 B fit.
  dg.params = {{"M", "64"}, {"N", "2112"}, {"K", "7168"}, {"dtype_in", "e4m3"}, {"dtype_out", "bf16"}, {"impl", "deepgemm"}};
  const SimCase one_group = std::get<SimCase>(mapper("gemm")->map(dg));
  CHECK(has(one_group, "workload.BLOCK_M=64"));
  CHECK(has(one_group, "workload.consumers=1"));
  CHECK(has(one_group, "workload.BLOCK_N=16"));
  CHECK(has(one_group, "workload.stages=8"));
  CHECK(has(small_m, "workload.consumers=2"));
  dg.params["M"] = "4096";
  dg.params["dtype_in"] = "bf16";
  CHECK_THAT(std::get<std::string>(mapper("gemm")->map(dg)), Contains("FP8"));

  // Grouped GEMM rows (SCHEMA.md grouped_gemm: DeepGEMM's m-grouped layouts) run the block-scaled kernel
  // with one weight per group over groups x M rows. Contiguous: the launch of one GEMM of all the rows
  // (4 x 8192 rows, N = 4096: 128-wide tiles, A multicast); masked: of `groups` GEMMs of M rows, never
  // multicast (4 x 256 rows, N = 7168: 8 tile rows x 64 tiles of 112 fill the 4th wave with 116 of 132).
  ReferenceRow gg = g;
  gg.workload = "grouped_gemm";
  gg.preset = "h800_sxm5";
  gg.params = {{"groups", "4"}, {"M", "8192"}, {"N", "4096"}, {"K", "7168"}, {"layout", "contiguous"}, {"dtype_in", "e4m3"}};
  const SimCase contiguous = std::get<SimCase>(mapper("grouped_gemm")->map(gg));
  CHECK(has(contiguous, "workload.name=gemm_fp8_scaled"));
  CHECK(has(contiguous, "workload.M=32768"));
  CHECK(has(contiguous, "workload.groups=4"));
  CHECK(has(contiguous, "workload.BLOCK_N=128"));
  CHECK(has(contiguous, "workload.cluster_n=2"));
  gg.params = {{"groups", "4"}, {"M", "256"}, {"N", "7168"}, {"K", "2048"}, {"layout", "masked"}, {"dtype_in", "e4m3"}};
  const SimCase masked = std::get<SimCase>(mapper("grouped_gemm")->map(gg));
  CHECK(has(masked, "workload.M=1024"));
  CHECK(has(masked, "workload.BLOCK_N=112"));
  CHECK(has(masked, "workload.cluster_n=1"));
  gg.params["M"] = "32";  // a partial tile per group needs the per-group row mask the kernel lacks
  CHECK_THAT(std::get<std::string>(mapper("grouped_gemm")->map(gg)), Contains("whole number of 64-row tiles"));
  gg.params["M"] = "256";
  gg.params["layout"] = "ragged";
  CHECK_THAT(std::get<std::string>(mapper("grouped_gemm")->map(gg)), Contains("layout 'ragged'"));

  // tcgen05 rows run on b200 with the sm_100 layer: throughput (TS: A off the shared-memory stream); the
  // single-MMA latency and CTA pairs are refused by name.
  ReferenceRow tc = g;
  tc.workload = "mma";
  tc.preset = "b200";
  tc.unit = "FLOP/clk/SM";
  tc.params = {{"instr", "tcgen05"}, {"shape", "m128n64k16"}, {"dtype_in", "bf16"}, {"operands", "TS"},
               {"cta_group", "1"}, {"mode", "throughput"}};
  const SimCase tcc = std::get<SimCase>(mapper("mma")->map(tc));
  CHECK(tcc.presets == std::vector<std::string>{"b200", "sm100_core"});
  CHECK(has(tcc, "workload.operands=RS"));
  CHECK(has(tcc, "workload.shape=m128n64k16"));
  tc.params["cta_group"] = "2";
  CHECK_THAT(std::get<std::string>(mapper("mma")->map(tc)), Contains("cta_group::2"));
  tc.params["cta_group"] = "1";
  tc.params["mode"] = "latency";
  CHECK_THAT(std::get<std::string>(mapper("mma")->map(tc)), Contains("tcgen05_latency"));
  tc.preset = "h800_pcie";
  tc.params["mode"] = "throughput";
  CHECK_THAT(std::get<std::string>(mapper("mma")->map(tc)), Contains("sm_100"));

  // Attention rows: 128 query rows per program and the most key rows (a multiple of 16, up to 128) whose
  // Q tile and two stages of K and V fit the scratch: 128 for head dim 128; for 256, 2 x 256 x (128 + 4 x 80)
  // = 224 KiB fits the 227 KiB and 96 would not, as FlashAttention-3's 128 x 80.
  ReferenceRow att = g;
  att.workload = "attention_fwd";
  att.params = {{"batch", "1"}, {"heads", "16"}, {"seqlen", "16384"}, {"headdim", "128"}, {"dtype", "f16"}};
  const SimCase a128 = std::get<SimCase>(mapper("attention_fwd")->map(att));
  CHECK(has(a128, "workload.name=attention_ws"));
  CHECK(has(a128, "workload.BLOCK_M=128"));
  CHECK(has(a128, "workload.BLOCK_N=128"));
  CHECK_FALSE(has(a128, "workload.programs=132"));  // no impl: one program per tile
  att.params["impl"] = "fa3";  // FlashAttention-3: persistent, one program per SM, unless causal
  CHECK(has(std::get<SimCase>(mapper("attention_fwd")->map(att)), "workload.programs=132"));
  att.params["causal"] = "true";
  CHECK_FALSE(has(std::get<SimCase>(mapper("attention_fwd")->map(att)), "workload.programs=132"));
  att.params.erase("causal");
  att.params["headdim"] = "256";
  CHECK(has(std::get<SimCase>(mapper("attention_fwd")->map(att)), "workload.BLOCK_N=80"));

  ReferenceRow dmma = lat;
  dmma.params["instr"] = "dmma";
  CHECK(std::holds_alternative<std::string>(mapper("mma")->map(dmma)));
  ReferenceRow tpu = g;
  tpu.preset = "tpu_v5e";
  // TPU rows go to the megacore's mapper (arch/megacore/megacore_case_mappers.hpp), which runs 16-bit GEMMs.
  CHECK_THAT(std::get<std::string>(mapper("gemm")->map(tpu)), Contains("megacore mapper"));
}

TEST_CASE("a warp-specialised producer keeps every stage's copies in flight (put does not wait for them)",
          "[gpu][pipeline]") {
  // One program of gemm_ws on one SM: 32 K steps of 128 x 256 x 64, each 1024 tensor-pipe cycles (2 consumer
  // warp groups x 4 wgmma.m64n256k16 of 128 cycles). A stage (48 KiB) lands about 1300 cycles after its copies
  // are issued; with 4 stages the producer issues stage k+4 as soon as stage k is released, 3 K steps ahead of
  // its use, so in steady state the consumers never wait for data and the tensor pipe is busy for all but the
  // first stage's arrival and the epilogue (> 80 % of the kernel). A producer that waited at `put` for its
  // copies to land would keep one stage in flight and leave the pipe idle a third of the time (66 %).
  const fs::path d = fresh_dir("gemm_ws_pipeline");
  const Result r = run(cat("run -p h100_sxm5 -p sm90_core --set workload.name=gemm_ws --set workload.M=128 ",
                           "--set workload.N=256 --set workload.K=2048 --set workload.BLOCK_N=256 --set workload.stages=4 ",
                           "--set memory.tma.max_outstanding=1024 -q -o ", d.string()));
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto stats = nlohmann::json::parse(slurp(d / "stats.json"));
  const double busy = sum_stat(stats, "simt_sm", "tensor_pipe_busy");
  CHECK(busy == Approx(32 * 1024).epsilon(0.01));
  double kernel_cycles = 0;
  for (const auto& scope : stats["scopes"])
    if (scope["scope"] == "kernel") kernel_cycles = (scope["end_ps"].get<double>() - scope["begin_ps"].get<double>()) * 1.83e9 * 1e-12;
  REQUIRE(kernel_cycles > 0);
  CHECK(busy / kernel_cycles > 0.8);
}

TEST_CASE("multicast over cluster axes cuts gemm_ws's copy-engine line requests by the shared tiles",
          "[gpu][multicast]") {
  // gemm_ws 512 x 512 x 512 bf16, 128 x 256 tiles, K tiles of 64: 8 programs x 8 K steps, each loading A
  // (128 rows x 128 B = 128 lines) and B (64 rows x 512 B = 256 lines): 384 lines per step without
  // clusters. The CM programs of a cluster column share B (each fetches 1/CM of it), the CN programs of a
  // cluster row share A (1/CN each), while every SM's scratch still receives both whole tiles.
  struct Shape {
    int cm, cn;
    double lines_per_step, received_per_step;  // line requests; bytes from peers
  };
  for (const Shape& sh : {Shape{1, 1, 384, 0}, Shape{2, 1, 128 + 128, 128 * 128}, Shape{1, 2, 64 + 256, 64 * 128},
                          Shape{2, 2, 64 + 128, (64 + 128) * 128}}) {
    const fs::path d = fresh_dir(cat("gemm_ws_multicast", sh.cm, sh.cn));
    const Result r = run(cat("run -p h100_sxm5 -p sm90_core --set workload.name=gemm_ws --set workload.M=512 ",
                             "--set workload.N=512 --set workload.K=512 --set workload.BLOCK_N=256 ",
                             "--set workload.cluster_m=", sh.cm, " --set workload.cluster_n=", sh.cn, " -q -o ", d.string()));
    INFO(sh.cm << "x" << sh.cn << " clusters\n" << r.output);
    REQUIRE(r.code == 0);
    const auto stats = nlohmann::json::parse(slurp(d / "stats.json"));
    CHECK(sum_stat(stats, "copy_engine", "line_requests") == 8 * 8 * sh.lines_per_step);
    CHECK(sum_stat(stats, "copy_engine", "multicast_bytes_received") == 8 * 8 * sh.received_per_step);
  }
}

TEST_CASE("the gpu case mappers run DFMA and DMMA rows and read an issue interval in cycles", "[gpu][validation][f64]") {
  using validation::CaseMapperRegistry;
  using validation::ReferenceRow;
  using validation::SimCase;
  auto mapper = [](const char* w) { return CaseMapperRegistry::instance().get(w, "test").make({}); };
  auto has = [](const SimCase& c, const std::string& o) {
    return std::find(c.overrides.begin(), c.overrides.end(), o) != c.overrides.end();
  };
  ReferenceRow dfma;
  dfma.id = "dfma";
  dfma.preset = "v100";
  dfma.workload = "alu";
  dfma.params = {{"op", "dfma"}, {"mode", "latency"}};
  dfma.unit = "cycles";
  const auto dm = mapper("alu")->map(dfma);
  REQUIRE(std::holds_alternative<SimCase>(dm));
  CHECK(has(std::get<SimCase>(dm), "workload.op=dfma"));

  // DMMA is mma.sync .f64: the warp-level tensor unit, the 2x2 tile of m8n8k4 instructions of the
  // throughput rows, 4 programs per SM, f64 in and out.
  ReferenceRow dmma;
  dmma.id = "dmma";
  dmma.preset = "a100_sxm4";
  dmma.workload = "mma";
  dmma.params = {{"instr", "dmma"}, {"shape", "m8n8k4"}, {"dtype_in", "f64"}, {"dtype_acc", "f64"}, {"mode", "throughput"}};
  dmma.unit = "cycles";
  const auto mm = mapper("mma")->map(dmma);
  REQUIRE(std::holds_alternative<SimCase>(mm));
  const SimCase& c = std::get<SimCase>(mm);
  CHECK(has(c, "core.tensor.kind=mma_sync"));
  CHECK(has(c, "workload.instr=mma_sync"));
  CHECK(has(c, "workload.shape=m16n16k4"));
  CHECK(has(c, "workload.dtype_in=f64"));
  CHECK(has(c, "workload.dtype_acc=f64"));
  CHECK(has(c, "workload.blocks=432"));
  ReferenceRow wrong = dmma;
  wrong.params["dtype_in"] = "f16";
  CHECK_THAT(std::get<std::string>(mapper("mma")->map(wrong)), Contains("dmma takes f64 operands"));

  // A synthetic run at exactly 128 FLOP/clk/SM on 108 SMs at 1.41 GHz: 432 programs x 4096 iterations x
  // 2 x 16 x 16 x 4 FLOP = 262144 cycles. One m8n8k4 (512 FLOP) per sub-partition every 512 x 4 / 128 = 16
  // cycles; 128 x 108 x 1.41 GHz = 19.49 TFLOPS.
  nlohmann::json stats;
  stats["clocks"] = nlohmann::json::array({{{"name", "core"}, {"frequency_hz", 1.41e9}}});
  nlohmann::json total = {{"scope", "total"}, {"components", nlohmann::json::array()}};
  for (int i = 0; i < 108; ++i) total["components"].push_back({{"name", cat("sm", i)}, {"kind", "simt_sm"}});
  const double seconds = 262144 / 1.41e9;
  stats["scopes"] = nlohmann::json::array({total, {{"scope", "kernel"}, {"kernel", "mma"}, {"begin_ps", 0.0},
                                                   {"end_ps", seconds * 1e12}}});
  const auto interval = mapper("mma")->extract(dmma, stats);
  REQUIRE(interval.has_value());
  CHECK(*interval == Approx(16.0));
  ReferenceRow tflops = dmma;
  tflops.unit = "TFLOPS";
  const auto rate = mapper("mma")->extract(tflops, stats);
  REQUIRE(rate.has_value());
  CHECK(*rate == Approx(128 * 108 * 1.41e9 / 1e12));
}

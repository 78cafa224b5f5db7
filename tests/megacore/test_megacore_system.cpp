// The `megacore` system kind as a user runs it (`tilesim run`, one process per simulation): first-principles
// timings of the MXU, the vector unit and the DMA path, values against the interpreter, determinism, errors,
// whole-core stall attribution, grid-step pipelining, the trace and the case mappers.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "arch/megacore/megacore_case_mappers.hpp"
#include "arch/megacore/systolic_array.hpp"
#include "sim/text_util.hpp"
#include "tests/common/command.hpp"
#include "validation/case_mapper.hpp"

using Catch::Matchers::Contains;
namespace fs = std::filesystem;
using namespace tilesim;

namespace {

using Result = tilesim::test::CommandResult;
using tilesim::test::slurp;
Result run(const std::string& args) { return tilesim::test::run_tilesim(args); }
fs::path fresh_dir(const std::string& name) { return tilesim::test::fresh_temp_dir("megacore_" + name); }

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

nlohmann::json run_ok(const std::string& name, const std::string& args) {
  const fs::path d = fresh_dir(name);
  const Result r = run(cat("run ", args, " -o ", d.string()));
  INFO(r.output);
  REQUIRE(r.code == 0);
  return nlohmann::json::parse(slurp(d / "stats.json"));
}

double kernel_seconds(const nlohmann::json& stats, const std::string& kernel) {
  return validation::kernel_seconds(stats, kernel).value_or(0.0);
}

const char* const kSmall = "--set workload.scale=functional --set workload.values=true";

}  // namespace

TEST_CASE("megacore: one MXU fold takes the weight-stationary formula's cycles plus the push latency", "[megacore][mxu]") {
  // One fold per GEMM (K, N <= 128): SCALE-Sim's 2R + C + T - 2 with T = M on a 128 x 128 array, partial folds
  // charged the full array (operands padded as on a TPU), plus core.megacore.mxu_push_latency.
  struct Shape {
    int m, k, n;
  };
  for (const Shape s : {Shape{128, 128, 128}, Shape{96, 100, 80}, Shape{200, 64, 128}}) {
    const auto stats = run_ok(cat("fold_", s.m, "_", s.k, "_", s.n),
                              cat("-p tpu_v5e --set workload.name=gemm --set core.megacore.mxus=1 --set "
                                  "core.megacore.mxu_push_latency=3 --set workload.M=", s.m, " --set workload.K=", s.k,
                                  " --set workload.N=", s.n, " --set workload.BLOCK_M=", s.m, " --set workload.BLOCK_K=", s.k,
                                  " --set workload.BLOCK_N=", s.n));
    const megacore::ArrayShape a{128, 128, megacore::Dataflow::weight_stationary};
    const double formula = static_cast<double>(megacore::scalesim_compute_cycles(a, static_cast<std::uint64_t>(s.m),
                                                                                static_cast<std::uint64_t>(s.k),
                                                                                static_cast<std::uint64_t>(s.n)));
    INFO("M=" << s.m << " K=" << s.k << " N=" << s.n);
    CHECK(formula == 2 * 128 + 128 + s.m - 2);
    CHECK(sum_stat(stats, "megacore", "mxu_fold_cycles.count") == 1);
    CHECK(sum_stat(stats, "megacore", "mxu_fold_cycles.mean") == formula + 3);
    // The static schedule placed the pop where the fold completes: no whole-core stall on the result.
    CHECK(sum_stat(stats, "megacore", "stall_mxu_result") == 0);
  }
}

TEST_CASE("megacore: a vector add streams 2 E / (lanes x sublanes) cycles through the VPU", "[megacore][vpu]") {
  // An f32 add of two E-element tiles: two vector loads per output vreg through the one load slot, so
  // 2 E / (lanes x sublanes) cycles; twice the lanes halve it. (The loads themselves are DMAs.)
  const int E = 65536;
  for (int lanes : {128, 256}) {
    const auto stats = run_ok(cat("vpu_", lanes), cat("-p tpu_v5e --set workload.name=elementwise --set workload.N=", E,
                                                      " --set workload.BLOCK=", E, " --set core.megacore.lanes=", lanes));
    CHECK(sum_stat(stats, "megacore", "vpu_busy") == 2.0 * E / (lanes * 8));
  }
}

TEST_CASE("megacore: DMA bandwidth saturates at the HBM peak the configuration implies", "[megacore][dma]") {
  // tpu_v6e: 8 controllers x 512 bit x 2 (DDR) x 1.6 GHz = 1638.4 GB/s. A copy through VMEM in 1 MiB DMAs
  // (read + write) gets close to it and never above.
  const auto stats = run_ok("dma_bw", "-p tpu_v6e --set workload.name=bulk_copy --set workload.bytes_per_copy=1MiB "
                                      "--set workload.blocks=1 --set workload.footprint=32MiB");
  const double bytes = sum_stat(stats, "megacore", "dma_bytes_in") + sum_stat(stats, "megacore", "dma_bytes_out");
  CHECK(bytes == 2.0 * 32 * 1024 * 1024);
  const double bw = bytes / kernel_seconds(stats, "bulk_copy");
  const double peak = 8 * 512 / 8.0 * 2 * 1.6e9;
  INFO("achieved " << bw / 1e9 << " GB/s of " << peak / 1e9);
  CHECK(bw <= peak);
  CHECK(bw >= 0.8 * peak);
}

TEST_CASE("megacore: gemm at functional scale carries values that match the interpreter", "[megacore][values]") {
  const auto stats = run_ok("gemm_values", cat("-p tpu_v6e ", kSmall));
  CHECK(sum_stat(stats, "value_check", "elements") > 0);
  CHECK(sum_stat(stats, "value_check", "mismatches") == 0);
  CHECK(sum_stat(stats, "megacore", "mxu_folds") > 0);
}

TEST_CASE("megacore: attention_fwd at functional scale carries values that match the interpreter", "[megacore][values]") {
  const auto stats = run_ok("attention_values", cat("-p tpu_v6e --set workload.name=attention_fwd ", kSmall));
  CHECK(sum_stat(stats, "value_check", "elements") > 0);
  CHECK(sum_stat(stats, "value_check", "mismatches") == 0);
}

TEST_CASE("megacore: output-stationary MXUs on two TensorCores give the same values", "[megacore][values]") {
  const auto stats = run_ok("gemm_os", cat("-p tpu_v7 --set core.megacore.dataflow=output_stationary ", kSmall));
  CHECK(sum_stat(stats, "value_check", "mismatches") == 0);
  CHECK(sum_stat(stats, "megacore", "programs") == 4);
}

TEST_CASE("megacore: two runs give identical stats", "[megacore][determinism]") {
  const fs::path a = fresh_dir("det_a"), b = fresh_dir("det_b");
  const std::string args = "run -p tpu_v6e --set workload.name=attention_fwd --set workload.scale=functional -o ";
  REQUIRE(run(args + a.string()).code == 0);
  REQUIRE(run(args + b.string()).code == 0);
  CHECK(slurp(a / "stats.json") == slurp(b / "stats.json"));
}

TEST_CASE("megacore: a kernel that does not fit VMEM says by how much", "[megacore][errors]") {
  const Result r = run("run -p hypothetical_megacore --check --set workload.BLOCK_M=4096 --set workload.BLOCK_N=4096 "
                       "--set workload.BLOCK_K=512");
  CHECK(r.code != 0);
  // 3 stages x (4 MiB A + 4 MiB B) + 64 MiB f32 accumulator + 32 MiB bf16 result = 120 MiB, 56 MiB over 64 MiB.
  CHECK_THAT(r.output, Contains("does not fit the megacore's VMEM") && Contains("125829120 B") &&
                           Contains("58720256 B more than memory.scratch.size"));
}

TEST_CASE("megacore: a misspelt core.megacore key gets a did-you-mean", "[megacore][errors]") {
  const Result r = run("run -p tpu_v5e --check --set core.megacore.mxu_row=64");
  CHECK(r.code != 0);
  CHECK_THAT(r.output, Contains("mxu_row") && Contains("mxu_rows"));
}

TEST_CASE("megacore: a DMA-bound GEMM stalls the whole core on dma_wait", "[megacore][stalls]") {
  // 256 x 256 output blocks with 256-deep K steps: 128 FLOP per byte of HBM traffic, far below tpu_v6e's
  // ~560 FLOP/B balance, and a 64-cycle MXU step behind each 256 KiB of DMA, so the core waits on DMA
  // semaphores most of the time. (128 x 128 blocks on 256 x 256 MXUs are issue-bound instead.)
  const fs::path d = fresh_dir("dma_bound");
  const Result r = run(cat("run -p tpu_v6e --set workload.M=1024 --set workload.N=1024 --set workload.K=4096 "
                           "--set workload.BLOCK_M=256 --set workload.BLOCK_N=256 --set workload.BLOCK_K=256 -o ",
                           d.string()));
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto stats = nlohmann::json::parse(slurp(d / "stats.json"));
  const double wait = sum_stat(stats, "megacore", "stall_dma_wait");
  for (const char* other : {"stall_mxu_busy", "stall_mxu_result", "stall_vmem_reuse", "stall_dma_issue"})
    CHECK(wait > sum_stat(stats, "megacore", other));
  CHECK(wait > sum_stat(stats, "megacore", "stall_issued"));
  const std::string report = slurp(d / "report.txt");
  CHECK_THAT(report, Contains("top stalls (share of issue slots): dma_wait") && Contains("bound: memory") &&
                         Contains("utilisation: mxu"));
}

TEST_CASE("megacore: the next grid step's prologue DMAs overlap the current step", "[megacore][pipelining]") {
  const std::string args = "-p tpu_v6e --set workload.M=1024 --set workload.N=1024 --set workload.K=512 "
                           "--set workload.BLOCK_M=256 --set workload.BLOCK_N=256 --set workload.BLOCK_K=256";
  const auto piped = run_ok("piped", args);
  const auto serial = run_ok("serial", args + " --set core.megacore.resident_programs=1");
  CHECK(sum_stat(piped, "megacore", "early_dmas") > 0);
  CHECK(sum_stat(serial, "megacore", "early_dmas") == 0);
  CHECK(kernel_seconds(piped, "gemm") < kernel_seconds(serial, "gemm"));
}

TEST_CASE("megacore: the trace shows MXU folds, vector ops and grid steps", "[megacore][trace]") {
  const fs::path d = fresh_dir("trace");
  const Result r = run(cat("run -p tpu_v6e --set workload.name=attention_fwd --set workload.scale=functional -o ",
                           d.string(), " --trace ", (d / "trace.json").string()));
  INFO(r.output);
  REQUIRE(r.code == 0);
  const auto trace = nlohmann::json::parse(slurp(d / "trace.json"));
  const auto& events = trace.is_object() ? trace["traceEvents"] : trace;
  bool push = false, vector = false, step = false;
  for (const auto& e : events) {
    const std::string n = e.value("name", "");
    push |= n.find(".push") != std::string::npos;
    vector |= n.rfind("exp@", 0) == 0;
    step |= n.rfind("attention_fwd (", 0) == 0;
  }
  CHECK(push);
  CHECK(vector);
  CHECK(step);
}

TEST_CASE("megacore: GEMM blocks come from one rule of VMEM and MXU size", "[megacore][mapper]") {
  // BK = 2 x MXU; B = the largest power of two >= the MXU size whose two grid steps (12 B BK + 6 B^2) fit VMEM.
  CHECK(megacore::gemm_blocks(8192, 8192, 256, 128ull << 20).bm == 2048);  // 2 x 36 MiB <= 128 MiB; 4096: 2 x 120
  CHECK(megacore::gemm_blocks(4096, 4096, 256, 64ull << 20).bm == 1024);   // 2 x 12 MiB; 2048 needs 2 x 36 MiB
  CHECK(megacore::gemm_blocks(4096, 4096, 256, 64ull << 20).bk == 512);
  CHECK(megacore::gemm_blocks(300, 8192, 128, 128ull << 20).bm == 256);   // capped by min(M, N)
  CHECK(megacore::gemm_blocks(64, 64, 256, 128ull << 20).bm == 256);      // never below the MXU
}

namespace {
/// The overrides map_gemm() gives a square bf16 GEMM row of one TensorCore on `preset`.
std::vector<std::string> mapped_gemm(const std::string& preset, const std::string& size) {
  validation::ReferenceRow row;
  row.id = cat(preset, "-gemm-bf16-", size);
  row.preset = preset;
  row.workload = "gemm";
  row.params = {{"M", size}, {"N", size}, {"K", size}, {"dtype_in", "bf16"}, {"cores", "1"}};
  row.unit = "TFLOPS";
  const auto m = megacore::map_gemm(row);
  REQUIRE(std::holds_alternative<validation::SimCase>(m));
  return std::get<validation::SimCase>(m).overrides;
}
bool has(const std::vector<std::string>& v, const std::string& o) { return std::find(v.begin(), v.end(), o) != v.end(); }
}  // namespace

TEST_CASE("megacore: TPU calibration rows map onto the megacore system", "[megacore][mapper]") {
  CHECK(megacore::is_megacore_preset("tpu_v7"));
  CHECK_FALSE(megacore::is_megacore_preset("h100_sxm5"));
  const auto o = mapped_gemm("tpu_v7", "4096");
  CHECK(has(o, "system=megacore"));
  CHECK(has(o, "chip.cores=1"));  // one JAX device = one TensorCore
  CHECK(has(o, "workload.name=gemm"));
  CHECK(has(o, "workload.BLOCK_M=1024"));
  CHECK(has(o, "workload.BLOCK_K=512"));
}

TEST_CASE("megacore: GEMM blocks fit the compiler's scoped-VMEM limit, not the whole VMEM", "[megacore][mapper]") {
  // tpu_v6e has 128 MiB of VMEM (2048^2 blocks would fit: 2 x 36 MiB) but XLA's default scoped limit is 32 MiB.
  const auto o = mapped_gemm("tpu_v6e", "8192");
  CHECK(has(o, "workload.BLOCK_M=1024"));
  CHECK(has(o, "workload.BLOCK_N=1024"));
}

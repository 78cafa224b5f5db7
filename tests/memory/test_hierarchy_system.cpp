// System-level checks of the memory hierarchy: write-back traffic, configuration errors that name their
// keys, the presets build, and determinism (two runs of the same configuration give identical stats).
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "sim/error.hpp"
#include "tests/common/command.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;
using Catch::Matchers::Contains;

namespace {
std::string run_cli(const std::string& args) {
  const CommandResult r = run_tilesim(args);
  INFO(r.output);
  REQUIRE(r.code == 0);
  return r.output;
}

}  // namespace

TEST_CASE("a write stream over a dirty cache writes back one line per line written", "[writeback]") {
  // 8 MiB of full-line writes into a 2 MiB L2 prefilled with dirty lines: write-allocate without fetch,
  // every allocation evicts a dirty line, so DRAM sees exactly as many bytes written as the stream wrote
  // (none read), and the slices' write-backs match the controllers' writes.
  auto sim = build_spec(parse_spec(kSmallHierarchy, {"workload.kind=stream", "workload.op=write", "workload.threads=1024",
                                                     "workload.blocks_per_core=1", "workload.iterations=1000000",
                                                     "workload.footprint=64MiB", "workload.access_bytes=8B",
                                                     "workload.loads_in_flight=4", "workload.max_bytes=8MiB",
                                                     "memory.l2.prefill=true", "memory.l2.prefill_dirty=1"}));
  REQUIRE(sim->run().completed);
  double written = 0, read = 0, writebacks = 0;
  for (int k = 0; k < 2; ++k) {
    written += total_stat(*sim, cat("mc", k), "bytes_written");
    read += total_stat(*sim, cat("mc", k), "bytes_read");
  }
  for (int g = 0; g < 4; ++g) writebacks += total_stat(*sim, cat("l2.slice", g), "writeback_bytes");
  CHECK(read == 0);
  CHECK(written == writebacks);
  CHECK(written == Approx(8.0 * (1 << 20)).epsilon(0.001));
}

TEST_CASE("every block of a grid runs exactly once, whatever retires together", "[probe]") {
  // 37 blocks of 64 threads on 4 cores, 3 at a time, a 50-cycle launch latency: blocks retire together and
  // their slots relaunch later; the grid must still run 37 blocks, each moving 64 x 8 B once: the first
  // wave of 12, then 25 handed out by the block dispatcher.
  auto sim = build_spec(parse_spec(kSmallHierarchy, {"workload.kind=stream", "workload.op=read", "workload.threads=64",
                                                     "workload.blocks=37", "workload.blocks_per_core=3",
                                                     "workload.footprint=1MiB", "workload.access_bytes=8B",
                                                     "core.block_launch_latency=50"}));
  REQUIRE(sim->run().completed);
  double blocks = 0;
  for (int c = 0; c < 4; ++c) blocks += total_stat(*sim, cat("probe", c), "blocks");
  CHECK(blocks == 37);
  CHECK(total_stat(*sim, "dispatcher", "granted") == 25);
  CHECK(total_stat(*sim, "monitor", "bytes") == 37 * 64 * 8);
}

// One simulator per process: each impossible configuration is its own case.
TEST_CASE("an L2 that does not split into whole sets per slice names memory.l2.size", "[config]") {
  // 2100 KiB over 4 slices is 525 KiB per slice: not a multiple of 128 B x 16 ways.
  CHECK_THROWS_WITH(build_spec(parse_spec(kSmallHierarchy, {"memory.l2.size=2100KiB"})), Contains("memory.l2.size"));
}

TEST_CASE("controllers that do not split over the partitions name memory.hbm.controllers", "[config]") {
  CHECK_THROWS_WITH(build_spec(parse_spec(kSmallHierarchy, {"memory.hbm.controllers=3"})),
                    Contains("memory.hbm.controllers"));
}

TEST_CASE("a cluster window smaller than the scratch names memory.dsmem.window_bytes", "[config]") {
  CHECK_THROWS_WITH(build_spec(parse_spec(kSmallHierarchy, {"memory.dsmem.window_bytes=4KiB"})),
                    Contains("memory.dsmem.window_bytes"));
}

TEST_CASE("a misspelt hierarchy key gets a suggestion", "[config]") {
  CHECK_THROWS_WITH(parse_spec(kSmallHierarchy, {"memory.l2.sise=3MiB"}), Contains("did you mean 'size'"));
}

TEST_CASE("every memory preset builds", "[presets]") {
  for (const char* p : {"a100_sxm4", "a100_40gb", "a100_pcie", "h100_sxm5", "h100_pcie", "h800_pcie", "h800_sxm5", "h200", "b200"})
    run_cli(cat("run -p ", p, " --check -q"));
  // The Volta, Turing and Ada device presets carry their SM layer (system gpu); both systems build.
  for (const char* p : {"v100", "titan_v", "rtx2070", "rtx4090", "l40"}) {
    run_cli(cat("run -p ", p, " --check -q"));
    run_cli(cat("run -p ", p, " --set system=memory_probe --check -q"));
  }
}

TEST_CASE("the same configuration gives byte-identical stats", "[determinism]") {
  const std::string dir = "memory_determinism";
  const std::string cfg = dir + ".yaml";
  {
    std::ofstream f(cfg);
    f << kSmallHierarchy;
  }
  const std::string common = cat("run -c ", cfg, " --set workload.kind=stream --set workload.op=triad ",
                                 "--set workload.footprint=8MiB --set workload.threads=256 --set workload.blocks=64 ",
                                 "--set workload.blocks_per_core=2 --set memory.l2.prefill=true ",
                                 "--set memory.l2.prefill_dirty=0.3 -q -o ");
  run_cli(common + dir + "_a");
  run_cli(common + dir + "_b");
  const std::string a = slurp(dir + "_a/stats.json"), b = slurp(dir + "_b/stats.json");
  REQUIRE(!a.empty());
  CHECK(a == b);
}

TEST_CASE("head_of_line and a wider input_window contradict each other and name both keys", "[config]") {
  try {
    build_spec(parse_spec(kSmallHierarchy, {"memory.noc.head_of_line=true", "memory.noc.input_window=4"}));
    FAIL("expected a configuration error");
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    CHECK(what.find("head_of_line") != std::string::npos);
    CHECK(what.find("input_window") != std::string::npos);
  }
}

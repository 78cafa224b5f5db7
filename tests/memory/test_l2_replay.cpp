// Regression (issues #4/#5, the 8192^3 gemm_ws on h100_sxm5): a read whose line's MSHR target list is
// full waits beside the MSHR in a replay slot and is looked up again after the fill; it must not hold up
// the reads behind it at the head of the slice's input (that made every read of a slice wait a miss round
// trip whenever more than mshr_targets cores read one line: 277 instead of 508 TFLOPS on a one-wave
// 8192 x 512 x 8192 proxy, where 64 CTAs read each B tile).
#include <catch2/catch.hpp>

#include "sim/text_util.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

TEST_CASE("reads beyond a line's MSHR targets wait in replay slots, not at the head of the slice input", "[l2][regression]") {
  // Every core streams the same 64 KiB in a random line order with one target per MSHR: the second read of
  // any line in flight finds its target list full. 4 cores x 8 loads in flight never fill a slice's 64
  // replay slots (memory.noc.slice_queue), so no head waits for targets.
  auto sim = build_spec(parse_spec(
      kSmallHierarchy, {"workload.kind=stream", "workload.op=read", "workload.access_bytes=8B",
                        "workload.iterations=100000", "workload.block_run=1", "workload.loads_in_flight=8",
                        "workload.threads=1024", "workload.blocks_per_core=2", "workload.max_bytes=8MiB",
                        "workload.footprint=64KiB", "workload.stream_order=random", "memory.l2.mshr_targets=1"}));
  REQUIRE(sim->run().completed);
  CHECK(total_stat(*sim, "monitor", "bytes") == 8.0 * (1 << 20));
  double replays = 0, stalls = 0, reads = 0, hits = 0, misses = 0;
  for (int g = 0; g < 4; ++g) {
    const std::string s = cat("l2.slice", g);
    replays += total_stat(*sim, s, "replays");
    stalls += total_stat(*sim, s, "stalls");
    reads += total_stat(*sim, s, "reads");
    hits += total_stat(*sim, s, "read_hits");
    misses += total_stat(*sim, s, "read_misses");
  }
  CHECK(replays > 0);
  CHECK(stalls == 0);
  CHECK(hits + misses == reads);  // every replayed read is counted once, as a miss
}

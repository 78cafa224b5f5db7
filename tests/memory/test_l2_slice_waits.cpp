// The L2 slice's queueing statistics: how long requests wait at its inputs before their tag lookup
// (`input_wait`) and how long answers wait for its data port (`data_port_wait`). They say which part of a
// loaded L2 latency is queueing at the slice (the crossbar reports its own waits).
#include <catch2/catch.hpp>

#include "sim/text_util.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

struct SliceWaits {
  double lookups = 0, input_max = 0, answers = 0, port_max = 0, port_wait_sum = 0;
};

SliceWaits slice_waits(const Simulator& sim) {
  SliceWaits w;
  for (int s = 0; s < 4; ++s) {  // kSmallHierarchy: 2 partitions x 2 slices
    const std::string slice = cat("l2.slice", s);
    w.lookups += total_stat(sim, slice, "input_wait.count");
    w.input_max = std::max(w.input_max, total_stat(sim, slice, "input_wait.max"));
    const double n = total_stat(sim, slice, "data_port_wait.count");
    w.answers += n;
    w.port_max = std::max(w.port_max, total_stat(sim, slice, "data_port_wait.max"));
    w.port_wait_sum += n * total_stat(sim, slice, "data_port_wait.mean");
  }
  return w;
}

}  // namespace

TEST_CASE("an unloaded L2 never queues: one read at a time waits neither at the inputs nor for the data port",
          "[l2][latency]") {
  // A single-thread chase: each read is alone in the hierarchy, so its slice looks it up the cycle it
  // arrives and its data port is free (test_hierarchy_latency: the unloaded sums hold exactly).
  auto sim = build_spec(parse_spec(kSmallHierarchy, {"workload.footprint=256KiB", "workload.spacing=128B"}));
  REQUIRE(sim->run().completed);
  const SliceWaits w = slice_waits(*sim);
  CHECK(w.lookups > 2000);
  CHECK(w.answers > 2000);
  CHECK(w.input_max == 0);
  CHECK(w.port_max == 0);
}

TEST_CASE("reads that arrive together at one slice queue for its data port, one line per line time", "[l2]") {
  // Every core streams the same 64 KiB (it stays in the L2) with 8 loads in flight per warp: the slices
  // get lines faster than their 64 B/clk data ports answer (2 cycles per 128 B line), so answers wait.
  // An answer waits only for the answers reserved ahead of it on its port, one per read in flight to that
  // slice, and at most 4 cores x 64 L1 MSHRs are in flight: no wait exceeds 256 x 2 cycles.
  auto sim = build_spec(parse_spec(
      kSmallHierarchy, {"workload.kind=stream", "workload.op=read", "workload.access_bytes=8B",
                        "workload.iterations=100000", "workload.block_run=1", "workload.loads_in_flight=8",
                        "workload.threads=1024", "workload.blocks_per_core=2", "workload.max_bytes=2MiB",
                        "workload.footprint=64KiB"}));
  REQUIRE(sim->run().completed);
  const SliceWaits w = slice_waits(*sim);
  INFO("answers " << w.answers << ", longest data-port wait " << w.port_max << ", input max " << w.input_max);
  CHECK(w.port_max > 0);
  CHECK(w.port_max <= 4 * 64 * 2);
  CHECK(w.port_wait_sum > 0);
}

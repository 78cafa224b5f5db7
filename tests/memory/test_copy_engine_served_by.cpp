// The copy engine's loaded latency split by where the L2 answered each line read (ServedBy, set by the
// answering slice and carried back in the response): an L2 hit, a read merged into a miss another read
// started, or its own miss to memory. A TMA-bound kernel's report then says which of them its latency is
// made of (a kernel whose cores read the same lines in lock-step waits mostly on misses in flight).
#include <catch2/catch.hpp>

#include "sim/text_util.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

struct ReadKinds {
  double hits, in_flight, memory, lines;
  double hit_latency, memory_latency;
};

ReadKinds tma_chase(const std::vector<std::string>& overrides) {
  std::vector<std::string> all{"workload.space=tma", "workload.spacing=128B", "workload.copy_bytes=16B"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  auto sim = build_spec(parse_spec(kSmallHierarchy, all));
  REQUIRE(sim->run().completed);
  ReadKinds k{};
  k.hits = total_stat(*sim, "core0.copy", "read_latency_l2_hit.count");
  k.in_flight = total_stat(*sim, "core0.copy", "read_latency_l2_in_flight.count");
  k.memory = total_stat(*sim, "core0.copy", "read_latency_memory.count");
  k.lines = total_stat(*sim, "core0.copy", "line_requests");
  k.hit_latency = total_stat(*sim, "core0.copy", "read_latency_l2_hit.mean");
  k.memory_latency = total_stat(*sim, "core0.copy", "read_latency_memory.mean");
  return k;
}

}  // namespace

TEST_CASE("a TMA chase over a footprint that fits the L2 misses each line once, then hits", "[copy][l2]") {
  // 256 KiB at 128 B spacing: 2048 lines, each read once cold (its own miss to memory); every later lap
  // hits. One read in flight at a time, so nothing is merged.
  const ReadKinds k = tma_chase({"workload.footprint=256KiB"});
  INFO("hits " << k.hits << " in flight " << k.in_flight << " memory " << k.memory << " lines " << k.lines);
  CHECK(k.memory == 2048);
  CHECK(k.in_flight == 0);
  CHECK(k.hits + k.memory == k.lines);
  CHECK(k.hits > 0);
  // A hit's loaded latency is the unloaded L2 round trip from the engine: 1 + 12 + 1 + 24 + 1 + 12 + 1 = 52
  // (test_hierarchy_latency: the same path inside the 123-cycle TMA load); a miss adds the controller path
  // and the DRAM access.
  CHECK(k.hit_latency == Approx(52).margin(1));
  CHECK(k.memory_latency > k.hit_latency + 2 * 25);
}

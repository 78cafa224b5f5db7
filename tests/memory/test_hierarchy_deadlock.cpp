// Regression tests for the L2 protocol deadlock between partitions (issue #5). A slice's miss on a line
// homed in another partition waits for that partition's slice to serve a `home_req`. Before the fix the
// slice's two request inputs shared one head-of-line: a core request that had to wait (its line's MSHR
// targets full, or no MSHR free) also held the home requests behind it, and two partitions could each
// hold the home request the other one's waiting head needed — the 8192^3 gemm_ws on h100_sxm5 stopped
// so at 46 us. Each case below shrinks the resource to reach the same cycle in a 4-core system within a
// fraction of a second; both deadlocked (no event pending, MSHRs held, nothing downstream) before the fix.
#include <catch2/catch.hpp>

#include "sim/text_util.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

// Every core streams the same 64 KiB (block_run=1) in a random line order: the cores' L1 misses meet in
// the L2 slices of both partitions, half of them on lines homed in the other partition.
const std::vector<std::string> kSharedRandomStream = {
    "workload.kind=stream",        "workload.op=read",        "workload.access_bytes=8B",
    "workload.iterations=100000",  "workload.block_run=1",    "workload.loads_in_flight=8",
    "workload.threads=1024",       "workload.blocks_per_core=2", "workload.max_bytes=8MiB",
    "workload.footprint=64KiB",    "workload.stream_order=random"};

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

}  // namespace

TEST_CASE("a core request waiting for its line's MSHR targets does not hold up home requests", "[deadlock]") {
  // One target per MSHR and one replay slot (memory.noc.slice_queue=1): beyond the one read waiting beside
  // a full MSHR, the next read of a line in flight waits at the head of the core input.
  auto sim = build_spec(parse_spec(kSmallHierarchy, with(kSharedRandomStream, {"memory.l2.mshr_targets=1",
                                                                               "memory.noc.slice_queue=1"})));
  REQUIRE(sim->run().completed);
  CHECK(total_stat(*sim, "monitor", "bytes") == 8.0 * (1 << 20));
  CHECK(sum_over_slices(*sim, "home_requests") > 0);  // the far path was used...
  CHECK(sum_over_slices(*sim, "stalls") > 0);         // ...while heads waited for targets
}

TEST_CASE("far misses cannot take the MSHR a home request needs", "[deadlock]") {
  // Two MSHRs per slice: far misses may hold one, the other is kept for home lines, whose misses only
  // need this slice's DRAM. Without the reserve each slice fills its MSHRs with far misses and no home
  // request can be served anywhere.
  auto sim = build_spec(parse_spec(kSmallHierarchy, with(kSharedRandomStream, {"memory.l2.mshrs=2"})));
  REQUIRE(sim->run().completed);
  CHECK(total_stat(*sim, "monitor", "bytes") == 8.0 * (1 << 20));
  CHECK(sum_over_slices(*sim, "home_requests") > 0);
  CHECK(sum_over_slices(*sim, "stalls") > 0);
}

TEST_CASE("an L2 with one MSHR per slice and several partitions is a configuration error", "[deadlock]") {
  // With one MSHR, none would be left for far misses once one is kept for home lines.
  const SystemSpec spec = parse_spec(kSmallHierarchy, {"memory.l2.mshrs=1"});
  REQUIRE_THROWS_WITH(build_spec(spec), Catch::Matchers::Contains("mshrs") && Catch::Matchers::Contains("partitions"));
}

// Regression (issue #4): validation's L2-bandwidth rows warm the L2 with the stream's own data
// (memory.l2.prefill with prefill_base 0 and replicas; memory_case_mappers.cpp warm_l2). That needs the
// read stream's array B at address 0. It used to lie one region up, behind the unused store array A, so
// the "warm" L2 held lines no load touched: the B200 survey's 64 MiB row ran its two passes from DRAM
// (15.6 instead of 19.4 TB/s), and every L2 row started cold.
//
// Scenario (kSmallHierarchy: 2 MiB of L2 in 2 partitions): all 4 cores read the same 512 KiB once, with the
// L2 prefilled from address 0, replicas included: every L2 lookup hits and nothing is read from DRAM.
#include <catch2/catch.hpp>

#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

TEST_CASE("a read stream's data is what an L2 prefill from address 0 holds", "[l2][stream]") {
  auto sim = build_spec(parse_spec(
      kSmallHierarchy,
      {"workload.kind=stream", "workload.op=read", "workload.threads=1024", "workload.blocks_per_core=1",
       "workload.iterations=1000000", "workload.footprint=512KiB", "workload.access_bytes=8B", "workload.block_run=1",
       "workload.iteration_stride=1024", "workload.loads_in_flight=8", "workload.max_bytes=2MiB", "memory.l1.mshrs=256",
       "memory.l2.prefill=true", "memory.l2.prefill_base=0B", "memory.l2.prefill_replicas=true"}));
  REQUIRE(sim->run().completed);
  const double reads = sum_over_slices(*sim, "reads");
  INFO(reads << " L2 reads, " << sum_over_slices(*sim, "read_hits") << " hits");
  CHECK(total_stat(*sim, "monitor", "bytes") == 2.0 * (1 << 20));
  CHECK(reads > 0);
  CHECK(sum_over_slices(*sim, "read_hits") == reads);
  CHECK(sum_over_slices(*sim, "dram_read_bytes") == 0);
}

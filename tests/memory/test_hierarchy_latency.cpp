// First principles: the unloaded latency of every level is the sum of the configured latencies on its
// path (memory_system.hpp: each component's pipeline latency plus one cycle per link), for the small
// hierarchy of test_hierarchy_support.cpp (everything at 1 GHz, so cycles are exact). Each case checks
// the probe's measured per-load time against both a hand derivation (in the comment) and
// unloaded_latency_cycles(), plus the probe's dependent-issue latency (dep = 3).
#include <catch2/catch.hpp>

#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {
constexpr double kDep = 3;  // core.dependent_issue_latency of kSmallHierarchy

double chase_latency(const std::vector<std::string>& overrides, UnloadedLatencies* expected = nullptr) {
  const SystemSpec spec = parse_spec(kSmallHierarchy, overrides);
  if (expected) *expected = unloaded_latency_cycles(spec.sections);
  auto sim = build_spec(spec);
  REQUIRE(sim->run().completed);
  return total_stat(*sim, "probe0", "latency_cycles");
}
}  // namespace

TEST_CASE("L1 hit latency is link + tag + data + link", "[latency]") {
  // 1 + l1.tag 4 + l1.data 10 + 1 = 16 cycles; + dep 3 = 19 per dependent load (8 KiB chain fits 16 KiB).
  UnloadedLatencies u;
  const double lat = chase_latency({"workload.footprint=8KiB"}, &u);
  CHECK(u.l1_hit == 16);
  CHECK(lat == Approx(u.l1_hit + kDep).margin(0.01));
  CHECK(lat == Approx(19).margin(0.01));
}

TEST_CASE("L2 near hit latency is the sum along core, L1, crossbar and slice", "[latency]") {
  // to the slice: 1 + l1.tag 4 + (1 + noc 12 + 1) = 19; slice hit: tag 10 + data 14 = 24;
  // back: (1 + noc 12) + 1 + l1.fill 6 + 1 = 21; total 64, + dep 3 = 67. A 256 KiB random chain misses a
  // 16 KiB LRU L1 every time and fits one 1 MiB partition (replicas stay near).
  UnloadedLatencies u;
  const double lat = chase_latency({"workload.footprint=256KiB", "workload.spacing=128B"}, &u);
  CHECK(u.l2_near_hit == 64);
  CHECK(lat == Approx(u.l2_near_hit + kDep).margin(0.01));
  CHECK(lat == Approx(67).margin(0.01));
}

TEST_CASE("far-partition hit latency is the near hit plus the configured far penalty", "[latency]") {
  // Lines homed in the other partition, warmed, then the own partition evicted: every timed load misses
  // the near slice (tag 10), crosses the fabric both ways (2 x (1 + far 30 + 1) = 64), hits the home
  // slice (24) and fills the near slice (fill 8): 64 - 24 + 10 + 64 + 24 + 8 = 146; + dep = 149.
  UnloadedLatencies u;
  const double lat = chase_latency({"workload.footprint=256KiB", "workload.spacing=128B", "workload.home=far",
                                    "workload.evict_partitions=1.6", "workload.measure_loads=900"},
                                   &u);
  CHECK(u.l2_far_hit - u.l2_near_hit == 10 + 64 + 8);
  CHECK(lat == Approx(u.l2_far_hit + kDep).margin(0.01));
  CHECK(lat == Approx(149).margin(0.01));
}

TEST_CASE("L2 miss latency adds the controller path and the DRAM access", "[latency]") {
  // Cold loads of lines homed near, one 32 B burst each, close-page DRAM (every bank precharged):
  // slice tag 10 + fill 8 instead of tag + data; 2 x (1 + controller_latency 25 + 1) = 54; DRAM
  // ACT -> RD -> data = tRCD 20 + tCL 13 + tBURST 2 = 35 cycles (HBM3 defaults at 1 GHz).
  // 19 + 18 + 54 + 35 + 21 = 147; + dep = 150.
  UnloadedLatencies u;
  const double lat = chase_latency({"workload.footprint=64MiB", "workload.spacing=128B", "workload.home=near",
                                    "workload.warmup_loads=0", "workload.measure_loads=500",
                                    "memory.hbm.page_policy=close"},
                                   &u);
  CHECK(u.l2_near_miss == 147);
  CHECK(lat == Approx(u.l2_near_miss + kDep).margin(0.01));
}

TEST_CASE("far-partition miss latency is the near miss plus the far penalty", "[latency]") {
  // The same cold load homed in the other partition: + tag 10 + fabric 64 + fill 8 = 229; + dep = 232.
  UnloadedLatencies u;
  const double lat = chase_latency({"workload.footprint=64MiB", "workload.spacing=128B", "workload.home=far",
                                    "workload.warmup_loads=0", "workload.measure_loads=500",
                                    "memory.hbm.page_policy=close"},
                                   &u);
  CHECK(u.l2_far_miss == 229);
  CHECK(lat == Approx(u.l2_far_miss + kDep).margin(0.01));
}

TEST_CASE("scratch latency is link + configured latency + link", "[latency]") {
  // 1 + scratch.latency 20 + 1 = 22; + dep = 25.
  UnloadedLatencies u;
  const double lat = chase_latency({"workload.space=shared", "workload.footprint=4KiB", "workload.access_bytes=4B"}, &u);
  CHECK(u.scratch == 22);
  CHECK(lat == Approx(25).margin(0.01));
}

TEST_CASE("remote scratch latency crosses the cluster network both ways", "[latency]") {
  // 1 + dsmem.latency 40 + 1 + scratch 20 + 1 + 40 + 1 = 104; + dep = 107.
  UnloadedLatencies u;
  const double lat = chase_latency(
      {"workload.space=dsmem", "workload.footprint=4KiB", "workload.access_bytes=4B", "workload.target=remote"}, &u);
  CHECK(u.remote_scratch == 104);
  CHECK(lat == Approx(107).margin(0.01));
}

TEST_CASE("own scratch through the cluster window costs the local window latency", "[latency]") {
  // 1 + local 2 + 1 + 20 + 1 + 2 + 1 = 28; + dep = 31.
  const double lat =
      chase_latency({"workload.space=dsmem", "workload.footprint=4KiB", "workload.access_bytes=4B", "workload.target=own"});
  CHECK(lat == Approx(31).margin(0.01));
}

TEST_CASE("copy-engine load from L2 is issue + L2 round trip + scratch write + completion + scratch read",
          "[latency]") {
  // probe -> engine 1, issue 16, engine -> crossbar 1 + 12 + 1, slice hit 24, back 1 + 12 + 1,
  // scratch write 1 + 20 + 1, completion 6, done 1, scratch read 1 + 20 + 1: 120; + dep = 123.
  const double lat = chase_latency({"workload.space=tma", "workload.footprint=256KiB", "workload.spacing=128B",
                                    "workload.copy_bytes=16B"});
  CHECK(lat == Approx(123).margin(0.01));
}

// The simulation kernel's rules: deterministic same-time delivery, idle costs nothing, exact clock
// edges, credit back-pressure.
#include <catch2/catch.hpp>

#include "sim/clock_domain.hpp"
#include "sim/error.hpp"
#include "sim/params.hpp"
#include "tests/sim/test_components.hpp"

using namespace tilesim;
using namespace tilesim::test;

TEST_CASE("same-time delivery order follows priority, then link, then sequence", "[kernel][determinism]") {
  // Three senders in two clock domains; every message becomes ready at the same tick (10 ns).
  // Declaration order of components is deliberately the reverse of the expected delivery order.
  auto sim = build_from_yaml(R"(
clocks: {fast: 2GHz, slow: 1GHz}
components:
  rec:  {kind: test_recorder, clock: slow}
  late: {kind: test_burst, clock: fast, count: 2, priority: background}
  b:    {kind: test_burst, clock: slow, count: 2, priority: request}
  a:    {kind: test_burst, clock: fast, count: 2, priority: request}
  urg:  {kind: test_burst, clock: slow, count: 1, priority: urgent}
links:
  l0: {from: late.out, to: rec.in, latency: 10ns}
  l1: {from: b.out, to: rec.in, latency: 10ns}
  l2: {from: a.out, to: rec.in, latency: 10ns}
  l3: {from: urg.out, to: rec.in, latency: 10ns}
)");
  sim->run();
  auto& rec = dynamic_cast<Recorder&>(sim->component("rec"));
  const std::vector<std::string> expected = {"urg#0", "b#0", "b#1", "a#0", "a#1", "late#0", "late#1"};
  CHECK(rec.order == expected);
  for (Tick t : rec.times) CHECK(t == 10000);
}

TEST_CASE("a component idle for 10^6 cycles is ticked O(1) times and its stats still count the cycles",
          "[kernel][idle]") {
  auto sim = build_from_yaml(R"(
clocks: {core: 1GHz}
components:
  s: {kind: test_sleeper, sleep: 1000000, wakes: 1}
)");
  const RunInfo info = sim->run();
  auto& s = dynamic_cast<Sleeper&>(sim->component("s"));
  CHECK(s.tick_calls == 2);          // cycle 0 and cycle 10^6
  CHECK(info.component_ticks == 2);  // nothing else was ticked either
  CHECK(info.domain_firings == 2);
  const StatsReport r = sim->stats_report();
  const auto& vals = r.scopes.front().components.front().values;
  auto get = [&](const std::string& n) {
    for (const auto& v : vals)
      if (v.name == n) return v.value;
    FAIL("no stat " << n);
    return 0.0;
  };
  CHECK(get("cycles") == 1000001);  // edges 0 .. 10^6
  CHECK(get("active_cycles") == 2);
  CHECK(get("idle_cycles") == 999999);
  CHECK(r.simulated_ticks == 1000000ull * 1000 + 1);
}

TEST_CASE("clock edges are exact on average for frequencies whose period is not whole picoseconds", "[kernel][time]") {
  ParamValues p = ParamValues::resolve(sim_param_schema(), {}, "sim");
  Simulator sim(p);
  ClockDomain& d = sim.add_clock("core", 1830000000ull);  // period 546.448... ps
  CHECK(d.tick_of(Cycle(0)) == 0);
  CHECK(d.tick_of(Cycle(1)) == 546);
  CHECK(d.tick_of(Cycle(183)) == 100000);                // 183 cycles = exactly 100 ns
  CHECK(d.tick_of(Cycle(1830000000ull)) == kTicksPerSecond);  // one second, no drift
  for (std::uint64_t c : {0ull, 1ull, 2ull, 999ull, 123456789ull}) {
    CHECK(d.cycle_at_or_after(d.tick_of(Cycle(c))).value == c);
    CHECK(d.cycle_at_or_after(d.tick_of(Cycle(c)) + 1).value == c + 1);
  }
  CHECK(d.edges_between(0, 100000) == 183);
}

TEST_CASE("a link with a credit limit back-pressures the sender and wakes it when a credit frees", "[kernel][ports]") {
  auto sim = build_from_yaml(R"(
clocks: {core: 1GHz}
components:
  gen: {kind: traffic_generator, requests: 200, max_outstanding: 64, bytes: 64B}
  mem: {kind: fixed_latency_memory, latency: 50ns, bandwidth: 64GB/s}
links:
  req:  {from: gen.req, to: mem.req, latency: 2ns, capacity: 2}
  resp: {from: mem.resp, to: gen.resp, latency: 2ns}
)");
  sim->run();
  const StatsReport r = sim->stats_report();
  double completed = 0, stalls = 0;
  for (const auto& v : r.scopes.front().components.front().values) {
    if (v.name == "requests_completed") completed = v.value;
    if (v.name == "credit_stalls") stalls = v.value;
  }
  CHECK(completed == 200);
  CHECK(stalls > 0);
}

TEST_CASE("a second simulator in one process is a clear error", "[kernel]") {
  ParamValues p = ParamValues::resolve(sim_param_schema(), {}, "sim");
  Simulator first(p);
  CHECK_THROWS_WITH(Simulator(p), Catch::Matchers::Contains("only one simulation can run per process"));
}

TEST_CASE("links need a positive latency", "[kernel][ports]") {
  CHECK_THROWS_WITH(build_from_yaml(R"(
clocks: {core: 1GHz}
components:
  a: {kind: test_burst}
  r: {kind: test_recorder}
links:
  l: {from: a.out, to: r.in, latency: 0ns}
)"),
                    Catch::Matchers::Contains("latency must be at least 1 ps"));
}

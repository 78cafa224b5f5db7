// Run control: deadlocks and livelocks end the run with an error that names every stuck unit and what
// it waits for; max_cycles truncates a run and says so.
#include <catch2/catch.hpp>

#include "sim/error.hpp"
#include "tests/sim/test_components.hpp"

using namespace tilesim;
using namespace tilesim::test;
using Catch::Matchers::Contains;

TEST_CASE("a deadlocked pair is reported with both units and what each waits on", "[watchdog]") {
  auto sim = build_from_yaml(R"(
clocks: {core: 1GHz}
components:
  ping: {kind: test_wait_then_send}
  pong: {kind: test_wait_then_send}
links:
  a: {from: ping.out, to: pong.in, latency: 1ns}
  b: {from: pong.out, to: ping.in, latency: 1ns}
)");
  CHECK_THROWS_AS(sim->run(), SimulationError);
}

TEST_CASE("deadlock message names ping and pong", "[watchdog]") {
  auto sim = build_from_yaml(R"(
clocks: {core: 1GHz}
components:
  ping: {kind: test_wait_then_send}
  pong: {kind: test_wait_then_send}
links:
  a: {from: ping.out, to: pong.in, latency: 1ns}
  b: {from: pong.out, to: ping.in, latency: 1ns}
)");
  CHECK_THROWS_WITH(sim->run(), Contains("deadlock") &&
                                    Contains("ping (test_wait_then_send, clock core): waiting on a message on ping.in from pong.out") &&
                                    Contains("pong (test_wait_then_send, clock core): waiting on a message on pong.in from ping.out"));
}

TEST_CASE("the same pair with a starter completes (the deadlock test can fail)", "[watchdog]") {
  auto sim = build_from_yaml(R"(
clocks: {core: 1GHz}
components:
  ping: {kind: test_wait_then_send, starter: true}
  pong: {kind: test_wait_then_send}
links:
  a: {from: ping.out, to: pong.in, latency: 1ns}
  b: {from: pong.out, to: ping.in, latency: 1ns}
)");
  const RunInfo info = sim->run();
  CHECK(info.completed);
}

TEST_CASE("a livelock (messages forever, no progress) trips the watchdog and names both units", "[watchdog]") {
  auto sim = build_from_yaml(R"(
sim: {watchdog: 20us}
clocks: {core: 1GHz}
components:
  left:  {kind: test_bouncer, starter: true}
  right: {kind: test_bouncer}
links:
  a: {from: left.out, to: right.in, latency: 1ns}
  b: {from: right.out, to: left.in, latency: 1ns}
)");
  CHECK_THROWS_WITH(sim->run(), Contains("watchdog: no forward progress") && Contains("left (test_bouncer") &&
                                    Contains("right (test_bouncer"));
}

TEST_CASE("max_cycles truncates a run and marks it truncated", "[watchdog]") {
  auto sim = build_from_yaml(R"(
sim: {max_cycles: 1000}
clocks: {core: 1GHz}
components:
  s: {kind: test_sleeper, sleep: 100, wakes: 1000}
)");
  const RunInfo info = sim->run();
  CHECK_FALSE(info.completed);
  CHECK(sim->stats_report().status == "truncated");
  CHECK(info.end_tick <= 1000ull * 1000 + 1);
}

TEST_CASE("an exception inside a tick stops the run and surfaces unchanged", "[watchdog]") {
  // A Burst sending on a full link without checking can_send() is a model bug: panic.
  auto sim = build_from_yaml(R"(
clocks: {core: 1GHz}
components:
  a: {kind: test_burst, count: 3}
  r: {kind: test_recorder}
links:
  l: {from: a.out, to: r.in, latency: 1ns, capacity: 1}
)");
  CHECK_THROWS_WITH(sim->run(), Contains("internal error: a.out: send without a free credit"));
}

// First-principles checks of the generic models: unloaded latency equals the configured path; streaming
// bandwidth saturates at the configured peak.
#include <catch2/catch.hpp>

#include "sim/output.hpp"
#include "tests/sim/test_components.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {
double total_stat(Simulator& sim, const std::string& comp, const std::string& name) {
  const StatsReport report = sim.stats_report();
  for (const auto& c : report.scopes.front().components)
    if (c.name == comp)
      for (const auto& v : c.values)
        if (v.name == name) return v.value;
  FAIL("no stat " << comp << "." << name);
  return 0;
}
}  // namespace

TEST_CASE("unloaded latency = request link + transfer + access latency + response link", "[models][first-principles]") {
  // 64 B at 64 GB/s = 1 ns on the bus; 10 + 1 + 100 + 10 = 121 ns, all on 1 GHz edges.
  auto sim = build_from_yaml(R"(
clocks: {core: 1GHz}
components:
  gen: {kind: traffic_generator, requests: 50, max_outstanding: 1, pattern: random, bytes: 64B}
  mem: {kind: fixed_latency_memory, latency: 100ns, bandwidth: 64GB/s}
links:
  req:  {from: gen.req, to: mem.req, latency: 10ns}
  resp: {from: mem.resp, to: gen.resp, latency: 10ns}
)");
  sim->run();
  CHECK(total_stat(*sim, "gen", "latency_ns.min") == Approx(121.0));
  CHECK(total_stat(*sim, "gen", "latency_ns.max") == Approx(121.0));
  CHECK(total_stat(*sim, "gen", "latency_cycles.mean") == Approx(121.0));
}

TEST_CASE("unloaded latency rounds up to the memory's clock edge", "[models][first-principles]") {
  // Memory on a 1.5 GHz clock: data done at 10 + 1 + 100 = 111 ns; the response leaves at the first
  // memory edge at or after 111 ns (111 ns = edge 166.5 -> edge 167 at 111.333 ns), arrives 10 ns later and
  // is seen at the generator's next 1 GHz edge: 122 ns.
  auto sim = build_from_yaml(R"(
clocks: {core: 1GHz, mem: 1.5GHz}
components:
  gen: {kind: traffic_generator, clock: core, requests: 10, max_outstanding: 1, bytes: 64B}
  mem: {kind: fixed_latency_memory, clock: mem, latency: 100ns, bandwidth: 64GB/s}
links:
  req:  {from: gen.req, to: mem.req, latency: 10ns}
  resp: {from: mem.resp, to: gen.resp, latency: 10ns}
)");
  sim->run();
  CHECK(total_stat(*sim, "gen", "latency_ns.min") == Approx(122.0));
  CHECK(total_stat(*sim, "gen", "latency_ns.max") == Approx(122.0));
}

TEST_CASE("streaming bandwidth saturates at the configured peak", "[models][first-principles]") {
  // Enough requests in flight to cover latency x bandwidth (121 ns x 64 B/ns ~ 121 requests of 64 B).
  auto sim = build_from_yaml(R"(
clocks: {core: 2GHz}
components:
  gen: {kind: traffic_generator, requests: 20000, max_outstanding: 256, bytes: 64B}
  mem: {kind: fixed_latency_memory, latency: 100ns, bandwidth: 64GB/s}
links:
  req:  {from: gen.req, to: mem.req, latency: 10ns}
  resp: {from: mem.resp, to: gen.resp, latency: 10ns}
)");
  sim->run();
  const double bw = total_stat(*sim, "gen", "achieved_bandwidth");
  // span includes one unloaded latency: 20000 x 1 ns + ~121 ns -> 0.6% under the peak.
  CHECK(bw == Approx(64e9).epsilon(0.01));
  CHECK(bw < 64e9);
}

TEST_CASE("too few requests in flight are latency-bound (Little's law)", "[models][first-principles]") {
  auto sim = build_from_yaml(R"(
clocks: {core: 1GHz}
components:
  gen: {kind: traffic_generator, requests: 4000, max_outstanding: 8, bytes: 64B}
  mem: {kind: fixed_latency_memory, latency: 100ns, bandwidth: 64GB/s}
links:
  req:  {from: gen.req, to: mem.req, latency: 10ns}
  resp: {from: mem.resp, to: gen.resp, latency: 10ns}
)");
  sim->run();
  // 8 requests x 64 B per ~121-128 ns round trip (some queueing on the bus) ~ 4 GB/s, far under 64 GB/s.
  const double bw = total_stat(*sim, "gen", "achieved_bandwidth");
  CHECK(bw == Approx(8 * 64 / 121e-9).epsilon(0.06));
}

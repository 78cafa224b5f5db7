// Stats: the JSON and CSV schemas, and per-kernel scopes that add up to the total.
#include <catch2/catch.hpp>

#include <sstream>

#include "sim/output.hpp"
#include "tests/sim/test_components.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {
const char* kTwoKernels = R"(
clocks: {core: 1GHz, mem: 1.6GHz}
components:
  seq: {kind: traffic_generator, clock: core, requests: 100, kernel: stream}
  rnd: {kind: traffic_generator, clock: core, requests: 50, pattern: random, kernel: random, start_delay: 10us}
  mem: {kind: fixed_latency_memory, clock: mem}
  mem2: {kind: fixed_latency_memory, clock: mem}
links:
  a: {from: seq.req, to: mem.req, latency: 5ns}
  b: {from: mem.resp, to: seq.resp, latency: 5ns}
  c: {from: rnd.req, to: mem2.req, latency: 5ns}
  d: {from: mem2.resp, to: rnd.resp, latency: 5ns}
)";

double stat(const nlohmann::json& scope, const std::string& comp, const std::string& name) {
  for (const auto& c : scope["components"])
    if (c["name"] == comp) return c["stats"][name]["value"].get<double>();
  FAIL("no component " << comp);
  return 0;
}
}  // namespace

TEST_CASE("stats.json has schema_version, clocks, a total scope and one scope per kernel", "[stats]") {
  auto sim = build_from_yaml(kTwoKernels);
  sim->run();
  const nlohmann::json j = stats_to_json(sim->stats_report());
  CHECK(j["schema_version"] == kStatsSchemaVersion);
  CHECK(j["status"] == "complete");
  CHECK(j["simulated_time"]["unit"] == "ps");
  REQUIRE(j["clocks"].size() == 2);
  CHECK(j["clocks"][1]["frequency_hz"] == 1600000000ull);
  REQUIRE(j["scopes"].size() == 3);
  CHECK(j["scopes"][0]["scope"] == "total");
  CHECK(j["scopes"][1]["kernel"] == "stream");
  CHECK(j["scopes"][2]["kernel"] == "random");
  // Every stat carries value, unit and description.
  for (const auto& scope : j["scopes"])
    for (const auto& c : scope["components"])
      for (const auto& [name, s] : c["stats"].items()) {
        CHECK(s.contains("value"));
        CHECK(s.contains("unit"));
        CHECK(!s["desc"].get<std::string>().empty());
      }
  // Kernel scopes partition the work: counters in the kernels add up to the totals.
  CHECK(stat(j["scopes"][1], "seq", "requests_completed") == 100);
  CHECK(stat(j["scopes"][2], "rnd", "requests_completed") == 50);
  CHECK(stat(j["scopes"][1], "mem", "bytes") + stat(j["scopes"][2], "mem", "bytes") == stat(j["scopes"][0], "mem", "bytes"));
  CHECK(stat(j["scopes"][2], "seq", "requests_completed") == 0);
  // The second kernel starts after its delay.
  CHECK(j["scopes"][2]["begin_ps"] == 10000000);
  // Scope cycles follow the scope's time span.
  const double span_ps = j["scopes"][1]["end_ps"].get<double>() - j["scopes"][1]["begin_ps"].get<double>();
  CHECK(stat(j["scopes"][1], "seq", "cycles") == Approx(span_ps / 1000.0).margin(1));
}

TEST_CASE("stats.csv is long-form scope,kernel,component,name,value,unit", "[stats]") {
  auto sim = build_from_yaml(kTwoKernels);
  sim->run();
  const StatsReport r = sim->stats_report();
  const std::string csv = stats_to_csv(r);
  std::istringstream in(csv);
  std::string line;
  std::getline(in, line);
  CHECK(line == "scope,kernel,component,name,value,unit");
  std::size_t rows = 0;
  bool saw_kernel_row = false;
  while (std::getline(in, line)) {
    ++rows;
    CHECK(std::count(line.begin(), line.end(), ',') == 5);
    if (line.rfind("kernel,random,rnd,requests_completed,50,", 0) == 0) saw_kernel_row = true;
  }
  std::size_t values = 0;
  for (const auto& s : r.scopes)
    for (const auto& c : s.components) values += c.values.size();
  CHECK(rows == values);
  CHECK(saw_kernel_row);
}

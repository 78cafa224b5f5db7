// The CaseMapper registry and helpers: stats.json lookups, unit conversion, error statistics, devices.
#include <catch2/catch.hpp>

#include "validation/case_mapper.hpp"
#include "validation/error_report.hpp"
#include "validation/measured_cases.hpp"

using namespace tilesim::validation;

namespace {
const nlohmann::json kStats = nlohmann::json::parse(R"({
  "schema_version": 1,
  "clocks": [{"name": "core", "frequency_hz": 1830000000, "cycles": 10}],
  "scopes": [
    {"scope": "total", "kernel": "", "begin_ps": 0, "end_ps": 5000000,
     "components": [{"name": "gen", "stats": {"bytes": {"value": 4096, "unit": "B"}}}]},
    {"scope": "kernel", "kernel": "chase", "begin_ps": 1000000, "end_ps": 3000000,
     "components": [{"name": "gen", "stats": {"latency_ns.mean": {"value": 441.5, "unit": "ns"}}}]}
  ]})");
}  // namespace

TEST_CASE("case mappers register by workload name") {
  const auto& reg = CaseMapperRegistry::instance();
  REQUIRE(reg.find("fixture_chase"));
  CHECK(reg.find("fixture_chase")->description == "test: demo_memory dependent-load chain");
  CHECK_FALSE(reg.find("no_such_workload"));
  CHECK(reg.find("fixture_chase")->make({}) != nullptr);
}

TEST_CASE("stats.json lookups by scope, component and statistic") {
  CHECK(stat_value(kStats, "gen", "bytes") == 4096);
  CHECK(stat_value(kStats, "gen", "latency_ns.mean", "chase") == 441.5);
  CHECK_FALSE(stat_value(kStats, "gen", "latency_ns.mean"));        // not in the total scope
  CHECK_FALSE(stat_value(kStats, "other", "bytes"));                // no such component
  CHECK_FALSE(stat_value(kStats, "gen", "bytes", "no_kernel"));     // no such kernel
  CHECK(kernel_seconds(kStats, "chase") == Approx(2e-6));
  CHECK(clock_hz(kStats, "core") == 1.83e9);
  CHECK_FALSE(clock_hz(kStats, "mem"));
}

TEST_CASE("unit conversion into a row's unit") {
  CHECK(*time_in_unit(19.5e-9, "ns", std::nullopt) == Approx(19.5));
  CHECK(*time_in_unit(19.5e-9, "cycles", 1.755e9) == Approx(34.2225));
  CHECK_FALSE(time_in_unit(1e-9, "cycles", std::nullopt));
  CHECK_FALSE(time_in_unit(1e-9, "GB/s", 1e9));
  CHECK(*rate_in_unit(1.942e12, "GB/s", std::nullopt) == Approx(1942));
  CHECK(*rate_in_unit(989e12, "TFLOPS", std::nullopt) == Approx(989));
  CHECK(*rate_in_unit(25.2e12, "B/clk/SM", 1.755e9, 114.0) == Approx(25.2e12 / 1.755e9 / 114));
  CHECK(*rate_in_unit(3.5e12, "B/clk", 1.75e9) == Approx(2000));
  CHECK_FALSE(rate_in_unit(1, "B/clk/SM", 1e9));  // needs the SM count
  CHECK_FALSE(rate_in_unit(1, "cycles", 1e9));
}

TEST_CASE("error statistics: MAPE, median, worst and the log-space Pearson r") {
  std::vector<CaseResult> cases(4);
  const double measured[] = {100, 200, 400, 800}, errors[] = {-10, 5, 20, -1};
  std::vector<const CaseResult*> ptrs;
  for (int i = 0; i < 4; ++i) {
    cases[i].row.id = "r" + std::to_string(i);
    cases[i].row.value = measured[i];
    cases[i].status = CaseStatus::compared;
    cases[i].error_pct = errors[i];
    cases[i].simulated = measured[i] * (1 + errors[i] / 100);
    ptrs.push_back(&cases[i]);
  }
  CaseResult skipped;
  skipped.status = CaseStatus::not_runnable;
  ptrs.push_back(&skipped);
  const ErrorSummary s = summarize(ptrs);
  CHECK(s.count == 4);
  CHECK(s.mape == Approx(9.0));
  CHECK(s.median_abs == Approx(7.5));
  CHECK(s.worst_abs == 20);
  CHECK(s.worst_id == "r2");
  REQUIRE(s.pearson_r);
  CHECK(*s.pearson_r > 0.99);
  CHECK(*pearson({1, 2, 3}, {3, 2, 1}) == Approx(-1));
  CHECK_FALSE(pearson({1}, {1}));
  CHECK_FALSE(pearson({1, 1}, {2, 3}));
}

TEST_CASE("device names map to the presets that model them") {
  CHECK(preset_for_device("NVIDIA H100 80GB HBM3") == "h100_sxm5");
  CHECK(preset_for_device("NVIDIA H100 PCIe") == "h100_pcie");
  CHECK(preset_for_device("NVIDIA H800 PCIe") == "h800_pcie");
  CHECK(preset_for_device("NVIDIA A100-SXM4-80GB") == "a100_sxm4");
  CHECK(preset_for_device("NVIDIA A100-SXM4-40GB") == "a100_40gb");
  CHECK(preset_for_device("NVIDIA B200") == "b200");
  CHECK(preset_for_device("NVIDIA GeForce RTX 4090") == "rtx4090");
  CHECK_FALSE(preset_for_device("NVIDIA H100 NVL"));
  CHECK_FALSE(preset_for_device("Fixture GPU"));
}

TEST_CASE("a gpu-l2-cache L2-bandwidth row simulates several waves of its blocks, not one synchronised wave") {
  // gpu-l2-cache's figure is over 100000 blocks of 256 KiB that start and end out of step; a run of one
  // wave measures blocks that all start together and never turn over (+11.9 % on h100pcie-l2-bw-8mib).
  const auto& reg = CaseMapperRegistry::instance();
  REQUIRE(reg.find("stream"));
  const auto mapper = reg.find("stream")->make({});
  ReferenceRow row;
  row.id = "l2-row";
  row.preset = "h100_pcie";
  row.workload = "stream";
  row.params = {{"op", "read"}, {"footprint", "8MiB"}, {"vector", "1"}, {"level", "l2"}};
  row.metric = "bandwidth";
  row.unit = "GB/s";
  row.value = 7034;
  row.source_url = "https://github.com/te42kyfo/gpu-benches/blob/x/gpu-l2-cache/h100_pcie.txt";
  const MapResult mapped = mapper->map(row);
  REQUIRE(std::holds_alternative<SimCase>(mapped));
  std::map<std::string, std::string> set;
  for (const auto& o : std::get<SimCase>(mapped).overrides) set[o.substr(0, o.find('='))] = o.substr(o.find('=') + 1);
  CHECK(set.at("workload.blocks") == "100000");
  CHECK(set.at("workload.blocks_per_core") == "2");
  CHECK(set.at("workload.iterations") == "32");
  // One wave on the 114 SMs: 2 blocks x 1024 threads x 32 doubles each = 57 MiB; at least four waves.
  REQUIRE(set.at("workload.max_bytes") == "256MiB");
  CHECK(256.0 >= 4 * (114 * 2 * 1024 * 32 * 8.0) / (1 << 20));
}

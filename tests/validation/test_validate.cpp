// `tilesim validate` end to end on fixture rows that the test-only mappers (fixture_mappers.cpp) run
// on the demo_memory preset: CSV -> mapper -> tilesim run subprocess -> stats.json -> metric -> error.
#include <cmath>
#include <fstream>

#include <catch2/catch.hpp>

#include "sim/error.hpp"
#include "traces/json_input.hpp"
#include "validation/case_mapper.hpp"
#include "validation_test_util.hpp"

using namespace validation_test;
namespace fs = std::filesystem;

namespace {
const std::string kData = VALIDATION_TEST_DATA;

/// The stats.json of the case run whose folder name ends with the id.
nlohmann::json run_stats(const fs::path& out, const std::string& id, const std::string& file = "stats.json") {
  for (const auto& e : fs::directory_iterator(out / "runs")) {
    const std::string name = e.path().filename().string();
    if (name.size() > id.size() && name.compare(name.size() - id.size(), id.size(), id) == 0)
      return tilesim::traces::read_json_file((e.path() / file).string());
  }
  FAIL("no run folder for " << id);
  return {};
}
}  // namespace

TEST_CASE("validate: runs every runnable row as a simulation and reports the error from its stats") {
  const fs::path out = fresh_dir("e2e");
  std::string printed;
  const int rc = validate({kData + "/fixture_cases.csv", "--out", out.string()}, printed);
  INFO(printed);
  CHECK(rc == 0);
  const auto rows = read_validation_csv(out / "validation.csv");
  REQUIRE(rows.size() == 7);  // one row per case, runnable or not

  // Compared rows: the simulated value is the run's own statistic; the error follows from it.
  const auto ns_stats = run_stats(out, "fx-chase-ns");
  const auto sim_ns = tilesim::validation::stat_value(ns_stats, "random", "latency_ns.mean", "pointer_chase");
  REQUIRE(sim_ns);
  CHECK(*sim_ns > 400);  // 400 ns memory + 2 x 20 ns links
  CHECK(*sim_ns < 460);
  const auto& ns_row = rows.at("fx-chase-ns");
  CHECK(ns_row.at("status") == "compared");
  CHECK(std::stod(ns_row.at("simulated")) == Approx(*sim_ns).epsilon(1e-6));
  CHECK(std::stod(ns_row.at("error_pct")) == Approx((*sim_ns - 480) / 480 * 100).epsilon(1e-4));

  // Clock normalisation: the cycles row states 1000 MHz, so the run's core clock is 1 GHz (the preset has
  // 1.83 GHz) and the latency in cycles is the ns latency times 1 GHz.
  const auto& cy_row = rows.at("fx-chase-cycles");
  CHECK(cy_row.at("status") == "compared");
  CHECK(cy_row.at("reason") == "clock: clocks.core 1.83GHz -> 1000MHz (the row's clock_mhz)");
  const auto cy_stats = run_stats(out, "fx-chase-cycles");
  CHECK(tilesim::validation::clock_hz(cy_stats, "core") == Approx(1e9));
  const auto cy_ns = tilesim::validation::stat_value(cy_stats, "random", "latency_ns.mean", "pointer_chase");
  REQUIRE(cy_ns);
  CHECK(std::stod(cy_row.at("simulated")) == Approx(*cy_ns * 1.0).epsilon(0.01));
  CHECK(printed.find("clock: clocks.core 1.83GHz -> 1000MHz (the row's clock_mhz)") != std::string::npos);

  // Rows that cannot run are listed with the reason, never dropped.
  CHECK(rows.at("fx-level-l9").at("status") == "not runnable");
  CHECK(rows.at("fx-level-l9").at("reason") == "fixture_chase models only level=dram, not 'l9'");
  CHECK(rows.at("fx-level-l9").at("simulated").empty());
  CHECK(rows.at("fx-noclock").at("reason") ==
        "measured at clock_mhz=1410 but the fixture_noclock mapper exposes no clock key to simulate at that clock; "
        "refusing to compare at another clock");
  CHECK(rows.at("fx-bad-param").at("reason") ==
        "invalid params: " + kData + "/fixture_cases.csv:7: row fx-bad-param: param 'latency_ns' = 'fast': not a number");
  CHECK(rows.at("fx-no-preset").at("reason") == "no preset 'no_such_preset' (see `tilesim presets`)");
  CHECK(rows.at("fx-no-mapper").at("reason").rfind("no case mapper for workload 'fixture_unmapped' (mappers: ", 0) == 0);
  for (const char* id : {"fx-level-l9", "fx-noclock", "fx-bad-param", "fx-no-preset", "fx-no-mapper"}) {
    INFO(id);
    CHECK(printed.find(std::string("  ") + id) != std::string::npos);
  }

  // Summary per workload and overall.
  CHECK(printed.find("== fixture_chase: 2 compared, 3 not compared ==") != std::string::npos);
  CHECK(printed.find("== overall ==") != std::string::npos);
  CHECK(printed.find("MAPE") != std::string::npos);
  CHECK(printed.find("rows: 7 total, 2 compared, 5 not runnable, 0 failed") != std::string::npos);

  // The scatter plot is a PNG.
  const std::string png = slurp(out / "validation.png");
  REQUIRE(png.size() > 1000);
  CHECK(png.compare(1, 3, "PNG") == 0);
}

TEST_CASE("validate: --only and --subset select rows, unknown selections are errors") {
  const fs::path out = fresh_dir("select");
  std::string printed;
  CHECK(validate({kData + "/fixture_cases.csv", "--out", out.string(), "--only", "fixture_unmapped", "--no-plot"}, printed) == 0);
  CHECK(read_validation_csv(out / "validation.csv").size() == 1);
  CHECK_FALSE(fs::exists(out / "validation.png"));
  CHECK_THROWS_WITH(validate({kData + "/fixture_cases.csv", "--only", "pchas", "--dry-run"}, printed),
                    "--only: no row has workload 'pchas'");
  std::ofstream(out / "subset.txt") << "# CI subset\nfx-no-mapper\n\nfx-typo  # comment\n";
  CHECK_THROWS_WITH(validate({kData + "/fixture_cases.csv", "--subset", (out / "subset.txt").string(), "--dry-run"}, printed),
                    (out / "subset.txt").string() + ":4:1: id 'fx-typo' is not among the input rows");
  std::ofstream(out / "empty.txt") << "# nothing yet\n";
  CHECK_THROWS_WITH(validate({kData + "/fixture_cases.csv", "--subset", (out / "empty.txt").string(), "--dry-run"}, printed),
                    (out / "empty.txt").string() + ": lists no row ids (one id per line, # comments)");
}

TEST_CASE("validate: --dry-run prints the tilesim run command of every case without running") {
  std::string printed;
  CHECK(validate({kData + "/fixture_cases.csv", "--dry-run", "--out", fresh_dir("dry").string()}, printed) == 0);
  CHECK(printed.find("fx-chase-cycles: " TILESIM_BINARY " run -q -o <dir> -p demo_memory --set "
                     "components.memory_chase.latency=400ns --set components.random.requests=300 --set "
                     "components.stream.requests=1000 --set clocks.core=1000MHz") != std::string::npos);
  CHECK(printed.find("fx-no-preset: not runnable: no preset 'no_such_preset'") != std::string::npos);
  CHECK_FALSE(fs::exists(fresh_dir("dry") / "runs"));
}

TEST_CASE("validate: --set changes every case's configuration after its mapping, and the change shows in the result") {
  std::string printed;
  CHECK(validate({kData + "/fixture_cases.csv", "--dry-run", "--only", "fixture_chase", "--set",
                  "components.memory_chase.latency=600ns"},
                 printed) == 0);
  // After the mapper's own latency (400 ns from the row), so the user's value is the one that holds.
  CHECK(printed.find("--set components.memory_chase.latency=400ns --set components.random.requests=300 --set "
                     "components.stream.requests=1000 --set components.memory_chase.latency=600ns\n") !=
        std::string::npos);

  const fs::path base = fresh_dir("set-base"), changed = fresh_dir("set-changed");
  const std::vector<std::string> one_row = {kData + "/fixture_cases.csv", "--only", "fixture_chase", "--no-plot"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = one_row;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  REQUIRE(validate(with({"--out", base.string()}), printed) == 0);
  REQUIRE(validate(with({"--out", changed.string(), "--set", "components.memory_chase.latency=600ns"}), printed) == 0);
  CHECK(printed.find("every case ran with --set components.memory_chase.latency=600ns") != std::string::npos);
  const double before = std::stod(read_validation_csv(base / "validation.csv").at("fx-chase-ns").at("simulated"));
  const double after = std::stod(read_validation_csv(changed / "validation.csv").at("fx-chase-ns").at("simulated"));
  CHECK(after - before == Approx(200).margin(1));  // the chase's latency grew by exactly the 200 ns added

  CHECK_THROWS_WITH(validate(with({"--dry-run", "--set", "components.memory_chase.latency"}), printed),
                    "validate: --set 'components.memory_chase.latency': expected KEY=VALUE (e.g. "
                    "memory.hbm.queue_depth=256)");
}

TEST_CASE("validate: a case whose simulation fails is reported as failed with tilesim's message (exit 3)") {
  const fs::path out = fresh_dir("broken");
  std::string printed;
  CHECK(validate({kData + "/fixture_broken.csv", "--out", out.string(), "--no-plot"}, printed) == tilesim::kExitSimFailed);
  const auto row = read_validation_csv(out / "validation.csv").at("fx-broken");
  CHECK(row.at("status") == "failed");
  CHECK(row.at("reason").rfind("tilesim run exited with 2: tilesim: error: ", 0) == 0);
  CHECK(row.at("reason").find("latency") != std::string::npos);
}

TEST_CASE("validate: harness JSON cases run on the preset of the measured device at the observed clock") {
  const fs::path out = fresh_dir("harness");
  std::string printed;
  CHECK(validate({kData + "/harness_fixture.json", "--preset", "demo_memory", "--out", out.string(), "--no-plot"}, printed) == 0);
  INFO(printed);
  CHECK(printed.find("Fixture GPU (cc 9.0, 4 SMs), SM clock observed 1500 MHz, driver 13.0, runtime 13.0 -> preset demo_memory") !=
        std::string::npos);
  CHECK(printed.find("harness skipped hx-wgmma: wgmma needs sm_90a") != std::string::npos);
  CHECK(printed.find("harness failed hx-gemm (not measured): out of memory") != std::string::npos);
  const auto row = read_validation_csv(out / "validation.csv").at("hx-chase");
  CHECK(row.at("status") == "compared");
  CHECK(row.at("reason") == "clock: clocks.core 1.83GHz -> 1500MHz (the row's clock_mhz)");
  CHECK(tilesim::validation::clock_hz(run_stats(out, "hx-chase"), "core") == Approx(1.5e9));
}

TEST_CASE("validate: refuses to compare a device with a preset that models another device") {
  std::string printed;
  CHECK_THROWS_WITH(validate({kData + "/harness_h100.json", "--preset", "demo_memory", "--dry-run"}, printed),
                    kData + "/harness_h100.json: device 'NVIDIA H100 80GB HBM3' is modelled by preset h100_sxm5, not "
                            "demo_memory; refusing to compare measurements of one device with a model of another");
  CHECK_THROWS_WITH(validate({kData + "/harness_fixture.json", "--dry-run"}, printed),
                    kData + "/harness_fixture.json: no preset is known to model device 'Fixture GPU'; pass --preset NAME "
                            "to say which one does");
}

TEST_CASE("validate: kernel traces are not measured cases") {
  std::string printed;
  const fs::path dir = fresh_dir("kinds");
  std::ofstream(dir / "t.json") << R"({"traceEvents": []})";
  CHECK_THROWS_WITH(validate({(dir / "t.json").string(), "--dry-run"}, printed),
                    (dir / "t.json").string() + ": this is a Chrome/Kineto trace JSON (kernel timings), not measured cases; "
                    "validate reads reference CSVs and CUDA harness JSON. Use `tilesim compare " + (dir / "t.json").string() +
                    " SIMULATED` to compare kernel timings.");
}

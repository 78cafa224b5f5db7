// The CLI as a user runs it: determinism across processes, exit codes, error text, outputs.
#include <catch2/catch.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>

#include "tests/common/command.hpp"

using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {
using Result = tilesim::test::CommandResult;
using tilesim::test::slurp;
Result run(const std::string& args) { return tilesim::test::run_tilesim(args); }
fs::path fresh_dir(const std::string& name) { return tilesim::test::fresh_temp_dir(name); }
}  // namespace

TEST_CASE("the same config run twice gives byte-identical stats", "[cli][determinism]") {
  const fs::path a = fresh_dir("det_a"), b = fresh_dir("det_b");
  const std::string common = "run -p demo_memory --set components.random.requests=3000 --seed 7 -q";
  REQUIRE(run(common + " -o " + a.string()).code == 0);
  REQUIRE(run(common + " -o " + b.string()).code == 0);
  const std::string sa = slurp(a / "stats.json"), sb = slurp(b / "stats.json");
  CHECK(!sa.empty());
  CHECK(sa == sb);
  CHECK(slurp(a / "stats.csv") == slurp(b / "stats.csv"));
  CHECK(slurp(a / "config.resolved.yaml") == slurp(b / "config.resolved.yaml"));
  // A different seed changes the random stream (so the comparison above can fail).
  const fs::path c = fresh_dir("det_c");
  REQUIRE(run("run -p demo_memory --set components.random.requests=3000 --seed 8 -q -o " + c.string()).code == 0);
  CHECK(slurp(c / "stats.json") != sa);
  fs::remove_all(a);
  fs::remove_all(b);
  fs::remove_all(c);
}

TEST_CASE("tilesim run prints the report and writes every output", "[cli]") {
  const fs::path d = fresh_dir("out");
  const Result r = run("run -p demo_memory -o " + d.string());
  REQUIRE(r.code == 0);
  CHECK_THAT(r.output, Contains("status: complete") && Contains("achieved bandwidth"));
  for (const char* f : {"stats.json", "stats.csv", "report.txt", "run.json", "config.resolved.yaml"})
    CHECK(fs::exists(d / f));
  CHECK(!fs::exists(d / "error.txt"));
  fs::remove_all(d);
}

TEST_CASE("config errors exit 2 with the key and a suggestion, and leave no stats", "[cli]") {
  const fs::path d = fresh_dir("err");
  const Result r = run("run -p demo_memory --set components.memory.latncy=5ns -o " + d.string());
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("tilesim: error: unknown key 'components.memory.latncy'") &&
                           Contains("did you mean 'latency'"));
  CHECK(!fs::exists(d / "stats.json"));
  fs::remove_all(d);
}

TEST_CASE("a run truncated by --max-cycles exits 3 and says its numbers are partial", "[cli]") {
  const fs::path d = fresh_dir("trunc");
  const Result r = run("run -p demo_memory --max-cycles 5000 -o " + d.string());
  CHECK(r.code == 3);
  CHECK_THAT(r.output, Contains("truncated"));
  CHECK_THAT(slurp(d / "stats.json"), Contains("\"status\": \"truncated\""));
  fs::remove_all(d);
}

TEST_CASE("unknown commands and presets are usage errors with suggestions", "[cli]") {
  Result r = run("rnu");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("unknown command 'rnu'") && Contains("did you mean 'run'"));
  r = run("run -p demo_memroy");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("unknown preset 'demo_memroy'") && Contains("did you mean 'demo_memory'"));
  r = run("run --bogus");
  CHECK(r.code == 2);
  r = run("run");
  CHECK(r.code == 2);
  CHECK_THAT(r.output, Contains("nothing to run"));
}

TEST_CASE("params and presets list what is declared", "[cli]") {
  Result r = run("params fixed_latency_memory");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Contains("latency (time, default 100ns)") && Contains("bandwidth (bandwidth, default 1TB/s)"));
  r = run("params sim");
  CHECK_THAT(r.output, Contains("watchdog") && Contains("max_cycles"));
  r = run("presets");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Contains("demo_memory"));
  for (const char* cmd : {"run --help", "params --help", "presets --help", "script --help", "--help"}) {
    r = run(cmd);
    CHECK(r.code == 0);
  }
}

TEST_CASE("long runs print a heartbeat on stderr with cycles, rate and ETA", "[cli]") {
  // A 1 ms wall-clock interval so the short demo run prints several heartbeats.
  Result r = run("run -p demo_memory -q --set sim.heartbeat=1ms");
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Contains("[tilesim] ") && Contains("simulated | clock core:") && Contains("cycles/s") &&
                           Contains("% done, ETA"));
  // Off by default for short runs (5 s interval).
  r = run("run -p demo_memory -q");
  CHECK(r.output.find("[tilesim] ") == std::string::npos);
}

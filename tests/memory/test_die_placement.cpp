// Streams steered to one die's memory (workload.die_placement, the B200 die-placement rows) and the split
// of a slice's MSHRs between far misses and home lines (memory.l2.far_mshrs) that keeps a stream whose every
// line is homed on the other die from starving the home requests it waits for.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "sim/text_util.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;
namespace fs = std::filesystem;

namespace {

// kSmallHierarchy as two dies of one partition each: 2 cores and 1 controller per die.
std::vector<std::string> placed_stream(const std::string& placement, std::vector<std::string> more = {}) {
  std::vector<std::string> o = {"chip.dies=2",
                                "workload.kind=stream",
                                "workload.op=read",
                                "workload.access_bytes=4B",
                                "workload.threads=1024",
                                "workload.blocks_per_core=1",
                                "workload.iterations=1000000",
                                "workload.loads_in_flight=4",
                                "workload.footprint=64MiB",
                                "workload.max_bytes=4MiB",
                                cat("workload.die_placement=", placement)};
  o.insert(o.end(), more.begin(), more.end());
  return o;
}

/// The probe monitor's steady-state bandwidth (B/s) of `config` with `overrides`, run in a fresh `tilesim`.
double monitor_bandwidth(const fs::path& config, const std::vector<std::string>& overrides, const std::string& tag) {
  const fs::path out = fs::temp_directory_path() / ("tilesim_far_mshrs_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(out);
  std::string cmd = std::string(TILESIM_BINARY) + " run -q -c " + config.string() + " --set sim.heartbeat=0s";
  for (const auto& o : overrides) cmd += " --set " + o;
  cmd += " -o " + out.string() + " > /dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out / "stats.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string stats = ss.str();
  fs::remove_all(out);
  // {"name": "monitor", ... "bandwidth": {..., "value": V}}
  const auto monitor = stats.find("\"name\": \"monitor\"");
  const auto key = stats.find("\"bandwidth\"", monitor == std::string::npos ? 0 : monitor);
  const auto value = stats.find("\"value\":", key);
  if (monitor == std::string::npos || key == std::string::npos || value == std::string::npos) return -1;
  return std::stod(stats.substr(value + 8));
}

}  // namespace

TEST_CASE("a stream placed on its own die never crosses the die link", "[placement]") {
  auto sim = build_spec(parse_spec(kSmallHierarchy, placed_stream("own_die")));
  REQUIRE(sim->run().completed);
  CHECK(total_stat(*sim, "monitor", "bytes") >= 4.0 * (1 << 20));
  CHECK(total_stat(*sim, "fabric", "bytes") == 0);
  CHECK(sum_over_slices(*sim, "home_requests") == 0);
  // Every line read once, from the home slice: as many bytes up as from DRAM.
  CHECK(sum_over_slices(*sim, "bytes_to_requesters") == sum_over_slices(*sim, "dram_read_bytes"));
}

TEST_CASE("a stream placed on the other die reads every line through both dies' slices", "[placement]") {
  auto sim = build_spec(parse_spec(kSmallHierarchy, placed_stream("other_die")));
  REQUIRE(sim->run().completed);
  const double dram = sum_over_slices(*sim, "dram_read_bytes");
  CHECK(dram >= 4.0 * (1 << 20));
  // The replica slice answers the core and the home slice answers the replica: twice the DRAM bytes
  // (the L2 sector amplification of 2.0 the B200 anti-affine measurement reports).
  CHECK(sum_over_slices(*sim, "bytes_to_requesters") == 2 * dram);
  CHECK(total_stat(*sim, "fabric", "bytes") >= dram);
}

TEST_CASE("die placement needs a chip of several dies", "[placement]") {
  std::vector<std::string> o = placed_stream("own_die");
  o.front() = "chip.dies=1";
  REQUIRE_THROWS_WITH(build_spec(parse_spec(kSmallHierarchy, o)),
                      Catch::Matchers::Contains("die_placement") && Catch::Matchers::Contains("chip.dies"));
}

TEST_CASE("far misses that fill their MSHR share leave home requests room", "[placement][deadlock]") {
  // Every core reads only lines homed on the other die, far more loads in flight than the slices have
  // MSHRs: each slice is the replica for its own cores and the home for the other die's. With far misses
  // allowed all MSHRs but one (the old reserve), each slice serves the other die's home requests one line
  // per DRAM round trip while its own far misses wait for the other slice to do the same. Two simulations:
  // each runs in its own `tilesim` process.
  const fs::path config = fs::temp_directory_path() / ("tilesim_far_mshrs_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(config) << kSmallHierarchy;
  std::vector<std::string> heavy = placed_stream("other_die", {"workload.loads_in_flight=16", "memory.l2.mshrs=32"});
  const double split = monitor_bandwidth(config, heavy, "half");
  heavy.push_back("memory.l2.far_mshrs=31");
  const double starved = monitor_bandwidth(config, heavy, "all_but_one");
  fs::remove(config);
  INFO("bandwidth with the default half of 32 MSHRs for far misses: " << split << " B/s; with 31: " << starved);
  REQUIRE(starved > 0);
  CHECK(split > 1.5 * starved);
}

TEST_CASE("far_mshrs must leave an MSHR for home lines", "[placement]") {
  REQUIRE_THROWS_WITH(build_spec(parse_spec(kSmallHierarchy, {"memory.l2.mshrs=8", "memory.l2.far_mshrs=8"})),
                      Catch::Matchers::Contains("far_mshrs") && Catch::Matchers::Contains("home lines"));
}

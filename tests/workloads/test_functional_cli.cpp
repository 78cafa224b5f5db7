// `tilesim run --functional`: PASS with exit 0, FAIL with exit 1 on a broken kernel, exit 2 on bad input.
#include <catch2/catch.hpp>

#include "tests/common/command.hpp"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

using Catch::Matchers::Contains;

namespace {

using Result = tilesim::test::CommandResult;
Result run_cli(const std::string& args) { return tilesim::test::run_tilesim(args); }

}  // namespace

TEST_CASE("tilesim run --functional workloads/gemm passes", "[workloads][cli]") {
  const Result r = run_cli("run --functional " + std::string(TILESIM_REPO_ROOT) + "/workloads/gemm");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Contains("workload  gemm") && Contains("shape     M=96 N=80 K=100") &&
                           Contains("C: bit-exact") && Contains("\nPASS\n"));
  const Result by_name = run_cli("run --functional attention_fwd --param causal=1 --param headdim=128");
  INFO(by_name.output);
  CHECK(by_name.code == 0);
  CHECK_THAT(by_name.output, Contains("seqlen=100 headdim=128 causal") && Contains("PASS"));
}

TEST_CASE("tilesim run --functional: a corrupted kernel FAILs with exit 1", "[workloads][cli]") {
  std::ifstream in(std::string(TILESIM_REPO_ROOT) + "/workloads/gemm.tile");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  const auto pos = text.find("%c2 = mma %a, %b, %c");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, std::string("%c2 = mma %a, %b, %c").size(), "%c2 = mma %a, %b, %zero");  // drops earlier K tiles
  const auto dir = std::filesystem::temp_directory_path() / "tilesim_cli_functional";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "gemm.tile") << text;
  const Result r = run_cli("run --functional " + (dir / "gemm.tile").string());
  INFO(r.output);
  CHECK(r.code == 1);
  CHECK_THAT(r.output, Contains("FAIL") && Contains("first mismatch: C["));
}

TEST_CASE("tilesim run --functional: bad input exits 2 with the reason", "[workloads][cli]") {
  const Result unknown = run_cli("run --functional workloads/gemm --param Q=1");
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.output, Contains("gemm: unknown parameter 'Q'"));
  const Result no_workload = run_cli("run --functional workloads/gem");
  CHECK(no_workload.code == 2);
  CHECK_THAT(no_workload.output, Contains("unknown workload 'gem' (did you mean 'gemm'?)"));
  const Result bad_value = run_cli("run --functional gemm --param BLOCK_M=0");
  CHECK(bad_value.code == 2);
  CHECK_THAT(bad_value.output, Contains("BLOCK_M = 0 is outside"));
}

// `tilesim compare`: kernel matching and the side-by-side table of a measured and a simulated trace.
#include <fstream>
#include <iostream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "sim/error.hpp"
#include "validation/commands.hpp"
#include "validation/kernel_matching.hpp"
#include "validation_test_util.hpp"

using namespace tilesim;
using namespace tilesim::validation;

namespace {
const std::string kData = VALIDATION_TEST_DATA;
const std::string kTraceData = TRACES_TEST_DATA;

int compare(const std::vector<std::string>& args, std::string& out) {
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  int rc = -1;
  try {
    rc = run_compare_command(args);
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  out = captured.str();
  return rc;
}

traces::MeasuredKernel kernel(const std::string& name) {
  traces::MeasuredKernel k;
  k.name = name;
  return k;
}
}  // namespace

TEST_CASE("kernel matching: by base name and launch order, or by position") {
  const std::vector<traces::MeasuredKernel> measured = {kernel("void gemm<128>(float*)"), kernel("softmax(float*)"),
                                                        kernel("void gemm<128>(float*)"), kernel("only_measured")};
  const std::vector<traces::MeasuredKernel> simulated = {kernel("gemm"), kernel("gemm"), kernel("softmax"), kernel("only_simulated")};
  const auto by_name = match_kernels(measured, simulated, MatchBy::name);
  REQUIRE(by_name.size() == 5);
  CHECK(by_name[0].simulated == 0);  // first gemm launch <-> first simulated gemm
  CHECK(by_name[1].simulated == 2);  // softmax
  CHECK(by_name[2].simulated == 1);  // second gemm launch <-> second simulated gemm
  CHECK(by_name[3].simulated == -1);
  CHECK(by_name[4].measured == -1);
  CHECK(by_name[4].simulated == 3);
  const auto by_order = match_kernels(measured, simulated, MatchBy::order);
  REQUIRE(by_order.size() == 4);
  CHECK(by_order[1].measured == 1);
  CHECK(by_order[1].simulated == 1);
}

TEST_CASE("compare: an ncu profile against a simulated stats.json, side by side with ratios") {
  const auto dir = validation_test::fresh_dir("compare");
  std::string out;
  REQUIRE(compare({kTraceData + "/ncu_details.csv", kData + "/sim_stats.json", "--csv", (dir / "c.csv").string(),
                   "--timeline", (dir / "timeline.json").string()},
                  out) == 0);
  INFO(out);
  CHECK(out.find("(ncu-details, 2 kernels)") != std::string::npos);
  CHECK(out.find("(tilesim-stats, 3 kernels)") != std::string::npos);
  // gemm: measured 1234.56 us, simulated 1000 us; softmax: 15.36 us vs 16 us.
  CHECK(out.find("1234.560    1000.000      0.81") != std::string::npos);
  CHECK(out.find("15.360      16.000     1.042") != std::string::npos);
  CHECK(out.find("r n/a") != std::string::npos);  // two pairs are too few for a correlation
  CHECK(out.find("layernorm_kernel") != std::string::npos);
  CHECK(out.find("0 measured kernels without a simulated match, 1 simulated kernels without a measured match") !=
        std::string::npos);
  const std::string csv = validation_test::slurp(dir / "c.csv");
  CHECK(csv.find("index,measured_kernel,simulated_kernel,measured_ns,simulated_ns,ratio\n") == 0);
  CHECK(csv.find("1,\"void gemm_kernel<128>(float const*, float*)\",gemm_kernel,1234560,1000000,0.81") != std::string::npos);
  // The merged timeline holds both sides as processes of Kineto-style kernel events.
  const auto doc = nlohmann::json::parse(validation_test::slurp(dir / "timeline.json"));
  int measured = 0, simulated = 0;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    CHECK(e.at("cat") == "kernel");
    (e.at("pid") == 0 ? measured : simulated) += 1;
  }
  CHECK(measured == 2);
  CHECK(simulated == 3);
}

TEST_CASE("compare: bad arguments are clear errors") {
  std::string out;
  CHECK_THROWS_WITH(compare({kData + "/sim_stats.json"}, out), "compare: need MEASURED and SIMULATED (see --help)");
  CHECK_THROWS_WITH(compare({kData + "/sim_stats.json", kData + "/sim_stats.json", "--by", "size"}, out),
                    "compare: --by must be name or order, got 'size'");
  CHECK_THROWS_WITH(compare({kData + "/fixture_cases.csv", kData + "/sim_stats.json"}, out),
                    kData + "/fixture_cases.csv: a reference CSV holds measured figures, not kernel timings (use `tilesim validate`)");
}

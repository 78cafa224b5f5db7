// `validate --front-end core`: the memory microbenchmark rows run as tile programs on the SM model
// (arch/simt/simt_memory_case_mappers.cpp) instead of on the memory probe, through the same hierarchy.
#include <fstream>

#include <catch2/catch.hpp>

#include "validation/case_runs.hpp"
#include "validation_test_util.hpp"

using namespace tilesim::validation;
using namespace validation_test;
namespace fs = std::filesystem;

namespace {

ReferenceRow chase_row() {
  ReferenceRow row;
  row.id = "h100pcie-l2-chase";
  row.device = "H100 PCIe";
  row.preset = "h100_pcie";
  row.workload = "pchase";
  row.params = {{"space", "global"}, {"footprint", "2.8MiB"}, {"stride", "random"}, {"threads", "64"}, {"level", "l2_near"}};
  row.metric = "latency";
  row.unit = "cycles";
  row.value = 265.5;
  row.source_url = "https://github.com/te42kyfo/gpu-benches/blob/x/gpu-latency/h100_pcie.txt";
  return row;
}

std::map<std::string, std::string> overrides(const SimCase& c) {
  std::map<std::string, std::string> out;
  for (const auto& o : c.overrides) out[o.substr(0, o.find('='))] = o.substr(o.find('=') + 1);
  return out;
}

}  // namespace

TEST_CASE("validate front ends: the probe by default, the SM's tile program with --front-end core") {
  ReferenceRow copy = chase_row();
  copy.id = "copy";
  copy.workload = "bulk_copy";
  copy.params = {{"engine", "tma"}, {"bytes_per_copy", "12KiB"}, {"blocks", "342"}, {"footprint", "4GiB"}};
  copy.metric = "bandwidth";
  copy.unit = "GB/s";
  ReferenceRow l2_stream = chase_row();
  l2_stream.id = "l2-stream";
  l2_stream.workload = "stream";
  l2_stream.params = {{"op", "read"}, {"footprint", "8MiB"}, {"level", "l2"}};
  l2_stream.metric = "bandwidth";
  l2_stream.unit = "GB/s";
  const std::vector<ReferenceRow> rows = {chase_row(), copy, l2_stream};

  const auto probe = plan_cases(rows);
  REQUIRE(probe.size() == 3);
  for (const auto& c : probe) {
    INFO(c.row.id << ": " << c.reason);
    REQUIRE(c.status == CaseStatus::planned);
    CHECK(overrides(c.sim).at("system") == "memory_probe");
  }
  CHECK(probe[0].mapper == "pchase");

  const auto core = plan_cases(rows, FrontEnd::core);
  REQUIRE(core[0].status == CaseStatus::planned);
  CHECK(core[0].mapper == "pchase@core");
  CHECK(core[0].sim.presets == std::vector<std::string>{"h100_pcie", "sm90_core"});
  const auto set = overrides(core[0].sim);
  CHECK(set.at("system") == "gpu");
  CHECK(set.at("workload.name") == "pchase");
  CHECK(set.at("workload.values") == "true");  // the chase's addresses are its data
  CHECK(set.at("workload.order") == "random");
  CHECK(set.at("workload.stride") == "64");  // gpu-latency's 64 B slots
  CHECK(set.at("memory.l2.prefill_base") == "4294967296B");  // the ring, the launch's first buffer
  // Rows the SM's tile programs cannot express are listed with the reason, never sent to the probe.
  CHECK(core[1].status == CaseStatus::not_runnable);
  CHECK(core[1].reason.find("no core front end for workload 'bulk_copy'") != std::string::npos);
  CHECK(core[2].status == CaseStatus::not_runnable);
  CHECK(core[2].reason.find("cache-resident re-reads") != std::string::npos);
}

TEST_CASE("validate front ends: the SM's dependent-load chase and the probe's agree on the L2 plateau") {
  // One hierarchy, two front ends: the probe chases with a fixed 2-cycle dependent issue, the SM with its
  // own instructions. Both replay gpu-latency's chase over 2.8 MiB.
  const fs::path dir = fresh_dir("front_end");
  const fs::path csv = dir / "rows.csv";
  {
    std::ofstream f(csv);
    f << "id,device,preset,workload,params,metric,value,unit,clock_mhz,trust,source_url,note\n"
      << "l2-chase,H100 PCIe,h100_pcie,pchase,space=global;footprint=2.8MiB;stride=random;threads=64;level=l2_near,"
         "latency,265.5,cycles,,primary,https://github.com/te42kyfo/gpu-benches/blob/x/gpu-latency/h100_pcie.txt,test\n";
  }
  double simulated[2] = {0, 0};
  for (int core = 0; core < 2; ++core) {
    const fs::path out = dir / (core ? "core" : "probe");
    std::vector<std::string> args = {csv.string(), "--out", out.string(), "--no-plot"};
    if (core) args.insert(args.end(), {"--front-end", "core"});
    std::string printed;
    REQUIRE(validate(args, printed) == 0);
    INFO(printed);
    const auto rows = read_validation_csv(out / "validation.csv");
    const auto& row = rows.at("l2-chase");
    REQUIRE(row.at("status") == "compared");
    simulated[core] = std::stod(row.at("simulated"));
    CHECK((row.at("reason").find("front end: core") != std::string::npos) == (core == 1));
  }
  // The presets derive the L2 latency with 2 cycles from data to dependent issue; the SM spends exactly
  // that (load_use_latency), the one-element reduce that turns the loaded tile into the next index is a
  // register rename, and the loop's uniform instructions run under the load.
  CHECK(simulated[1] == Approx(simulated[0]).epsilon(0.01));
  CHECK(simulated[1] > 200);  // an L2 hit, not an L1 hit or a DRAM access
  CHECK(simulated[1] < 330);
}

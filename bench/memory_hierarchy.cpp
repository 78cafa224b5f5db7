// Memory-hierarchy throughput: simulated line requests per wall-clock second through the whole hierarchy
// of h100_sxm5 (132 probes -> L1s -> crossbars -> 80 L2 slices -> fabric -> 10 HBM3 controllers), for a
// streaming and a random pattern. Each scenario runs in its own process (one simulation per process);
// `bench_memory_hierarchy` with no argument runs them all and prints a table.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/run.hpp"

using namespace tilesim;

namespace {

struct Scenario {
  const char* name;
  const char* what;
  std::vector<std::string> overrides;
};

const std::vector<Scenario>& scenarios() {
  static const std::vector<Scenario> s = {
      {"stream", "gpu-stream read: 1 double/thread, 2 x 1024-thread blocks per SM, 64 MiB of 1 GiB",
       {"workload.kind=stream", "workload.op=read", "workload.footprint=1GiB", "workload.access_bytes=8B",
        "workload.threads=1024", "workload.blocks_per_core=2", "workload.blocks=131072", "workload.loads_in_flight=1",
        "workload.max_bytes=64MiB"}},
      {"random", "random 128 B lines over 1 GiB: 4-byte gather, 2 x 1024-thread blocks per SM, 4 loads in flight",
       {"workload.kind=stream", "workload.op=read", "workload.stream_order=random", "workload.footprint=1GiB",
        "workload.access_bytes=4B", "workload.threads=1024", "workload.blocks_per_core=2",
        "workload.iterations=1000000", "workload.loads_in_flight=4", "workload.max_bytes=32MiB"}},
  };
  return s;
}

double sum_stat(const nlohmann::json& stats, const std::string& prefix, const std::string& name) {
  double total = 0;
  for (const auto& scope : stats["scopes"]) {
    if (scope.value("scope", "") != "total") continue;
    for (const auto& c : scope["components"]) {
      const std::string n = c.value("name", "");
      if (n.rfind(prefix, 0) == 0 && n.size() > prefix.size() && c["stats"].contains(name) &&
          n.find('.', prefix.size()) != std::string::npos && n.substr(n.find('.', prefix.size())) == ".l1")
        total += c["stats"][name]["value"].get<double>();
    }
  }
  return total;
}

int run_one(const std::string& name) {
  for (const auto& s : scenarios()) {
    if (s.name != name) continue;
    RunRequest req;
    req.presets = {"h100_sxm5"};
    req.overrides = s.overrides;
    req.overrides.push_back("sim.heartbeat=0s");
    const auto t0 = std::chrono::steady_clock::now();
    const RunOutcome out = run_simulation(req);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double lines = sum_stat(out.stats, "core", "reads");
    double bw = 0;
    for (const auto& scope : out.stats["scopes"])
      if (scope.value("scope", "") == "total")
        for (const auto& c : scope["components"])
          if (c.value("name", "") == "monitor") bw = c["stats"]["bandwidth"]["value"].get<double>();
    std::printf("%-8s %12.0f line requests  %7.2f s wall (%6.2f s in run)  %10.0f requests/s  %8.1f us simulated  "
                "%7.0f GB/s simulated\n",
                s.name, lines, wall, out.info.wall_seconds, lines / out.info.wall_seconds,
                static_cast<double>(out.info.end_tick) * 1e-6, bw / 1e9);
    return 0;
  }
  std::fprintf(stderr, "unknown scenario '%s'\n", name.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  if (argc > 1) return run_one(argv[1]);
  std::printf("scenario  (h100_sxm5, %zu scenarios, each in its own process)\n", scenarios().size());
  for (const auto& s : scenarios()) {
    std::printf("# %s: %s\n", s.name, s.what);
    std::fflush(stdout);
    const std::string cmd = std::string(argv[0]) + " " + s.name;
    if (std::system(cmd.c_str()) != 0) return 1;
  }
  return 0;
}

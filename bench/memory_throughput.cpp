// Memory-model throughput: simulated memory requests per wall-clock second through
// traffic_generator -> hbm_controller (one controller with the H100 SXM5 HBM3 defaults: 16 pseudo-channels
// at 1.3086 GHz). Each scenario runs in its own process (one simulation per process);
// `bench_memory_throughput` with no argument runs them all and prints a table.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "sim/config.hpp"
#include "sim/system.hpp"

using namespace tilesim;

namespace {

struct Scenario {
  const char* name;
  const char* what;
  std::uint64_t requests;
  std::uint32_t bytes;     // per request
  const char* generator;  // further traffic_generator parameters
  const char* controller;  // hbm_controller parameters beyond its defaults
};

// Enough requests in flight to keep every channel busy (Little's law: ~300 GB/s x ~1 us).
// The *_deep scenarios use 128-burst read and write queues per channel (the GPU presets' FR-FCFS window):
// they show what a deep queue costs the scheduler per command.
const Scenario kScenarios[] = {
    {"streaming", "sequential 128 B reads", 400000, 128,
     "pattern: sequential, footprint: 1GiB, max_outstanding: 1024, issue_width: 4", ""},
    {"random", "random 64 B reads over 1 GiB", 200000, 64,
     "pattern: random, footprint: 1GiB, max_outstanding: 1024, issue_width: 4", ""},
    {"random_mixed", "random 64 B, 30% writes", 200000, 64,
     "pattern: random, footprint: 1GiB, write_fraction: 0.3, max_outstanding: 1024, issue_width: 4", ""},
    {"streaming_deep", "sequential 128 B reads, 128-burst queues", 400000, 128,
     "pattern: sequential, footprint: 1GiB, max_outstanding: 4096, issue_width: 4",
     ", queue_depth: 128, write_queue_depth: 128, input_buffer: 512"},
    {"random_mixed_deep", "random 64 B, 30% writes, 128-burst queues", 200000, 64,
     "pattern: random, footprint: 1GiB, write_fraction: 0.3, max_outstanding: 4096, issue_width: 4",
     ", queue_depth: 128, write_queue_depth: 128, input_buffer: 512"},
};

int run_scenario(const Scenario& s) {
  const std::string yaml = std::string("clocks: {core: 1.6GHz, hbm: 1.3086GHz}\n"
                                       "components:\n"
                                       "  gen: {kind: traffic_generator, clock: core, requests: ") +
                           std::to_string(s.requests) + ", bytes: " + std::to_string(s.bytes) + "B, " +
                           s.generator +
                           "}\n"
                           "  mem: {kind: hbm_controller, clock: hbm" +
                           s.controller +
                           "}\n"
                           "links:\n"
                           "  req:  {from: gen.req, to: mem.req, latency: 1cycles}\n"
                           "  resp: {from: mem.resp, to: gen.resp, latency: 1cycles}\n";
  ConfigTree tree;
  tree.merge_text(yaml, s.name);
  tree.apply_override("sim.heartbeat=0s");
  auto sim = build_system(parse_system(tree));
  const auto t0 = std::chrono::steady_clock::now();
  const RunInfo info = sim->run();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double simulated_s = static_cast<double>(info.end_tick) * 1e-12;
  const double bytes = static_cast<double>(s.requests) * s.bytes;
  std::printf("%-13s %10.0f requests/s  %6.2f us/request  (%s: %llu requests, %.1f us simulated at %.1f GB/s, "
              "%.3f s wall, %llu component ticks)\n",
              s.name, static_cast<double>(s.requests) / seconds, seconds * 1e6 / static_cast<double>(s.requests),
              s.what, static_cast<unsigned long long>(s.requests), simulated_s * 1e6, bytes / simulated_s * 1e-9,
              seconds, static_cast<unsigned long long>(info.component_ticks));
  return info.completed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  if (argc > 1) {
    for (const auto& s : kScenarios)
      if (argv[1] == std::string(s.name)) return run_scenario(s);
    std::fprintf(stderr, "unknown scenario '%s' (streaming, random, random_mixed, streaming_deep, random_mixed_deep)\n", argv[1]);
    return 2;
  }
  int rc = 0;
  for (const auto& s : kScenarios) {
    const std::string cmd = std::string(argv[0]) + " " + s.name;
    rc |= std::system(cmd.c_str());
  }
  return rc == 0 ? 0 : 1;
}

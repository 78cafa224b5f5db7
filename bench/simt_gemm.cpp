// Simulation speed of the SIMT GPU model on a whole GEMM kernel: `bench_simt_gemm [M N K] [preset]` runs
// the workload library's warp-specialised GEMM (gemm_ws, 128x256x64 tiles, 4 stages, clusters of 2 sharing
// B by TMA multicast, bf16 -> f32 -> bf16: the configuration the validation mappers use on sm_90) on the `gpu` system of the preset (default h100_sxm5 with
// the sm90_core SM layer) and prints wall time, simulated warp instructions per second, simulated
// SM-cycles per second, peak resident memory and where the component ticks went.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>

#include "sim/error.hpp"
#include "sim/run.hpp"

using namespace tilesim;

int main(int argc, char** argv) {
  const std::string M = argc > 1 ? argv[1] : "4096";
  const std::string N = argc > 2 ? argv[2] : M;
  const std::string K = argc > 3 ? argv[3] : M;
  const std::string preset = argc > 4 ? argv[4] : "h100_sxm5";
  RunRequest r;
  r.presets = {preset, "sm90_core"};
  r.overrides = {"workload.name=gemm_ws", "workload.M=" + M, "workload.N=" + N, "workload.K=" + K,
                 "workload.BLOCK_M=128", "workload.BLOCK_N=256", "workload.BLOCK_K=64", "workload.stages=4", "workload.cluster_m=2",
                 "workload.dtype_in=bf16", "workload.dtype_out=bf16", "workload.inputs=zero", "sim.heartbeat=0s"};
  try {
    const auto t0 = std::chrono::steady_clock::now();
    const RunOutcome out = run_simulation(r);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    struct rusage ru {};
    getrusage(RUSAGE_SELF, &ru);

    double warp_instructions = 0, sm_cycles = 0, flops = 0;
    std::map<std::string, double> ticks_by_kind;
    for (const auto& scope : out.stats["scopes"]) {
      if (scope["scope"] != "total") continue;
      for (const auto& c : scope["components"]) {
        const auto& s = c["stats"];
        ticks_by_kind[c["kind"].get<std::string>()] += s["active_cycles"]["value"].get<double>();
        if (c["kind"] != "simt_sm") continue;
        warp_instructions += s["warp_instructions"]["value"].get<double>();
        sm_cycles += s["cycles"]["value"].get<double>();
        flops += s["tensor_flops"]["value"].get<double>();
      }
    }
    double kernel_s = 0;
    for (const auto& scope : out.stats["scopes"])
      if (scope["scope"] == "kernel") kernel_s = (scope["end_ps"].get<double>() - scope["begin_ps"].get<double>()) * 1e-12;
    std::printf("gemm_ws %sx%sx%s bf16 on %s + sm90_core\n", M.c_str(), N.c_str(), K.c_str(), preset.c_str());
    std::printf("  simulated kernel      %.1f us, %.0f TFLOPS\n", kernel_s * 1e6, kernel_s > 0 ? flops / kernel_s / 1e12 : 0.0);
    std::printf("  wall time             %.1f s (run %.1f s)\n", wall, out.info.wall_seconds);
    std::printf("  warp instructions     %.3g  -> %.3g per second\n", warp_instructions, warp_instructions / out.info.wall_seconds);
    std::printf("  SM-cycles             %.3g  -> %.3g per second\n", sm_cycles, sm_cycles / out.info.wall_seconds);
    std::printf("  peak memory           %.0f MiB\n", static_cast<double>(ru.ru_maxrss) / 1024.0);
    std::printf("  component ticks       %llu (%.3g per second)\n", static_cast<unsigned long long>(out.info.component_ticks),
                static_cast<double>(out.info.component_ticks) / out.info.wall_seconds);
    double all = 0;
    for (const auto& [k, v] : ticks_by_kind) all += v;
    for (const auto& [k, v] : ticks_by_kind)
      if (v > 0) std::printf("    %-16s %5.1f%% of ticks\n", k.c_str(), 100.0 * v / all);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_simt_gemm: %s\n", e.what());
    return e.exit_code();
  }
}

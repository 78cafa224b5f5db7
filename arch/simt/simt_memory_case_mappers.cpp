// The core front end of the memory microbenchmark rows (`tilesim validate --front-end core`): pchase and
// stream rows of the SIMT presets run as the workload library's tile programs (workloads/pchase.tile,
// workloads/stream.tile) on the SM model, through the same memory hierarchy that the memory probe
// (arch/memory/probe) drives directly. The default front end stays the probe: it replays each source
// benchmark's access pattern more closely (unrolling, block shapes, cache-resident re-reads) and runs
// faster. These mappers check that the SM's own load path (issue, LSU, coalescing, the dependent-use
// latency, occupancy) reproduces the measured plateaus too.
//
// What they can express: dependent-load chases through global memory (L1, near L2, DRAM; one chase) and
// shared memory; DRAM streams of gpu-stream (one double per thread, one element per thread, 2 blocks per SM) and
// grid-stride float4 loops. Everything else gets a reason.
#include <algorithm>
#include <cmath>

#include "arch/core/launch.hpp"
#include "arch/simt/simt_case_support.hpp"
#include "sim/text_util.hpp"
#include "validation/benchmark_source.hpp"
#include "validation/case_mapper.hpp"

namespace tilesim::validation {
namespace {

using namespace simt_cases;

/// Bytes as a workload parameter (a plain integer).
std::string bytes_text(double bytes) { return std::to_string(static_cast<std::uint64_t>(std::llround(bytes))); }

// ---- pchase ----------------------------------------------------------------------------------------------

/// Dependent loads per chase. A DRAM-level chase misses from its first load on; the L2 levels start from
/// an L2 holding the ring (the benchmarks' earlier laps); an L1 chase's first lap comes from L2 and must be
/// amortised: 400k steps put it below 0.5 % of the L1 plateau.
constexpr std::int64_t kL1ChaseSteps = 400000;
constexpr std::int64_t kChaseSteps = 20000;
constexpr std::int64_t kDramChaseSteps = 5000;
/// The ring's values travel through the run (addresses depend on them): 8 B of host memory per 4 B element
/// in each of three copies. A random chase over 512 MiB, ten times every SIMT preset's L2, misses like one
/// over the benchmarks' 1-2 GiB (TLB misses, which would differ, are not modelled).
constexpr double kMaxDramChaseFootprint = 512.0 * (1 << 20);

class PchaseOnCoreMapper final : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    if (row.metric != "latency") return cat("pchase rows measure latency, not ", row.metric);
    const std::string level = row.param_or("level", "");
    const std::string space = row.param_or("space", "global");
    if (space != "global" && space != "shared")
      return cat("pchase space=", space, " runs on the memory probe only (the SM chase is global or shared)");
    MapResult base = gpu_case(row, "pchase");
    if (auto* why = std::get_if<std::string>(&base)) return *why;
    SimCase c = std::get<SimCase>(base);
    set(c, "values", "true");
    set(c, "threads", "1");
    set(c, "level", level.empty() ? "l2" : level);
    if (space == "shared") {
      // pchase_shared copies the ring into scratch, then chases it with gather: one word per 64 B slot.
      set(c, "space", "shared");
      set(c, "footprint", row.has_param("footprint") ? bytes_text(row.param_bytes("footprint")) : "4KiB");
      set(c, "stride", "64");
      set(c, "order", "random");
      set(c, "steps", std::to_string(kChaseSteps));
      return c;
    }
    if (level == "l2_far")
      return std::string("the far-partition plateau is the steady state of laps over a ring larger than a partition "
                         "(hits near and far, some misses); a cold start reaches it only after laps the kernel's "
                         "time would include: memory probe only");
    if (level != "l1" && level != "l2" && level != "l2_near" && level != "dram")
      return cat("pchase level '", level, "' runs on the memory probe only");
    if (!row.has_param("footprint")) return std::string("the row states no footprint for the SM chase");
    const double spacing = static_cast<double>(chase_spacing(row));
    double footprint = row.param_bytes("footprint");
    if (level == "dram") footprint = std::min(footprint, kMaxDramChaseFootprint);
    footprint = std::max(spacing, std::floor(footprint / spacing) * spacing);  // whole slots (order=random)
    set(c, "footprint", bytes_text(footprint));
    set(c, "stride", format_number(spacing, 12));
    set(c, "order", row.param_or("stride", "random") == "random" ? "random" : "sequential");
    set(c, "steps", std::to_string(level == "l1" ? kL1ChaseSteps : level == "dram" ? kDramChaseSteps : kChaseSteps));
    if (level != "dram") {
      // The ring is the first global buffer of the launch.
      c.overrides.push_back("memory.l2.prefill=true");
      c.overrides.push_back(cat("memory.l2.prefill_base=", core::LaunchArgs{}.base_address, "B"));
      c.overrides.push_back("memory.l2.prefill_replicas=true");
    }
    return c;
  }

  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    const auto t = kernel_time(stats, "pchase");
    const auto hz = clock_hz(stats, "core");
    if (!t || !hz) return std::nullopt;
    const std::string level = row.param_or("level", "");
    const bool shared = row.param_or("space", "global") == "shared";
    const double steps = static_cast<double>(shared ? kChaseSteps
                                                    : level == "l1" ? kL1ChaseSteps
                                                    : level == "dram" ? kDramChaseSteps
                                                                      : kChaseSteps);
    return time_in_unit(*t / steps, row.unit, hz);
  }
  std::string what_is_extracted(const ReferenceRow& row) const override {
    return cat("the pchase kernel's time per dependent load, in ", row.unit);
  }
};

// ---- stream ----------------------------------------------------------------------------------------------

int stream_arrays(const std::string& op) { return op == "read" || op == "write" ? 1 : op == "triad" ? 3 : 2; }

/// Bytes of every vector the row's op touches: the row's footprint per vector (gpu-stream: 1 GiB), 1 GiB
/// when it does not say.
double stream_bytes(const ReferenceRow& row) {
  const double per_array = row.has_param("footprint") ? row.param_bytes("footprint") : 1024.0 * (1 << 20);
  return per_array * stream_arrays(row.param_or("op", "read"));
}

class StreamOnCoreMapper final : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    if (row.metric != "bandwidth") return cat("stream rows measure bandwidth, not ", row.metric);
    if (row.param_or("space", "global") != "global" || row.param_or("level", "") != "dram")
      return std::string("the stream workload reads each element once: cache-resident re-reads and shared-memory "
                         "streams run on the memory probe only");
    if (row.has_param("placement")) return std::string("die placement runs on the memory probe only");
    const std::string op = row.param_or("op", "read");
    const BenchmarkSource src = benchmark_source(row);
    if (src == BenchmarkSource::gpu_l2_cache || src == BenchmarkSource::gpu_cache)
      return std::string("gpu-benches gpu-l2-cache / gpu-cache blocks re-read shared data: memory probe only");
    MapResult base = gpu_case(row, "stream");
    if (auto* why = std::get_if<std::string>(&base)) return *why;
    SimCase c = std::get<SimCase>(base);
    set(c, "op", op);
    const int vector = static_cast<int>(row.has_param("vector") ? row.param_integer("vector") : 1);
    if (op != "read") {
      // Back-to-back kernels leave the cache full of their lines, dirty in proportion to the stores.
      const double dirty = op == "write" ? 1.0 : op == "triad" ? 1.0 / 3.0 : 0.5;
      c.overrides.push_back("memory.l2.prefill=true");
      c.overrides.push_back(cat("memory.l2.prefill_dirty=", format_number(dirty)));
    }
    if (src == BenchmarkSource::gpu_stream) {
      // gpu-stream: one double (vector x 8 B = 2 x vector f32) per thread and one element per thread, a
      // grid of N / blockSize blocks; its shared-memory spoiler keeps 2 blocks per SM.
      if (!row.has_param("occupancy")) return std::string("gpu-stream rows state an occupancy");
      const auto threads = static_cast<long long>(std::llround(row.param_fraction("occupancy") * 1024));
      set(c, "vector", std::to_string(2 * vector));
      set(c, "threads", std::to_string(threads));
      set(c, "blocks", "0");
      set(c, "footprint", bytes_text(stream_bytes(row)));
      c.overrides.push_back("core.sm.program_slots=2");
      return c;
    }
    // A grid-stride loop of `vector`-wide f32 loads (the dissection paper's float4 kernels, the B200 survey):
    // the stated blocks of 256 threads (assumed), else 2 blocks of 1024 threads per SM; 1 GiB per array
    // when the row does not say.
    const bool blocks = row.has_param("blocks");
    set(c, "vector", std::to_string(vector));
    set(c, "threads", std::to_string(row.has_param("threads") ? row.param_integer("threads") : (blocks ? 256 : 1024)));
    set(c, "blocks", blocks ? std::to_string(row.param_integer("blocks"))
                            : format_number(2 * preset_number(row, "chip.cores"), 12));
    set(c, "footprint", bytes_text(stream_bytes(row)));
    return c;
  }

  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    const auto t = kernel_time(stats, "stream");
    if (!t) return std::nullopt;
    return rate_in_unit(stream_bytes(row) / *t, row.unit, clock_hz(stats, "core"), sm_count(stats));
  }
  std::string what_is_extracted(const ReferenceRow& row) const override {
    return cat("the stream kernel's bytes over its time, in ", row.unit);
  }
};

const RegisterCaseMapper<PchaseOnCoreMapper> kPchaseOnCore(
    "pchase@core", "gpu system: dependent-load chase as a tile program on the SM (validate --front-end core)");
const RegisterCaseMapper<StreamOnCoreMapper> kStreamOnCore(
    "stream@core", "gpu system: STREAM kernels as tile programs on the SM (validate --front-end core)");

}  // namespace
}  // namespace tilesim::validation

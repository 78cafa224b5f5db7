// Case mappers (validation/case_mapper.hpp) for the memory microbenchmarks of SCHEMA.md: pchase, stream,
// bulk_copy and dsmem rows become `tilesim run` cases of the `memory_probe` system on the row's preset.
//
// Each row is replayed the way its source benchmark ran, as far as the row and its note say: the
// benchmark is recognised from the source URL (gpu-benches gpu-latency / gpu-stream / gpu-l2-cache /
// gpu-cache, the HPMLL Hopper benchmark repository, the Hopper dissection paper, SemiAnalysis'
// microbench-blackwell, ...), and the kernel shape (threads, element size and spacing, unrolling, blocks
// per SM) follows that benchmark's code. Values the source does not state are marked "assumed" in the
// comments. Rows the model cannot reproduce get a one-line reason.
#include <algorithm>
#include <cmath>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "validation/benchmark_source.hpp"
#include "validation/case_mapper.hpp"

namespace tilesim::validation {
namespace {

const char* const kClockKey = "chip.core_clock";

using Source = BenchmarkSource;

Source source_of(const ReferenceRow& row) { return benchmark_source(row); }

std::string bytes_text(double bytes) { return cat(static_cast<std::uint64_t>(std::llround(bytes)), "B"); }

/// The preset must exist; otherwise the reason it cannot run.
std::optional<std::string> missing_preset(const ReferenceRow& row) {
  try {
    find_preset(row.preset);
    return std::nullopt;
  } catch (const ConfigError&) {
    return cat("no preset '", row.preset, "' (the GPU memory hierarchy presets are a100_sxm4, a100_40gb, a100_pcie, "
               "h100_sxm5, h100_pcie, h800_pcie, h800_sxm5, h200, b200, v100, titan_v, rtx4090, l40, rtx2070)");
  }
}

/// Threads an SM of the row's preset holds (core.warps x 32: 2048 on GA100/GH100, 1536 on Ada, 1024 on
/// Turing). Benchmarks launch fixed block sizes; how many of them are resident per SM follows from it.
long long resident_threads(const ReferenceRow& row) {
  ConfigTree t;
  t.merge_file(find_preset(row.preset));
  const YAML::Node n = t.find("core.warps");
  if (!n) throw ConfigError(cat(row.location(), ": preset ", row.preset, " has no core.warps"));
  return 32 * n.as<long long>();
}
/// Blocks of `threads` resident per SM, at least one.
std::string blocks_per_sm(const ReferenceRow& row, long long threads) {
  return std::to_string(std::max<long long>(1, resident_threads(row) / threads));
}

SimCase probe_case(const ReferenceRow& row, const std::string& kind) {
  SimCase c;
  c.presets = {row.preset};
  c.overrides = {"system=memory_probe", cat("workload.kind=", kind)};
  c.clock_key = kClockKey;
  return c;
}

/// An L2-resident stream starts from the steady state of the benchmark's earlier iterations: every
/// partition's slices hold the footprint (the data from address 0, homes and replicas); then at least
/// 32 MiB or two passes are simulated.
void warm_l2(SimCase& c) {
  c.overrides.push_back("memory.l2.prefill=true");
  c.overrides.push_back("memory.l2.prefill_base=0B");
  c.overrides.push_back("memory.l2.prefill_replicas=true");
}
/// Bytes a DRAM-bandwidth row moves. Real benchmarks run for milliseconds: their figure is the steady state
/// in which the streams of many SMs have drifted apart and the L2 writes back as much as it takes in. A
/// short run measures the synchronised start instead (32 MiB: h100_pcie stream read +3 % there, −49 % in
/// steady state with the bank-group-lowest DRAM mapping; scale −42 % there, −3 % in steady state with the
/// presets' mapping). 256 MiB is at least twice every preset's L2 (B200: 126.5 MiB). gpu-l2-cache's L2 rows run
/// it too, for the same reason: several waves of blocks that have drifted apart.
constexpr const char* kDramSteadyStateBytes = "256MiB";

std::string l2_prefix(double footprint) { return bytes_text(std::max(32.0 * (1 << 20), 2.0 * footprint)); }

void set(SimCase& c, const std::string& key, const std::string& value) { c.overrides.push_back(cat("workload.", key, "=", value)); }

/// Probe components in the stats (probe0, probe1, ...): the number of cores.
std::vector<const nlohmann::json*> probes(const nlohmann::json& stats) {
  std::vector<const nlohmann::json*> out;
  if (!stats.contains("scopes")) return out;
  for (const auto& scope : stats["scopes"]) {
    if (scope.value("scope", "") != "total") continue;
    for (const auto& comp : scope["components"]) {
      const std::string n = comp.value("name", "");
      if (n.rfind("probe", 0) == 0 && n.size() > 5 && std::isdigit(static_cast<unsigned char>(n[5]))) out.push_back(&comp);
    }
  }
  return out;
}

/// The monitor's steady-state bandwidth in the row's unit.
std::optional<double> bandwidth_in_row_unit(const ReferenceRow& row, const nlohmann::json& stats) {
  const auto bw = stat_value(stats, "monitor", "bandwidth");
  if (!bw || *bw <= 0) return std::nullopt;
  return rate_in_unit(*bw, row.unit, clock_hz(stats, "core"), static_cast<double>(probes(stats).size()));
}

// ---- pchase ----------------------------------------------------------------------------------------------

class PchaseMapper final : public CaseMapper {
 public:
  bool drives_memory_probe() const override { return true; }
  MapResult map(const ReferenceRow& row) const override {
    if (auto why = missing_preset(row)) return *why;
    if (row.metric != "latency") return cat("pchase rows measure latency, not ", row.metric);
    const std::string level = row.param_or("level", "");
    const std::string space = row.param_or("space", "global");
    const Source src = source_of(row);
    if (level == "dram_tlb")
      return std::string("address translation (TLB misses) is not modelled; the chase would report the plain DRAM latency");
    if (level == "cross_die") {
      // The penalty between dies of a cold load from every core (extract() takes the difference).
      SimCase c = probe_case(row, "cold_load");
      set(c, "home_die", "0");
      return c;
    }
    SimCase c = probe_case(row, "pchase");
    set(c, "threads", std::to_string(row.has_param("threads") ? row.param_integer("threads")
                                                             : (src == Source::gpu_latency ? 64 : 1)));
    const std::uint64_t spacing = chase_spacing(row);
    if (space == "shared") {
      // A chase within shared memory: one 4-byte index per 64 B slot (bank-conflict free, one word).
      set(c, "space", "shared");
      set(c, "footprint", row.has_param("footprint") ? bytes_text(row.param_bytes("footprint")) : "4KiB");
      set(c, "spacing", "64B");
      set(c, "access_bytes", "4B");
      return c;
    }
    if (space == "dsmem") {
      set(c, "space", "dsmem");
      set(c, "footprint", row.has_param("footprint") ? bytes_text(row.param_bytes("footprint")) : "4KiB");
      set(c, "spacing", "64B");
      set(c, "access_bytes", "4B");
      set(c, "cluster", row.param_or("cluster", "2"));
      set(c, "target", level == "remote_sm" ? "remote" : "own");
      if (level != "remote_sm" && level != "smem") return cat("pchase space=dsmem: unknown level '", level, "'");
      return c;
    }
    if (space == "tma") {
      // One thread: a 16 B bulk copy of the element into shared memory, wait on the mbarrier, read it.
      set(c, "space", "tma");
      set(c, "copy_bytes", "16B");
    } else if (space != "global") {
      return cat("pchase: unknown space '", space, "'");
    }
    set(c, "spacing", bytes_text(static_cast<double>(spacing)));
    set(c, "order", row.param_or("stride", "random") == "random" ? "random" : "sequential");
    if (row.has_param("footprint")) {
      set(c, "footprint", bytes_text(row.param_bytes("footprint")));
      if (level == "l1" || level == "l2" || level == "l2_near" || level == "l2_far" || level == "dram") return c;
      return cat("pchase: unknown level '", level, "'");
    }
    // No footprint: the figure is a per-level latency (the dissection paper's fine-grained chase).
    if (level == "l1") {
      set(c, "footprint", "16KiB");
    } else if (level == "l2" || level == "l2_near") {
      set(c, "footprint", "2MiB");
    } else if (level == "l2_far") {
      // Far hit: lines homed in the other partition, warmed, then the own partition is evicted.
      set(c, "footprint", "8MiB");
      set(c, "spacing", "128B");
      set(c, "home", "far");
      set(c, "evict_partitions", "1.6");
      set(c, "measure_loads", "10000");
    } else if (level == "l2_miss_near" || level == "l2_miss_far") {
      // Cold misses on lines homed in the own (near) or another (far) partition.
      set(c, "footprint", "64MiB");
      set(c, "spacing", "128B");
      set(c, "home", level == "l2_miss_near" ? "near" : "far");
      set(c, "warmup_loads", "0");
      set(c, "measure_loads", "10000");
    } else if (level == "dram") {
      set(c, "footprint", "1GiB");
    } else {
      return cat("pchase: level '", level, "' without a footprint is not mapped");
    }
    return c;
  }

  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    if (row.param_or("level", "") == "cross_die") {
      // The source compares two latency bands: median cold-load latency of the cores on the far die minus
      // that of the cores on the home die (medians: a load that meets a DRAM refresh is an outlier).
      std::vector<double> band[2];
      for (const nlohmann::json* p : probes(stats)) {
        const auto& s = (*p)["stats"];
        if (!s.contains("cold_latency_cycles") || !s.contains("die")) return std::nullopt;
        band[s["die"]["value"].get<double>() > 0 ? 1 : 0].push_back(s["cold_latency_cycles"]["value"].get<double>());
      }
      if (band[0].empty() || band[1].empty()) return std::nullopt;
      auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        const std::size_t n = v.size();
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
      };
      const double cycles = median(band[1]) - median(band[0]);
      if (row.unit == "cycles") return cycles;
      const auto hz = clock_hz(stats, "core");
      return hz ? std::optional<double>(cycles / *hz * 1e9) : std::nullopt;
    }
    if (row.unit == "cycles") return stat_value(stats, "probe0", "latency_cycles");
    if (row.unit == "ns") return stat_value(stats, "probe0", "latency_ns");
    return std::nullopt;
  }

  std::string what_is_extracted(const ReferenceRow& row) const override {
    if (row.param_or("level", "") == "cross_die") return "median probe<i>.cold_latency_cycles of die 1 minus die 0";
    return cat("probe0.latency_", row.unit);
  }
};

// ---- stream ----------------------------------------------------------------------------------------------

class StreamMapper final : public CaseMapper {
 public:
  bool drives_memory_probe() const override { return true; }
  MapResult map(const ReferenceRow& row) const override {
    if (auto why = missing_preset(row)) return *why;
    if (row.metric != "bandwidth") return cat("stream rows measure bandwidth, not ", row.metric);
    const std::string op = row.param_or("op", "read");
    const std::string level = row.param_or("level", "");
    // placement (B200 die-placement rows): default is the allocator's interleave over both dies; die_affine /
    // anti_affine: each SM reads only memory homed on its own / the other die.
    const std::string placement = row.param_or("placement", "default");
    const char* die_placement = placement == "default"       ? "any"
                                : placement == "die_affine"  ? "own_die"
                                : placement == "anti_affine" ? "other_die"
                                                             : nullptr;
    if (!die_placement) return cat("placement=", placement, " is not one of default, die_affine, anti_affine");
    const Source src = source_of(row);
    const int vector = static_cast<int>(row.has_param("vector") ? row.param_integer("vector") : 1);
    SimCase c = probe_case(row, "stream");
    set(c, "op", op);
    if (placement != "default") set(c, "die_placement", die_placement);
    const bool writes = op != "read";
    if (writes) {
      // Back-to-back kernels leave the cache full of their lines, dirty in proportion to the stores.
      const double dirty = op == "write" ? 1.0 : op == "triad" ? 1.0 / 3.0 : 0.5;
      c.overrides.push_back("memory.l2.prefill=true");
      c.overrides.push_back(cat("memory.l2.prefill_dirty=", format_number(dirty)));
    }
    if (row.param_or("space", "global") == "shared") {
      if (op != "read") return std::string("shared-memory streams are read streams");
      // One block of `threads` per SM reading its shared memory; 32-bit words x vector per thread.
      set(c, "space", "shared");
      set(c, "access_bytes", bytes_text(4.0 * vector));
      set(c, "threads", std::to_string(row.has_param("threads") ? row.param_integer("threads") : 1024));
      set(c, "footprint", "32KiB");
      set(c, "blocks_per_core", "1");
      set(c, "iteration_stride", std::to_string(row.has_param("threads") ? row.param_integer("threads") : 1024));
      set(c, "iterations", "1000000");
      set(c, "loads_in_flight", "4");  // assumed: an unrolled read loop
      set(c, "max_bytes", "32MiB");
      return c;
    }
    switch (src) {
      case Source::gpu_stream: {
        // gpu-stream: one double per thread (vector x 8 B), grid = N / blockSize blocks, 2 blocks per SM;
        // occupancy = 2 x blockSize / the SM's resident threads (2048 on GA100/GH100, 1536 on Ada). Its
        // arrays hold 128 Mi + 2 doubles each (max_buffer_size in gpu-stream/main.cu): the row's 1 GiB plus 16 B, so consecutive 2 MiB-aligned allocations lie
        // 1 GiB + 2 MiB apart, as the stream probe places them.
        if (!row.has_param("occupancy")) return std::string("gpu-stream rows state an occupancy");
        const double occupancy = row.param_fraction("occupancy");
        const auto threads = static_cast<long long>(std::llround(occupancy * resident_threads(row) / 2.0));
        const double footprint = row.param_bytes("footprint") + 2.0 * 8 * vector;
        set(c, "access_bytes", bytes_text(8.0 * vector));
        set(c, "footprint", bytes_text(footprint));
        set(c, "threads", std::to_string(threads));
        set(c, "blocks_per_core", "2");
        set(c, "blocks", std::to_string(static_cast<long long>(std::ceil(footprint / (8.0 * vector) / threads))));
        set(c, "iterations", "1");
        set(c, "loads_in_flight", "1");
        set(c, "max_bytes", level == "dram" ? kDramSteadyStateBytes : "32MiB");
        return c;
      }
      case Source::gpu_l2_cache: {
        // gpu-l2-cache: 1024-thread blocks (as many resident per SM as fit: 2 on GA100/GH100, 1 on Ada), 32
        // unrolled double loads per thread over a block's 256 KiB; blocks b and b + blockRun read the same
        // data; footprint = blockRun x 256 KiB.
        const double per_block = 32.0 * 1024 * 8 * vector;
        const long long run = std::max<long long>(1, std::llround(row.param_bytes("footprint") / per_block));
        set(c, "access_bytes", bytes_text(8.0 * vector));
        set(c, "footprint", bytes_text(static_cast<double>(run) * per_block));
        set(c, "threads", "1024");
        set(c, "blocks_per_core", blocks_per_sm(row, 1024));
        set(c, "blocks", "100000");
        set(c, "block_run", std::to_string(run));
        set(c, "iterations", "32");
        set(c, "iteration_stride", std::to_string(1024 * run));
        set(c, "loads_in_flight", "32");
        // The figure is over 100000 blocks (hundreds of waves) whose starts and ends drift out of step; one
        // wave (57 MiB on h100_pcie) has every block start together and none turn over. h100_pcie 8 MiB:
        // +11.9 % over 32 MiB, +7.0 % over 256 MiB, +7.2 % over 1 GiB (with the 427-cycle block launch of the time;
        // +8.0 % over 256 MiB with the re-derived 361).
        set(c, "max_bytes", level == "l2" || level == "dram" ? kDramSteadyStateBytes : "32MiB");
        if (level == "l2") warm_l2(c);
        return c;
      }
      case Source::gpu_cache: {
        // gpu-cache: one 256-thread block per SM re-reading an N-float buffer, thread t reading t, t+256, ...;
        // up to 32 loads unrolled per thread.
        const double footprint = row.param_bytes("footprint");
        const long long per_thread = std::max<long long>(1, std::llround(footprint / 4.0 / vector / 256));
        set(c, "access_bytes", bytes_text(4.0 * vector));
        set(c, "footprint", bytes_text(footprint));
        set(c, "threads", std::to_string(row.has_param("threads") ? row.param_integer("threads") : 256));
        set(c, "blocks_per_core", "1");
        set(c, "block_run", "1");
        set(c, "iteration_stride", "256");
        set(c, "iterations", "1000000");
        set(c, "loads_in_flight", std::to_string(std::min<long long>(32, per_thread)));
        set(c, "max_bytes", "48MiB");
        return c;
      }
      default: {
        if (level == "l1") {
          // An L1-resident re-read (Accel-Sim l1_bw and similar): one block of `threads` per SM re-reading a
          // small per-SM buffer, as gpu-cache does (assumed: 256 threads, 16 KiB, 8 loads in flight).
          const double footprint = row.has_param("footprint") ? row.param_bytes("footprint") : 16.0 * 1024;
          set(c, "access_bytes", bytes_text(4.0 * vector));
          set(c, "footprint", bytes_text(footprint));
          set(c, "threads", std::to_string(row.has_param("threads") ? row.param_integer("threads") : 256));
          set(c, "blocks_per_core", "1");
          set(c, "block_run", "1");
          set(c, "iteration_stride", std::to_string(row.has_param("threads") ? row.param_integer("threads") : 256));
          set(c, "iterations", "1000000");
          set(c, "loads_in_flight", "8");
          set(c, "max_bytes", "32MiB");
          return c;
        }
        // A grid-stride read loop (the dissection paper's float4 kernels, the B200 survey, Chips and
        // Cheese): assumed 4 loads in flight per thread; the stated blocks all resident (256 threads each,
        // assumed), else as many blocks of 1024 threads per SM as fit (2 on GA100/GH100). Footprints not
        // stated: 2 MiB for level l2 (inside every preset's L2 partition), 1 GiB otherwise.
        const bool l2 = level == "l2";
        const double footprint = row.has_param("footprint") ? row.param_bytes("footprint") : (l2 ? 2.0 : 1024.0) * (1 << 20);
        set(c, "access_bytes", bytes_text(4.0 * vector));
        set(c, "footprint", bytes_text(footprint));
        const bool blocks = row.has_param("blocks");
        set(c, "threads", std::to_string(row.has_param("threads") ? row.param_integer("threads") : (blocks ? 256 : 1024)));
        if (blocks) set(c, "blocks", std::to_string(row.param_integer("blocks")));
        set(c, "blocks_per_core", blocks ? "0" : blocks_per_sm(row, 1024));  // 0: the whole grid resident at once
        set(c, "iterations", "1000000");
        set(c, "loads_in_flight", "4");
        set(c, "max_bytes", l2 ? l2_prefix(footprint) : level == "dram" ? kDramSteadyStateBytes : "32MiB");
        if (l2) warm_l2(c);
        return c;
      }
    }
  }

  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    return bandwidth_in_row_unit(row, stats);
  }
  std::string what_is_extracted(const ReferenceRow& row) const override { return cat("monitor.bandwidth in ", row.unit); }
};

// ---- bulk_copy ------------------------------------------------------------------------------------------

class BulkCopyMapper final : public CaseMapper {
 public:
  bool drives_memory_probe() const override { return true; }
  MapResult map(const ReferenceRow& row) const override {
    if (auto why = missing_preset(row)) return *why;
    if (row.metric != "bandwidth") return cat("bulk_copy rows measure bandwidth, not ", row.metric);
    const std::string engine = row.param("engine");
    SimCase c = probe_case(row, "bulk_copy");
    set(c, "engine", engine);
    set(c, "bytes_per_copy", bytes_text(row.param_bytes("bytes_per_copy")));
    set(c, "stages", row.param_or("stages", "1"));
    set(c, "blocks", std::to_string(row.param_integer("blocks")));
    set(c, "blocks_per_core", "0");  // every block resident (blocks <= a few per SM in these benchmarks)
    set(c, "footprint", row.has_param("footprint") ? bytes_text(row.param_bytes("footprint")) : "4GiB");
    set(c, "max_bytes", row.param_or("level", "dram") == "dram" ? kDramSteadyStateBytes : "32MiB");
    if (engine == "tma_2d") {
      // SemiAnalysis tma2d: 128 x 32 tiles of 4-byte elements = 128 rows of 128 B; the tensor's row
      // length is not stated (assumed 8 KiB).
      set(c, "row_bytes", "128B");
      set(c, "row_pitch", "8KiB");
    } else if (engine == "cp_async") {
      set(c, "threads", row.param_or("threads", "256"));
    } else if (engine != "tma") {
      return cat("bulk_copy: unknown engine '", engine, "'");
    }
    return c;
  }
  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    return bandwidth_in_row_unit(row, stats);
  }
  std::string what_is_extracted(const ReferenceRow& row) const override { return cat("monitor.bandwidth in ", row.unit); }
};

// ---- dsmem ----------------------------------------------------------------------------------------------

class DsmemMapper final : public CaseMapper {
 public:
  bool drives_memory_probe() const override { return true; }
  MapResult map(const ReferenceRow& row) const override {
    if (auto why = missing_preset(row)) return *why;
    if (row.metric != "bandwidth" && row.metric != "throughput")
      return cat("dsmem rows here measure throughput, not ", row.metric);
    // Every SM of a full cluster reads the next SM's shared memory; assumed: 1024 threads, float4
    // (16 B) loads, 4 in flight per warp (the paper does not state the kernel).
    SimCase c = probe_case(row, "dsmem");
    set(c, "cluster", std::to_string(row.param_integer("cluster")));
    set(c, "threads", "1024");
    set(c, "access_bytes", "16B");
    set(c, "loads_in_flight", "4");
    set(c, "iterations", "1000000");
    set(c, "max_bytes", "32MiB");
    return c;
  }
  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    return bandwidth_in_row_unit(row, stats);
  }
  std::string what_is_extracted(const ReferenceRow& row) const override { return cat("monitor.bandwidth in ", row.unit); }
};

const RegisterCaseMapper<PchaseMapper> kPchase("pchase", "memory_probe pointer chase (latency per level)");
const RegisterCaseMapper<StreamMapper> kStream("stream", "memory_probe streaming kernels (bandwidth per level)");
const RegisterCaseMapper<BulkCopyMapper> kBulkCopy("bulk_copy", "memory_probe copy-engine bandwidth (TMA, cp.async)");
const RegisterCaseMapper<DsmemMapper> kDsmem("dsmem", "memory_probe SM-to-SM shared-memory throughput");

}  // namespace
}  // namespace tilesim::validation

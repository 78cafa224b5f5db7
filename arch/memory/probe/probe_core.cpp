#include "arch/memory/probe/probe_core.hpp"

#include <algorithm>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/simulator.hpp"
#include "sim/text_util.hpp"
#include "arch/memory/address_map.hpp"

namespace tilesim {

namespace {
const RegisterComponent<ProbeMonitor> kMonitor(
    "probe_monitor", "gathers completed bytes from memory probes; steady-state aggregate bandwidth");
}

ParamSchema probe_core_schema() {
  ParamSchema s;
  s.integer("warps", 64, "warps (threads / 32) a core holds at once", 1, 4096)
      .integer("max_blocks", 32, "blocks (thread groups) a core holds at once", 1, 1024)
      .integer("memory_issue_per_cycle", 1, "memory instructions a core issues per cycle", 1, 64)
      .integer("lsu_queue", 32, "line requests waiting between the load/store unit and the cache; issue stops beyond",
               1, 1 << 16)
      .quantity("dependent_issue_latency", UnitKind::cycles, "2",
                "cycles from a load's data arriving to the issue of the instruction that uses it")
      .quantity("block_launch_latency", UnitKind::cycles, "0",
                "cycles from a block retiring to the next block on that core issuing its first instruction");
  return s;
}

ParamSchema probe_workload_schema() {
  ParamSchema s;
  s.choice("kind", "pchase", {"pchase", "stream", "bulk_copy", "dsmem", "cold_load"},
           "microbenchmark: dependent-load chase, streaming, copy engine, core-to-core scratch, cold load per core")
      .choice("space", "global", {"global", "shared", "tma", "dsmem"},
              "(pchase, stream) memory space accessed: global through the cache, the own scratch, global through the "
              "copy engine, another core's scratch")
      .quantity("footprint", UnitKind::size, "16KiB", "(pchase, stream, bulk_copy) bytes per array the accesses cover", 1)
      .choice("order", "random", {"random", "sequential"}, "(pchase) visiting order of the chain's elements")
      .choice("stream_order", "sequential", {"sequential", "random"},
              "(stream) sequential: the address formula; random: the footprint's lines in a pseudo-random permutation")
      .choice("die_placement", "any", {"any", "own_die", "other_die"},
              "(stream, global) any: the address formula; own_die / other_die: each core reads only the memory chunks "
              "(controller_interleave bytes) homed on its own die / on another die")
      .quantity("spacing", UnitKind::size, "64B", "(pchase) bytes from one chain element's slot to the next", 1)
      .quantity("access_bytes", UnitKind::size, "8B", "bytes each thread reads or writes per access", 1)
      .integer("threads", 32, "threads per block (pchase: threads following the chain, in warps of 32)", 1, 1 << 16)
      .integer("warmup_loads", 100000,
               "(pchase) warm-up loads for chains larger than twice the L2 (smaller chains warm up over the whole "
               "chain); 0: no warm-up (cold)", 0)
      .integer("measure_loads", 20000, "(pchase) timed loads after the warm-up (the chain wraps)", 1)
      .integer("chase_core", 0, "(pchase) core that runs the chase", 0)
      .choice("home", "any", {"any", "near", "far"},
              "(pchase) chain only lines homed in the chasing core's partition (near), in another (far), or any")
      .real("evict_partitions", 0.0,
            "(pchase) after the warm-up, read this many partitions' capacity of other lines homed in the core's own "
            "partition once (evicts the core's partition, not the others), then time the chain", 0, 16)
      .quantity("copy_bytes", UnitKind::size, "16B", "(pchase space=tma) bytes each copy moves", 1)
      .integer("cluster", 2, "(dsmem, pchase space=dsmem) cores per cluster", 1, 64)
      .choice("target", "remote", {"remote", "own"}, "(pchase space=dsmem) whose scratch the chase reads")
      .choice("op", "read", {"read", "write", "copy", "scale", "triad"},
              "(stream) read: a=B; write: A=c; copy/scale: A=B(*c); triad: A=B*c+C")
      .integer("blocks", 0, "(stream, bulk_copy, dsmem) blocks in the grid; 0: one per resident slot on every core", 0)
      .integer("blocks_per_core", 1,
               "(stream, bulk_copy) blocks a core runs at once; 0: enough for the whole grid to be resident", 0, 1024)
      .integer("iterations", 1, "(stream, dsmem) accesses per thread per array", 1)
      .integer("iteration_stride", 0, "(stream) elements between a thread's iterations; 0: the whole grid (grid-stride)", 0)
      .integer("block_run", 0, "(stream) blocks reading distinct data (block b reads block b mod block_run's); 0: all", 0)
      .integer("loads_in_flight", 4, "(stream, dsmem) load instructions a warp keeps in flight (unrolling)", 1, 1024)
      .quantity("max_bytes", UnitKind::size, "64MiB",
                "(stream, bulk_copy, dsmem) simulate only the first blocks of the grid, up to this many bytes", 1)
      .choice("engine", "tma", {"tma", "tma_2d", "cp_async"}, "(bulk_copy) how data moves into the scratch")
      .quantity("bytes_per_copy", UnitKind::size, "16KiB", "(bulk_copy) bytes per copy (per thread for cp_async)", 1)
      .integer("stages", 1, "(bulk_copy) copies a block keeps in flight", 1, 1024)
      .quantity("row_bytes", UnitKind::size, "128B", "(bulk_copy tma_2d) bytes per row of a 2-D box", 1)
      .quantity("row_pitch", UnitKind::size, "8KiB", "(bulk_copy tma_2d) bytes between rows in global memory", 1)
      .integer("home_die", 0, "(cold_load) die whose memory holds the loaded lines", 0)
      .quantity("cold_gap", UnitKind::cycles, "4000", "(cold_load) cycles between one core's load and the next's", 1)
      .quantity("report_bytes", UnitKind::size, "4KiB", "bytes a probe gathers before it reports to the monitor", 1);
  return s;
}

ParamSchema probe_param_schema() {
  ParamSchema s = probe_workload_schema();
  const ParamSchema core = probe_core_schema();
  for (const auto& d : core.decls()) {
    switch (d.type) {
      case ParamType::integer: s.integer(d.name, std::stoll(d.default_text), d.description, d.min, d.max); break;
      case ParamType::quantity: s.quantity(d.name, d.unit, d.default_text, d.description, d.min, d.max); break;
      default: panic("probe_param_schema: unexpected core parameter type");
    }
  }
  AddressMap::declare_params(s);  // where lines live (homes, partitions) and `cores`
  s.integer("core", 0, "index of the core this probe drives", 0)
      .quantity("line_size", UnitKind::size, "128B", "global-memory line size (coalescing unit)", 1)
      .quantity("window_bytes", UnitKind::size, "1MiB", "cluster window per core (remote address = core x window + offset)", 1)
      .quantity("scratch_size", UnitKind::size, "228KiB", "scratch capacity per core", 1)
      .quantity("l2_partition_size", UnitKind::size, "1MiB", "last-level cache capacity of one partition", 1)
      .integer("cores_per_group", 16, "cores per cluster-network group (a GPC; clusters never span groups)", 1)
      .integer("die_of_core", 0, "(cold_load) die this probe's core sits on", 0)
      .quantity("home_base", UnitKind::size, "0B", "(cold_load) first address of the lines this core loads", 0);
  return s;
}

std::uint64_t grid_blocks(const ParamValues& p, std::uint32_t cores) {
  if (p.integer("blocks") > 0) return static_cast<std::uint64_t>(p.integer("blocks"));
  if (p.integer("blocks_per_core") == 0)
    throw ConfigError(cat(p.path(), ": blocks and blocks_per_core cannot both be 0 (automatic)"));
  return static_cast<std::uint64_t>(cores) * static_cast<std::uint64_t>(p.integer("blocks_per_core"));
}

std::uint32_t resident_blocks(const ParamValues& p, std::uint32_t cores) {
  if (p.integer("blocks_per_core") > 0) return static_cast<std::uint32_t>(p.integer("blocks_per_core"));
  return static_cast<std::uint32_t>((grid_blocks(p, cores) + cores - 1) / cores);
}

ProbeCore::ProbeCore(const ComponentContext& ctx)
    : Component(ctx),
      core_(static_cast<std::uint32_t>(params().integer("core"))),
      cores_(static_cast<std::uint32_t>(params().integer("cores"))),
      line_bytes_(static_cast<std::uint32_t>(params().bytes("line_size"))),
      window_bytes_(params().bytes("window_bytes")),
      scratch_bytes_(params().bytes("scratch_size")),
      cores_per_group_(static_cast<std::uint32_t>(params().integer("cores_per_group"))),
      dependent_issue_(static_cast<std::uint64_t>(params().quantity("dependent_issue_latency"))),
      report_bytes_(params().bytes("report_bytes")) {}

CoreSidePorts ProbeCore::side_ports() { return core_side_ports(*this); }

std::uint64_t ProbeCore::now_cycle() const { return clock().now().value; }

void ProbeCore::add_completed(std::uint64_t bytes) {
  unreported_ += bytes;
  if (unreported_ >= report_bytes_) flush_report(false);
}

void ProbeCore::flush_report(bool final) {
  if (unreported_ == 0 && !final) return;
  report.send(ProbeReport{core_, unreported_, clock().now_tick(), final}, Priority::background);
  unreported_ = 0;
}

ParamSchema ProbeMonitor::param_schema() {
  ParamSchema s;
  s.integer("probes", 1, "probes reporting (each ends with a final report)", 1)
      .real("window_start", 0.5, "fraction of all bytes after which the bandwidth window opens", 0, 1)
      .real("window_end", 0.95, "fraction of all bytes at which it closes", 0, 1);
  return s;
}

ProbeMonitor::ProbeMonitor(const ComponentContext& ctx)
    : Component(ctx),
      probes_(static_cast<std::uint32_t>(params().integer("probes"))),
      window_start_(params().real("window_start")),
      window_end_(params().real("window_end")),
      st_bytes_(stats().counter("bytes", "B", "bytes completed by all probes")),
      st_window_bytes_(stats().counter("window_bytes", "B", "bytes completed inside the measurement window")),
      st_window_ps_(stats().counter("window", "ps", "duration of the measurement window")),
      st_span_ps_(stats().counter("span", "ps", "time from the first to the last report")),
      st_first_finish_bytes_(stats().counter("first_finish_bytes", "B", "bytes completed when the first probe finished")) {
  stats().ratio("bandwidth", "B/s", "steady-state aggregate bandwidth: window_bytes / window", "window_bytes", "window",
                1e12);
  stats().ratio("average_bandwidth", "B/s", "bytes / span (cold start and drain included)", "bytes", "span", 1e12);
  if (window_end_ <= window_start_) throw ConfigError(cat(params().path(), ": window_end must exceed window_start"));
}

bool ProbeMonitor::tick(Cycle) {
  while (in.ready()) {
    const ProbeReport r = in.pop();
    if (r.bytes > 0) {
      total_ += r.bytes;
      cumulative_.emplace_back(r.at, total_);
    }
    if (r.final && finals_++ == 0) first_final_bytes_ = total_;
    note_progress();
  }
  return false;
}

void ProbeMonitor::finish() {
  st_bytes_ += total_;
  st_first_finish_bytes_ += first_final_bytes_;
  if (cumulative_.size() < 2) return;
  st_span_ps_ += cumulative_.back().first - cumulative_.front().first;
  // The first report at or after each threshold marks the window's ends.
  auto at_fraction = [&](double f) {
    const double target = f * static_cast<double>(total_);
    for (const auto& [t, b] : cumulative_)
      if (static_cast<double>(b) >= target) return std::make_pair(t, b);
    return cumulative_.back();
  };
  const auto [t0, b0] = at_fraction(window_start_);
  const auto [t1, b1] = at_fraction(window_end_);
  if (t1 > t0) {
    st_window_bytes_ += b1 - b0;
    st_window_ps_ += t1 - t0;
  }
}

std::string ProbeMonitor::waiting_on() const { return cat(probes_ - finals_, " probes to finish"); }

std::vector<std::string> ProbeMonitor::report_lines(const std::vector<StatValue>& totals) const {
  double bw = 0, bytes = 0;
  for (const auto& v : totals) {
    if (v.name == "bandwidth") bw = v.value;
    if (v.name == "bytes") bytes = v.value;
  }
  return {cat("probes moved ", format_quantity(bytes, UnitKind::size), "; steady-state bandwidth ",
              format_quantity(bw, UnitKind::bandwidth))};
}

}  // namespace tilesim

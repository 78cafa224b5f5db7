// Front-ends that drive the memory hierarchy with the access patterns of the memory microbenchmarks
// (../shared/reference/SCHEMA.md: pchase, stream, bulk_copy, dsmem) until core models run them
// (DESIGN.md §6). One probe per core attaches to that core's CoreMemoryPorts; a probe issues at most
// what a real core could (`core` section: warps, memory instructions per cycle, LSU queue, dependent
// issue latency, block launch latency), so bandwidth plateaus come from the hierarchy, not from here.
//
// Probes that measure throughput send ProbeReports (bytes completed, when) to one ProbeMonitor, which
// computes the aggregate steady-state bandwidth over the middle of the run (see ProbeMonitor).
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "arch/memory/memory_system.hpp"
#include "arch/memory/messages.hpp"
#include "arch/memory/output_queues.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

/// Bytes a probe completed since its last report, at the time of the report.
struct ProbeReport {
  std::uint32_t core = 0;
  std::uint64_t bytes = 0;
  Tick at = 0;
  bool final = false;  // the probe's last report
};

/// The `core` section: what a core can issue (the probe's model of an SM's load/store front end).
ParamSchema probe_core_schema();
/// The `workload` section: which microbenchmark and its parameters.
ParamSchema probe_workload_schema();
/// Everything a probe component reads: workload + core + where it sits (core index, hierarchy numbers).
ParamSchema probe_param_schema();

/// Blocks in the grid: `blocks`, or (0) one per resident slot on every core; and blocks a core runs at
/// once: `blocks_per_core`, or (0) enough for the whole grid. ConfigError when both are 0.
std::uint64_t grid_blocks(const ParamValues& p, std::uint32_t cores);
std::uint32_t resident_blocks(const ParamValues& p, std::uint32_t cores);

/// Ports and helpers shared by every probe kind.
class ProbeCore : public Component {
 public:
  explicit ProbeCore(const ComponentContext& ctx);

  CoreSidePorts side_ports();

  OutPort<MemRequest> cache_req{*this, "cache_req", "MemRequest"};
  InPort<MemResponse> cache_resp{*this, "cache_resp", "MemResponse"};
  OutPort<ScratchRequest> scratch_req{*this, "scratch_req", "ScratchRequest"};
  InPort<MemResponse> scratch_resp{*this, "scratch_resp", "MemResponse"};
  OutPort<CopyCommand> copy_cmd{*this, "copy_cmd", "CopyCommand"};
  InPort<CopyDone> copy_done{*this, "copy_done", "CopyDone"};
  OutPort<ScratchRequest> remote_req{*this, "remote_req", "ScratchRequest"};
  InPort<MemResponse> remote_resp{*this, "remote_resp", "MemResponse"};
  OutPort<ProbeReport> report{*this, "report", "ProbeReport"};

 protected:
  /// Add completed bytes; a report goes out when `report_bytes` have gathered (or on flush).
  void add_completed(std::uint64_t bytes);
  void flush_report(bool final);
  std::uint64_t now_cycle() const;

  const std::uint32_t core_, cores_;
  const std::uint32_t line_bytes_;
  const std::uint64_t window_bytes_;
  const std::uint64_t scratch_bytes_;
  const std::uint32_t cores_per_group_;
  const std::uint64_t dependent_issue_;
  const std::uint64_t report_bytes_;

 private:
  std::uint64_t unreported_ = 0;
};

/// Receives ProbeReports from every probe. Stats (total scope): `bytes`, `first_finish_bytes` (completed when the
/// first probe finished: above `window_end` of `bytes`, the window saw every probe running), `span`
/// (ps), and `bandwidth` = bytes completed between the moments the run reached `window_start` and
/// `window_end` of its total bytes, divided by the time between them (B/s) — the steady state, without
/// the cold start and the drain at the end.
class ProbeMonitor final : public Component {
 public:
  static ParamSchema param_schema();
  explicit ProbeMonitor(const ComponentContext& ctx);
  bool tick(Cycle now) override;
  void finish() override;
  bool busy() const override { return finals_ < probes_; }
  std::string waiting_on() const override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

  InPort<ProbeReport> in{*this, "in", "ProbeReport"};

 private:
  const std::uint32_t probes_;
  const double window_start_, window_end_;
  std::uint32_t finals_ = 0;
  std::uint64_t first_final_bytes_ = 0;  // bytes completed when the first probe finished
  std::vector<std::pair<Tick, std::uint64_t>> cumulative_;  // (time, bytes so far), in arrival order
  std::uint64_t total_ = 0;

  Counter& st_bytes_;
  Counter& st_window_bytes_;
  Counter& st_window_ps_;
  Counter& st_span_ps_;
  Counter& st_first_finish_bytes_;
};

}  // namespace tilesim

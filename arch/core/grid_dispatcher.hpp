// The grid dispatcher (DESIGN.md §6; the CTA / block scheduler of a GPU front end). It runs the kernel
// launches of a run one after another, in stream order, each in its own kernel scope of the stats:
//
//   1. `launch_latency` after the previous kernel ended (or after the start of the run), the kernel scope
//      opens and programs start to go out;
//   2. programs go out in a documented order: clusters in linear order (grid axis 0 fastest, then 1,
//      then 2), the ranks of a cluster together and in rank order; without clusters a cluster is one
//      program. At most one cluster per `dispatch_interval` cycles;
//   3. placement: a cluster of one program goes to the next core, in index order starting after the core
//      that received the previous one (`policy: round_robin`, which fills the machine breadth first the
//      way the hardware does) or to the lowest-numbered core with room (`policy: fill`); a cluster of c
//      programs goes to c cores of one group (GPC, `cores_per_group` consecutive cores), all with room:
//      the first group, from the one holding that next core, with c cores with room; in it (round_robin)
//      the c least-loaded cores, ties in index order from that next core, or (fill) the lowest c;
//      a kernel whose clusters exceed `max_cluster_size` (1 on cores without thread-block clusters) or
//      the group is refused with a ConfigError;
//   4. a core has room while it holds fewer programs of the kernel than its occupancy — computed from the
//      core's resources and the program's footprint (core.hpp occupancy());
//   5. the kernel scope closes `end_latency` after the last program reports done.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "arch/core/core.hpp"
#include "arch/core/lowering.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim::core {

/// One kernel to run: the launch and what a program of it needs.
struct DispatchItem {
  std::shared_ptr<const KernelLaunch> launch;
  ProgramFootprint footprint;
};

class GridDispatcher final : public Component {
 public:
  static ParamSchema param_schema();
  /// `cores`: resources of every core (index = core number); `cores_per_group`: cores of one cluster group.
  /// Throws ConfigError when a kernel's program does not fit on a core or its clusters do not fit a group.
  GridDispatcher(const ComponentContext& ctx, std::vector<CoreResources> cores, std::uint32_t cores_per_group,
                 std::vector<DispatchItem> kernels);

  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override;
  std::string waiting_on() const override;
  double progress_fraction() const override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

  /// Occupancy of kernel `k` on core 0 (all cores of a GPU are alike; the dispatcher checks per core).
  const Occupancy& occupancy_of(std::size_t k) const { return occupancy_.at(k); }
  /// How to read the ProgramActivity the cores report (for the kernel summary in the report).
  void set_activity_layout(ActivityLayout layout) { layout_ = std::move(layout); }

  /// A kernel's activity summed over its programs, and its scope.
  struct KernelSummary {
    Tick begin = 0, end = 0;
    ProgramActivity activity;
  };
  const std::vector<KernelSummary>& summaries() const { return summaries_; }

  std::vector<std::unique_ptr<OutPort<ProgramLaunch>>> launch_ports;  // "launch0".."launchN-1"
  InPort<ProgramDone> done{*this, "done", "ProgramDone"};

 private:
  enum class Phase { waiting_launch, dispatching, draining, ending, finished };
  void start_kernel();
  bool dispatch_one_cluster();
  std::vector<std::uint32_t> place_cluster(std::uint32_t size);
  bool core_has_room(std::uint32_t core) const;

  const std::vector<CoreResources> cores_;
  const std::uint32_t cores_per_group_;
  const std::vector<DispatchItem> kernels_;
  const bool fill_policy_;
  const std::uint64_t dispatch_interval_;
  const Tick launch_latency_, end_latency_;

  std::vector<Occupancy> occupancy_;               // per kernel (core 0)
  std::vector<std::vector<std::uint32_t>> cap_;    // per kernel, per core
  std::size_t kernel_ = 0;
  Phase phase_ = Phase::waiting_launch;
  Tick phase_at_ = 0;                              // when the waiting phase ends
  std::int64_t next_cluster_ = 0, clusters_ = 0;
  std::int64_t outstanding_ = 0;                   // dispatched, not done
  std::int64_t done_total_ = 0, programs_total_ = 0;
  std::vector<std::uint32_t> resident_;
  std::uint32_t next_core_ = 0;
  std::uint64_t next_dispatch_cycle_ = 0;

  ActivityLayout layout_;
  std::vector<KernelSummary> summaries_;
  std::vector<std::string> summary_lines(std::size_t k) const;

  Counter& st_programs_;
  Counter& st_flops_;
  Counter& st_clusters_;
  Counter& st_kernels_;
  Counter& st_blocked_cycles_;
  Distribution& st_resident_;
};

}  // namespace tilesim::core

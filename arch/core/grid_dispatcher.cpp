#include "arch/core/grid_dispatcher.hpp"

#include <algorithm>

#include "sim/clock_domain.hpp"
#include "sim/simulator.hpp"
#include "sim/text_util.hpp"

namespace tilesim::core {

ParamSchema GridDispatcher::param_schema() {
  ParamSchema s;
  s.quantity("launch_latency", UnitKind::time, "0ns",
             "from the end of the previous kernel (or the start of the run) to the first program dispatch")
      .quantity("end_latency", UnitKind::time, "0ns", "from the last program's completion to the end of the kernel")
      .integer("dispatch_interval", 1, "cycles between two cluster dispatches (the block scheduler's rate)", 1)
      .integer("max_cluster_size", 16, "largest cluster of programs the cores support (1: no clusters)", 1)
      .choice("policy", "round_robin", {"round_robin", "fill"},
              "core choice: round_robin = next core after the last one used (breadth first), fill = lowest "
              "core with room");
  return s;
}

GridDispatcher::GridDispatcher(const ComponentContext& ctx, std::vector<CoreResources> cores,
                               std::uint32_t cores_per_group, std::vector<DispatchItem> kernels)
    : Component(ctx),
      cores_(std::move(cores)),
      cores_per_group_(std::max<std::uint32_t>(1, cores_per_group)),
      kernels_(std::move(kernels)),
      fill_policy_(params().string("policy") == "fill"),
      dispatch_interval_(static_cast<std::uint64_t>(params().integer("dispatch_interval"))),
      launch_latency_(params().ticks("launch_latency")),
      end_latency_(params().ticks("end_latency")),
      st_programs_(stats().counter("programs", "", "programs dispatched")),
      st_flops_(stats().counter("flops", "FLOP", "tensor FLOPs of the completed programs, as the cores report them")),
      st_clusters_(stats().counter("clusters", "", "clusters dispatched (a program without clusters counts as one)")),
      st_kernels_(stats().counter("kernels", "", "kernels completed")),
      st_blocked_cycles_(stats().counter("blocked_wakeups", "", "dispatch attempts that found no core with room")),
      st_resident_(stats().distribution("resident_programs", "", "programs resident on the chosen core after a dispatch")) {
  if (cores_.empty()) throw ConfigError(cat(name(), ": a dispatcher needs at least one core"));
  for (std::size_t c = 0; c < cores_.size(); ++c)
    launch_ports.push_back(std::make_unique<OutPort<ProgramLaunch>>(*this, cat("launch", c), "ProgramLaunch"));
  resident_.assign(cores_.size(), 0);
  for (const auto& item : kernels_) {
    if (!item.launch) panic(name(), ": dispatch item without a launch");
    const KernelLaunch& l = *item.launch;
    std::vector<std::uint32_t> caps;
    for (const auto& res : cores_) caps.push_back(occupancy(res, item.footprint).programs);
    const Occupancy occ = occupancy(cores_[0], item.footprint);
    if (*std::min_element(caps.begin(), caps.end()) == 0)
      throw ConfigError(cat("kernel ", l.name, ": a program does not fit on a core (", item.footprint.threads,
                            " threads, ", occ.registers_per_program, " registers, ", occ.scratch_per_program,
                            " B scratch incl. reserved; core offers ", cores_[0].threads, " threads, ",
                            cores_[0].registers, " registers, ", cores_[0].scratch_bytes, " B scratch)"));
    const auto max_cluster = static_cast<std::uint64_t>(params().integer("max_cluster_size"));
    if (static_cast<std::uint64_t>(l.cluster_size()) > max_cluster)
      throw ConfigError(cat("kernel ", l.name, ": clusters of ", l.cluster_size(), " programs, but these cores run clusters of at most ",
                            max_cluster, " (core.dispatch.max_cluster_size", max_cluster == 1 ? ": no thread-block clusters" : "",
                            ")"));
    if (static_cast<std::uint64_t>(l.cluster_size()) > cores_per_group_)
      throw ConfigError(cat("kernel ", l.name, ": clusters of ", l.cluster_size(), " programs exceed the ",
                            cores_per_group_, " cores of a cluster group (memory.cluster)"));
    occupancy_.push_back(occ);
    cap_.push_back(std::move(caps));
    programs_total_ += l.programs();
  }
  stats().ratio("programs_per_kernel", "", "programs dispatched per completed kernel", "programs", "kernels");
  summaries_.resize(kernels_.size());
}

void GridDispatcher::init() {
  if (kernels_.empty()) {
    phase_ = Phase::finished;
    return;
  }
  phase_ = Phase::waiting_launch;
  phase_at_ = clock().now_tick() + launch_latency_;
  wake_at(std::max(clock().cycle_at_or_after(phase_at_), clock().now() + 1));
}

void GridDispatcher::start_kernel() {
  const KernelLaunch& l = *kernels_[kernel_].launch;
  sim().begin_kernel(l.name);
  summaries_[kernel_].begin = clock().now_tick();
  clusters_ = l.programs() / l.cluster_size();
  next_cluster_ = 0;
  std::fill(resident_.begin(), resident_.end(), 0);
  next_core_ = 0;
  phase_ = Phase::dispatching;
}

bool GridDispatcher::core_has_room(std::uint32_t core) const { return resident_[core] < cap_[kernel_][core]; }

std::vector<std::uint32_t> GridDispatcher::place_cluster(std::uint32_t size) {
  const auto n = static_cast<std::uint32_t>(cores_.size());
  std::vector<std::uint32_t> chosen;
  if (size == 1) {
    for (std::uint32_t i = 0; i < n; ++i) {
      const std::uint32_t c = fill_policy_ ? i : (next_core_ + i) % n;
      if (core_has_room(c)) return {c};
    }
    return {};
  }
  const std::uint32_t groups = (n + cores_per_group_ - 1) / cores_per_group_;
  const std::uint32_t first_group = fill_policy_ ? 0 : (next_core_ / cores_per_group_) % groups;
  for (std::uint32_t gi = 0; gi < groups; ++gi) {
    const std::uint32_t g = (first_group + gi) % groups;
    chosen.clear();
    for (std::uint32_t c = g * cores_per_group_; c < std::min(n, (g + 1) * cores_per_group_); ++c)
      if (core_has_room(c)) chosen.push_back(c);
    if (chosen.size() < size) continue;
    if (!fill_policy_) {
      // Breadth first inside the group too: the least-loaded cores, ties in index order from the core
      // after the previous placement, so that clusters spread over a group's cores before any core takes
      // a second program.
      const auto rotated = [&](std::uint32_t c) { return (c + n - next_core_) % n; };
      std::stable_sort(chosen.begin(), chosen.end(), [&](std::uint32_t a, std::uint32_t b) {
        return resident_[a] != resident_[b] ? resident_[a] < resident_[b] : rotated(a) < rotated(b);
      });
    }
    chosen.resize(size);
    return chosen;
  }
  return {};
}

bool GridDispatcher::dispatch_one_cluster() {
  const KernelLaunch& l = *kernels_[kernel_].launch;
  const auto size = static_cast<std::uint32_t>(l.cluster_size());
  std::vector<std::uint32_t> cores = place_cluster(size);
  if (cores.empty()) return false;
  // Cluster coordinates (axis 0 fastest), then the programs of the cluster in rank order.
  const std::array<std::int64_t, 3> per_axis{l.grid[0] / l.cluster[0], l.grid[1] / l.cluster[1],
                                             l.grid[2] / l.cluster[2]};
  const std::int64_t cl = next_cluster_++;
  const std::array<std::int64_t, 3> cc{cl % per_axis[0], (cl / per_axis[0]) % per_axis[1],
                                       cl / (per_axis[0] * per_axis[1])};
  for (std::uint32_t rank = 0; rank < size; ++rank) {
    const std::array<std::int64_t, 3> r{rank % l.cluster[0], (rank / l.cluster[0]) % l.cluster[1],
                                        rank / (l.cluster[0] * l.cluster[1])};
    ProgramLaunch p;
    p.launch = static_cast<std::uint32_t>(kernel_);
    for (int a = 0; a < 3; ++a) p.coord[a] = cc[a] * l.cluster[a] + r[a];
    p.program = p.coord[0] + l.grid[0] * (p.coord[1] + l.grid[1] * p.coord[2]);
    p.cluster = cl;
    p.cluster_rank = rank;
    p.cluster_cores = cores;
    const std::uint32_t core = cores[rank];
    ++resident_[core];
    st_resident_.sample(resident_[core]);
    launch_ports[core]->send(std::move(p), Priority::request);
    ++outstanding_;
    ++st_programs_;
  }
  ++st_clusters_;
  next_core_ = (cores.back() + 1) % static_cast<std::uint32_t>(cores_.size());
  return true;
}

bool GridDispatcher::tick(Cycle now) {
  while (done.ready()) {
    const ProgramDone d = done.pop();
    if (d.launch != kernel_ || d.core >= resident_.size() || (d.releases && resident_[d.core] == 0))
      panic(name(), ": unexpected completion of program ", d.program, " of launch ", d.launch, " on core ", d.core);
    if (d.releases) --resident_[d.core];
    if (!d.completes) {
      note_progress();
      continue;
    }
    --outstanding_;
    ++done_total_;
    // Sum the program's activity into its kernel's summary.
    ProgramActivity& sum = summaries_[kernel_].activity;
    sum.flops += d.activity.flops;
    sum.instructions += d.activity.instructions;
    if (sum.busy.size() < d.activity.busy.size()) sum.busy.resize(d.activity.busy.size(), 0);
    for (std::size_t i = 0; i < d.activity.busy.size(); ++i) sum.busy[i] += d.activity.busy[i];
    if (sum.stalls.size() < d.activity.stalls.size()) sum.stalls.resize(d.activity.stalls.size(), 0);
    for (std::size_t i = 0; i < d.activity.stalls.size(); ++i) sum.stalls[i] += d.activity.stalls[i];
    st_flops_ += static_cast<std::uint64_t>(d.activity.flops);
    note_progress();
  }
  const Tick t = clock().now_tick();
  auto sleep_until = [&](Tick at) {
    wake_at(std::max(clock().cycle_at_or_after(at), now + 1));
    return false;
  };
  if (phase_ == Phase::waiting_launch) {
    if (t < phase_at_) return sleep_until(phase_at_);
    start_kernel();
  }
  if (phase_ == Phase::dispatching) {
    if (now.value >= next_dispatch_cycle_) {
      if (dispatch_one_cluster()) {
        next_dispatch_cycle_ = now.value + dispatch_interval_;
        note_progress();
      } else {
        ++st_blocked_cycles_;
      }
    }
    if (next_cluster_ < clusters_) {
      if (now.value < next_dispatch_cycle_) {
        wake_at(Cycle(next_dispatch_cycle_));
        return false;
      }
      return false;  // no core has room: a ProgramDone wakes us
    }
    phase_ = Phase::draining;
  }
  if (phase_ == Phase::draining) {
    if (outstanding_ > 0) return false;  // completions wake us
    phase_ = Phase::ending;
    phase_at_ = t + end_latency_;
  }
  if (phase_ == Phase::ending) {
    if (t < phase_at_) return sleep_until(phase_at_);
    sim().end_kernel();
    summaries_[kernel_].end = t;
    ++st_kernels_;
    ++kernel_;
    if (kernel_ == kernels_.size()) {
      phase_ = Phase::finished;
      return false;
    }
    phase_ = Phase::waiting_launch;
    phase_at_ = t + launch_latency_;
    return sleep_until(phase_at_);
  }
  return false;
}

bool GridDispatcher::busy() const { return kernel_ < kernels_.size(); }

std::string GridDispatcher::waiting_on() const {
  if (kernel_ >= kernels_.size()) return "nothing";
  const KernelLaunch& l = *kernels_[kernel_].launch;
  return cat("kernel ", l.name, ": ", outstanding_, " programs running, ", clusters_ - next_cluster_,
             " clusters not yet dispatched (", phase_ == Phase::waiting_launch ? "launching" : "waiting for completions",
             ")");
}

double GridDispatcher::progress_fraction() const {
  return programs_total_ ? static_cast<double>(done_total_) / static_cast<double>(programs_total_) : -1.0;
}

std::vector<std::string> GridDispatcher::report_lines(const std::vector<StatValue>& totals) const {
  std::vector<std::string> out;
  for (std::size_t k = 0; k < kernels_.size(); ++k) {
    const KernelLaunch& l = *kernels_[k].launch;
    const Occupancy& o = occupancy_[k];
    const ProgramFootprint& f = kernels_[k].footprint;
    const std::int64_t slots = static_cast<std::int64_t>(o.programs) * static_cast<std::int64_t>(cores_.size());
    out.push_back(cat("kernel ", l.name, ": ", l.programs(), " programs (grid ", l.grid[0], "x", l.grid[1], "x",
                      l.grid[2], l.cluster_size() > 1 ? cat(", clusters of ", l.cluster_size()) : std::string(),
                      "), ", f.threads, " threads, ", f.registers_per_thread, " regs/thread, ", f.scratch_bytes,
                      " B scratch; occupancy ", o.programs, " per core (limited by ", o.limiter, "), ",
                      format_number(static_cast<double>(l.programs()) / static_cast<double>(slots), 3), " waves"));
    for (const auto& line : summary_lines(k)) out.push_back("  " + line);
  }
  return out;
}

std::vector<std::string> GridDispatcher::summary_lines(std::size_t k) const {
  const KernelSummary& s = summaries_.at(k);
  if (s.end <= s.begin) return {};
  const double seconds = static_cast<double>(s.end - s.begin) * 1e-12;
  const double cycles = seconds * static_cast<double>(clock().frequency_hz());
  const double cores = static_cast<double>(cores_.size());
  std::vector<std::string> out;
  out.push_back(cat("time ", format_quantity(seconds, UnitKind::time), " (", format_number(cycles, 6), " cycles); ",
                    format_number(s.activity.flops / seconds / 1e12, 4), " TFLOPS; ",
                    format_number(s.activity.instructions, 6), " instructions"));
  if (layout_.units.empty()) return out;
  // Utilisation of each unit over the kernel and all cores; stall shares of all issue slots.
  std::string util = "utilisation:";
  double best = 0;
  std::string best_name;
  for (std::size_t u = 0; u < layout_.units.size() && u < s.activity.busy.size(); ++u) {
    const double f = s.activity.busy[u] / (layout_.units[u].per_cycle * cores * cycles);
    if (s.activity.busy[u] > 0) util += cat(" ", layout_.units[u].name, " ", format_number(100 * f, 3), "%");
    if (f > best) {
      best = f;
      best_name = layout_.units[u].name;
    }
  }
  out.push_back(util);
  const double slots = layout_.slots_per_cycle * cores * cycles;
  std::vector<std::pair<double, std::string>> stalls;
  double memory = 0;
  for (std::size_t r = 1; r < layout_.stalls.size() && r < s.activity.stalls.size(); ++r) {
    stalls.push_back({s.activity.stalls[r], layout_.stalls[r]});
    for (const auto& m : layout_.memory_stalls)
      if (m == layout_.stalls[r]) memory += s.activity.stalls[r];
  }
  std::sort(stalls.rbegin(), stalls.rend());
  std::string top = "top stalls (share of issue slots):";
  for (std::size_t i = 0; i < 3 && i < stalls.size(); ++i)
    if (stalls[i].first > 0) top += cat(" ", stalls[i].second, " ", format_number(100 * stalls[i].first / slots, 3), "%");
  out.push_back(top);
  // The bound: a unit busy most of the time; else waiting for data; else waiting on latencies.
  std::string bound;
  if (best >= 0.7) {
    bound = cat("compute (", best_name, " busy ", format_number(100 * best, 3), "%)");
  } else if (!stalls.empty() && memory >= stalls.front().first) {
    bound = cat("memory (warps wait for data in ", format_number(100 * memory / slots, 3),
                "% of issue slots; busiest unit ", best_name, " ", format_number(100 * best, 3), "%)");
  } else {
    bound = cat("latency (", stalls.empty() ? std::string("-") : stalls.front().second,
                " stalls dominate; busiest unit ", best_name, " ", format_number(100 * best, 3), "%)");
  }
  out.push_back("bound: " + bound);
  return out;
}


}  // namespace tilesim::core

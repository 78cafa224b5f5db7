// The Simulator owns clock domains, components and links, runs SystemC, and enforces run control:
// heartbeat, watchdog (no forward progress / deadlock at quiescence), max cycles, kernel scopes for stats.
// One simulation per process (SystemC cannot re-elaborate): constructing a second one is an error.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/clock_domain.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"
#include "sim/port.hpp"
#include "sim/stats.hpp"

namespace tilesim {

namespace traces {
class TraceSink;
}

/// Declared parameters of the `sim` section.
ParamSchema sim_param_schema();

struct ComponentStats {
  std::string name;
  std::string kind;
  std::string clock;
  std::vector<StatValue> values;
};

struct ScopeStats {
  std::string scope;   // "total" or "kernel"
  std::string kernel;  // kernel name for kernel scopes
  Tick begin = 0;
  Tick end = 0;        // exclusive
  std::vector<ComponentStats> components;
};

struct ClockInfo {
  std::string name;
  std::uint64_t frequency_hz = 0;
  std::uint64_t cycles = 0;  // edges in the total scope
};

struct StatsReport {
  std::string status;  // "complete" or "truncated"
  Tick simulated_ticks = 0;
  std::uint64_t seed = 0;
  std::vector<ClockInfo> clocks;
  std::vector<ScopeStats> scopes;  // total first, then kernels in order
};

struct RunInfo {
  bool completed = false;  // false: stopped by max_cycles with work left
  Tick end_tick = 0;
  double wall_seconds = 0;
  std::uint64_t component_ticks = 0;
  std::uint64_t domain_firings = 0;
};

class Simulator : private PortServices {
 public:
  explicit Simulator(ParamValues sim_params);
  ~Simulator() override;
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  const ParamValues& params() const { return params_; }
  std::uint64_t seed() const { return seed_; }

  // ---- construction and wiring ----
  ClockDomain& add_clock(const std::string& name, std::uint64_t frequency_hz);
  ClockDomain& clock(const std::string& name) const;
  bool has_clock(const std::string& name) const;
  /// Clock domains in the order they were added (the first is the one sim.max_cycles counts).
  const std::vector<std::unique_ptr<ClockDomain>>& clocks() const { return clocks_; }
  Component& add(std::unique_ptr<Component> component);
  Component& component(const std::string& name) const;
  const std::vector<std::unique_ptr<Component>>& components() const { return components_; }
  /// Join `out` to `in`. Errors (ConfigError) name both ports when directions or message types differ.
  void connect(PortBase& out, PortBase& in, LinkParams params);
  template <class M>
  void connect(OutPort<M>& out, InPort<M>& in, LinkParams params) {
    connect(static_cast<PortBase&>(out), static_cast<PortBase&>(in), params);
  }

  /// Every port is connected (ConfigError naming the first one that is not). run() checks this too.
  void check_wiring() const;

  // ---- running ----
  /// init() every component, run until quiescence (or max_cycles), finish(). Throws SimulationError on
  /// deadlock or watchdog, rethrows errors raised inside tick().
  RunInfo run();
  /// Stats of the finished run: the total scope and one per kernel.
  StatsReport stats_report() const;

  // ---- timeline (DESIGN.md §8; traces/trace_sink.hpp) ----
  /// Where components report slices, in-flight requests and counters; nullptr when no trace was asked
  /// for. Components read it in init(). The sink must outlive the run.
  traces::TraceSink* trace() const { return trace_; }
  void set_trace(traces::TraceSink* sink) { trace_ = sink; }

  // ---- services for components ----
  void note_progress() { last_progress_tick_ = now_tick(); }
  void begin_kernel(const std::string& name);
  void end_kernel();
  Tick now_tick() const override;
  void wake_at_tick(Component& c, Tick ready) override;

  // ---- used by clock domains ----
  void after_edge(Tick now);
  void fail_from_tick(std::exception_ptr error);
  std::uint64_t component_ticks() const;

 private:
  ScopeStats snapshot(const std::string& scope, const std::string& kernel, Tick begin, Tick end,
                      StatGroup::Scope which) const;
  void periodic_check(Tick now);
  std::string describe_busy() const;
  void heartbeat(Tick now);

  ParamValues params_;
  std::uint64_t seed_;
  std::vector<std::unique_ptr<ClockDomain>> clocks_;
  std::vector<std::unique_ptr<Component>> components_;
  std::vector<std::shared_ptr<void>> links_;
  std::uint32_t next_link_id_ = 0;
  bool ran_ = false;
  bool completed_ = false;
  Tick end_tick_ = 0;

  // run control
  Tick last_progress_tick_ = 0;
  Tick watchdog_ticks_ = 0;
  double heartbeat_seconds_ = 0;
  std::uint64_t edges_since_check_ = 0;
  std::chrono::steady_clock::time_point wall_start_;
  std::chrono::steady_clock::time_point last_heartbeat_;
  std::exception_ptr failure_;

  traces::TraceSink* trace_ = nullptr;

  // kernel scopes
  bool kernel_open_ = false;
  std::string kernel_name_;
  Tick kernel_begin_ = 0;
  std::vector<ScopeStats> kernel_scopes_;
};

}  // namespace tilesim

// Component base (DESIGN.md §4): lifecycle construct(validated spec) -> connect -> init -> run -> finish.
// A component is ticked by its clock domain only while it is active: tick() returns whether it has work
// next cycle; otherwise it sleeps until a message arrives on one of its ports, a freed link credit wakes
// it, or a timer it set with wake_at() expires. Skipped cycles cost nothing and are accounted in closed
// form (cycles - active_cycles).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/params.hpp"
#include "sim/stats.hpp"
#include "sim/time.hpp"

namespace tilesim {

class ClockDomain;
class Simulator;
class PortBase;

/// Everything a component is constructed from: its validated parameters and where it lives.
struct ComponentContext {
  std::string name;
  std::string kind;
  ParamValues params;
  ClockDomain* clock = nullptr;
  Simulator* sim = nullptr;
};

class Component {
 public:
  explicit Component(const ComponentContext& ctx);
  virtual ~Component();
  Component(const Component&) = delete;
  Component& operator=(const Component&) = delete;

  const std::string& name() const { return name_; }
  const std::string& kind() const { return kind_; }
  ClockDomain& clock() const { return *clock_; }
  Simulator& sim() const { return *sim_; }
  const ParamValues& params() const { return params_; }

  // ---- lifecycle, called by the Simulator ----
  /// After all links are made: check that required ports are connected, wake yourself if you have work.
  virtual void init() {}
  /// One cycle of work. Return true to be ticked again next cycle.
  virtual bool tick(Cycle now) = 0;
  /// End of run: final bookkeeping before stats are read.
  virtual void finish() {}

  // ---- run control queries (watchdog, heartbeat, report) ----
  /// True while the component holds unfinished work (requests in flight, programs to run).
  virtual bool busy() const { return false; }
  /// What the component waits for, in words, when busy() (used to name stuck units in a deadlock).
  virtual std::string waiting_on() const { return "unspecified"; }
  /// Fraction of its total work done in [0,1], or < 0 when unknown. Feeds the heartbeat's ETA.
  virtual double progress_fraction() const { return -1.0; }
  /// A few lines for the human report, given this component's total-scope stats.
  virtual std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const { return {}; }

  StatGroup& stats() { return stats_; }
  const StatGroup& stats() const { return stats_; }
  const std::vector<PortBase*>& ports() const { return ports_; }
  PortBase* find_port(const std::string& name) const;

  /// Deterministic per-component seed derived from the run seed and the component name.
  std::uint64_t seed() const { return seed_; }

 protected:
  /// Be ticked at cycle `at` (must be later than the cycle being ticked now).
  void wake_at(Cycle at);
  /// Tell the watchdog that real work was completed.
  void note_progress();
  void register_port(PortBase& port);

 private:
  friend class ClockDomain;
  friend class Simulator;
  friend void attach_port(Component& owner, PortBase& port);
  std::string name_;
  std::string kind_;
  ParamValues params_;
  ClockDomain* clock_;
  Simulator* sim_;
  std::uint64_t seed_ = 0;
  StatGroup stats_;
  std::vector<PortBase*> ports_;

  // Scheduling state, owned by the clock domain.
  std::size_t order_ = 0;  // tick order within the domain (declaration order)
  bool active_ = false;
  std::uint64_t last_wake_pushed_ = ~0ull;
  Counter* active_cycles_ = nullptr;
};

}  // namespace tilesim

// A clock domain (DESIGN.md §4): one SystemC SC_METHOD ticker that, at each clock edge where anything is
// active, ticks the active components in a fixed order (declaration order), then notifies its own event
// for the next edge at which anything is active. No sc_clock, no sc_signal, no SC_THREAD: an idle domain
// has no pending event at all.
//
// Edge k happens at tick floor(k * 1e12 / f): integer picoseconds, exact frequency on average (a 1.83 GHz
// clock does not round its period to 546 ps).
#pragma once

#include <cstdint>
#include <queue>
#include <string>
#include <vector>

#include <systemc>

#include "sim/time.hpp"

namespace tilesim {

class Component;
class Simulator;

class ClockDomain : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(ClockDomain);
  ClockDomain(const sc_core::sc_module_name& sc_name, std::string name, std::uint64_t frequency_hz, Simulator& sim);

  const std::string& domain_name() const { return name_; }
  std::uint64_t frequency_hz() const { return hz_; }

  /// Time of edge `c`.
  Tick tick_of(Cycle c) const;
  /// The first edge at or after `t`.
  Cycle cycle_at_or_after(Tick t) const;
  /// Number of edges in [from, to).
  std::uint64_t edges_between(Tick from, Tick to) const;
  /// Current simulated time in ticks.
  Tick now_tick() const;
  /// The edge being ticked now (valid inside tick()), else the first edge at or after now.
  Cycle now() const;

  void attach(Component& c);
  /// Tick `c` at edge `at` (later than the edge being ticked now, if any).
  void wake(Component& c, Cycle at);
  /// Tick `c` at its first edge at or after `ready` that is strictly after now.
  void wake_at_tick(Component& c, Tick ready);

  std::uint64_t firings() const { return firings_; }
  std::uint64_t component_ticks() const { return component_ticks_; }
  /// Time of the last edge at which this domain ticked anything (0 if never).
  Tick last_active_tick() const { return last_active_tick_; }
  bool ever_active() const { return ever_active_; }
  const std::vector<Component*>& components() const { return members_; }

 private:
  struct Wake {
    std::uint64_t cycle;
    std::size_t order;
    Component* comp;
    bool operator>(const Wake& o) const { return cycle != o.cycle ? cycle > o.cycle : order > o.order; }
  };
  void on_edge();
  void schedule(std::uint64_t cycle);
  void activate(Component& c);

  std::string name_;
  std::uint64_t hz_;
  Simulator& sim_;
  sc_core::sc_event edge_event_;
  std::vector<Component*> members_;
  std::vector<Component*> active_;       // sorted by tick order
  std::vector<Component*> next_active_;  // scratch
  std::priority_queue<Wake, std::vector<Wake>, std::greater<Wake>> wakes_;
  std::uint64_t current_ = 0;
  bool in_tick_ = false;
  bool started_ = false;
  std::uint64_t scheduled_ = ~0ull;  // earliest edge our event is notified for
  std::uint64_t firings_ = 0;
  std::uint64_t component_ticks_ = 0;
  Tick last_active_tick_ = 0;
  bool ever_active_ = false;
};

}  // namespace tilesim

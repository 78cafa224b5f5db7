#include "sim/clock_domain.hpp"

#include <algorithm>

#include "sim/component.hpp"
#include "sim/error.hpp"
#include "sim/simulator.hpp"

namespace tilesim {

using u128 = unsigned __int128;

ClockDomain::ClockDomain(const sc_core::sc_module_name& sc_name, std::string name, std::uint64_t frequency_hz,
                         Simulator& sim)
    : sc_core::sc_module(sc_name), name_(std::move(name)), hz_(frequency_hz), sim_(sim) {
  if (hz_ == 0) panic("clock domain '", name_, "' with zero frequency");
  // Runs once at time 0 (initialisation) and then at every edge we notify; see on_edge().
  SC_METHOD(on_edge);
  sensitive << edge_event_;
}

Tick ClockDomain::tick_of(Cycle c) const {
  return static_cast<Tick>(static_cast<u128>(c.value) * kTicksPerSecond / hz_);
}

Cycle ClockDomain::cycle_at_or_after(Tick t) const {
  // Smallest k with floor(k * 1e12 / f) >= t, i.e. k * 1e12 >= t * f  ->  k = ceil(t * f / 1e12).
  const u128 num = static_cast<u128>(t) * hz_;
  return Cycle(static_cast<std::uint64_t>((num + kTicksPerSecond - 1) / kTicksPerSecond));
}

std::uint64_t ClockDomain::edges_between(Tick from, Tick to) const {
  if (to <= from) return 0;
  return cycle_at_or_after(to).value - cycle_at_or_after(from).value;
}

Tick ClockDomain::now_tick() const { return static_cast<Tick>(sc_core::sc_time_stamp().value()); }

Cycle ClockDomain::now() const { return in_tick_ ? Cycle(current_) : cycle_at_or_after(now_tick()); }

void ClockDomain::attach(Component& c) {
  c.order_ = members_.size();
  members_.push_back(&c);
}

void ClockDomain::wake(Component& c, Cycle at) {
  if (c.clock_ != this) panic("component '", c.name(), "' woken through foreign clock domain '", name_, "'");
  if (in_tick_ && at.value <= current_)
    panic("component '", c.name(), "' asked to be woken at cycle ", at.value, ", not after the current cycle ",
          current_, " of clock '", name_, "'");
  if (c.last_wake_pushed_ == at.value) return;  // exact duplicate
  c.last_wake_pushed_ = at.value;
  wakes_.push({at.value, c.order_, &c});
  schedule(at.value);
}

void ClockDomain::wake_at_tick(Component& c, Tick ready) {
  const Tick now = now_tick();
  Cycle at = cycle_at_or_after(std::max(ready, now + 1));
  wake(c, at);
}

void ClockDomain::schedule(std::uint64_t cycle) {
  // Before the first edge runs (elaboration and init()), wakes only go on the heap: the ticker's
  // initialisation run at time 0 reads them.
  if (!started_) return;
  if (cycle >= scheduled_) return;  // an earlier (or this) edge is already notified
  scheduled_ = cycle;
  const Tick when = tick_of(Cycle(cycle));
  const Tick now = now_tick();
  if (when < now) panic("clock '", name_, "' scheduled in the past: edge ", cycle, " at ", when, " ps, now ", now);
  edge_event_.notify(sc_core::sc_time::from_value(when - now));
}

void ClockDomain::activate(Component& c) {
  if (c.active_) return;
  c.active_ = true;
  const auto pos = std::lower_bound(active_.begin(), active_.end(), &c,
                                    [](const Component* a, const Component* b) { return a->order_ < b->order_; });
  active_.insert(pos, &c);
}

void ClockDomain::on_edge() {
  const Tick now = now_tick();
  started_ = true;
  scheduled_ = ~0ull;
  const Cycle c = cycle_at_or_after(now);
  if (tick_of(c) != now) {
    // Only the initialisation run can land between edges; nothing is due then.
    if (!wakes_.empty()) schedule(wakes_.top().cycle);
    return;
  }
  while (!wakes_.empty() && wakes_.top().cycle <= c.value) {
    Component* comp = wakes_.top().comp;
    wakes_.pop();
    activate(*comp);
  }
  if (active_.empty()) {
    if (!wakes_.empty()) schedule(wakes_.top().cycle);
    return;
  }
  ++firings_;
  ever_active_ = true;
  last_active_tick_ = now;
  current_ = c.value;
  in_tick_ = true;
  next_active_.clear();
  try {
    for (Component* comp : active_) {
      ++*comp->active_cycles_;
      ++component_ticks_;
      if (comp->tick(c)) next_active_.push_back(comp);
      else comp->active_ = false;
    }
  } catch (...) {
    in_tick_ = false;
    sim_.fail_from_tick(std::current_exception());
    return;  // schedule nothing: the simulator pauses SystemC and rethrows
  }
  in_tick_ = false;
  active_.swap(next_active_);
  if (!active_.empty()) schedule(c.value + 1);
  else if (!wakes_.empty()) schedule(wakes_.top().cycle);
  sim_.after_edge(now);
}

}  // namespace tilesim

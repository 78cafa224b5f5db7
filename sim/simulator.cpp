#include "sim/simulator.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "traces/trace_sink.hpp"

namespace tilesim {

ParamSchema sim_param_schema() {
  ParamSchema s("sim");
  s.integer("seed", 1, "seed for every random choice in the run (same seed -> byte-identical stats)", 0)
      .integer("max_cycles", 0,
               "stop after this many cycles of the first clock domain (0 = run to completion); a run stopped "
               "with work left is reported as truncated",
               0)
      .quantity("watchdog", UnitKind::time, "1ms",
                "simulated time without forward progress, while some unit is busy, after which the run "
                "fails naming the stuck units (0 disables)")
      .quantity("heartbeat", UnitKind::time, "5s",
                "wall-clock interval of the progress line on stderr for long runs (0 disables)");
  return s;
}

namespace {
// SystemC allows one elaboration per process; this flag turns a second Simulator into a clear error
// instead of a SystemC crash. It is the only process-wide state, and it mirrors SystemC's own.
std::atomic<bool> g_simulator_created{false};
}  // namespace

Simulator::Simulator(ParamValues sim_params) : params_(std::move(sim_params)) {
  if (g_simulator_created.exchange(true))
    throw SimulationError(
        "only one simulation can run per process (SystemC cannot re-elaborate); run each simulation in its "
        "own process (tilesim sweep / a new `tilesim run`)");
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  if (sc_core::sc_get_time_resolution() != sc_core::sc_time(1, sc_core::SC_PS))
    panic("SystemC time resolution must be 1 ps");
  seed_ = static_cast<std::uint64_t>(params_.integer("seed"));
  watchdog_ticks_ = params_.ticks("watchdog");
  heartbeat_seconds_ = params_.quantity("heartbeat");
}

Simulator::~Simulator() = default;

ClockDomain& Simulator::add_clock(const std::string& name, std::uint64_t frequency_hz) {
  if (has_clock(name)) throw ConfigError(cat("clock '", name, "' declared twice"));
  if (frequency_hz == 0) throw ConfigError(cat("clocks.", name, ": frequency must be positive"));
  if (ran_) panic("clock added after the run started");
  clocks_.push_back(std::make_unique<ClockDomain>(("clock_" + name).c_str(), name, frequency_hz, *this));
  return *clocks_.back();
}

bool Simulator::has_clock(const std::string& name) const {
  return std::any_of(clocks_.begin(), clocks_.end(), [&](const auto& c) { return c->domain_name() == name; });
}

ClockDomain& Simulator::clock(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& c : clocks_) {
    if (c->domain_name() == name) return *c;
    names.push_back(c->domain_name());
  }
  throw ConfigError(cat("unknown clock '", name, "'", did_you_mean(name, names)));
}

Component& Simulator::add(std::unique_ptr<Component> component) {
  if (ran_) panic("component added after the run started");
  for (const auto& c : components_)
    if (c->name() == component->name()) throw ConfigError(cat("component '", c->name(), "' declared twice"));
  component->clock().attach(*component);
  components_.push_back(std::move(component));
  return *components_.back();
}

Component& Simulator::component(const std::string& name) const {
  std::vector<std::string> names;
  for (const auto& c : components_) {
    if (c->name() == name) return *c;
    names.push_back(c->name());
  }
  throw ConfigError(cat("unknown component '", name, "'", did_you_mean(name, names)));
}

void Simulator::connect(PortBase& out, PortBase& in, LinkParams params) {
  if (out.direction() != PortBase::Direction::out)
    throw ConfigError(cat("link source ", out.full_name(), " is an input port"));
  if (in.direction() != PortBase::Direction::in)
    throw ConfigError(cat("link destination ", in.full_name(), " is an output port"));
  if (out.message_type() != in.message_type())
    throw ConfigError(cat("cannot link ", out.full_name(), " (sends ", out.message_type_name(), ") to ",
                          in.full_name(), " (receives ", in.message_type_name(), ")"));
  if (out.connected()) throw ConfigError(cat("output port ", out.full_name(), " is linked twice"));
  if (params.latency < 1)
    throw ConfigError(cat("link ", out.full_name(), " -> ", in.full_name(),
                          ": latency must be at least 1 ps (a message is never visible when it is sent)"));
  params.id = next_link_id_++;
  links_.push_back(out.link_to(in, params, *this));
}

Tick Simulator::now_tick() const { return static_cast<Tick>(sc_core::sc_time_stamp().value()); }

void Simulator::wake_at_tick(Component& c, Tick ready) { c.clock().wake_at_tick(c, ready); }

std::uint64_t Simulator::component_ticks() const {
  std::uint64_t n = 0;
  for (const auto& c : clocks_) n += c->component_ticks();
  return n;
}

void Simulator::fail_from_tick(std::exception_ptr error) {
  if (!failure_) failure_ = error;
  sc_core::sc_pause();
}

void Simulator::after_edge(Tick now) {
  if (++edges_since_check_ < 1024) return;
  edges_since_check_ = 0;
  periodic_check(now);
}

std::string Simulator::describe_busy() const {
  std::string out;
  for (const auto& c : components_) {
    if (!c->busy()) continue;
    out += cat("\n  ", c->name(), " (", c->kind(), ", clock ", c->clock().domain_name(), "): waiting on ",
               c->waiting_on());
  }
  return out;
}

void Simulator::periodic_check(Tick now) {
  if (watchdog_ticks_ > 0 && now > last_progress_tick_ + watchdog_ticks_) {
    const std::string stuck = describe_busy();
    if (stuck.empty()) {
      last_progress_tick_ = now;  // things tick but nobody holds work: not a hang
    } else if (!failure_) {
      failure_ = std::make_exception_ptr(SimulationError(
          cat("watchdog: no forward progress for ", format_quantity(static_cast<double>(now - last_progress_tick_) * 1e-12,
                                                                  UnitKind::time),
              " of simulated time (at ", format_quantity(static_cast<double>(now) * 1e-12, UnitKind::time),
              "); busy units:", stuck)));
      sc_core::sc_pause();
      return;
    }
  }
  heartbeat(now);
}

void Simulator::heartbeat(Tick now) {
  if (heartbeat_seconds_ <= 0) return;
  const auto wall_now = std::chrono::steady_clock::now();
  const double since_start = std::chrono::duration<double>(wall_now - wall_start_).count();
  const double since_last = std::chrono::duration<double>(wall_now - last_heartbeat_).count();
  if (since_start < heartbeat_seconds_ || since_last < heartbeat_seconds_) return;
  last_heartbeat_ = wall_now;
  const ClockDomain& ref = *clocks_.front();
  const std::uint64_t cycles = ref.cycle_at_or_after(now).value;
  double frac_sum = 0;
  int frac_n = 0;
  for (const auto& c : components_) {
    const double f = c->progress_fraction();
    if (f >= 0) {
      frac_sum += std::min(1.0, f);
      ++frac_n;
    }
  }
  std::string eta = "ETA unknown";
  if (frac_n > 0) {
    const double frac = frac_sum / frac_n;
    if (frac > 0) eta = cat(format_number(frac * 100, 3), "% done, ETA ", format_number(since_start * (1 - frac) / frac, 3), " s");
  }
  std::fprintf(stderr, "[tilesim] %s simulated | clock %s: %llu cycles | %s cycles/s | %s\n",
               format_quantity(static_cast<double>(now) * 1e-12, UnitKind::time).c_str(),
               ref.domain_name().c_str(), static_cast<unsigned long long>(cycles),
               format_number(static_cast<double>(cycles) / since_start, 3).c_str(), eta.c_str());
}

void Simulator::begin_kernel(const std::string& name) {
  if (kernel_open_)
    throw SimulationError(cat("kernel '", name, "' started while kernel '", kernel_name_,
                              "' is still running (kernel scopes cannot overlap)"));
  kernel_open_ = true;
  kernel_name_ = name;
  kernel_begin_ = now_tick();
  for (auto& c : components_) c->stats().begin_scope();
}

void Simulator::end_kernel() {
  if (!kernel_open_) panic("end_kernel without begin_kernel");
  kernel_open_ = false;
  kernel_scopes_.push_back(snapshot("kernel", kernel_name_, kernel_begin_, now_tick() + 1, StatGroup::Scope::kernel));
  if (trace_) trace_->kernel(kernel_name_, kernel_begin_, now_tick());
}

void Simulator::check_wiring() const {
  for (const auto& c : components_)
    for (const auto* p : c->ports())
      if (!p->connected())
        throw ConfigError(cat("port ", p->full_name(), " is not connected (add a link to or from it)"));
}

RunInfo Simulator::run() {
  if (ran_) throw SimulationError("Simulator::run called twice");
  if (clocks_.empty()) throw ConfigError("the system declares no clock");
  ran_ = true;
  check_wiring();
  for (auto& c : components_) c->init();

  wall_start_ = std::chrono::steady_clock::now();
  last_heartbeat_ = wall_start_;
  const auto max_cycles = static_cast<std::uint64_t>(params_.integer("max_cycles"));
  if (max_cycles > 0) {
    const Tick limit = clocks_.front()->tick_of(Cycle(max_cycles));
    sc_core::sc_start(sc_core::sc_time::from_value(limit), sc_core::SC_EXIT_ON_STARVATION);
  } else {
    sc_core::sc_start();
  }
  if (failure_) std::rethrow_exception(failure_);

  Tick last = 0;
  bool any = false;
  for (const auto& d : clocks_) {
    if (d->ever_active()) {
      last = std::max(last, d->last_active_tick());
      any = true;
    }
  }
  end_tick_ = any ? last + 1 : 0;
  completed_ = !sc_core::sc_pending_activity();
  if (completed_) {
    const std::string stuck = describe_busy();
    if (!stuck.empty())
      throw SimulationError(cat("deadlock: no event is pending at ",
                                format_quantity(static_cast<double>(now_tick()) * 1e-12, UnitKind::time),
                                " but units still hold work:", stuck));
  } else if (kernel_open_) {
    kernel_open_ = false;
    kernel_scopes_.push_back(snapshot("kernel", kernel_name_ + " (truncated)", kernel_begin_, end_tick_,
                                      StatGroup::Scope::kernel));
  }
  for (auto& c : components_) c->finish();

  RunInfo info;
  info.completed = completed_;
  info.end_tick = end_tick_;
  info.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
  info.component_ticks = component_ticks();
  for (const auto& d : clocks_) info.domain_firings += d->firings();
  return info;
}

ScopeStats Simulator::snapshot(const std::string& scope, const std::string& kernel, Tick begin, Tick end,
                               StatGroup::Scope which) const {
  ScopeStats s{scope, kernel, begin, end, {}};
  for (const auto& c : components_) {
    ComponentStats cs{c->name(), c->kind(), c->clock().domain_name(), {}};
    const std::uint64_t cycles = c->clock().edges_between(begin, end);
    std::vector<StatValue> group = c->stats().values(which);
    const double active = group.front().value;  // active_cycles is declared first by Component
    cs.values.push_back({"cycles", static_cast<double>(cycles), true, "cycles", "clock cycles in this scope"});
    cs.values.push_back({"idle_cycles", static_cast<double>(cycles) - active, true, "cycles",
                         "cycles in which the component was not ticked (accounted in closed form)"});
    for (auto& v : group) cs.values.push_back(std::move(v));
    s.components.push_back(std::move(cs));
  }
  return s;
}

StatsReport Simulator::stats_report() const {
  if (!ran_) panic("stats_report before run");
  StatsReport r;
  r.status = completed_ ? "complete" : "truncated";
  r.simulated_ticks = end_tick_;
  r.seed = seed_;
  for (const auto& d : clocks_) r.clocks.push_back({d->domain_name(), d->frequency_hz(), d->edges_between(0, end_tick_)});
  r.scopes.push_back(snapshot("total", "", 0, end_tick_, StatGroup::Scope::total));
  for (const auto& k : kernel_scopes_) r.scopes.push_back(k);
  return r;
}

}  // namespace tilesim

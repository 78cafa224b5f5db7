// Simulation-kernel overhead: ns per active component tick, cost of an idle clock domain, cost of a
// timer wake-up, and cost of one message over a link. Each scenario runs in its own process (one
// simulation per process); `bench_kernel_overhead` with no argument runs them all and prints a table.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "sim/clock_domain.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"
#include "sim/simulator.hpp"

using namespace tilesim;

namespace {

ComponentContext context(Simulator& sim, ClockDomain& clk, const std::string& name) {
  return {name, "bench", ParamValues::resolve(ParamSchema(), {}, name), &clk, &sim};
}

/// Active every cycle for `cycles` cycles: the cost of the tick loop itself.
class Spinner final : public Component {
 public:
  Spinner(const ComponentContext& ctx, std::uint64_t cycles) : Component(ctx), left_(cycles) {}
  void init() override { wake_at(Cycle(0)); }
  bool tick(Cycle) override { return --left_ > 0; }

 private:
  std::uint64_t left_;
};

/// Wakes on a timer every `period` cycles, `wakes` times.
class Napper final : public Component {
 public:
  Napper(const ComponentContext& ctx, std::uint64_t period, std::uint64_t wakes)
      : Component(ctx), period_(period), left_(wakes) {}
  void init() override { wake_at(Cycle(0)); }
  bool tick(Cycle now) override {
    if (left_-- > 0) wake_at(now + period_);
    return false;
  }

 private:
  std::uint64_t period_, left_;
};

struct Token {
  std::uint64_t n;
};

/// Returns every message to its peer until `count` round trips are done.
class PingPong final : public Component {
 public:
  PingPong(const ComponentContext& ctx, bool starter, std::uint64_t count)
      : Component(ctx), starter_(starter), count_(count) {}
  InPort<Token> in{*this, "in", "Token"};
  OutPort<Token> out{*this, "out", "Token"};
  void init() override {
    if (starter_) wake_at(Cycle(0));
  }
  bool tick(Cycle) override {
    if (starter_ && !started_) {
      started_ = true;
      out.send({0});
    }
    while (in.ready()) {
      Token t = in.pop();
      if (t.n < count_) out.send({t.n + 1});
    }
    return false;
  }

 private:
  bool starter_;
  bool started_ = false;
  std::uint64_t count_;
};

double run_and_time(Simulator& sim, std::uint64_t* ticks) {
  const auto t0 = std::chrono::steady_clock::now();
  const RunInfo info = sim.run();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  *ticks = info.component_ticks;
  return s;
}

int scenario(const std::string& name) {
  Simulator sim(ParamValues::resolve(sim_param_schema(), {{"heartbeat", "0s"}}, "sim"));
  ClockDomain& core = sim.add_clock("core", 1000000000ull);
  std::uint64_t ticks = 0;
  double seconds = 0;
  double per = 0;
  const char* what = "";
  if (name == "active" || name == "active_plus_idle_domain") {
    const std::uint64_t n = 64, cycles = 200000;
    for (std::uint64_t i = 0; i < n; ++i) sim.add(std::make_unique<Spinner>(context(sim, core, "s" + std::to_string(i)), cycles));
    if (name == "active_plus_idle_domain") {
      // A second domain with 1000 components that never have work: it must cost nothing.
      ClockDomain& idle = sim.add_clock("idle", 2000000000ull);
      for (int i = 0; i < 1000; ++i)
        sim.add(std::make_unique<Napper>(context(sim, idle, "idle" + std::to_string(i)), 1, 0));
    }
    seconds = run_and_time(sim, &ticks);
    if (name == "active_plus_idle_domain") ticks -= 1000;  // each idle component's single init tick
    per = seconds * 1e9 / static_cast<double>(ticks);
    what = "ns per active component tick";
  } else if (name == "timer_wakes") {
    const std::uint64_t n = 1000, wakes = 200;
    for (std::uint64_t i = 0; i < n; ++i)
      sim.add(std::make_unique<Napper>(context(sim, core, "n" + std::to_string(i)), 1000000 + 7 * i, wakes));
    seconds = run_and_time(sim, &ticks);
    per = seconds * 1e9 / static_cast<double>(ticks);
    what = "ns per timer wake-up (1000 components sleeping ~10^6 cycles each)";
  } else if (name == "messages") {
    const std::uint64_t count = 1000000;
    auto a = std::make_unique<PingPong>(context(sim, core, "a"), true, count);
    auto b = std::make_unique<PingPong>(context(sim, core, "b"), false, count);
    PingPong& ra = *a;
    PingPong& rb = *b;
    sim.add(std::move(a));
    sim.add(std::move(b));
    sim.connect(ra.out, rb.in, LinkParams{1000, 0, 0});
    sim.connect(rb.out, ra.in, LinkParams{1000, 0, 0});
    seconds = run_and_time(sim, &ticks);
    per = seconds * 1e9 / static_cast<double>(count);
    what = "ns per message (send + wake + tick + pop, 1-cycle link)";
  } else {
    std::fprintf(stderr, "unknown scenario '%s'\n", name.c_str());
    return 2;
  }
  std::printf("%-24s %10.2f  %s  (%llu ticks, %.3f s)\n", name.c_str(), per, what,
              static_cast<unsigned long long>(ticks), seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  if (argc > 1) return scenario(argv[1]);
  int rc = 0;
  for (const char* s : {"active", "active_plus_idle_domain", "timer_wakes", "messages"}) {
    const std::string cmd = std::string(argv[0]) + " " + s;
    rc |= std::system(cmd.c_str());
  }
  return rc == 0 ? 0 : 1;
}

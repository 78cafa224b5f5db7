// Small components used only by the kernel tests: each exercises one rule of the simulation kernel.
#pragma once

#include <string>
#include <vector>

#include "sim/component.hpp"
#include "sim/port.hpp"
#include "sim/simulator.hpp"

namespace tilesim::test {

struct TestMsg {
  std::string from;
  int seq = 0;
};

/// Sends `count` messages on `out` at cycle `at`, with priority `priority`.
class Burst final : public Component {
 public:
  static ParamSchema param_schema();
  explicit Burst(const ComponentContext& ctx);
  void init() override;
  bool tick(Cycle now) override;
  OutPort<TestMsg> out{*this, "out", "TestMsg"};

 private:
  bool sent_ = false;
};

/// Records the order in which messages arrive on `in` (and the tick of each).
class Recorder final : public Component {
 public:
  static ParamSchema param_schema();
  explicit Recorder(const ComponentContext& ctx);
  bool tick(Cycle now) override;
  InPort<TestMsg> in{*this, "in", "TestMsg"};
  std::vector<std::string> order;
  std::vector<Tick> times;
};

/// Ticks at cycle 0, then sleeps `sleep` cycles on a timer, `wakes` times.
class Sleeper final : public Component {
 public:
  static ParamSchema param_schema();
  explicit Sleeper(const ComponentContext& ctx);
  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return remaining_ > 0; }
  std::uint64_t tick_calls = 0;

 private:
  std::uint64_t sleep_;
  std::uint64_t remaining_;
};

/// Waits for one message on `in` before it sends on `out`; if `starter`, sends first. Two non-starters
/// wired in a ring deadlock.
class WaitThenSend final : public Component {
 public:
  static ParamSchema param_schema();
  explicit WaitThenSend(const ComponentContext& ctx);
  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return !received_; }
  std::string waiting_on() const override;
  InPort<TestMsg> in{*this, "in", "TestMsg"};
  OutPort<TestMsg> out{*this, "out", "TestMsg"};

 private:
  bool received_ = false;
};

/// Bounces every message straight back and never completes its work: a livelock the watchdog must catch.
class Bouncer final : public Component {
 public:
  static ParamSchema param_schema();
  explicit Bouncer(const ComponentContext& ctx);
  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return true; }
  std::string waiting_on() const override { return "a reply that completes its transaction (it only gets retries)"; }
  InPort<TestMsg> in{*this, "in", "TestMsg"};
  OutPort<TestMsg> out{*this, "out", "TestMsg"};

 private:
  bool started_ = false;
};

/// Build a simulator from YAML text (clocks/components/links as in a config file).
std::unique_ptr<Simulator> build_from_yaml(const std::string& yaml);

}  // namespace tilesim::test

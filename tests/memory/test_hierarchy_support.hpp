// Helpers for the memory-hierarchy tests: build a `memory_probe` system from YAML sections (one simulation
// per process: each TEST_CASE runs as its own ctest process), read stats, and small drivers that send
// exactly the accesses a first-principles check needs.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arch/memory/copy_engine.hpp"
#include "arch/memory/memory_system.hpp"
#include "arch/memory/scratchpad.hpp"
#include "arch/memory/messages.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"
#include "sim/simulator.hpp"
#include "sim/system.hpp"

namespace tilesim::test {

/// A small two-partition hierarchy on one 1 GHz clock (core = l2 = DRAM clock, so every latency is exact
/// in cycles), refresh off. Its numbers are the ones the expected values in the tests are derived from.
extern const char* const kSmallHierarchy;

/// Parse `yaml` plus `key=value` overrides into a system spec.
SystemSpec parse_spec(const std::string& yaml, const std::vector<std::string>& overrides = {});
/// Build it (heartbeat off).
std::unique_ptr<Simulator> build_spec(const SystemSpec& spec);

/// Total-scope value of `name` of component `component` (FAILs the test when missing).
double total_stat(const Simulator& sim, const std::string& component, const std::string& name);
/// `name` summed over kSmallHierarchy's four L2 slices.
double sum_over_slices(const Simulator& sim, const std::string& name);

/// Sends the given requests on `out` at the given cycles (or right after the previous answer) and records
/// when each was answered. Generic over the request/response message types.
struct TimedRequest {
  MemRequest req;
  std::uint64_t at = 0;          // not before this cycle
  bool after_previous = false;   // not before the previous request was answered
};

class MemDriver final : public Component {
 public:
  MemDriver(const ComponentContext& ctx, std::vector<TimedRequest> script);
  static ParamSchema param_schema() { return ParamSchema(); }
  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return answered_ < script_.size(); }
  std::uint64_t answered_cycle(std::size_t i) const { return done_.at(i); }
  std::uint64_t sent_cycle(std::size_t i) const { return sent_.at(i); }

  OutPort<MemRequest> out{*this, "out", "MemRequest"};
  InPort<MemResponse> in{*this, "in", "MemResponse"};

 private:
  std::vector<TimedRequest> script_;
  std::vector<std::uint64_t> sent_, done_;
  std::size_t next_ = 0, answered_ = 0;
};

/// Sends scratch accesses back to back (all at cycle 0) and records the cycle each was answered.
class ScratchDriver final : public Component {
 public:
  ScratchDriver(const ComponentContext& ctx, std::vector<ScratchRequest> accesses);
  static ParamSchema param_schema() { return ParamSchema(); }
  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return answered_ < accesses_.size(); }
  std::uint64_t last_answer() const { return last_; }

  OutPort<ScratchRequest> out{*this, "out", "ScratchRequest"};
  InPort<MemResponse> in{*this, "in", "MemResponse"};

 private:
  std::vector<ScratchRequest> accesses_;
  bool sent_ = false;
  std::size_t answered_ = 0;
  std::uint64_t last_ = 0;
};

/// Sends copy commands at cycle 0 and records their completions.
class CopyDriver final : public Component {
 public:
  CopyDriver(const ComponentContext& ctx, std::vector<CopyCommand> commands);
  static ParamSchema param_schema() { return ParamSchema(); }
  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return done.size() < commands_.size(); }

  OutPort<CopyCommand> out{*this, "out", "CopyCommand"};
  InPort<CopyDone> in{*this, "in", "CopyDone"};
  std::vector<CopyDone> done;

 private:
  std::vector<CopyCommand> commands_;
  bool sent_ = false;
};

/// A CopyDriver sending `commands` to `engine`, the engine wired to a memory (its request input and response
/// output ports; responses take `response_cycles` on their link) and to `scratch`, other links 1 cycle;
/// runs the simulation to completion.
CopyDriver& run_copy_commands(Simulator& sim, ClockDomain& clk, CopyEngine& engine, PortBase& memory_req,
                              PortBase& memory_resp, Scratchpad& scratch, std::vector<CopyCommand> commands,
                              std::uint64_t response_cycles = 1);

/// An empty simulator (heartbeat off) for hand-wired tests.
std::unique_ptr<Simulator> bare_simulator();

/// Construct component kind `T` with `params` (text, as in YAML) and add it to `sim`.
template <class T>
T& add(Simulator& sim, ClockDomain& clock, const std::string& name, const std::string& kind,
       const std::map<std::string, std::string>& params) {
  ParamValues p = ParamValues::resolve(T::param_schema(), params, name);
  auto c = std::make_unique<T>(ComponentContext{name, kind, p, &clock, &sim});
  T& ref = *c;
  sim.add(std::move(c));
  return ref;
}

}  // namespace tilesim::test

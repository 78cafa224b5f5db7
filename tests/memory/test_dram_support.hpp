// Helpers for the DRAM and TLM tests: build a simulator from YAML or piece by piece, read stats, and a
// scripted requester that sends exactly the requests a timing scenario needs and records when each one
// was answered.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arch/memory/request.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"
#include "sim/simulator.hpp"

namespace tilesim::test {

/// A simulator built from a YAML netlist (clocks/components/links), with the heartbeat off.
std::unique_ptr<Simulator> build_yaml(const std::string& yaml);
/// An empty simulator (heartbeat off) to add clocks and components to by hand.
std::unique_ptr<Simulator> empty_simulator();
/// Construct a registered component kind from `params` (text as in YAML) and add it to `sim`.
Component& add_component(Simulator& sim, ClockDomain& clock, const std::string& name, const std::string& kind,
                         const std::map<std::string, std::string>& params = {});
/// A total-scope stat of a component after the run (FAILs the test if it does not exist).
double stat(const Simulator& sim, const std::string& component, const std::string& name);

/// One request of a script.
struct ScriptStep {
  MemOp op = MemOp::read;
  std::uint64_t addr = 0;
  std::uint32_t bytes = 32;
  std::uint64_t at = 0;           // not before this cycle of the requester's clock
  bool after_previous = false;    // not before the previous step's response has arrived
};

/// Sends its steps in order (several in one cycle when allowed) and records send/answer times.
class ScriptedRequester final : public Component {
 public:
  ScriptedRequester(const ComponentContext& ctx, std::vector<ScriptStep> steps);
  static ParamSchema param_schema() { return ParamSchema(); }

  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return answered_count_ < steps_.size(); }
  std::string waiting_on() const override;

  /// Round trip of step `i` in cycles of this component's clock.
  std::uint64_t latency_cycles(std::size_t i) const;
  Tick answered_at(std::size_t i) const { return answered_.at(i); }
  std::size_t size() const { return steps_.size(); }

  OutPort<MemRequest> req{*this, "req", "MemRequest"};
  InPort<MemResponse> resp{*this, "resp", "MemResponse"};

 private:
  std::vector<ScriptStep> steps_;
  std::vector<Tick> sent_, answered_;
  std::size_t next_ = 0;
  std::size_t answered_count_ = 0;
};

/// Add a ScriptedRequester named `name`.
ScriptedRequester& add_requester(Simulator& sim, ClockDomain& clock, const std::string& name,
                                 std::vector<ScriptStep> steps);

}  // namespace tilesim::test

#include "tests/memory/test_dram_support.hpp"

#include <catch2/catch.hpp>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/config.hpp"
#include "sim/system.hpp"

namespace tilesim::test {

namespace {
constexpr Tick kUnanswered = kTickMax;
}

std::unique_ptr<Simulator> build_yaml(const std::string& yaml) {
  ConfigTree tree;
  tree.merge_text(yaml, "test.yaml");
  tree.apply_override("sim.heartbeat=0s");
  return build_system(parse_system(tree));
}

std::unique_ptr<Simulator> empty_simulator() {
  return std::make_unique<Simulator>(ParamValues::resolve(sim_param_schema(), {{"heartbeat", "0s"}}, "sim"));
}

Component& add_component(Simulator& sim, ClockDomain& clock, const std::string& name, const std::string& kind,
                         const std::map<std::string, std::string>& params) {
  const auto& entry = ComponentRegistry::instance().get(kind, "components." + name + ".kind");
  ComponentContext ctx{name, kind, ParamValues::resolve(entry.schema(), params, "components." + name), &clock, &sim};
  return sim.add(entry.make(ctx));
}

double stat(const Simulator& sim, const std::string& component, const std::string& name) {
  const StatsReport report = sim.stats_report();
  for (const auto& c : report.scopes.front().components)
    if (c.name == component)
      for (const auto& v : c.values)
        if (v.name == name) return v.value;
  FAIL("no stat " << component << "." << name);
  return 0;
}

ScriptedRequester::ScriptedRequester(const ComponentContext& ctx, std::vector<ScriptStep> steps)
    : Component(ctx), steps_(std::move(steps)), sent_(steps_.size(), kUnanswered), answered_(steps_.size(), kUnanswered) {}

void ScriptedRequester::init() {
  if (!steps_.empty()) wake_at(Cycle(steps_.front().at));
}

bool ScriptedRequester::tick(Cycle now) {
  const Tick t = clock().now_tick();
  while (resp.ready()) {
    const MemResponse r = resp.pop();
    answered_.at(r.req.id) = t;
    ++answered_count_;
    note_progress();
  }
  while (next_ < steps_.size()) {
    const ScriptStep& s = steps_[next_];
    if (s.after_previous && next_ > 0 && answered_[next_ - 1] == kUnanswered) break;  // its response wakes us
    if (now.value < s.at) {
      wake_at(Cycle(s.at));
      break;
    }
    MemRequest m;
    m.id = next_;
    m.addr = s.addr;
    m.bytes = s.bytes;
    m.op = s.op;
    m.issued = t;
    req.send(m);
    sent_[next_++] = t;
  }
  return false;
}

std::string ScriptedRequester::waiting_on() const {
  return std::to_string(steps_.size() - answered_count_) + " responses";
}

std::uint64_t ScriptedRequester::latency_cycles(std::size_t i) const {
  REQUIRE(answered_.at(i) != kUnanswered);
  const Tick lat = answered_[i] - sent_[i];
  return static_cast<std::uint64_t>(lat * clock().frequency_hz() / kTicksPerSecond);
}

ScriptedRequester& add_requester(Simulator& sim, ClockDomain& clock, const std::string& name,
                                 std::vector<ScriptStep> steps) {
  ComponentContext ctx{name, "test_scripted_requester", ParamValues::resolve(ParamSchema(), {}, "components." + name),
                       &clock, &sim};
  return static_cast<ScriptedRequester&>(sim.add(std::make_unique<ScriptedRequester>(ctx, std::move(steps))));
}

}  // namespace tilesim::test

#include "tests/sim/test_components.hpp"

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/config.hpp"
#include "sim/system.hpp"
#include "sim/system_kind.hpp"

namespace tilesim::test {

namespace {
const RegisterComponent<Burst> kBurst("test_burst", "test: sends a burst of messages at one cycle");
const RegisterComponent<Recorder> kRecorder("test_recorder", "test: records message arrival order");
const RegisterComponent<Sleeper> kSleeper("test_sleeper", "test: sleeps on a timer");
const RegisterComponent<WaitThenSend> kWait("test_wait_then_send", "test: waits for a message, then sends");
const RegisterComponent<Bouncer> kBouncer("test_bouncer", "test: bounces messages forever");
}  // namespace

ParamSchema Burst::param_schema() {
  ParamSchema s;
  s.integer("count", 3, "messages to send", 0).integer("at", 0, "cycle to send at", 0).choice(
      "priority", "request", {"urgent", "response", "request", "background"}, "priority of the messages");
  return s;
}
Burst::Burst(const ComponentContext& ctx) : Component(ctx) {}
void Burst::init() { wake_at(Cycle(static_cast<std::uint64_t>(params().integer("at")))); }
bool Burst::tick(Cycle) {
  if (sent_) return false;
  sent_ = true;
  const std::string p = params().string("priority");
  const Priority prio = p == "urgent" ? Priority::urgent : p == "response" ? Priority::response
                        : p == "request" ? Priority::request : Priority::background;
  for (int i = 0; i < params().integer("count"); ++i) out.send({name(), i}, prio);
  return false;
}

ParamSchema Recorder::param_schema() { return ParamSchema(); }
Recorder::Recorder(const ComponentContext& ctx) : Component(ctx) {}
bool Recorder::tick(Cycle) {
  while (in.ready()) {
    const TestMsg m = in.pop();
    order.push_back(m.from + "#" + std::to_string(m.seq));
    times.push_back(clock().now_tick());
  }
  return false;
}

ParamSchema Sleeper::param_schema() {
  ParamSchema s;
  s.integer("sleep", 1000000, "cycles to sleep between ticks", 1).integer("wakes", 1, "timer wake-ups", 0);
  return s;
}
Sleeper::Sleeper(const ComponentContext& ctx)
    : Component(ctx),
      sleep_(static_cast<std::uint64_t>(params().integer("sleep"))),
      remaining_(static_cast<std::uint64_t>(params().integer("wakes"))) {}
void Sleeper::init() { wake_at(Cycle(0)); }
bool Sleeper::tick(Cycle now) {
  ++tick_calls;
  note_progress();
  if (remaining_ == 0) return false;
  --remaining_;
  wake_at(now + sleep_);
  return false;
}

ParamSchema WaitThenSend::param_schema() {
  ParamSchema s;
  s.boolean("starter", false, "send once at cycle 0 without waiting");
  return s;
}
WaitThenSend::WaitThenSend(const ComponentContext& ctx) : Component(ctx) {}
void WaitThenSend::init() {
  if (params().boolean("starter")) wake_at(Cycle(0));
}
bool WaitThenSend::tick(Cycle) {
  if (params().boolean("starter") && !received_ && in.pending() == 0) {
    out.send({name(), 0});
    return false;
  }
  while (in.ready()) {
    in.pop();
    if (!received_) {
      received_ = true;
      note_progress();
      if (!params().boolean("starter")) out.send({name(), 1});
    }
  }
  return false;
}
std::string WaitThenSend::waiting_on() const { return "a message on " + in.full_name() + " from " + in.peer_name(); }

ParamSchema Bouncer::param_schema() {
  ParamSchema s;
  s.boolean("starter", false, "send the first message");
  return s;
}
Bouncer::Bouncer(const ComponentContext& ctx) : Component(ctx) {}
void Bouncer::init() {
  if (params().boolean("starter")) wake_at(Cycle(0));
}
bool Bouncer::tick(Cycle) {
  if (params().boolean("starter") && !started_) {
    started_ = true;
    out.send({name(), 0});
  }
  while (in.ready()) out.send(in.pop());
  return false;
}

std::unique_ptr<Simulator> build_from_yaml(const std::string& yaml) {
  ConfigTree tree;
  tree.merge_text(yaml, "test.yaml");
  return build_system(parse_system(tree));
}

}  // namespace tilesim::test

namespace tilesim::test {
namespace {
/// A system kind for tests: `ring.nodes` WaitThenSend components in a ring on one clock; node 0 starts.
class RingSystem final : public SystemKind {
 public:
  std::vector<std::pair<std::string, ParamSchema>> sections() const override {
    ParamSchema ring;
    ring.integer("nodes", 4, "components in the ring", 2, 1000)
        .quantity("clock", UnitKind::frequency, "1GHz", "the ring's clock")
        .quantity("hop_latency", UnitKind::time, "2ns", "link latency between neighbours");
    ParamSchema extra;
    extra.boolean("starter", true, "whether node 0 starts (false: the ring deadlocks)");
    return {{"ring", ring}, {"ring.start", extra}};
  }
  void build(Simulator& sim, const SystemSections& cfg) const override {
    const ParamValues& ring = cfg.at("ring");
    ClockDomain& clk = sim.add_clock("ring", static_cast<std::uint64_t>(ring.quantity("clock")));
    const auto n = ring.integer("nodes");
    std::vector<WaitThenSend*> nodes;
    for (std::int64_t i = 0; i < n; ++i) {
      const bool starter = i == 0 && cfg.at("ring.start").boolean("starter");
      ParamValues p = ParamValues::resolve(WaitThenSend::param_schema(), {{"starter", starter ? "true" : "false"}},
                                           "ring.node" + std::to_string(i));
      auto c = std::make_unique<WaitThenSend>(ComponentContext{"node" + std::to_string(i), "test_wait_then_send", p, &clk, &sim});
      nodes.push_back(c.get());
      sim.add(std::move(c));
    }
    for (std::size_t i = 0; i < nodes.size(); ++i)
      sim.connect(nodes[i]->out, nodes[(i + 1) % nodes.size()]->in, LinkParams{ring.ticks("hop_latency"), 0, 0});
  }
};
const RegisterSystemKind<RingSystem> kRing("test_ring", "test: a ring of wait-then-send nodes");
}  // namespace
}  // namespace tilesim::test

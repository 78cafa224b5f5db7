// Replicated answers in the crossbar (the L2 request coalescer's multicast, crossbar_switch.hpp): the
// replication happens in the switch, so a replica reaches its client no earlier than its original has
// passed the slice's source port, and it occupies only its own client port.
//
// Hand-wired: a crossbar with 3 client ports and 1 slice port (32 B/cycle, latency 10, input_window 1, 1 GHz).
// A scripted slice sends, at cycle 5, 8 answers of 128 B to client 0 (4 port cycles each, one at a time
// through the slice's single entry), then an original answer of 128 B to client 1 and its replica to
// client 2 (same MemResponse::answer), and a replica of an answer the crossbar never saw to client 2.
#include <catch2/catch.hpp>

#include "arch/memory/crossbar.hpp"
#include "sim/text_util.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

/// Sends its responses at one cycle, in order.
class ScriptedSlice final : public Component {
 public:
  ScriptedSlice(const ComponentContext& ctx, std::uint64_t at, std::vector<MemResponse> script)
      : Component(ctx), at_(at), script_(std::move(script)) {}
  static ParamSchema param_schema() { return ParamSchema(); }
  void init() override { wake_at(Cycle(at_)); }
  bool tick(Cycle now) override {
    if (now.value < at_) {
      wake_at(Cycle(at_));
      return false;
    }
    for (; next_ < script_.size() && resp.can_send(); ++next_) resp.send(script_[next_]);
    return false;
  }
  bool busy() const override { return next_ < script_.size(); }
  InPort<MemRequest> req{*this, "req", "MemRequest"};
  OutPort<MemResponse> resp{*this, "resp", "MemResponse"};

 private:
  std::uint64_t at_;
  std::vector<MemResponse> script_;
  std::size_t next_ = 0;
};

/// Records the cycle each response (by MemRequest::id) arrived.
class Receiver final : public Component {
 public:
  explicit Receiver(const ComponentContext& ctx) : Component(ctx) {}
  static ParamSchema param_schema() { return ParamSchema(); }
  bool tick(Cycle now) override {
    while (in.ready()) arrived[in.pop().req.id] = now.value;
    return false;
  }
  bool busy() const override { return false; }
  OutPort<MemRequest> out{*this, "out", "MemRequest"};
  InPort<MemResponse> in{*this, "in", "MemResponse"};
  std::map<std::uint64_t, std::uint64_t> arrived;
};

MemResponse answer(std::uint32_t client, std::uint64_t id, bool replica, std::uint64_t group) {
  MemResponse r;
  r.req.addr = 0;
  r.req.bytes = 128;
  r.req.op = MemOp::read;
  r.req.source = client;
  r.req.id = id;
  r.replica = replica;
  r.answer = group;
  return r;
}

}  // namespace

TEST_CASE("a replicated answer reaches its client only after its original passed the slice port",
          "[crossbar][l2]") {
  auto sim = bare_simulator();
  ClockDomain& clk = sim->add_clock("core", 1'000'000'000);
  const Tick cycle = clk.tick_of(Cycle(1));
  auto& xbar = add<Crossbar>(*sim, clk, "xbar", "crossbar",
                             {{"partitions", "1"}, {"slices_per_partition", "1"}, {"controllers", "1"}, {"cores", "1"},
                              {"clients", "3"}, {"latency", "10"}, {"port_bytes_per_cycle", "32B"},
                              {"header_bytes", "16B"}, {"input_window", "1"}});
  std::vector<MemResponse> script;
  for (std::uint64_t i = 0; i < 8; ++i) script.push_back(answer(0, i, false, 0));
  script.push_back(answer(1, 100, false, 7));  // the original
  script.push_back(answer(2, 200, true, 7));   // its replica
  script.push_back(answer(2, 201, true, 9));   // a replica whose original the crossbar never saw
  auto slice = std::make_unique<ScriptedSlice>(
      ComponentContext{"slice", "scripted_slice", ParamValues::resolve(ParamSchema(), {}, "s"), &clk, sim.get()}, 5,
      script);
  ScriptedSlice& s = *slice;
  sim->add(std::move(slice));
  sim->connect(*xbar.slice_ports[0], s.req, LinkParams{cycle, 0, 0});
  sim->connect(s.resp, xbar.resp, LinkParams{cycle, 0, 0});
  std::vector<Receiver*> clients;
  for (std::uint32_t c = 0; c < 3; ++c) {
    auto owner = std::make_unique<Receiver>(
        ComponentContext{cat("client", c), "receiver", ParamValues::resolve(ParamSchema(), {}, "r"), &clk, sim.get()});
    clients.push_back(owner.get());
    sim->add(std::move(owner));
    sim->connect(clients.back()->out, xbar.req, LinkParams{cycle, 0, 0});
    sim->connect(*xbar.client_ports[c], clients.back()->in, LinkParams{cycle, 0, 0});
  }
  REQUIRE(sim->run().completed);
  const std::uint64_t original = clients[1]->arrived.at(100);
  const std::uint64_t replica = clients[2]->arrived.at(200);
  const std::uint64_t orphan = clients[2]->arrived.at(201);
  INFO("original " << original << ", replica " << replica << ", orphan replica " << orphan);
  // The original passes the slice port after the 8 answers before it (4 cycles each, one entry): its
  // replica is offered with it, to an idle port, so both arrive in the same cycle.
  CHECK(original >= 5 + 8 * 4 + 10);
  CHECK(replica == original);
  // A replica of an unknown answer is offered at once: it occupies client 2's port only, so it crosses
  // while the slice's port still carries the answers for client 0.
  CHECK(orphan < 5 + 8 * 4);
  CHECK(clients[0]->arrived.size() == 8);
}

// TMA multicast through the copy engines and the cluster network: two cores load the same box, each
// fetches half of its line pieces from global memory and delivers them into both scratches, and each
// core's copy completes only when its whole box has landed.
#include <catch2/catch.hpp>

#include <map>

#include "arch/memory/cluster_network.hpp"
#include "arch/memory/copy_engine.hpp"
#include "arch/memory/scratchpad.hpp"
#include "sim/error.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;
using Catch::Matchers::Contains;

namespace {

/// A global memory for two clients: answers every read on the port of its `source` (0 or 1) and counts
/// the reads of each line.
class TwoClientMemory final : public Component {
 public:
  explicit TwoClientMemory(const ComponentContext& ctx) : Component(ctx) {}
  static ParamSchema param_schema() { return ParamSchema(); }
  bool tick(Cycle) override {
    while (req.ready()) {
      const MemRequest r = req.pop();
      ++reads[r.addr / 128];
      (r.source == 0 ? resp0 : resp1).send(MemResponse{r}, Priority::response);
    }
    return false;
  }
  InPort<MemRequest> req{*this, "req", "MemRequest"};
  OutPort<MemResponse> resp0{*this, "resp0", "MemResponse"};
  OutPort<MemResponse> resp1{*this, "resp1", "MemResponse"};
  std::map<std::uint64_t, int> reads;
};

/// Stands in for the cores' DSMEM accesses, which these tests do not make.
class NoRemoteAccesses final : public Component {
 public:
  explicit NoRemoteAccesses(const ComponentContext& ctx) : Component(ctx) {}
  static ParamSchema param_schema() { return ParamSchema(); }
  bool tick(Cycle) override { return false; }
  OutPort<ScratchRequest> out{*this, "out", "ScratchRequest"};
  InPort<MemResponse> in0{*this, "in0", "MemResponse"};
  InPort<MemResponse> in1{*this, "in1", "MemResponse"};
};

template <class T>
T& add_bare(Simulator& sim, ClockDomain& clk, const std::string& name) {
  auto c = std::make_unique<T>(ComponentContext{name, "test_" + name, ParamValues::resolve(ParamSchema(), {}, name), &clk, &sim});
  T& ref = *c;
  sim.add(std::move(c));
  return ref;
}

/// Two cores (engine, scratch, command driver each), a cluster network and a 100-cycle global memory.
/// Core 1's commands arrive `core1_delay` cycles after core 0's.
struct TwoCores {
  std::unique_ptr<Simulator> sim = bare_simulator();
  ClockDomain& clk = sim->add_clock("core", 1'000'000'000);
  CopyEngine* engine[2];
  Scratchpad* scratch[2];
  CopyDriver* driver[2];
  TwoClientMemory* memory;

  /// `net_widths`: port and group widths of the cluster network (its defaults when empty).
  TwoCores(const CopyCommand& c0, const CopyCommand& c1, std::uint64_t core1_delay,
           const std::map<std::string, std::string>& net_widths = {}) {
    const Tick cycle = clk.tick_of(Cycle(1));
    memory = &add_bare<TwoClientMemory>(*sim, clk, "mem");
    auto& idle = add_bare<NoRemoteAccesses>(*sim, clk, "remote");
    std::map<std::string, std::string> net_params = {
        {"cores", "2"}, {"group_size", "2"}, {"latency", "40"}, {"multicast_latency", "4"}};
    for (const auto& [k, v] : net_widths) net_params[k] = v;
    auto& net = add<ClusterNetwork>(*sim, clk, "net", "cluster_network", {net_params.begin(), net_params.end()});
    sim->connect(idle.out, net.req, LinkParams{cycle, 0, 0});
    sim->connect(*net.resp_ports[0], idle.in0, LinkParams{cycle, 0, 0});
    sim->connect(*net.resp_ports[1], idle.in1, LinkParams{cycle, 0, 0});
    const CopyCommand* cmds[2] = {&c0, &c1};
    for (int c = 0; c < 2; ++c) {
      const std::string n = std::to_string(c);
      engine[c] = &add<CopyEngine>(*sim, clk, "copy" + n, "copy_engine",
                                   {{"issue_latency", "16"}, {"completion_latency", "6"}, {"max_outstanding", "8"},
                                    {"source_id", n}});
      scratch[c] = &add<Scratchpad>(*sim, clk, "scratch" + n, "scratchpad", {{"latency", "20"}, {"clients", "2"}});
      auto d = std::make_unique<CopyDriver>(
          ComponentContext{"driver" + n, "test_copy_driver", ParamValues::resolve(ParamSchema(), {}, "driver"), &clk, sim.get()},
          std::vector<CopyCommand>{*cmds[c]});
      driver[c] = d.get();
      sim->add(std::move(d));
      CopyEngine& e = *engine[c];
      Scratchpad& s = *scratch[c];
      sim->connect(driver[c]->out, e.cmd, LinkParams{c == 0 ? cycle : (1 + core1_delay) * cycle, 0, 0});
      sim->connect(e.done, driver[c]->in, LinkParams{cycle, 0, 0});
      sim->connect(e.mem_req, memory->req, LinkParams{cycle, 0, 0});
      sim->connect(c == 0 ? memory->resp0 : memory->resp1, e.mem_resp, LinkParams{100 * cycle, 0, 0});
      sim->connect(e.scratch_req, *s.req_ports[0], LinkParams{cycle, 0, 0});
      sim->connect(*s.resp_ports[0], e.scratch_resp, LinkParams{cycle, 0, 0});
      sim->connect(*net.scratch_ports[c], *s.req_ports[1], LinkParams{cycle, 0, 0});
      sim->connect(*s.resp_ports[1], net.from_scratch, LinkParams{cycle, 0, 0});
      sim->connect(e.mcast_out, net.mcast_in, LinkParams{cycle, 0, 0});
      sim->connect(*net.engine_ports[c], e.mcast_in, LinkParams{cycle, 0, 0});
    }
  }
};

/// 8 rows of 256 B, rows 1 KiB apart: 16 whole-line pieces. Core `slice` of cores {0, 1}.
CopyCommand multicast_box(std::uint32_t slice, std::uint64_t global = 0x20000) {
  CopyCommand c;
  c.id = 40 + slice;
  c.global_addr = global;
  c.scratch_addr = 512;
  c.rows = 8;
  c.row_bytes = 256;
  c.pitch = 1024;
  c.multicast.key = {3, 77};
  c.multicast.cores = {0, 1};
  c.multicast.slice = slice;
  return c;
}

}  // namespace

TEST_CASE("a multicast box is read from memory once and lands in every core's scratch", "[copy][multicast]") {
  TwoCores t(multicast_box(0), multicast_box(1), 0);
  t.sim->run();
  for (int c = 0; c < 2; ++c) {
    INFO("core " << c);
    REQUIRE(t.driver[c]->done.size() == 1);
    CHECK(t.driver[c]->done[0].bytes == 2048);      // the whole box
    CHECK(t.driver[c]->done[0].line_requests == 8);  // its half of the pieces
    const std::string n = std::to_string(c);
    CHECK(total_stat(*t.sim, "copy" + n, "line_requests") == 8);
    CHECK(total_stat(*t.sim, "copy" + n, "multicast_bytes_sent") == 1024);
    CHECK(total_stat(*t.sim, "copy" + n, "multicast_bytes_received") == 1024);
    CHECK(total_stat(*t.sim, "scratch" + n, "accesses") == 16);  // 8 own pieces + 8 from the peer
    CHECK(total_stat(*t.sim, "scratch" + n, "bytes") == 2048);
  }
  // Every line of the box exactly once.
  REQUIRE(t.memory->reads.size() == 16);
  for (const auto& [line, n] : t.memory->reads) CHECK(n == 1);
  CHECK(total_stat(*t.sim, "net", "multicast_bytes") == 2048);
}

TEST_CASE("a core's multicast copy waits for its peer's share, which may arrive before its own command",
          "[copy][multicast]") {
  // Core 1's command arrives 500 cycles late. Core 0's pieces reach core 1 first and are counted ahead;
  // core 0's copy cannot complete before core 1 has fetched its half (arrival 501 + issue 16 + the memory
  // round trip of ~100 cycles), so its command takes more than 600 cycles although its own half landed
  // after ~140.
  TwoCores t(multicast_box(0), multicast_box(1), 500);
  t.sim->run();
  REQUIRE(t.driver[0]->done.size() == 1);
  REQUIRE(t.driver[1]->done.size() == 1);
  CHECK(total_stat(*t.sim, "copy0", "command_cycles.max") > 600);
  CHECK(total_stat(*t.sim, "copy1", "command_cycles.max") < 200);
  CHECK(total_stat(*t.sim, "copy1", "multicast_bytes_received") == 1024);
  for (const auto& [line, n] : t.memory->reads) CHECK(n == 1);
}

namespace {
/// The slower of the two cores' multicast commands, with the cluster network's widths overridden.
double slowest_multicast_command(const std::map<std::string, std::string>& widths) {
  TwoCores t(multicast_box(0), multicast_box(1), 0, widths);
  t.sim->run();
  REQUIRE(t.driver[0]->done.size() == 1);
  REQUIRE(t.driver[1]->done.size() == 1);
  return std::max(total_stat(*t.sim, "copy0", "command_cycles.max"), total_stat(*t.sim, "copy1", "command_cycles.max"));
}
}  // namespace

// The GPC crossbar replicates multicast lines on their way in from L2: each 128 B piece costs the peer's
// multicast input 128 B but neither the fetching core's injection port, nor the group switch, nor the
// SM-to-SM ports. Unloaded, a
// command takes ~150 cycles (issue 16, memory 100, completion 6, the scratch writes).
TEST_CASE("multicast data skips the group switch", "[copy][multicast]") {
  // A 1 B/cycle switch would need 2048 cycles for the 2 KiB the two cores deliver to each other.
  CHECK(slowest_multicast_command({{"group_bytes_per_cycle", "1B"}}) < 400);
}

TEST_CASE("multicast data enters the peer through its multicast input", "[copy][multicast]") {
  // 1 B/cycle multicast inputs: each core takes in its peer's 8 pieces of 128 B one after another.
  const double cycles = slowest_multicast_command({{"multicast_bytes_per_cycle", "1B"}});
  CHECK(cycles >= 8 * 128);
  CHECK(cycles < 8 * 128 + 400);
}

TEST_CASE("multicast data does not take the SM-to-SM ports of DSMEM accesses", "[copy][multicast]") {
  // 1 B/cycle DSMEM ports would need 1024 cycles for the peer's 1 KiB.
  CHECK(slowest_multicast_command({{"port_bytes_per_cycle", "1B"}}) < 400);
}

TEST_CASE("cores that multicast different boxes under one key are an error naming both", "[copy][multicast]") {
  TwoCores t(multicast_box(0), multicast_box(1, 0x40000), 0);
  CHECK_THROWS_WITH(t.sim->run(), Contains("disagree on the box") && Contains("core 0") && Contains("core 1"));
}

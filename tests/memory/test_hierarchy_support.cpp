#include "tests/memory/test_hierarchy_support.hpp"

#include <catch2/catch.hpp>

#include "sim/clock_domain.hpp"
#include "sim/config.hpp"

namespace tilesim::test {

// Every number here feeds a derivation in a test; change them together.
const char* const kSmallHierarchy = R"(
system: memory_probe
chip: {cores: 4, core_clock: 1GHz, l2_clock_ratio: 1.0, dies: 1, partitions: 2, cores_per_group: 4}
memory:
  scratch: {size: 64KiB, banks: 32, bank_bytes: 4B, latency: 20}
  l1: {size: 16KiB, assoc: 4, tag_latency: 4, data_latency: 10, fill_latency: 6, data_bytes_per_cycle: 128B,
       mshrs: 64, request_queue: 8}
  noc: {latency: 12, port_bytes_per_cycle: 64B, header_bytes: 16B, far_latency: 30, fabric_bytes_per_cycle: 256B}
  l2: {size: 2MiB, slices_per_partition: 2, tag_latency: 10, data_latency: 14, fill_latency: 8, controller_latency: 25,
       data_bytes_per_cycle: 64B, prefill_base: 1GiB}
  hbm: {clock: 1GHz, controllers: 2, refresh: false}
  tma: {issue_latency: 16, completion_latency: 6, max_outstanding: 64, requests_per_cycle: 1}
  dsmem: {latency: 40, local_latency: 2, window_bytes: 1MiB}
core: {dependent_issue_latency: 3, block_launch_latency: 0}
workload: {kind: pchase, space: global, footprint: 8KiB, spacing: 64B, threads: 1, measure_loads: 2000}
)";

SystemSpec parse_spec(const std::string& yaml, const std::vector<std::string>& overrides) {
  ConfigTree t;
  t.merge_text(yaml, "test.yaml");
  t.apply_override("sim.heartbeat=0s");
  for (const auto& o : overrides) t.apply_override(o);
  return parse_system(t);
}

std::unique_ptr<Simulator> build_spec(const SystemSpec& spec) { return build_system(spec); }

double total_stat(const Simulator& sim, const std::string& component, const std::string& name) {
  const StatsReport r = sim.stats_report();
  for (const auto& c : r.scopes.front().components)
    if (c.name == component)
      for (const auto& v : c.values)
        if (v.name == name) return v.value;
  FAIL("no stat " << component << "." << name);
  return 0;
}

double sum_over_slices(const Simulator& sim, const std::string& name) {
  double s = 0;
  for (int g = 0; g < 4; ++g) s += total_stat(sim, "l2.slice" + std::to_string(g), name);
  return s;
}

std::unique_ptr<Simulator> bare_simulator() {
  ParamValues p = ParamValues::resolve(sim_param_schema(), {{"heartbeat", "0s"}}, "sim");
  return std::make_unique<Simulator>(p);
}

MemDriver::MemDriver(const ComponentContext& ctx, std::vector<TimedRequest> script)
    : Component(ctx), script_(std::move(script)), sent_(script_.size(), 0), done_(script_.size(), 0) {}

void MemDriver::init() {
  if (!script_.empty()) wake_at(Cycle(script_.front().at));
}

bool MemDriver::tick(Cycle now) {
  while (in.ready()) {
    const MemResponse r = in.pop();
    done_.at(r.req.id) = now.value;
    ++answered_;
  }
  while (next_ < script_.size()) {
    const TimedRequest& s = script_[next_];
    if (s.at > now.value) {
      wake_at(Cycle(s.at));
      break;
    }
    if (s.after_previous && next_ > 0 && done_[next_ - 1] == 0) break;  // the answer wakes us
    if (!out.can_send()) break;
    MemRequest r = s.req;
    r.id = next_;
    r.issued = clock().now_tick();
    out.send(r);
    sent_[next_++] = now.value;
  }
  return false;
}

ScratchDriver::ScratchDriver(const ComponentContext& ctx, std::vector<ScratchRequest> accesses)
    : Component(ctx), accesses_(std::move(accesses)) {}

void ScratchDriver::init() { wake_at(Cycle(0)); }

bool ScratchDriver::tick(Cycle now) {
  if (!sent_) {
    for (auto& a : accesses_) out.send(a);
    sent_ = true;
  }
  while (in.ready()) {
    in.pop();
    ++answered_;
    last_ = now.value;
  }
  return false;
}

CopyDriver::CopyDriver(const ComponentContext& ctx, std::vector<CopyCommand> commands)
    : Component(ctx), commands_(std::move(commands)) {}

void CopyDriver::init() { wake_at(Cycle(0)); }

bool CopyDriver::tick(Cycle) {
  if (!sent_) {
    for (auto& c : commands_) out.send(c);
    sent_ = true;
  }
  while (in.ready()) done.push_back(in.pop());
  return false;
}


CopyDriver& run_copy_commands(Simulator& sim, ClockDomain& clk, CopyEngine& engine, PortBase& memory_req,
                              PortBase& memory_resp, Scratchpad& scratch, std::vector<CopyCommand> commands,
                              std::uint64_t response_cycles) {
  auto owner = std::make_unique<CopyDriver>(
      ComponentContext{"driver", "test_copy_driver", ParamValues::resolve(ParamSchema(), {}, "driver"), &clk, &sim},
      std::move(commands));
  CopyDriver& driver = *owner;
  sim.add(std::move(owner));
  const Tick cycle = clk.tick_of(Cycle(1));
  sim.connect(driver.out, engine.cmd, LinkParams{cycle, 0, 0});
  sim.connect(engine.done, driver.in, LinkParams{cycle, 0, 0});
  sim.connect(engine.mem_req, memory_req, LinkParams{cycle, 0, 0});
  sim.connect(memory_resp, engine.mem_resp, LinkParams{response_cycles * cycle, 0, 0});
  sim.connect(engine.scratch_req, *scratch.req_ports[0], LinkParams{cycle, 0, 0});
  sim.connect(*scratch.resp_ports[0], engine.scratch_resp, LinkParams{cycle, 0, 0});
  sim.connect(engine.mcast_out, engine.mcast_in, LinkParams{cycle, 0, 0});  // no multicast here: unused loop
  REQUIRE(sim.run().completed);
  return driver;
}

}  // namespace tilesim::test

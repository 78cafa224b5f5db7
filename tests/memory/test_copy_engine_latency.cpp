// The copy engine's `line_latency` statistic (the loaded latency its line requests see below it, the
// figure issues #4/#5 were diagnosed with): unloaded, it is the path to the memory and back.
#include <catch2/catch.hpp>

#include "arch/generic/fixed_latency_memory.hpp"
#include "arch/memory/copy_engine.hpp"
#include "arch/memory/scratchpad.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

TEST_CASE("the copy engine's line latency is the memory round trip when one line is in flight", "[copy]") {
  // 1 GHz; a 100 ns memory with a 1 TB/s bus; one line in flight at a time. A request leaves at cycle t,
  // arrives at t + 1 (link), its 128 B transfer ends 0.128 ns later, the response leaves at the next edge
  // 100 ns after that (t + 102) and arrives at t + 103.
  auto sim = bare_simulator();
  ClockDomain& clk = sim->add_clock("core", 1'000'000'000);
  auto& engine = add<CopyEngine>(*sim, clk, "copy", "copy_engine", {{"max_outstanding", "1"}});
  auto& memory = add<FixedLatencyMemory>(*sim, clk, "mem", "fixed_latency_memory", {{"latency", "100ns"}});
  auto& scratch = add<Scratchpad>(*sim, clk, "scratch", "scratchpad", {{"latency", "20"}});
  CopyCommand c;
  c.id = 1;
  c.global_addr = 0x10000;
  c.rows = 1;
  c.row_bytes = 8 * 128;  // 8 lines
  auto owner = std::make_unique<CopyDriver>(
      ComponentContext{"driver", "test_copy_driver", ParamValues::resolve(ParamSchema(), {}, "driver"), &clk, sim.get()},
      std::vector<CopyCommand>{c});
  CopyDriver& driver = *owner;
  sim->add(std::move(owner));
  const Tick cycle = clk.tick_of(Cycle(1));
  sim->connect(driver.out, engine.cmd, LinkParams{cycle, 0, 0});
  sim->connect(engine.done, driver.in, LinkParams{cycle, 0, 0});
  sim->connect(engine.mem_req, *memory.find_port("req"), LinkParams{cycle, 0, 0});
  sim->connect(*memory.find_port("resp"), engine.mem_resp, LinkParams{cycle, 0, 0});
  sim->connect(engine.scratch_req, *scratch.req_ports[0], LinkParams{cycle, 0, 0});
  sim->connect(*scratch.resp_ports[0], engine.scratch_resp, LinkParams{cycle, 0, 0});
  REQUIRE(sim->run().completed);
  REQUIRE(driver.done.size() == 1);
  CHECK(total_stat(*sim, "copy", "line_latency.count") == 8);
  CHECK(total_stat(*sim, "copy", "line_latency.min") == 103);
  CHECK(total_stat(*sim, "copy", "line_latency.max") == 103);
}

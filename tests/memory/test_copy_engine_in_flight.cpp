// The copy engine's in-flight limit (max_outstanding) and its accounting: the report names the cycles in
// which pieces were due to issue but the limit held them back, so a TMA-bound kernel shows which of its
// limits (this one, an assumption in the presets, or the hierarchy's bandwidth) sets its pace.
#include <catch2/catch.hpp>

#include "arch/memory/copy_engine.hpp"
#include "arch/memory/scratchpad.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

/// A global memory that answers every request at once (the response link adds the latency).
class AnsweringMemory final : public Component {
 public:
  explicit AnsweringMemory(const ComponentContext& ctx) : Component(ctx) {}
  static ParamSchema param_schema() { return ParamSchema(); }
  bool tick(Cycle) override {
    while (req.ready()) resp.send(MemResponse{req.pop()}, Priority::response);
    return false;
  }
  InPort<MemRequest> req{*this, "req", "MemRequest"};
  OutPort<MemResponse> resp{*this, "resp", "MemResponse"};
};

struct LoadRun {
  double limited_cycles;
  double total_cycles;
};

/// One to_scratch box of 64 aligned 128 B rows (64 line pieces) over a 200-cycle response link.
LoadRun load_box(const std::string& max_outstanding) {
  auto sim = bare_simulator();
  ClockDomain& clk = sim->add_clock("core", 1'000'000'000);
  auto& engine = add<CopyEngine>(*sim, clk, "copy", "copy_engine",
                                 {{"issue_latency", "16"}, {"completion_latency", "6"},
                                  {"max_outstanding", max_outstanding}});
  auto& scratch = add<Scratchpad>(*sim, clk, "scratch", "scratchpad", {{"latency", "20"}});
  auto mem_owner = std::make_unique<AnsweringMemory>(
      ComponentContext{"mem", "test_answering_memory", ParamValues::resolve(ParamSchema(), {}, "mem"), &clk, sim.get()});
  AnsweringMemory& memory = *mem_owner;
  sim->add(std::move(mem_owner));
  CopyCommand c;
  c.id = 1;
  c.direction = CopyDirection::to_scratch;
  c.global_addr = 0x10000;
  c.scratch_addr = 0;
  c.rows = 64;
  c.row_bytes = 128;
  c.pitch = 128;
  CopyDriver& driver = run_copy_commands(*sim, clk, engine, memory.req, memory.resp, scratch, {c}, 200);
  REQUIRE(driver.done.size() == 1);
  REQUIRE(driver.done[0].line_requests == 64);
  return {total_stat(*sim, "copy", "in_flight_limited_cycles"), static_cast<double>(clk.now().value)};
}

}  // namespace

TEST_CASE("the copy engine counts the cycles its in-flight limit holds due pieces back", "[copy]") {
  // 4 in flight: the pieces go in 16 rounds of one ~225-cycle round trip (issue, 200-cycle link, scratch
  // write), and in every round but the last the other 60 - 4k pieces wait for a slot.
  const LoadRun limited = load_box("4");
  INFO("limited " << limited.limited_cycles << " of " << limited.total_cycles);
  CHECK(limited.total_cycles > 16 * 200);
  CHECK(limited.limited_cycles > 0.8 * limited.total_cycles);
  CHECK(limited.limited_cycles < limited.total_cycles);
}

TEST_CASE("a copy engine whose in-flight limit covers the whole box is never held back by it", "[copy]") {
  // 64 in flight: every piece is cut (one per cycle) before the first one returns, in one round trip.
  const LoadRun open = load_box("64");
  INFO("limited " << open.limited_cycles << " of " << open.total_cycles);
  CHECK(open.limited_cycles == 0);
  CHECK(open.total_cycles < 16 + 64 + 2 * 200);
}

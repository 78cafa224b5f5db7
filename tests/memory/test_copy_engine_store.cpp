// The copy engine's from_scratch direction (a TMA store / DMA write-out): scratch read -> global write ->
// acknowledgement, per line piece. Its responses are routed by the piece tag alone (issue #5 removed the
// engine's in-flight table), so this checks that every piece's global write lands at its own address.
#include <catch2/catch.hpp>

#include <set>

#include "arch/memory/copy_engine.hpp"
#include "arch/memory/scratchpad.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

/// A global memory that acknowledges writes after a fixed delay and records their addresses and sizes.
class RecordingMemory final : public Component {
 public:
  RecordingMemory(const ComponentContext& ctx) : Component(ctx) {}
  static ParamSchema param_schema() { return ParamSchema(); }
  bool tick(Cycle now) override {
    while (req.ready()) {
      const MemRequest r = req.pop();
      writes.push_back({r.addr, r.bytes});
      if (r.op != MemOp::write) ++non_writes;
      resp.send(MemResponse{r}, Priority::response);
    }
    return false;
  }
  InPort<MemRequest> req{*this, "req", "MemRequest"};
  OutPort<MemResponse> resp{*this, "resp", "MemResponse"};
  std::vector<std::pair<std::uint64_t, std::uint32_t>> writes;
  int non_writes = 0;
};

}  // namespace

TEST_CASE("a from_scratch copy writes every line piece to its own global address", "[copy]") {
  // Two boxes of 4 rows x 200 B, rows 1 KiB apart, starting 100 B into a line: 3 pieces per row (28 + 128 +
  // 44 B), 12 per box. With 4 pieces in flight the pieces of both commands interleave in the memory.
  auto sim = bare_simulator();
  ClockDomain& clk = sim->add_clock("core", 1'000'000'000);
  auto& engine = add<CopyEngine>(*sim, clk, "copy", "copy_engine",
                                 {{"issue_latency", "16"}, {"completion_latency", "6"}, {"max_outstanding", "4"}});
  auto& scratch = add<Scratchpad>(*sim, clk, "scratch", "scratchpad", {{"latency", "20"}});
  auto mem_owner = std::make_unique<RecordingMemory>(
      ComponentContext{"mem", "test_recording_memory", ParamValues::resolve(ParamSchema(), {}, "mem"), &clk, sim.get()});
  RecordingMemory& memory = *mem_owner;
  sim->add(std::move(mem_owner));
  std::vector<CopyCommand> commands;
  for (int k = 0; k < 2; ++k) {
    CopyCommand c;
    c.id = 7 + k;
    c.direction = CopyDirection::from_scratch;
    c.global_addr = 0x10000 + 100 + k * 0x8000;
    c.scratch_addr = 64 + k * 1024;
    c.rows = 4;
    c.row_bytes = 200;
    c.pitch = 1024;
    commands.push_back(c);
  }
  CopyDriver& driver = run_copy_commands(*sim, clk, engine, memory.req, memory.resp, scratch, commands, 100);
  REQUIRE(driver.done.size() == 2);
  CHECK(driver.done[0].id == 7);
  CHECK(driver.done[1].id == 8);
  CHECK(driver.done[0].line_requests == 12);
  CHECK(driver.done[0].bytes == 800);
  CHECK(memory.non_writes == 0);
  // The writes are exactly the pieces split_copy makes, each once.
  std::multiset<std::pair<std::uint64_t, std::uint32_t>> want, got(memory.writes.begin(), memory.writes.end());
  for (const CopyCommand& c : commands)
    for (const CopyPiece& p : split_copy(c, 128)) want.insert({p.global_addr, p.bytes});
  CHECK(got == want);
  CHECK(total_stat(*sim, "scratch", "accesses") == 24);
}

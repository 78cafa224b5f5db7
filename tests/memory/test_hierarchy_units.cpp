// Unit checks of the hierarchy's pieces through stub ports: bank-conflict serialisation in the scratch,
// MSHR merging in the L1-like cache, the copy engine's split of a descriptor into line requests, the
// address map, the sectored array.
#include <catch2/catch.hpp>

#include "arch/generic/fixed_latency_memory.hpp"
#include "arch/memory/address_map.hpp"
#include "arch/memory/cache_array.hpp"
#include "arch/memory/copy_engine.hpp"
#include "arch/memory/l1_cache.hpp"
#include "arch/memory/scratchpad.hpp"
#include "sim/error.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {
ScratchRequest strided(std::uint32_t stride_words, std::uint32_t lane_bytes = 4) {
  ScratchRequest r;
  for (std::uint32_t lane = 0; lane < 32; ++lane) r.lane_addr.push_back(lane * stride_words * 4);
  r.lane_bytes = lane_bytes;
  r.req.bytes = 32 * lane_bytes;
  return r;
}

}  // namespace

TEST_CASE("bank-conflict degree of strided accesses is gcd(stride, banks)", "[scratch]") {
  // 32 banks of 4 B: lane t reads word t x s, bank (t x s) mod 32; each bank holds 32 / (32 / gcd) = gcd
  // distinct words.
  for (std::uint32_t s : {1u, 2u, 4u, 8u, 16u, 32u}) CHECK(scratch_wavefronts(strided(s), 32, 4) == s);
  CHECK(scratch_wavefronts(strided(3), 32, 4) == 1);   // odd strides are conflict-free
  CHECK(scratch_wavefronts(strided(0), 32, 4) == 1);   // one word for every lane: a broadcast
  CHECK(scratch_wavefronts(strided(2, 8), 32, 4) == 2);  // 64-bit lanes: 64 words over 32 banks
  ScratchRequest block;
  block.req.addr = 0;
  block.req.bytes = 512;  // a contiguous 512 B block: 128 words, 4 per bank
  CHECK(scratch_wavefronts(block, 32, 4) == 4);
}

TEST_CASE("bank-conflict cost grows linearly with the conflict degree", "[scratch]") {
  // 10 accesses each of degree 1, 2, 4 and 8 from four clients, all sent at cycle 0: an access of degree d
  // holds the banks for d wavefronts (cycles), so the banks work 10 x (1 + 2 + 4 + 8) = 150 cycles, and
  // the extra cycles are 10 x (d - 1) per degree.
  auto sim = bare_simulator();
  ClockDomain& clk = sim->add_clock("core", 1'000'000'000);
  auto& scratch = add<Scratchpad>(*sim, clk, "scratch", "scratchpad", {{"latency", "20"}, {"clients", "4"}});
  std::vector<ScratchDriver*> drivers;
  const std::uint32_t degrees[] = {1, 2, 4, 8};
  for (std::size_t k = 0; k < 4; ++k) {
    // One driver per degree, each on its own client port; they share the banks.
    std::vector<ScratchRequest> accesses(10, strided(degrees[k]));
    auto owner = std::make_unique<ScratchDriver>(ComponentContext{cat("d", k), "test_scratch_driver",
                                                                  ParamValues::resolve(ParamSchema(), {}, "d"), &clk,
                                                                  sim.get()},
                                                 accesses);
    drivers.push_back(owner.get());
    sim->add(std::move(owner));
    const Tick cycle = clk.tick_of(Cycle(1));
    sim->connect(drivers.back()->out, *scratch.req_ports[k], LinkParams{cycle, 0, 0});
    sim->connect(*scratch.resp_ports[k], drivers.back()->in, LinkParams{cycle, 0, 0});
  }
  REQUIRE(sim->run().completed);
  // All 40 accesses share the banks: total wavefronts = 10 x (1 + 2 + 4 + 8) = 150, and each extra degree
  // adds exactly one wavefront per access.
  CHECK(total_stat(*sim, "scratch", "wavefronts") == 150);
  CHECK(total_stat(*sim, "scratch", "conflict_cycles") == 10 * (0 + 1 + 3 + 7));
  std::uint64_t last = 0;
  for (auto* d : drivers) last = std::max(last, d->last_answer());
  // The banks are busy from cycle 1 for 150 cycles; the last access (degree 1 or more) answers latency +
  // its degree - 1 after it starts, then one link cycle.
  CHECK(last >= 1 + 150 + 20 - 1);
  CHECK(last <= 1 + 150 + 20 + 8);
}

TEST_CASE("two misses to the same line make one fill (MSHR merging)", "[l1]") {
  // Reads of the same 32 B sector at cycles 0 and 1: the second merges into the first's MSHR, one request
  // goes down, one fill answers both (the data port returns one per cycle). A third read after the fill hits.
  auto sim = bare_simulator();
  ClockDomain& clk = sim->add_clock("core", 1'000'000'000);
  auto& l1 = add<L1Cache>(*sim, clk, "l1", "l1_cache", {{"size", "16KiB"}, {"tag_latency", "4"}, {"data_latency", "10"},
                                                        {"fill_latency", "6"}});
  auto& memory = add<FixedLatencyMemory>(*sim, clk, "mem", "fixed_latency_memory", {{"latency", "100ns"}});
  std::vector<TimedRequest> script(3);
  script[0].req.addr = 4096;
  script[0].req.bytes = 8;
  script[1] = script[0];
  script[1].req.addr = 4100;
  script[1].at = 1;
  script[2] = script[0];
  script[2].at = 1000;
  auto owner = std::make_unique<MemDriver>(
      ComponentContext{"driver", "test_mem_driver", ParamValues::resolve(ParamSchema(), {}, "driver"), &clk, sim.get()},
      script);
  MemDriver& driver = *owner;
  sim->add(std::move(owner));
  const Tick cycle = clk.tick_of(Cycle(1));
  sim->connect(driver.out, l1.req, LinkParams{cycle, 0, 0});
  sim->connect(l1.resp, driver.in, LinkParams{cycle, 0, 0});
  sim->connect(l1.mem_req, *memory.find_port("req"), LinkParams{cycle, 0, 0});
  sim->connect(*memory.find_port("resp"), l1.mem_resp, LinkParams{cycle, 0, 0});
  REQUIRE(sim->run().completed);
  CHECK(total_stat(*sim, "l1", "fills") == 1);
  CHECK(total_stat(*sim, "l1", "mshr_merges") == 1);
  CHECK(total_stat(*sim, "l1", "read_misses") == 2);
  CHECK(total_stat(*sim, "l1", "read_hits") == 1);
  CHECK(total_stat(*sim, "mem", "reads") == 1);
  // Both answered by the one fill, one data-port cycle apart.
  CHECK(driver.answered_cycle(1) == driver.answered_cycle(0) + 1);
  // The hit: 1 + tag 4 + data 10 + 1 after it was sent.
  CHECK(driver.answered_cycle(2) - driver.sent_cycle(2) == 16);
}

TEST_CASE("a copy descriptor becomes one request per line piece", "[copy]") {
  // 4 rows of 200 B, rows 1 KiB apart, starting 100 B into a 128 B line: each row is 28 + 128 + 44 B,
  // three pieces, so 12 line requests and 800 B, packed densely in the scratch from offset 64.
  CopyCommand c;
  c.global_addr = 0x10000 + 100;
  c.scratch_addr = 64;
  c.rows = 4;
  c.row_bytes = 200;
  c.pitch = 1024;
  const auto pieces = split_copy(c, 128);
  REQUIRE(pieces.size() == 12);
  CHECK(pieces[0].bytes == 28);
  CHECK(pieces[1].bytes == 128);
  CHECK(pieces[2].bytes == 44);
  CHECK(pieces[3].global_addr == 0x10000 + 100 + 1024);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    CHECK(pieces[i].global_addr / 128 == (pieces[i].global_addr + pieces[i].bytes - 1) / 128);
    CHECK(pieces[i].scratch_addr == 64 + total);
    total += pieces[i].bytes;
  }
  CHECK(total == 800);
}

TEST_CASE("the copy engine completes a descriptor after all its line requests landed", "[copy]") {
  // The same box through a copy engine (issue 16, completion 6) against a fixed 100 ns memory and a
  // scratch: one CopyDone reporting 12 line requests and 800 B; the memory served 12 reads and the
  // scratch 12 writes.
  auto sim = bare_simulator();
  ClockDomain& clk = sim->add_clock("core", 1'000'000'000);
  auto& engine = add<CopyEngine>(*sim, clk, "copy", "copy_engine",
                                 {{"issue_latency", "16"}, {"completion_latency", "6"}, {"max_outstanding", "4"}});
  auto& memory = add<FixedLatencyMemory>(*sim, clk, "mem", "fixed_latency_memory", {{"latency", "100ns"}});
  auto& scratch = add<Scratchpad>(*sim, clk, "scratch", "scratchpad", {{"latency", "20"}});
  CopyCommand c;
  c.id = 7;
  c.global_addr = 0x10000 + 100;
  c.scratch_addr = 64;
  c.rows = 4;
  c.row_bytes = 200;
  c.pitch = 1024;
  CopyDriver& driver = run_copy_commands(*sim, clk, engine, *memory.find_port("req"), *memory.find_port("resp"), scratch, {c});
  REQUIRE(driver.done.size() == 1);
  CHECK(driver.done[0].id == 7);
  CHECK(driver.done[0].line_requests == 12);
  CHECK(driver.done[0].bytes == 800);
  CHECK(total_stat(*sim, "copy", "line_requests") == 12);
  CHECK(total_stat(*sim, "mem", "reads") == 12);
  CHECK(total_stat(*sim, "scratch", "accesses") == 12);
}

TEST_CASE("the copy engine's line latency is the memory round trip when one line is in flight", "[copy]") {
  // `line_latency` is the loaded latency the engine's line requests see below it. 1 GHz; a 100 ns memory
  // with a 1 TB/s bus; one line in flight at a time. A request leaves at cycle t, arrives at t + 1 (link),
  // its 128 B transfer ends 0.128 ns later, the response leaves at the next edge 100 ns after that
  // (t + 102) and arrives at t + 103.
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
  CopyDriver& driver = run_copy_commands(*sim, clk, engine, *memory.find_port("req"), *memory.find_port("resp"), scratch, {c});
  REQUIRE(driver.done.size() == 1);
  CHECK(total_stat(*sim, "copy", "line_latency.count") == 8);
  CHECK(total_stat(*sim, "copy", "line_latency.min") == 103);
  CHECK(total_stat(*sim, "copy", "line_latency.max") == 103);
}

TEST_CASE("the address map spreads lines over controllers, slices and partitions consistently", "[address_map]") {
  AddressMapSpec s;
  s.partitions = 2;
  s.dies = 1;
  s.slices_per_partition = 8;
  s.controllers = 4;  // 2 per partition, 4 slices each
  s.controller_interleave = 512;
  s.slice_interleave = 128;
  s.cores = 10;
  const AddressMap m(s, "test");
  std::vector<std::uint64_t> per_controller(4, 0), per_slice(16, 0);
  for (std::uint64_t a = 0; a < (64ull << 20); a += 128) {
    const std::uint32_t c = m.home_controller(a);
    CHECK(m.global_from_local(c, m.controller_local(a)) == a);
    CHECK(m.controller_of_slice(m.home_slice(a)) == c);
    CHECK(m.partition_of_slice(m.home_slice(a)) == m.home_partition(a));
    ++per_controller[c];
    ++per_slice[m.home_slice(a)];
  }
  for (auto n : per_controller) CHECK(n == (64ull << 20) / 128 / 4);  // a rotation within each group: exact
  for (auto n : per_slice) CHECK(n == (64ull << 20) / 128 / 16);
  // Cores: 5 + 5.
  CHECK(m.partition_of_core(0) == 0);
  CHECK(m.partition_of_core(4) == 0);
  CHECK(m.partition_of_core(5) == 1);
  CHECK(m.first_core(1) == 5);
  CHECK(m.cores_in(1) == 5);
}

TEST_CASE("impossible address maps are configuration errors", "[address_map]") {
  AddressMapSpec s;
  s.partitions = 2;
  s.controllers = 3;
  CHECK_THROWS_AS(AddressMap(s, "memory.hbm"), ConfigError);
  s.controllers = 2;
  s.slices_per_partition = 3;
  s.cores = 4;
  CHECK_NOTHROW(AddressMap(s, "x"));
  s.controllers = 4;  // 2 per partition, 3 slices: not a multiple
  CHECK_THROWS_WITH(AddressMap(s, "memory.l2"), Catch::Matchers::Contains("memory.l2"));
}

TEST_CASE("the sectored array evicts the least recently used way and tracks sectors", "[cache_array]") {
  CacheGeometry g;
  g.size_bytes = 2 * 128;  // one set of two ways
  g.assoc = 2;
  SectoredCacheArray a(g, "test");
  CHECK(a.sector_mask(32, 40) == 0b0110);
  CHECK(a.sector_mask(120, 16) == 0);  // crosses the line
  SectoredCacheArray::Victim v;
  a.allocate(0, v).valid = 0b0001;
  a.allocate(128, v);
  a.touch(*a.find(0));  // line 0 is now the most recent
  auto& l = a.allocate(256, v);
  CHECK(v.present);
  CHECK(v.line_addr == 128);
  CHECK(l.valid == 0);
  CHECK(a.find(0) != nullptr);
  CHECK(a.find(128) == nullptr);
  CHECK_THROWS_AS(SectoredCacheArray(CacheGeometry{3 * 128, 128, 32, 2, false}, "bad"), ConfigError);
}

// First-principles timing of the HBM controller: each scenario sends a few scripted requests and checks
// their round trips against the DRAM timing formulas (arch/memory/dram/README.md).
//
// Setup: the controller's command clock and the requester run at 1.6 GHz (tCK = 625 ps), so the default
// timings (HBM3-6400, given in ns) resolve to the JEDEC/Ramulator 2 cycle counts exactly:
//   tRCD 31, tRCD_WR 15, tCL 20, tCWL 10, tBURST 2 (BL8 / 4 beats per CK), tRP 26, tRAS 45, tRC 72,
//   tRRD_S 4, tRRD_L 5, tFAW 24, tCCD_S 2, tCCD_L 4, tRTP 9, tWTR_S 7, tWTR_L 10, tRTW 20,
//   tRFC 560, tREFI 6240.
// Links are one cycle each way, so a round trip = 2 + the controller's cycles (a request sent at cycle s
// is seen by the controller at s + 1, whose response leaves at the edge its data has moved).
#include <catch2/catch.hpp>

#include "arch/memory/dram/hbm_controller.hpp"
#include "sim/clock_domain.hpp"
#include "tests/memory/test_dram_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

constexpr std::uint64_t kHz = 1'600'000'000;
constexpr Tick kCycle = 625;  // ps
constexpr std::uint64_t tRCD = 31, tCL = 20, tBURST = 2, tRP = 26, tCWL = 10, tWTR_S = 7, tWTR_L = 10, tRTW = 20;
constexpr std::uint64_t tRRD_S = 4, tFAW = 24, tRTP = 9, tRFC = 560, tREFI = 6240, kLinks = 2;

using Params = std::map<std::string, std::string>;

/// One controller (refresh off unless asked: it would close rows between the scripted requests) and a
/// scripted requester, both at 1.6 GHz.
class DramRig {
 public:
  explicit DramRig(const Params& params = {{"refresh", "false"}})
      : sim_(empty_simulator()), clock_(sim_->add_clock("hbm", kHz)) {
    mem_ = &dynamic_cast<HbmController&>(add_component(*sim_, clock_, "mem", "hbm_controller", params));
  }
  std::uint64_t addr(std::uint32_t ch, std::uint32_t bg, std::uint32_t bank, std::uint32_t row, std::uint32_t col) const {
    return mem_->mapping().encode({ch, bg, bank, row, col});
  }
  ScriptedRequester& run(std::vector<ScriptStep> steps) {
    ScriptedRequester& cpu = add_requester(*sim_, clock_, "cpu", std::move(steps));
    sim_->connect(cpu.req, *dynamic_cast<InPort<MemRequest>*>(mem_->find_port("req")), LinkParams{kCycle, 0, 0});
    sim_->connect(*dynamic_cast<OutPort<MemResponse>*>(mem_->find_port("resp")), cpu.resp, LinkParams{kCycle, 0, 0});
    REQUIRE(sim_->run().completed);
    return cpu;
  }
  double stat(const std::string& name) const { return test::stat(*sim_, "mem", name); }

 private:
  std::unique_ptr<Simulator> sim_;
  ClockDomain& clock_;
  HbmController* mem_ = nullptr;
};

ScriptStep read_at(std::uint64_t addr, std::uint64_t at) { return {MemOp::read, addr, 32, at, false}; }
ScriptStep write_at(std::uint64_t addr, std::uint64_t at) { return {MemOp::write, addr, 32, at, false}; }

}  // namespace

TEST_CASE("hbm: an unloaded read to a closed bank takes tRCD + tCL + tBURST", "[dram][first-principles]") {
  DramRig rig;
  const auto& cpu = rig.run({read_at(rig.addr(3, 5, 2, 100, 7), 0)});
  CHECK(cpu.latency_cycles(0) == tRCD + tCL + tBURST + kLinks);  // 31 + 20 + 2 + 2 = 55
  CHECK(rig.stat("row_misses") == 1);
  CHECK(rig.stat("activates") == 1);
  CHECK(rig.stat("latency.max") == tRCD + tCL + tBURST);
  // Event-driven: ticked for the ACT, the RD and the response, never while waiting out tRCD or tCL.
  CHECK(rig.stat("active_cycles") == 3);
}

TEST_CASE("hbm: an idle controller is not ticked, yet refreshes on schedule", "[dram][refresh]") {
  DramRig rig(Params{{"refresh", "true"}});
  // One read after 100 us (160000 cycles, 25 refresh intervals) of idleness: the refreshes that fell due
  // are replayed when the read arrives (the bank was closed anyway: a miss, unloaded latency).
  const auto& cpu = rig.run({read_at(rig.addr(0, 0, 0, 0, 0), 160000)});
  CHECK(cpu.latency_cycles(0) == tRCD + tCL + tBURST + kLinks);
  CHECK(rig.stat("active_cycles") == 3);
  CHECK(rig.stat("refreshes") == 16 * (160055 / tREFI));  // 16 channels x 25, counted up to the end
}

TEST_CASE("hbm: a row hit takes tCL + tBURST, a row conflict tRP + tRCD + tCL + tBURST", "[dram][first-principles]") {
  DramRig rig;
  // 1000 cycles apart: tRAS and tRC have long passed, so only the row-buffer state differs.
  const auto& cpu = rig.run({read_at(rig.addr(0, 0, 0, 5, 0), 0), read_at(rig.addr(0, 0, 0, 5, 1), 1000),
                             read_at(rig.addr(0, 0, 0, 6, 0), 2000)});
  CHECK(cpu.latency_cycles(0) == tRCD + tCL + tBURST + kLinks);        // miss: 55
  CHECK(cpu.latency_cycles(1) == tCL + tBURST + kLinks);               // hit: 24
  CHECK(cpu.latency_cycles(2) == tRP + tRCD + tCL + tBURST + kLinks);  // conflict: 81
  CHECK(rig.stat("row_misses") == 1);
  CHECK(rig.stat("row_hits") == 1);
  CHECK(rig.stat("row_conflicts") == 1);
  CHECK(rig.stat("activates") == 2);
  CHECK(rig.stat("precharges") == 1);
  CHECK(rig.stat("row_hit_rate") == Approx(1.0 / 3));
}

TEST_CASE("hbm: the close-page policy turns hits and conflicts into misses", "[dram][first-principles]") {
  DramRig rig(Params{{"refresh", "false"}, {"page_policy", "close"}});
  const auto& cpu = rig.run({read_at(rig.addr(0, 0, 0, 5, 0), 0), read_at(rig.addr(0, 0, 0, 5, 1), 1000),
                             read_at(rig.addr(0, 0, 0, 6, 0), 2000)});
  for (std::size_t i = 0; i < 3; ++i) CHECK(cpu.latency_cycles(i) == tRCD + tCL + tBURST + kLinks);
  CHECK(rig.stat("row_misses") == 3);
  CHECK(rig.stat("precharges") == 3);  // auto-precharge after each read
}

TEST_CASE("hbm: tFAW admits four activates per window", "[dram][first-principles]") {
  DramRig rig;
  // Eight reads at once to eight bank groups of one channel: ACTs are spaced by tRRD_S (4) until the
  // fifth, which waits for the first to be tFAW (24) old, and so on: ACT at 1, 5, 9, 13, 25, 29, 33, 37.
  std::vector<ScriptStep> steps;
  for (std::uint32_t bg = 0; bg < 8; ++bg) steps.push_back(read_at(rig.addr(0, bg, 0, 0, 0), 0));
  const auto& cpu = rig.run(steps);
  const std::uint64_t arrive = 1, unloaded = tRCD + tCL + tBURST + 1;  // ACT at arrival; response link
  for (std::uint64_t i = 0; i < 4; ++i) CHECK(cpu.latency_cycles(i) == arrive + i * tRRD_S + unloaded);
  for (std::uint64_t i = 4; i < 8; ++i)
    CHECK(cpu.latency_cycles(i) == arrive + tFAW + (i - 4) * tRRD_S + unloaded);  // 79, 83, 87, 91
  CHECK(cpu.latency_cycles(4) == 79);  // without tFAW it would be 71
}

TEST_CASE("hbm: a request larger than a burst completes with its last burst", "[dram][first-principles]") {
  DramRig rig;
  // 128 B = four 32 B bursts in bank groups 0..3 of channel 0 (the mapping puts bank groups lowest):
  // four ACTs tRRD_S apart, RD tRCD after each; the response waits for the fourth burst's data.
  const auto& cpu = rig.run({{MemOp::read, rig.addr(0, 0, 0, 9, 0), 128, 0, false}});
  CHECK(cpu.latency_cycles(0) == 1 + 3 * tRRD_S + tRCD + tCL + tBURST + 1);  // 67
  CHECK(rig.stat("bursts") == 4);
  CHECK(rig.stat("activates") == 4);
}

TEST_CASE("hbm: write-to-read turnaround costs tWTR, read-to-write tRTW", "[dram][first-principles]") {
  // One FR-FCFS pass over reads and writes (write_drain off), so each pair goes in arrival order; with
  // write batching a read arriving with a write goes first (test_dram_write_drain.cpp).
  DramRig rig(Params{{"refresh", "false"}, {"write_drain", "false"}});
  const auto a = [&](std::uint32_t bg, std::uint32_t col) { return rig.addr(0, bg, 0, 0, col); };
  const auto& cpu = rig.run({
      read_at(a(0, 0), 0), read_at(a(1, 0), 0),      // open row 0 in bank groups 0 and 1
      write_at(a(0, 1), 200), read_at(a(0, 2), 200),  // W then R, same bank group
      write_at(a(0, 3), 400), read_at(a(1, 1), 400),  // W then R, other bank group
      read_at(a(0, 4), 600), write_at(a(0, 5), 600),  // R then W
  });
  // A write is answered when its data has moved: tCWL + tBURST.
  CHECK(cpu.latency_cycles(2) == tCWL + tBURST + kLinks);  // 14
  // The read waits until tWTR after the end of the write data: WR + tCWL + tBURST + tWTR_L, then reads.
  CHECK(cpu.latency_cycles(3) == tCWL + tBURST + tWTR_L + tCL + tBURST + kLinks);  // 46
  CHECK(cpu.latency_cycles(5) == tCWL + tBURST + tWTR_S + tCL + tBURST + kLinks);  // 43
  // A write after a read waits tRTW for the bus to turn around.
  CHECK(cpu.latency_cycles(6) == tCL + tBURST + kLinks);                 // 24
  CHECK(cpu.latency_cycles(7) == tRTW + tCWL + tBURST + kLinks);         // 34
  CHECK(rig.stat("writes") == 3);
  CHECK(rig.stat("row_hits") == 6);
}

namespace {
/// A dependent chain of row hits on channel 0 with refresh on. The first request to arrive at or after a
/// due time waits for PREA (at most tRTP after the previous read), tRP, tRFC, then a fresh ACT:
/// latency = PREA - arrival + tRP + tRFC + tRCD + tCL + tBURST + 2 links, with PREA - arrival in
/// [-23, +8] (the chain's period is 24 cycles, so some request arrives within 23 cycles after the due
/// time; PREA waits at most tRTP - 1 after it): 618 .. 649 cycles. Every other request is a 24-cycle hit.
void check_refresh_stalls(bool stagger) {
  DramRig rig(Params{{"refresh", "true"}, {"refresh_stagger", stagger ? "true" : "false"}});
  std::vector<ScriptStep> steps;
  for (std::uint32_t i = 0; i < 600; ++i) steps.push_back({MemOp::read, rig.addr(0, 0, 0, 0, i % 32), 32, 0, true});
  const auto& cpu = rig.run(steps);
  const std::uint64_t hit = tCL + tBURST + kLinks, spike = tRP + tRFC + tRCD + tCL + tBURST + kLinks;
  std::uint64_t spikes = 0;
  for (std::size_t i = 1; i < cpu.size(); ++i) {
    const std::uint64_t lat = cpu.latency_cycles(i);
    if (lat == hit) continue;
    ++spikes;
    CHECK(lat >= spike - 23);
    CHECK(lat <= spike + tRTP - 1);
  }
  // Channel i of 16 is due at k * tREFI, or with staggering at tREFI * (i + 1) / 16 + k * tREFI.
  // A due time stalls the chain iff a request arrives at or after it.
  const std::uint64_t end = cpu.answered_at(cpu.size() - 1) / kCycle;
  const std::uint64_t last_arrival = end - cpu.latency_cycles(cpu.size() - 1) + 1;
  std::uint64_t channel0_dues = 0, all_dues = 0;
  for (std::uint64_t c = 0; c < 16; ++c)
    for (std::uint64_t due = stagger ? tREFI * (c + 1) / 16 : tREFI; due <= end; due += tREFI) {
      ++all_dues;
      if (c == 0 && due <= last_arrival) ++channel0_dues;
    }
  CHECK(spikes == channel0_dues);
  CHECK(spikes >= 2);
  // Every channel refreshed on schedule, the idle ones too (replayed, not polled).
  CHECK(rig.stat("refreshes") == all_dues);
}
}  // namespace

TEST_CASE("hbm: refresh stalls one request per tREFI for about tRFC", "[dram][first-principles][refresh]") {
  check_refresh_stalls(false);
}

TEST_CASE("hbm: staggered refresh moves channel 0's stalls to tREFI / 16 + k tREFI", "[dram][first-principles][refresh]") {
  check_refresh_stalls(true);
}

TEST_CASE("hbm: per-bank refresh holds only its bank for tRFCpb, the others tRREFD", "[dram][first-principles][refresh]") {
  // refresh_mode per_bank: one bank per tREFI / 32 = 195 cycles, round robin from bank 0 (bank group 0,
  // bank 0). Two reads sent at 200 to channel 0 find bank 0 refreshed at its due time D = 195 (it was
  // closed): its ACT waits until D + tRFCpb (200 ns = 320 cycles), the other bank's only until
  // D + tRREFD (8 ns = 13 cycles).
  constexpr std::uint64_t tRFCpb = 320, tRREFD = 13, tREFIpb = tREFI / 32, D = tREFIpb, sent = 200;
  DramRig rig(Params{{"refresh", "true"}, {"refresh_mode", "per_bank"}});
  const auto& cpu = rig.run({read_at(rig.addr(0, 0, 0, 3, 0), sent), read_at(rig.addr(0, 0, 1, 3, 0), sent)});
  CHECK(cpu.latency_cycles(0) == D + tRFCpb + tRCD + tCL + tBURST + 1 - sent);  // 369
  CHECK(cpu.latency_cycles(1) == D + tRREFD + tRCD + tCL + tBURST + 1 - sent);  // 62
  // Every channel's banks were refreshed on schedule, the idle ones replayed up to the end.
  const std::uint64_t end = cpu.answered_at(0) / kCycle;
  CHECK(rig.stat("refreshes") == Approx(16.0 * end / tREFIpb).margin(16));
}

// First-principles throughput of the HBM controller behind a traffic generator: streaming saturates at the
// peak the configuration implies (less what refresh provably costs), random traffic is activate-bound,
// and the row-hit rate follows the access pattern.
//
// Defaults at a 1.6 GHz command clock (HBM3-6400 cycle counts, see test_dram_timing.cpp):
// peak = 16 channels x 32 B per burst / tBURST (2 cycles) x 1.6 GHz = 409.6 GB/s.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include "sim/config.hpp"
#include "tests/memory/test_dram_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

constexpr double kPeak = 16 * 32 / 2.0 * 1.6e9;  // B/s
constexpr double tRTP = 9, tRP = 26, tRCD = 31, tRFC = 560, tREFI = 6240, tFAW = 24;

/// A generator at 1.6 GHz that can issue 4 requests per cycle (more than the controller can take), one
/// controller with `mem_params` (YAML flow-map body), one-cycle links.
std::unique_ptr<Simulator> generator_and_hbm(const std::string& gen_params, const std::string& mem_params) {
  return build_yaml("clocks: {core: 1.6GHz, hbm: 1.6GHz}\n"
                    "components:\n"
                    "  gen: {kind: traffic_generator, clock: core, issue_width: 4, " + gen_params + "}\n"
                    "  mem: {kind: hbm_controller, clock: hbm" + (mem_params.empty() ? "" : ", " + mem_params) + "}\n"
                    "links:\n"
                    "  req:  {from: gen.req, to: mem.req, latency: 1cycles}\n"
                    "  resp: {from: mem.resp, to: gen.resp, latency: 1cycles}\n");
}

}  // namespace

TEST_CASE("hbm: streaming reads without refresh reach the data-bus peak", "[dram][first-principles][bandwidth]") {
  // Sequential 128 B reads: the mapping alternates bank groups burst by burst (tCCD_S = tBURST, so each
  // channel's bus can be busy every cycle), spreads 4 KiB over all 16 channels and keeps each bank
  // group's row open for 32 bursts; the next row is in another bank, activated ahead from the queue.
  // Lost: the pipeline fill (one unloaded latency) and the few row switches whose ACTs the 32-burst
  // window could not hide; measured 99.5% of peak.
  auto sim = generator_and_hbm("requests: 150000, bytes: 128B, max_outstanding: 1024, footprint: 1GiB",
                               "refresh: false");
  REQUIRE(sim->run().completed);
  const double bw = stat(*sim, "gen", "achieved_bandwidth");
  CHECK(bw == Approx(kPeak).epsilon(0.01));
  CHECK(bw <= kPeak);
  CHECK(stat(*sim, "mem", "row_hit_rate") == Approx(31.0 / 32).epsilon(0.01));  // one ACT per 32-burst row
  CHECK(stat(*sim, "mem", "bus_utilization") == Approx(1.0).epsilon(0.01));
}

TEST_CASE("hbm: streaming reads reach the peak less the refresh overhead", "[dram][first-principles][bandwidth]") {
  // Each channel refreshes once per tREFI (6240 cycles). Its data bus stops from the last read before the
  // refresh until the first read after it: PREA may follow that read after tRTP, REF follows PREA after
  // tRP, the next ACT comes tRFC after REF and its read tRCD later; the bus idles about
  // tRTP + tRP + tRFC + tRCD = 9 + 26 + 560 + 31 = 626 cycles (the read latency tCL cancels out).
  // Expected: peak x (1 - 626 / 6240) = 0.8997 x 409.6 = 368.5 GB/s (measured 368.1). Re-opening the
  // eight bank groups after the refresh (tRRD/tFAW) and PREA waiting for tRAS of a freshly opened row
  // add a little; all channels refresh together (refresh_stagger: false), so the stall does not leave
  // one channel behind the stream.
  auto sim = generator_and_hbm("requests: 150000, bytes: 128B, max_outstanding: 1024, footprint: 1GiB", "");
  REQUIRE(sim->run().completed);
  const double bw = stat(*sim, "gen", "achieved_bandwidth");
  const double expected = kPeak * (1 - (tRTP + tRP + tRFC + tRCD) / tREFI);
  CHECK(bw == Approx(expected).epsilon(0.02));
  CHECK(bw < kPeak * (1 - tRFC / tREFI));  // refresh cannot cost less than tRFC per tREFI
  // 16 channels each refreshed once per 6240 cycles over the run.
  const double cycles = stat(*sim, "mem", "cycles");
  CHECK(stat(*sim, "mem", "refreshes") == Approx(16 * cycles / tREFI).margin(16));
}

TEST_CASE("hbm: random reads are bound by the activate window", "[dram][first-principles][bandwidth]") {
  // 64 B random reads over 1 GiB: every burst finds its bank on another row (2048 rows per bank in the
  // footprint), so every 32 B burst needs its own ACT. tFAW allows 4 ACTs per 24 cycles per channel:
  // 4 x 32 B / 24 cycles = 1/3 of the 16 B/cycle a channel's bus can move. Bound: 136.5 GB/s, less
  // refresh (x 0.90) = 124 GB/s. Random channel choice with per-channel queues loses a little more
  // (measured 118 GB/s, 95% of the bound).
  auto sim = generator_and_hbm("requests: 40000, bytes: 64B, max_outstanding: 1024, pattern: random, footprint: 1GiB",
                               "");
  REQUIRE(sim->run().completed);
  const double bw = stat(*sim, "gen", "achieved_bandwidth");
  const double act_bound = kPeak * (4 * 2 / tFAW);  // 4 bursts of tBURST = 2 cycles per tFAW
  CHECK(bw <= act_bound * (1 - tRFC / tREFI));
  CHECK(bw >= 0.75 * act_bound * (1 - tRFC / tREFI));
  CHECK(bw < 0.35 * kPeak);
  CHECK(stat(*sim, "mem", "row_hit_rate") < 0.01);
  CHECK(stat(*sim, "mem", "activates") >= stat(*sim, "mem", "bursts"));
}

TEST_CASE("hbm: the row-hit rate of random reads over two rows per bank is one half", "[dram][first-principles]") {
  // A small controller: 2 channels x 2 bank groups x 2 banks, 1 KiB rows. The mapping
  // (ro-ba-co-ch-bg) puts the row above 8 KiB, so a 16 KiB footprint is rows 0 and 1 of every bank.
  // One request at a time (no reordering): after a bank's first access (a miss), its open row is the
  // row of its last access, uniform over two rows, so each later access hits with probability 1/2.
  const std::uint64_t n = 4000, banks = 8;
  auto sim = generator_and_hbm(
      "requests: 4000, bytes: 32B, max_outstanding: 1, pattern: random, footprint: 16KiB",
      "channels: 2, bank_groups: 2, banks_per_group: 2, rows: 16, refresh: false");
  REQUIRE(sim->run().completed);
  CHECK(stat(*sim, "mem", "row_misses") == banks);
  CHECK(stat(*sim, "mem", "row_hits") + stat(*sim, "mem", "row_conflicts") == n - banks);
  // Binomial(3992, 1/2): standard deviation 0.008 of the rate; 0.03 is ~4 sigma.
  CHECK(stat(*sim, "mem", "row_hit_rate") == Approx(0.5 * (n - banks) / n).margin(0.03));
}

TEST_CASE("hbm: with per-bank refresh streaming reads lose much less than with all-bank refresh",
          "[dram][first-principles][bandwidth][refresh]") {
  // REFpb takes one of 32 banks out for tRFCpb every tREFI / 32 while the others keep streaming, so the
  // stream must beat the all-bank bound peak x (1 - (tRTP + tRP + tRFC + tRCD) / tREFI) = 0.8997 peak
  // (measured 0.975 of peak: the stream only waits when the refreshed bank is one it needs next).
  auto sim = generator_and_hbm("requests: 150000, bytes: 128B, max_outstanding: 1024, footprint: 1GiB",
                               "refresh_mode: per_bank");
  REQUIRE(sim->run().completed);
  const double bw = stat(*sim, "gen", "achieved_bandwidth");
  CHECK(bw > kPeak * (1 - (tRTP + tRP + tRFC + tRCD) / tREFI) * 1.05);
  CHECK(bw <= kPeak);
  // One REFpb per channel every tREFI / 32 cycles.
  const double cycles = stat(*sim, "mem", "cycles");
  CHECK(stat(*sim, "mem", "refreshes") == Approx(16 * cycles / (tREFI / 32)).margin(16));
}

namespace {
/// The controller parameters of a device preset's `memory.hbm` section (inherits resolved) as a YAML
/// flow-map body: the section keys that are not the controller's (clock, controllers, interleave) dropped.
std::string preset_controller_params(const std::string& preset) {
  ConfigTree t;
  t.merge_file(find_preset(preset));
  std::string out;
  for (const auto& kv : t.find("memory.hbm")) {
    const std::string k = kv.first.as<std::string>();
    if (k == "clock" || k == "controllers" || k == "controller_interleave") continue;
    out += (out.empty() ? "" : ", ") + k + ": " + kv.second.as<std::string>();
  }
  return out;
}
}  // namespace

namespace {
/// One GDDR device per controller: 2 channels of 16 bits, BL16 = 32 B per burst in tBURST = 16 / 8 = 2 CK,
/// so at the rig's 1.6 GHz peak = 2 x 32 B / 2 x 1.6 GHz = 51.2 GB/s. A 128 B line is 4 bursts of one
/// bank group (co4), whose column spacing tCCD_L (3 CK) exceeds tBURST: only alternating bank groups keep
/// the bus busy, which FR-FCFS does from the queue. A 2 KiB row holds 64 bursts: one ACT per 64.
void check_gddr_stream(const std::string& preset) {
  auto sim = generator_and_hbm("requests: 60000, bytes: 128B, max_outstanding: 512, footprint: 256MiB",
                               preset_controller_params(preset) + ", refresh: false");
  REQUIRE(sim->run().completed);
  const double peak = 2 * 32 / 2.0 * 1.6e9;
  const double bw = stat(*sim, "gen", "achieved_bandwidth");
  CHECK(bw == Approx(peak).epsilon(0.02));
  CHECK(bw <= peak);
  CHECK(stat(*sim, "mem", "row_hit_rate") == Approx(63.0 / 64).epsilon(0.01));
}
}  // namespace

TEST_CASE("gddr6 (rtx2070): streaming reads reach the data-bus peak of two x16 channels",
          "[dram][first-principles][bandwidth]") {
  check_gddr_stream("rtx2070");
}

TEST_CASE("gddr6x (rtx4090): streaming reads reach the data-bus peak of two x16 channels",
          "[dram][first-principles][bandwidth]") {
  check_gddr_stream("rtx4090");
}

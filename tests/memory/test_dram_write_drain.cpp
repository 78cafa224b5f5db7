// Write batching (write_drain) of the HBM controller: first-principles bandwidth of a mixed stream, the
// turnaround count it saves, and same-address correctness (forwarding, read-after-write and
// write-after-read order). Timings as in test_dram_timing.cpp: HBM3-6400 at a 1.6 GHz command clock,
//   tRCD 31, tRCD_WR 15, tCL 20, tCWL 10, tBURST 2, tWTR_S 7, tWTR_L 10, tRTW 20;
// peak = 16 channels x 32 B / tBURST x 1.6 GHz = 409.6 GB/s.
//
// The bound for a mixed stream: every switch to writes and back costs the data bus
//   read -> write: tRTW + tCWL - tCL - tBURST = 8 cycles (last read data to first write data) and
//   write -> read: tWTR_L + tCL = 30 cycles (end of write data to first read data, same bank group worst),
// 38 cycles per batch. A batch drains at least (high - low) writes: it starts with more than
// write_high_watermark x write_queue_depth queued and ends when fewer than write_low_watermark x depth
// remain; with equal read and write traffic about as many reads run between batches. So the data bus
// is busy at least 2 B tBURST / (2 B tBURST + 38) of the time, B = the batch size.
#include <catch2/catch.hpp>

#include "arch/memory/dram/hbm_controller.hpp"
#include "sim/clock_domain.hpp"
#include "tests/memory/test_dram_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

constexpr double kPeak = 16 * 32 / 2.0 * 1.6e9;  // B/s
constexpr double kTurnaroundPair = (20 + 10 - 20 - 2) + (10 + 20);  // 38 cycles, see above
constexpr std::uint64_t tRCD = 31, tRCD_WR = 15, tCL = 20, tCWL = 10, tBURST = 2, tWTR_L = 10, kLinks = 2;

/// Smallest batch of writes one drain moves: from above high x depth to below low x depth.
double min_batch(double depth, double high, double low) {
  const double enter = std::floor(high * depth) + 1, leave = std::ceil(low * depth) - 1;
  return enter - leave;
}

/// Lower bound on the data-bus share of a stream with equal reads and writes (see the file comment).
double mixed_stream_bound(double batch) { return 2 * batch * 2 / (2 * batch * 2 + kTurnaroundPair); }

/// A generator at 1.6 GHz that can issue 4 requests per cycle and one controller (write batching on unless
/// `mem_params` says otherwise), one-cycle links.
std::unique_ptr<Simulator> generator_and_hbm(const std::string& gen_params, std::string mem_params) {
  if (mem_params.find("write_drain") == std::string::npos) mem_params += ", write_drain: true";
  return build_yaml("clocks: {core: 1.6GHz, hbm: 1.6GHz}\n"
                    "components:\n"
                    "  gen: {kind: traffic_generator, clock: core, issue_width: 4, max_outstanding: 1024, " +
                    gen_params +
                    "}\n"
                    "  mem: {kind: hbm_controller, clock: hbm, refresh: false" +
                    mem_params +
                    "}\n"
                    "links:\n"
                    "  req:  {from: gen.req, to: mem.req, latency: 1cycles}\n"
                    "  resp: {from: mem.resp, to: gen.resp, latency: 1cycles}\n");
}

using Params = std::map<std::string, std::string>;

/// One controller (refresh off) and a scripted requester at 1.6 GHz.
class DrainRig {
 public:
  explicit DrainRig(const Params& params = {{"refresh", "false"}, {"write_drain", "true"}})
      : sim_(empty_simulator()), clock_(sim_->add_clock("hbm", 1'600'000'000)) {
    mem_ = &dynamic_cast<HbmController&>(add_component(*sim_, clock_, "mem", "hbm_controller", params));
  }
  std::uint64_t addr(std::uint32_t bg, std::uint32_t row, std::uint32_t col) const {
    return mem_->mapping().encode({0, bg, 0, row, col});
  }
  ScriptedRequester& run(std::vector<ScriptStep> steps) {
    ScriptedRequester& cpu = add_requester(*sim_, clock_, "cpu", std::move(steps));
    sim_->connect(cpu.req, *dynamic_cast<InPort<MemRequest>*>(mem_->find_port("req")), LinkParams{625, 0, 0});
    sim_->connect(*dynamic_cast<OutPort<MemResponse>*>(mem_->find_port("resp")), cpu.resp, LinkParams{625, 0, 0});
    REQUIRE(sim_->run().completed);
    return cpu;
  }
  double stat(const std::string& name) const { return test::stat(*sim_, "mem", name); }

 private:
  std::unique_ptr<Simulator> sim_;
  ClockDomain& clock_;
  HbmController* mem_ = nullptr;
};

ScriptStep op_at(MemOp op, std::uint64_t addr, std::uint32_t bytes, std::uint64_t at = 0) {
  return {op, addr, bytes, at, false};
}

}  // namespace

TEST_CASE("hbm write drain: a 50/50 read/write stream keeps the data bus busy but for one turnaround pair per batch",
          "[dram][first-principles][bandwidth][write-drain]") {
  // Sequential 128 B requests, half of them writes, a 128-burst write queue: batches of at least
  // 103 - 25 = 78 writes, bound 312 / (312 + 38) = 0.891 of the peak (less the pipeline fill); the
  // read-only stream reaches 0.995 (test_dram_bandwidth.cpp). Measured 0.903.
  auto sim = generator_and_hbm("requests: 100000, bytes: 128B, footprint: 1GiB, write_fraction: 0.5",
                               ", write_queue_depth: 128");
  REQUIRE(sim->run().completed);
  const double batch = min_batch(128, 0.8, 0.2);
  REQUIRE(batch == 78);
  const double bound = mixed_stream_bound(batch);
  const double bw = stat(*sim, "gen", "achieved_bandwidth");
  CHECK(bw >= kPeak * bound * 0.99);  // 1%: filling the pipeline at the start
  CHECK(bw <= kPeak);
  CHECK(stat(*sim, "mem", "bus_utilization") >= bound * 0.99);
  // Each batch turns the bus around twice; the batch count is bounded by the writes over the batch size
  // (plus each channel's last, possibly short, batch).
  const double write_bursts = stat(*sim, "mem", "bytes_written") / 32;
  CHECK(stat(*sim, "mem", "read_to_write_turnarounds") <= write_bursts / batch + 16);
  CHECK(stat(*sim, "mem", "write_drains") <= write_bursts / batch + 16);
}

TEST_CASE("hbm write drain: with the default 32-burst write queue the bound is 20-write batches",
          "[dram][first-principles][bandwidth][write-drain]") {
  // Ramulator 2's buffer size and watermarks: batches of at least 26 - 6 = 20 writes, bound
  // 80 / (80 + 38) = 0.678 of the peak; measured 0.728.
  auto sim = generator_and_hbm("requests: 60000, bytes: 128B, footprint: 1GiB, write_fraction: 0.5", "");
  REQUIRE(sim->run().completed);
  const double batch = min_batch(32, 0.8, 0.2);
  REQUIRE(batch == 20);
  CHECK(stat(*sim, "gen", "achieved_bandwidth") >= kPeak * mixed_stream_bound(batch) * 0.99);
  CHECK(stat(*sim, "mem", "write_drains") <= stat(*sim, "mem", "bytes_written") / 32 / batch + 16);
}

TEST_CASE("hbm write drain: random mixed traffic turns the bus around once per batch",
          "[dram][first-principles][write-drain]") {
  // 64 B random requests, half writes: every burst needs its own ACT, so which direction is ready next
  // is a coin toss. Batching bounds the turnarounds by the write bursts / 20 (default watermarks).
  auto sim = generator_and_hbm("requests: 40000, bytes: 64B, footprint: 1GiB, pattern: random, write_fraction: 0.5",
                               "");
  REQUIRE(sim->run().completed);
  const double write_bursts = stat(*sim, "mem", "bytes_written") / 32;
  CHECK(stat(*sim, "mem", "read_to_write_turnarounds") <= write_bursts / min_batch(32, 0.8, 0.2) + 16);
  CHECK(stat(*sim, "mem", "write_to_read_turnarounds") <= write_bursts / min_batch(32, 0.8, 0.2) + 16);
}

TEST_CASE("hbm write drain: without batching the same random traffic turns around more often than once per batch",
          "[dram][first-principles][write-drain]") {
  // The same traffic in one FR-FCFS pass (write_drain off): the oldest ready burst decides the direction,
  // so turnarounds follow the traffic mix: far more than one per 20 writes (measured one per ~10 bursts).
  auto sim = generator_and_hbm("requests: 40000, bytes: 64B, footprint: 1GiB, pattern: random, write_fraction: 0.5",
                               ", write_drain: false");
  REQUIRE(sim->run().completed);
  const double write_bursts = stat(*sim, "mem", "bytes_written") / 32;
  CHECK(stat(*sim, "mem", "read_to_write_turnarounds") > 1.5 * (write_bursts / min_batch(32, 0.8, 0.2) + 16));
  CHECK(stat(*sim, "mem", "write_drains") == 0);
}

TEST_CASE("hbm write drain: a read arriving with a write goes first, the write pays tRTW",
          "[dram][first-principles][write-drain]") {
  DrainRig rig;
  // Open row 0 in bank groups 0 and 1, then a write and a read (other columns of bank group 0) together.
  const auto& cpu = rig.run({op_at(MemOp::read, rig.addr(0, 0, 0), 32), op_at(MemOp::read, rig.addr(1, 0, 0), 32),
                             op_at(MemOp::write, rig.addr(0, 0, 1), 32, 200), op_at(MemOp::read, rig.addr(0, 0, 2), 32, 200)});
  CHECK(cpu.latency_cycles(3) == tCL + tBURST + kLinks);               // a row hit, served first
  CHECK(cpu.latency_cycles(2) == 20 /* tRTW */ + tCWL + tBURST + kLinks);  // after the read's tRTW
  CHECK(rig.stat("read_to_write_turnarounds") == 1);
  CHECK(rig.stat("write_to_read_turnarounds") == 0);
  CHECK(rig.stat("write_drains") == 1);
}

TEST_CASE("hbm write drain: a read behind a queued write covering its burst is forwarded", "[dram][write-drain]") {
  DrainRig rig;
  // Both arrive in the same cycle, the write first: the read takes the write's data from the write
  // queue, answered one cycle after arrival; only the write reaches the DRAM.
  const auto& cpu = rig.run({op_at(MemOp::write, rig.addr(2, 7, 3), 32), op_at(MemOp::read, rig.addr(2, 7, 3), 32)});
  CHECK(rig.stat("forwarded_reads") == 1);
  CHECK(rig.stat("bursts") == 1);
  CHECK(rig.stat("writes") == 1);
  CHECK(cpu.latency_cycles(1) == 1 + kLinks);
  CHECK(cpu.latency_cycles(0) == tRCD_WR + tCWL + tBURST + kLinks);  // the write to a closed bank
}

TEST_CASE("hbm write drain: a read behind a partial write to its burst waits for it (read after write)",
          "[dram][first-principles][write-drain]") {
  DrainRig rig;
  // 16 B of the burst are written: the read must see them, so it waits until the write's data has moved
  // (ACT, WR tRCD_WR later, data tCWL + tBURST later) plus tWTR_L, then reads the open row.
  const auto& cpu = rig.run({op_at(MemOp::write, rig.addr(2, 7, 3), 16), op_at(MemOp::read, rig.addr(2, 7, 3), 32)});
  CHECK(rig.stat("forwarded_reads") == 0);
  CHECK(cpu.latency_cycles(0) == tRCD_WR + tCWL + tBURST + kLinks);                            // 29
  CHECK(cpu.latency_cycles(1) == tRCD_WR + tCWL + tBURST + tWTR_L + tCL + tBURST + kLinks);    // 61
  CHECK(rig.stat("row_hits") == 1);
}

TEST_CASE("hbm write drain: a write never overtakes an older read to its address (write after read)",
          "[dram][write-drain]") {
  DrainRig rig;
  // A read of burst X, 26 writes elsewhere in the channel (more than the high watermark: write mode at
  // once), then a write to X, all in one cycle. The write to X waits for the read, which the channel
  // serves first (an unloaded miss) before draining the writes.
  std::vector<ScriptStep> steps{op_at(MemOp::read, rig.addr(5, 9, 4), 32)};
  for (std::uint32_t i = 0; i < 26; ++i) steps.push_back(op_at(MemOp::write, rig.addr(i % 4, 1, i / 4), 32));
  steps.push_back(op_at(MemOp::write, rig.addr(5, 9, 4), 32));
  const auto& cpu = rig.run(steps);
  CHECK(cpu.latency_cycles(0) == tRCD + tCL + tBURST + kLinks);
  CHECK(cpu.answered_at(27) > cpu.answered_at(0));
  CHECK(rig.stat("forwarded_reads") == 0);
  CHECK(rig.stat("writes") == 27);
}

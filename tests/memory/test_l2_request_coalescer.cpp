// The L2 request coalescer (memory.l2.request_coalescer, l2_slice.hpp; GH100's `lrc` unit): the core reads
// that one fill completes (merged into one miss) are answered with one data-array read, and the copies
// cross the crossbar as replicas that occupy only their own client port.
//
// Scenario (kSmallHierarchy): all 4 cores read the same 4 MiB (twice the L2) in lock-step, 16 MiB in all,
// so every line misses once and the other cores' reads of it merge into that miss. The slices' data arrays
// are 32 B/cycle: without the coalescer every read takes its own 4 cycles of one, at most 4 slices x 32 B x
// 1 GHz = 128 GB/s (measured 102 GB/s). With it the merged reads share one array read, and the bound is
// the crossbar's client ports: 2 x 64 B per partition, 256 GB/s (measured 171 GB/s).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "sim/text_util.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kSharedStream = {
    "workload.kind=stream", "workload.op=read", "workload.threads=1024", "workload.blocks_per_core=1",
    "workload.iterations=1000000", "workload.footprint=64MiB", "workload.access_bytes=8B", "workload.block_run=1",
    "workload.iteration_stride=1024", "workload.loads_in_flight=8", "workload.max_bytes=16MiB",
    "memory.l2.data_bytes_per_cycle=32B", "memory.l1.mshrs=256", "memory.l2.request_coalescer=true"};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("the L2 request coalescer answers the reads merged into one miss with one data-array read",
          "[l2][bandwidth]") {
  auto sim = build_spec(parse_spec(kSmallHierarchy, kSharedStream));
  REQUIRE(sim->run().completed);
  const double bandwidth = total_stat(*sim, "monitor", "bandwidth");
  const double reads = sum_over_slices(*sim, "reads");
  const double array_answers = sum_over_slices(*sim, "data_port_wait.count");  // answers that read the array
  const double coalesced = sum_over_slices(*sim, "coalesced_answers");
  const double replicated =
      total_stat(*sim, "xbar0", "replicated_responses") + total_stat(*sim, "xbar1", "replicated_responses");
  INFO(bandwidth / 1e9 << " GB/s; " << reads << " reads: " << array_answers << " answered by the array, "
                       << coalesced << " coalesced, " << replicated << " replicated");
  CHECK(total_stat(*sim, "monitor", "bytes") == 16.0 * (1 << 20));
  // Each line comes from DRAM once: 16 MiB read by 4 cores is 4 MiB of lines.
  CHECK(sum_over_slices(*sim, "dram_read_bytes") == 4.0 * (1 << 20));
  // Every read is answered once: by the array or as a replica, and every replica crosses as one. Only
  // reads merged into a miss coalesce (a partition's slices serve its 2 cores: at most every second read).
  CHECK(coalesced > 0.3 * reads);
  CHECK(coalesced <= 0.5 * reads);
  CHECK(coalesced <= sum_over_slices(*sim, "mshr_merges") + sum_over_slices(*sim, "replays"));
  CHECK(array_answers + coalesced == reads);
  CHECK(replicated == coalesced);
  // Past what the arrays can answer one read at a time, within the crossbar client ports.
  CHECK(bandwidth > 1.2 * 128e9);
  CHECK(bandwidth <= 256e9 * 1.001);
}

// Reads queued behind a lookup of their line (request_coalescer_queued): the 4 cores read the same 1 MiB
// (half the L2, 16 times the L1) in lock-step, 4 passes each, so after the first pass every read hits. A
// partition's 2 cores ask its slices for the same line at about the same time, and each slice looks up one
// request per cycle: the second read of a line waits in the input while the first is looked up. The
// coalescer merges it: it takes no lookup and no data-array read, and gets a replica of the first's answer.
namespace {
std::unique_ptr<Simulator> run_resident(bool queued) {
  std::vector<std::string> o = kSharedStream;
  o.push_back("workload.footprint=1MiB");
  o.push_back("memory.l2.data_bytes_per_cycle=64B");
  o.push_back(cat("memory.l2.request_coalescer_queued=", queued ? "true" : "false"));
  auto sim = build_spec(parse_spec(kSmallHierarchy, o));
  REQUIRE(sim->run().completed);
  return sim;
}
}  // namespace

TEST_CASE("the L2 request coalescer merges a read queued behind a lookup of its line", "[l2][bandwidth]") {
  auto sim = run_resident(true);
  const double reads = sum_over_slices(*sim, "reads");
  const double hits = sum_over_slices(*sim, "read_hits");
  const double array_answers = sum_over_slices(*sim, "data_port_wait.count");
  const double coalesced = sum_over_slices(*sim, "coalesced_answers");
  const double miss_side = sum_over_slices(*sim, "mshr_merges") + sum_over_slices(*sim, "replays");
  const double replicated =
      total_stat(*sim, "xbar0", "replicated_responses") + total_stat(*sim, "xbar1", "replicated_responses");
  INFO(reads << " reads, " << hits << " hits, " << array_answers << " answered by the array, " << coalesced
             << " coalesced (" << miss_side << " merged into misses); "
             << total_stat(*sim, "monitor", "bandwidth") / 1e9 << " GB/s");
  CHECK(total_stat(*sim, "monitor", "bytes") == 16.0 * (1 << 20));
  // Hits coalesce too: replicas well beyond the reads merged into misses, and every read answered once,
  // by the array or as a replica.
  CHECK(coalesced > miss_side + 0.2 * hits);
  CHECK(array_answers + coalesced == reads);
  CHECK(replicated == coalesced);
}

TEST_CASE("without merging queued reads the L2 request coalescer answers only reads merged into a miss",
          "[l2][bandwidth]") {
  auto sim = run_resident(false);
  const double reads = sum_over_slices(*sim, "reads");
  const double coalesced = sum_over_slices(*sim, "coalesced_answers");
  INFO(reads << " reads, " << coalesced << " coalesced; " << total_stat(*sim, "monitor", "bandwidth") / 1e9 << " GB/s");
  CHECK(coalesced <= sum_over_slices(*sim, "mshr_merges") + sum_over_slices(*sim, "replays"));
  CHECK(sum_over_slices(*sim, "data_port_wait.count") + coalesced == reads);
}

TEST_CASE("the L2 request coalescer: the same run in two processes gives byte-identical stats", "[l2][determinism]") {
  const std::string tag = std::to_string(::getpid());
  const fs::path config = fs::temp_directory_path() / ("tilesim_lrc_det_" + tag + ".yaml");
  {
    std::ofstream f(config);
    f << kSmallHierarchy;
  }
  std::string stats[2];
  for (int i = 0; i < 2; ++i) {
    const fs::path out = fs::temp_directory_path() / cat("tilesim_lrc_det_", tag, "_", i);
    fs::remove_all(out);
    std::string cmd = std::string(TILESIM_BINARY) + " run -q -c " + config.string() + " --set sim.heartbeat=0s";
    for (const auto& o : kSharedStream) cmd += " --set " + o;
    cmd += " -o " + out.string() + " > /dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    stats[i] = slurp(out / "stats.json");
    fs::remove_all(out);
  }
  fs::remove(config);
  CHECK(stats[0].find("coalesced_answers") != std::string::npos);
  CHECK(stats[0] == stats[1]);
}

// A read from every core merges into one miss (GH100/GB100 presets: memory.l2.mshr_targets 256 >= the SMs).
// 16 cores read the same 16 MiB (8 times the L2) in lock-step, so every line misses once and up to 8 cores
// of a partition, plus the other partition's forwarded read at the home slice, ask for it while it is in
// flight. With a target per asking core no read waits for a second lookup; with 2 targets the rest wait in
// replay slots (and, when those fill, at the head of the slice input), and the cores read less: measured
// 682 GB/s with 16 targets, 401 GB/s with 2 (the crossbar's 16 client ports allow 1024).
namespace {
std::unique_ptr<Simulator> run_sixteen_sharers(int targets) {
  std::vector<std::string> o = kSharedStream;
  o.push_back("chip.cores=16");
  o.push_back("chip.cores_per_group=16");
  o.push_back("workload.max_bytes=64MiB");
  o.push_back(cat("memory.l2.mshr_targets=", targets));
  auto sim = build_spec(parse_spec(kSmallHierarchy, o));
  REQUIRE(sim->run().completed);
  CHECK(total_stat(*sim, "monitor", "bytes") == 64.0 * (1 << 20));
  CHECK(sum_over_slices(*sim, "dram_read_bytes") == 4.0 * (1 << 20));  // each line from DRAM once
  return sim;
}
}  // namespace

TEST_CASE("with a target per core no read of a line shared by every core waits for a second lookup",
          "[l2][bandwidth]") {
  auto sim = run_sixteen_sharers(16);
  INFO(total_stat(*sim, "monitor", "bandwidth") / 1e9 << " GB/s, " << sum_over_slices(*sim, "replays") << " replays, "
                                                     << sum_over_slices(*sim, "stalls") << " stalls");
  CHECK(sum_over_slices(*sim, "replays") == 0);
  CHECK(sum_over_slices(*sim, "stalls") == 0);
  CHECK(total_stat(*sim, "monitor", "bandwidth") > 550e9);
  CHECK(total_stat(*sim, "monitor", "bandwidth") <= 1024e9);
}

TEST_CASE("with fewer targets than the cores sharing a line the rest wait for a second lookup", "[l2][bandwidth]") {
  auto sim = run_sixteen_sharers(2);
  INFO(total_stat(*sim, "monitor", "bandwidth") / 1e9 << " GB/s, " << sum_over_slices(*sim, "replays") << " replays, "
                                                     << sum_over_slices(*sim, "stalls") << " stalls");
  CHECK(sum_over_slices(*sim, "replays") > 0);
  CHECK(total_stat(*sim, "monitor", "bandwidth") < 500e9);
}

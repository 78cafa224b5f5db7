// The Chrome-trace timeline: the writer's events, window and clipping, and `tilesim run --trace` on the
// demo_memory preset (traffic generators and fixed-latency memories emit requests, slices and counters).
#include <cstdio>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>

#include "tests/common/command.hpp"
#include <nlohmann/json.hpp>

#include "sim/error.hpp"
#include "trace_test_util.hpp"
#include "traces/chrome_trace_writer.hpp"
#include "traces/kineto_json.hpp"

using namespace tilesim;
using namespace tilesim::traces;
using nlohmann::json;

namespace {

json load(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  return json::parse(in);
}

std::map<std::string, int> count_phases(const json& doc) {
  std::map<std::string, int> n;
  for (const auto& e : doc.at("traceEvents")) ++n[e.at("ph").get<std::string>()];
  return n;
}

/// Runs a shell command, returning its exit status and merged output.
int run(const std::string& cmd, std::string& output) {
  const tilesim::test::CommandResult r = tilesim::test::run_command(cmd);
  output = r.output;
  return r.code;
}

}  // namespace

TEST_CASE("trace window: cycles of the first clock or times, open ends, clear errors") {
  const TraceWindow cycles = parse_trace_window("1000:3000", 1e9);
  CHECK(cycles.begin == 1000000);  // 1000 cycles at 1 GHz = 1 us = 1e6 ps
  CHECK(cycles.end == 3000000);
  const TraceWindow times = parse_trace_window("2us:", 1e9);
  CHECK(times.begin == 2000000);
  CHECK(times.end == UINT64_MAX);
  CHECK(parse_trace_window(":500ns", 1e9).end == 500000);
  CHECK(parse_trace_window("", 1e9).begin == 0);
  CHECK_THROWS_WITH(parse_trace_window("100", 1e9), "--trace-window: expected A:B (cycles or times, e.g. 1000:5000 or 2us:4us), got '100'");
  CHECK_THROWS_WITH(parse_trace_window("5:1", 1e9), "--trace-window: the window ends before it begins ('5:1')");
  CHECK_THROWS_WITH(parse_trace_window("1:2fortnights", 1e9),
                    "--trace-window: '2fortnights' has unknown unit 'fortnights' (cycles as a plain number, or ps, ns, us, ms, s)");
  CHECK_THROWS_WITH(parse_trace_window("x:2", 1e9), "--trace-window: 'x' is not a cycle count or a time (e.g. 1000 or 5us)");
  CHECK(chrome_us(1234567) == "1.234567");
  CHECK(chrome_us(5) == "0.000005");
}

TEST_CASE("trace writer: tracks, slices, requests, counters and kernels, clipped to the window") {
  const auto dir = trace_test::temp_dir("writer");
  const std::string path = (dir / "t.json").string();
  {
    ChromeTraceWriter w(path, TraceWindow{1000, 9000});
    const int gen = w.track("requesters", "gen");
    const int mem = w.track("memory", "mem");
    CHECK(w.track("requesters", "gen") == gen);
    w.slice(mem, "transfer", 500, 2000, {{"bytes", 64}});   // clipped to start at 1000
    w.slice(mem, "transfer", 9500, 9800, {});                // outside: dropped
    w.async_begin(gen, "read", 1, 1500, {{"addr", 4096}});
    w.async_end(gen, "read", 1, 2500);
    w.async_begin(gen, "read", 2, 500, {});                  // begins before the window: dropped ...
    w.async_end(gen, "read", 2, 3000);                       // ... and so is its end
    w.async_begin(gen, "read", 3, 8000, {});                 // still in flight at the end: closed by finish()
    w.counter(gen, "in_flight", 1500, 1);
    w.counter(gen, "in_flight", 20000, 0);                   // outside: dropped
    w.kernel("k", 0, 5000);                                  // clipped to start at 1000
    CHECK(std::filesystem::exists(path + ".partial"));
    CHECK_FALSE(std::filesystem::exists(path));
    w.finish(10000);
  }
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));
  const json doc = load(path);
  const auto n = count_phases(doc);
  CHECK(n.at("X") == 2);  // one slice, one kernel
  CHECK(n.at("b") == 2);
  CHECK(n.at("e") == 2);
  CHECK(n.at("C") == 1);
  CHECK(doc.at("otherData").at("generator") == "tilesim");
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") == "M") continue;
    const double ts = e.at("ts").get<double>();
    CHECK(ts >= 0.001);  // 1000 ps = 0.001 us
    CHECK(ts <= 0.009);
    if (e.at("ph") == "X" && e.value("cat", "") == "kernel") {
      CHECK(e.at("name") == "k");
      CHECK(e.at("dur").get<double>() == Approx(0.004));
      CHECK(e.at("args").at("stream") == 0);
    }
    if (e.at("ph") == "e" && e.contains("args")) CHECK(e.at("args").at("still_in_flight") == 1);
  }
  bool named_gen = false;
  for (const auto& e : doc.at("traceEvents"))
    named_gen = named_gen || (e.at("ph") == "M" && e.at("name") == "thread_name" && e.at("args").at("name") == "gen");
  CHECK(named_gen);
  // The Kineto reader sees the simulated kernel, so simulated and measured timelines compare directly.
  const MeasuredTrace t = read_kineto_json(path);
  CHECK(t.format == "tilesim-trace");
  REQUIRE(t.kernels.size() == 1);
  CHECK(*t.kernels[0].duration_ns == Approx(4.0));
}

TEST_CASE("trace writer: a run that does not finish leaves no trace file") {
  const auto dir = trace_test::temp_dir("unfinished");
  const std::string path = (dir / "t.json").string();
  {
    ChromeTraceWriter w(path, TraceWindow{});
    w.kernel("k", 0, 10);
  }
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK_FALSE(std::filesystem::exists(path + ".partial"));
  CHECK_THROWS_WITH(ChromeTraceWriter("/nonexistent/dir/t.json", TraceWindow{}),
                    "trace: cannot write '/nonexistent/dir/t.json.partial'");
}

TEST_CASE("tilesim run --trace: the demo_memory run writes requests, bus slices, counters and kernels") {
  const auto dir = trace_test::temp_dir("run_trace");
  const std::string trace = (dir / "trace.json").string();
  std::string out;
  // 2000 cycles of the first clock (core, 1.83 GHz) = 1.093 us: the start of the stream kernel.
  REQUIRE(run(std::string(TILESIM_BINARY) + " run -p demo_memory -q -o " + (dir / "out").string() + " --trace " + trace +
                  " --trace-window 0:2000",
              out) == 0);
  const json doc = load(trace);
  const auto n = count_phases(doc);
  CHECK(n.at("b") > 100);           // in-flight requests of the stream generator
  CHECK(n.at("b") == n.at("e"));    // every request begun in the window is closed
  CHECK(n.at("C") > 10);            // in-flight occupancy and bus bandwidth counters
  CHECK(n.at("X") > 100);           // bus transfers on the memory track, plus the kernel
  CHECK(n.at("M") >= 6);            // process and thread names
  std::map<std::string, int> counters;
  bool kernel_seen = false;
  const double window_end_us = 2000 / 1.83e9 * 1e6;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") == "M") continue;
    CHECK(e.at("ts").get<double>() <= window_end_us + 1e-6);
    if (e.at("ph") == "C") ++counters[e.at("name").get<std::string>()];
    if (e.at("ph") == "X" && e.value("cat", "") == "kernel") {
      kernel_seen = true;
      CHECK(e.at("name") == "stream_read");
    }
  }
  CHECK(kernel_seen);
  CHECK(counters.count("stream.in_flight"));
  CHECK(counters.count("memory.bandwidth_GBps"));

  // Without a window the whole run is kept: both kernels appear.
  const std::string full = (dir / "full.json").string();
  REQUIRE(run(std::string(TILESIM_BINARY) + " run -p demo_memory -q --set components.stream.requests=2000 --trace " + full,
              out) == 0);
  const MeasuredTrace kernels = read_kineto_json(full);
  REQUIRE(kernels.kernels.size() == 2);
  CHECK(kernels.kernels[0].name == "stream_read");
  CHECK(kernels.kernels[1].name == "pointer_chase");

  CHECK(run(std::string(TILESIM_BINARY) + " run -p demo_memory -q --trace-window 0:10", out) == 2);
  CHECK(out.find("--trace-window needs --trace FILE") != std::string::npos);
}

// A TraceSink that writes Chrome trace JSON (the Trace Event Format), which Perfetto and chrome://tracing
// open: a process per track group and a thread per track (metadata events name them), complete events
// ("X") for slices and kernels (cat "kernel", args device/stream as Kineto writes them), nestable async
// events ("b"/"e", cat "request") for in-flight requests and counter events ("C"). Events stream to
// FILE.partial as they happen and the file is renamed into place by finish(), so memory stays flat and a
// failed run leaves no half-written trace. A window keeps big runs small: events outside it are dropped,
// slices crossing it are clipped, requests still in flight at its end are closed there.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "traces/trace_sink.hpp"

namespace tilesim::traces {

struct TraceWindow {
  TracePs begin = 0;
  TracePs end = UINT64_MAX;
};

/// Parse `A:B` (either side may be empty): integers are cycles of a clock of `clock_hz`, or times with a
/// unit (`5us`, `120ns`). "" = everything. Throws ConfigError naming `what` on malformed text or B < A.
TraceWindow parse_trace_window(const std::string& text, double clock_hz, const std::string& what = "--trace-window");

/// Chrome trace timestamps are microseconds; ps are written exactly with 6 decimals ("12.000345").
std::string chrome_us(TracePs ps);

class ChromeTraceWriter final : public TraceSink {
 public:
  /// Opens `path`.partial for writing; ConfigError when it cannot.
  ChromeTraceWriter(std::string path, TraceWindow window);
  ~ChromeTraceWriter() override;

  int track(const std::string& group, const std::string& name) override;
  bool in_window(TracePs t) const override { return t >= window_.begin && t <= window_.end; }
  void slice(int track, const std::string& name, TracePs begin, TracePs end, const TraceArgs& args) override;
  void async_begin(int track, const std::string& name, std::uint64_t id, TracePs t, const TraceArgs& args) override;
  void async_end(int track, const std::string& name, std::uint64_t id, TracePs t) override;
  void counter(int track, const std::string& name, TracePs t, double value) override;
  void kernel(const std::string& name, TracePs begin, TracePs end) override;

  /// Close requests still open (at min(window end, end_of_run)), write the names of processes and
  /// threads, and move the file into place.
  void finish(TracePs end_of_run);
  std::size_t events_written() const { return events_; }

 private:
  struct Track {
    int pid;
    int tid;
  };
  struct Open {
    int track;
    std::string name;
  };
  void begin_event(const char* ph, const std::string& name, const char* cat, int pid, int tid, TracePs ts);
  void end_event(const TraceArgs& args);
  std::string async_id(int track, std::uint64_t id) const;

  std::string path_;
  std::string partial_;
  TraceWindow window_;
  std::ofstream out_;
  bool finished_ = false;
  std::size_t events_ = 0;
  std::map<std::string, int> group_pid_;
  std::map<std::pair<std::string, std::string>, int> track_ids_;
  std::vector<Track> tracks_;
  std::vector<std::pair<std::string, std::string>> track_names_;  // (group, name) by track id
  std::map<std::string, Open> open_;  // async id -> open request (begun inside the window)
};

}  // namespace tilesim::traces

// The timeline interface components write to (DESIGN.md §8). The Simulator holds a nullable pointer
// (Simulator::trace()); a component fetches it in init() and, when it is not null, reports what it does:
// slices of work on its own track, in-flight requests as async begin/end pairs, counters (occupancy,
// bandwidth). Kernel scopes are reported by the Simulator itself. Times are simulated picoseconds.
// Header-only so that sim/ depends on the interface, not on a writer.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tilesim::traces {

using TracePs = std::uint64_t;  // simulated time in ps (tilesim::Tick)
using TraceArgs = std::vector<std::pair<std::string, double>>;

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  /// The track of one component or unit: thread `name` inside process `group` (e.g. "memory",
  /// "requesters"). The same (group, name) gives the same id.
  virtual int track(const std::string& group, const std::string& name) = 0;
  /// True when an event at `t` is inside the trace window (skip building names and args otherwise).
  virtual bool in_window(TracePs t) const = 0;
  /// Work done on a track from `begin` to `end`.
  virtual void slice(int track, const std::string& name, TracePs begin, TracePs end, const TraceArgs& args = {}) = 0;
  /// An in-flight request: begin at issue, end at completion, paired by (track, id).
  virtual void async_begin(int track, const std::string& name, std::uint64_t id, TracePs t, const TraceArgs& args = {}) = 0;
  virtual void async_end(int track, const std::string& name, std::uint64_t id, TracePs t) = 0;
  /// A sample of counter `name` (occupancy, bandwidth) of the track's component.
  virtual void counter(int track, const std::string& name, TracePs t, double value) = 0;
  /// A kernel scope, written Kineto style (cat "kernel") so that measured timelines line up.
  virtual void kernel(const std::string& name, TracePs begin, TracePs end) = 0;
};

}  // namespace tilesim::traces

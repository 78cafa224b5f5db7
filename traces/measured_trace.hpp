// The common output of every trace importer: the kernels a measured (or simulated) run executed.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tilesim::traces {

struct MetricValue {
  double value = 0;
  std::string unit;  // as the tool wrote it ("byte", "nsecond", "%", ...)
};

struct MeasuredKernel {
  std::string name;                   // as the tool names it (shortName for nsys)
  std::string full_name;              // the demangled signature when the tool records one, else ""
  std::optional<double> start_ns;     // on the trace's own time base; absent for ncu
  std::optional<double> duration_ns;  // absent when the tool did not record a duration
  std::string device;                 // device index or name as the tool wrote it ("" = unknown)
  std::optional<std::array<long long, 3>> grid;
  std::optional<std::array<long long, 3>> block;
  std::map<std::string, MetricValue> metrics;  // every other per-kernel metric the tool recorded
};

struct MeasuredTrace {
  std::string file;
  std::string format;  // "ncu-raw", "ncu-details", "nsys-sqlite", "kineto", "harness", "tilesim-trace", "tilesim-stats"
  std::vector<MeasuredKernel> kernels;         // in launch order (start time, else file order)
  std::map<std::string, std::string> devices;  // device id -> name, when the trace names them
};

/// The kernel's base name for matching: no return type, template arguments, parameters or namespace
/// ("void cutlass::gemm<128>(float*)" -> "gemm").
std::string kernel_base_name(const std::string& name);

/// Parse "(256, 1, 1)" / "[256,1,1]" / "256 1 1" into three dimensions; nullopt when malformed.
std::optional<std::array<long long, 3>> parse_dim3(const std::string& text);

/// A duration metric's value in nanoseconds by its unit ("nsecond", "ns", "usecond", "us", "msecond",
/// "ms", "second", "s"); nullopt for other units.
std::optional<double> duration_to_ns(double value, const std::string& unit);

/// A number as profilers print it: optional thousands separators ("1,215,000.5"); nullopt when not a
/// number ("n/a", "", text).
std::optional<double> parse_profiler_number(const std::string& text);

}  // namespace tilesim::traces

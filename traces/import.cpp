#include "traces/import.hpp"

#include <sstream>

#include "sim/error.hpp"
#include "traces/harness_json.hpp"
#include "traces/input_file.hpp"
#include "traces/json_input.hpp"
#include "traces/kineto_json.hpp"
#include "traces/ncu_csv.hpp"
#include "traces/nsys_sqlite.hpp"

namespace tilesim::traces {

const char* format_name(TraceFormat format) {
  switch (format) {
    case TraceFormat::reference_csv: return "reference CSV";
    case TraceFormat::ncu_csv: return "Nsight Compute CSV";
    case TraceFormat::nsys_sqlite: return "Nsight Systems SQLite export";
    case TraceFormat::chrome_json: return "Chrome/Kineto trace JSON";
    case TraceFormat::harness_json: return "CUDA harness JSON";
    case TraceFormat::tilesim_stats: return "tilesim stats.json";
    case TraceFormat::unknown: return "unknown format";
  }
  return "?";
}

TraceFormat detect_format(const std::string& path) {
  if (is_sqlite_file(path)) return TraceFormat::nsys_sqlite;
  const std::string head = peek_text(path, 1 << 18);
  const std::size_t first = head.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return TraceFormat::unknown;
  if (head[first] == '{') {
    if (head.find("\"traceEvents\"") != std::string::npos) return TraceFormat::chrome_json;
    if (head.find("\"tilesim-cuda-harness\"") != std::string::npos) return TraceFormat::harness_json;
    if (head.find("\"scopes\"") != std::string::npos && head.find("\"schema_version\"") != std::string::npos)
      return TraceFormat::tilesim_stats;
    return TraceFormat::unknown;
  }
  std::istringstream lines(head);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (is_ncu_header_line(line)) return TraceFormat::ncu_csv;
    if (line.rfind("==", 0) == 0 || line.empty()) continue;  // ncu preamble
    // The first other line: a reference CSV header, or application output before an ncu header.
    bool has_id = false, has_workload = false;
    std::istringstream fields(line);
    std::string f;
    while (std::getline(fields, f, ',')) {
      const auto b = f.find_first_not_of(" \t"), e = f.find_last_not_of(" \t");
      const std::string name = b == std::string::npos ? "" : f.substr(b, e - b + 1);
      has_id = has_id || name == "id";
      has_workload = has_workload || name == "workload";
    }
    if (has_id && has_workload) return TraceFormat::reference_csv;
  }
  return TraceFormat::unknown;
}

MeasuredTrace kernels_from_stats(const nlohmann::json& stats, const std::string& file) {
  if (!stats.is_object() || !stats.contains("scopes") || !stats["scopes"].is_array())
    throw InputError(cat(file, ": not a tilesim stats.json (no \"scopes\" array)"));
  MeasuredTrace t;
  t.file = file;
  t.format = "tilesim-stats";
  for (std::size_t i = 0; i < stats["scopes"].size(); ++i) {
    const auto& s = stats["scopes"][i];
    if (s.value("scope", "") != "kernel") continue;
    const std::string path = cat("scopes[", i, "]");
    MeasuredKernel k;
    k.name = json_string(s, "kernel", file, path);
    const double begin = json_number(s, "begin_ps", file, path), end = json_number(s, "end_ps", file, path);
    k.start_ns = begin / 1e3;
    k.duration_ns = (end - begin) / 1e3;
    t.kernels.push_back(std::move(k));
  }
  return t;
}

MeasuredTrace read_kernel_trace(const std::string& path) {
  const TraceFormat format = detect_format(path);
  switch (format) {
    case TraceFormat::ncu_csv: return read_ncu_csv(path);
    case TraceFormat::nsys_sqlite: return read_nsys_sqlite(path);
    case TraceFormat::chrome_json: return read_kineto_json(path);
    case TraceFormat::harness_json: return harness_kernels(read_harness_json(path));
    case TraceFormat::tilesim_stats: return kernels_from_stats(read_json_file(path), path);
    case TraceFormat::reference_csv:
      throw InputError(cat(path, ": a reference CSV holds measured figures, not kernel timings (use `tilesim validate`)"));
    case TraceFormat::unknown: break;
  }
  throw InputError(cat(path, ": unrecognised format; expected an Nsight Compute CSV, an Nsight Systems SQLite export, "
                       "a Kineto/Chrome trace JSON(.gz), a CUDA harness JSON or a tilesim stats.json"));
}

}  // namespace tilesim::traces

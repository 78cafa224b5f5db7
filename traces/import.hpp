// Format detection by content (not by extension) and one entry point for every kernel-trace format.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "traces/measured_trace.hpp"

namespace tilesim::traces {

enum class TraceFormat {
  reference_csv,  // ../shared/reference schema (measured cases, read by validation/)
  ncu_csv,        // Nsight Compute --csv, raw or details page
  nsys_sqlite,    // Nsight Systems SQLite export
  chrome_json,    // Kineto / Chrome trace JSON (also tilesim's own trace.json)
  harness_json,   // validation/cuda harness results
  tilesim_stats,  // tilesim stats.json
  unknown,
};

const char* format_name(TraceFormat format);

/// The file's format from its first bytes (gzip is looked through). InputError when it cannot be read.
TraceFormat detect_format(const std::string& path);

/// The kernels of any kernel-carrying format (ncu, nsys, Chrome/Kineto, harness, tilesim stats.json).
/// InputError for a reference CSV or an unknown format, naming what was found.
MeasuredTrace read_kernel_trace(const std::string& path);

/// The kernel scopes of a tilesim stats.json document (name, start, duration).
MeasuredTrace kernels_from_stats(const nlohmann::json& stats, const std::string& file);

}  // namespace tilesim::traces

// Run outputs (DESIGN.md §8): stats.json (hierarchical, with schema_version), long-form stats.csv
// (scope,kernel,component,name,value,unit), the human report, and atomic file writes so an interrupted
// run never leaves a file that looks complete.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "sim/simulator.hpp"

namespace tilesim {

inline constexpr int kStatsSchemaVersion = 1;

nlohmann::json stats_to_json(const StatsReport& report);
std::string stats_to_csv(const StatsReport& report);
/// The short human report: status, simulated time, clocks, then per component its report lines.
std::string render_report(const StatsReport& report, const RunInfo& info, const Simulator& sim,
                          const std::string& title);
/// Write `content` to `path` through a temporary file and a rename.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace tilesim

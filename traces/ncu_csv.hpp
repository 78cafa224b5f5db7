// Nsight Compute CSV (`ncu --csv ...`) in both forms, told apart by the header:
//  - details (long) form, `--page details` (the default): one row per metric, columns "ID", "Kernel Name",
//    "Block Size", "Grid Size", "Device", "Section Name", "Metric Name", "Metric Unit", "Metric Value";
//  - raw (wide) form, `--page raw`: one row per kernel launch, a column per metric, and a units row right
//    after the header (empty under the launch columns).
// `==PROF==`/`==WARNING==`/`==ERROR==` lines and the application's own output before the header are
// skipped. The kernel duration comes from gpu__time_duration.sum (raw) or "Duration" (details).
#pragma once

#include <istream>
#include <string>

#include "traces/measured_trace.hpp"

namespace tilesim::traces {

/// Read an ncu CSV file (format "ncu-raw" or "ncu-details"). Throws InputError `file:line:col: ...`.
MeasuredTrace read_ncu_csv(const std::string& path);
MeasuredTrace read_ncu_csv(std::istream& in, const std::string& name);

/// True when `line` is an ncu CSV header line (starts with "ID","Process ID" or ID,Process ID).
bool is_ncu_header_line(const std::string& line);

}  // namespace tilesim::traces

// Nsight Systems SQLite export (`nsys export --type sqlite report.nsys-rep`): kernels from
// CUPTI_ACTIVITY_KIND_KERNEL (start, end in ns; deviceId; gridX..Z, blockX..Z; shortName and
// demangledName are ids into StringIds(id, value)). Device names from TARGET_INFO_GPU(id, name) when present.
#pragma once

#include <string>

#include "traces/measured_trace.hpp"

namespace tilesim::traces {

/// Read the kernels of an nsys SQLite export, ordered by start time (format "nsys-sqlite").
/// Throws InputError naming the file, table and column of the first problem.
MeasuredTrace read_nsys_sqlite(const std::string& path);

/// True when the file starts with the SQLite header ("SQLite format 3").
bool is_sqlite_file(const std::string& path);

}  // namespace tilesim::traces

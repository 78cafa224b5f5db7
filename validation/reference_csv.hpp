// Reading reference CSV files (../shared/reference/SCHEMA.md) into ReferenceRows, by header name.
#pragma once

#include <istream>
#include <map>
#include <string>
#include <vector>

#include "validation/case_mapper.hpp"

namespace tilesim::validation {

/// Columns every reference CSV must have; the others of SCHEMA.md (device, clock_mhz, trust, source_url,
/// note) are read when present. Extra columns are ignored.
const std::vector<std::string>& required_reference_columns();

/// Read a whole reference CSV. Throws InputError `file:line:col: ...` for a missing column, a row with
/// the wrong number of fields, an empty or duplicate id, a value or clock_mhz that is not a number, or
/// params that are not `key=value;...`.
std::vector<ReferenceRow> read_reference_csv(const std::string& path);
std::vector<ReferenceRow> read_reference_csv(std::istream& in, const std::string& name);

/// Split `key=value;key=value` (blank items ignored, keys and values trimmed). `where` prefixes errors.
std::map<std::string, std::string> parse_params(const std::string& text, const std::string& where);

/// True when the file's first line is a reference CSV header (has the columns id and workload).
bool looks_like_reference_csv(const std::string& first_line);

}  // namespace tilesim::validation

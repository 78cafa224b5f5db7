// The CI gate on validation error (validation/README.md): a committed file records, per row id, the
// error the models had when it was written and a margin; a later validate fails when a recorded row's
// |error| grows beyond |recorded| + margin, or the row is no longer compared (not runnable, failed, or
// missing from the input).
#pragma once

#include <string>
#include <vector>

#include "validation/case_runs.hpp"

namespace tilesim::validation {

struct ExpectedError {
  std::string id;
  double error_pct = 0;  // signed, as recorded
  double margin = 0;     // percentage points of |error| allowed on top of |error_pct|
  int line = 0;
};

/// Read `id,error_pct,margin` (header by name; lines starting with # are comments). InputError
/// `file:line:col: ...` for a missing column, a non-number, a negative margin or a duplicate id.
std::vector<ExpectedError> read_expected_errors(const std::string& path);

/// Write the compared cases' errors with `margin` each (sorted by id), with a comment saying how to refresh.
void write_expected_errors(const std::string& path, const std::vector<CaseResult>& cases, double margin);

struct GateFinding {
  std::string id;
  bool regression = false;  // false: informational (improved, or not recorded)
  std::string message;
};

/// Compare results with the recorded errors. Regressions first, then notes.
std::vector<GateFinding> check_expected_errors(const std::vector<ExpectedError>& expected,
                                               const std::vector<CaseResult>& cases);

}  // namespace tilesim::validation

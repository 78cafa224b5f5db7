// Error statistics and the printed/written results of `tilesim validate`.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "validation/case_runs.hpp"

namespace tilesim::validation {

struct ErrorSummary {
  std::size_t count = 0;       // compared rows
  double mape = 0;             // mean |error|, %
  double median_abs = 0;       // median |error|, %
  double worst_abs = 0;        // max |error|, %
  std::string worst_id;
  std::optional<double> pearson_r;  // of log10(measured) vs log10(simulated); needs >= 3 positive pairs with spread
};

/// Statistics over the compared cases among `cases` (others are ignored).
ErrorSummary summarize(const std::vector<const CaseResult*>& cases);

/// Pearson correlation of two equally long series; nullopt for fewer than 3 points or zero variance.
std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y);

/// The per-row table grouped by workload (in order of first appearance), a summary line per workload and
/// overall, then every not-runnable and failed row with its reason.
void print_report(std::ostream& out, const std::vector<CaseResult>& cases);

/// validation.csv: id,preset,workload,metric,unit,measured,simulated,error_pct,status,reason (one row per case;
/// simulated and error_pct empty when the case was not compared).
void write_validation_csv(const std::string& path, const std::vector<CaseResult>& cases);

/// RFC 4180 quoting for one CSV field (quoted only when needed).
std::string csv_field(const std::string& text);

}  // namespace tilesim::validation

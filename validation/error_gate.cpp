#include "validation/error_gate.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>

#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "traces/csv_reader.hpp"
#include "traces/input_file.hpp"
#include "validation/error_report.hpp"

namespace tilesim::validation {
namespace {

double number_field(const std::string& file, const traces::CsvField& f, const char* column) {
  const std::string t(trim(f.text));
  errno = 0;
  char* end = nullptr;
  const double v = t.empty() ? 0 : std::strtod(t.c_str(), &end);
  if (t.empty() || errno || end != t.c_str() + t.size() || !std::isfinite(v))
    throw InputError(cat(traces::where(file, f), ": column '", column, "': '", f.text, "' is not a number"));
  return v;
}

}  // namespace

std::vector<ExpectedError> read_expected_errors(const std::string& path) {
  traces::InputFile file(path);
  traces::CsvReader reader(file.stream(), path, {"#"});
  traces::CsvRecord rec;
  if (!reader.next(rec)) throw InputError(cat(path, ":1:1: expected errors: the file is empty (expected the header id,error_pct,margin)"));
  const traces::CsvHeader header(rec, path);
  const std::size_t id = header.require("id", "expected errors"), err = header.require("error_pct", "expected errors"),
                    margin = header.require("margin", "expected errors");
  std::vector<ExpectedError> out;
  std::map<std::string, int> seen;
  while (reader.next(rec)) {
    if (rec.fields.size() != header.size())
      throw InputError(cat(path, ":", rec.line, ":1: row has ", rec.fields.size(), " fields, the header has ", header.size()));
    ExpectedError e;
    e.id = std::string(trim(rec.fields[id].text));
    e.line = rec.line;
    if (e.id.empty()) throw InputError(cat(traces::where(path, rec.fields[id]), ": column 'id' is empty"));
    if (!seen.emplace(e.id, rec.line).second)
      throw InputError(cat(traces::where(path, rec.fields[id]), ": duplicate id '", e.id, "' (first at line ", seen[e.id], ")"));
    e.error_pct = number_field(path, rec.fields[err], "error_pct");
    e.margin = number_field(path, rec.fields[margin], "margin");
    if (e.margin < 0) throw InputError(cat(traces::where(path, rec.fields[margin]), ": column 'margin': must not be negative"));
    out.push_back(std::move(e));
  }
  return out;
}

void write_expected_errors(const std::string& path, const std::vector<CaseResult>& cases, double margin) {
  std::vector<const CaseResult*> compared;
  for (const auto& c : cases)
    if (c.status == CaseStatus::compared) compared.push_back(&c);
  std::sort(compared.begin(), compared.end(), [](const CaseResult* a, const CaseResult* b) { return a->row.id < b->row.id; });
  std::ofstream out(path);
  if (!out) throw ConfigError(cat(path, ": cannot write"));
  out << "# Validation errors recorded for the CI gate (validation/README.md). A row fails the gate when its\n"
         "# |error| exceeds |error_pct| + margin, or when it is no longer compared. Regenerate with\n"
         "# `tilesim validate ... --write-expected THIS_FILE` after an intended model change.\n";
  out << "id,error_pct,margin\n";
  for (const auto* c : compared) out << csv_field(c->row.id) << "," << format_number(c->error_pct, 4) << "," << format_number(margin) << "\n";
  if (!out) throw ConfigError(cat(path, ": write failed"));
}

std::vector<GateFinding> check_expected_errors(const std::vector<ExpectedError>& expected,
                                               const std::vector<CaseResult>& cases) {
  std::map<std::string, const CaseResult*> by_id;
  for (const auto& c : cases) by_id[c.row.id] = &c;
  std::vector<GateFinding> regressions, notes;
  std::map<std::string, bool> recorded;
  for (const auto& e : expected) {
    recorded[e.id] = true;
    const auto it = by_id.find(e.id);
    const std::string rec = cat("recorded ", format_number(e.error_pct, 4), "% +- ", format_number(e.margin), " pp");
    if (it == by_id.end()) {
      regressions.push_back({e.id, true, cat("not among the validated rows (", rec, "); was it removed from the input or the subset?")});
      continue;
    }
    const CaseResult& c = *it->second;
    if (c.status != CaseStatus::compared) {
      regressions.push_back({e.id, true, cat("now ", case_status_name(c.status), " (", rec, "): ", c.reason)});
      continue;
    }
    const double now = std::fabs(c.error_pct), limit = std::fabs(e.error_pct) + e.margin;
    if (now > limit)
      regressions.push_back({e.id, true, cat("|error| grew to ", format_number(now, 4), "% (", rec, ", limit ",
                                            format_number(limit, 4), "%)")});
    else if (now < std::fabs(e.error_pct) - e.margin)
      notes.push_back({e.id, false, cat("|error| shrank to ", format_number(now, 4), "% (", rec,
                                       "); refresh the expected file to lock the improvement in")});
  }
  for (const auto& c : cases)
    if (c.status == CaseStatus::compared && !recorded.count(c.row.id))
      notes.push_back({c.row.id, false, cat("compared (error ", format_number(c.error_pct, 4), "%) but not recorded in the expected file")});
  regressions.insert(regressions.end(), notes.begin(), notes.end());
  return regressions;
}

}  // namespace tilesim::validation

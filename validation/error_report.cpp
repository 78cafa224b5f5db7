#include "validation/error_report.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>

#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim::validation {
namespace {

/// validation.csv's reason column for a compared row: the clock normalisation and the front end, if any.
std::string compared_note(const CaseResult& c) {
  std::string note = c.clock_note.empty() ? "" : "clock: " + c.clock_note;
  if (c.mapper.find(kCoreFrontEndSuffix) != std::string::npos)
    note += (note.empty() ? "" : "; ") + std::string("front end: core (a tile program on the preset's core model)");
  return note;
}

std::string pct(double v) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1) << v << "%";
  return os.str();
}

std::string signed_pct(double v) { return (v > 0 ? "+" : "") + pct(v); }

std::string pad(const std::string& s, std::size_t width, bool right = false) {
  if (s.size() >= width) return s;
  return right ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

std::string summary_line(const ErrorSummary& s) {
  if (s.count == 0) return "no compared rows";
  return cat("n=", s.count, "  MAPE ", pct(s.mape), "  median ", pct(s.median_abs), "  worst ", pct(s.worst_abs), " (",
             s.worst_id, ")  r ", s.pearson_r ? format_number(*s.pearson_r, 4) : std::string("n/a"));
}

}  // namespace

std::optional<double> pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = x.size();
  if (n < 3 || y.size() != n) return std::nullopt;  // two points always correlate perfectly
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return std::nullopt;
  return sxy / std::sqrt(sxx * syy);
}

ErrorSummary summarize(const std::vector<const CaseResult*>& cases) {
  ErrorSummary s;
  std::vector<double> abs_errors, log_measured, log_simulated;
  for (const CaseResult* c : cases) {
    if (c->status != CaseStatus::compared) continue;
    const double a = std::fabs(c->error_pct);
    abs_errors.push_back(a);
    if (a > s.worst_abs || s.worst_id.empty()) {
      s.worst_abs = a;
      s.worst_id = c->row.id;
    }
    if (c->row.value > 0 && *c->simulated > 0) {
      log_measured.push_back(std::log10(c->row.value));
      log_simulated.push_back(std::log10(*c->simulated));
    }
  }
  s.count = abs_errors.size();
  if (s.count == 0) return s;
  double sum = 0;
  for (double a : abs_errors) sum += a;
  s.mape = sum / static_cast<double>(s.count);
  std::sort(abs_errors.begin(), abs_errors.end());
  const std::size_t m = s.count / 2;
  s.median_abs = s.count % 2 ? abs_errors[m] : (abs_errors[m - 1] + abs_errors[m]) / 2;
  s.pearson_r = pearson(log_measured, log_simulated);
  return s;
}

void print_report(std::ostream& out, const std::vector<CaseResult>& cases) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const CaseResult*>> by_workload;
  for (const auto& c : cases) {
    if (!by_workload.count(c.row.workload)) order.push_back(c.row.workload);
    by_workload[c.row.workload].push_back(&c);
  }
  std::size_t id_width = 2, preset_width = 6, metric_width = 6, unit_width = 4;
  for (const auto& c : cases) {
    id_width = std::max(id_width, c.row.id.size());
    preset_width = std::max(preset_width, c.row.preset.size());
    metric_width = std::max(metric_width, c.row.metric.size());
    unit_width = std::max(unit_width, c.row.unit.size());
  }
  std::vector<const CaseResult*> all;
  for (const auto& workload : order) {
    const auto& group = by_workload[workload];
    std::size_t compared = 0;
    for (const auto* c : group) compared += c->status == CaseStatus::compared;
    out << "== " << workload << ": " << compared << " compared, " << group.size() - compared << " not compared ==\n";
    if (compared > 0) {
      out << "  " << pad("id", id_width) << "  " << pad("preset", preset_width) << "  " << pad("metric", metric_width)
          << "  " << pad("unit", unit_width) << pad("measured", 11, true) << pad("simulated", 11, true) << pad("error", 9, true) << "\n";
      for (const auto* c : group) {
        if (c->status != CaseStatus::compared) continue;
        out << "  " << pad(c->row.id, id_width) << "  " << pad(c->row.preset, preset_width) << "  "
            << pad(c->row.metric, metric_width) << "  " << pad(c->row.unit, unit_width)
            << pad(format_number(c->row.value, 5), 11, true)
            << pad(format_number(*c->simulated, 5), 11, true) << pad(signed_pct(c->error_pct), 9, true) << "\n";
        if (!c->clock_note.empty()) out << "  " << pad("", id_width) << "  clock: " << c->clock_note << "\n";
      }
    }
    out << "  summary: " << summary_line(summarize(group)) << "\n\n";
    all.insert(all.end(), group.begin(), group.end());
  }
  out << "== overall ==\n  " << summary_line(summarize(all)) << "\n";
  out << "  (r: Pearson correlation of log10 measured vs log10 simulated over the compared rows)\n";
  for (const CaseStatus status : {CaseStatus::not_runnable, CaseStatus::failed}) {
    std::size_t n = 0;
    for (const auto& c : cases) n += c.status == status;
    if (n == 0) continue;
    out << "\n== " << case_status_name(status) << ": " << n << " ==\n";
    for (const auto& c : cases)
      if (c.status == status) out << "  " << pad(c.row.id, id_width) << "  " << c.reason << "\n";
  }
  std::size_t compared = 0;
  for (const auto& c : cases) compared += c.status == CaseStatus::compared;
  out << "\nrows: " << cases.size() << " total, " << compared << " compared";
  for (const CaseStatus status : {CaseStatus::not_runnable, CaseStatus::failed}) {
    std::size_t n = 0;
    for (const auto& c : cases) n += c.status == status;
    out << ", " << n << " " << case_status_name(status);
  }
  out << "\n";
}

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

void write_validation_csv(const std::string& path, const std::vector<CaseResult>& cases) {
  std::ofstream out(path);
  if (!out) throw ConfigError(cat(path, ": cannot write"));
  out << "id,preset,workload,metric,unit,measured,simulated,error_pct,status,reason\n";
  for (const auto& c : cases) {
    const bool compared = c.status == CaseStatus::compared;
    out << csv_field(c.row.id) << "," << csv_field(c.row.preset) << "," << csv_field(c.row.workload) << ","
        << csv_field(c.row.metric) << "," << csv_field(c.row.unit) << "," << format_number(c.row.value, 8) << ","
        << (compared ? format_number(*c.simulated, 8) : "") << ","
        << (compared ? format_number(c.error_pct, 6) : "") << "," << csv_field(case_status_name(c.status)) << ","
        << csv_field(compared ? compared_note(c) : c.reason) << "\n";
  }
  if (!out) throw ConfigError(cat(path, ": write failed"));
}

}  // namespace tilesim::validation

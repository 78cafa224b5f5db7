#include "sim/output.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "sim/units.hpp"

namespace tilesim {

namespace {
nlohmann::json value_json(const StatValue& v) {
  nlohmann::json j;
  if (v.is_integer) j["value"] = static_cast<std::uint64_t>(v.value < 0 ? 0 : v.value);
  else j["value"] = v.value;
  j["unit"] = v.unit;
  j["desc"] = v.description;
  return j;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(const StatValue& v) {
  if (v.is_integer) return std::to_string(static_cast<long long>(v.value));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v.value);
  return buf;
}
}  // namespace

nlohmann::json stats_to_json(const StatsReport& report) {
  nlohmann::json j;
  j["schema_version"] = kStatsSchemaVersion;
  j["status"] = report.status;
  j["seed"] = report.seed;
  j["simulated_time"] = {{"value", report.simulated_ticks}, {"unit", "ps"}};
  nlohmann::json clocks = nlohmann::json::array();
  for (const auto& c : report.clocks)
    clocks.push_back({{"name", c.name}, {"frequency_hz", c.frequency_hz}, {"cycles", c.cycles}});
  j["clocks"] = clocks;
  nlohmann::json scopes = nlohmann::json::array();
  for (const auto& s : report.scopes) {
    nlohmann::json sj;
    sj["scope"] = s.scope;
    sj["kernel"] = s.kernel;
    sj["begin_ps"] = s.begin;
    sj["end_ps"] = s.end;
    nlohmann::json comps = nlohmann::json::array();
    for (const auto& c : s.components) {
      nlohmann::json cj;
      cj["name"] = c.name;
      cj["kind"] = c.kind;
      cj["clock"] = c.clock;
      nlohmann::json stats = nlohmann::json::object();
      for (const auto& v : c.values) stats[v.name] = value_json(v);
      cj["stats"] = stats;
      comps.push_back(cj);
    }
    sj["components"] = comps;
    scopes.push_back(sj);
  }
  j["scopes"] = scopes;
  return j;
}

std::string stats_to_csv(const StatsReport& report) {
  std::ostringstream os;
  os << "scope,kernel,component,name,value,unit\n";
  for (const auto& s : report.scopes)
    for (const auto& c : s.components)
      for (const auto& v : c.values)
        os << csv_field(s.scope) << ',' << csv_field(s.kernel) << ',' << csv_field(c.name) << ','
           << csv_field(v.name) << ',' << csv_number(v) << ',' << csv_field(v.unit) << '\n';
  return os.str();
}

std::string render_report(const StatsReport& report, const RunInfo& info, const Simulator& sim,
                          const std::string& title) {
  std::ostringstream os;
  os << "== " << title << " ==\n";
  os << "status: " << report.status
     << (report.status == "complete" ? "" : "  (stopped at sim.max_cycles with work left: numbers are partial)")
     << "\n";
  os << "simulated time: " << format_quantity(static_cast<double>(report.simulated_ticks) * 1e-12, UnitKind::time)
     << "\n";
  for (const auto& c : report.clocks)
    os << "clock " << c.name << " @ " << format_quantity(static_cast<double>(c.frequency_hz), UnitKind::frequency)
       << ": " << c.cycles << " cycles\n";
  // One section per component kind, in order of first appearance: a chip has hundreds of identical
  // units, so a kind with several instances is summarised (mean/min/max activity) and only its busiest
  // instance contributes its own report lines.
  const ScopeStats& total = report.scopes.front();
  std::vector<std::string> kinds;
  std::map<std::string, std::vector<const ComponentStats*>> by_kind;
  for (const auto& cs : total.components) {
    if (!by_kind.count(cs.kind)) kinds.push_back(cs.kind);
    by_kind[cs.kind].push_back(&cs);
  }
  auto active_fraction = [](const ComponentStats& cs) {
    const double cycles = cs.values[0].value, idle = cs.values[1].value;
    return cycles > 0 ? (cycles - idle) / cycles : 0.0;
  };
  for (const auto& kind : kinds) {
    const auto& group = by_kind[kind];
    const ComponentStats* busiest = group.front();
    const ComponentStats* idlest = group.front();
    double sum = 0;
    for (const auto* cs : group) {
      sum += active_fraction(*cs);
      if (active_fraction(*cs) > active_fraction(*busiest)) busiest = cs;
      if (active_fraction(*cs) < active_fraction(*idlest)) idlest = cs;
    }
    const double cycles = busiest->values[0].value;
    if (group.size() == 1) {
      os << "\n" << busiest->name << " (" << kind << ", clock " << busiest->clock << ")\n";
      os << "  ticked " << static_cast<std::uint64_t>(cycles - busiest->values[1].value) << " of "
         << static_cast<std::uint64_t>(cycles) << " cycles (" << format_number(100.0 * active_fraction(*busiest), 3)
         << "% active)\n";
    } else {
      os << "\n" << group.size() << " x " << kind << " (clock " << busiest->clock << "): active "
         << format_number(100.0 * sum / static_cast<double>(group.size()), 3) << "% of "
         << static_cast<std::uint64_t>(cycles) << " cycles on average, min "
         << format_number(100.0 * active_fraction(*idlest), 3) << "% (" << idlest->name << "), max "
         << format_number(100.0 * active_fraction(*busiest), 3) << "% (" << busiest->name << ")\n";
    }
    const auto lines = sim.component(busiest->name).report_lines(busiest->values);
    if (group.size() > 1 && !lines.empty()) os << "  busiest, " << busiest->name << ":\n";
    for (const auto& line : lines) os << (group.size() > 1 ? "    " : "  ") << line << "\n";
  }
  if (report.scopes.size() > 1) {
    os << "\nkernels:";
    for (std::size_t i = 1; i < report.scopes.size(); ++i) {
      const auto& k = report.scopes[i];
      os << "\n  " << k.kernel << ": "
         << format_quantity(static_cast<double>(k.end - k.begin) * 1e-12, UnitKind::time) << " (from "
         << format_quantity(static_cast<double>(k.begin) * 1e-12, UnitKind::time) << ")";
    }
    os << "\n";
  }
  const double rate = info.wall_seconds > 0 ? static_cast<double>(info.component_ticks) / info.wall_seconds : 0.0;
  os << "\nsimulator: " << format_number(info.wall_seconds, 3) << " s wall, " << info.component_ticks
     << " component ticks (" << format_number(rate, 3) << " ticks/s), " << info.domain_firings
     << " clock-domain edges\n";
  return os.str();
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".partial";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw ConfigError(cat("cannot write '", tmp, "'"));
    out << content;
    out.flush();
    if (!out) throw ConfigError(cat("failed writing '", tmp, "' (disk full?)"));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw ConfigError(cat("cannot rename '", tmp, "' to '", path, "': ", ec.message()));
}

}  // namespace tilesim

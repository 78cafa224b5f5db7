#include "validation/case_mapper.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "sim/units.hpp"

namespace tilesim::validation {
namespace {

std::string param_list(const ReferenceRow& row) {
  std::string out;
  for (const auto& [k, v] : row.params) out += (out.empty() ? "" : ", ") + k;
  return out.empty() ? "none" : out;
}

[[noreturn]] void bad_param(const ReferenceRow& row, const std::string& key, const std::string& why) {
  throw InputError(cat(row.location(), ": row ", row.id, ": param '", key, "' = '", row.param(key), "': ", why));
}

/// Parse a whole decimal number; nullopt when `text` is not exactly one number.
std::optional<double> parse_number(const std::string& text) {
  const std::string t(trim(text));
  if (t.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (errno != 0 || end != t.c_str() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

const nlohmann::json* find_scope(const nlohmann::json& stats, const std::string& kernel) {
  if (!stats.is_object() || !stats.contains("scopes") || !stats["scopes"].is_array()) return nullptr;
  for (const auto& scope : stats["scopes"]) {
    const std::string kind = scope.value("scope", "");
    if (kernel.empty() ? kind == "total" : (kind == "kernel" && scope.value("kernel", "") == kernel)) return &scope;
  }
  return nullptr;
}

}  // namespace

std::string ReferenceRow::location() const { return cat(file.empty() ? "<input>" : file, ":", line); }

const std::string& ReferenceRow::param(const std::string& key) const {
  const auto it = params.find(key);
  if (it == params.end())
    throw InputError(cat(location(), ": row ", id, ": missing param '", key, "' for workload ", workload,
                         " (params: ", param_list(*this), ")"));
  return it->second;
}

std::string ReferenceRow::param_or(const std::string& key, const std::string& fallback) const {
  const auto it = params.find(key);
  return it == params.end() ? fallback : it->second;
}

double ReferenceRow::param_bytes(const std::string& key) const {
  const std::string& text = param(key);
  if (const auto plain = parse_number(text)) {
    if (*plain < 0) bad_param(*this, key, "a size cannot be negative");
    return *plain;
  }
  try {
    return parse_quantity(text, UnitKind::size, key).value;
  } catch (const ConfigError& e) {
    bad_param(*this, key, cat("not a size (e.g. 4096, 15KiB, 2.8MiB, 1GiB): ", e.what()));
  }
}

double ReferenceRow::param_number(const std::string& key) const {
  const auto v = parse_number(param(key));
  if (!v) bad_param(*this, key, "not a number");
  return *v;
}

long long ReferenceRow::param_integer(const std::string& key) const {
  const double v = param_number(key);
  if (v < 0 || v != std::floor(v) || v > 9.0e15) bad_param(*this, key, "not a non-negative integer");
  return static_cast<long long>(v);
}

double ReferenceRow::param_fraction(const std::string& key) const {
  std::string text(trim(param(key)));
  if (!text.empty() && text.back() == '%') text.pop_back();
  const auto v = parse_number(text);
  if (!v || *v < 0 || *v > 100) bad_param(*this, key, "not a percentage between 0% and 100%");
  return *v / 100.0;
}

std::optional<double> stat_value(const nlohmann::json& stats, const std::string& component, const std::string& name,
                                 const std::string& kernel) {
  const nlohmann::json* scope = find_scope(stats, kernel);
  if (!scope || !scope->contains("components")) return std::nullopt;
  for (const auto& c : (*scope)["components"]) {
    if (c.value("name", "") != component || !c.contains("stats")) continue;
    const auto& s = c["stats"];
    if (!s.contains(name) || !s[name].contains("value") || !s[name]["value"].is_number()) return std::nullopt;
    return s[name]["value"].get<double>();
  }
  return std::nullopt;
}

std::optional<double> kernel_seconds(const nlohmann::json& stats, const std::string& kernel) {
  const nlohmann::json* scope = find_scope(stats, kernel);
  if (!scope || !scope->contains("begin_ps") || !scope->contains("end_ps")) return std::nullopt;
  return ((*scope)["end_ps"].get<double>() - (*scope)["begin_ps"].get<double>()) * 1e-12;
}

std::optional<double> clock_hz(const nlohmann::json& stats, const std::string& clock) {
  if (!stats.is_object() || !stats.contains("clocks")) return std::nullopt;
  for (const auto& c : stats["clocks"])
    if (c.value("name", "") == clock && c.contains("frequency_hz")) return c["frequency_hz"].get<double>();
  return std::nullopt;
}

std::optional<double> time_in_unit(double seconds, const std::string& unit, std::optional<double> clock) {
  if (unit == "ps") return seconds * 1e12;
  if (unit == "ns") return seconds * 1e9;
  if (unit == "us") return seconds * 1e6;
  if (unit == "ms") return seconds * 1e3;
  if (unit == "s") return seconds;
  if (unit == "cycles") {
    if (!clock) return std::nullopt;
    return seconds * *clock;
  }
  return std::nullopt;
}

std::optional<double> rate_in_unit(double per_second, const std::string& unit, std::optional<double> clock,
                                   std::optional<double> sms) {
  if (unit == "GB/s") return per_second / 1e9;
  if (unit == "TB/s") return per_second / 1e12;
  if (unit == "TFLOPS" || unit == "TOPS") return per_second / 1e12;
  const bool per_clock = unit == "B/clk" || unit == "FLOP/clk" || unit == "B/clk/SM" || unit == "FLOP/clk/SM";
  if (!per_clock || !clock || *clock <= 0) return std::nullopt;
  const double per_clk = per_second / *clock;
  if (unit == "B/clk" || unit == "FLOP/clk") return per_clk;
  if (!sms || *sms <= 0) return std::nullopt;
  return per_clk / *sms;
}

}  // namespace tilesim::validation

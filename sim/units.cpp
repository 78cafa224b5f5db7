#include "sim/units.hpp"

#include <cmath>
#include <cstdlib>
#include <vector>

#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim {
namespace {

struct UnitSymbol {
  const char* symbol;
  UnitKind kind;
  double scale;  // multiply to get the base unit
};

// Decimal prefixes for SI units and bytes (KB = 1000 B), binary for KiB/MiB/... (IEC).
const UnitSymbol kUnits[] = {
    {"Hz", UnitKind::frequency, 1.0},        {"kHz", UnitKind::frequency, 1e3},
    {"KHz", UnitKind::frequency, 1e3},       {"MHz", UnitKind::frequency, 1e6},
    {"GHz", UnitKind::frequency, 1e9},       {"THz", UnitKind::frequency, 1e12},
    {"B", UnitKind::size, 1.0},              {"kB", UnitKind::size, 1e3},
    {"KB", UnitKind::size, 1e3},             {"MB", UnitKind::size, 1e6},
    {"GB", UnitKind::size, 1e9},             {"TB", UnitKind::size, 1e12},
    {"KiB", UnitKind::size, 1024.0},         {"MiB", UnitKind::size, 1048576.0},
    {"GiB", UnitKind::size, 1073741824.0},   {"TiB", UnitKind::size, 1099511627776.0},
    {"B/s", UnitKind::bandwidth, 1.0},       {"kB/s", UnitKind::bandwidth, 1e3},
    {"KB/s", UnitKind::bandwidth, 1e3},      {"MB/s", UnitKind::bandwidth, 1e6},
    {"GB/s", UnitKind::bandwidth, 1e9},      {"TB/s", UnitKind::bandwidth, 1e12},
    {"KiB/s", UnitKind::bandwidth, 1024.0},  {"MiB/s", UnitKind::bandwidth, 1048576.0},
    {"GiB/s", UnitKind::bandwidth, 1073741824.0}, {"TiB/s", UnitKind::bandwidth, 1099511627776.0},
    {"ps", UnitKind::time, 1e-12},           {"ns", UnitKind::time, 1e-9},
    {"us", UnitKind::time, 1e-6},            {"ms", UnitKind::time, 1e-3},
    {"s", UnitKind::time, 1.0},              {"cycles", UnitKind::cycles, 1.0},
    {"cycle", UnitKind::cycles, 1.0},        {"clk", UnitKind::cycles, 1.0},
};

std::vector<std::string> all_symbols() {
  std::vector<std::string> out;
  for (const auto& u : kUnits) out.emplace_back(u.symbol);
  return out;
}

std::string context(std::string_view what) { return what.empty() ? std::string("value") : std::string(what); }

}  // namespace

const char* unit_kind_name(UnitKind kind) {
  switch (kind) {
    case UnitKind::none: return "number";
    case UnitKind::frequency: return "frequency";
    case UnitKind::size: return "size";
    case UnitKind::bandwidth: return "bandwidth";
    case UnitKind::time: return "time";
    case UnitKind::cycles: return "cycle count";
  }
  return "?";
}

const char* unit_kind_example(UnitKind kind) {
  switch (kind) {
    case UnitKind::none: return "4";
    case UnitKind::frequency: return "1.83GHz";
    case UnitKind::size: return "228KiB";
    case UnitKind::bandwidth: return "3.35TB/s";
    case UnitKind::time: return "20ns";
    case UnitKind::cycles: return "32";
  }
  return "?";
}

const char* unit_kind_base_symbol(UnitKind kind) {
  switch (kind) {
    case UnitKind::none: return "";
    case UnitKind::frequency: return "Hz";
    case UnitKind::size: return "B";
    case UnitKind::bandwidth: return "B/s";
    case UnitKind::time: return "s";
    case UnitKind::cycles: return "cycles";
  }
  return "";
}

Quantity parse_any_quantity(std::string_view raw, std::string_view what) {
  const std::string_view text = trim(raw);
  if (text.empty()) throw ConfigError(cat(context(what), ": empty value"));
  // Split at the first character that cannot continue a number.
  std::size_t i = 0;
  auto digit = [&](std::size_t k) { return k < text.size() && text[k] >= '0' && text[k] <= '9'; };
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
  const std::size_t mantissa_start = i;
  while (digit(i)) ++i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (digit(i)) ++i;
  }
  const bool has_digits = i > mantissa_start && !(i == mantissa_start + 1 && text[mantissa_start] == '.');
  if (!has_digits)
    throw ConfigError(cat(context(what), ": '", text, "' is not a number with an optional unit (e.g. ",
                          unit_kind_example(UnitKind::frequency), ", ", unit_kind_example(UnitKind::size), ")"));
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    std::size_t j = i + 1;
    if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
    if (digit(j)) {
      while (digit(j)) ++j;
      i = j;
    }
  }
  const std::string number(text.substr(0, i));
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size() || !std::isfinite(v))
    throw ConfigError(cat(context(what), ": cannot read '", text, "' as a number"));
  const std::string_view unit = trim(text.substr(i));
  if (unit.empty()) return {v, UnitKind::none};
  for (const auto& u : kUnits)
    if (unit == u.symbol) return {v * u.scale, u.kind};
  throw ConfigError(cat(context(what), ": unknown unit '", unit, "' in '", text, "'",
                        did_you_mean(unit, all_symbols())));
}

Quantity parse_quantity(std::string_view text, UnitKind expected, std::string_view what) {
  Quantity q = parse_any_quantity(text, what);
  if (q.kind == expected) return q;
  if (q.kind == UnitKind::none && (expected == UnitKind::cycles || expected == UnitKind::none)) {
    q.kind = expected;
    return q;
  }
  if (q.kind == UnitKind::none)
    throw ConfigError(cat(context(what), ": '", trim(text), "' needs a unit: a ", unit_kind_name(expected),
                          " such as ", unit_kind_example(expected)));
  throw ConfigError(cat(context(what), ": '", trim(text), "' is a ", unit_kind_name(q.kind), ", but a ",
                        unit_kind_name(expected), " is expected (e.g. ", unit_kind_example(expected), ")"));
}

namespace {
/// format_quantity with `digits` significant digits.
std::string format_quantity_digits(double value, UnitKind kind, int digits) {
  struct Step { double scale; const char* symbol; };
  static const Step freq[] = {{1e12, "THz"}, {1e9, "GHz"}, {1e6, "MHz"}, {1e3, "kHz"}, {1, "Hz"}};
  static const Step bw[] = {{1e12, "TB/s"}, {1e9, "GB/s"}, {1e6, "MB/s"}, {1e3, "kB/s"}, {1, "B/s"}};
  static const Step tm[] = {{1, "s"}, {1e-3, "ms"}, {1e-6, "us"}, {1e-9, "ns"}, {1e-12, "ps"}};
  static const Step sz[] = {{1099511627776.0, "TiB"}, {1073741824.0, "GiB"}, {1048576.0, "MiB"},
                            {1024.0, "KiB"}, {1, "B"}};
  auto pick = [&](const Step* steps, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k)
      if (std::fabs(value) >= steps[k].scale) return format_number(value / steps[k].scale, digits) + steps[k].symbol;
    return format_number(value / steps[n - 1].scale, digits) + steps[n - 1].symbol;
  };
  switch (kind) {
    case UnitKind::frequency: return pick(freq, 5);
    case UnitKind::bandwidth: return pick(bw, 5);
    case UnitKind::time: return pick(tm, 5);
    case UnitKind::size: return pick(sz, 5);
    case UnitKind::cycles: return format_number(value, digits) + "cycles";
    case UnitKind::none: return format_number(value, digits);
  }
  return format_number(value, digits);
}
}  // namespace

std::string format_quantity(double value, UnitKind kind) { return format_quantity_digits(value, kind, 6); }

std::string format_quantity_exact(double value, UnitKind kind) {
  // Sizes are whole bytes: the text must give back the same double (a fraction of a KiB may be exact, as
  // 2.0009765625MiB; else plain bytes). Other kinds: the same value up to the unit scaling's last bits.
  auto same = [&](const std::string& text) {
    const double back = parse_quantity(text, kind, "value").value;
    return kind == UnitKind::size ? back == value : std::fabs(back - value) <= 1e-12 * std::fabs(value);
  };
  const int most = kind == UnitKind::size ? 12 : 17;  // a size that needs more reads better as bytes
  for (int digits = 6; digits <= most; ++digits) {
    std::string text = format_quantity_digits(value, kind, digits);
    if (same(text)) return text;
  }
  if (kind == UnitKind::size && value >= 0 && value == std::floor(value) && value < 1.8e19)
    return std::to_string(static_cast<unsigned long long>(value)) + "B";
  return format_quantity_digits(value, kind, 17);
}

}  // namespace tilesim

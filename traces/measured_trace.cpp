#include "traces/measured_trace.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <algorithm>
#include <cstdlib>

namespace tilesim::traces {

std::string kernel_base_name(const std::string& name) {
  // Drop parameter list and template arguments (balanced <...>), then the return type and namespaces.
  std::string out;
  int angle = 0;
  for (char c : name) {
    if (c == '(' && angle == 0) break;
    if (c == '<') ++angle;
    if (angle == 0) out += c;
    if (c == '>' && angle > 0) --angle;
  }
  const std::size_t space = out.find_last_of(' ');
  if (space != std::string::npos) out = out.substr(space + 1);
  const std::size_t colons = out.rfind("::");
  if (colons != std::string::npos) out = out.substr(colons + 2);
  return out.empty() ? name : out;
}

std::optional<std::array<long long, 3>> parse_dim3(const std::string& text) {
  std::array<long long, 3> out{1, 1, 1};
  std::size_t n = 0, i = 0;
  const auto skip = [&] {
    while (i < text.size() && (std::isspace(static_cast<unsigned char>(text[i])) || text[i] == '(' ||
                               text[i] == ')' || text[i] == '[' || text[i] == ']' || text[i] == ','))
      ++i;
  };
  skip();
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i])) || n == 3) return std::nullopt;
    long long v = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) v = v * 10 + (text[i++] - '0');
    out[n++] = v;
    skip();
  }
  if (n == 0) return std::nullopt;
  return out;
}

std::optional<double> duration_to_ns(double value, const std::string& unit) {
  if (unit == "nsecond" || unit == "ns") return value;
  if (unit == "usecond" || unit == "us") return value * 1e3;
  if (unit == "msecond" || unit == "ms") return value * 1e6;
  if (unit == "second" || unit == "s") return value * 1e9;
  return std::nullopt;
}

std::optional<double> parse_profiler_number(const std::string& text) {
  std::string t;
  for (char c : text)
    if (!std::isspace(static_cast<unsigned char>(c))) t += c;
  // Thousands separators must group exactly three digits ("1,215,000.5"); anything else ("1,5") is not
  // a number we can read unambiguously.
  const std::size_t comma = t.find(',');
  if (comma != std::string::npos) {
    const std::size_t digits_start = (!t.empty() && (t[0] == '-' || t[0] == '+')) ? 1 : 0;
    const std::size_t int_end = std::min(t.find('.'), t.find_first_of("eE"));
    if (int_end != std::string::npos && t.find(',', int_end) != std::string::npos) return std::nullopt;
    const std::string integer = t.substr(digits_start, int_end == std::string::npos ? std::string::npos : int_end - digits_start);
    std::size_t group_start = 0;
    for (std::size_t g = 0;; ++g) {
      const std::size_t next = integer.find(',', group_start);
      const std::size_t len = (next == std::string::npos ? integer.size() : next) - group_start;
      if (g == 0 ? (len < 1 || len > 3) : len != 3) return std::nullopt;
      if (next == std::string::npos) break;
      group_start = next + 1;
    }
    std::string stripped;
    for (char c : t)
      if (c != ',') stripped += c;
    t = stripped;
  }
  if (t.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (errno != 0 || end != t.c_str() + t.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace tilesim::traces

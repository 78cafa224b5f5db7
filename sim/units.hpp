// Quantities with units, as written in configs and on the command line: `1.83GHz`, `228KiB`,
// `3.35TB/s`, `20ns`, `64B`, `4` (a plain count). Values are returned in SI base units
// (Hz, bytes, bytes per second, seconds).
#pragma once

#include <string>
#include <string_view>

namespace tilesim {

enum class UnitKind { none, frequency, size, bandwidth, time, cycles };

/// Human name of a unit kind ("frequency", "size", ...), and an example of a valid value.
const char* unit_kind_name(UnitKind kind);
const char* unit_kind_example(UnitKind kind);
/// The base unit symbol a value of this kind is stored in ("Hz", "B", "B/s", "s", "cycles", "").
const char* unit_kind_base_symbol(UnitKind kind);

struct Quantity {
  double value = 0;  // in the base unit of `kind`
  UnitKind kind = UnitKind::none;
};

/// Parse a quantity. `expected` constrains the unit: a bare number is accepted for `none` and `cycles`
/// and rejected for the others (a clock of "1830" is ambiguous), a unit of another kind is an error.
/// Throws ConfigError whose message names `what` (e.g. the config key) and shows a valid example.
Quantity parse_quantity(std::string_view text, UnitKind expected, std::string_view what);

/// Parse a quantity of any kind (the unit decides). Throws ConfigError on malformed text.
Quantity parse_any_quantity(std::string_view text, std::string_view what);

/// Render a value in its kind's most readable unit, e.g. 1.83e9 Hz -> "1.83GHz", 233472 B -> "228KiB".
std::string format_quantity(double value, UnitKind kind);

/// The same unit as format_quantity, with as many significant digits as it takes for the text to parse back
/// to `value` (sizes: to the same whole number of bytes): 2098176 B -> "2.0009765625MiB", not "2.00098MiB".
/// Parameter values travel between sections and components as text, so they must not lose precision.
std::string format_quantity_exact(double value, UnitKind kind);

}  // namespace tilesim

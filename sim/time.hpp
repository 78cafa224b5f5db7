// Simulated time. DESIGN.md §4: integer picoseconds (Tick) and typed cycles per clock domain;
// conversions between the two only go through a ClockDomain (sim/clock_domain.hpp).
#pragma once

#include <cstdint>
#include <limits>

namespace tilesim {

/// Absolute simulated time in integer picoseconds.
using Tick = std::uint64_t;
inline constexpr Tick kTickMax = std::numeric_limits<Tick>::max();
inline constexpr Tick kTicksPerSecond = 1'000'000'000'000ull;

/// A cycle count in one clock domain. A distinct type so cycles of two domains, or cycles and ticks,
/// are not mixed up by accident; arithmetic is explicit.
struct Cycle {
  std::uint64_t value = 0;

  constexpr Cycle() = default;
  constexpr explicit Cycle(std::uint64_t v) : value(v) {}
  constexpr Cycle operator+(std::uint64_t n) const { return Cycle(value + n); }
  constexpr std::uint64_t operator-(Cycle o) const { return value - o.value; }
  constexpr bool operator==(Cycle o) const { return value == o.value; }
  constexpr bool operator!=(Cycle o) const { return value != o.value; }
  constexpr bool operator<(Cycle o) const { return value < o.value; }
  constexpr bool operator<=(Cycle o) const { return value <= o.value; }
  constexpr bool operator>(Cycle o) const { return value > o.value; }
  constexpr bool operator>=(Cycle o) const { return value >= o.value; }
};

/// Seconds (double) to ticks, rounded to the nearest picosecond.
inline Tick seconds_to_ticks(double seconds) {
  return static_cast<Tick>(seconds * static_cast<double>(kTicksPerSecond) + 0.5);
}

}  // namespace tilesim

// A sectored, set-associative tag array with LRU replacement (DESIGN.md §6): lines of `line_bytes` split
// into sectors of `sector_bytes`, each sector with its own valid and dirty bit. Holds tags only (no data
// values). Shared by the L1-like cache and the L2 slices.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tilesim {

struct CacheGeometry {
  std::uint64_t size_bytes = 0;
  std::uint32_t line_bytes = 128;
  std::uint32_t sector_bytes = 32;
  std::uint32_t assoc = 1;
  bool hashed_sets = false;  // index sets by a hash of the line address (spreads strided and sliced streams)
};

/// Maps a line address to the number whose residue modulo the set count picks the set (default: the line
/// number). A sliced cache passes the line's index among the lines of its slice, so that consecutive lines
/// of a stream fill consecutive sets and evict in address order (write-backs keep DRAM row locality).
using SetKey = std::function<std::uint64_t(std::uint64_t line_addr)>;

class SectoredCacheArray {
 public:
  struct Line {
    std::uint64_t line_addr = 0;  // address of the line's first byte
    std::uint32_t valid = 0;      // sector bit masks
    std::uint32_t dirty = 0;
    std::uint64_t last_use = 0;
    bool present = false;
  };
  struct Victim {
    bool present = false;
    std::uint64_t line_addr = 0;
    std::uint32_t valid = 0;
    std::uint32_t dirty = 0;
  };

  /// Validates the geometry (sizes divide, at most 32 sectors per line); ConfigError naming `where`.
  SectoredCacheArray(const CacheGeometry& geometry, const std::string& where, SetKey set_key = nullptr);

  const CacheGeometry& geometry() const { return g_; }
  std::uint64_t sets() const { return sets_; }
  std::uint32_t sectors_per_line() const { return g_.line_bytes / g_.sector_bytes; }
  std::uint64_t line_of(std::uint64_t addr) const { return addr - addr % g_.line_bytes; }
  /// Sectors of the line touched by [addr, addr + bytes); the range must lie within one line.
  std::uint32_t sector_mask(std::uint64_t addr, std::uint32_t bytes) const;
  std::uint32_t full_mask() const { return sectors_per_line() == 32 ? ~0u : (1u << sectors_per_line()) - 1; }

  /// The line holding `line_addr`, or nullptr. Does not update LRU.
  Line* find(std::uint64_t line_addr);
  /// Mark a use (LRU).
  void touch(Line& line) { line.last_use = ++clock_; }
  /// Allocate `line_addr` (which must not be present): an invalid way, else the least recently used one.
  /// The evicted line, if any, is returned in `victim`. The new line has no valid sectors and is touched.
  Line& allocate(std::uint64_t line_addr, Victim& victim);
  /// Drop a line (e.g. an invalidation).
  void invalidate(Line& line) {
    tags_[static_cast<std::size_t>(&line - lines_.data())] = 0;
    line = Line{};
  }

  std::uint64_t present_lines() const;

 private:
  std::uint64_t set_of(std::uint64_t line_addr) const;

  CacheGeometry g_;
  SetKey set_key_;
  std::uint64_t sets_ = 0;
  std::vector<Line> lines_;          // sets_ x assoc
  std::vector<std::uint64_t> tags_;  // per way: line_addr + 1 when present, 0 when not (a compact copy to scan)
  std::uint64_t clock_ = 0;
};

/// Number of set bits.
inline int popcount32(std::uint32_t x) { return __builtin_popcount(x); }

/// Calls fn(first_sector, sector_count) for every maximal run of set bits in `mask` (sectors_per_line bits):
/// one downstream request per contiguous run, as both the L1 fill path and the L2 write-back path send.
template <class Fn>
void for_each_sector_run(std::uint32_t mask, std::uint32_t sectors_per_line, Fn&& fn) {
  for (std::uint32_t s = 0; s < sectors_per_line;) {
    if (!(mask >> s & 1u)) {
      ++s;
      continue;
    }
    std::uint32_t e = s;
    while (e + 1 < sectors_per_line && (mask >> (e + 1) & 1u)) ++e;
    fn(s, e - s + 1);
    s = e + 1;
  }
}

}  // namespace tilesim

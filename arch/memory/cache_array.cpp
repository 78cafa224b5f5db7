#include "arch/memory/cache_array.hpp"

#include "arch/memory/address_map.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

SectoredCacheArray::SectoredCacheArray(const CacheGeometry& g, const std::string& where, SetKey set_key)
    : g_(g), set_key_(std::move(set_key)) {
  auto fail = [&](const std::string& why) { throw ConfigError(cat(where, ": ", why)); };
  if (g.line_bytes == 0 || g.sector_bytes == 0 || g.assoc == 0) fail("line, sector and associativity must be non-zero");
  if (g.line_bytes % g.sector_bytes != 0)
    fail(cat("line size (", g.line_bytes, " B) must be a multiple of the sector size (", g.sector_bytes, " B)"));
  if (g.line_bytes / g.sector_bytes > 32) fail("at most 32 sectors per line");
  const std::uint64_t way_bytes = static_cast<std::uint64_t>(g.line_bytes) * g.assoc;
  if (g.size_bytes < way_bytes || g.size_bytes % way_bytes != 0)
    fail(cat("size (", g.size_bytes, " B) must be a positive multiple of line size x associativity (", way_bytes, " B)"));
  sets_ = g.size_bytes / way_bytes;
  lines_.resize(sets_ * g.assoc);
  tags_.assign(sets_ * g.assoc, 0);
}

std::uint32_t SectoredCacheArray::sector_mask(std::uint64_t addr, std::uint32_t bytes) const {
  const std::uint64_t offset = addr % g_.line_bytes;
  const std::uint64_t last = offset + (bytes == 0 ? 1 : bytes) - 1;
  if (last >= g_.line_bytes) return 0;  // crosses the line: the caller reports it
  std::uint32_t mask = 0;
  for (std::uint64_t s = offset / g_.sector_bytes; s <= last / g_.sector_bytes; ++s) mask |= 1u << s;
  return mask;
}

std::uint64_t SectoredCacheArray::set_of(std::uint64_t line_addr) const {
  const std::uint64_t line_no = set_key_ ? set_key_(line_addr) : line_addr / g_.line_bytes;
  return (g_.hashed_sets ? mix64(line_no ^ 0x9e3779b97f4a7c15ull) : line_no) % sets_;
}

SectoredCacheArray::Line* SectoredCacheArray::find(std::uint64_t line_addr) {
  const std::size_t base = set_of(line_addr) * g_.assoc;
  const std::uint64_t* tags = &tags_[base];
  for (std::uint32_t w = 0; w < g_.assoc; ++w)
    if (tags[w] == line_addr + 1) return &lines_[base + w];
  return nullptr;
}

SectoredCacheArray::Line& SectoredCacheArray::allocate(std::uint64_t line_addr, Victim& victim) {
  Line* set = &lines_[set_of(line_addr) * g_.assoc];
  Line* choice = nullptr;
  for (std::uint32_t w = 0; w < g_.assoc && !choice; ++w)
    if (!set[w].present) choice = &set[w];
  if (!choice) {
    choice = &set[0];
    for (std::uint32_t w = 1; w < g_.assoc; ++w)
      if (set[w].last_use < choice->last_use) choice = &set[w];
  }
  victim = Victim{choice->present, choice->line_addr, choice->valid, choice->dirty};
  *choice = Line{line_addr, 0, 0, 0, true};
  tags_[static_cast<std::size_t>(choice - lines_.data())] = line_addr + 1;
  touch(*choice);
  return *choice;
}

std::uint64_t SectoredCacheArray::present_lines() const {
  std::uint64_t n = 0;
  for (const auto& l : lines_) n += l.present ? 1 : 0;
  return n;
}

}  // namespace tilesim

#include "arch/memory/dram/address_mapping.hpp"

#include <algorithm>

#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim::dram {

namespace {
bool is_pow2(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }
unsigned log2u(std::uint64_t v) {
  unsigned n = 0;
  while (v > 1) v >>= 1, ++n;
  return n;
}
}  // namespace

std::uint32_t& AddressMapping::slot(DramCoord& c, Field f) {
  switch (f) {
    case Field::row: return c.row;
    case Field::bank: return c.bank;
    case Field::bank_group: return c.bank_group;
    case Field::channel: return c.channel;
    case Field::column: return c.column;
  }
  panic("unknown DRAM address field");
}

std::uint32_t AddressMapping::slot(const DramCoord& c, Field f) { return slot(const_cast<DramCoord&>(c), f); }

AddressMapping::AddressMapping(const std::string& order, const HbmOrganization& org, const std::string& key)
    : burst_bytes_(org.burst_bytes()) {
  struct Known {
    const char* token;
    Field field;
    std::uint32_t count;
  };
  const Known known[] = {{"ro", Field::row, org.rows},
                         {"ba", Field::bank, org.banks_per_group},
                         {"bg", Field::bank_group, org.bank_groups},
                         {"ch", Field::channel, org.channels},
                         {"co", Field::column, org.columns()}};
  std::vector<std::string> names;
  for (const auto& k : known) names.push_back(k.token);
  std::vector<bool> seen(5, false);
  const auto tokens = split(order, '-');
  for (auto it = tokens.rbegin(); it != tokens.rend(); ++it) {  // least significant first
    const std::string tok(trim(*it));
    std::size_t i = 0;
    while (i < 5 && tok != known[i].token) ++i;
    if (i == 5)
      throw ConfigError(cat(key, ": unknown field '", tok, "' in '", order, "'", did_you_mean(tok, names),
                            "; fields are ro (row), ba (bank), bg (bank group), ch (channel), co (column)"));
    if (seen[i]) throw ConfigError(cat(key, ": field '", tok, "' appears twice in '", order, "'"));
    seen[i] = true;
    digits_.push_back({known[i].field, known[i].count});
  }
  for (std::size_t i = 0; i < 5; ++i)
    if (!seen[i])
      throw ConfigError(cat(key, ": field '", known[i].token, "' is missing from '", order,
                            "' (all of ro, ba, bg, ch, co must appear once, most significant first)"));
  capacity_ = burst_bytes_;
  for (const auto& d : digits_) capacity_ *= d.count;
}

DramCoord AddressMapping::decode(std::uint64_t local_addr) const {
  DramCoord c;
  std::uint64_t rest = local_addr / burst_bytes_;
  for (const auto& d : digits_) {
    slot(c, d.field) = static_cast<std::uint32_t>(rest % d.count);
    rest /= d.count;
  }
  return c;
}

std::uint64_t AddressMapping::encode(const DramCoord& coord) const {
  std::uint64_t addr = 0;
  for (auto it = digits_.rbegin(); it != digits_.rend(); ++it) addr = addr * it->count + slot(coord, it->field);
  return addr * burst_bytes_;
}

std::string AddressMapping::describe() const {
  auto name = [](Field f) {
    switch (f) {
      case Field::row: return "row";
      case Field::bank: return "bank";
      case Field::bank_group: return "bank group";
      case Field::channel: return "channel";
      case Field::column: return "column";
    }
    return "?";
  };
  const bool bits = is_pow2(burst_bytes_) &&
                    std::all_of(digits_.begin(), digits_.end(), [](const Digit& d) { return is_pow2(d.count); });
  std::string out;
  unsigned lo = log2u(burst_bytes_);
  out = bits ? cat("[", lo - 1, ":0] offset") : cat("offset mod ", burst_bytes_);
  for (const auto& d : digits_) {
    if (bits) {
      const unsigned width = log2u(d.count);
      if (width == 0) {
        out += cat(" | ", name(d.field), " (1)");
        continue;
      }
      out += cat(" | [", lo + width - 1, ":", lo, "] ", name(d.field));
      lo += width;
    } else {
      out += cat(" | ", name(d.field), " mod ", d.count);
    }
  }
  return out;
}

}  // namespace tilesim::dram

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

AddressMapping::AddressMapping(const std::string& order, const HbmOrganization& org, const std::string& key,
                               bool xor_channel, bool xor_bank)
    : xor_channel_(xor_channel),
      xor_bank_(xor_bank),
      channels_(org.channels),
      banks_(org.banks_per_group),
      bank_groups_(org.bank_groups),
      columns_(org.columns()),
      burst_bytes_(org.burst_bytes()) {
  if (xor_channel && !is_pow2(org.channels))
    throw ConfigError(cat(key, ": the XOR channel hash needs a power-of-two channel count, not ", org.channels));
  if (xor_bank && !(is_pow2(org.bank_groups) && is_pow2(org.banks_per_group)))
    throw ConfigError(cat(key, ": the XOR bank hash needs power-of-two bank_groups and banks_per_group, not ",
                          org.bank_groups, " and ", org.banks_per_group));
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
  std::uint32_t low_columns = 1;  // product of the `coN` sub-digits below the main column digit
  const auto tokens = split(order, '-');
  for (auto it = tokens.rbegin(); it != tokens.rend(); ++it) {  // least significant first
    const std::string tok(trim(*it));
    // `coN`: the low N columns (N a power of two dividing the row's bursts) as a digit of their own, so
    // that a channel can change every N bursts while the rest of the column stays higher up.
    if (tok.size() > 2 && tok.compare(0, 2, "co") == 0 &&
        std::all_of(tok.begin() + 2, tok.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      const auto n = static_cast<std::uint32_t>(std::stoul(tok.substr(2)));
      if (seen[4]) throw ConfigError(cat(key, ": '", tok, "' must lie below 'co' in '", order, "'"));
      if (n < 2 || !is_pow2(n) || org.columns() % (static_cast<std::uint64_t>(low_columns) * n) != 0)
        throw ConfigError(cat(key, ": '", tok, "' needs a power of two >= 2 that divides the ", org.columns(),
                              " bursts of a row (with the other column sub-digits)"));
      digits_.push_back({Field::column, n, low_columns});
      low_columns *= n;
      continue;
    }
    std::size_t i = 0;
    while (i < 5 && tok != known[i].token) ++i;
    if (i == 5)
      throw ConfigError(cat(key, ": unknown field '", tok, "' in '", order, "'", did_you_mean(tok, names),
                            "; fields are ro (row), ba (bank), bg (bank group), ch (channel), co (column), "
                            "coN (the low N columns of a split column)"));
    if (seen[i]) throw ConfigError(cat(key, ": field '", tok, "' appears twice in '", order, "'"));
    seen[i] = true;
    if (known[i].field == Field::column)
      digits_.push_back({Field::column, known[i].count / low_columns, low_columns});
    else
      digits_.push_back({known[i].field, known[i].count});
  }
  for (std::size_t i = 0; i < 5; ++i)
    if (!seen[i])
      throw ConfigError(cat(key, ": field '", known[i].token, "' is missing from '", order,
                            "' (all of ro, ba, bg, ch, co must appear once, most significant first)"));
  capacity_ = burst_bytes_;
  for (const auto& d : digits_) capacity_ *= d.count;
}

std::uint32_t AddressMapping::channel_hash(const DramCoord& c) const {
  std::uint64_t v = static_cast<std::uint64_t>(c.row) * columns_ + c.column;
  const unsigned bits = log2u(channels_);
  std::uint32_t h = 0;
  if (bits == 0) return 0;
  for (; v; v >>= bits) h ^= static_cast<std::uint32_t>(v & (channels_ - 1));
  return h;
}

void AddressMapping::apply_hashes(DramCoord& c) const {
  // Each hash reads only digits the other leaves alone (row, column), so they commute and each is an involution.
  if (xor_channel_) c.channel ^= channel_hash(c);
  if (xor_bank_) {
    const unsigned bits = log2u(static_cast<std::uint64_t>(bank_groups_) * banks_);
    std::uint32_t h = 0;
    if (bits)
      for (std::uint64_t v = c.row; v; v >>= bits) h ^= static_cast<std::uint32_t>(v & ((1u << bits) - 1));
    c.bank_group ^= h % bank_groups_;
    c.bank ^= h / bank_groups_;
  }
}

DramCoord AddressMapping::decode(std::uint64_t local_addr) const {
  DramCoord c;
  std::uint64_t rest = local_addr / burst_bytes_;
  for (const auto& d : digits_) {
    slot(c, d.field) += static_cast<std::uint32_t>(rest % d.count) * d.scale;
    rest /= d.count;
  }
  apply_hashes(c);
  return c;
}

std::uint64_t AddressMapping::encode(const DramCoord& coord) const {
  DramCoord c = coord;
  apply_hashes(c);
  std::uint64_t addr = 0;
  for (auto it = digits_.rbegin(); it != digits_.rend(); ++it)
    addr = addr * it->count + slot(c, it->field) / it->scale % it->count;
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
  const bool split_column = std::count_if(digits_.begin(), digits_.end(),
                                          [](const Digit& d) { return d.field == Field::column; }) > 1;
  for (const auto& d : digits_) {
    const std::string label =
        split_column && d.field == Field::column ? cat("column ", d.scale == 1 ? "(low)" : "(high)") : name(d.field);
    if (bits) {
      const unsigned width = log2u(d.count);
      if (width == 0) {
        out += cat(" | ", label, " (1)");
        continue;
      }
      out += cat(" | [", lo + width - 1, ":", lo, "] ", label);
      lo += width;
    } else {
      out += cat(" | ", label, " mod ", d.count);
    }
  }
  if (xor_channel_) out += " (channel XOR fold of row and column)";
  if (xor_bank_) out += " (bank group and bank XOR fold of row)";
  return out;
}

}  // namespace tilesim::dram

// Address mapping of one HBM controller (README.md, "Address mapping").
//
// The controller sees controller-local byte addresses (ControllerInterleave below removes the bits that
// chose the controller). A local address is read as a mixed-radix number: the lowest digit is the byte
// offset within one burst (channel_width / 8 x burst_length bytes, 32 B for HBM3 and HBM2e), and the
// digits above it are the fields named by `address_mapping`, most significant first, each with as many
// values as the organisation has: ro = rows, ba = banks per group, bg = bank groups, ch = channels,
// co = columns (bursts per row). With power-of-two counts every digit is a bit field. The default
// "ro-ba-co-ch-bg" on the H100 defaults (32 B bursts, 8 bank groups, 16 channels, 32 columns,
// 4 banks, 16K rows) is:
//
//   bits [4:0] offset | [7:5] bank group | [11:8] channel | [16:12] column | [18:17] bank | [32:19] row
//
// so a sequential stream alternates bank groups burst by burst (tCCD_S, not tCCD_L, paces it), covers
// all channels every 4 KiB, and stays in one open row per bank group for 32 bursts per channel.
//
// Optional XOR hashing (`channel_hash: xor`): the channel digit is XORed with an XOR-fold of the row and
// column digits (permutation-based interleaving, Zhang, Zhu & Zhang, MICRO 2000; the same idea as the
// XOR channel/bank hashes of commodity memory controllers). Bursts that differ only in their channel digit
// still land on different channels, so streams keep their channel spread; strided streams whose
// channel digit never changes (a 2-D box of 1 KiB rows at a power-of-two pitch) are spread over all channels
// instead of camping on the few their low bits name. `bank_hash: xor` likewise XORs the bank-group and bank
// digits with an XOR-fold of the row digit, so that streams that meet in one bank with different rows
// (row conflicts) usually meet in different banks instead.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "arch/memory/dram/hbm_config.hpp"

namespace tilesim::dram {

/// Where one burst lives inside a controller.
struct DramCoord {
  std::uint32_t channel = 0;
  std::uint32_t bank_group = 0;
  std::uint32_t bank = 0;  // within its bank group
  std::uint32_t row = 0;
  std::uint32_t column = 0;  // in bursts
  bool operator==(const DramCoord& o) const {
    return channel == o.channel && bank_group == o.bank_group && bank == o.bank && row == o.row && column == o.column;
  }
};

class AddressMapping {
 public:
  /// Parse `order` (e.g. "ro-ba-co-ch-bg"); ConfigError naming `key` if a field is unknown, missing or
  /// repeated.
  AddressMapping(const std::string& order, const HbmOrganization& org, const std::string& key,
                 bool xor_channel = false, bool xor_bank = false);

  /// Bytes addressable by this controller (all digits' counts times the burst size).
  std::uint64_t capacity() const { return capacity_; }
  std::uint32_t burst_bytes() const { return burst_bytes_; }
  /// The coordinates of the burst holding `local_addr` (which must be below capacity()).
  DramCoord decode(std::uint64_t local_addr) const;
  /// The first byte address of the burst at `coord` (inverse of decode, for tests and tools).
  std::uint64_t encode(const DramCoord& coord) const;
  /// "[4:0] offset | [7:5] bank group | ..." (or "mod N" digits for non-power-of-two counts).
  std::string describe() const;

 private:
  enum class Field { row, bank, bank_group, channel, column };
  struct Digit {
    Field field;
    std::uint32_t count;
    std::uint32_t scale = 1;  // the digit's weight within its field (a split column: high digit x low count)
  };
  static std::uint32_t& slot(DramCoord& c, Field f);
  static std::uint32_t slot(const DramCoord& c, Field f);
  /// XOR-fold of the row and column digits to log2(channels) bits (the channel hash).
  std::uint32_t channel_hash(const DramCoord& c) const;
  /// Applies (or, being an involution, undoes) both hashes.
  void apply_hashes(DramCoord& c) const;

  std::vector<Digit> digits_;  // least significant first
  bool xor_channel_ = false, xor_bank_ = false;
  std::uint32_t channels_ = 1, banks_ = 1, bank_groups_ = 1, columns_ = 1;
  std::uint32_t burst_bytes_;
  std::uint64_t capacity_;
};

/// How global addresses are spread over `controllers` controllers in chunks of `granularity` bytes:
/// chunk k = addr / granularity goes to controller k mod controllers, and becomes that controller's
/// chunk k / controllers. Both the NoC (which routes by controller_of) and the controller (which sees
/// local_address) use this, so they agree. Any permutation of controllers within each group of
/// `controllers` consecutive chunks (e.g. an XOR hash of upper bits) keeps local_address valid.
struct ControllerInterleave {
  std::uint32_t controllers = 1;
  std::uint64_t granularity = 256;

  std::uint32_t controller_of(std::uint64_t global) const {
    return static_cast<std::uint32_t>((global / granularity) % controllers);
  }
  std::uint64_t local_address(std::uint64_t global) const {
    return (global / granularity / controllers) * granularity + global % granularity;
  }
  std::uint64_t global_address(std::uint32_t controller, std::uint64_t local) const {
    return ((local / granularity) * controllers + controller) * granularity + local % granularity;
  }
};

}  // namespace tilesim::dram

#include "arch/memory/probe/chase_order.hpp"

#include "arch/memory/address_map.hpp"
#include "sim/error.hpp"

namespace tilesim {

ChaseOrder::ChaseOrder(std::uint64_t n, bool random, std::uint64_t seed) : n_(n), random_(random) {
  if (n == 0) panic("ChaseOrder: empty chain");
  unsigned bits = 2;
  while (bits < 64 && (1ull << bits) < n) bits += 2;
  half_bits_ = bits / 2;
  half_mask_ = (1ull << half_bits_) - 1;
  for (int r = 0; r < 4; ++r) keys_[r] = mix64(seed * 4 + static_cast<std::uint64_t>(r) + 0x632be59bd9b4e019ull);
}

std::uint64_t ChaseOrder::permute(std::uint64_t x) const {
  std::uint64_t left = x >> half_bits_, right = x & half_mask_;
  for (const std::uint64_t key : keys_) {
    const std::uint64_t f = mix64(right ^ key) & half_mask_;
    const std::uint64_t next = left ^ f;
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

std::uint64_t ChaseOrder::at(std::uint64_t k) const {
  k %= n_;
  if (!random_) return k;
  std::uint64_t x = permute(k);
  while (x >= n_) x = permute(x);  // cycle-walking stays a bijection on [0, n)
  return x;
}

}  // namespace tilesim

// The visiting order of a pointer chase: element position k -> element index, a pseudo-random
// permutation of [0, n) computed on the fly (no table: a 1.7 GiB chase has 14 M elements). A 4-round
// Feistel network on the smallest even-bit power-of-two domain >= n, cycle-walking values >= n back into
// range, keyed by the seed: deterministic, a bijection, and cheap. Sequential order is the identity.
#pragma once

#include <cstdint>

namespace tilesim {

class ChaseOrder {
 public:
  ChaseOrder(std::uint64_t n, bool random, std::uint64_t seed);
  std::uint64_t size() const { return n_; }
  /// The element visited at position k (k taken modulo size()).
  std::uint64_t at(std::uint64_t k) const;

 private:
  std::uint64_t permute(std::uint64_t x) const;
  std::uint64_t n_;
  bool random_;
  unsigned half_bits_ = 1;
  std::uint64_t half_mask_ = 1;
  std::uint64_t keys_[4] = {};
};

}  // namespace tilesim

// Bandwidth of a port or link in bytes per cycle: messages serialise on it, fractions of a cycle carry
// over so that many small messages share a cycle (used by the crossbars, the partition fabric, the cluster
// network and the cache slices' data arrays).
#pragma once

#include <cstdint>

#include "arch/memory/request.hpp"

namespace tilesim {

/// Serialisation of messages on a port that carries `bytes_per_cycle`: a message of b bytes keeps it busy
/// for b / bytes_per_cycle cycles (fractions carry over to the next message, so many small messages share
/// a cycle). It starts at the cycle the port is free and leaves then (transfer is pipelined with the
/// latency that follows).
class PortTimer {
 public:
  explicit PortTimer(std::uint64_t bytes_per_cycle = 1) : width_(bytes_per_cycle == 0 ? 1 : bytes_per_cycle) {}
  /// Start cycle of a message of `bytes` that is ready at cycle `ready`.
  std::uint64_t reserve(std::uint64_t ready, std::uint64_t bytes) {
    const std::uint64_t ready_units = ready * width_;
    const std::uint64_t start = ready_units > free_ ? ready_units : free_;
    free_ = start + bytes;
    return start / width_;
  }
  /// First cycle in which a message may start (the port is free for part or all of it).
  std::uint64_t free_cycle() const { return free_ / width_; }
  /// Keep the port busy until at least cycle `cycle` (a message that cannot move on blocks those behind it).
  void hold_until(std::uint64_t cycle) {
    if (cycle * width_ > free_) free_ = cycle * width_;
  }

 private:
  std::uint64_t width_;
  std::uint64_t free_ = 0;  // in bytes of transfer time: cycle x width
};

/// Port bytes a message occupies: its data, or `header` bytes when it carries none (a read request, a
/// write acknowledgement), at least 1.
inline std::uint64_t message_bytes(std::uint64_t header, std::uint64_t payload) {
  return payload > 0 ? payload : (header > 0 ? header : 1);
}

/// Bytes of data a request carries towards memory (writes, atomics) and a response carries back (reads).
inline std::uint64_t request_payload(const MemRequest& r) { return r.op == MemOp::read ? 0 : r.bytes; }
inline std::uint64_t response_payload(const MemRequest& r) { return r.op == MemOp::write ? 0 : r.bytes; }

}  // namespace tilesim

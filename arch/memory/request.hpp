// Memory request/response messages shared by every core kind and memory model (DESIGN.md §6: the memory
// hierarchy's interfaces must not assume a GPU). A response carries its request unchanged, so routing
// fields added by any level (source, tag) come back to whoever set them.
#pragma once

#include <cstdint>

#include "sim/time.hpp"

namespace tilesim {

enum class MemOp : std::uint8_t { read, write, atomic };

/// Where an L2 read was answered, set by the slice that answers it (diagnostics only: nothing times on it;
/// the L1 does not pass it on, so reads through an L1 stay `unknown`).
///   l2:           an L2 hit (in this partition's slice or another partition's home slice);
///   l2_in_flight: merged into an L2 miss already in flight (MSHR target or replay), so it waited for a fill
///                 another request started;
///   memory:       its own L2 miss, filled from the memory controller.
enum class ServedBy : std::uint8_t { unknown, l2, l2_in_flight, memory };
inline const char* served_by_name(ServedBy s) {
  switch (s) {
    case ServedBy::l2: return "L2 hit";
    case ServedBy::l2_in_flight: return "merged into an L2 miss in flight";
    case ServedBy::memory: return "L2 miss to memory";
    case ServedBy::unknown: break;
  }
  return "not classified";
}

struct MemRequest {
  std::uint64_t id = 0;      // unique per requester; echoed in the response
  std::uint64_t addr = 0;    // byte address
  std::uint32_t bytes = 0;
  MemOp op = MemOp::read;
  ServedBy served = ServedBy::unknown;  // filled in on the way back (reads)
  std::uint32_t source = 0;  // requester index, for routing the response back through shared levels
  std::uint64_t tag = 0;     // opaque to everyone but the level that set it
  Tick issued = 0;           // when the original requester sent it (for latency accounting)

  bool is_write() const { return op == MemOp::write; }
};

struct MemResponse {
  MemRequest req;  // the request, as it arrived at the level that answers it
  /// A copy of a response that the answering level sent, in the same cycle, to another requester as well
  /// (the L2 request coalescer's replicated answer, l2_slice.hpp): a crossbar delivers it to its own
  /// destination port without carrying it through the source port again.
  bool replica = false;
  /// Nonzero on an answer that the coalescer sent to several requesters (the original and its replicas
  /// carry the same value, unique per answering slice): a crossbar offers the replicas once the original has
  /// passed its source port, since the replication happens in the switch.
  std::uint64_t answer = 0;
};

}  // namespace tilesim

// Memory request/response messages shared by every core kind and memory model (DESIGN.md §6: the memory
// hierarchy's interfaces must not assume a GPU). A response carries its request unchanged, so routing
// fields added by any level (source, tag) come back to whoever set them.
#pragma once

#include <cstdint>

#include "sim/time.hpp"

namespace tilesim {

enum class MemOp : std::uint8_t { read, write, atomic };

struct MemRequest {
  std::uint64_t id = 0;      // unique per requester; echoed in the response
  std::uint64_t addr = 0;    // byte address
  std::uint32_t bytes = 0;
  MemOp op = MemOp::read;
  std::uint32_t source = 0;  // requester index, for routing the response back through shared levels
  std::uint64_t tag = 0;     // opaque to everyone but the level that set it
  Tick issued = 0;           // when the original requester sent it (for latency accounting)

  bool is_write() const { return op == MemOp::write; }
};

struct MemResponse {
  MemRequest req;  // the request, as it arrived at the level that answers it
};

}  // namespace tilesim

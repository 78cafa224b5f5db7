// Memory request/response messages shared by every core kind and memory model (DESIGN.md §6: the memory
// hierarchy's interfaces must not assume a GPU).
#pragma once

#include <cstdint>

#include "sim/time.hpp"

namespace tilesim {

struct MemRequest {
  std::uint64_t id = 0;    // unique per requester; echoed in the response
  std::uint64_t addr = 0;  // byte address
  std::uint32_t bytes = 0;
  bool write = false;
  Tick issued = 0;         // when the requester sent it (for latency accounting)
};

struct MemResponse {
  std::uint64_t id = 0;
  std::uint64_t addr = 0;
  std::uint32_t bytes = 0;
  bool write = false;
  Tick issued = 0;
};

}  // namespace tilesim

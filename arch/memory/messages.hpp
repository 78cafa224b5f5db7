// Messages between cores and the memory hierarchy beyond plain loads/stores (arch/memory/request.hpp):
// scratchpad accesses with per-lane addresses (bank conflicts), copy-engine commands (TMA / DMA) and their
// completions. Core-kind neutral: a "core" has a scratch, an L1-like cache and a copy engine.
#pragma once

#include <cstdint>
#include <vector>

#include "arch/memory/request.hpp"
#include "sim/time.hpp"

namespace tilesim {

/// An access to a banked scratchpad (SMEM / VMEM). `req.addr` is a byte offset in the scratch (or in the
/// cluster window, for remote accesses through the cluster network). With no lanes it is one contiguous
/// block of `req.bytes`; with lanes it is a gather/scatter of `lane_bytes` at each lane address (the
/// bank-conflict degree comes from these).
struct ScratchRequest {
  MemRequest req;
  std::vector<std::uint32_t> lane_addr;
  std::uint32_t lane_bytes = 0;
};

enum class CopyDirection : std::uint8_t { to_scratch, from_scratch };

/// A copy-engine command: a box of `rows` rows of `row_bytes`, global rows `pitch` bytes apart, packed
/// densely in the scratch from `scratch_addr`. One row is a 1-D bulk copy.
struct CopyCommand {
  std::uint64_t id = 0;
  CopyDirection direction = CopyDirection::to_scratch;
  std::uint64_t global_addr = 0;
  std::uint32_t scratch_addr = 0;
  std::uint32_t rows = 1;
  std::uint32_t row_bytes = 0;
  std::uint64_t pitch = 0;
  Tick issued = 0;
  std::uint64_t bytes() const { return static_cast<std::uint64_t>(rows) * row_bytes; }
};

/// Completion of a CopyCommand (the mbarrier / semaphore signal), with the number of line requests the
/// engine made for it.
struct CopyDone {
  std::uint64_t id = 0;
  Tick issued = 0;
  std::uint64_t bytes = 0;
  std::uint32_t line_requests = 0;
};

}  // namespace tilesim

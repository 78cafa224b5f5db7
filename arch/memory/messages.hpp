// Messages between cores and the memory hierarchy beyond plain loads/stores (arch/memory/request.hpp):
// scratchpad accesses with per-lane addresses (bank conflicts), copy-engine commands (TMA / DMA) and their
// completions. Core-kind neutral: a "core" has a scratch, an L1-like cache and a copy engine.
#pragma once

#include <cstdint>
#include <functional>
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

/// Names one multicast box across the cores of a cluster: every core that shares the box gives its copy
/// the same key (the core kind derives it from the launch, the cluster and the box's place in the program).
struct MulticastKey {
  std::uint64_t cluster = 0;  // launch and cluster
  std::uint64_t box = 0;      // which box of the program (issuing group, sequence, box within the tile)
  bool operator==(const MulticastKey& o) const { return cluster == o.cluster && box == o.box; }
};
struct MulticastKeyHash {
  std::size_t operator()(const MulticastKey& k) const {
    return std::hash<std::uint64_t>()(k.cluster * 0x9E3779B97F4A7C15ull ^ k.box);
  }
};

/// A box loaded once for several cores (TMA multicast, sm_90 `.multicast::cluster`): each of the `cores`
/// issues the same box with the same `key`; the core at index `slice` fetches that share of the box's line
/// pieces and delivers them to the scratch of every core in `cores` (at the same scratch address), so a
/// core's copy completes when its whole box has landed: its own share plus every peer's.
struct CopyMulticast {
  MulticastKey key;
  std::vector<std::uint32_t> cores;  // every core sharing the box, in slice order (this core included)
  std::uint32_t slice = 0;           // this core's index in `cores`
};

/// A copy-engine command: a box of `rows` rows of `row_bytes`, global rows `pitch` bytes apart, packed
/// densely in the scratch from `scratch_addr`. One row is a 1-D bulk copy. With `multicast.cores` set (at
/// least two cores) it is one core's part of a multicast load (to_scratch only).
struct CopyCommand {
  std::uint64_t id = 0;
  CopyDirection direction = CopyDirection::to_scratch;
  std::uint64_t global_addr = 0;
  std::uint32_t scratch_addr = 0;
  std::uint32_t rows = 1;
  std::uint32_t row_bytes = 0;
  std::uint64_t pitch = 0;
  Tick issued = 0;
  CopyMulticast multicast;
  bool is_multicast() const { return multicast.cores.size() > 1; }
  std::uint64_t bytes() const { return static_cast<std::uint64_t>(rows) * row_bytes; }
};

/// One line piece of a multicast box on its way from the core that fetched it to a peer core's copy
/// engine, which writes it into its scratch and counts it towards its own copy of the box.
struct MulticastPiece {
  MulticastKey key;
  std::uint32_t from = 0, to = 0;   // source and destination cores
  std::uint64_t box_addr = 0;       // the box's global address at the source (peers must agree on it)
  std::uint32_t scratch_addr = 0;   // where the piece lands (the same scratch address on every core)
  std::uint32_t bytes = 0;
  Tick issued = 0;
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

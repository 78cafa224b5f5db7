// `probe_block_dispatcher`: the hardware block scheduler of a stream probe's grid. Every core starts with
// the first wave (block s x cores + core in its slot s, as the work distributor fills the SMs round robin);
// after that, each block that retires frees a slot, the core claims a block for it, and the dispatcher
// grants the next block of the grid in claim order (or none once the grid is handed out). So, as on the
// hardware, the blocks in flight are always the oldest ones not yet run — the cores cannot drift apart
// through the grid, and a fast core simply runs more blocks.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

/// A core asks for a block for its free slot `slot`.
struct BlockClaim {
  std::uint32_t core = 0;
  std::uint32_t slot = 0;
};

/// The answer: the block to run in `slot`, or none (the grid is handed out: the slot stays empty).
struct BlockGrant {
  std::uint32_t slot = 0;
  std::uint64_t block = 0;
  bool none = false;
};

class ProbeBlockDispatcher final : public Component {
 public:
  static ParamSchema param_schema();
  explicit ProbeBlockDispatcher(const ComponentContext& ctx);

  bool tick(Cycle now) override;
  std::string waiting_on() const override;

  InPort<BlockClaim> claims{*this, "claims", "BlockClaim"};
  std::vector<std::unique_ptr<OutPort<BlockGrant>>> grants;  // "grant0".."grantN-1", one per core

 private:
  const std::uint64_t blocks_;  // blocks the run simulates (the grid, or its prefix)
  std::uint64_t next_;          // next block to grant (the first after the initial wave)
  Counter& st_granted_;
};

}  // namespace tilesim

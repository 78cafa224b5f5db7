#include "arch/memory/probe/block_dispatcher.hpp"

#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<ProbeBlockDispatcher> kRegistration(
    "probe_block_dispatcher", "memory probe: hands a grid's blocks to the cores' free slots in order");
}

ParamSchema ProbeBlockDispatcher::param_schema() {
  ParamSchema s;
  s.integer("cores", 1, "cores (one grant port each)", 1, 1 << 20)
      .integer("blocks", 0, "blocks to hand out in all (the grid or its simulated prefix)", 0)
      .integer("first_block", 0, "the first block not in the initial wave (cores x blocks per core)", 0);
  return s;
}

ProbeBlockDispatcher::ProbeBlockDispatcher(const ComponentContext& ctx)
    : Component(ctx),
      blocks_(static_cast<std::uint64_t>(params().integer("blocks"))),
      next_(static_cast<std::uint64_t>(params().integer("first_block"))),
      st_granted_(stats().counter("granted", "", "blocks granted after the initial wave")) {
  const auto cores = static_cast<std::uint32_t>(params().integer("cores"));
  for (std::uint32_t c = 0; c < cores; ++c)
    grants.push_back(std::make_unique<OutPort<BlockGrant>>(*this, cat("grant", c), "BlockGrant"));
}

bool ProbeBlockDispatcher::tick(Cycle) {
  while (claims.ready()) {
    const BlockClaim c = claims.pop();
    if (c.core >= grants.size()) panic(name(), ": claim from core ", c.core, " of ", grants.size());
    BlockGrant g;
    g.slot = c.slot;
    if (next_ < blocks_) {
      g.block = next_++;
      ++st_granted_;
    } else {
      g.none = true;
    }
    grants[c.core]->send(g, Priority::request);  // unlimited link: a grant never waits
  }
  return false;  // claims wake us
}

std::string ProbeBlockDispatcher::waiting_on() const {
  return cat("block ", next_, " of ", blocks_, " next");
}

}  // namespace tilesim

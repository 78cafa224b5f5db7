// The stream probe's block dispatcher (arch/memory/probe/block_dispatcher.hpp): after the first wave,
// blocks go to the slots that claim them, in claim order and grid order, and a claim after the grid is
// handed out is told "none".
#include <catch2/catch.hpp>

#include "arch/memory/probe/block_dispatcher.hpp"
#include "tests/memory/test_hierarchy_support.hpp"

using namespace tilesim;
using namespace tilesim::test;

namespace {

/// Sends its scripted claims (core, slot) at the given cycles and records the grants it receives.
class Claimant final : public Component {
 public:
  struct Claim {
    std::uint64_t at;
    std::uint32_t slot;
  };
  Claimant(const ComponentContext& ctx, std::uint32_t core, std::vector<Claim> claims)
      : Component(ctx), core_(core), claims_(std::move(claims)) {}
  static ParamSchema param_schema() { return ParamSchema(); }
  void init() override {
    if (!claims_.empty()) wake_at(Cycle(claims_.front().at));
  }
  bool tick(Cycle now) override {
    while (grant.ready()) grants.push_back(grant.pop());
    while (next_ < claims_.size() && claims_[next_].at <= now.value) claim.send(BlockClaim{core_, claims_[next_++].slot});
    if (next_ < claims_.size()) wake_at(Cycle(claims_[next_].at));
    return false;
  }
  bool busy() const override { return grants.size() < claims_.size(); }

  OutPort<BlockClaim> claim{*this, "claim", "BlockClaim"};
  InPort<BlockGrant> grant{*this, "grant", "BlockGrant"};
  std::vector<BlockGrant> grants;

 private:
  const std::uint32_t core_;
  std::vector<Claim> claims_;
  std::size_t next_ = 0;
};

}  // namespace

TEST_CASE("the block dispatcher grants the grid's next block to each claim, in claim order", "[probe]") {
  // 3 cores, a first wave of 6 blocks (2 slots each), 10 blocks in all: blocks 6..9 remain. Core 2 claims
  // first, then core 0 twice, then core 1, then core 2 again: 6, 7, 8, 9 in that order, and the last
  // claim (nothing left) is told none.
  auto sim = bare_simulator();
  ClockDomain& clk = sim->add_clock("core", 1'000'000'000);
  auto& dispatcher = add<ProbeBlockDispatcher>(*sim, clk, "dispatcher", "probe_block_dispatcher",
                                               {{"cores", "3"}, {"blocks", "10"}, {"first_block", "6"}});
  const std::vector<std::vector<Claimant::Claim>> scripts = {{{5, 1}, {7, 0}}, {{9, 0}}, {{3, 1}, {20, 0}}};
  std::vector<Claimant*> cores;
  for (std::uint32_t c = 0; c < 3; ++c) {
    auto owner = std::make_unique<Claimant>(
        ComponentContext{cat("core", c), "test_claimant", ParamValues::resolve(ParamSchema(), {}, "c"), &clk, sim.get()},
        c, scripts[c]);
    cores.push_back(owner.get());
    sim->add(std::move(owner));
    sim->connect(cores.back()->claim, dispatcher.claims, LinkParams{1000, 0, 0});
    sim->connect(*dispatcher.grants[c], cores.back()->grant, LinkParams{1000, 0, 0});
  }
  REQUIRE(sim->run().completed);
  REQUIRE(cores[0]->grants.size() == 2);
  REQUIRE(cores[1]->grants.size() == 1);
  REQUIRE(cores[2]->grants.size() == 2);
  auto granted = [](const BlockGrant& g, std::uint32_t slot, std::uint64_t block) {
    return !g.none && g.slot == slot && g.block == block;
  };
  CHECK(granted(cores[2]->grants[0], 1, 6));
  CHECK(granted(cores[0]->grants[0], 1, 7));
  CHECK(granted(cores[0]->grants[1], 0, 8));
  CHECK(granted(cores[1]->grants[0], 0, 9));
  CHECK(cores[2]->grants[1].none);
  CHECK(cores[2]->grants[1].slot == 0);
  CHECK(total_stat(*sim, "dispatcher", "granted") == 4);
}

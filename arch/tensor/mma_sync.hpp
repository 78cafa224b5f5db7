// Warp-level MMA (mma.sync; also Volta's wmma with sync_m = sync_n = 16): each warp of the group computes
// a rectangle of the output tile on its own sub-partition's tensor core.
#pragma once

#include "arch/tensor/tensor_unit.hpp"

namespace tilesim::tensor {

/// The warp-level plan for `r` with the section's parameters (also used by wgmma for groups that are not
/// whole warp groups: Hopper still runs mma.sync, at sync_rate_fraction of its peak).
MmaPlan plan_mma_sync(const MmaRequest& r, const ParamValues& p, std::uint32_t sub_partitions);

/// How `warps` warps split an m x n output: warps along M and along N (wm * wn == warps), chosen to
/// minimise instructions per warp, then the squarest warp tile.
struct WarpGrid {
  std::uint32_t wm = 1, wn = 1;
};
WarpGrid split_warps(std::int64_t m, std::int64_t n, std::uint32_t warps, int inst_m, int inst_n);

class MmaSyncUnit final : public TensorUnit {
 public:
  explicit MmaSyncUnit(const TensorUnitContext& ctx) : params_(ctx.params), sub_partitions_(ctx.sub_partitions) {}
  MmaPlan plan(const MmaRequest& r) const override { return plan_mma_sync(r, params_, sub_partitions_); }
  double rate_per_sm(isa::DType in) const override { return section_rate(params_, in); }

 private:
  ParamValues params_;
  std::uint32_t sub_partitions_;
};

}  // namespace tilesim::tensor

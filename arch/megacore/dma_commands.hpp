// The DMA descriptors of a megacore tile copy (DESIGN.md §6, arch/megacore/): a tile of a global tensor
// becomes strided 2-D boxes in a row-major HBM layout, or runs of whole layout tiles in XLA's TPU tiled
// layout. Only the timing addresses depend on the layout; values live per tensor (core::FunctionalMemory).
#pragma once

#include <cstdint>
#include <vector>

#include "arch/core/launch.hpp"
#include "arch/memory/messages.hpp"

namespace tilesim::megacore {

/// How tensors are laid out in HBM (MegacoreParams::hbm_tile_rows/cols): row-major, or the last two dims
/// in contiguous tiles of rows x cols elements stored tile-row by tile-row (XLA's TPU tiled layout). Only the
/// timing addresses change; values live per tensor (core::FunctionalMemory).
struct HbmLayout {
  std::int64_t tile_rows = 0, tile_cols = 0;
  /// Tiled for this tensor: its last two dims are whole tiles (XLA pads the rest; we do not model padding).
  bool tiled(const core::GlobalBinding& t) const;
};

/// The DMA descriptors moving the tile at `coord` (tile `shape`, elements of `elem_bytes`) between `t` and VMEM
/// at `vmem_addr`: one strided 2-D box per outer index of the tile in a row-major layout, or per run of whole
/// layout tiles (one strided command when the box's columns are whole tiles). Parts outside the tensor are
/// not moved (edge tiles).
std::vector<CopyCommand> tile_commands(const core::GlobalBinding& t, const std::vector<std::int64_t>& coord,
                                       const std::vector<std::int64_t>& shape, std::uint32_t elem_bytes,
                                       std::uint64_t vmem_addr, CopyDirection dir, const HbmLayout& layout);

}  // namespace tilesim::megacore

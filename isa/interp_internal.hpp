// Internal pieces of the functional interpreter shared between its source files (not a public API).
#pragma once

#include <cstdint>

#include "isa/tile_kernels.hpp"
#include "isa/tile_value.hpp"

namespace tilesim::isa::interp {

/// mma with f32 operands (tile_kernels' mma does not take them): per C element, acc = C, then for k
/// ascending acc = round_f32(acc + a*b) with the exact product — an fma chain, as an FFMA-based GEMM
/// computes. With options.acc_mantissa_bits < 23 the narrowed-accumulator model of MmaOptions applies
/// (block sums in double). C must be f32. Throws SemanticError on bad shapes.
TileValue mma_f32_operands(const TileValue& c, const TileValue& a, const TileValue& b, const MmaOptions& options);

/// mma_scaled: C + (A * SA) . (B * SB), where SA[i][k / block] scales A[i][k] and SB[k / block][j]
/// scales B[k][j]. The scaled operands are exact (f8/f4 values times f8e4m3 scales), the products are
/// exact, and they accumulate into the f32 C like mma_f32_operands. Throws SemanticError on bad shapes.
TileValue mma_block_scaled(const TileValue& c, const TileValue& a, const TileValue& sa, const TileValue& b,
                           const TileValue& sb, int64_t block, const MmaOptions& options);

}  // namespace tilesim::isa::interp

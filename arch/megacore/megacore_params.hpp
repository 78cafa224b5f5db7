// Parameters of a megacore (the `core.megacore` section; DESIGN.md §6 arch/megacore/), read once into a
// plain struct. A megacore is one TPU-style TensorCore: a scalar unit that fetches VLIW bundles and issues
// every DMA, a vector unit (lanes x sublanes, ALU slots, vector load/store slots), a transpose/permute
// unit (XLU), a transcendental unit (EUP), `mxus` systolic arrays (systolic_array.hpp) with push/pop slots,
// VMEM (the memory hierarchy's per-core banked scratch) and a DMA engine (its copy engine).
// Every number in a preset carries its source there.
#pragma once

#include <cstdint>

#include "arch/megacore/bundler.hpp"
#include "arch/megacore/systolic_array.hpp"
#include "sim/params.hpp"

namespace tilesim::megacore {

struct MegacoreParams {
  // MXUs
  std::uint32_t mxus = 4;
  ArrayShape array;                       // rows x cols, dataflow
  std::uint32_t weight_buffers = 2;       // stationary-operand buffers per PE (2: double-buffered weights)
  std::uint32_t mxu_queue = 2;            // folds accepted by one MXU before a push stalls
  std::uint32_t mxu_push_latency = 1;     // push issue -> fold queued at the array
  std::uint32_t mxu_pop_latency = 1;      // pop issue -> result vreg usable
  std::uint32_t mxu_8bit_rate = 2;        // 8-bit (and 4-bit) K elements per PE per cycle vs 16-bit
  // vector unit
  std::uint32_t lanes = 128, sublanes = 8;
  std::uint32_t vpu_latency = 2;          // cycles from a vector op's issue to its result (ARCH.md)
  std::uint32_t eup_latency = 4;
  std::uint32_t eup_vregs_per_cycle = 1;
  std::uint32_t xlu_units = 1;
  std::uint32_t xlu_cycles_per_vreg = 1;
  std::uint32_t xlu_latency = 4;
  // scalar unit
  std::uint32_t scalar_latency = 1;
  // bundle
  SlotCounts slots;
  // grid steps
  std::uint32_t resident_programs = 2;    // grid steps resident on the core: the running one + the next
  bool prefetch_next_program = true;      // issue the next grid step's prologue DMAs under the current one
  std::uint32_t max_ii = 1u << 20;        // modulo scheduling gives up above this initiation interval
  // HBM array layout: the last two dims of a tensor are stored in tiles of hbm_tile_rows x hbm_tile_cols
  // elements, each tile contiguous, tiles row-major (XLA's TPU tiled layout); 0 = plain row-major.
  std::uint32_t hbm_tile_rows = 0, hbm_tile_cols = 0;

  /// Bytes of one vreg (sublanes x lanes x 32 bit).
  std::uint64_t vreg_bytes() const { return std::uint64_t(lanes) * sublanes * 4; }
};

/// Exclusive functional units of the bundler: MXU 0..mxus-1, then these.
struct UnitIndex {
  std::uint32_t mxus;
  std::uint32_t mxu(std::uint32_t k) const { return k; }
  std::uint32_t pop() const { return mxus; }      // MXU result path (pops of result vregs)
  std::uint32_t vpu() const { return mxus + 1; }  // vector ALUs with their load/store slots
  std::uint32_t xlu() const { return mxus + 2; }  // transpose / permute unit
  std::uint32_t eup() const { return mxus + 3; }  // transcendentals (exp, log, rsqrt, tanh, ...)
  std::uint32_t count() const { return mxus + 4; }
};

/// The `core.megacore` section.
ParamSchema megacore_schema();
/// Read and cross-check the section; ConfigError names the key.
MegacoreParams read_megacore_params(const ParamValues& v);

}  // namespace tilesim::megacore

// Values of a timed run (DESIGN.md §5: "a timed run may optionally carry values"). The SM's front end
// executes each tile op of a program, in program order, when it expands the op into warp instructions;
// this file computes the op's results from its operands with the ISA's reference tile kernels
// (isa/tile_kernels.hpp) — the same numerics the functional interpreter uses. Scalars are always
// computed (control flow needs them); tiles only when the run carries values.
//
// Scalars: `index` values are exact 64-bit integers; i32/f32/i1 scalars are rank-0 tiles of their dtype,
// so their arithmetic rounds and saturates exactly like tile arithmetic.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <vector>

#include "arch/core/launch.hpp"
#include "isa/ir.hpp"
#include "isa/tile_value.hpp"

namespace tilesim::simt {

/// A value of the program's environment.
struct RtValue {
  enum class Kind : std::uint8_t { none, scalar, tile };
  Kind kind = Kind::none;
  bool known = false;                           // scalars: the value is known; tiles: values carried
  double scalar = 0;                            // index (exact integer), i32, f32 or i1
  std::shared_ptr<const isa::TileValue> tile;   // when carrying values

  static RtValue unknown_scalar() { return {Kind::scalar, false, 0, nullptr}; }
  static RtValue scalar_of(double v) { return {Kind::scalar, true, v, nullptr}; }
  static RtValue tile_of(isa::TileValue t) {
    return {Kind::tile, true, 0, std::make_shared<const isa::TileValue>(std::move(t))};
  }
  static RtValue opaque_tile() { return {Kind::tile, false, 0, nullptr}; }
};

/// What an op may read besides its operands.
struct ProgramContext {
  const core::KernelLaunch* launch = nullptr;
  std::array<std::int64_t, 3> coord{};
  std::uint32_t cluster_rank = 0;
  std::int64_t role_instance = 0;
  bool carry_values = false;
};

/// Results of `op` (data results only; tokens are RtValue::none) given its operands. Ops with memory
/// effects (load/store/copy_async/atomic_add) read and write ctx.launch->values when carrying values.
/// Channel ops, control flow and cluster_load are the caller's (the walker's) business.
/// Throws InputError-free tilesim::Error with the op's line when an op cannot be evaluated.
std::vector<RtValue> evaluate_op(const isa::Kernel& kernel, const isa::Op& op, const std::vector<const RtValue*>& operands,
                                 const ProgramContext& ctx);

/// The tile coordinates an indexed memory op addresses (its index operands, which must be known).
std::vector<std::int64_t> tile_coords(const isa::Kernel& kernel, const isa::Op& op,
                                      const std::vector<const RtValue*>& operands);

}  // namespace tilesim::simt

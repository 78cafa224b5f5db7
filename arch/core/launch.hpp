// A kernel launch as the core models see it (DESIGN.md §6): one verified tile-ISA kernel bound to its
// arguments — scalar values, global tensors placed at device addresses — and an evaluated grid. The
// dispatcher hands out programs of a launch; every core reads the launch (read-only, shared) to run them.
//
// When a run carries values, the launch also owns the functional global memory: one TileValue per global
// parameter, read by loads and written by stores as the timed programs execute (the "functional path" of
// the timing model, like gem5's functional accesses; ordering between programs is the kernel's business:
// race-free kernels give the interpreter's result).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "isa/ir.hpp"
#include "isa/tile_kernels.hpp"
#include "isa/tile_value.hpp"

namespace tilesim::core {

/// A global tensor parameter placed in device memory: row-major, densely packed.
struct GlobalBinding {
  isa::ValueId param = isa::kNoValue;
  std::string name;
  isa::DType dtype = isa::DType::f32;
  std::vector<std::int64_t> shape;     // evaluated
  std::vector<std::int64_t> strides;   // row-major, in elements
  std::uint64_t base = 0;              // byte address
  std::uint64_t bytes() const;
  /// Bytes of one element in memory (sub-byte dtypes count as one byte per element here: f4e2m1 tensors
  /// are stored one element per byte by this model).
  std::uint32_t element_bytes() const;
};

/// Global memory holding real values (only when a run carries values).
class FunctionalMemory {
 public:
  /// The tensor of `param`, zero-filled, unless set_tensor() gave it contents.
  isa::TileValue& tensor(isa::ValueId param);
  const isa::TileValue& tensor(isa::ValueId param) const;
  void set_tensor(isa::ValueId param, isa::TileValue value);
  bool has(isa::ValueId param) const { return tensors_.count(param) != 0; }

 private:
  std::map<isa::ValueId, isa::TileValue> tensors_;
};

/// Reads the tile at tile coordinates `coord` (in units of `tile_shape`) of `tensor`; elements outside the
/// tensor read as 0 (docs/isa.md, "Tile coordinates").
isa::TileValue load_tile(const isa::TileValue& tensor, const std::vector<std::int64_t>& coord,
                         const std::vector<std::int64_t>& tile_shape, isa::DType tile_dtype);
/// Writes `tile` at tile coordinates `coord`; elements outside the tensor are dropped. With `add`, adds
/// element-wise instead (atomic_add), rounding to the tensor's dtype.
void store_tile(isa::TileValue& tensor, const std::vector<std::int64_t>& coord, const isa::TileValue& tile,
                bool add = false);

/// A kernel bound to its arguments.
struct KernelLaunch {
  std::string name;                                 // kernel-scope name in stats
  std::shared_ptr<const isa::Module> module;
  const isa::Kernel* kernel = nullptr;              // inside *module
  isa::SymbolValues symbols;                        // integer scalar parameters by name
  std::map<isa::ValueId, double> scalar_args;       // every scalar parameter (f32 ones too) by value id
  std::array<std::int64_t, 3> grid{1, 1, 1};        // programs per axis
  std::array<std::int64_t, 3> cluster{1, 1, 1};     // programs per cluster per axis
  std::vector<GlobalBinding> globals;
  std::shared_ptr<FunctionalMemory> values;         // null: timing only
  isa::MmaOptions mma;                              // accumulator numerics of mma when carrying values

  std::int64_t programs() const { return grid[0] * grid[1] * grid[2]; }
  std::int64_t cluster_size() const { return cluster[0] * cluster[1] * cluster[2]; }
  const GlobalBinding& global(isa::ValueId param) const;
  bool carries_values() const { return values != nullptr; }
};

/// Arguments for bind_launch: integer and real scalars by parameter name; global tensors are placed
/// one after another from `base_address`, each aligned to `alignment` bytes.
struct LaunchArgs {
  std::map<std::string, double> scalars;
  std::uint64_t base_address = 1ull << 32;
  std::uint64_t alignment = 1ull << 16;
  bool carry_values = false;
  /// Initial contents of global tensors by parameter name (needs carry_values); others start at zero.
  std::map<std::string, isa::TileValue> inputs;
  isa::MmaOptions mma;  // accumulator model (the workload's interpreter options)
};

/// Bind `kernel_name` of `module` to `args`: evaluate the grid, cluster and tensor shapes. Throws
/// ConfigError naming the missing scalar, a non-positive grid or a cluster that does not tile the grid.
KernelLaunch bind_launch(std::shared_ptr<const isa::Module> module, const std::string& kernel_name,
                         const LaunchArgs& args, const std::string& scope_name = "");

/// program_id per axis of linear program `index`; axis 0 varies fastest (CUDA's blockIdx.x order).
std::array<std::int64_t, 3> program_coord(const KernelLaunch& launch, std::int64_t index);

}  // namespace tilesim::core

// Lowering of tile ops to warp instructions for a SIMT SM (DESIGN.md §6).
//
// Warp groups. A kernel without roles runs its body on one group of `resources(warps=...)` warps
// (default 4). A kernel with roles runs one group per role instance (`role consumer x2 warps=4` is two
// groups of 4 warps): warp specialisation. Warps of a program are numbered group by group, in role order;
// a warp's sub-partition is its SM-wide warp slot modulo the number of sub-partitions.
//
// Work split. A tile of E elements held in registers by a group of T = 32*warps threads gives each thread
// e = ceil(E / T) elements; an element-wise op is e instructions per warp on the matching pipe (packed
// 16-bit ops do two elements per instruction). Memory tiles move in vectors of core.sm.vector_bytes per
// thread: ceil(bytes / (vector_bytes * T)) instructions per warp. Transcendentals become MUFU sequences
// (table in simt_lowering.cpp). Reductions combine in-thread, then across the threads sharing an output
// element with shuffles (and through scratch when more than a warp shares it); tiles produced by an mma
// keep the mma accumulator layout (a row spread over the 4 threads of a quad). Views (reshape, subtile,
// broadcast, transpose of a scratch tile) cost nothing; an mma's tensor instructions come from the
// tensor unit (arch/tensor). Scalars run on the uniform datapath.
//
// Registers per thread: core.sm.base_registers plus the largest sum, over program points, of the
// live register/accumulator tiles' per-thread registers (loop-carried values live through their loop), or
// the role's / kernel's `registers=` hint when given.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "arch/core/lowering.hpp"
#include "arch/simt/micro_op.hpp"
#include "arch/simt/simt_params.hpp"
#include "arch/tensor/tensor_unit.hpp"

namespace tilesim::simt {

/// One warp-instruction bundle of a lowered op (instantiated per program at run time as a MicroOp).
struct MicroStep {
  MicroKind kind = MicroKind::compute;
  Unit unit = Unit::uniform;
  std::uint32_t count = 1;
  std::uint32_t latency = 1;
  double interval = 1;
  bool elementwise = false;  // its results appear progressively (consumers may stream behind it)
  bool streams = false;      // it consumes its inputs progressively (may start behind a streaming producer)
  bool leader_only = false;
  bool group_wide = false;
  std::uint32_t shared_bytes = 0;
  std::uint32_t chains = 1;  // wgmma: independent accumulator blocks per warp group (dependent chains)
  bool accumulate_in_pipe = false;  // tcgen05: accumulator chaining at the interval (tensor memory)
};

/// What one tile op becomes for each warp of its group. Steps run in order, each after the previous
/// (the first after the op's operands and `after` tokens).
struct OpLowering {
  std::vector<MicroStep> steps;
  std::int32_t acquire_channel = -1;  // copy_async/put into a channel stage: acquire the stage first
  bool reads_scratch = false;         // it reads scratch tiles (its micro-op becomes one of their readers)
  double flops = 0;                   // mma flops of the whole op (for statistics)
  std::string instruction;            // the tensor instruction, for mma ops
  std::uint32_t operand_loads_a = 0;  // mma.sync: ldmatrix per warp for A and for B (scratch operands)
  std::uint32_t operand_loads_b = 0;
};

/// A warp group of a program.
struct GroupSpec {
  std::string role;            // "" without roles
  std::int32_t role_index = -1;
  std::int64_t instance = 0;   // role_instance
  std::uint32_t warps = 4;
  std::uint32_t first_warp = 0;
  std::uint32_t registers_per_thread = 32;
  const isa::Block* body = nullptr;
};

struct ChannelSpec {
  std::int64_t stages = 1;
  std::uint32_t consumers = 0;  // consumer groups (role instances): a stage is free when all released it
  std::int32_t producer_role = -1;
  std::int64_t tile_bytes = 0;
  std::uint64_t scratch_offset = 0;  // first stage's program-relative scratch address
};

class SimtLoweredKernel final : public core::LoweredKernel {
 public:
  const core::ProgramFootprint& footprint() const override { return footprint_; }
  std::vector<std::string> describe() const override;

  const std::vector<GroupSpec>& groups() const { return groups_; }
  const std::vector<ChannelSpec>& channels() const { return channels_; }
  /// The channel index of a channel value (panics when `v` is not a channel).
  std::int32_t channel_index(isa::ValueId v) const;
  const OpLowering& op(const isa::Op& op) const;
  std::uint32_t warps() const { return warps_; }
  /// Program-relative scratch bytes reserved for channel stages (other scratch tiles follow them).
  std::uint64_t channel_scratch_bytes() const { return channel_bytes_; }
  std::uint64_t scratch_bytes() const { return footprint_.scratch_bytes; }
  /// Tensor instruction each mma op uses, for the report ("wgmma.m64n256k16.bf16.SS x 8/warp").
  const std::vector<std::string>& notes() const { return notes_; }

  // Filled by SimtLowering while lowering (the object is shared read-only afterwards).
  void set_op(const isa::Op* op, OpLowering l) { ops_[op] = std::move(l); }
  void add_note(const std::string& note);

 private:
  friend class SimtLowering;
  core::ProgramFootprint footprint_;
  std::vector<GroupSpec> groups_;
  std::vector<ChannelSpec> channels_;
  std::unordered_map<isa::ValueId, std::int32_t> channel_of_;
  std::unordered_map<const isa::Op*, OpLowering> ops_;
  std::uint32_t warps_ = 0;
  std::uint64_t channel_bytes_ = 0;
  std::vector<std::string> notes_;
};

class SimtLowering final : public core::Lowering {
 public:
  SimtLowering(SimtParams params, const tensor::TensorUnit& tensor, std::string config_key);
  std::string config_key() const override { return key_; }
  std::shared_ptr<const core::LoweredKernel> lower(const core::KernelLaunch& launch) const override;

 private:
  SimtParams p_;
  const tensor::TensorUnit& tensor_;
  std::string key_;
};

/// Default warps of a group when neither the role nor the kernel says (one warp group).
constexpr std::uint32_t kDefaultGroupWarps = 4;

}  // namespace tilesim::simt

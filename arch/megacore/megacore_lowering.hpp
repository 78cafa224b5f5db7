// Lowering of tile ops to megacore VLIW ops (DESIGN.md §6; docs/megacore.md has the tables).
//
// Every tile op becomes a few VLIW ops ("mops"), each with a bundle slot, an exclusive unit, the cycles it
// holds that unit and its result latency:
//   scalar ops (index arithmetic, program ids, scalar compare/select/cast)  -> scalar slot, scalar_latency
//   copy_async / load from global (load: + a semaphore wait)              -> DMA slot (one descriptor; the
//                                         scalar core issues at most one DMA per cycle), VMEM destination
//   wait                                                                   -> misc slot: wait on the DMA's
//                                         semaphore (sync flag); the core stalls until the DMA completed
//   mma C[M,N] += A[M,K] B[K,N]   -> fold_plan() of the MXU for (M, K', N), K' = K / mxu_8bit_rate for
//                                    8-bit operands; operands are padded to the array (full-array charging,
//                                    as TPUs pad to 128/256). Per fold: a push (mxu_push slot, MXU f mod
//                                    mxus, held max(t, weight load) cycles), a pop of the result vregs
//                                    (mxu_pop slot, pop path) and an accumulate into C (vector op)
//   map ops (add, mul, exp, cast, select, cmp, ...)  -> vector op on the VPU: the tile streams through the
//                                    vector load, ALU and store slots, held max(loads/vld, vregs/valu,
//                                    stores/vst) cycles; transcendentals on the EUP (vregs/eup rate)
//   reduce, broadcast, iota, full, zeros, move      -> vector ops (reduce adds a cross-lane XLU pass)
//   transpose                                        -> XLU: vregs * xlu_cycles_per_vreg / xlu_units
//   reshape, subtile/slice of a VMEM tile            -> views, free
//   store to global                                  -> a DMA from the value's VMEM buffer
//   barrier, fence                                   -> misc slot
// A vreg holds sublanes x lanes 32-bit words (16-bit dtypes pack 2 rows per sublane, 8-bit 4); a tile's
// last two dims are padded to that layout.
//
// Scheduling. A block's ops between control-flow ops form a straight-line segment, list-scheduled into
// bundles (bundler.hpp). The body of a `for` without nested control flow is modulo-scheduled: iteration i
// issues at i * II; loop-carried values (iter args) are distance-1 dependences. copy_async ops whose
// coordinates depend only on the induction variable and loop invariants are software-pipelined by the
// loop's `stages` hint S: the copy of iteration i + S - 1 issues in iteration i's DMA slot (iterations
// 0..S-2 in a prologue), into one of S VMEM buffers; a copy may overwrite a buffer only after the previous
// iteration's readers (a distance-1 dependence on them). DMA latencies are not known statically: waits
// check them at run time and the whole core stalls when a DMA is late.
//
// VMEM footprint: every tile value gets its own VMEM buffer (no liveness-based reuse), except views and
// in-place updates (an mma's result is its accumulator, loop-carried values share their buffer); pipelined
// copies take S buffers. A kernel whose footprint exceeds VMEM is a ConfigError that says by how much.
// Roles and channels (warp specialisation) are not lowered yet: such kernels are a ConfigError.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "arch/core/lowering.hpp"
#include "arch/megacore/bundler.hpp"
#include "arch/megacore/megacore_params.hpp"

namespace tilesim::megacore {

enum class MopKind : std::uint8_t { scalar, dma_in, dma_out, sem_wait, mxu_push, mxu_pop, vector, xlu, eup, misc };
const char* mop_kind_name(MopKind k);

/// One VLIW op of a lowered tile op.
struct Mop {
  MopKind kind = MopKind::scalar;
  SchedOp sched;               // slot, latency, unit, unit_cycles (deps are the segment's business)
  std::uint32_t fold = 0;      // mxu_push / mxu_pop: fold index within the op
  std::uint32_t mxu = 0;       // mxu_push / mxu_pop
  std::uint32_t reads = 0;     // bit i: reads operand i of the tile op (dependences attach here)
  bool result = false;         // produces (part of) the op's result
  std::int32_t part = -1;      // mma: output block the mop reads/writes (accumulator dependences match parts)
  std::int32_t after = -1;     // index of the mop of the same op it follows (chain), -1: none
  std::uint32_t after_latency = 0;
  std::int32_t chain = -1;     // mma: the previous accumulate of the same part (its full latency)
};

/// What one tile op becomes.
struct OpPlan {
  std::vector<Mop> mops;
  std::vector<Fold> folds;       // mma: every fold (used rows/cols, streamed wavefronts)
  double flops = 0;              // mma: 2 M N K (unpadded)
  std::uint64_t vmem_bytes = 0;  // VMEM buffer of its result (0: none or a view)
};

/// A scheduled straight-line segment or modulo-scheduled loop body.
struct Segment {
  std::vector<const isa::Op*> ops;   // tile ops in program order
  std::vector<std::uint32_t> first;  // index of each op's first mop in the flat list
  std::vector<SchedOp> sched;        // flat list of the segment's mops, with dependences
  std::vector<std::uint32_t> cycle_of;
  std::uint32_t length = 0;          // cycles from the segment's start until its last result
  bool modulo = false;
  std::uint32_t ii = 0, res_mii = 0, rec_mii = 0, stages = 0;
  std::int64_t pipeline = 1;         // software-pipelining depth of its copies (the loop's `stages`)
  std::vector<std::string> bundles;  // format_bundles of the schedule (first 64), for traces and --describe
};

/// A block: a sequence of segments and control-flow ops (for / if).
struct BlockPlan {
  struct Item {
    std::int32_t segment = -1;        // index into MegacoreLoweredKernel::segments, or
    const isa::Op* control = nullptr; // a for / if op (its regions have their own BlockPlans)
  };
  std::vector<Item> items;
  std::int32_t loop_segment = -1;     // a for body scheduled as one modulo segment
};

class KernelLowerer;

class MegacoreLoweredKernel final : public core::LoweredKernel {
 public:
  const core::ProgramFootprint& footprint() const override { return footprint_; }
  std::vector<std::string> describe() const override;

  const OpPlan& plan(const isa::Op& op) const;
  const BlockPlan& block(const isa::Block& b) const;
  const Segment& segment(std::int32_t i) const { return segments_.at(static_cast<std::size_t>(i)); }
  /// Copies of a loop that the pipeliner issues ahead (by the loop op), in body order.
  const std::vector<const isa::Op*>& pipelined_copies(const isa::Op& loop) const;
  std::uint64_t vmem_bytes() const { return footprint_.scratch_bytes; }
  /// VMEM offset (program-relative) of an op's result buffer (copies: the first of its `stages` buffers).
  std::uint64_t vmem_offset(const isa::Op& op) const;

 private:
  friend class MegacoreLowering;
  friend class KernelLowerer;
  core::ProgramFootprint footprint_;
  std::unordered_map<const isa::Op*, OpPlan> plans_;
  std::unordered_map<const isa::Block*, BlockPlan> blocks_;
  std::vector<Segment> segments_;
  std::unordered_map<const isa::Op*, std::vector<const isa::Op*>> pipelined_;
  std::unordered_map<const isa::Op*, std::uint64_t> vmem_offset_;
  std::vector<std::string> notes_;
};

class MegacoreLowering final : public core::Lowering {
 public:
  /// `vmem_bytes`: the VMEM (memory.scratch.size) the footprint must fit in.
  MegacoreLowering(MegacoreParams params, std::uint64_t vmem_bytes, std::string config_key);
  std::string config_key() const override { return key_; }
  std::shared_ptr<const core::LoweredKernel> lower(const core::KernelLaunch& launch) const override;

 private:
  MegacoreParams p_;
  std::uint64_t vmem_bytes_;
  std::string key_;
};

/// vregs a tile of `shape` and `dtype` occupies in the (sublanes x pack, lanes) layout.
std::uint64_t tile_vregs(const MegacoreParams& p, const std::vector<std::int64_t>& shape, isa::DType dtype);

}  // namespace tilesim::megacore

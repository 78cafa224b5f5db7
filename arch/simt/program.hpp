// A program (CTA) resident on an SM: its warp groups' front ends, channels and barriers.
//
// The front end of a warp group (GroupRunner) walks the kernel's IR in program order for that group —
// evaluating scalars, running `for`/`if`, executing each tile op's semantics when the run carries values
// (op_semantics.hpp) — and expands every tile op into the group's micro-op stream (simt_lowering.hpp).
// It runs ahead of the group's warps by at most core.sm.lookahead micro-ops (the instruction buffer).
//
// Dependencies are links from a micro-op to the micro-ops that produce its operands (its scoreboard
// entries). Scratch buffers record their readers: a copy into a buffer waits until the readers of its
// previous contents have completed (the buffer-reuse barrier of a software pipeline), a channel stage is
// free once every consumer released it and the reads before the release completed.
//
// Software pipelining. For `for ... stages=S` (S > 1) in a group, the front end issues the loop body's
// copy_async ops whose tile indices depend only on the induction variable and loop invariants S-1
// iterations ahead: iterations 0..S-2 before the loop, iteration i+S-1 at the end of iteration i — what a
// compiler's pipeliner (Triton num_stages, CUTLASS's TMA mainloop) emits. Each such copy has S buffers.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <unordered_map>
#include <vector>

#include "arch/core/core.hpp"
#include "arch/simt/micro_op.hpp"
#include "arch/simt/op_semantics.hpp"
#include "arch/simt/simt_lowering.hpp"

namespace tilesim::simt {

/// Reads of a scratch tile by micro-ops (each held by a reference).
class ReaderList {
 public:
  explicit ReaderList(MicroOpPool& pool) : pool_(pool) {}
  ~ReaderList();
  ReaderList(const ReaderList&) = delete;
  ReaderList& operator=(const ReaderList&) = delete;
  void add(MicroOp* m);
  const std::vector<MicroOp*>& readers() const { return readers_; }

 private:
  MicroOpPool& pool_;
  std::vector<MicroOp*> readers_;
};

/// One entry of a front end's environment.
struct Slot {
  RtValue value;
  MicroOp* rec = nullptr;                  // producer (nullptr: ready from the start)
  std::shared_ptr<ReaderList> readers;     // scratch tiles: who reads this buffer
  std::uint64_t scratch_offset = 0;        // scratch tiles: program-relative address
};

struct ProgramState;

/// When a micro-op is complete for every warp (kPending if not yet).
Time completion_time(const MicroOp& m);

class GroupRunner {
 public:
  GroupRunner(ProgramState& prog, const GroupSpec& spec, std::uint32_t index, MicroOpPool& pool);
  ~GroupRunner();
  GroupRunner(const GroupRunner&) = delete;
  GroupRunner& operator=(const GroupRunner&) = delete;

  /// Expand ops while fewer than `lookahead` micro-ops wait beyond `oldest_pos` (the slowest warp's
  /// position). Returns true when it expanded anything. Throws tilesim::Error for unevaluable control flow.
  bool expand(std::uint64_t oldest_pos, std::size_t lookahead);
  /// The front end reached the end of the group's code (the exit micro-op is in the stream).
  bool exited() const { return exited_; }
  /// The front end waits for another group (a channel item not yet produced).
  bool blocked() const { return blocked_; }

  MicroOp* at(std::uint64_t seq) const { return seq < base_ || seq >= end_seq() ? nullptr : queue_[seq - base_]; }
  std::uint64_t end_seq() const { return base_ + queue_.size(); }
  /// Drop micro-ops every warp has passed (positions below `oldest_pos`).
  void retire(std::uint64_t oldest_pos);

  const GroupSpec& spec() const { return spec_; }
  std::uint32_t index() const { return index_; }
  std::uint64_t micro_ops_emitted() const { return emitted_; }

 private:
  struct Frame {
    const isa::Block* block = nullptr;
    std::size_t next = 0;
    const isa::Op* owner = nullptr;  // the for/if whose region this is
    bool loop = false;
    std::int64_t iv = 0, hi = 0, step = 1, trip = 0;  // trip: iteration number (0-based)
    std::int64_t stages = 1;
  };
  struct Prefetch {
    std::vector<const isa::Op*> slice;                     // scalar ops and copies, in body order
    std::vector<const isa::Op*> copies;
  };
  struct PrefetchedCopy {
    Slot tile, token;
  };

  bool step_one();
  bool finish_region(const std::vector<Slot>& ys);
  void process(const isa::Op& op);
  void emit_copy(const isa::Op& op, const std::vector<const RtValue*>& in, MicroOp*& last, Slot& tile);
  std::int64_t loop_stages() const;
  std::int64_t current_trip(const isa::Op& op) const;
  MicroOp* emit_step(const isa::Op& op, const MicroStep& s, std::vector<MicroOp*> srcs);
  void bind(isa::ValueId v, const Slot& s);
  void bind_value(isa::ValueId v, RtValue value, MicroOp* rec);
  const RtValue& value(isa::ValueId v) const;
  Slot& slot(isa::ValueId v) { return env_.at(static_cast<std::size_t>(v)); }
  std::int64_t known_int(isa::ValueId v, const isa::Op& op) const;
  void enter_loop(const isa::Op& op);
  const Prefetch& prefetch_info(const isa::Op& loop);
  void prefetch_iteration(const Frame& f, std::int64_t iteration);
  void emit_loop_overhead(const isa::Op& op);
  std::uint64_t scratch_for(const isa::Op& op, std::int64_t bytes, std::vector<MicroOp*>& reuse_waits,
                            std::shared_ptr<ReaderList>& readers, std::int64_t stages);
  void push(MicroOp* m);

  ProgramState& prog_;
  GroupSpec spec_;
  std::uint32_t index_;
  MicroOpPool& pool_;
  ProgramContext ctx_;
  std::vector<Slot> env_;
  std::vector<Frame> stack_;
  std::deque<MicroOp*> queue_;
  std::uint64_t base_ = 0;
  bool exited_ = false;
  bool blocked_ = false;
  std::uint64_t emitted_ = 0;
  std::int64_t pipeline_stages_ = 1;  // stages of the innermost pipelined loop being expanded
  // channels: next item per channel (puts, gets, releases) and the readers of gotten items
  std::vector<std::int64_t> puts_, gets_, releases_, acquires_;
  std::uint64_t multicast_copies_ = 0;  // multicast copy_async ops emitted (names them across the cluster)
  std::vector<std::deque<std::shared_ptr<ReaderList>>> gotten_;
  // scratch buffers of ops: per op, a ring of `stages` buffers with the readers of their contents
  struct Buffers {
    std::uint64_t offset = 0;
    std::int64_t bytes = 0;
    std::int64_t uses = 0;
    std::vector<std::shared_ptr<ReaderList>> ring;
  };
  std::unordered_map<const isa::Op*, Buffers> buffers_;
  std::unordered_map<const isa::Op*, Prefetch> prefetch_;
  // Scratch buffers whose MMA operand fragments this group already holds in registers (a compiler hoists
  // ldmatrix of loop-invariant operands): identified by their reader list, most recent last.
  std::deque<std::shared_ptr<ReaderList>> fragments_;
  // prefetched copies of pipelined loops: (copy op, iteration) -> results
  std::map<std::pair<const isa::Op*, std::int64_t>, PrefetchedCopy> prefetched_;
};

/// Timing and value state of one channel of a program.
struct ChannelRuntime {
  struct Stage {
    std::int64_t item = -1;          // item in the stage (or last in it); -1 never used
    bool full_pending = false;       // put issued; full once full_deps complete
    std::vector<MicroOp*> full_deps;
    std::uint32_t releases = 0;
    std::vector<MicroOp*> empty_deps;
  };
  ChannelSpec spec;
  std::vector<Stage> stages;
  std::deque<RtValue> items;         // values of items first_item.. (front end)
  std::int64_t first_item = 0;
  std::vector<std::int64_t> taken;   // per consumer group: items its front end took
};

struct ProgramState {
  core::ProgramLaunch msg;
  const core::KernelLaunch* launch = nullptr;
  const SimtLoweredKernel* lowered = nullptr;
  std::uint32_t slot = 0;                // program slot on the SM
  std::uint64_t scratch_base = 0;        // SM scratch address of the program's allocation
  std::uint64_t scratch_bytes = 0;
  std::uint64_t scratch_bump = 0;        // next free program-relative byte for non-channel tiles
  std::vector<std::unique_ptr<GroupRunner>> groups;
  std::vector<ChannelRuntime> channels;
  std::vector<std::uint32_t> group_of_consumer;  // not used by all kernels
  // barrier over every live warp
  std::uint32_t live_warps = 0;
  std::uint32_t barrier_arrived = 0;
  std::vector<std::uint32_t> barrier_waiters;  // SM warp slots
  std::uint64_t outstanding = 0;         // memory requests / copies in flight (drained at exit)
  std::uint64_t outstanding_stores = 0;  // of those, global stores of register data
  bool released = false;                 // resources handed back while those stores drain (Sm::release_program)
  std::uint32_t exited_warps = 0;
  Time started = 0;
  core::ProgramActivity activity;        // reported with the completion (Sm::activity_layout())

  ProgramState(const ProgramState&) = delete;
  ProgramState& operator=(const ProgramState&) = delete;
  ProgramState() = default;
  ~ProgramState();
  /// Consumer-group index of group `g` for `channel` (its position among the channel's consumers).
  std::uint32_t consumer_slot(std::uint32_t channel, std::uint32_t group) const;
  std::vector<std::vector<std::uint32_t>> consumers;  // per channel: group indices of consumers
  MicroOpPool* pool = nullptr;
};

}  // namespace tilesim::simt

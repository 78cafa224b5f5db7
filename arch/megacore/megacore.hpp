// The megacore (DESIGN.md §6 arch/megacore/): one TPU-style TensorCore as a Core of the grid dispatcher.
//
//  - A program (grid step) arriving from the dispatcher is expanded once into its static VLIW stream: the
//    lowering's segment schedules (megacore_lowering.hpp) instantiated for the program's scalars and loop
//    trip counts (iteration i of a modulo-scheduled loop at i * II). The same walk computes values when the
//    run carries them (the SIMT model's op semantics, arch/simt/op_semantics.hpp).
//  - The core executes the stream in static order. An op issues at its static cycle plus the core's
//    accumulated stall; when an op's dynamic operand is late — a DMA not done at a semaphore wait, an MXU
//    result not ready at a pop, an MXU queue full at a push, a VMEM buffer still read by the MXU when a DMA
//    would overwrite it, a DMA descriptor queue not drained — the WHOLE core stalls until it is ready and
//    the stall is charged to that reason. Event driven: the core sleeps until the next static issue cycle,
//    an MXU event (SystolicArray::next_event_cycle) or a message (DMA completion, new program).
//  - MXUs are SystolicArray instances (systolic_array.hpp) advanced to the core's cycle; a push queues one
//    fold `mxu_push_latency` cycles after it issues. DMAs are CopyCommands to the memory hierarchy's copy
//    engine (one descriptor per cycle from the scalar core); VMEM is the hierarchy's per-core scratch.
//  - Grid steps: up to `resident_programs` programs are resident (VMEM permitting). They run one after the
//    other; when `prefetch_next_program` is set, the next program's prologue DMAs (the input DMAs before its
//    first semaphore wait) are issued under the running program's compute, in the DMA slots it leaves free
//    once it has issued its own last input DMA (the drain of its pipelined K loop) — the input pipelining
//    XLA/Pallas emit across grid steps, without delaying the running step's own inputs in the DMA queue. A program reports done when its stream ended
//    and its DMAs (output stores) completed; the next program's stream starts right after the previous
//    stream ended.
#pragma once

#include <deque>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "arch/core/core.hpp"
#include "arch/megacore/megacore_lowering.hpp"
#include "arch/megacore/megacore_params.hpp"
#include "arch/megacore/systolic_array.hpp"
#include "arch/memory/memory_system.hpp"
#include "traces/trace_sink.hpp"

namespace tilesim::megacore {

struct MegacoreLaunch {
  std::shared_ptr<const core::KernelLaunch> launch;
  std::shared_ptr<const MegacoreLoweredKernel> lowered;
};

/// What a megacore needs from the system around it (read-only numbers).
struct MegacoreEnvironment {
  std::shared_ptr<const std::vector<MegacoreLaunch>> launches;
  std::uint64_t vmem_bytes = 0;
  double hbm_bytes_per_cycle = 0;  // peak HBM bandwidth in bytes per core cycle (DMA utilisation)
};

class Megacore final : public core::Core {
 public:
  Megacore(const ComponentContext& ctx, std::uint32_t index, MegacoreParams params, MegacoreEnvironment env);
  ~Megacore() override;

  core::CoreResources resources() const override;
  void init() override;
  bool tick(Cycle now) override;
  void finish() override;
  bool busy() const override;
  std::string waiting_on() const override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

  CoreSidePorts core_side();
  static core::ActivityLayout activity_layout(const MegacoreParams& p);

  OutPort<MemRequest> cache_req{*this, "cache_req", "MemRequest"};
  InPort<MemResponse> cache_resp{*this, "cache_resp", "MemResponse"};
  OutPort<ScratchRequest> scratch_req{*this, "scratch_req", "ScratchRequest"};
  InPort<MemResponse> scratch_resp{*this, "scratch_resp", "MemResponse"};
  OutPort<CopyCommand> copy_cmd{*this, "copy_cmd", "CopyCommand"};
  InPort<CopyDone> copy_done{*this, "copy_done", "CopyDone"};
  OutPort<ScratchRequest> remote_req{*this, "remote_req", "ScratchRequest"};
  InPort<MemResponse> remote_resp{*this, "remote_resp", "MemResponse"};

  enum class Stall : std::uint8_t { issued, dma_wait, dma_issue, mxu_busy, mxu_result, vmem_reuse, count_ };
  static const char* stall_name(Stall s);

  struct Instance;  // one VLIW op of a program's stream (megacore.cpp)
  struct Program;   // a resident grid step

 private:
  using Time = std::uint64_t;
  struct PendingPush {
    Time at;
    std::uint32_t mxu;
    Fold fold;
    std::uint64_t tag;
  };
  struct Blocked {
    bool active = false;
    Stall reason = Stall::dma_wait;
    Time since = 0;    // cycles up to here are charged already
    Time nominal = 0;  // the op's static issue cycle (plus the stall before it)
  };

  void accept(const core::ProgramLaunch& msg, Time now);
  void expand(Program& p);
  void advance_arrays(Time now);
  void drain_dma_queue(Time now);
  /// Runs the current program's stream up to `now`; returns the next cycle it needs a tick (0: a message).
  Time run_stream(Time now);
  /// Why instance `in` cannot issue at `now` (Stall::issued: it can); `wake` gets a cycle to retry at.
  Stall check(const Instance& in, Time now, Time& wake) const;
  void execute(Program& p, Instance& in, Time now);
  void queue_dma(Program& p, Instance& in, Time now);
  void issue_prologue(Program& p, Time now);
  void charge(Program& p, Stall s, Time cycles);
  void finish_programs(Time now);
  Program* current();
  std::uint64_t vmem_base(std::uint32_t slot) const;

  const MegacoreParams p_;
  const MegacoreEnvironment env_;
  const UnitIndex units_;
  std::vector<SystolicArray> arrays_;
  std::deque<PendingPush> pending_push_;
  std::unordered_set<std::uint64_t> folds_done_;
  std::unordered_map<std::uint64_t, Time> push_issued_;  // fold tag -> cycle its push issued
  std::vector<std::unique_ptr<Program>> programs_;  // resident, arrival order
  std::vector<bool> slot_used_;
  // DMA: descriptors waiting to go to the copy engine (one per cycle), groups (one per DMA op) in flight
  struct QueuedCommand {
    CopyCommand cmd;
    Program* prog;
  };
  std::deque<QueuedCommand> dma_queue_;
  Time last_dma_sent_ = ~0ull;
  std::unordered_map<std::uint64_t, std::uint64_t> cmd_group_;          // command id -> group
  std::unordered_map<std::uint64_t, std::uint32_t> group_remaining_;    // group -> commands not done
  std::unordered_map<std::uint64_t, Program*> group_program_;
  std::unordered_set<std::uint64_t> groups_done_;
  std::uint64_t next_cmd_id_ = 1, next_group_ = 1, next_tag_ = 1;
  Blocked blocked_;
  bool progressed_ = false;

  traces::TraceSink* trace_ = nullptr;
  int track_programs_ = -1, track_stalls_ = -1, track_vpu_ = -1, track_dma_ = -1;
  std::vector<int> track_mxu_;

  Counter& st_programs_;
  Counter& st_bundles_;
  Counter& st_ops_;
  Counter& st_folds_;
  Counter& st_flops_;
  Counter& st_dma_commands_;
  Counter& st_dma_bytes_in_;
  Counter& st_dma_bytes_out_;
  Counter& st_early_dmas_;
  Counter& st_vpu_busy_;
  Counter& st_mxu_busy_;
  Counter& st_macs_;
  std::vector<Counter*> st_stall_;
  Distribution& st_program_cycles_;
  Distribution& st_fold_cycles_;
};

}  // namespace tilesim::megacore

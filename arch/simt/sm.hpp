// A SIMT streaming multiprocessor (DESIGN.md §6): the Core that runs programs of the tile ISA as warps.
//
//  - Programs arrive from the grid dispatcher; each gets warp slots, registers and a scratch allocation.
//    Its warp groups' front ends (program.hpp) expand tile ops into per-warp micro-ops.
//  - Sub-partitions: warp slot w lives on sub-partition w % sub_partitions. Each has a warp scheduler
//    (GTO: keep issuing the last warp while it can, else the oldest ready one; LRR: round robin), one
//    dispatch per cycle (a chunk of a micro-op's instructions takes one cycle per instruction), and
//    pipes FP32/FP16/INT/SFU/FP64/uniform/LSU/tensor, each busy `interval` cycles per warp instruction.
//  - Issue rules: a warp issues in order. Fixed-latency results are ready `latency` cycles after issue
//    (static stall counts); memory, copies and wgmma complete when they complete (scoreboard).
//  - wgmma is warp-group collective: the SM's tensor pipe starts a warp group's instructions once its 4
//    warps issued them, one after another (interval each); results are waited for by their consumers.
//  - LSU: global accesses are coalesced per warp instruction into one request per 128-byte line (the
//    sectors it touches); at most core.sm.requests_per_cycle requests leave per cycle and at most
//    core.sm.max_outstanding_requests are in flight. Shared accesses go to the SM's scratch.
//  - TMA / cp.async: copy_async becomes copy-engine commands (one box per tile, or 16-byte-per-thread
//    pieces); completion arrives as CopyDone (the mbarrier).
//  - Barriers (program, group), channels (mbarrier-style full/empty stages), program exit and drain. Once
//    every warp of a program has exited and only its stores of register data are in flight, its slot and
//    scratch go back to the dispatcher (as a GPU frees an exited CTA's resources); the program completes
//    when those stores are acknowledged, and its kernel ends only after that.
//  - Event driven: when no warp can issue, the SM sleeps until the earliest known ready time or a message
//    (memory response, copy completion, new program) wakes it.
#pragma once

#include <array>
#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

#include "arch/core/core.hpp"
#include "arch/memory/memory_system.hpp"
#include "arch/simt/program.hpp"
#include "arch/simt/simt_lowering.hpp"
#include "arch/simt/simt_params.hpp"
#include "traces/trace_sink.hpp"

namespace tilesim::simt {

/// A kernel launch with its SIMT lowering (shared by every SM).
struct SimtLaunch {
  std::shared_ptr<const core::KernelLaunch> launch;
  std::shared_ptr<const SimtLoweredKernel> lowered;
};

/// What an SM needs from the system around it (read-only numbers).
struct SmEnvironment {
  std::shared_ptr<const std::vector<SimtLaunch>> launches;
  std::uint64_t scratch_bytes = 228 * 1024;
  std::uint32_t line_bytes = 128;
  std::uint32_t sector_bytes = 32;
  std::uint64_t cluster_window_bytes = 0;
};

class Sm final : public core::Core {
 public:
  Sm(const ComponentContext& ctx, std::uint32_t index, SimtParams params, SmEnvironment env);
  ~Sm() override;

  core::CoreResources resources() const override;
  void init() override;
  bool tick(Cycle now) override;
  void finish() override;
  bool busy() const override;
  std::string waiting_on() const override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

  /// The core-side ports, for attach_core().
  CoreSidePorts core_side();
  /// How this SM's ProgramActivity reads (pipes, the warp-group tensor pipe, stall reasons).
  static core::ActivityLayout activity_layout(const SimtParams& p);

  OutPort<MemRequest> cache_req{*this, "cache_req", "MemRequest"};
  InPort<MemResponse> cache_resp{*this, "cache_resp", "MemResponse"};
  OutPort<ScratchRequest> scratch_req{*this, "scratch_req", "ScratchRequest"};
  InPort<MemResponse> scratch_resp{*this, "scratch_resp", "MemResponse"};
  OutPort<CopyCommand> copy_cmd{*this, "copy_cmd", "CopyCommand"};
  InPort<CopyDone> copy_done{*this, "copy_done", "CopyDone"};
  OutPort<ScratchRequest> remote_req{*this, "remote_req", "ScratchRequest"};
  InPort<MemResponse> remote_resp{*this, "remote_resp", "MemResponse"};

 private:
  enum class Stall : std::uint8_t {
    issued, idle, front_end, dependency, memory, tensor, barrier, channel, pipe, lsu, count_
  };
  struct Warp {
    bool active = false;
    ProgramState* prog = nullptr;
    GroupRunner* group = nullptr;
    std::uint32_t lane = 0;     // warp index within its group
    std::uint32_t sp = 0;
    std::uint64_t pos = 0;      // position in the group's micro-op stream
    Time next_issue = 0;
    std::uint64_t age = 0;
    bool waiting_barrier = false;
  };
  struct SubPartition {
    std::vector<std::uint32_t> warps;  // warp slots, oldest first
    Time dispatch_free = 0;
    std::array<double, kUnitCount> unit_free{};
    std::uint32_t last_issued = ~0u;
    std::uint32_t rr = 0;
    Stall reason = Stall::idle;
    Time reason_since = 0;
    ProgramState* reason_prog = nullptr;  // the program whose warp the reason is about
  };
  struct BarrierState {
    std::uint32_t arrived = 0;
    std::vector<std::uint32_t> waiters;
  };
  enum class Target : std::uint8_t { cache, scratch, remote };
  struct LsuEntry {
    Target target = Target::cache;
    MemRequest req;
    std::uint32_t lane_bytes = 0;
    MicroOp* op = nullptr;     // holds a reference while queued / in flight
    std::uint32_t lane = 0;
    ProgramState* prog = nullptr;
  };
  struct CopyEntry {
    CopyCommand cmd;
    MicroOp* op = nullptr;
    ProgramState* prog = nullptr;
  };
  struct Outstanding {
    MicroOp* op = nullptr;
    std::uint32_t lane = 0;
    ProgramState* prog = nullptr;
  };

  void start_program(const core::ProgramLaunch& msg, Time now);
  void finish_program(ProgramState& p);
  /// Hand back a program's slot and scratch while only its register-data stores are in flight.
  void release_program(ProgramState& p);
  void free_resources(ProgramState& p);
  void handle_responses(Time now);
  void complete_request(const Outstanding& o, Time now);
  void run_front_ends();
  std::uint64_t oldest_pos(const GroupRunner& g) const;
  /// Earliest cycle >= now at which warp `w` may issue its head micro-op (kPending: an unknown event).
  Time earliest_issue(std::uint32_t w, Time now, Stall& why);
  void issue(std::uint32_t w, Time now);
  void pass(Warp& w, MicroOp& m, Time now);
  void skip_leader_only(Warp& w);
  void issue_memory(Warp& w, MicroOp& m, std::uint32_t first, std::uint32_t n, Time now);
  void issue_copy(Warp& w, MicroOp& m, Time now);
  /// The cores that share a multicast copy of program `p` (`axis` 0..2 or 3 = the whole cluster) and
  /// this program's slice; no cores when it runs without a cluster.
  CopyMulticast multicast_share(const ProgramState& p, int axis) const;
  void enqueue_wgmma(Warp& w, MicroOp& m, Time now);
  void arrive_barrier(Warp& w, std::uint32_t slot, BarrierState& b, std::uint32_t expected, Time now);
  bool stage_free(const ProgramState& p, const MicroOp& m, Time now, Time& at) const;
  bool stage_full(const ProgramState& p, const MicroOp& m, Time now, Time& at) const;
  void note_group_wide_done(MicroOp& m, Time now);
  void drain_lsu(Time now);
  void drain_copies(Time now);
  void charge_stalls(Time now);
  void exit_warp(std::uint32_t slot, Time now);

  const SimtParams p_;
  const SmEnvironment env_;
  MicroOpPool pool_;
  std::vector<std::unique_ptr<ProgramState>> programs_;  // resident
  std::vector<Warp> warps_;
  std::vector<SubPartition> sps_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> scratch_used_;  // (base, bytes) per resident program
  std::unordered_map<ProgramState*, BarrierState> program_barriers_;
  std::unordered_map<const GroupRunner*, BarrierState> group_barriers_;
  std::deque<LsuEntry> lsu_;
  std::deque<CopyEntry> copies_;
  std::unordered_map<std::uint64_t, Outstanding> outstanding_;
  std::unordered_map<std::uint64_t, Outstanding> copy_outstanding_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> line_scratch_;  // scratch for coalescing
  double wgmma_free_ = 0;
  // With core.sm.wgmma_paused_by: each sub-partition's tensor core runs its quarter of a warp group's
  // wgmma and pauses for that sub-partition's pausing work (its SFU busy spans, or its dispatch cycles);
  // a bundle is done when its slowest quarter is. Runs are the bundles queued or running (each holds a
  // reference to its micro-op); spans are per sub-partition, still ahead, sorted and disjoint.
  struct WgmmaRun {
    MicroOp* op = nullptr;
    std::uint32_t wg = 0;
    std::vector<double> start, end;     // per sub-partition quarter, pauses included
    double first_offset = 0;            // first result = latest quarter start + this
    double last_offset = 0;             // last result = latest quarter end + this
  };
  std::deque<WgmmaRun> wgmma_runs_;
  std::vector<std::vector<std::pair<double, double>>> pause_spans_;  // per sub-partition
  std::vector<double> quarter_free_;                                 // per sub-partition tensor core
  /// Lay `busy` cycles of sub-partition `s`'s quarter out from `start`, skipping its pause spans; moves
  /// `start` past a span it falls in and returns the end.
  double quarter_end_around_pauses(std::uint32_t s, double& start, double busy) const;
  /// Sub-partition `s` does pausing work over [a, b): its quarters of the queued and running wgmma
  /// bundles pause for the part of it its earlier spans do not cover.
  void pause_wgmma(std::uint32_t s, double a, double b, Time now);
  void publish_wgmma_times(const WgmmaRun& r);
  std::uint64_t next_id_ = 1;
  std::uint64_t next_age_ = 0;
  std::uint64_t in_flight_ = 0;
  std::uint32_t active_warps_ = 0;
  bool progressed_ = false;
  std::vector<ProgramState*> finished_;

  // timeline (sim().trace(); null when no trace was asked for)
  traces::TraceSink* trace_ = nullptr;
  int track_programs_ = -1, track_tensor_ = -1, track_counters_ = -1;
  void trace_warps(Time now);

  // statistics
  Counter& st_programs_;
  Counter& st_released_;
  Counter& st_instructions_;
  std::array<Counter*, kUnitCount> st_unit_instructions_{};
  std::array<Counter*, kUnitCount> st_unit_busy_{};
  Counter& st_wgmma_instructions_;
  Counter& st_wgmma_busy_;
  Counter& st_tensor_flops_;
  Counter& st_requests_;
  Counter& st_request_bytes_;
  Counter& st_shared_requests_;
  Counter& st_copies_;
  Counter& st_copy_bytes_;
  Counter& st_micro_ops_;
  std::array<Counter*, static_cast<int>(Stall::count_)> st_stall_{};
  Distribution& st_program_cycles_;
};

}  // namespace tilesim::simt

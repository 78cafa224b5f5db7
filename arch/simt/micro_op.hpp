// Warp-level micro-ops: what one tile op of a program becomes for each warp of the warp group that runs
// it (simt_lowering.hpp). A micro-op is a bundle of `count` identical, independent warp instructions on
// one pipe (e.g. 64 MUFU.EX2 for an exp over a 64x128 tile held by 128 threads): the scheduler issues it
// in chunks of at most core.sm.issue_chunk instructions. Every warp of the group executes the same
// micro-op stream; each micro-op also records, per warp, when its results are ready — it is the
// scoreboard entry its consumers wait on.
//
// Readiness of a bundle is kept as two times per warp: `first` (its first instruction's result) and
// `last` (its last one's). A consumer marked elementwise may issue its j-th instruction once the
// producer's matching instruction is done (linear interpolation between first and last) — the
// software-pipelined overlap of consecutive element-wise ops; other consumers wait for `last`.
// Variable-latency producers (memory, copies, async MMA) keep `last` at kPending until they complete
// (scoreboard); fixed-latency ones know both times at issue (static stall counts).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "arch/core/launch.hpp"
#include "arch/simt/simt_params.hpp"
#include "isa/ir.hpp"

namespace tilesim::simt {

using Time = std::uint64_t;  // SM cycles
constexpr Time kPending = ~0ull;

enum class MicroKind : std::uint8_t {
  compute,          // fixed-latency pipe instructions
  mma_sync,         // warp-level MMA on the sub-partition's tensor core (fixed latency)
  wgmma,            // warp-group MMA: collective over 4 warps, async on the SM's tensor pipe
  global_load,      // LDG: line requests through the L1
  global_store,     // STG
  global_atomic,    // RED
  shared_load,      // LDS / LDSM from the program's scratch
  shared_store,     // STS
  remote_load,      // ld.shared::cluster from a peer program's scratch (DSMEM)
  tma_load,         // bulk tensor copy global -> scratch, issued by the group's first warp
  tma_store,        // bulk tensor copy scratch -> global
  cp_async,         // per-thread async copies global -> scratch (LDGSTS)
  wait,             // block until the sources complete (mbarrier try_wait / cp.async.wait)
  barrier,          // every warp of the program (bar.sync)
  group_barrier,    // every warp of the group (a named barrier)
  cluster_barrier,  // every warp of every program of the cluster (barrier.cluster)
  channel_acquire,  // producer: wait for the next stage of a channel to be free
  channel_put,      // producer: the stage is full once the sources complete (non-blocking arrive)
  channel_get,      // consumer: wait for the stage to be full
  channel_release,  // consumer: the stage is free once the sources complete (non-blocking arrive)
  exit,             // end of the group's stream
};
const char* micro_kind_name(MicroKind k);

/// A global-memory tile access (load/store/copy): which tensor, which tile.
struct GlobalAccess {
  const core::GlobalBinding* tensor = nullptr;
  std::vector<std::int64_t> coord;       // tile coordinates (units of tile_shape)
  std::vector<std::int64_t> tile_shape;  // elements
  std::uint32_t elem_bytes = 4;
  std::uint64_t scratch_offset = 0;      // program-relative scratch address (copies)
  bool add = false;                      // atomic add
  std::int8_t multicast_axis = -1;       // copy_async multicast: -1 none, 0..2 the ranks along that cluster
                                         // axis, 3 the whole cluster share one fetch
  std::uint64_t multicast_seq = 0;       // the issuing group's count of multicast copies before this one
};

struct MicroOp {
  // ---- what it is (set at expansion) ----
  MicroKind kind = MicroKind::compute;
  Unit unit = Unit::uniform;
  std::uint32_t count = 1;        // instructions per warp
  std::uint32_t latency = 1;      // fixed latency (cycles) of one instruction
  double interval = 1;            // cycles the pipe is busy per instruction
  bool elementwise = false;       // consumers may stream behind it (see the header comment)
  bool streams = false;           // it may stream behind elementwise producers
  bool leader_only = false;       // only the group's first warp issues it
  bool group_wide = false;        // one completion for the whole group (copies, barriers, channel ops)
  std::uint32_t shared_bytes = 0; // bytes per instruction (shared loads/stores)
  std::uint32_t chains = 1;       // wgmma: independent accumulators per warp group
  bool accumulate_in_pipe = false;  // tcgen05: a dependent MMA follows its producer at the interval
  std::uint64_t shared_offset = 0;
  std::int32_t channel = -1;      // channel ops
  std::int64_t item = -1;         // channel item (put/get/acquire/release index)
  std::uint32_t peer_rank = 0;    // remote_load: cluster rank of the peer
  double flops = 0;               // tensor/ALU work of the whole op (all warps), for statistics
  std::unique_ptr<GlobalAccess> access;
  std::vector<MicroOp*> srcs;     // producers this op waits for (each holds a reference)
  std::uint32_t skip_src_mask = 0;  // srcs not waited for at issue (wgmma accumulator chaining)
  const isa::Op* op = nullptr;    // the tile op it came from (traces, debugging)

  // ---- per-warp state ----
  std::uint32_t warps = 1;
  std::vector<Time> first, last;        // result times per warp (index 0 when group_wide)
  std::vector<std::uint32_t> issued;    // instructions issued so far, per warp
  std::vector<std::uint32_t> pending;   // outstanding requests/commands per warp (index 0 when group_wide)
  std::uint32_t warps_done = 0;         // warps that issued all their instructions (or skipped it)
  std::uint32_t refs = 0;

  std::size_t slot(std::uint32_t warp) const { return group_wide ? 0 : warp; }
  /// The result of this op's instruction `j` of `of` for `warp` is ready by this time (kPending if not known).
  Time ready_for(std::uint32_t warp, std::uint32_t j, std::uint32_t of) const;
  bool complete_for(std::uint32_t warp) const { return last[slot(warp)] != kPending; }
};

/// Owns micro-ops and recycles them (their vectors keep capacity, so steady state allocates nothing).
class MicroOpPool {
 public:
  MicroOpPool() = default;
  MicroOpPool(const MicroOpPool&) = delete;
  MicroOpPool& operator=(const MicroOpPool&) = delete;
  ~MicroOpPool();

  /// A fresh micro-op for a group of `warps` warps, holding one reference (the caller's).
  MicroOp* make(MicroKind kind, std::uint32_t warps, bool group_wide);
  void add_ref(MicroOp* m) { ++m->refs; }
  /// Drop one reference; the op (and its references to its sources) is recycled at zero.
  void release(MicroOp* m);
  std::size_t live() const { return live_; }

 private:
  std::vector<MicroOp*> free_;
  std::vector<std::unique_ptr<MicroOp>> all_;
  std::size_t live_ = 0;
};

}  // namespace tilesim::simt

// `stream_probe`: streaming kernels as the bandwidth benchmarks run them (gpu-benches gpu-stream,
// gpu-l2-cache, gpu-cache; the Hopper dissection's float4 streams). A grid of `blocks` blocks of
// `threads` threads, at most `blocks_per_core` at once on a core. The first wave puts block s x cores + c
// in slot s of core c; after that a slot whose block retired claims the next block of the grid from the
// probe_block_dispatcher (block_dispatcher.hpp), which starts `block_launch_latency` cycles after the
// retirement (or when the grant arrives, if later). Thread t of block b, iteration i, touches
// element (i x stride + (b mod block_run) x threads + t) mod (footprint / access_bytes) of each array
// (stride = `iteration_stride`, or the whole grid's threads for a grid-stride loop); with `stream_order: random`
// the footprint's lines are visited in a pseudo-random permutation instead (a gather over random
// lines; elements within a line stay together). Per iteration:
// read: load B; write: store A; copy/scale: load B, store A; triad: load B and C, store A. The arrays an
// op uses lie in that order from address 0, each in its own 2 MiB-aligned region (a read stream's B at 0).
// A warp keeps the loads of up to `loads_in_flight` iterations in flight (the compiler's unrolling) and
// issues an iteration's store once its loads are back. Warp instructions are coalesced into line
// requests for the cache (space global) or issued whole to the scratch (space shared), at most
// `memory_issue_per_cycle` per cycle and only while the LSU queue has room.
// Prefix rule: only the first `max_bytes` of the grid are simulated — whole iterations when all blocks
// fit on the cores at once (grid-stride loops), whole blocks otherwise — but at least one full wave.
// Completed bytes (loads on return, stores on acknowledgement) go to the monitor.
// `die_placement` own_die / other_die (global memory, chips with several dies) steers each core's accesses
// to the memory of its own die / of the other dies, as benchmarks that allocate per die do: the address
// formula gives a logical offset into the array, whose chunks of `controller_interleave` bytes are laid,
// in order, onto the array's chunks homed where asked (the others are skipped, so an array spans
// dies / own or dies / (dies - 1) times its footprint).
#pragma once

#include <deque>
#include <vector>

#include "arch/memory/address_map.hpp"
#include "arch/memory/probe/block_dispatcher.hpp"
#include "arch/memory/probe/chase_order.hpp"
#include "arch/memory/probe/probe_core.hpp"

namespace tilesim {

class StreamProbe final : public ProbeCore {
 public:
  static ParamSchema param_schema() { return probe_param_schema(); }
  explicit StreamProbe(const ComponentContext& ctx);

  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return !finished_; }
  std::string waiting_on() const override;
  double progress_fraction() const override;

  /// Blocks the run simulates (the grid, or its prefix) and the blocks of the first wave (cores x
  /// blocks per core): the block dispatcher hands out the blocks between them.
  std::uint64_t simulated_blocks() const { return sim_blocks_; }
  std::uint64_t first_wave() const { return static_cast<std::uint64_t>(cores_) * blocks_per_core_; }

  OutPort<BlockClaim> block_claim{*this, "block_claim", "BlockClaim"};
  InPort<BlockGrant> block_grant{*this, "block_grant", "BlockGrant"};

 private:
  struct Warp {
    std::uint32_t slot = 0;        // block slot
    std::uint32_t lanes = 32;
    std::uint32_t first_thread = 0;
    std::uint64_t oldest = 0;      // oldest iteration not retired
    std::uint64_t next_load = 0;   // iteration of the next load instruction
    std::uint32_t next_array = 0;  // which load of that iteration
    std::uint64_t next_store = 0;  // iteration of the next store
    std::vector<std::uint32_t> loads_left;  // per iteration in the window (ring): load instructions not back
    bool active = false;
    bool queued = false;           // in the ready queue
  };
  struct Block {
    std::uint64_t index = 0;
    std::uint32_t warps_left = 0;
    bool active = false;
    std::uint64_t retired_at = 0;  // cycle its last block retired (the next may start block_launch_latency later)
  };
  struct Instr {
    std::uint32_t warp = 0;
    std::uint64_t iteration = 0;
    std::uint32_t pieces_left = 0;
    std::uint32_t bytes = 0;
    bool store = false;
    bool free = true;
  };

  bool can_issue(const Warp& w) const;
  bool issue(std::uint32_t warp_id, std::uint64_t now);
  void issue_access(std::uint32_t warp_id, std::uint64_t iteration, std::uint32_t array, bool store);
  void complete_piece(std::uint64_t instr_id, std::uint64_t now);
  void retire_iterations(std::uint32_t warp_id);
  void start_block(std::uint32_t slot, std::uint64_t block);
  void make_ready(std::uint32_t warp_id);
  std::uint64_t element(std::uint64_t block, std::uint32_t thread, std::uint64_t iteration) const;
  /// The address of logical byte `offset` of the array at `base` under `die_placement`.
  std::uint64_t placed(std::uint64_t base, std::uint64_t offset) const;
  bool chunk_selected(std::uint64_t chunk) const;
  std::uint32_t alloc_instr();

  // workload
  const std::string op_;
  const bool shared_;
  const std::uint32_t loads_per_iter_;
  const bool has_store_;
  const std::uint64_t elements_;
  const std::uint32_t access_bytes_;
  const std::uint32_t threads_;
  const std::uint32_t warps_per_block_;
  const std::uint64_t grid_blocks_;
  const std::uint32_t blocks_per_core_;
  std::uint64_t iterations_ = 0;
  std::uint64_t stride_ = 0;
  std::uint64_t block_run_ = 0;
  std::uint64_t sim_blocks_ = 0;
  const std::uint32_t in_flight_;
  std::uint64_t array_base_[3] = {0, 0, 0};  // A, B, C
  const bool random_;
  const std::uint64_t elements_per_line_;
  const ChaseOrder line_order_;  // random: the footprint's lines in permuted order
  // die placement (see header)
  enum class Placement { any, own_die, other_die };
  const Placement placement_;
  const AddressMap map_;
  std::uint32_t chunks_per_group_ = 0;  // chunks of one controller group (controllers of them) that are selected
  // core
  const std::uint32_t issue_per_cycle_;
  const std::size_t lsu_queue_limit_;
  const std::uint64_t block_launch_;

  // state
  std::vector<Block> blocks_;
  std::vector<Warp> warps_;
  std::deque<std::uint32_t> ready_;
  std::deque<MemRequest> lsu_queue_;
  std::vector<Instr> instrs_;
  std::vector<std::uint32_t> free_instrs_;
  std::uint32_t open_slots_ = 0;   // slots that run a block or wait for a grant (not told "none")
  struct Launch {
    std::uint64_t at;     // cycle the block starts
    std::uint32_t slot;
    std::uint64_t block;  // grid index
  };
  std::deque<Launch> launches_;  // pending block starts, in cycle order
  std::uint64_t outstanding_stores_ = 0;
  std::uint64_t blocks_done_ = 0;
  bool finished_ = false;

  Counter& st_loads_;
  Counter& st_stores_;
  Counter& st_bytes_;
  Counter& st_requests_;
  Counter& st_blocks_;
};

}  // namespace tilesim

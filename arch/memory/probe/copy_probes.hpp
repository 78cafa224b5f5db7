// Probes for the copy engine, the cluster network and per-core cold loads.
//
// `bulk_copy_probe` (workload.kind bulk_copy): blocks that keep `stages` copies of `bytes_per_copy` in
// flight from global memory into the scratch, as the TMA / cp.async bandwidth benchmarks do (the consumer
// frees a stage as soon as it lands). Engines: tma (1-D bulk copies through the copy engine), tma_2d (boxes
// of row_bytes-wide rows, rows `row_pitch` apart), cp_async (every thread of every warp copies
// `bytes_per_copy` through the cache into the scratch: a warp instruction of 32 x bytes_per_copy, `stages`
// instructions in flight per warp). Copies are assigned grid-stride (copy k of block b is unit
// k x blocks + b of the footprint); blocks run on core b mod cores, `blocks_per_core` at once. Prefix rule: the first `max_bytes` of all copies.
//
// `dsmem_probe` (workload.kind dsmem): every core of a full cluster of `cluster` consecutive cores (in one
// cluster-network group) reads the scratch of the next core of its cluster: `threads` threads in warps,
// each warp instruction reading 32 x access_bytes, `loads_in_flight` instructions per warp, `iterations`
// per warp (cut to `max_bytes` over all cores).
//
// `cold_load_probe` (workload.kind cold_load): core c waits c x cold_gap cycles, then loads one line that
// no one touched (homed on die `home_die`) and records the latency: the per-core cold-miss latency, whose
// difference between dies is the die-crossing penalty. Stats: cold_latency_cycles, die.
#pragma once

#include <deque>
#include <vector>

#include "arch/memory/probe/probe_core.hpp"

namespace tilesim {

class BulkCopyProbe final : public ProbeCore {
 public:
  static ParamSchema param_schema() { return probe_param_schema(); }
  explicit BulkCopyProbe(const ComponentContext& ctx);
  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return !finished_; }
  std::string waiting_on() const override;

 private:
  struct Block {
    std::uint64_t index = 0;
    std::uint64_t next_copy = 0;  // copies of this block issued
    std::uint64_t done = 0;
    std::uint32_t in_flight = 0;
    bool active = false;
  };
  struct WarpOp {  // cp_async: one warp instruction
    std::uint32_t slot = 0;
    std::uint32_t pieces_left = 0;
    std::uint32_t scratch_addr = 0;
    std::uint32_t bytes = 0;
  };
  void start_block(std::uint32_t slot, std::uint64_t block);
  void issue(std::uint32_t slot, std::uint64_t now);
  void copy_landed(std::uint32_t slot, std::uint64_t bytes);
  std::uint64_t copy_global(std::uint64_t block, std::uint64_t k) const;
  std::uint32_t stage_scratch(std::uint32_t slot, std::uint64_t k) const;

  const std::string engine_;
  const std::uint64_t copy_bytes_;  // per copy (tma) or per thread (cp_async)
  const std::uint32_t stages_;
  const std::uint32_t threads_;
  const std::uint64_t unit_bytes_;  // bytes per issued unit: a copy, or a warp instruction of cp_async
  const std::uint64_t grid_blocks_;
  const std::uint32_t blocks_per_core_;
  std::uint64_t copies_per_block_ = 0;
  std::uint64_t sim_blocks_ = 0, my_blocks_ = 0, next_block_ = 0, blocks_done_ = 0;
  const std::uint64_t row_bytes_, row_pitch_;
  std::vector<Block> blocks_;
  std::vector<std::uint32_t> ready_;
  std::deque<MemRequest> lsu_queue_;
  std::vector<WarpOp> ops_;
  std::vector<std::uint32_t> free_ops_;
  std::uint64_t next_id_ = 0;
  bool finished_ = false;

  Counter& st_copies_;
  Counter& st_bytes_;
};

class DsmemProbe final : public ProbeCore {
 public:
  static ParamSchema param_schema() { return probe_param_schema(); }
  explicit DsmemProbe(const ComponentContext& ctx);
  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return !finished_; }
  std::string waiting_on() const override;

 private:
  std::uint32_t target_ = 0;
  bool active_ = false;
  std::uint32_t warps_ = 0;
  std::uint64_t per_warp_ = 0;
  const std::uint32_t in_flight_;
  const std::uint32_t access_bytes_;
  std::vector<std::uint64_t> issued_, done_;
  std::vector<std::uint32_t> outstanding_;
  std::uint32_t next_warp_ = 0;
  bool finished_ = false;
  Counter& st_bytes_;
};

class ColdLoadProbe final : public ProbeCore {
 public:
  static ParamSchema param_schema() { return probe_param_schema(); }
  explicit ColdLoadProbe(const ComponentContext& ctx);
  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return !done_; }
  std::string waiting_on() const override { return "its cold load"; }

 private:
  const std::uint64_t address_;
  const std::uint64_t start_;
  bool sent_ = false, done_ = false;
  std::uint64_t sent_cycle_ = 0;
  Counter& st_latency_;
  Counter& st_die_;
};

}  // namespace tilesim

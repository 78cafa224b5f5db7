// `pchase_probe`: a dependent-load chain, as in the pointer-chase latency benchmarks (gpu-benches
// gpu-latency, the Hopper/Volta dissection papers). `threads` threads (ceil(threads / 32) warps, all
// following the same chain, as in the benchmark where every thread of the block chases the same
// pointers) load element after element of a chain of footprint / spacing slots, in random or sequential
// order; each load's address depends on the previous load's data, so a warp issues its next load
// `dependent_issue_latency` cycles after the data came back. A warm-up pass precedes `measure_loads` timed
// loads, like the benchmark's untimed first launch: the whole chain when its footprint is at most twice
// the whole L2, else `warmup_loads` loads (the chain is then far larger than every cache and misses
// everywhere in its steady state, as from a cold start: a full pass would change nothing but the run time). Spaces: global (through the cache), shared (own scratch), tma (a copy of `copy_bytes`
// through the copy engine into the scratch, then a scratch read of the loaded value), dsmem (another
// core's scratch through the cluster network, or the own one through the window).
// `home` restricts the chain to lines homed in the chasing core's own partition (near) or another one
// (far); `evict_partitions` adds, between the warm-up and the timed pass, one pass over other lines homed in the
// core's own partition, which evicts the core's partition (its replicas of far lines included) but not
// the far partitions: the timed pass then measures near misses that hit in the far home (a far hit).
// Stats: latency_cycles, latency_ns (per timed load).
#pragma once

#include <vector>

#include "arch/memory/probe/chase_order.hpp"
#include "arch/memory/probe/probe_core.hpp"

namespace tilesim {

class PchaseProbe final : public ProbeCore {
 public:
  static ParamSchema param_schema() { return probe_param_schema(); }
  explicit PchaseProbe(const ComponentContext& ctx);

  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return active_ && phase_ != Phase::done; }
  std::string waiting_on() const override;
  double progress_fraction() const override;

 private:
  enum class Phase { warmup, evict, measure, done };
  enum class Space { global, shared, tma, dsmem };
  struct Warp {
    std::uint64_t position = 0;  // next chain position
    std::uint64_t loads = 0;     // loads completed in this phase
    bool waiting = false;
    std::uint64_t ready_at = 0;  // cycle the next load may issue
  };

  bool try_issue(std::uint32_t w, std::uint64_t now);
  bool chain_line(std::uint64_t addr) const;
  std::uint64_t next_position(std::uint64_t position) const;
  std::uint64_t evict_address(std::uint64_t k) const;
  void start_phase(Phase phase, std::uint64_t start_cycle);
  void complete(std::uint32_t w, std::uint64_t now);
  std::uint64_t element_address(std::uint64_t element) const;

  AddressMap map_;
  const bool active_;
  const Space space_;
  const ChaseOrder order_;
  const std::uint64_t spacing_;
  const std::uint32_t access_bytes_, copy_bytes_;
  const std::uint64_t warmup_, measure_;
  const std::string home_;
  const std::uint64_t evict_loads_;
  std::uint64_t evict_cursor_ = 0;  // next candidate line of the eviction pass
  const std::uint32_t target_core_;
  const std::uint64_t evict_base_;
  std::vector<Warp> warps_;
  Phase phase_ = Phase::warmup;
  Tick measure_start_ = 0;
  std::uint64_t measure_start_cycle_ = 0;
  std::uint64_t next_copy_id_ = 0;

  Counter& st_loads_;
  Counter& st_span_ps_;
  Counter& st_span_cycles_;
  Counter& st_warmup_loads_;
};

}  // namespace tilesim

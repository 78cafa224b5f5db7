#include "arch/memory/probe/pchase_probe.hpp"

#include <algorithm>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<PchaseProbe> kRegistration("pchase_probe",
                                                   "memory probe: dependent-load chain (latency per level)");

std::uint64_t chain_length(const ParamValues& p) {
  const std::uint64_t n = p.bytes("footprint") / p.bytes("spacing");
  if (n == 0)
    throw ConfigError(cat(p.path(), ".footprint: ", p.bytes("footprint"), " B holds no element of ", p.bytes("spacing"),
                          " B spacing"));
  return n;
}

/// Warm-up loads: the whole chain when it could still fit the caches (up to twice the whole last-level
/// cache), else `warmup_loads` (a chain that large misses everywhere in its steady state, as it does from
/// a cold start: the capped warm-up only settles the DRAM banks and refresh phase). `warmup_loads = 0`
/// means no warm-up at all (cold misses).
std::uint64_t warmup_length(const ParamValues& p, std::uint64_t chain) {
  const auto cap = static_cast<std::uint64_t>(p.integer("warmup_loads"));
  if (cap == 0) return 0;
  const std::uint64_t l2_total = p.bytes("l2_partition_size") * static_cast<std::uint64_t>(p.integer("partitions"));
  if (chain * p.bytes("spacing") <= 2 * l2_total) return chain;
  return std::min(chain, cap);
}
}  // namespace

PchaseProbe::PchaseProbe(const ComponentContext& ctx)
    : ProbeCore(ctx),
      map_(AddressMap::from_params(params())),
      active_(core_ == static_cast<std::uint32_t>(params().integer("chase_core"))),
      space_([&] {
        const std::string& s = params().string("space");
        return s == "global" ? Space::global : s == "shared" ? Space::shared : s == "tma" ? Space::tma : Space::dsmem;
      }()),
      order_(chain_length(params()), params().string("order") == "random", seed()),
      spacing_(params().bytes("spacing")),
      access_bytes_(static_cast<std::uint32_t>(params().bytes("access_bytes"))),
      copy_bytes_(static_cast<std::uint32_t>(params().bytes("copy_bytes"))),
      warmup_(warmup_length(params(), order_.size())),
      measure_(static_cast<std::uint64_t>(params().integer("measure_loads"))),
      home_(params().string("home")),
      evict_loads_(static_cast<std::uint64_t>(params().real("evict_partitions") *
                                              static_cast<double>(params().bytes("l2_partition_size"))) /
                   line_bytes_),
      target_core_(params().string("target") == "own" ? core_ : core_ + 1),
      // The eviction pass reads lines from the first 256 MiB boundary past the chain.
      evict_base_((order_.size() * spacing_ / (256ull << 20) + 1) * (256ull << 20)),
      st_loads_(stats().counter("measured_loads", "", "timed loads (after the warm-up)")),
      st_span_ps_(stats().counter("measured_span", "ps", "time of the timed loads")),
      st_span_cycles_(stats().counter("measured_cycles", "cycles", "core cycles of the timed loads")),
      st_warmup_loads_(stats().counter("warmup_loads", "", "untimed loads of the warm-up and eviction passes")) {
  stats().ratio("latency_cycles", "cycles", "core cycles per timed load", "measured_cycles", "measured_loads");
  stats().ratio("latency_ns", "ns", "nanoseconds per timed load", "measured_span", "measured_loads", 1e-3);
  const std::string& where = params().path();
  const std::uint64_t footprint = order_.size() * spacing_;
  if (static_cast<std::uint64_t>(params().integer("chase_core")) >= cores_)
    throw ConfigError(cat(where, ".chase_core: ", params().integer("chase_core"), " is not below the ", cores_, " cores"));
  if ((space_ == Space::shared || space_ == Space::dsmem) && footprint > scratch_bytes_)
    throw ConfigError(cat(where, ".footprint: ", footprint, " B does not fit the ", scratch_bytes_, " B scratch"));
  if (space_ == Space::dsmem && target_core_ != core_ && active_ &&
      (target_core_ >= cores_ || target_core_ / cores_per_group_ != core_ / cores_per_group_))
    throw ConfigError(cat(where, ".chase_core: core ", core_, " has no neighbour in its cluster-network group"));
  if (space_ == Space::global && access_bytes_ > line_bytes_)
    throw ConfigError(cat(where, ".access_bytes: a chase load must fit one ", line_bytes_, " B line"));
  if (home_ != "any" && space_ != Space::global && space_ != Space::tma)
    throw ConfigError(cat(where, ".home: only global-memory chains have homes"));
  if (home_ == "far" && map_.partitions() == 1)
    throw ConfigError(cat(where, ".home: far needs more than one partition (chip.partitions)"));
  if (evict_loads_ > 0 && space_ != Space::global)
    throw ConfigError(cat(where, ".evict_partitions: the eviction pass reads global memory"));
  warps_.resize((static_cast<std::size_t>(params().integer("threads")) + 31) / 32);
  if (active_) {
    const std::uint64_t first = next_position(0);
    for (auto& w : warps_) w.position = first;
  }
  phase_ = warmup_ > 0 ? Phase::warmup : evict_loads_ > 0 ? Phase::evict : Phase::measure;
}

bool PchaseProbe::chain_line(std::uint64_t addr) const {
  if (home_ == "any") return true;
  const bool near = map_.home_partition(addr) == map_.partition_of_core(core_);
  return home_ == "near" ? near : !near;
}

std::uint64_t PchaseProbe::next_position(std::uint64_t position) const {
  // Skip chain elements whose line is not homed where asked (about half of them for near/far).
  for (std::uint64_t tries = 0; tries < 64 * order_.size() + 64; ++tries, ++position)
    if (chain_line(order_.at(position) * spacing_)) return position;
  panic(name(), ": no chain element is homed ", home_, " of core ", core_);
}

std::uint64_t PchaseProbe::evict_address(std::uint64_t k) const { return evict_base_ + k * line_bytes_; }

void PchaseProbe::init() {
  if (!active_) {
    flush_report(true);
    return;
  }
  wake_at(Cycle(0));  // with no warm-up, the timed pass starts at cycle 0 (measure_start_ = 0)
}

std::uint64_t PchaseProbe::element_address(std::uint64_t element) const {
  const std::uint64_t a = element * spacing_;
  return space_ == Space::shared || space_ == Space::dsmem ? a % scratch_bytes_ : a;
}

bool PchaseProbe::try_issue(std::uint32_t w, std::uint64_t now) {
  Warp& warp = warps_[w];
  std::uint64_t addr;
  if (phase_ == Phase::evict) {
    // The next line of the eviction region homed in this core's partition.
    while (map_.home_partition(evict_address(evict_cursor_)) != map_.partition_of_core(core_)) ++evict_cursor_;
    addr = evict_address(evict_cursor_);
  } else {
    addr = element_address(order_.at(warp.position));
  }
  const Tick t = clock().now_tick();
  switch (space_) {
    case Space::global: {
      if (!cache_req.can_send()) return false;
      MemRequest r;
      r.id = w;
      r.addr = addr;
      r.bytes = access_bytes_;
      r.issued = t;
      cache_req.send(r);
      break;
    }
    case Space::shared: {
      ScratchRequest r;
      r.req.id = w;
      r.req.addr = addr;
      r.req.bytes = access_bytes_;
      r.req.issued = t;
      scratch_req.send(std::move(r));
      break;
    }
    case Space::tma: {
      CopyCommand c;
      c.id = w;
      c.direction = CopyDirection::to_scratch;
      c.global_addr = addr;
      c.scratch_addr = static_cast<std::uint32_t>((w * copy_bytes_) % scratch_bytes_);
      c.row_bytes = copy_bytes_;
      c.issued = t;
      copy_cmd.send(c);
      break;
    }
    case Space::dsmem: {
      ScratchRequest r;
      r.req.id = w;
      r.req.addr = static_cast<std::uint64_t>(target_core_) * window_bytes_ + addr;
      r.req.bytes = access_bytes_;
      r.req.source = core_;
      r.req.issued = t;
      remote_req.send(std::move(r));
      break;
    }
  }
  warp.waiting = true;
  (void)now;
  return true;
}

void PchaseProbe::start_phase(Phase phase, std::uint64_t start_cycle) {
  // Every warp starts the next pass together, as a new kernel launch would.
  phase_ = phase;
  for (auto& x : warps_) {
    x.loads = 0;
    x.ready_at = start_cycle;
  }
  if (phase == Phase::measure) {
    measure_start_cycle_ = start_cycle;
    measure_start_ = clock().tick_of(Cycle(start_cycle));
  }
}

void PchaseProbe::complete(std::uint32_t w, std::uint64_t now) {
  Warp& warp = warps_[w];
  if (!warp.waiting) panic(name(), ": response for warp ", w, " that has no load in flight");
  warp.waiting = false;
  ++warp.loads;
  warp.ready_at = now + dependent_issue_;
  note_progress();
  auto all_done = [&](std::uint64_t n) {
    return std::all_of(warps_.begin(), warps_.end(), [&](const Warp& x) { return x.loads >= n && !x.waiting; });
  };
  const std::uint64_t next_start = now + dependent_issue_;
  switch (phase_) {
    case Phase::warmup:
      warp.position = next_position(warp.position + 1);
      ++st_warmup_loads_;
      if (all_done(warmup_)) start_phase(evict_loads_ > 0 ? Phase::evict : Phase::measure, next_start);
      break;
    case Phase::evict:
      ++evict_cursor_;
      ++st_warmup_loads_;
      // One pass: warp 0 reads the eviction lines; the others wait.
      if (warps_[0].loads >= evict_loads_ && all_done(0)) start_phase(Phase::measure, next_start);
      break;
    case Phase::measure:
      warp.position = next_position(warp.position + 1);
      if (all_done(measure_)) {
        phase_ = Phase::done;
        st_loads_ += measure_;
        st_span_cycles_ += next_start - measure_start_cycle_;  // the last load's data is used, as the next load would
        st_span_ps_ += clock().tick_of(Cycle(next_start)) - measure_start_;
        flush_report(true);
      }
      break;
    case Phase::done:
      panic(name(), ": load completed after the chase ended");
  }
}

bool PchaseProbe::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  while (cache_resp.ready()) complete(static_cast<std::uint32_t>(cache_resp.pop().req.id), now);
  while (scratch_resp.ready()) complete(static_cast<std::uint32_t>(scratch_resp.pop().req.id), now);
  while (remote_resp.ready()) complete(static_cast<std::uint32_t>(remote_resp.pop().req.id), now);
  while (copy_done.ready()) {
    // The copy landed in the scratch: read the loaded value from there.
    const CopyDone d = copy_done.pop();
    ScratchRequest r;
    r.req.id = d.id;
    r.req.addr = (d.id * copy_bytes_) % scratch_bytes_;
    r.req.bytes = std::min(access_bytes_, copy_bytes_);
    r.req.issued = clock().now_tick();
    scratch_req.send(std::move(r));
  }
  if (phase_ == Phase::done) return false;
  std::uint64_t next = DelayHeap<int>::kNone;
  const std::uint64_t limit = phase_ == Phase::warmup ? warmup_ : phase_ == Phase::evict ? evict_loads_ : measure_;
  for (std::uint32_t w = 0; w < warps_.size(); ++w) {
    Warp& warp = warps_[w];
    if (warp.waiting || warp.loads >= limit || (phase_ == Phase::evict && w > 0)) continue;
    if (warp.ready_at > now) {
      next = std::min(next, warp.ready_at);
      continue;
    }
    if (!try_issue(w, now)) return false;  // a freed credit wakes us
  }
  if (next != DelayHeap<int>::kNone) wake_at(Cycle(next));
  return false;
}

std::string PchaseProbe::waiting_on() const {
  std::size_t waiting = 0;
  for (const auto& w : warps_) waiting += w.waiting ? 1 : 0;
  const char* phase = phase_ == Phase::warmup ? "warm-up" : phase_ == Phase::evict ? "eviction pass" : "timed pass";
  return cat(waiting, " of ", warps_.size(), " warps wait for a load (", phase, ")");
}

double PchaseProbe::progress_fraction() const {
  if (!active_ || warps_.empty() || phase_ == Phase::done) return 1.0;
  const double total = static_cast<double>(warmup_ + evict_loads_ + measure_);
  double done = static_cast<double>(warps_[0].loads);
  if (phase_ != Phase::warmup) done += static_cast<double>(warmup_);
  if (phase_ == Phase::measure) done += static_cast<double>(evict_loads_);
  return std::min(1.0, done / total);
}

}  // namespace tilesim

#include "arch/memory/probe/copy_probes.hpp"

#include <algorithm>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<BulkCopyProbe> kBulk("bulk_copy_probe", "memory probe: copy-engine bandwidth (TMA, cp.async)");
const RegisterComponent<DsmemProbe> kDsmem("dsmem_probe", "memory probe: core-to-core scratch throughput (DSMEM)");
const RegisterComponent<ColdLoadProbe> kCold("cold_load_probe", "memory probe: one cold load per core, one core at a time");
}  // namespace

// ---- bulk_copy -------------------------------------------------------------------------------------------

BulkCopyProbe::BulkCopyProbe(const ComponentContext& ctx)
    : ProbeCore(ctx),
      engine_(params().string("engine")),
      copy_bytes_(params().bytes("bytes_per_copy")),
      stages_(static_cast<std::uint32_t>(params().integer("stages"))),
      threads_(static_cast<std::uint32_t>(params().integer("threads"))),
      unit_bytes_(engine_ == "cp_async" ? 32 * copy_bytes_ : copy_bytes_),
      grid_blocks_(grid_blocks(params(), cores_)),
      blocks_per_core_(resident_blocks(params(), cores_)),
      row_bytes_(params().bytes("row_bytes")),
      row_pitch_(params().bytes("row_pitch")),
      st_copies_(stats().counter("copies", "", "copies (tma) or warp copy instructions (cp_async) landed")),
      st_bytes_(stats().counter("bytes", "B", "bytes landed in the scratch")) {
  const std::string& where = params().path();
  if (engine_ == "cp_async" && copy_bytes_ > 16)
    throw ConfigError(cat(where, ".bytes_per_copy: cp.async copies at most 16 B per thread"));
  if (engine_ == "tma_2d" && (copy_bytes_ % row_bytes_ != 0 || row_pitch_ < row_bytes_ || row_pitch_ % row_bytes_ != 0))
    throw ConfigError(cat(where, ": a 2-D box needs bytes_per_copy a multiple of row_bytes and row_pitch a multiple of "
                                 "row_bytes"));
  const std::uint64_t in_flight_units = (engine_ == "cp_async" ? (threads_ + 31) / 32 : 1) * stages_;
  if (static_cast<std::uint64_t>(blocks_per_core_) * in_flight_units * unit_bytes_ > scratch_bytes_)
    throw ConfigError(cat(where, ": ", blocks_per_core_, " blocks x ", in_flight_units, " stages x ", unit_bytes_,
                          " B do not fit the ", scratch_bytes_, " B scratch"));
  const std::uint64_t units = params().bytes("footprint") / unit_bytes_;
  const std::uint64_t sim_units = std::min(units, std::max<std::uint64_t>(1, params().bytes("max_bytes") / unit_bytes_));
  sim_blocks_ = std::min<std::uint64_t>(grid_blocks_, std::max<std::uint64_t>(1, sim_units));
  copies_per_block_ = std::max<std::uint64_t>(1, sim_units / sim_blocks_);
  for (std::uint64_t b = core_; b < sim_blocks_; b += cores_) ++my_blocks_;
  blocks_.resize(blocks_per_core_);
}

void BulkCopyProbe::init() {
  if (my_blocks_ == 0) {
    finished_ = true;
    flush_report(true);
    return;
  }
  for (std::uint32_t s = 0; s < blocks_per_core_ && next_block_ < my_blocks_; ++s)
    start_block(s, core_ + static_cast<std::uint64_t>(cores_) * next_block_++);
  wake_at(Cycle(0));
}

void BulkCopyProbe::start_block(std::uint32_t slot, std::uint64_t block) {
  blocks_[slot] = Block{block, 0, 0, 0, true};
}

std::uint64_t BulkCopyProbe::copy_global(std::uint64_t block, std::uint64_t k) const {
  // Grid-stride: copy k of every block before copy k + 1 of any, so the copies in flight at a time cover a
  // contiguous stretch of the footprint (as a `for (i = blockIdx.x; ...; i += gridDim.x)` loop does).
  const std::uint64_t t = k * sim_blocks_ + block;  // the t-th unit of the footprint
  if (engine_ != "tma_2d") return t * unit_bytes_;
  // Boxes tile a 2-D array of rows row_pitch bytes long: row_pitch / row_bytes boxes side by side per band.
  const std::uint64_t rows = copy_bytes_ / row_bytes_, per_band = row_pitch_ / row_bytes_;
  return (t / per_band) * rows * row_pitch_ + (t % per_band) * row_bytes_;
}

std::uint32_t BulkCopyProbe::stage_scratch(std::uint32_t slot, std::uint64_t k) const {
  const std::uint64_t units_per_block = scratch_bytes_ / unit_bytes_ / blocks_per_core_;
  return static_cast<std::uint32_t>((slot * units_per_block + k % units_per_block) * unit_bytes_);
}

void BulkCopyProbe::issue(std::uint32_t slot, std::uint64_t now) {
  Block& b = blocks_[slot];
  const std::uint32_t limit = (engine_ == "cp_async" ? (threads_ + 31) / 32 : 1) * stages_;
  const Tick t = clock().now_tick();
  while (b.active && b.in_flight < limit && b.next_copy < copies_per_block_) {
    if (engine_ == "cp_async" && lsu_queue_.size() >= 64) return;  // the LSU queue is full: retry later
    const std::uint64_t k = b.next_copy++;
    ++b.in_flight;
    const std::uint64_t g = copy_global(b.index, k);
    const std::uint32_t s = stage_scratch(slot, k);
    if (engine_ == "cp_async") {
      std::uint32_t op;
      if (free_ops_.empty()) {
        ops_.emplace_back();
        op = static_cast<std::uint32_t>(ops_.size() - 1);
      } else {
        op = free_ops_.back();
        free_ops_.pop_back();
      }
      ops_[op] = WarpOp{slot, 0, s, static_cast<std::uint32_t>(unit_bytes_)};
      for (std::uint64_t a = g; a < g + unit_bytes_;) {
        const std::uint64_t n = std::min<std::uint64_t>(g + unit_bytes_ - a, line_bytes_ - a % line_bytes_);
        MemRequest r;
        r.id = op;
        r.addr = a;
        r.bytes = static_cast<std::uint32_t>(n);
        r.issued = t;
        lsu_queue_.push_back(r);
        ++ops_[op].pieces_left;
        a += n;
      }
    } else {
      CopyCommand c;
      c.id = slot;
      c.direction = CopyDirection::to_scratch;
      c.global_addr = g;
      c.scratch_addr = s;
      if (engine_ == "tma_2d") {
        c.rows = static_cast<std::uint32_t>(copy_bytes_ / row_bytes_);
        c.row_bytes = static_cast<std::uint32_t>(row_bytes_);
        c.pitch = row_pitch_;
      } else {
        c.row_bytes = static_cast<std::uint32_t>(copy_bytes_);
      }
      c.issued = t;
      copy_cmd.send(c);
    }
  }
  (void)now;
}

void BulkCopyProbe::copy_landed(std::uint32_t slot, std::uint64_t bytes) {
  Block& b = blocks_[slot];
  --b.in_flight;
  ++b.done;
  ++st_copies_;
  st_bytes_ += bytes;
  add_completed(bytes);
  note_progress();
  if (b.done == copies_per_block_) {
    b.active = false;
    ++blocks_done_;
    if (next_block_ < my_blocks_) start_block(slot, core_ + static_cast<std::uint64_t>(cores_) * next_block_++);
  }
}

bool BulkCopyProbe::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  while (copy_done.ready()) {
    const CopyDone d = copy_done.pop();
    copy_landed(static_cast<std::uint32_t>(d.id), d.bytes);
  }
  while (cache_resp.ready()) {  // cp_async: a line arrived; the whole instruction then goes to the scratch
    const MemResponse m = cache_resp.pop();
    WarpOp& op = ops_.at(m.req.id);
    if (--op.pieces_left == 0) {
      ScratchRequest w;
      w.req.id = m.req.id;
      w.req.addr = op.scratch_addr;
      w.req.bytes = op.bytes;
      w.req.op = MemOp::write;
      w.req.issued = clock().now_tick();
      scratch_req.send(std::move(w));
    }
  }
  while (scratch_resp.ready()) {
    const MemResponse m = scratch_resp.pop();
    const WarpOp op = ops_.at(m.req.id);
    free_ops_.push_back(static_cast<std::uint32_t>(m.req.id));
    copy_landed(op.slot, op.bytes);
  }
  for (std::uint32_t s = 0; s < blocks_.size(); ++s) issue(s, now);
  while (!lsu_queue_.empty() && cache_req.can_send()) {
    cache_req.send(lsu_queue_.front());
    lsu_queue_.pop_front();
  }
  if (!finished_ && blocks_done_ == my_blocks_) {
    finished_ = true;
    flush_report(true);
  }
  return false;  // completions and freed credits wake us
}

std::string BulkCopyProbe::waiting_on() const {
  std::uint64_t in_flight = 0;
  for (const auto& b : blocks_) in_flight += b.in_flight;
  return cat(blocks_done_, " of ", my_blocks_, " blocks done, ", in_flight, " copies in flight");
}

// ---- dsmem -----------------------------------------------------------------------------------------------

DsmemProbe::DsmemProbe(const ComponentContext& ctx)
    : ProbeCore(ctx),
      in_flight_(static_cast<std::uint32_t>(params().integer("loads_in_flight"))),
      access_bytes_(static_cast<std::uint32_t>(params().bytes("access_bytes"))),
      st_bytes_(stats().counter("bytes", "B", "bytes read from the other core's scratch")) {
  const auto cluster = static_cast<std::uint32_t>(params().integer("cluster"));
  const std::uint32_t group_base = core_ / cores_per_group_ * cores_per_group_;
  const std::uint32_t group_end = std::min(group_base + cores_per_group_, cores_);
  const std::uint32_t index = (core_ - group_base) / cluster, rank = (core_ - group_base) % cluster;
  const std::uint32_t cluster_base = group_base + index * cluster;
  active_ = cluster > 1 && cluster_base + cluster <= group_end;
  target_ = cluster_base + (rank + 1) % cluster;
  if (cluster > cores_per_group_)
    throw ConfigError(cat(params().path(), ".cluster: ", cluster, " cores do not fit a group of ", cores_per_group_));
  warps_ = (static_cast<std::uint32_t>(params().integer("threads")) + 31) / 32;
  // Cut the iterations so that all active cores together move about max_bytes.
  const std::uint64_t clusters = static_cast<std::uint64_t>(cores_) / cores_per_group_ * (cores_per_group_ / cluster) +
                                 (cores_ % cores_per_group_) / cluster;
  const std::uint64_t per_instruction = 32ull * access_bytes_;
  const std::uint64_t total_warps = std::max<std::uint64_t>(1, clusters * cluster * warps_);
  per_warp_ = std::min<std::uint64_t>(static_cast<std::uint64_t>(params().integer("iterations")),
                                      std::max<std::uint64_t>(1, params().bytes("max_bytes") / per_instruction / total_warps));
  if (per_instruction > scratch_bytes_) throw ConfigError(cat(params().path(), ".access_bytes: 32 lanes exceed the scratch"));
  issued_.assign(warps_, 0);
  done_.assign(warps_, 0);
  outstanding_.assign(warps_, 0);
}

void DsmemProbe::init() {
  if (!active_) {
    finished_ = true;
    flush_report(true);
    return;
  }
  wake_at(Cycle(0));
}

bool DsmemProbe::tick(Cycle) {
  while (remote_resp.ready()) {
    const MemResponse m = remote_resp.pop();
    const auto w = static_cast<std::uint32_t>(m.req.id);
    --outstanding_[w];
    ++done_[w];
    st_bytes_ += m.req.bytes;
    add_completed(m.req.bytes);
    note_progress();
  }
  // One warp instruction per cycle, round-robin over warps with room.
  const std::uint64_t per_instruction = 32ull * access_bytes_;
  bool more = false;
  for (std::uint32_t k = 0; k < warps_; ++k) {
    const std::uint32_t w = (next_warp_ + k) % warps_;
    if (outstanding_[w] >= in_flight_ || issued_[w] >= per_warp_) continue;
    ScratchRequest r;
    r.req.id = w;
    r.req.source = core_;
    r.req.bytes = static_cast<std::uint32_t>(per_instruction);
    r.req.addr = static_cast<std::uint64_t>(target_) * window_bytes_ +
                 ((static_cast<std::uint64_t>(w) * in_flight_ + issued_[w] % in_flight_) * per_instruction) % scratch_bytes_ /
                     per_instruction * per_instruction;
    r.req.issued = clock().now_tick();
    remote_req.send(std::move(r));
    ++issued_[w];
    ++outstanding_[w];
    next_warp_ = (w + 1) % warps_;
    more = true;
    break;
  }
  bool all_done = true;
  for (std::uint32_t w = 0; w < warps_; ++w) all_done = all_done && done_[w] >= per_warp_;
  if (all_done && !finished_) {
    finished_ = true;
    flush_report(true);
    return false;
  }
  return more;  // responses wake us otherwise
}

std::string DsmemProbe::waiting_on() const {
  std::uint64_t out = 0;
  for (auto o : outstanding_) out += o;
  return cat(out, " remote reads in flight to core ", target_);
}

// ---- cold_load ---------------------------------------------------------------------------------------------

ColdLoadProbe::ColdLoadProbe(const ComponentContext& ctx)
    : ProbeCore(ctx),
      address_(params().bytes("home_base")),
      start_(static_cast<std::uint64_t>(params().quantity("cold_gap")) * core_),
      st_latency_(stats().counter("cold_latency_cycles", "cycles", "core cycles of this core's cold load")),
      st_die_(stats().counter("die", "", "die of this core")) {
  st_die_ += static_cast<std::uint64_t>(params().integer("die_of_core"));
}

void ColdLoadProbe::init() { wake_at(Cycle(start_)); }

bool ColdLoadProbe::tick(Cycle now) {
  if (cache_resp.ready()) {
    cache_resp.pop();
    st_latency_ += now.value - sent_cycle_ + dependent_issue_;
    done_ = true;
    note_progress();
    flush_report(true);
    return false;
  }
  if (!sent_) {
    if (!cache_req.can_send()) return false;
    MemRequest r;
    r.addr = address_;
    r.bytes = 16;
    r.issued = clock().now_tick();
    cache_req.send(r);
    sent_ = true;
    sent_cycle_ = now.value;
  }
  return false;
}

}  // namespace tilesim

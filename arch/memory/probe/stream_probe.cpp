#include "arch/memory/probe/stream_probe.hpp"

#include <algorithm>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<StreamProbe> kRegistration("stream_probe",
                                                   "memory probe: streaming kernels (read/write/copy/scale/triad)");

std::uint32_t loads_of(const std::string& op) { return op == "write" ? 0 : op == "triad" ? 2 : 1; }
std::uint64_t round_up(std::uint64_t v, std::uint64_t to) { return (v + to - 1) / to * to; }
constexpr std::uint64_t kAllocationAlignment = 2ull << 20;  // large device allocations start on 2 MiB
}  // namespace

StreamProbe::StreamProbe(const ComponentContext& ctx)
    : ProbeCore(ctx),
      op_(params().string("op")),
      shared_(params().string("space") == "shared"),
      loads_per_iter_(loads_of(op_)),
      has_store_(op_ != "read"),
      elements_(params().bytes("footprint") / params().bytes("access_bytes")),
      access_bytes_(static_cast<std::uint32_t>(params().bytes("access_bytes"))),
      threads_(static_cast<std::uint32_t>(params().integer("threads"))),
      warps_per_block_((threads_ + 31) / 32),
      grid_blocks_(grid_blocks(params(), cores_)),
      blocks_per_core_(resident_blocks(params(), cores_)),
      in_flight_(static_cast<std::uint32_t>(params().integer("loads_in_flight"))),
      random_(params().string("stream_order") == "random"),
      elements_per_line_(std::max<std::uint64_t>(1, line_bytes_ / params().bytes("access_bytes"))),
      line_order_(std::max<std::uint64_t>(1, elements_ / elements_per_line_), true, seed()),
      placement_(params().string("die_placement") == "own_die"     ? Placement::own_die
                 : params().string("die_placement") == "other_die" ? Placement::other_die
                                                                    : Placement::any),
      map_(AddressMap::from_params(params())),
      issue_per_cycle_(static_cast<std::uint32_t>(params().integer("memory_issue_per_cycle"))),
      lsu_queue_limit_(static_cast<std::size_t>(params().integer("lsu_queue"))),
      block_launch_(static_cast<std::uint64_t>(params().quantity("block_launch_latency"))),
      st_loads_(stats().counter("load_instructions", "", "warp load instructions completed")),
      st_stores_(stats().counter("store_instructions", "", "warp store instructions acknowledged")),
      st_bytes_(stats().counter("bytes", "B", "bytes loaded and stored (thread accesses)")),
      st_requests_(stats().counter("requests", "", "line requests (global) or scratch accesses (shared) sent")),
      st_blocks_(stats().counter("blocks", "", "blocks run to completion")) {
  const std::string& where = params().path();
  if (elements_ < 1) throw ConfigError(cat(where, ".footprint: smaller than one access"));
  if (!shared_ && params().string("space") != "global")
    throw ConfigError(cat(where, ".space: stream reads global memory or the own scratch (shared), not ",
                          params().string("space")));
  if (shared_ && op_ != "read") throw ConfigError(cat(where, ".op: a shared-memory stream is a read stream"));
  if (shared_ && elements_ * access_bytes_ > scratch_bytes_)
    throw ConfigError(cat(where, ".footprint: does not fit the ", scratch_bytes_, " B scratch"));
  if (!shared_ && access_bytes_ > line_bytes_)
    throw ConfigError(cat(where, ".access_bytes: a thread's access must fit one line"));
  const auto max_warps = static_cast<std::uint64_t>(params().integer("warps"));
  if (static_cast<std::uint64_t>(blocks_per_core_) * warps_per_block_ > max_warps ||
      blocks_per_core_ > static_cast<std::uint64_t>(params().integer("max_blocks")))
    throw ConfigError(cat(where, ".blocks_per_core: ", blocks_per_core_, " blocks of ", threads_,
                          " threads exceed a core (core.warps = ", max_warps, ", core.max_blocks = ",
                          params().integer("max_blocks"), ")"));

  const std::uint64_t requested_iterations = static_cast<std::uint64_t>(params().integer("iterations"));
  stride_ = params().integer("iteration_stride") > 0 ? static_cast<std::uint64_t>(params().integer("iteration_stride"))
                                                     : grid_blocks_ * threads_;
  block_run_ = params().integer("block_run") > 0 ? static_cast<std::uint64_t>(params().integer("block_run")) : grid_blocks_;
  // Prefix rule (see header).
  const std::uint64_t accesses = loads_per_iter_ + (has_store_ ? 1 : 0);
  const std::uint64_t bytes_per_block_iteration = static_cast<std::uint64_t>(threads_) * access_bytes_ * accesses;
  const std::uint64_t max_bytes = params().bytes("max_bytes");
  const std::uint64_t wave = static_cast<std::uint64_t>(cores_) * blocks_per_core_;
  if (grid_blocks_ <= wave) {
    sim_blocks_ = grid_blocks_;
    const std::uint64_t per_iteration = grid_blocks_ * bytes_per_block_iteration;
    iterations_ = std::min(requested_iterations, std::max<std::uint64_t>(1, (max_bytes + per_iteration - 1) / per_iteration));
  } else {
    iterations_ = requested_iterations;
    const std::uint64_t per_block = bytes_per_block_iteration * iterations_;
    sim_blocks_ = std::min(grid_blocks_, std::max(wave, (max_bytes + per_block - 1) / per_block));
  }

  std::uint64_t span = elements_ * access_bytes_;
  if (placement_ != Placement::any) {
    const std::uint32_t dies = map_.spec().dies;
    if (dies < 2) throw ConfigError(cat(where, ".die_placement: ", params().string("die_placement"),
                                        " needs a chip of several dies (chip.dies is ", dies, ")"));
    if (shared_) throw ConfigError(cat(where, ".die_placement: only global-memory streams have homes"));
    const std::uint64_t chunk = map_.spec().controller_interleave;
    if (chunk % line_bytes_ != 0)
      throw ConfigError(cat(where, ".die_placement: memory.hbm.controller_interleave (", chunk,
                            " B) must be a multiple of the ", line_bytes_, " B line"));
    // Each group of `controllers` chunks has controllers / dies chunks on every die (address_map.hpp).
    const std::uint32_t per_die = map_.controllers() / dies;
    chunks_per_group_ = placement_ == Placement::own_die ? per_die : map_.controllers() - per_die;
    // Whole controller groups, plus one for the first group boundary at or after the array base.
    const std::uint64_t chunks = (span + chunk - 1) / chunk;
    span = ((chunks + chunks_per_group_ - 1) / chunks_per_group_ + 1) * map_.controllers() * chunk;
  }
  // The arrays the op uses, in the order A, B, C, one 2 MiB-aligned region each from address 0: a read
  // stream's B starts at 0, where memory.l2.prefill_base 0 warms the L2 with it (validation's L2 rows).
  const std::uint64_t region = round_up(span, kAllocationAlignment);
  const bool used[3] = {has_store_, loads_per_iter_ >= 1, loads_per_iter_ >= 2};
  std::uint64_t next_base = 0;
  for (int a = 0; a < 3; ++a)
    if (used[a]) {
      array_base_[a] = next_base;
      next_base += region;
    }

  blocks_.resize(blocks_per_core_);
  warps_.resize(static_cast<std::size_t>(blocks_per_core_) * warps_per_block_);
  for (auto& w : warps_) w.loads_left.assign(in_flight_, 0);
}

void StreamProbe::init() {
  // The first wave: slot s of this core runs block s x cores + core (the work distributor fills the cores
  // round robin); later blocks come from the block dispatcher.
  for (std::uint32_t s = 0; s < blocks_per_core_; ++s) {
    const std::uint64_t block = static_cast<std::uint64_t>(s) * cores_ + core_;
    if (block >= sim_blocks_) break;
    start_block(s, block);
    ++open_slots_;
  }
  if (open_slots_ == 0) {
    finished_ = true;
    flush_report(true);
    return;
  }
  wake_at(Cycle(0));
}

std::uint64_t StreamProbe::element(std::uint64_t block, std::uint32_t thread, std::uint64_t iteration) const {
  const std::uint64_t e = (iteration * stride_ + (block % block_run_) * threads_ + thread) % elements_;
  if (!random_) return e;
  const std::uint64_t line = e / elements_per_line_;
  if (line >= line_order_.size()) return e;  // the tail past the last whole line stays in place
  return line_order_.at(line) * elements_per_line_ + e % elements_per_line_;
}

void StreamProbe::start_block(std::uint32_t slot, std::uint64_t block) {
  blocks_[slot] = Block{block, warps_per_block_, true};
  for (std::uint32_t k = 0; k < warps_per_block_; ++k) {
    Warp& w = warps_[slot * warps_per_block_ + k];
    w.slot = slot;
    w.first_thread = 32 * k;
    w.lanes = std::min<std::uint32_t>(32, threads_ - 32 * k);
    w.oldest = w.next_load = w.next_store = 0;
    w.next_array = 0;
    std::fill(w.loads_left.begin(), w.loads_left.end(), 0);
    w.active = true;
    make_ready(slot * warps_per_block_ + k);
  }
}

bool StreamProbe::can_issue(const Warp& w) const {
  if (!w.active) return false;
  if (has_store_ && w.next_store < iterations_ && w.next_store < w.oldest + in_flight_) {
    const bool loads_issued = loads_per_iter_ == 0 || w.next_store < w.next_load;
    if (loads_issued && w.loads_left[w.next_store % in_flight_] == 0) return true;
  }
  return loads_per_iter_ > 0 && w.next_load < iterations_ && w.next_load < w.oldest + in_flight_;
}

void StreamProbe::make_ready(std::uint32_t id) {
  Warp& w = warps_[id];
  if (!w.queued && can_issue(w)) {
    w.queued = true;
    ready_.push_back(id);
  }
}

std::uint32_t StreamProbe::alloc_instr() {
  if (free_instrs_.empty()) {
    instrs_.emplace_back();
    return static_cast<std::uint32_t>(instrs_.size() - 1);
  }
  const std::uint32_t i = free_instrs_.back();
  free_instrs_.pop_back();
  return i;
}

void StreamProbe::issue_access(std::uint32_t warp_id, std::uint64_t iteration, std::uint32_t array, bool store) {
  const Warp& w = warps_[warp_id];
  const std::uint64_t block = blocks_[w.slot].index;
  const std::uint32_t id = alloc_instr();
  Instr& in = instrs_[id];
  in = Instr{warp_id, iteration, 0, w.lanes * access_bytes_, store, false};
  // The warp's lanes touch consecutive elements; a range that wraps past the footprint splits in two.
  const std::uint64_t e0 = element(block, w.first_thread, iteration);
  std::uint64_t first_run = std::min<std::uint64_t>(w.lanes, elements_ - e0);
  const std::uint64_t runs[2][2] = {{e0, first_run}, {0, w.lanes - first_run}};
  const Tick t = clock().now_tick();
  for (const auto& run : runs) {
    if (run[1] == 0) continue;
    if (shared_) {
      ScratchRequest r;
      r.req.id = id;
      r.req.addr = run[0] * access_bytes_;
      r.req.bytes = static_cast<std::uint32_t>(run[1] * access_bytes_);
      r.req.issued = t;
      scratch_req.send(std::move(r));
      ++in.pieces_left;
      ++st_requests_;
      continue;
    }
    std::uint64_t a = run[0] * access_bytes_;  // logical offset into the array
    const std::uint64_t end = a + run[1] * access_bytes_;
    while (a < end) {
      const std::uint64_t n = std::min<std::uint64_t>(end - a, line_bytes_ - a % line_bytes_);
      MemRequest r;
      r.id = id;
      r.addr = placed(array_base_[array], a);
      r.bytes = static_cast<std::uint32_t>(n);
      r.op = store ? MemOp::write : MemOp::read;
      r.issued = t;
      lsu_queue_.push_back(r);
      ++in.pieces_left;
      ++st_requests_;
      a += n;
    }
  }
  if (store) ++outstanding_stores_;
}

bool StreamProbe::chunk_selected(std::uint64_t chunk) const {
  const std::uint32_t home_die = map_.die_of_partition(map_.home_partition(chunk * map_.spec().controller_interleave));
  return (home_die == map_.die_of_core(core_)) == (placement_ == Placement::own_die);
}

std::uint64_t StreamProbe::placed(std::uint64_t base, std::uint64_t offset) const {
  if (placement_ == Placement::any) return base + offset;
  // Logical chunk j is the (j mod k)-th selected chunk of the (j / k)-th controller group (the map's groups:
  // `controllers` consecutive chunks from address 0) at or after `base`, k selected chunks per group.
  const std::uint64_t chunk_bytes = map_.spec().controller_interleave, group_chunks = map_.controllers();
  const std::uint64_t j = offset / chunk_bytes;
  const std::uint64_t first_group = (base / chunk_bytes + group_chunks - 1) / group_chunks;
  const std::uint64_t first = (first_group + j / chunks_per_group_) * group_chunks;
  std::uint64_t wanted = j % chunks_per_group_;
  for (std::uint32_t p = 0; p < map_.controllers(); ++p) {
    if (!chunk_selected(first + p)) continue;
    if (wanted-- == 0) return (first + p) * chunk_bytes + offset % chunk_bytes;
  }
  panic(name(), ": controller group at chunk ", first, " has fewer than ", chunks_per_group_, " selected chunks");
}

bool StreamProbe::issue(std::uint32_t warp_id, std::uint64_t now) {
  Warp& w = warps_[warp_id];
  // Stores first: they are the older instructions of an unrolled loop body.
  if (has_store_ && w.next_store < iterations_ && w.next_store < w.oldest + in_flight_ &&
      (loads_per_iter_ == 0 || w.next_store < w.next_load) && w.loads_left[w.next_store % in_flight_] == 0) {
    issue_access(warp_id, w.next_store, 0, true);
    ++w.next_store;
    retire_iterations(warp_id);
    return true;
  }
  if (loads_per_iter_ > 0 && w.next_load < iterations_ && w.next_load < w.oldest + in_flight_) {
    if (w.next_array == 0) w.loads_left[w.next_load % in_flight_] = loads_per_iter_;
    issue_access(warp_id, w.next_load, 1 + w.next_array, false);  // B, then C
    if (++w.next_array == loads_per_iter_) {
      w.next_array = 0;
      ++w.next_load;
    }
    return true;
  }
  (void)now;
  return false;
}

void StreamProbe::retire_iterations(std::uint32_t warp_id) {
  Warp& w = warps_[warp_id];
  while (w.oldest < iterations_) {
    const bool loads_back = loads_per_iter_ == 0 || (w.oldest < w.next_load && w.loads_left[w.oldest % in_flight_] == 0);
    const bool stored = !has_store_ || w.oldest < w.next_store;
    if (!loads_back || !stored) break;
    ++w.oldest;
  }
  if (w.oldest < iterations_ || !w.active) return;
  // The warp is done; its block retires with its last warp, and the slot takes the next block later.
  w.active = false;
  Block& b = blocks_[w.slot];
  if (--b.warps_left == 0) {
    b.active = false;
    ++blocks_done_;
    ++st_blocks_;
    // The slot claims the grid's next block; it starts block_launch_latency after this retirement.
    b.retired_at = now_cycle();
    block_claim.send(BlockClaim{core_, w.slot});
  }
}

void StreamProbe::complete_piece(std::uint64_t instr_id, std::uint64_t now) {
  Instr& in = instrs_.at(instr_id);
  if (in.free || in.pieces_left == 0) panic(name(), ": response for an instruction not in flight");
  if (--in.pieces_left > 0) return;
  add_completed(in.bytes);
  st_bytes_ += in.bytes;
  const std::uint32_t w = in.warp;
  if (in.store) {
    ++st_stores_;
    --outstanding_stores_;
  } else {
    ++st_loads_;
    --warps_[w].loads_left[in.iteration % in_flight_];
    retire_iterations(w);
    make_ready(w);
  }
  in.free = true;
  free_instrs_.push_back(static_cast<std::uint32_t>(instr_id));
  note_progress();
  (void)now;
}

bool StreamProbe::tick(Cycle now_cycle_value) {
  const std::uint64_t now = now_cycle_value.value;
  while (cache_resp.ready()) complete_piece(cache_resp.pop().req.id, now);
  while (scratch_resp.ready()) complete_piece(scratch_resp.pop().req.id, now);
  while (block_grant.ready()) {
    const BlockGrant g = block_grant.pop();
    if (g.none) {
      --open_slots_;
      continue;
    }
    // Grants come back in claim order and claims go out in retirement order, so `at` never decreases.
    launches_.push_back({std::max(now, blocks_[g.slot].retired_at + block_launch_), g.slot, g.block});
  }
  while (!launches_.empty() && launches_.front().at <= now) {
    const Launch l = launches_.front();
    launches_.pop_front();
    start_block(l.slot, l.block);
  }
  // Issue, round-robin over ready warps, while the LSU queue has room.
  for (std::uint32_t n = 0; n < issue_per_cycle_ && !ready_.empty();) {
    if (lsu_queue_.size() >= lsu_queue_limit_) break;
    const std::uint32_t id = ready_.front();
    ready_.pop_front();
    warps_[id].queued = false;
    if (!can_issue(warps_[id])) continue;
    if (issue(id, now)) ++n;
    make_ready(id);
  }
  while (!lsu_queue_.empty() && cache_req.can_send()) {
    cache_req.send(lsu_queue_.front());
    lsu_queue_.pop_front();
  }
  if (!finished_ && open_slots_ == 0 && outstanding_stores_ == 0) {
    finished_ = true;
    flush_report(true);
    return false;
  }
  if (!ready_.empty() && lsu_queue_.size() < lsu_queue_limit_) return true;
  if (!launches_.empty()) wake_at(Cycle(std::max(launches_.front().at, now + 1)));
  return false;  // responses and freed credits wake us
}

std::string StreamProbe::waiting_on() const {
  return cat(blocks_done_, " blocks done, ", open_slots_, " slots running or waiting for a block, ", ready_.size(),
             " warps ready, ", lsu_queue_.size(),
             " line requests queued for ", cache_req.peer_name(), ", ", outstanding_stores_, " stores unacknowledged");
}

double StreamProbe::progress_fraction() const {
  // This core's share of the grid, as if the blocks spread evenly (they need not: a fast core runs more).
  const double share = static_cast<double>(sim_blocks_) / cores_;
  return finished_ ? 1.0 : std::min(1.0, static_cast<double>(blocks_done_) / std::max(1.0, share));
}

}  // namespace tilesim

#include "arch/memory/l2_slice.hpp"

#include <algorithm>
#include <cmath>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<L2Slice> kRegistration(
    "l2_slice", "last-level cache slice: sectored, MSHRs with merging, write-back, home/replica partitions");

CacheGeometry geometry_of(const ParamValues& p) {
  CacheGeometry g;
  g.size_bytes = p.bytes("size");
  g.line_bytes = static_cast<std::uint32_t>(p.bytes("line_size"));
  g.sector_bytes = static_cast<std::uint32_t>(p.bytes("sector_size"));
  g.assoc = static_cast<std::uint32_t>(p.integer("assoc"));
  g.hashed_sets = false;  // sets follow the line's index within the slice (see the constructor)
  return g;
}
}  // namespace

ParamSchema L2Slice::param_schema() {
  ParamSchema s;
  s.quantity("size", UnitKind::size, "256KiB", "capacity of this slice", 1)
      .quantity("line_size", UnitKind::size, "128B", "line (tag) size", 1)
      .quantity("sector_size", UnitKind::size, "32B", "sector size: the unit of valid/dirty bits and of fills", 1)
      .integer("assoc", 16, "ways per set", 1, 1024)
      .quantity("tag_latency", UnitKind::cycles, "20", "cycles from arrival to the hit/miss decision")
      .quantity("data_latency", UnitKind::cycles, "20", "cycles from the hit decision to the response")
      .quantity("fill_latency", UnitKind::cycles, "10", "cycles from a fill's arrival to the responses it completes")
      .integer("mshrs", 256, "lines with misses in flight at most", 1, 1 << 20)
      .integer("mshr_targets", 32, "requests merged into one line's miss at most", 1, 4096)
      .integer("far_mshrs", 0, "MSHRs that lines homed in another partition (far misses) may hold at most; the rest are kept for home lines; 0: half of mshrs", 0, 1 << 20)
      .boolean("request_coalescer", false,
               "the core-side reads that one fill completes are answered as one: one data-array read for their sectors "
               "and one crossbar transfer, replicated to each requester (l2_slice.hpp)")
      .boolean("request_coalescer_queued", true,
               "with request_coalescer: a core read that was waiting in the input when a core read of its line was "
               "looked up is merged with it: it takes no lookup, and a hit's answer is replicated to it")
      .integer("lookups_per_cycle", 1, "tag lookups (requests accepted) per cycle", 1, 64)
      .quantity("data_bytes_per_cycle", UnitKind::size, "64B", "data-array bandwidth per cycle", 1)
      .integer("max_pending_writes", 256, "writes forwarded to a home slice and not yet acknowledged", 1, 1 << 20)
      .integer("replay_slots", 64,
               "reads that found their line's MSHR targets full and wait beside it, to be looked up again after the "
               "fill, while the reads behind them go on (entries of the slice's input queue); 0: such a read waits at "
               "the head of the input", 0, 1 << 20)
      .integer("downstream_queue", 256,
               "requests (misses, write-backs, forwards) waiting to leave; new requests wait while it is full", 1, 1 << 20)
      .boolean("prefill", false, "start full of unrelated lines (the steady state of earlier work) instead of empty")
      .real("prefill_dirty", 0.0, "fraction of the prefilled (home) lines that are dirty", 0, 1)
      .boolean("prefill_replicas", false,
               "prefill also holds lines homed in other partitions (replicas), as after a footprint that fits every "
               "partition was read from all of them")
      .quantity("prefill_base", UnitKind::size, "1GiB",
                "prefilled lines are taken from addresses at and above this one (no workload may use them)", 0)
      .integer("slice", 0, "global index of this slice (its id on the fabric and at its memory controller)", 0);
  AddressMap::declare_params(s);
  return s;
}

L2Slice::L2Slice(const ComponentContext& ctx)
    : Component(ctx),
      map_(AddressMap::from_params(params())),
      array_(geometry_of(params()), params().path(),
             [this](std::uint64_t line) {
               // The line's index among this slice's lines (they are every slices_per_controller-th granule of
               // the controller's local addresses).
               const std::uint64_t granule = map_.spec().slice_interleave;
               const std::uint64_t local = map_.controller_local(line);
               return (local / granule / map_.slices_per_controller()) * (granule / array_.geometry().line_bytes) +
                      local % granule / array_.geometry().line_bytes;
             }),
      slice_(static_cast<std::uint32_t>(params().integer("slice"))),
      partition_(map_.partition_of_slice(slice_)),
      tag_latency_(static_cast<std::uint64_t>(params().quantity("tag_latency"))),
      data_latency_(static_cast<std::uint64_t>(params().quantity("data_latency"))),
      fill_latency_(static_cast<std::uint64_t>(params().quantity("fill_latency"))),
      mshrs_(static_cast<std::size_t>(params().integer("mshrs"))),
      mshr_targets_(static_cast<std::size_t>(params().integer("mshr_targets"))),
      lookups_per_cycle_(static_cast<std::size_t>(params().integer("lookups_per_cycle"))),
      max_pending_writes_(static_cast<std::size_t>(params().integer("max_pending_writes"))),
      downstream_limit_(static_cast<std::size_t>(params().integer("downstream_queue"))),
      replay_slots_(static_cast<std::size_t>(params().integer("replay_slots"))),
      coalesce_(params().boolean("request_coalescer")),
      coalesce_queued_(coalesce_ && params().boolean("request_coalescer_queued")),
      data_port_(params().bytes("data_bytes_per_cycle")),
      st_reads_(stats().counter("reads", "", "read requests (from cores and from other partitions)")),
      st_read_hits_(stats().counter("read_hits", "", "reads with all their sectors present")),
      st_read_misses_(stats().counter("read_misses", "", "reads that waited for a fill")),
      st_merges_(stats().counter("mshr_merges", "", "misses merged into a line already in flight")),
      st_home_requests_(stats().counter("home_requests", "", "requests from other partitions' slices")),
      st_forwarded_(stats().counter("forwarded", "", "requests sent to the home slice in another partition")),
      st_writes_(stats().counter("writes", "", "writes and atomics received")),
      st_writebacks_(stats().counter("writebacks", "", "dirty lines written back to memory")),
      st_writeback_bytes_(stats().counter("writeback_bytes", "B", "bytes written back to memory")),
      st_dram_reads_(stats().counter("dram_reads", "", "read requests sent to the memory controller")),
      st_dram_read_bytes_(stats().counter("dram_read_bytes", "B", "bytes read from memory")),
      st_bytes_out_(stats().counter("bytes_to_requesters", "B", "read data returned to requesters")),
      st_stalls_(stats().counter("stalls", "", "cycles the head request waited for an MSHR or write slot")),
      st_replays_(stats().counter("replays", "", "reads that found their line's MSHR targets full, waited in a replay "
                                  "slot and were looked up again after the fill")),
      st_coalesced_(stats().counter("coalesced_answers", "", "reads answered as replicas of another read's answer "
                                    "(request_coalescer): no data-array read of their own")),
      st_input_wait_(stats().distribution("input_wait", "cycles",
                                          "cycles a request waited at the slice's inputs before its tag lookup")),
      st_data_port_wait_(stats().distribution("data_port_wait", "cycles",
                                              "cycles an answer with data waited for the slice's data port")) {
  stats().ratio("hit_rate", "", "read hits / reads", "read_hits", "reads");
  if (slice_ >= map_.slices())
    throw ConfigError(cat(params().path(), ".slice: ", slice_, " is not below the number of slices (", map_.slices(), ")"));
  if (map_.partitions() > 1 && mshrs_ < 2)
    throw ConfigError(cat(params().path(), ".mshrs (memory.l2.mshrs): ", mshrs_, " is too few with ", map_.partitions(),
                          " partitions: one MSHR is kept for home lines, so far misses need at least one more"));
  far_mshr_limit_ = params().integer("far_mshrs") == 0 ? std::max<std::size_t>(1, mshrs_ / 2)
                                                       : static_cast<std::size_t>(params().integer("far_mshrs"));
  if (map_.partitions() > 1 && far_mshr_limit_ >= mshrs_)
    throw ConfigError(cat(params().path(), ".far_mshrs (memory.l2.far_mshrs): ", far_mshr_limit_,
                          " leaves no MSHR for home lines: it must be below memory.l2.mshrs (", mshrs_, ")"));
  up_.add_port(&resp);
  up_.add_port(&home_resp);
  down_.add_port(&mem_req);
  down_.add_port(&fwd_req);
  if (params().boolean("prefill"))
    prefill_lines(params().bytes("prefill_base"), params().real("prefill_dirty"), params().boolean("prefill_replicas"));
}

void L2Slice::prefill_lines(std::uint64_t base, double dirty_fraction, bool replicas) {
  // Walk controller-local addresses upwards from `base` in this slice's controller (its home lines) and,
  // with `replicas`, in the controllers of the same index in the other partitions (lines this slice would
  // hold as replicas), keeping the lines whose slice index is this slice's, until every way holds one
  // (sets fill unevenly only at the end of the walk).
  const std::uint32_t line_bytes = array_.geometry().line_bytes;
  const std::uint64_t capacity_lines = array_.geometry().size_bytes / line_bytes;
  const std::uint32_t cpp = map_.controllers_per_partition();
  const std::uint32_t own = map_.controller_of_slice(slice_);
  std::vector<std::uint32_t> controllers{own};
  if (replicas)
    for (std::uint32_t q = 0; q < map_.partitions(); ++q)
      if (q != partition_) controllers.push_back(q * cpp + own % cpp);
  const std::uint32_t my_index = slice_ % map_.spec().slices_per_partition;
  std::uint64_t local = map_.controller_local(base) / line_bytes * line_bytes;
  std::uint64_t filled = 0;
  for (std::uint64_t tries = 0; filled < capacity_lines && tries < 64 * capacity_lines * map_.slices_per_controller();
       ++tries, local += line_bytes) {
    for (const std::uint32_t ctl : controllers) {
      if (filled >= capacity_lines) break;
      const std::uint64_t addr = map_.global_from_local(ctl, local);
      if (map_.slice_index(addr) != my_index || array_.find(addr)) continue;
      SectoredCacheArray::Victim victim;
      SectoredCacheArray::Line& l = array_.allocate(addr, victim);
      l.valid = array_.full_mask();
      // Dirty home lines spread evenly: allocation i is dirty when floor((i + 1) f) > floor(i f). Replicas
      // are never dirty.
      const auto i = static_cast<double>(tries_dirty_++);
      const bool dirty = ctl == own && std::floor((i + 1) * dirty_fraction) > std::floor(i * dirty_fraction);
      l.dirty = dirty ? array_.full_mask() : 0u;
      if (!victim.present) ++filled;
    }
  }
}

std::uint64_t L2Slice::respond(const MemRequest& r, ServedBy served, Upstream from, std::uint32_t data_bytes,
                               std::uint64_t earliest, std::uint64_t latency, std::uint64_t answer) {
  const std::uint64_t start = data_bytes == 0 ? earliest : data_port_.reserve(earliest, data_bytes);
  if (data_bytes != 0) st_data_port_wait_.sample(static_cast<double>(start - earliest));
  MemResponse resp{r};
  resp.req.served = served;
  resp.answer = answer;
  pending_up_.push(start + latency, {from, std::move(resp)});
  return start + latency;
}

const L2Slice::Lookup* L2Slice::queued_behind(const MemRequest& r, std::uint64_t ready) const {
  const auto it = lookups_.find(array_.line_of(r.addr));
  if (it == lookups_.end() || it->second.cycle < ready) return nullptr;
  return (array_.sector_mask(r.addr, r.bytes) & ~it->second.sectors) == 0 ? &it->second : nullptr;
}

void L2Slice::note_lookup(std::uint64_t line, std::uint32_t sectors, std::uint64_t now, std::uint64_t due,
                          std::uint64_t id) {
  lookups_[line] = Lookup{now, due, sectors, id};
  lookup_order_.emplace_back(now, line);
}

void L2Slice::forget_lookups(std::uint64_t before) {
  while (!lookup_order_.empty() && lookup_order_.front().first < before) {
    const auto [cycle, line] = lookup_order_.front();
    lookup_order_.pop_front();
    const auto it = lookups_.find(line);
    if (it != lookups_.end() && it->second.cycle == cycle) lookups_.erase(it);
  }
}

void L2Slice::respond_coalesced(std::vector<Target>& group, ServedBy served, std::uint64_t earliest,
                                std::uint64_t latency) {
  std::uint32_t sectors = 0;
  for (const Target& t : group) sectors |= array_.sector_mask(t.req.addr, t.req.bytes);
  const std::uint64_t bytes = static_cast<std::uint64_t>(popcount32(sectors)) * array_.geometry().sector_bytes;
  const std::uint64_t start = data_port_.reserve(earliest, bytes);
  st_data_port_wait_.sample(static_cast<double>(start - earliest));
  const std::uint64_t id = next_answer_++;
  if (group.size() > 1) replicated_.insert(id);
  for (std::size_t i = 0; i < group.size(); ++i) {
    MemResponse resp{group[i].req};
    resp.req.served = group[i].merged ? ServedBy::l2_in_flight : served;
    resp.replica = i > 0;
    resp.answer = id;
    pending_up_.push(start + latency, {kCore, std::move(resp)});
  }
  st_coalesced_ += group.size() - 1;
  group.clear();
}

void L2Slice::send_down(Downstream where, MemRequest m, std::uint64_t at) {
  m.source = slice_;
  m.issued = clock().tick_of(Cycle(at));
  down_.push(where, at, std::move(m), Priority::request);
}

void L2Slice::request_sectors(std::uint64_t line, std::uint32_t mask, Downstream where, std::uint64_t at) {
  const std::uint32_t sector = array_.geometry().sector_bytes;
  for (std::uint32_t s = 0; s < array_.sectors_per_line();) {
    if (!(mask >> s & 1u)) {
      ++s;
      continue;
    }
    std::uint32_t e = s;
    while (e + 1 < array_.sectors_per_line() && (mask >> (e + 1) & 1u)) ++e;
    MemRequest m;
    m.addr = line + static_cast<std::uint64_t>(s) * sector;
    m.bytes = (e - s + 1) * sector;
    m.op = MemOp::read;
    if (where == kMem) {
      ++st_dram_reads_;
      st_dram_read_bytes_ += m.bytes;
    } else {
      ++st_forwarded_;
    }
    send_down(where, m, at);
    s = e + 1;
  }
}

void L2Slice::write_back(std::uint64_t line, std::uint32_t dirty, std::uint64_t at) {
  const std::uint32_t sector = array_.geometry().sector_bytes;
  for_each_sector_run(dirty, array_.sectors_per_line(), [&](std::uint32_t first, std::uint32_t count) {
    MemRequest m;
    m.addr = line + static_cast<std::uint64_t>(first) * sector;
    m.bytes = count * sector;
    m.op = MemOp::write;
    m.tag = 0;  // write-backs are not waited for
    ++st_writebacks_;
    st_writeback_bytes_ += m.bytes;
    send_down(kMem, m, at);
  });
}

SectoredCacheArray::Line& L2Slice::allocate(std::uint64_t line, std::uint64_t now) {
  SectoredCacheArray::Victim victim;
  SectoredCacheArray::Line& l = array_.allocate(line, victim);
  if (victim.present && victim.dirty) write_back(victim.line_addr, victim.dirty, now + tag_latency_);
  return l;
}

void L2Slice::accept_write(const MemRequest& r, Upstream from, std::uint64_t now) {
  const std::uint64_t line = array_.line_of(r.addr);
  const std::uint32_t mask = array_.sector_mask(r.addr, r.bytes);
  ++st_writes_;
  const bool home = map_.home_partition(r.addr) == partition_;
  SectoredCacheArray::Line* l = array_.find(line);
  if (home) {
    if (!l) l = &allocate(line, now);
    array_.touch(*l);
    l->valid |= mask;  // write-allocate without fetch: sector byte masks are not modelled
    l->dirty |= mask;
    respond(r, ServedBy::l2, from, r.bytes, now + tag_latency_, 0);
    return;
  }
  // A replica: keep it current (clean) and let the home slice own the dirty data.
  if (l) l->valid |= mask;
  MemRequest m = r;
  m.tag = next_tag_++;
  forwarded_writes_.emplace(m.tag, std::make_pair(r, from));
  ++st_forwarded_;
  send_down(kFwd, m, now + tag_latency_);
}

L2Slice::Wait L2Slice::accept(const MemRequest& r, Upstream from, std::uint64_t now, bool lead) {
  const std::uint64_t line = array_.line_of(r.addr);
  const std::uint32_t mask = array_.sector_mask(r.addr, r.bytes);
  if (mask == 0) panic(name(), ": request [", r.addr, ", +", r.bytes, ") crosses a line");
  if (r.op != MemOp::read) {
    // Only a write that is forwarded to its home needs a slot (a home write is answered here, and must
    // not wait for slots that other partitions' home inputs free).
    const bool forwarded = map_.home_partition(r.addr) != partition_;
    if (forwarded && forwarded_writes_.size() >= max_pending_writes_) return Wait::kWriteSlots;
    accept_write(r, from, now);
    return Wait::kNone;
  }
  SectoredCacheArray::Line* l = array_.find(line);
  const std::uint32_t missing = l ? (mask & ~l->valid) : mask;
  if (missing == 0) {
    array_.touch(*l);
    ++st_reads_;
    ++st_read_hits_;
    if (coalesce_queued_ && lead && from == kCore) {  // reads queued behind may join this answer
      const std::uint64_t id = next_answer_++;
      note_lookup(line, mask, now, respond(r, ServedBy::l2, from, r.bytes, now + tag_latency_, data_latency_, id), id);
      return Wait::kNone;
    }
    respond(r, ServedBy::l2, from, r.bytes, now + tag_latency_, data_latency_);
    return Wait::kNone;
  }
  const bool far = map_.home_partition(r.addr) != partition_;
  auto it = mshr_.find(line);
  if (it == mshr_.end()) {
    if (mshr_.size() >= mshrs_) return Wait::kMshrs;
    if (far && far_mshrs_ >= far_mshr_limit_) return Wait::kFarMshrs;  // the rest are kept for home lines
    it = mshr_.emplace(line, Mshr{}).first;
    it->second.far = far;
    it->second.targets.reserve(4);  // lines the cores share collect several targets: grow less often
    if (far) ++far_mshrs_;
  } else if (it->second.targets.size() >= mshr_targets_) {
    // Targets full: wait beside the MSHR in a replay slot (the reads behind go on), or at the head.
    if (replays_waiting_ >= replay_slots_) return Wait::kTargets;
    ++replays_waiting_;
    ++st_replays_;
  } else {
    ++st_merges_;
  }
  if (l) array_.touch(*l);
  Mshr& m = it->second;
  const std::uint32_t to_request = missing & ~m.requested;
  m.requested |= to_request;
  (m.targets.size() < mshr_targets_ ? m.targets : m.replays).push_back({r, missing, from, to_request == 0});
  if (to_request) request_sectors(line, to_request, far ? kFwd : kMem, now + tag_latency_);
  if (coalesce_queued_ && lead && from == kCore) note_lookup(line, mask, now, 0, 0);
  ++st_reads_;
  ++st_read_misses_;
  return Wait::kNone;
}

void L2Slice::handle_fill(const MemResponse& msg, std::uint64_t now) {
  const MemRequest& r = msg.req;
  if (r.op != MemOp::read) {
    if (r.tag == 0) return;  // a write-back acknowledged
    const auto it = forwarded_writes_.find(r.tag);
    if (it == forwarded_writes_.end()) panic(name(), ": acknowledgement for unknown forwarded write ", r.tag);
    pending_up_.push(now, {it->second.second, MemResponse{it->second.first}});
    forwarded_writes_.erase(it);
    return;
  }
  const std::uint64_t line = array_.line_of(r.addr);
  const std::uint32_t mask = array_.sector_mask(r.addr, r.bytes);
  SectoredCacheArray::Line* l = array_.find(line);
  if (!l) l = &allocate(line, now);
  l->valid |= mask;
  const auto it = mshr_.find(line);
  if (it == mshr_.end()) panic(name(), ": fill for line ", line, " without an MSHR");
  Mshr& m = it->second;
  m.requested &= ~mask;
  m.arrived |= mask;
  // How this fill was served: memory answers with the request unchanged, a home slice in another
  // partition says how it answered.
  const ServedBy fill_source = msg.req.served == ServedBy::unknown ? ServedBy::memory : msg.req.served;
  // Answer the targets whose sectors have all arrived, in arrival order; keep the others, in order. With
  // the coalescer the core-side ones go as one answer (their sectors read once), after the others.
  std::vector<Target>& group = coalesced_;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < m.targets.size(); ++i) {
    Target& t = m.targets[i];
    if ((t.need & ~m.arrived) != 0)
      m.targets[kept++] = t;
    else if (coalesce_ && t.from == kCore)
      group.push_back(t);
    else
      respond(t.req, t.merged ? ServedBy::l2_in_flight : fill_source, t.from, t.req.bytes, now, fill_latency_);
  }
  m.targets.resize(kept);
  if (!group.empty()) respond_coalesced(group, fill_source, now, fill_latency_);
  // Replayed reads whose sectors are all here are looked up again: they hit.
  kept = 0;
  for (std::size_t i = 0; i < m.replays.size(); ++i) {
    Target& t = m.replays[i];
    if ((t.need & ~m.arrived) != 0) {
      m.replays[kept++] = t;
      continue;
    }
    --replays_waiting_;
    if (coalesce_ && t.from == kCore)
      group.push_back(t);
    else
      respond(t.req, ServedBy::l2_in_flight, t.from, t.req.bytes, now + tag_latency_, data_latency_);
  }
  m.replays.resize(kept);
  if (!group.empty()) respond_coalesced(group, ServedBy::l2_in_flight, now + tag_latency_, data_latency_);
  if (m.targets.empty() && m.replays.empty()) {
    if (m.requested != 0) panic(name(), ": MSHR for line ", line, " has no targets but sectors in flight");
    if (m.far) --far_mshrs_;
    mshr_.erase(it);
  }
}

bool L2Slice::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  while (mem_resp.ready()) handle_fill(mem_resp.pop(), now);
  while (fwd_resp.ready()) handle_fill(fwd_resp.pop(), now);

  // Tag lookups, round-robin between the core and home inputs. They are separate queues (virtual
  // channels): a head that must wait holds its own input only, so home requests, which need nothing but
  // this slice and its DRAM, are never stuck behind core requests that wait for another partition.
  InPort<MemRequest>* inputs[2] = {&req, &home_req};
  head_wait_[kCore] = head_wait_[kHome] = Wait::kNone;
  bool blocked[2] = {false, false};
  bool down_full = false;
  for (std::size_t n = 0; n < lookups_per_cycle_;) {
    if (down_.size() >= downstream_limit_) {  // misses and write-backs cannot leave: hold the inputs
      down_full = true;
      break;
    }
    std::size_t pick = next_port_;
    if (blocked[pick] || !inputs[pick]->ready()) pick ^= 1u;
    if (blocked[pick] || !inputs[pick]->ready()) break;
    const Upstream from = pick == 0 ? kCore : kHome;
    const MemRequest& head = inputs[pick]->peek();
    const std::uint64_t ready = clock().cycle_at_or_after(inputs[pick]->head_ready()).value;
    // The coalescer merges a read with a core read of its line looked up while it waited: it takes no
    // lookup; a hit's answer is replicated to it, a miss's MSHR takes it as one more target.
    const Lookup* ahead = coalesce_queued_ && from == kCore && head.op == MemOp::read ? queued_behind(head, ready) : nullptr;
    if (ahead && ahead->due != 0) {
      ++st_reads_;
      ++st_read_hits_;
      ++st_coalesced_;
      if (SectoredCacheArray::Line* l = array_.find(array_.line_of(head.addr))) array_.touch(*l);
      MemResponse resp{head};
      resp.req.served = ServedBy::l2;
      resp.replica = true;
      // Its original leaves at `due` (this tick's answers go after the lookups); one that has left already
      // took its copy with it, and the replica goes at once.
      if (ahead->due >= now) {
        replicated_.insert(ahead->id);
        resp.answer = ahead->id;
      }
      pending_up_.push(std::max(ahead->due, now), {kCore, std::move(resp)});
      st_input_wait_.sample(static_cast<double>(now - ready));
      inputs[pick]->pop();
      continue;
    }
    const Wait wait = accept(head, from, now, ahead == nullptr);
    if (wait != Wait::kNone) {
      head_wait_[pick] = wait;
      blocked[pick] = true;
      continue;
    }
    if (from == kHome) ++st_home_requests_;
    st_input_wait_.sample(static_cast<double>(now - ready));
    inputs[pick]->pop();
    if (ahead) continue;
    next_port_ = pick ^ 1u;
    ++n;
  }
  if (coalesce_queued_) forget_lookups(req.ready() ? clock().cycle_at_or_after(req.head_ready()).value : now);
  // Asleep until a fill, an acknowledgement or a downstream credit when every ready head waits.
  stalled_ = down_full || ((blocked[kCore] || !req.ready()) && (blocked[kHome] || !home_req.ready()));
  if (down_full || blocked[kCore] || blocked[kHome]) ++st_stalls_;

  while (pending_up_.due(now)) {
    auto [from, r] = pending_up_.pop();
    // An original leaves: it names its group only if it has replicas.
    if (r.answer != 0 && !r.replica && replicated_.erase(r.answer) == 0) r.answer = 0;
    if (r.req.op == MemOp::read) st_bytes_out_ += r.req.bytes;
    up_.send_now(from, now, std::move(r), Priority::response);
    note_progress();
  }
  up_.drain(now);
  down_.drain(now);

  if ((req.ready() || home_req.ready()) && !stalled_) return true;
  const std::uint64_t next = std::min({pending_up_.next_cycle(), up_.next_cycle(), down_.next_cycle()});
  if (next != DelayHeap<int>::kNone) {
    if (next <= now) return true;
    wake_at(Cycle(next));
  }
  return false;
}

std::vector<std::string> L2Slice::report_lines(const std::vector<StatValue>& totals) const {
  auto get = [&](const char* n) { return stat_value(totals, n); };
  const double reads = get("reads");
  if (reads == 0) return {};
  const double coalesced = get("coalesced_answers");
  return {cat(format_number(reads), " reads: hit rate ", format_number(100 * get("read_hits") / reads, 3),
              "%, merged into a miss in flight ", format_number(100 * (get("mshr_merges") + get("replays")) / reads, 3),
              coalesced > 0 ? cat("%, answered as replicas (request coalescer) ", format_number(100 * coalesced / reads, 3))
                            : std::string(),
              "%; waits: inputs mean ", format_number(get("input_wait.mean"), 3), " cycles, data port mean ",
              format_number(get("data_port_wait.mean"), 3), " cycles")};
}

bool L2Slice::busy() const {
  return !mshr_.empty() || !forwarded_writes_.empty() || !pending_up_.empty() || !up_.empty() || !down_.empty();
}

namespace {
const char* wait_text(int w) {
  static const char* const kText[] = {"", "all MSHRs busy", "far-line MSHRs at their limit (far_mshrs)",
                                      "its line's MSHR targets full", "forwarded-write slots full"};
  return kText[w];
}
}  // namespace

std::string L2Slice::waiting_on() const {
  std::string heads;
  const char* const input[2] = {"core", "home"};
  for (int i = 0; i < 2; ++i)
    if (head_wait_[i] != Wait::kNone) heads += cat("; ", input[i], " input head waits: ", wait_text(static_cast<int>(head_wait_[i])));
  return cat(mshr_.size(), " lines missing (MSHRs, ", far_mshrs_, " far; ", replays_waiting_, " reads in replay slots), ",
             forwarded_writes_.size(),
             " forwarded writes unacknowledged, ", down_.size(), " requests to send downstream, ",
             pending_up_.size() + up_.size(), " responses to send", heads);
}

}  // namespace tilesim

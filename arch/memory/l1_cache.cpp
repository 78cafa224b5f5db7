#include "arch/memory/l1_cache.hpp"

#include <algorithm>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<L1Cache> kRegistration(
    "l1_cache", "core-side sectored cache: MSHRs with merging, write-through, hit/miss latency pipeline");

CacheGeometry geometry_of(const ParamValues& p) {
  CacheGeometry g;
  g.size_bytes = p.bytes("size");
  g.line_bytes = static_cast<std::uint32_t>(p.bytes("line_size"));
  g.sector_bytes = static_cast<std::uint32_t>(p.bytes("sector_size"));
  g.assoc = static_cast<std::uint32_t>(p.integer("assoc"));
  g.hashed_sets = false;
  return g;
}

std::uint64_t cycles_param(const ParamValues& p, const char* name) {
  return static_cast<std::uint64_t>(p.quantity(name));
}
}  // namespace

ParamSchema L1Cache::param_schema() {
  ParamSchema s;
  s.quantity("size", UnitKind::size, "128KiB", "capacity", 1)
      .quantity("line_size", UnitKind::size, "128B", "line (tag) size", 1)
      .quantity("sector_size", UnitKind::size, "32B", "sector size: the unit of valid bits and of fills", 1)
      .integer("assoc", 4, "ways per set", 1, 1024)
      .quantity("tag_latency", UnitKind::cycles, "4", "cycles from a request's arrival to its hit/miss decision")
      .quantity("data_latency", UnitKind::cycles, "10", "cycles from the hit decision to the response")
      .quantity("fill_latency", UnitKind::cycles, "4", "cycles from a fill's arrival to the response it completes")
      .integer("mshrs", 64, "lines with misses in flight at most", 1, 65536)
      .integer("mshr_targets", 16, "requests merged into one line's miss at most", 1, 4096)
      .integer("lookups_per_cycle", 1, "tag lookups (requests accepted) per cycle", 1, 64)
      .quantity("data_bytes_per_cycle", UnitKind::size, "128B", "data-port width per cycle (hits and fills)", 1)
      .integer("max_pending_writes", 256, "writes forwarded and not yet acknowledged at most", 1, 1 << 20)
      .integer("source_id", 0, "id this cache puts in `source` of its requests (routes responses back)", 0);
  return s;
}

L1Cache::L1Cache(const ComponentContext& ctx)
    : Component(ctx),
      array_(geometry_of(params()), params().path()),
      tag_latency_(cycles_param(params(), "tag_latency")),
      data_latency_(cycles_param(params(), "data_latency")),
      fill_latency_(cycles_param(params(), "fill_latency")),
      mshrs_(static_cast<std::size_t>(params().integer("mshrs"))),
      mshr_targets_(static_cast<std::size_t>(params().integer("mshr_targets"))),
      lookups_per_cycle_(static_cast<std::size_t>(params().integer("lookups_per_cycle"))),
      max_pending_writes_(static_cast<std::size_t>(params().integer("max_pending_writes"))),
      data_bytes_per_cycle_(static_cast<std::uint32_t>(params().bytes("data_bytes_per_cycle"))),
      source_id_(static_cast<std::uint32_t>(params().integer("source_id"))),
      st_reads_(stats().counter("reads", "", "read requests")),
      st_read_hits_(stats().counter("read_hits", "", "reads with all their sectors present")),
      st_read_misses_(stats().counter("read_misses", "", "reads that waited for a fill")),
      st_merges_(stats().counter("mshr_merges", "", "misses merged into a line already in flight")),
      st_fills_(stats().counter("fills", "", "fill responses from the next level")),
      st_fill_bytes_(stats().counter("fill_bytes", "B", "bytes filled from the next level")),
      st_writes_(stats().counter("writes", "", "writes and atomics forwarded (write-through)")),
      st_stall_cycles_(stats().counter("stalls", "", "cycles the head request waited for an MSHR or write slot")) {
  stats().ratio("hit_rate", "", "read hits / reads", "read_hits", "reads");
  downstream_.add_port(&mem_req);
}

void L1Cache::schedule_response(const MemRequest& r, std::uint32_t sectors, std::uint64_t earliest,
                                std::uint64_t latency) {
  const std::uint64_t bytes = static_cast<std::uint64_t>(popcount32(sectors)) * array_.geometry().sector_bytes;
  const std::uint64_t occupancy = std::max<std::uint64_t>(1, (bytes + data_bytes_per_cycle_ - 1) / data_bytes_per_cycle_);
  const std::uint64_t start = std::max(earliest, data_free_);
  data_free_ = start + occupancy;
  responses_.push(start + latency, MemResponse{r});
}

void L1Cache::request_sectors(std::uint64_t line, std::uint32_t mask, std::uint64_t at) {
  const std::uint32_t sector = array_.geometry().sector_bytes;
  for_each_sector_run(mask, array_.sectors_per_line(), [&](std::uint32_t first, std::uint32_t count) {
    MemRequest m;
    m.addr = line + static_cast<std::uint64_t>(first) * sector;
    m.bytes = count * sector;
    m.op = MemOp::read;
    m.source = source_id_;
    m.issued = clock().tick_of(Cycle(at));
    downstream_.push(0, at, m, Priority::request);
  });
}

bool L1Cache::accept(const MemRequest& r, std::uint64_t now) {
  const std::uint64_t line = array_.line_of(r.addr);
  const std::uint32_t mask = array_.sector_mask(r.addr, r.bytes);
  if (mask == 0)
    panic(name(), ": request [", r.addr, ", +", r.bytes, ") crosses a ", array_.geometry().line_bytes,
          " B line (the requester must split it)");
  if (r.op != MemOp::read) {
    if (pending_writes_.size() >= max_pending_writes_) return false;
    if (auto* l = array_.find(line)) l->valid |= mask;  // write-through: a present line stays up to date
    MemRequest m = r;
    m.source = source_id_;
    m.tag = next_write_tag_++;
    pending_writes_.emplace(m.tag, r);
    downstream_.push(0, now + tag_latency_, m, Priority::request);
    ++st_writes_;
    return true;
  }
  auto* l = array_.find(line);
  const std::uint32_t missing = l ? (mask & ~l->valid) : mask;
  if (missing == 0) {
    array_.touch(*l);
    ++st_reads_;
    ++st_read_hits_;
    schedule_response(r, mask, now + tag_latency_, data_latency_);
    return true;
  }
  auto it = mshr_.find(line);
  if (it == mshr_.end()) {
    if (mshr_.size() >= mshrs_) return false;
    it = mshr_.emplace(line, Mshr{}).first;
  } else {
    if (it->second.targets.size() >= mshr_targets_) return false;
    ++st_merges_;
  }
  if (l) array_.touch(*l);
  Mshr& m = it->second;
  const std::uint32_t to_request = missing & ~m.requested;
  m.requested |= to_request;
  m.targets.push_back({r, missing});
  if (to_request) request_sectors(line, to_request, now + tag_latency_);
  ++st_reads_;
  ++st_read_misses_;
  return true;
}

void L1Cache::handle_fill(const MemResponse& resp_msg, std::uint64_t now) {
  const MemRequest& r = resp_msg.req;
  if (r.op != MemOp::read) {  // a write or atomic acknowledged: answer the requester
    const auto it = pending_writes_.find(r.tag);
    if (it == pending_writes_.end()) panic(name(), ": acknowledgement for unknown write tag ", r.tag);
    responses_.push(now, MemResponse{it->second});
    pending_writes_.erase(it);
    return;
  }
  const std::uint64_t line = array_.line_of(r.addr);
  const std::uint32_t mask = array_.sector_mask(r.addr, r.bytes);
  ++st_fills_;
  st_fill_bytes_ += r.bytes;
  SectoredCacheArray::Line* l = array_.find(line);
  if (!l) {
    SectoredCacheArray::Victim victim;  // L1 lines are never dirty (write-through): eviction is free
    l = &array_.allocate(line, victim);
  }
  l->valid |= mask;
  const auto it = mshr_.find(line);
  if (it == mshr_.end()) panic(name(), ": fill for line ", line, " without an MSHR");
  Mshr& m = it->second;
  m.requested &= ~mask;
  m.arrived |= mask;
  std::vector<Target> waiting;
  for (auto& t : m.targets) {
    if ((t.need & ~m.arrived) == 0)
      schedule_response(t.req, array_.sector_mask(t.req.addr, t.req.bytes), now, fill_latency_);
    else
      waiting.push_back(std::move(t));
  }
  m.targets.swap(waiting);
  if (m.targets.empty()) {
    if (m.requested != 0) panic(name(), ": MSHR for line ", line, " has no targets but sectors in flight");
    mshr_.erase(it);
  }
}

bool L1Cache::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  while (mem_resp.ready()) handle_fill(mem_resp.pop(), now);

  stalled_ = false;
  for (std::size_t n = 0; n < lookups_per_cycle_ && req.ready(); ++n) {
    if (!accept(req.peek(), now)) {
      stalled_ = true;
      ++st_stall_cycles_;
      break;
    }
    req.pop();
  }

  while (responses_.due(now)) {
    resp.send(responses_.pop(), Priority::response);
    note_progress();
  }
  downstream_.drain(now);

  // Next cycle if more requests wait and we are not stalled (a fill or credit wakes a stalled cache).
  if (req.ready() && !stalled_) return true;
  const std::uint64_t next = std::min(responses_.next_cycle(), downstream_.next_cycle());
  if (next != DelayHeap<MemResponse>::kNone) {
    if (next <= now) return true;
    wake_at(Cycle(next));
  }
  return false;
}

bool L1Cache::busy() const {
  return !mshr_.empty() || !pending_writes_.empty() || !responses_.empty() || !downstream_.empty();
}

std::string L1Cache::waiting_on() const {
  return cat(mshr_.size(), " lines missing (MSHRs), ", pending_writes_.size(), " writes unacknowledged, ",
             downstream_.size(), " requests to send on ", mem_req.full_name(), ", ", responses_.size(),
             " responses to send");
}

std::vector<std::string> L1Cache::report_lines(const std::vector<StatValue>& totals) const {
  double reads = 0, hits = 0, merges = 0;
  for (const auto& v : totals) {
    if (v.name == "reads") reads = v.value;
    if (v.name == "read_hits") hits = v.value;
    if (v.name == "mshr_merges") merges = v.value;
  }
  if (reads == 0) return {};
  return {cat(format_number(reads), " reads, hit rate ", format_number(100.0 * hits / reads, 3), "%, ",
              format_number(merges), " merged misses")};
}

}  // namespace tilesim

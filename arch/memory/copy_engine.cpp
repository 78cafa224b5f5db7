#include "arch/memory/copy_engine.hpp"

#include <algorithm>
#include <sstream>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<CopyEngine> kRegistration(
    "copy_engine", "TMA/DMA copy engine: copy commands -> line requests, scratch writes, completion signal");

std::string hex(std::uint64_t v) {
  std::ostringstream o;
  o << "0x" << std::hex << v;
  return o.str();
}
}

std::vector<CopyPiece> split_copy(const CopyCommand& c, std::uint32_t line_bytes) {
  std::vector<CopyPiece> out;
  std::size_t count = 0;  // lines each row touches
  for (std::uint32_t row = 0; row < c.rows && c.row_bytes > 0; ++row) {
    const std::uint64_t g = c.global_addr + static_cast<std::uint64_t>(row) * c.pitch;
    count += (g + c.row_bytes - 1) / line_bytes - g / line_bytes + 1;
  }
  out.reserve(count);
  std::uint32_t scratch = c.scratch_addr;
  for (std::uint32_t row = 0; row < c.rows; ++row) {
    std::uint64_t g = c.global_addr + static_cast<std::uint64_t>(row) * c.pitch;
    std::uint64_t left = c.row_bytes;
    while (left > 0) {
      const std::uint64_t to_line_end = line_bytes - g % line_bytes;
      const auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(left, to_line_end));
      out.push_back({g, scratch, n});
      g += n;
      scratch += n;
      left -= n;
    }
  }
  return out;
}

ParamSchema CopyEngine::param_schema() {
  ParamSchema s;
  s.quantity("line_size", UnitKind::size, "128B", "global-memory line: no request crosses one", 1)
      .quantity("issue_latency", UnitKind::cycles, "20", "cycles from a command's arrival to its first request")
      .quantity("completion_latency", UnitKind::cycles, "10", "cycles from the last piece to the completion signal")
      .integer("max_outstanding", 64, "pieces (line requests) in flight at most", 1, 1 << 20)
      .integer("requests_per_cycle", 1, "pieces issued per cycle at most", 1, 64)
      .integer("source_id", 0, "id this engine puts in `source` of its global requests", 0);
  return s;
}

CopyEngine::CopyEngine(const ComponentContext& ctx)
    : Component(ctx),
      line_bytes_(static_cast<std::uint32_t>(params().bytes("line_size"))),
      issue_latency_(static_cast<std::uint64_t>(params().quantity("issue_latency"))),
      completion_latency_(static_cast<std::uint64_t>(params().quantity("completion_latency"))),
      max_outstanding_(static_cast<std::size_t>(params().integer("max_outstanding"))),
      requests_per_cycle_(static_cast<std::size_t>(params().integer("requests_per_cycle"))),
      source_id_(static_cast<std::uint32_t>(params().integer("source_id"))),
      st_commands_(stats().counter("commands", "", "copy commands completed")),
      st_line_requests_(stats().counter("line_requests", "", "global-memory requests made (pieces)")),
      st_bytes_(stats().counter("bytes", "B", "bytes copied")),
      st_command_cycles_(stats().distribution("command_cycles", "cycles", "cycles from command arrival to completion")),
      st_line_latency_(stats().distribution("line_latency", "cycles",
                                            "cycles from a line request's issue to its global-memory response (loaded "
                                            "latency of the hierarchy below the engine)")),
      st_multicast_commands_(stats().counter("multicast_commands", "", "multicast loads (this core's copy of a shared box)")),
      st_multicast_sent_(stats().counter("multicast_bytes_sent", "B", "bytes this engine fetched and delivered to peer cores")),
      st_multicast_received_(stats().counter("multicast_bytes_received", "B", "bytes peer cores fetched for this core")),
      st_limited_cycles_(stats().counter("in_flight_limited_cycles", "cycles",
                                         "cycles in which pieces were due to issue but max_outstanding pieces were in "
                                         "flight")) {
  st_read_latency_by_source_[static_cast<std::size_t>(ServedBy::l2)] = &stats().distribution(
      "read_latency_l2_hit", "cycles", "loaded latency of line reads the L2 hit");
  st_read_latency_by_source_[static_cast<std::size_t>(ServedBy::l2_in_flight)] = &stats().distribution(
      "read_latency_l2_in_flight", "cycles", "loaded latency of line reads merged into an L2 miss already in flight");
  st_read_latency_by_source_[static_cast<std::size_t>(ServedBy::memory)] = &stats().distribution(
      "read_latency_memory", "cycles", "loaded latency of line reads whose own L2 miss went to memory");
  mem_out_.add_port(&mem_req);
  scratch_out_.add_port(&scratch_req);
  mcast_out_.add_port(&mcast_out);
}

void CopyEngine::accept(CopyCommand cmd, std::uint64_t now) {
  Active a;
  a.cmd = std::move(cmd);
  std::vector<CopyPiece> all = split_copy(a.cmd, line_bytes_);
  if (all.empty()) panic(name(), ": copy command ", a.cmd.id, " moves no bytes");
  if (a.cmd.is_multicast()) {
    const CopyMulticast& mc = a.cmd.multicast;
    if (a.cmd.direction != CopyDirection::to_scratch)
      panic(name(), ": copy command ", a.cmd.id, " multicasts a store (only loads into scratch multicast)");
    if (mc.slice >= mc.cores.size()) panic(name(), ": multicast slice ", mc.slice, " of ", mc.cores.size(), " cores");
    // This core's share: a contiguous run of the box's pieces, the same split on every core.
    const std::size_t n = all.size(), c = mc.cores.size();
    const std::size_t lo = n * mc.slice / c, hi = n * (mc.slice + 1) / c;
    a.pieces.assign(all.begin() + static_cast<std::ptrdiff_t>(lo), all.begin() + static_cast<std::ptrdiff_t>(hi));
    std::uint64_t own = 0;
    for (const CopyPiece& p : a.pieces) own += p.bytes;
    a.inbound_expected = a.cmd.bytes() - own;
    Receipt& r = receipts_[mc.key];
    if (r.has_command) panic(name(), ": two copy commands under one multicast key");
    r.has_command = true;
    r.expected = a.inbound_expected;
    check_box(r, a.cmd.global_addr, mc.cores[mc.slice]);
    if (r.received > r.expected)
      throw SimulationError(cat(name(), ": peers delivered ", r.received, " B for a multicast box that expects ",
                                r.expected, " B from them (the cluster's copies of it differ in size)"));
    ++st_multicast_commands_;
  } else {
    a.pieces = std::move(all);
  }
  a.start_cycle = now + issue_latency_;
  if (next_seq_ + 1 >= (std::uint64_t{1} << 31)) panic(name(), ": more than 2^31 copy commands (piece tags hold 31 bits)");
  commands_.push_back(std::move(a));
  ++next_seq_;
}

void CopyEngine::check_box(Receipt& r, std::uint64_t box_addr, std::uint32_t core) const {
  if (!r.box_named) {
    r.box_named = true;
    r.box_addr = box_addr;
    r.named_by = core;
    return;
  }
  if (r.box_addr != box_addr)
    throw SimulationError(cat(name(), ": the cores of a multicast load disagree on the box: core ", r.named_by,
                              " loads global address ", hex(r.box_addr), ", core ", core, " ", hex(box_addr),
                              " (every program sharing a multicast copy_async must copy the same tile)"));
}

bool CopyEngine::finished(const Active& a) const {
  if (a.pieces_done != a.pieces.size()) return false;
  if (!a.cmd.is_multicast()) return true;
  return receipts_.at(a.cmd.multicast.key).received == a.inbound_expected;
}

void CopyEngine::deliver_to_peers(const Active& a, const MemRequest& read, std::uint64_t now) {
  const CopyMulticast& mc = a.cmd.multicast;
  for (std::uint32_t i = 0; i < mc.cores.size(); ++i) {
    if (i == mc.slice) continue;
    MulticastPiece m;
    m.key = mc.key;
    m.from = mc.cores[mc.slice];
    m.to = mc.cores[i];
    m.box_addr = a.cmd.global_addr;
    m.scratch_addr = tag_low(read.tag);
    m.bytes = read.bytes;
    m.issued = clock().now_tick();
    st_multicast_sent_ += read.bytes;
    mcast_out_.send_now(0, now, m, Priority::request);
  }
}

void CopyEngine::receive_piece(const MulticastPiece& m, std::uint64_t now) {
  Receipt& r = receipts_[m.key];
  check_box(r, m.box_addr, m.from);
  const std::uint64_t id = next_inbound_++;
  inbound_writes_.emplace(id, InboundWrite{m.key, m.bytes});
  ScratchRequest w;
  w.req.addr = m.scratch_addr;
  w.req.bytes = m.bytes;
  w.req.op = MemOp::write;
  w.req.tag = kInboundTag | id;
  w.req.source = source_id_;
  w.req.issued = clock().now_tick();
  scratch_out_.send_now(0, now, std::move(w), Priority::request);
}

CopyEngine::Active* CopyEngine::active_by_seq(std::uint64_t seq) {
  if (seq < first_seq_ || seq - first_seq_ >= commands_.size()) return nullptr;
  return &commands_[seq - first_seq_];
}

void CopyEngine::piece_done(std::uint64_t seq, std::uint64_t now) {
  Active* a = active_by_seq(seq);
  if (!a) panic(name(), ": piece of unknown command ", seq);
  ++a->pieces_done;
  retire_finished(now);
}

void CopyEngine::retire_finished(std::uint64_t now) {
  // Retire finished commands from the front, in order.
  while (!commands_.empty() && finished(commands_.front())) {
    Active& f = commands_.front();
    if (f.cmd.is_multicast()) receipts_.erase(f.cmd.multicast.key);
    CopyDone d{f.cmd.id, f.cmd.issued, f.cmd.bytes(), static_cast<std::uint32_t>(f.pieces.size())};
    ++st_commands_;
    st_bytes_ += f.cmd.bytes();
    st_command_cycles_.sample(static_cast<double>(now + completion_latency_ - f.start_cycle + issue_latency_));
    done_queue_.push(now + completion_latency_, d);
    commands_.pop_front();
    ++first_seq_;
  }
}

CopyEngine::Active& CopyEngine::command_of(std::uint64_t tag, const char* from) {
  Active* a = tag >> 32 == 0 ? nullptr : active_by_seq(tag_command(tag));
  if (!a) panic(name(), ": ", from, " response for unknown piece (tag ", tag, ")");
  return *a;
}

void CopyEngine::issue_piece(const Active& a, std::uint64_t command_seq, std::uint32_t index, std::uint64_t now) {
  const CopyPiece& p = a.pieces[index];
  ++in_flight_;
  ++st_line_requests_;
  MemRequest r;
  r.bytes = p.bytes;
  r.op = MemOp::read;
  r.source = source_id_;
  r.issued = clock().now_tick();
  if (a.cmd.direction == CopyDirection::to_scratch) {
    r.addr = p.global_addr;
    r.tag = piece_tag(command_seq, p.scratch_addr);
    mem_out_.send_now(0, now, r, Priority::request);
  } else {
    ScratchRequest s;
    s.req = r;
    s.req.addr = p.scratch_addr;
    s.req.tag = piece_tag(command_seq, index);
    scratch_out_.send_now(0, now, std::move(s), Priority::request);
  }
}

bool CopyEngine::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  while (cmd.ready()) accept(cmd.pop(), now);
  while (mcast_in.ready()) receive_piece(mcast_in.pop(), now);
  while (mem_resp.ready()) {
    const MemResponse m = mem_resp.pop();
    const Active& a = command_of(m.req.tag, "global");
    const auto latency = static_cast<double>(now - clock().cycle_at_or_after(m.req.issued).value);
    st_line_latency_.sample(latency);
    if (m.req.op == MemOp::read) {  // to_scratch: the data now goes into the scratch
      if (Distribution* by_source = st_read_latency_by_source_[static_cast<std::size_t>(m.req.served)])
        by_source->sample(latency);
      ScratchRequest w;
      w.req.addr = tag_low(m.req.tag);
      w.req.bytes = m.req.bytes;
      w.req.op = MemOp::write;
      w.req.tag = m.req.tag;
      w.req.source = source_id_;
      w.req.issued = clock().now_tick();
      scratch_out_.send_now(0, now, std::move(w), Priority::request);
      if (a.cmd.is_multicast()) deliver_to_peers(a, m.req, now);
    } else {  // from_scratch: the write is acknowledged
      --in_flight_;
      piece_done(tag_command(m.req.tag), now);
    }
  }
  while (scratch_resp.ready()) {
    const MemResponse m = scratch_resp.pop();
    if (m.req.tag & kInboundTag) {  // a peer's multicast piece landed here
      const auto it = inbound_writes_.find(m.req.tag & ~kInboundTag);
      if (it == inbound_writes_.end()) panic(name(), ": scratch answer for an unknown multicast piece");
      Receipt& r = receipts_[it->second.key];
      r.received += it->second.bytes;
      st_multicast_received_ += it->second.bytes;
      inbound_writes_.erase(it);
      if (r.has_command && r.received > r.expected)
        throw SimulationError(cat(name(), ": peers delivered ", r.received, " B for a multicast box that expects ",
                                  r.expected, " B from them (the cluster's copies of it differ in size)"));
      retire_finished(now);
      continue;
    }
    Active& a = command_of(m.req.tag, "scratch");
    if (m.req.op == MemOp::write) {  // to_scratch: landed
      --in_flight_;
      piece_done(tag_command(m.req.tag), now);
    } else {  // from_scratch: the data read goes out to global memory
      MemRequest w;
      w.addr = a.pieces.at(tag_low(m.req.tag)).global_addr;
      w.bytes = m.req.bytes;
      w.op = MemOp::write;
      w.tag = m.req.tag;
      w.source = source_id_;
      w.issued = clock().now_tick();
      mem_out_.send_now(0, now, std::move(w), Priority::request);
    }
  }
  // Cut pieces from the oldest commands whose start time has come.
  std::size_t issued = 0;
  std::uint64_t next_start = DelayHeap<int>::kNone;
  for (std::size_t i = 0; i < commands_.size() && issued < requests_per_cycle_; ++i) {
    Active& a = commands_[i];
    if (a.start_cycle > now) {
      next_start = std::min(next_start, a.start_cycle);
      break;  // in order: a later command does not overtake
    }
    while (a.next_piece < a.pieces.size() && issued < requests_per_cycle_ && in_flight_ < max_outstanding_) {
      issue_piece(a, first_seq_ + i, static_cast<std::uint32_t>(a.next_piece++), now);
      ++issued;
    }
    if (a.next_piece < a.pieces.size()) break;
  }
  while (done_queue_.due(now)) {
    done.send(done_queue_.pop(), Priority::response);
    note_progress();
  }
  mem_out_.drain(now);
  scratch_out_.drain(now);
  mcast_out_.drain(now);

  bool can_cut = false;
  bool due = false;  // the oldest command with pieces left may issue them now
  for (std::size_t i = 0; i < commands_.size(); ++i) {
    const Active& a = commands_[i];
    if (a.next_piece < a.pieces.size()) {
      can_cut = a.start_cycle <= now + 1 && in_flight_ < max_outstanding_;
      due = a.start_cycle <= now;
      if (a.start_cycle > now) next_start = std::min(next_start, a.start_cycle);
      break;
    }
  }
  // The engine sleeps while limited and is woken by the responses that free a slot, so the state
  // changes only on a tick: the interval is closed on the first tick that is not limited.
  track_in_flight_limit(now, due && in_flight_ >= max_outstanding_);
  if (can_cut) return true;
  const std::uint64_t next = std::min({next_start, done_queue_.next_cycle(), mem_out_.next_cycle(), scratch_out_.next_cycle(),
                                      mcast_out_.next_cycle()});
  if (next != DelayHeap<int>::kNone) {
    if (next <= now + 1) return true;
    wake_at(Cycle(next));
  }
  return false;
}

void CopyEngine::track_in_flight_limit(std::uint64_t now, bool limited) {
  if (limited && !limited_) limited_since_ = now;
  if (!limited && limited_) st_limited_cycles_ += now - limited_since_;
  limited_ = limited;
}

void CopyEngine::finish() { track_in_flight_limit(clock().now().value, false); }

std::vector<std::string> CopyEngine::report_lines(const std::vector<StatValue>& totals) const {
  auto get = [&](const std::string& n) { return stat_value(totals, n); };
  const double cycles = get("cycles");
  if (get("line_requests") == 0 || cycles <= 0) return {};
  std::vector<std::string> lines{cat(format_number(get("line_requests")), " line requests, loaded latency mean ",
                                     format_number(get("line_latency.mean"), 4), " cycles; ", max_outstanding_,
                                     " in flight at most (max_outstanding), the limit on ",
                                     format_number(100 * get("in_flight_limited_cycles") / cycles, 3), "% of cycles")};
  // Where the L2 answered the reads, with each kind's share and loaded latency.
  const std::array<std::pair<ServedBy, const char*>, 3> kinds{
      {{ServedBy::l2, "read_latency_l2_hit"}, {ServedBy::l2_in_flight, "read_latency_l2_in_flight"},
       {ServedBy::memory, "read_latency_memory"}}};
  double reads = 0;
  for (const auto& k : kinds) reads += get(cat(k.second, ".count"));
  if (reads > 0) {
    std::string by_source = "reads: ";
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      const double n = get(cat(kinds[i].second, ".count"));
      by_source += cat(i ? "; " : "", served_by_name(kinds[i].first), " ", format_number(100 * n / reads, 3), "%");
      if (n > 0) by_source += cat(" (mean ", format_number(get(cat(kinds[i].second, ".mean")), 4), " cycles)");
    }
    lines.push_back(by_source);
  }
  return lines;
}

std::string CopyEngine::waiting_on() const {
  std::size_t waiting = 0;
  for (const Active& a : commands_)
    if (a.cmd.is_multicast() && a.pieces_done == a.pieces.size() && !finished(a)) ++waiting;
  return cat(commands_.size(), " commands open, ", in_flight_, " pieces in flight (global reads/writes or scratch)",
             waiting ? cat(", ", waiting, " multicast boxes waiting for pieces from peer cores") : std::string());
}

}  // namespace tilesim

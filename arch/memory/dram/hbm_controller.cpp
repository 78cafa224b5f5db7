#include "arch/memory/dram/hbm_controller.hpp"

#include <algorithm>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<HbmController> kRegistration(
    "hbm_controller",
    "HBM memory controller: (pseudo-)channels with bank groups, open rows, JEDEC timing, refresh, FR-FCFS");
}

HbmController::HbmController(const ComponentContext& ctx)
    : Component(ctx),
      config_(dram::resolve_hbm_config(params(), clock().frequency_hz())),
      mapping_(config_.address_mapping, config_.org, params().path() + ".address_mapping", config_.xor_channel,
               config_.xor_bank),
      channel_next_(config_.org.channels, dram::HbmChannel::kNever),
      need_(config_.org.channels, 0),
      closed_(config_.org.channels, 0),
      staged_on_(config_.org.channels, 0),
      st_reads_(stats().counter("reads", "", "read requests (atomics included: timed as reads)")),
      st_writes_(stats().counter("writes", "", "write requests")),
      st_bytes_read_(stats().counter("bytes_read", "B", "bytes requested by reads")),
      st_bytes_written_(stats().counter("bytes_written", "B", "bytes requested by writes")),
      st_bytes_(stats().counter("bytes", "B", "bytes requested (read + written)")),
      st_bursts_(stats().counter("bursts", "", "column commands (RD + WR), one per burst")),
      st_row_hits_(stats().counter("row_hits", "", "bursts whose row was already open")),
      st_row_misses_(stats().counter("row_misses", "", "bursts that needed an ACT to a closed bank")),
      st_row_conflicts_(stats().counter("row_conflicts", "", "bursts that needed PRE + ACT (another row open)")),
      st_activates_(stats().counter("activates", "", "ACT commands")),
      st_precharges_(stats().counter("precharges", "", "banks closed (PRE, PREA for refresh, auto-precharge)")),
      st_refreshes_(stats().counter("refreshes", "", "all-bank REF commands, summed over channels")),
      st_bus_busy_(stats().counter("data_bus_busy", "cycles", "channel-cycles the data buses carried bursts")),
      st_busy_cycles_(stats().counter("busy_cycles", "cycles", "cycles with at least one request in flight")),
      st_read_to_write_(stats().counter("read_to_write_turnarounds", "", "WR commands right after a RD on the "
                                                                         "same channel (data bus turned around, tRTW)")),
      st_write_to_read_(stats().counter("write_to_read_turnarounds", "", "RD commands right after a WR on the "
                                                                         "same channel (tWTR)")),
      st_write_drains_(stats().counter("write_drains", "", "channel switches into write mode (write batches)")),
      st_forwarded_reads_(stats().counter("forwarded_reads", "", "read bursts answered from a queued write to "
                                                                 "the same address (no DRAM command)")),
      st_input_stalls_(stats().counter("input_stalls", "", "times the input buffer filled up and requests had to "
                                                           "wait in the req port")),
      st_queue_latency_(stats().distribution("queue_latency", "cycles", "burst wait from arrival to its RD/WR")),
      st_latency_(stats().distribution("latency", "cycles", "request arrival to response")) {
  stats().ratio("row_hit_rate", "", "row_hits / bursts", "row_hits", "bursts");
  stats().ratio("bus_utilization", "", "data_bus_busy / (busy_cycles x channels)", "data_bus_busy", "busy_cycles",
                1.0 / config_.org.channels);
  stats().ratio("achieved_bandwidth", "B/s", "bytes / busy time", "bytes", "busy_cycles",
                static_cast<double>(config_.clock_hz));
  dram::ChannelCounters counters{&st_activates_,     &st_precharges_,    &st_refreshes_,
                                 &st_read_to_write_, &st_write_to_read_, &st_write_drains_};
  channels_.reserve(config_.org.channels);
  for (std::uint32_t c = 0; c < config_.org.channels; ++c)
    channels_.emplace_back(config_, c, config_.org.channels, counters);
}

std::uint32_t HbmController::allocate_slot() {
  if (free_slots_.empty()) {
    slots_.emplace_back();
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }
  const std::uint32_t s = free_slots_.back();
  free_slots_.pop_back();
  return s;
}

void HbmController::plan_bursts(const MemRequest& r, Staged& into) {
  if (r.bytes == 0) throw SimulationError(cat(name(), ": request ", r.id, " from source ", r.source, " has zero bytes"));
  if (r.addr + r.bytes > mapping_.capacity() || r.addr + r.bytes < r.addr)
    throw SimulationError(cat(name(), ": request ", r.id, " [", r.addr, ", +", r.bytes, ") lies beyond the "
                              "controller's capacity of ", mapping_.capacity(), " B (local addresses expected: "
                              "see ControllerInterleave::local_address)"));
  const std::uint64_t burst = mapping_.burst_bytes();
  into.req = r;
  into.bursts.clear();
  into.needs.clear();
  for (std::uint64_t a = r.addr / burst * burst; a < r.addr + r.bytes; a += burst) {
    const dram::DramCoord c = mapping_.decode(a);
    into.bursts.push_back({a, c});
    if (need_[c.channel]++ == 0) into.needs.push_back({c.channel, 0});
  }
  for (auto& [channel, count] : into.needs) {
    count = need_[channel];
    need_[channel] = 0;
    const std::uint32_t depth = r.is_write() ? config_.write_queue_depth : config_.queue_depth;
    if (count > depth)
      throw SimulationError(cat(name(), ": request ", r.id, " of ", r.bytes, " B needs ", count, " bursts in channel ",
                                channel, ", more than ", r.is_write() ? "write_queue_depth" : "queue_depth", " (",
                                depth, "); raise it or split the request upstream"));
  }
}

bool HbmController::fits(const Staged& s) {
  for (const auto& [channel, count] : s.needs)
    if (closed_[channel] || count > channels_[channel].free_slots(s.req.is_write())) {
      // A refused request closes its channels to younger ones: bursts enter a channel in arrival order.
      for (const auto& need : s.needs) {
        closed_channels_ += closed_[need.first] ? 0 : 1;
        closed_[need.first] = 1;
      }
      return false;
    }
  return true;
}

void HbmController::enqueue(Staged& s, std::uint64_t now, std::uint64_t first_step) {
  const std::uint32_t slot = allocate_slot();
  Request& q = slots_[slot];
  q.resp = MemResponse{s.req};
  q.arrival = now;
  q.done = 0;
  q.bursts_left = static_cast<std::uint32_t>(s.bursts.size());
  ++in_flight_;
  const bool write = s.req.is_write();
  (write ? st_writes_ : st_reads_) += 1;
  (write ? st_bytes_written_ : st_bytes_read_) += s.req.bytes;
  st_bytes_ += s.req.bytes;
  const std::uint64_t burst = mapping_.burst_bytes();
  for (const auto& [a, c] : s.bursts) {
    dram::QueuedBurst b;
    b.seq = next_seq_++;
    b.arrival = now;
    b.addr = a;
    b.request = slot;
    b.bank_group = c.bank_group;
    b.bank = c.bank;
    b.row = c.row;
    b.write = write;
    b.full_write = write && s.req.addr <= a && a + burst <= s.req.addr + s.req.bytes;
    if (channels_[c.channel].enqueue(b, now)) {
      channel_next_[c.channel] = std::min(channel_next_[c.channel], first_step);
    } else {  // forwarded from the write queue: the data is in the controller, ready next cycle
      ++st_forwarded_reads_;
      q.done = std::max(q.done, now + 1);
      if (--q.bursts_left == 0) due_.push({q.done, next_seq_++, slot});
    }
  }
}

void HbmController::admit_requests(std::uint64_t now, std::uint64_t first_step, bool room_freed) {
  if (room_freed) {
    // Buffered requests first (they are older), compacting the buffer in place.
    std::fill(closed_.begin(), closed_.end(), 0);
    closed_channels_ = 0;
    std::size_t kept = 0, i = 0;
    for (; i < staged_.size(); ++i) {
      // Once every channel has refused an older request, no younger one may enter: stop looking.
      if (closed_channels_ == closed_.size()) break;
      if (fits(staged_[i])) {
        for (const auto& need : staged_[i].needs) --staged_on_[need.first];
        enqueue(staged_[i], now, first_step);
        spare_.push_back(std::move(staged_[i]));
      } else {
        if (kept != i) std::swap(staged_[kept], staged_[i]);
        ++kept;
      }
    }
    for (; i < staged_.size(); ++i, ++kept)
      if (kept != i) std::swap(staged_[kept], staged_[i]);
    staged_.resize(kept);
  }
  // Nothing freed since the last pass: the buffered requests still do not fit, and their channels stay
  // closed to newer ones.
  closed_channels_ = 0;
  for (std::size_t c = 0; c < closed_.size(); ++c) {
    closed_[c] = staged_on_[c] > 0;
    closed_channels_ += closed_[c];
  }
  // Then new arrivals, while the input buffer has room.
  const bool was_blocked = input_blocked_;
  input_blocked_ = false;
  while (req_.ready()) {
    if (staged_.size() >= config_.input_buffer) {
      if (!was_blocked) ++st_input_stalls_;
      input_blocked_ = true;  // requests stay in the port; room frees as channels issue
      return;
    }
    Staged s;
    if (!spare_.empty()) {
      s = std::move(spare_.back());
      spare_.pop_back();
    }
    plan_bursts(req_.peek(), s);
    req_.pop();
    if (fits(s)) {
      enqueue(s, now, first_step);
      spare_.push_back(std::move(s));
    } else {
      for (const auto& need : s.needs) ++staged_on_[need.first];
      staged_.push_back(std::move(s));
    }
  }
}

void HbmController::complete_burst(const dram::ColumnIssued& c) {
  ++st_bursts_;
  st_bus_busy_ += config_.timing.tBURST;
  st_queue_latency_.sample(static_cast<double>(c.queued_cycles));
  switch (c.outcome) {
    case dram::RowOutcome::hit: ++st_row_hits_; break;
    case dram::RowOutcome::miss: ++st_row_misses_; break;
    case dram::RowOutcome::conflict: ++st_row_conflicts_; break;
  }
  Request& q = slots_[c.request];
  q.done = std::max(q.done, c.data_end);
  if (--q.bursts_left == 0) due_.push({q.done, next_seq_++, c.request});
}

void HbmController::send_responses(std::uint64_t now) {
  response_blocked_ = false;
  while (!due_.empty() && due_.top().done <= now) {
    if (!resp_.can_send()) {
      response_blocked_ = true;  // a freed credit wakes us
      return;
    }
    const std::uint32_t slot = due_.top().slot;
    due_.pop();
    Request& q = slots_[slot];
    st_latency_.sample(static_cast<double>(now - q.arrival));
    resp_.send(std::move(q.resp), Priority::response);
    free_slots_.push_back(slot);
    --in_flight_;
    note_progress();
  }
}

void HbmController::schedule_wake(std::uint64_t now) {
  std::uint64_t next = dram::HbmChannel::kNever;
  for (const std::uint64_t c : channel_next_) next = std::min(next, c);
  if (!due_.empty() && !response_blocked_) next = std::min(next, due_.top().done);
  if (next != dram::HbmChannel::kNever) wake_at(Cycle(std::max(next, now + 1)));
}

bool HbmController::tick(Cycle cycle) {
  const std::uint64_t now = cycle.value;
  if (in_flight_ > 0) st_busy_cycles_ += now - last_tick_;
  last_tick_ = now;
  admit_requests(now, now, false);
  issued_.clear();
  for (std::size_t c = 0; c < channels_.size(); ++c)
    if (channel_next_[c] <= now) channel_next_[c] = channels_[c].step(now, issued_);
  for (const auto& c : issued_) complete_burst(c);
  // Room freed this cycle: admit waiting requests now; their channels act from the next cycle.
  if ((!staged_.empty() || input_blocked_) && !issued_.empty()) admit_requests(now, now + 1, true);
  send_responses(now);
  schedule_wake(now);
  return false;  // arrivals, freed response credits and our timer wake us
}

void HbmController::finish() {
  // Count the refreshes that fell due after the last request, up to the end of the run.
  const std::uint64_t end = clock().now().value;
  for (auto& ch : channels_) ch.catch_up(end);
}

std::string HbmController::waiting_on() const {
  std::size_t queued = 0, refreshing = 0;
  for (const auto& ch : channels_) {
    queued += ch.queued();
    refreshing += ch.refresh_pending() ? 1 : 0;
  }
  std::uint64_t next = dram::HbmChannel::kNever;
  for (const std::uint64_t c : channel_next_) next = std::min(next, c);
  std::string s = cat("DRAM timing: ", in_flight_, " requests in flight, ", queued, " bursts queued, ", refreshing,
                      " channels refreshing, next command at cycle ",
                      next == dram::HbmChannel::kNever ? std::string("(none)") : std::to_string(next));
  if (!staged_.empty()) s += cat("; ", staged_.size(), " requests waiting for room in full channel queues");
  if (input_blocked_) s += "; input buffer full";
  if (response_blocked_) s += cat("; a free credit on ", resp_.full_name(), " -> ", resp_.peer_name());
  return s;
}

std::vector<std::string> HbmController::report_lines(const std::vector<StatValue>& totals) const {
  auto get = [&](const std::string& n) { return stat_value(totals, n); };
  return {cat(format_number(get("bursts")), " bursts: row-hit rate ", format_number(100 * get("row_hit_rate"), 4),
              "% (", format_number(get("row_hits")), " hits, ", format_number(get("row_misses")), " misses, ",
              format_number(get("row_conflicts")), " conflicts), ", format_number(get("refreshes")), " refreshes"),
          cat("achieved ", format_quantity(get("achieved_bandwidth"), UnitKind::bandwidth), " of ",
              format_quantity(config_.peak_bytes_per_second(), UnitKind::bandwidth), " peak while busy (data buses ",
              format_number(100 * get("bus_utilization"), 4), "% utilised); mean queueing ",
              format_number(get("queue_latency.mean"), 4), " cycles")};
}

}  // namespace tilesim

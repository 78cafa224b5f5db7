#include "arch/memory/dram/hbm_channel.hpp"

#include <algorithm>

#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim::dram {

namespace {
constexpr std::size_t kNone = ~std::size_t{0};
constexpr std::uint32_t kRead = 0, kWrite = 1;
}  // namespace

HbmChannel::HbmChannel(const HbmConfig& config, std::uint32_t index, std::uint32_t channel_count,
                       ChannelCounters counters)
    : config_(&config),
      counters_(counters),
      banks_(config.org.banks()),
      groups_(config.org.bank_groups),
      refresh_due_(config.refresh_stagger ? refresh_period(config) * (index + 1) / channel_count
                                          : refresh_period(config)) {
  for (std::size_t i = 0; i < banks_.size(); ++i) banks_[i].group = static_cast<std::uint32_t>(i / config.org.banks_per_group);
  active_banks_.reserve(banks_.size());
  addresses_.reserve(config.queue_depth + config.write_queue_depth);
}

std::uint64_t HbmChannel::refresh_period(const HbmConfig& config) {
  return config.per_bank_refresh ? config.timing.tREFIpb : config.timing.tREFI;
}

bool HbmChannel::refreshing(std::uint32_t bank) const {
  return refresh_pending_ && config_->per_bank_refresh && bank == refresh_bank_;
}

std::uint64_t HbmChannel::column_ready(const Bank& bank, std::uint32_t dir) const {
  const Group& g = groups_[bank.group];
  return dir == kWrite ? std::max({bank.wr_ready, g.wr_ready, wr_ready_})
                       : std::max({bank.rd_ready, g.rd_ready, rd_ready_});
}

std::uint64_t HbmChannel::activate_ready(const Bank& bank) const {
  // tFAW: the fifth ACT waits until the oldest of the last four is tFAW old.
  const std::uint64_t faw = act_count_ >= 4 ? recent_acts_[act_count_ % 4] + config_->timing.tFAW : 0;
  return std::max({bank.act_ready, groups_[bank.group].act_ready, act_ready_, faw});
}

bool HbmChannel::may_precharge_for_conflict(const Bank& bank) const {
  std::uint32_t hits = 0;
  for (std::uint32_t dir = 0; dir < 2; ++dir)
    if (considered(dir)) hits += bank.queued_hits[dir];
  return hits == 0 || bank.hits_since_act >= config_->max_row_hits;
}

bool HbmChannel::may_issue(const QueuedBurst& b) const {
  if (!b.ordered) return true;
  // The entry exists while b is queued; same-direction bursts to one address issue in arrival order.
  const AddressState& at = addresses_.at(b.addr);
  return at.issued[b.write ? kRead : kWrite] >= b.wait_for;
}

void HbmChannel::close(Bank& bank, std::uint64_t at) {
  bank.open = false;
  bank.queued_hits = {0, 0};
  bank.act_ready = std::max(bank.act_ready, at + config_->timing.tRP);
  ++*counters_.precharges;
}

void HbmChannel::activate(Bank& bank, QueuedBurst& b, std::uint64_t now) {
  const HbmTiming& t = config_->timing;
  bank.open = true;
  bank.row = b.row;
  bank.rd_ready = now + t.tRCD;
  bank.wr_ready = now + t.tRCD_WR;
  bank.pre_ready = std::max(bank.pre_ready, now + t.tRAS);
  bank.act_ready = std::max(bank.act_ready, now + t.tRC);
  bank.hits_since_act = 0;
  bank.reserved = false;
  for (std::uint32_t dir = 0; dir < 2; ++dir)
    bank.queued_hits[dir] = static_cast<std::uint32_t>(
        std::count_if(bank.queue[dir].begin(), bank.queue[dir].end(), [&](const QueuedBurst& q) { return q.row == b.row; }));
  groups_[bank.group].act_ready = now + t.tRRD_L;
  act_ready_ = now + t.tRRD_S;
  recent_acts_[act_count_ % 4] = now;
  ++act_count_;
  b.activated = true;
  ++*counters_.activates;
}

bool HbmChannel::enqueue(const QueuedBurst& burst, std::uint64_t now) {
  const std::uint32_t dir = burst.write ? kWrite : kRead;
  if (free_slots(burst.write) == 0) panic("HBM channel queue overflow (caller must check free_slots)");
  if (queued() == 0 && (!refresh_pending_ || config_->per_bank_refresh)) catch_up(now);
  AddressState& at = addresses_[burst.addr];
  const std::uint32_t other = 1 - dir;
  const bool other_queued = at.arrived[other] > at.issued[other];
  // A read behind a queued write that covers its whole burst takes the data from the write queue.
  if (!burst.write && other_queued && at.newest_write_full) return false;
  QueuedBurst b = burst;
  if (other_queued) {
    b.ordered = true;
    b.wait_for = at.arrived[other];
    ordered_.push_back(b);
  }
  ++at.arrived[dir];
  if (b.write) at.newest_write_full = b.full_write;
  Bank& bank = bank_of(b);
  if (bank.active_slot < 0) {
    bank.active_slot = static_cast<std::int32_t>(active_banks_.size());
    active_banks_.push_back(static_cast<std::uint32_t>(&bank - banks_.data()));
  }
  bank.queue[dir].push_back(b);
  ++queued_[dir];
  if (bank.open && bank.row == b.row) ++bank.queued_hits[dir];
  return true;
}

void HbmChannel::remove_burst(Bank& bank, std::uint32_t dir, std::size_t index) {
  bank.queue[dir].erase(bank.queue[dir].begin() + static_cast<std::ptrdiff_t>(index));
  --queued_[dir];
  if (!bank.queue[kRead].empty() || !bank.queue[kWrite].empty()) return;
  // Leave the active list: the last entry takes this bank's place.
  const auto slot = static_cast<std::size_t>(bank.active_slot);
  active_banks_[slot] = active_banks_.back();
  banks_[active_banks_[slot]].active_slot = static_cast<std::int32_t>(slot);
  active_banks_.pop_back();
  bank.active_slot = -1;
}

void HbmChannel::update_mode() {
  if (!config_->write_drain) return;
  // The oldest burst still waiting for the other direction at its address decides: its predecessors
  // are not waiting themselves (they are older), so serving their direction always makes progress.
  bool want = write_mode_;
  bool forced = false;
  for (const auto& o : ordered_)
    if (!may_issue(o)) {
      want = !o.write;
      forced = true;
      break;
    }
  if (!forced) {
    const std::uint32_t reads = queued_[kRead], writes = queued_[kWrite];
    if (!write_mode_)
      want = writes > config_->write_high_watermark || (reads == 0 && writes > 0);
    else
      want = !((writes < config_->write_low_watermark || writes == 0) && reads > 0);
  }
  if (want == write_mode_) return;
  write_mode_ = want;
  if (want) ++*counters_.write_drains;
  // A PRE issued for a burst of the other direction no longer reserves its bank's next ACT.
  for (auto& bank : banks_) bank.reserved = false;
}

std::uint64_t HbmChannel::scan(std::uint64_t now, Pick& column, Pick& row) const {
  std::uint64_t next = kNever;
  // Keep the oldest candidate legal now; every other one bounds the next step.
  auto offer = [&](Pick& pick, const Pick& candidate) {
    if (candidate.ready <= now && candidate.seq < pick.seq) {
      if (pick.valid()) next = std::min(next, pick.ready);
      pick = candidate;
    } else {
      next = std::min(next, candidate.ready);
    }
  };
  for (const std::uint32_t index : active_banks_) {
    if (refreshing(index)) continue;  // closed and refreshed first
    const Bank& bank = banks_[index];
    for (std::uint32_t dir = 0; dir < 2; ++dir) {
      const auto& q = bank.queue[dir];
      if (q.empty() || !considered(dir)) continue;
      Pick candidate;
      candidate.bank = index;
      candidate.dir = dir;
      if (bank.open) {
        // The oldest hit that may issue (column bus) and the oldest burst for another row (row bus). The
        // hit count says which of the two exist, so the walk stops at the first of each.
        const bool any_hit = bank.queued_hits[dir] > 0, any_other = bank.queued_hits[dir] < q.size();
        std::size_t hit = kNone, other = kNone;
        for (std::size_t i = 0; i < q.size() && ((any_hit && hit == kNone) || (any_other && other == kNone)); ++i) {
          if (q[i].row != bank.row) {
            if (other == kNone) other = i;
          } else if (hit == kNone && may_issue(q[i])) {
            hit = i;
          }
        }
        if (hit != kNone) {
          candidate.index = hit;
          candidate.seq = q[hit].seq;
          candidate.command = Command::column;
          candidate.ready = column_ready(bank, dir);
          offer(column, candidate);
        }
        if (other != kNone) {
          candidate.index = other;
          candidate.seq = q[other].seq;
          candidate.command = Command::precharge;
          candidate.ready = may_precharge_for_conflict(bank) ? bank.pre_ready : kNever;  // else: hits first
          offer(row, candidate);
        }
      } else {
        std::size_t first = 0;
        if (bank.reserved) {  // the ACT belongs to the burst whose conflict closed the bank
          first = kNone;
          for (std::size_t i = 0; i < q.size() && first == kNone; ++i)
            if (q[i].seq == bank.reserved_seq) first = i;
          if (first == kNone) continue;
        }
        candidate.index = first;
        candidate.seq = q[first].seq;
        candidate.command = Command::activate;
        candidate.ready = activate_ready(bank);
        offer(row, candidate);
      }
    }
  }
  return next;
}

std::uint64_t HbmChannel::row_ready(const Pick& pick, Command& command) const {
  const Bank& bank = banks_[pick.bank];
  const QueuedBurst& b = bank.queue[pick.dir][pick.index];
  if (bank.open && bank.row == b.row) {
    command = Command::column;
    return column_ready(bank, pick.dir);
  }
  if (bank.open) {
    command = Command::precharge;
    return may_precharge_for_conflict(bank) ? bank.pre_ready : kNever;
  }
  command = Command::activate;
  return bank.reserved && bank.reserved_seq != b.seq ? kNever : activate_ready(bank);
}

bool HbmChannel::issue_column(const Pick& pick, std::uint64_t now, std::vector<ColumnIssued>& out) {
  const HbmTiming& t = config_->timing;
  Bank& bank = banks_[pick.bank];
  Group& g = groups_[bank.group];
  const QueuedBurst b = bank.queue[pick.dir][pick.index];
  std::uint64_t data_end;
  if (b.write) {
    data_end = now + t.tCWL + t.tBURST;
    wr_ready_ = std::max(wr_ready_, now + t.tCCD_S);
    g.wr_ready = std::max(g.wr_ready, now + t.tCCD_L);
    rd_ready_ = std::max(rd_ready_, data_end + t.tWTR_S);
    g.rd_ready = std::max(g.rd_ready, data_end + t.tWTR_L);
    bank.pre_ready = std::max(bank.pre_ready, data_end + t.tWR);
  } else {
    data_end = now + t.tCL + t.tBURST;
    rd_ready_ = std::max(rd_ready_, now + t.tCCD_S);
    g.rd_ready = std::max(g.rd_ready, now + t.tCCD_L);
    wr_ready_ = std::max(wr_ready_, now + t.tRTW);
    bank.pre_ready = std::max(bank.pre_ready, now + t.tRTP);
  }
  if (any_column_ && last_column_write_ != b.write) ++*(b.write ? counters_.read_to_write : counters_.write_to_read);
  any_column_ = true;
  last_column_write_ = b.write;
  --bank.queued_hits[pick.dir];
  ++bank.hits_since_act;
  ColumnIssued done;
  done.request = b.request;
  done.issue = now;
  done.data_end = data_end;
  done.queued_cycles = now - b.arrival;
  done.outcome = !b.activated ? RowOutcome::hit : b.precharged ? RowOutcome::conflict : RowOutcome::miss;
  done.write = b.write;
  out.push_back(done);
  remove_burst(bank, pick.dir, pick.index);
  if (b.ordered)
    ordered_.erase(std::find_if(ordered_.begin(), ordered_.end(), [&](const QueuedBurst& o) { return o.seq == b.seq; }));
  // Same-address bookkeeping: the entry goes when nothing for the address is queued any more.
  const auto at = addresses_.find(b.addr);
  ++at->second.issued[pick.dir];
  const bool others_queued = at->second.arrived != at->second.issued;
  if (!others_queued) addresses_.erase(at);
  // Close page: precharge as RDA/WRA would, once tRAS/tRTP/tWR allow, if nothing else wants the row.
  if (config_->close_page && bank.queued_hits[kRead] + bank.queued_hits[kWrite] == 0)
    close(bank, std::max(now, bank.pre_ready));
  return others_queued;
}

void HbmChannel::issue_row(const Pick& pick, std::uint64_t now) {
  Bank& bank = banks_[pick.bank];
  QueuedBurst& b = bank.queue[pick.dir][pick.index];
  if (!bank.open) return activate(bank, b, now);
  close(bank, now);
  bank.reserved = true;
  bank.reserved_seq = b.seq;
  b.precharged = true;
}

std::uint64_t HbmChannel::earliest_action(std::uint64_t now) const {
  Pick column, row;
  const std::uint64_t next = std::min({scan(now, column, row), column.ready, row.ready});
  // Every burst that waits on another burst of its bank (kNever) makes that one count here.
  if (next == kNever && queued() > 0) panic("HBM channel holds ", queued(), " bursts but none can ever issue: ", describe());
  return next;
}

std::string HbmChannel::describe() const {
  std::string s = cat(write_mode_ ? "write" : "read", " mode, ", queued_[kRead], " reads, ", queued_[kWrite], " writes");
  for (const std::uint32_t index : active_banks_) {
    const Bank& b = banks_[index];
    s += cat("; bank ", index, b.open ? cat(" open row ", b.row) : std::string(" closed"), " hits ", b.queued_hits[0], "/",
             b.queued_hits[1], b.reserved ? cat(" reserved ", b.reserved_seq) : std::string());
    for (std::uint32_t dir = 0; dir < 2; ++dir)
      for (const auto& q : b.queue[dir])
        s += cat(dir ? " W" : " R", q.seq, "@", q.row, q.ordered ? "*" : "");
  }
  return s;
}

void HbmChannel::refresh_bank_at(std::uint64_t at) {
  const HbmTiming& t = config_->timing;
  Bank& bank = banks_[refresh_bank_];
  bank.act_ready = std::max(bank.act_ready, at + t.tRFCpb);
  act_ready_ = std::max(act_ready_, at + t.tRREFD);
  refresh_bank_ = (refresh_bank_ + 1) % static_cast<std::uint32_t>(banks_.size());
  refresh_due_ += t.tREFIpb;
  refresh_pending_ = false;
  ++*counters_.refreshes;
}

bool HbmChannel::step_bank_refresh(std::uint64_t now, std::uint64_t& ready) {
  Bank& bank = banks_[refresh_bank_];
  if (bank.open) {  // PRE once tRAS / tRTP / tWR allow
    ready = bank.pre_ready;
    if (ready > now) return false;
    close(bank, now);
    ready = bank.act_ready;  // REFpb tRP later
    return true;
  }
  // REFpb when the bank may be activated (tRP, tRC) and tRRD_S after the last ACT to another bank.
  ready = std::max(bank.act_ready, act_ready_);
  if (ready > now) return false;
  refresh_bank_at(now);
  ready = std::min(refresh_due_, bank.act_ready);
  return true;
}

void HbmChannel::refresh_at(std::uint64_t at) {
  for (auto& bank : banks_) bank.act_ready = std::max(bank.act_ready, at + config_->timing.tRFC);
  refresh_due_ += config_->timing.tREFI;
  refresh_pending_ = false;
  ++*counters_.refreshes;
}

std::uint64_t HbmChannel::step_refresh(std::uint64_t now) {
  std::uint64_t precharge_at = 0;
  bool any_open = false;
  for (const auto& bank : banks_)
    if (bank.open) {
      any_open = true;
      precharge_at = std::max(precharge_at, bank.pre_ready);
    }
  if (any_open) {
    if (now < precharge_at) return precharge_at;
    for (auto& bank : banks_)  // PREA: one command closes every open bank
      if (bank.open) close(bank, now);
    return now + 1;
  }
  std::uint64_t refresh_at_cycle = 0;
  for (const auto& bank : banks_) refresh_at_cycle = std::max(refresh_at_cycle, bank.act_ready);
  if (now < refresh_at_cycle) return refresh_at_cycle;
  refresh_at(now);
  return std::max(std::min(earliest_action(now), refresh_due_), now + 1);
}

void HbmChannel::catch_up(std::uint64_t now) {
  if (!config_->refresh || queued() > 0) return;
  if (config_->per_bank_refresh) {
    // Replay each bank's REFpb as it would have gone: PRE when allowed, REFpb when the bank may activate.
    while (refresh_due_ <= now) {
      Bank& bank = banks_[refresh_bank_];
      if (bank.open) close(bank, std::max(refresh_due_, bank.pre_ready));
      refresh_bank_at(std::max({refresh_due_, bank.act_ready, act_ready_}));
    }
    return;
  }
  if (refresh_pending_) return;
  while (refresh_due_ <= now) {
    const std::uint64_t due = refresh_due_;
    std::uint64_t precharge_at = due;
    bool any_open = false;
    for (const auto& bank : banks_)
      if (bank.open) {
        any_open = true;
        precharge_at = std::max(precharge_at, bank.pre_ready);
      }
    if (any_open)
      for (auto& bank : banks_)
        if (bank.open) close(bank, precharge_at);
    std::uint64_t at = due;
    for (const auto& bank : banks_) at = std::max(at, bank.act_ready);
    refresh_at(at);
  }
}

std::uint64_t HbmChannel::step(std::uint64_t now, std::vector<ColumnIssued>& out) {
  if (queued() == 0) {
    catch_up(now);
    return kNever;
  }
  update_mode();  // arrivals since the last step may change it
  if (config_->refresh && now >= refresh_due_) refresh_pending_ = true;
  if (refresh_pending_ && !config_->per_bank_refresh) return step_refresh(now);
  // One look at each bank with work: the oldest burst whose RD/WR is legal now (row hits first, on the
  // column bus), the oldest whose ACT/PRE is legal now (row bus), and the earliest cycle any other could go.
  Pick column, row;
  std::uint64_t next = scan(now, column, row);
  if (config_->refresh && !refresh_pending_) next = std::min(next, refresh_due_);
  // Per-bank refresh: the due bank's PRE / REFpb comes first on the row bus.
  bool row_bus_taken = false;
  if (refresh_pending_) {
    std::uint64_t ready = kNever;
    row_bus_taken = step_bank_refresh(now, ready);
    next = std::min(next, ready);
  }
  // What is issued now delays the other bursts (so `next` is not late) but may also enable commands
  // that were not possible before; each case adds a lower bound for them, and the step at that cycle
  // looks again. A column command: the bank's last hit lets a waiting conflict precharge (pre_ready),
  // an auto-precharge lets the next ACT go (act_ready), a burst waiting for this one's address may go.
  // An ACT: the RD/WR of the bursts for its row. A PRE: the ACT it was issued for, tRP later.
  const HbmTiming& t = config_->timing;
  if (column.valid()) {
    const Bank& bank = banks_[column.bank];
    if (issue_column(column, now, out)) next = std::min(next, now + 1);
    next = std::min(next, bank.open ? bank.pre_ready : bank.act_ready);
    if (row.valid() && row.bank == column.bank && row.dir == column.dir && row.index > column.index) --row.index;
  }
  if (row.valid() && row_bus_taken) {
    next = std::min(next, now + 1);
  } else if (row.valid()) {
    // The column command may have changed the row candidate's bank (tRTP, auto-precharge): re-check.
    Command command;
    const std::uint64_t ready = row_ready(row, command);
    if (ready <= now && command == row.command) {
      issue_row(row, now);
      if (command == Command::precharge) {
        next = std::min(next, now + t.tRP);
      } else {
        const Bank& bank = banks_[row.bank];
        for (std::uint32_t dir = 0; dir < 2; ++dir)
          if (bank.queued_hits[dir] > 0) next = std::min(next, column_ready(bank, dir));
      }
    } else {
      next = std::min(next, ready);
    }
  }
  if (queued() == 0) return kNever;
  // Issuing may have crossed a watermark or released a waiting burst: a new mode acts from the next cycle.
  const bool was_write_mode = write_mode_;
  update_mode();
  if (write_mode_ != was_write_mode) next = now + 1;
  if (next == kNever) panic("HBM channel holds ", queued(), " bursts but none can ever issue: ", describe());
  return std::max(next, now + 1);
}

}  // namespace tilesim::dram

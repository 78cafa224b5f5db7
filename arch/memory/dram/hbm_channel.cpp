#include "arch/memory/dram/hbm_channel.hpp"

#include <algorithm>

#include "sim/error.hpp"

namespace tilesim::dram {

HbmChannel::HbmChannel(const HbmConfig& config, std::uint32_t index, std::uint32_t channel_count,
                       ChannelCounters counters)
    : config_(&config),
      counters_(counters),
      banks_(config.org.banks()),
      groups_(config.org.bank_groups),
      refresh_due_(config.refresh_stagger ? config.timing.tREFI * (index + 1) / channel_count
                                          : config.timing.tREFI) {
  queue_.reserve(config.queue_depth);
}

std::uint64_t HbmChannel::column_ready(const QueuedBurst& b) const {
  const Bank& bank = bank_of(b);
  const Group& g = groups_[b.bank_group];
  return b.write ? std::max({bank.wr_ready, g.wr_ready, wr_ready_}) : std::max({bank.rd_ready, g.rd_ready, rd_ready_});
}

std::uint64_t HbmChannel::activate_ready(const QueuedBurst& b) const {
  // tFAW: the fifth ACT waits until the oldest of the last four is tFAW old.
  const std::uint64_t faw = act_count_ >= 4 ? recent_acts_[act_count_ % 4] + config_->timing.tFAW : 0;
  return std::max({bank_of(b).act_ready, groups_[b.bank_group].act_ready, act_ready_, faw});
}

bool HbmChannel::may_precharge_for_conflict(const Bank& bank) const {
  return bank.queued_hits == 0 || bank.hits_since_act >= config_->max_row_hits;
}

void HbmChannel::close(Bank& bank, std::uint64_t at) {
  bank.open = false;
  bank.queued_hits = 0;
  bank.act_ready = std::max(bank.act_ready, at + config_->timing.tRP);
  ++*counters_.precharges;
}

void HbmChannel::activate(QueuedBurst& b, std::uint64_t now) {
  const HbmTiming& t = config_->timing;
  Bank& bank = bank_of(b);
  bank.open = true;
  bank.row = b.row;
  bank.rd_ready = now + t.tRCD;
  bank.wr_ready = now + t.tRCD_WR;
  bank.pre_ready = std::max(bank.pre_ready, now + t.tRAS);
  bank.act_ready = std::max(bank.act_ready, now + t.tRC);
  bank.hits_since_act = 0;
  bank.reserved = false;
  bank.queued_hits = 0;
  for (const auto& q : queue_)
    if (&bank_of(q) == &bank && q.row == b.row) ++bank.queued_hits;
  groups_[b.bank_group].act_ready = now + t.tRRD_L;
  act_ready_ = now + t.tRRD_S;
  recent_acts_[act_count_ % 4] = now;
  ++act_count_;
  b.activated = true;
  ++*counters_.activates;
}

void HbmChannel::enqueue(const QueuedBurst& burst, std::uint64_t now) {
  if (queue_.size() >= config_->queue_depth) panic("HBM channel queue overflow (caller must check free_slots)");
  if (queue_.empty() && !refresh_pending_) catch_up(now);
  queue_.push_back(burst);
  Bank& bank = bank_of(burst);
  if (bank.open && bank.row == burst.row) ++bank.queued_hits;
}

std::uint64_t HbmChannel::ready_cycle(const QueuedBurst& b, Command& command) const {
  const Bank& bank = bank_of(b);
  if (bank.open && bank.row == b.row) {
    command = Command::column;
    return column_ready(b);
  }
  if (bank.open) {
    command = Command::precharge;
    return may_precharge_for_conflict(bank) ? bank.pre_ready : kNever;  // else: hits to the open row first
  }
  command = Command::activate;
  return bank.reserved && bank.reserved_seq != b.seq ? kNever : activate_ready(b);
}

void HbmChannel::issue_column(std::size_t index, std::uint64_t now, std::vector<ColumnIssued>& out) {
  const HbmTiming& t = config_->timing;
  const QueuedBurst b = queue_[index];
  Bank& bank = bank_of(b);
  Group& g = groups_[b.bank_group];
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
  --bank.queued_hits;
  ++bank.hits_since_act;
  ColumnIssued done;
  done.request = b.request;
  done.issue = now;
  done.data_end = data_end;
  done.queued_cycles = now - b.arrival;
  done.outcome = !b.activated ? RowOutcome::hit : b.precharged ? RowOutcome::conflict : RowOutcome::miss;
  done.write = b.write;
  out.push_back(done);
  queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(index));
  // Close page: precharge as RDA/WRA would, once tRAS/tRTP/tWR allow, if nothing else wants the row.
  if (config_->close_page && bank.queued_hits == 0) close(bank, std::max(now, bank.pre_ready));
}

void HbmChannel::issue_row(std::size_t index, std::uint64_t now) {
  QueuedBurst& b = queue_[index];
  Bank& bank = bank_of(b);
  if (!bank.open) return activate(b, now);
  close(bank, now);
  bank.reserved = true;
  bank.reserved_seq = b.seq;
  b.precharged = true;
}

std::uint64_t HbmChannel::earliest_action() const {
  std::uint64_t next = kNever;
  Command command;
  for (const auto& b : queue_) next = std::min(next, ready_cycle(b, command));
  // Every burst that waits on another burst of its bank (kNever) makes that one count here.
  if (next == kNever && !queue_.empty()) panic("HBM channel holds ", queue_.size(), " bursts but none can ever issue");
  return next;
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
  return std::max(std::min(earliest_action(), refresh_due_), now + 1);
}

void HbmChannel::catch_up(std::uint64_t now) {
  if (!config_->refresh || refresh_pending_ || !queue_.empty()) return;
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
  if (queue_.empty()) {
    catch_up(now);
    return kNever;
  }
  if (config_->refresh && now >= refresh_due_) refresh_pending_ = true;
  if (refresh_pending_) return step_refresh(now);
  // One pass in age order: the oldest burst whose RD/WR is legal now (row hits first, on the column
  // bus), the oldest whose ACT/PRE is legal now (row bus), and the earliest cycle any other could go.
  constexpr std::size_t kNone = ~std::size_t{0};
  std::size_t column = kNone, row = kNone;
  Command row_command = Command::activate;
  std::uint64_t next = config_->refresh ? refresh_due_ : kNever;
  for (std::size_t i = 0; i < queue_.size(); ++i) {
    Command command;
    const std::uint64_t ready = ready_cycle(queue_[i], command);
    if (ready <= now && command == Command::column && column == kNone) {
      column = i;
    } else if (ready <= now && command != Command::column && row == kNone) {
      row = i;
      row_command = command;
    } else {
      next = std::min(next, ready);
    }
  }
  // What is issued now delays the other bursts (so `next` is not late) but may also enable commands
  // that were not possible before; each case adds a lower bound for them, and the step at that cycle
  // looks again. A column command: the bank's last hit lets a waiting conflict precharge (pre_ready),
  // an auto-precharge lets the next ACT go (act_ready). An ACT: the RD/WR of the bursts for its row. A
  // PRE: the ACT it was issued for, tRP later.
  const HbmTiming& t = config_->timing;
  if (column != kNone) {
    const Bank& bank = bank_of(queue_[column]);
    issue_column(column, now, out);
    next = std::min(next, bank.open ? bank.pre_ready : bank.act_ready);
    if (row != kNone && row > column) --row;
  }
  if (row != kNone) {
    // The column command may have changed the row candidate's bank (tRTP, auto-precharge): re-check.
    Command command;
    const std::uint64_t ready = ready_cycle(queue_[row], command);
    if (ready <= now && command == row_command) {
      issue_row(row, now);
      if (command == Command::precharge) {
        next = std::min(next, now + t.tRP);
      } else {
        const QueuedBurst& opened = queue_[row];
        for (const auto& q : queue_)
          if (&bank_of(q) == &bank_of(opened) && q.row == opened.row) next = std::min(next, column_ready(q));
      }
    } else {
      next = std::min(next, ready);
    }
  }
  if (queue_.empty()) return kNever;
  return std::max(next, now + 1);
}

}  // namespace tilesim::dram

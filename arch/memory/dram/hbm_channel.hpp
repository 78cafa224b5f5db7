// One HBM (pseudo-)channel: banks with open rows, the JEDEC timing constraints between commands, all-bank
// refresh, and FR-FCFS command selection over a bounded queue of bursts. Plain C++ driven by the
// controller component: step(now) issues whatever is legal at cycle `now` (at most one row command and
// one column command: HBM has separate row and column command buses) and returns the earliest cycle at
// which it could act again, so the controller sleeps on a timer instead of polling.
//
// Scheduling (FR-FCFS): the column bus takes the oldest queued burst whose row is open and whose RD/WR
// is legal now (row hits first); the row bus takes the oldest burst that needs an ACT (bank closed) or a
// PRE (another row open) that is legal now. A bank is not precharged while queued bursts still hit its
// open row, unless it has served max_row_hits since its ACT (so a stream of hits cannot starve an older
// conflicting request); the burst that forced such a PRE gets the bank's next ACT.
// Page policy: open (rows stay open until a conflict or refresh) or close (auto-precharge, as RDA/WRA,
// after the last queued hit to the row).
// Refresh: all-bank (REFab) per channel every tREFI; by default every channel of the controller is due
// at the same cycles (k * tREFI); with refresh_stagger, channel i of n is first due at tREFI * (i + 1) / n
// (that spreads the stall, but a sequential stream then needs deep buffers to run past the one channel
// that is refreshing: README.md). When due, no new ACT/RD/WR is issued; the open banks are closed with
// one PREA once each may be precharged, REF follows when every bank may be activated again (tRP after
// PREA, tRC after its last ACT), and no ACT is legal before REF + tRFC. Refreshes that fall due while the
// channel has nothing queued are replayed when the next burst arrives (catch_up), with the same result as
// issuing them on time, so an idle channel costs no wake-ups.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "arch/memory/dram/hbm_config.hpp"
#include "sim/stats.hpp"

namespace tilesim::dram {

enum class RowOutcome : std::uint8_t { hit, miss, conflict };

/// One burst waiting in a channel queue.
struct QueuedBurst {
  std::uint64_t seq = 0;      // controller-wide arrival order: the age FR-FCFS compares
  std::uint64_t arrival = 0;  // cycle it entered the queue
  std::uint32_t request = 0;  // the owning request's slot in the controller
  std::uint32_t bank_group = 0;
  std::uint32_t bank = 0;  // within its bank group
  std::uint32_t row = 0;
  bool write = false;
  bool activated = false;    // an ACT was issued for it: a row miss, or a conflict if also precharged
  bool precharged = false;   // a PRE was issued for it (another row was open)
};

/// A column command that was issued: the burst's data has moved completely at `data_end`.
struct ColumnIssued {
  std::uint32_t request = 0;
  std::uint64_t issue = 0;
  std::uint64_t data_end = 0;
  std::uint64_t queued_cycles = 0;  // from entering the queue to the column command
  RowOutcome outcome = RowOutcome::hit;
  bool write = false;
};

/// Counters a channel increments (owned by the controller's stat group).
struct ChannelCounters {
  Counter* activates = nullptr;
  Counter* precharges = nullptr;  // banks closed by PRE, PREA or auto-precharge
  Counter* refreshes = nullptr;
};

class HbmChannel {
 public:
  static constexpr std::uint64_t kNever = ~0ull;

  HbmChannel(const HbmConfig& config, std::uint32_t index, std::uint32_t channel_count, ChannelCounters counters);

  std::uint32_t free_slots() const { return static_cast<std::uint32_t>(config_->queue_depth - queue_.size()); }
  std::size_t queued() const { return queue_.size(); }
  bool refresh_pending() const { return refresh_pending_; }

  /// Add a burst at cycle `now` (catching up on refreshes first if the channel was idle).
  void enqueue(const QueuedBurst& burst, std::uint64_t now);
  /// Issue what is legal at `now`; append issued column commands to `out`. Returns the next cycle at
  /// which the channel could issue something (> now), or kNever when its queue is empty.
  std::uint64_t step(std::uint64_t now, std::vector<ColumnIssued>& out);
  /// Replay the refreshes that fell due up to `now` while nothing was queued.
  void catch_up(std::uint64_t now);

 private:
  struct Bank {
    bool open = false;
    std::uint32_t row = 0;
    std::uint64_t act_ready = 0;  // tRP after PRE, tRC after ACT, tRFC after REF
    std::uint64_t pre_ready = 0;  // tRAS after ACT, tRTP after RD, tWR after write data
    std::uint64_t rd_ready = 0;   // tRCD after ACT
    std::uint64_t wr_ready = 0;   // tRCD_WR after ACT
    std::uint32_t queued_hits = 0;     // queued bursts for the open row
    std::uint32_t hits_since_act = 0;
    bool reserved = false;             // the next ACT belongs to the burst that forced the PRE
    std::uint64_t reserved_seq = 0;
  };
  struct Group {
    std::uint64_t act_ready = 0;  // tRRD_L
    std::uint64_t rd_ready = 0;   // tCCD_L, tWTR_L
    std::uint64_t wr_ready = 0;   // tCCD_L
  };

  Bank& bank_of(const QueuedBurst& b) { return banks_[b.bank_group * config_->org.banks_per_group + b.bank]; }
  const Bank& bank_of(const QueuedBurst& b) const {
    return banks_[b.bank_group * config_->org.banks_per_group + b.bank];
  }
  std::uint64_t column_ready(const QueuedBurst& b) const;
  std::uint64_t activate_ready(const QueuedBurst& b) const;
  bool may_precharge_for_conflict(const Bank& bank) const;
  enum class Command { column, precharge, activate };
  /// The command `b` needs next and the first cycle it is legal (kNever: waits for another burst).
  std::uint64_t ready_cycle(const QueuedBurst& b, Command& command) const;
  void issue_column(std::size_t index, std::uint64_t now, std::vector<ColumnIssued>& out);
  void issue_row(std::size_t index, std::uint64_t now);
  void activate(QueuedBurst& b, std::uint64_t now);
  void close(Bank& bank, std::uint64_t at);
  std::uint64_t step_refresh(std::uint64_t now);
  void refresh_at(std::uint64_t at);
  std::uint64_t earliest_action() const;

  const HbmConfig* config_;
  ChannelCounters counters_;
  std::vector<Bank> banks_;
  std::vector<Group> groups_;
  std::vector<QueuedBurst> queue_;  // arrival order
  std::uint64_t act_ready_ = 0;     // tRRD_S
  std::uint64_t rd_ready_ = 0;      // tCCD_S, tWTR_S
  std::uint64_t wr_ready_ = 0;      // tCCD_S, tRTW
  std::array<std::uint64_t, 4> recent_acts_{};  // ring of the last four ACT cycles (tFAW)
  std::uint32_t act_count_ = 0;
  std::uint64_t refresh_due_;
  bool refresh_pending_ = false;
};

}  // namespace tilesim::dram

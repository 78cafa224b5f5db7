// One HBM (pseudo-)channel: banks with open rows, the JEDEC timing constraints between commands, all-bank
// refresh, and FR-FCFS command selection over bounded read and write queues. Plain C++ driven by the
// controller component: step(now) issues whatever is legal at cycle `now` (at most one row command and
// one column command: HBM has separate row and column command buses) and returns the earliest cycle at
// which it could act again, so the controller sleeps on a timer instead of polling.
//
// Reads and writes wait in separate queues (queue_depth, write_queue_depth bursts). With write_drain
// false (default) they compete in one FR-FCFS pass; tRTW / tWTR keep the other direction unready after a
// column command, so a direction keeps the bus until it has no ready burst. With write batching
// (write_drain true, Ramulator 2's GenericDRAMController policy) the channel is in read mode or write mode
// and schedules only bursts of its mode; it enters write mode when more than write_high_watermark writes
// wait, or when writes wait and no read does, and returns to read mode when fewer than
// write_low_watermark writes remain and a read waits: the data bus turns around (tRTW, tWTR) once per
// batch of writes. README.md compares the two.
// Same-address order: a read to a burst address with a queued write is answered from the write queue
// (forwarded, no DRAM command) when the newest such write covers the whole burst; otherwise it waits
// until the older writes to that address have issued, and a write waits for older reads to its address.
// The oldest burst waiting this way forces the mode of the bursts it waits for, so nothing deadlocks.
//
// Scheduling (FR-FCFS, within the mode): the column bus takes the oldest queued burst whose row is open
// and whose RD/WR is legal now (row hits first); the row bus takes the oldest burst that needs an ACT
// (bank closed) or a PRE (another row open) that is legal now. A bank is not precharged while queued
// bursts of the mode still hit its open row, unless it has served max_row_hits since its ACT (so a stream
// of hits cannot starve an older conflicting request); the burst that forced such a PRE gets the bank's
// next ACT (until the mode changes).
// The queues are kept per bank in arrival order. Every burst of a bank and direction has the same command
// readiness (it depends on the bank, its group and the channel), so one step looks at each bank with work
// once (its oldest hit and its oldest non-hit) instead of at every queued burst: a deep queue does not
// make a step slower.
// Page policy: open (rows stay open until a conflict or refresh) or close (auto-precharge, as RDA/WRA,
// after the last queued hit to the row).
// Per-bank refresh (refresh_mode per_bank): every tREFI / banks one bank, round robin, is closed (PRE when
// tRAS/tRTP/tWR allow) and refreshed (REFpb once it may activate: tRP, tRC, tRRD_S after the last ACT);
// it cannot activate for tRFCpb, other banks for tRREFD; meanwhile the other banks keep working.
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
#include <unordered_map>
#include <vector>

#include "arch/memory/dram/hbm_config.hpp"
#include "sim/stats.hpp"

namespace tilesim::dram {

enum class RowOutcome : std::uint8_t { hit, miss, conflict };

/// One burst waiting in a channel queue.
struct QueuedBurst {
  std::uint64_t seq = 0;      // controller-wide arrival order: the age FR-FCFS compares
  std::uint64_t arrival = 0;  // cycle it entered the queue
  std::uint64_t addr = 0;     // burst-aligned controller-local address (same-address ordering)
  std::uint32_t request = 0;  // the owning request's slot in the controller
  std::uint32_t bank_group = 0;
  std::uint32_t bank = 0;  // within its bank group
  std::uint32_t row = 0;
  bool write = false;
  bool full_write = false;   // a write covering the whole burst (a later read may be forwarded from it)
  bool activated = false;    // an ACT was issued for it: a row miss, or a conflict if also precharged
  bool precharged = false;   // a PRE was issued for it (another row was open)
  // Set by the channel: the burst arrived while bursts of the other direction to its address were
  // queued; it may issue once `wait_for` of those (counted per address) have issued.
  bool ordered = false;
  std::uint32_t wait_for = 0;
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
  Counter* read_to_write = nullptr;  // a WR right after a RD on the channel (tRTW turnaround)
  Counter* write_to_read = nullptr;  // a RD right after a WR (tWTR turnaround)
  Counter* write_drains = nullptr;   // switches into write mode
};

class HbmChannel {
 public:
  static constexpr std::uint64_t kNever = ~0ull;

  HbmChannel(const HbmConfig& config, std::uint32_t index, std::uint32_t channel_count, ChannelCounters counters);

  /// Room for bursts of one direction.
  std::uint32_t free_slots(bool write) const {
    return write ? config_->write_queue_depth - queued_[1] : config_->queue_depth - queued_[0];
  }
  std::size_t queued() const { return queued_[0] + queued_[1]; }
  bool refresh_pending() const { return refresh_pending_; }
  bool write_mode() const { return write_mode_; }

  /// Add a burst at cycle `now` (catching up on refreshes first if the channel was idle). Returns false
  /// for a read answered from a queued write to its address (forwarded: nothing is queued).
  bool enqueue(const QueuedBurst& burst, std::uint64_t now);
  /// Issue what is legal at `now`; append issued column commands to `out`. Returns the next cycle at
  /// which the channel could issue something (> now), or kNever when its queues are empty.
  std::uint64_t step(std::uint64_t now, std::vector<ColumnIssued>& out);
  /// Replay the refreshes that fell due up to `now` while nothing was queued.
  void catch_up(std::uint64_t now);

 private:
  struct Bank {
    bool open = false;
    std::uint32_t row = 0;
    std::uint32_t group = 0;
    std::uint64_t act_ready = 0;  // tRP after PRE, tRC after ACT, tRFC after REF
    std::uint64_t pre_ready = 0;  // tRAS after ACT, tRTP after RD, tWR after write data
    std::uint64_t rd_ready = 0;   // tRCD after ACT
    std::uint64_t wr_ready = 0;   // tRCD_WR after ACT
    std::array<std::uint32_t, 2> queued_hits{};  // queued reads / writes for the open row
    std::uint32_t hits_since_act = 0;
    bool reserved = false;             // the next ACT belongs to the burst that forced the PRE
    std::uint64_t reserved_seq = 0;
    std::array<std::vector<QueuedBurst>, 2> queue;  // reads / writes for this bank, arrival order
    std::int32_t active_slot = -1;     // position in active_banks_ while it has queued bursts
  };
  struct Group {
    std::uint64_t act_ready = 0;  // tRRD_L
    std::uint64_t rd_ready = 0;   // tCCD_L, tWTR_L
    std::uint64_t wr_ready = 0;   // tCCD_L
  };
  /// Bursts queued for one burst address (only while some are): how many of each direction arrived and
  /// issued since the entry was made, so an ordered burst knows when the ones it waits for are done.
  struct AddressState {
    std::array<std::uint32_t, 2> arrived{};
    std::array<std::uint32_t, 2> issued{};
    bool newest_write_full = false;
  };
  enum class Command { column, precharge, activate };
  /// A burst chosen to issue a command: its bank, direction and position in the bank's queue.
  struct Pick {
    std::uint64_t seq = kNever;
    std::uint64_t ready = kNever;
    std::uint32_t bank = 0;
    std::uint32_t dir = 0;  // 0 read, 1 write
    std::size_t index = 0;
    Command command = Command::column;
    bool valid() const { return seq != kNever; }
  };

  Bank& bank_of(const QueuedBurst& b) { return banks_[b.bank_group * config_->org.banks_per_group + b.bank]; }
  std::uint64_t column_ready(const Bank& bank, std::uint32_t dir) const;
  std::uint64_t activate_ready(const Bank& bank) const;
  bool may_precharge_for_conflict(const Bank& bank) const;
  bool considered(std::uint32_t dir) const { return !config_->write_drain || (dir == 1) == write_mode_; }
  bool may_issue(const QueuedBurst& b) const;
  /// Choose the column and row commands legal at `now` (oldest first) and return the earliest cycle at
  /// which any other candidate becomes legal.
  std::uint64_t scan(std::uint64_t now, Pick& column, Pick& row) const;
  /// The row command `pick` needs and the cycle it is legal, re-checked after a column command.
  std::uint64_t row_ready(const Pick& pick, Command& command) const;
  void update_mode();
  /// Returns whether other bursts for the same address remain queued.
  bool issue_column(const Pick& pick, std::uint64_t now, std::vector<ColumnIssued>& out);
  void issue_row(const Pick& pick, std::uint64_t now);
  void activate(Bank& bank, QueuedBurst& b, std::uint64_t now);
  void close(Bank& bank, std::uint64_t at);
  void remove_burst(Bank& bank, std::uint32_t dir, std::size_t index);
  std::uint64_t step_refresh(std::uint64_t now);
  void refresh_at(std::uint64_t at);
  static std::uint64_t refresh_period(const HbmConfig& config);  // tREFI, or tREFIpb per bank
  bool refreshing(std::uint32_t bank) const;  // due for REFpb: no new commands until it is refreshed
  /// Per-bank refresh: PRE or REFpb the due bank if legal at `now` (true: the row bus is used); `ready`:
  /// when it can act next.
  bool step_bank_refresh(std::uint64_t now, std::uint64_t& ready);
  void refresh_bank_at(std::uint64_t at);
  std::uint64_t earliest_action(std::uint64_t now) const;
  std::string describe() const;  // queues and banks, for invariant failures

  const HbmConfig* config_;
  ChannelCounters counters_;
  std::vector<Bank> banks_;
  std::vector<Group> groups_;
  std::vector<std::uint32_t> active_banks_;  // banks with queued bursts (any order)
  std::array<std::uint32_t, 2> queued_{};     // queued reads / writes
  std::unordered_map<std::uint64_t, AddressState> addresses_;
  std::vector<QueuedBurst> ordered_;          // queued bursts that waited on an address at arrival, by age
  bool write_mode_ = false;
  bool last_column_write_ = false;
  bool any_column_ = false;
  std::uint64_t act_ready_ = 0;     // tRRD_S
  std::uint64_t rd_ready_ = 0;      // tCCD_S, tWTR_S
  std::uint64_t wr_ready_ = 0;      // tCCD_S, tRTW
  std::array<std::uint64_t, 4> recent_acts_{};  // ring of the last four ACT cycles (tFAW)
  std::uint32_t act_count_ = 0;
  std::uint64_t refresh_due_;  // next REFab, or next REFpb (to refresh_bank_)
  std::uint32_t refresh_bank_ = 0;
  bool refresh_pending_ = false;
};

}  // namespace tilesim::dram

// The core-side cache (an SM's L1, or any core's first-level data cache), DESIGN.md §6.
// Sectored (lines of `line_size`, sectors of `sector_size`), set-associative, LRU, allocate-on-fill.
// Reads: a tag lookup per request (`lookups_per_cycle` per cycle); a hit answers after tag_latency +
// data_latency, plus any wait for the data port (`data_bytes_per_cycle`). A miss takes an MSHR per line
// (requests to a line already in flight merge into it, up to `mshr_targets`), asks the next level for
// the missing sectors tag_latency after arrival, and answers fill_latency after the fill arrives.
// Writes and atomics are write-through without allocation: forwarded after tag_latency, answered when the
// next level acknowledges. Requests must lie within one line (the requester coalesces).
#pragma once

#include <deque>
#include <unordered_map>

#include "arch/memory/cache_array.hpp"
#include "arch/memory/output_queues.hpp"
#include "arch/memory/request.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

class L1Cache final : public Component {
 public:
  static ParamSchema param_schema();
  explicit L1Cache(const ComponentContext& ctx);

  bool tick(Cycle now) override;
  bool busy() const override;
  std::string waiting_on() const override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

  InPort<MemRequest> req{*this, "req", "MemRequest"};
  OutPort<MemResponse> resp{*this, "resp", "MemResponse"};
  OutPort<MemRequest> mem_req{*this, "mem_req", "MemRequest"};
  InPort<MemResponse> mem_resp{*this, "mem_resp", "MemResponse"};

 private:
  struct Target {
    MemRequest req;
    std::uint32_t need;  // sectors this request still waits for from fills
  };
  struct Mshr {
    std::uint32_t requested = 0;  // sectors asked of the next level and not yet arrived
    std::uint32_t arrived = 0;    // sectors filled since the entry was made
    std::vector<Target> targets;
  };

  /// Handle one request at the head of `req`; false when it must wait (MSHRs or write buffer full).
  bool accept(const MemRequest& r, std::uint64_t now);
  void handle_fill(const MemResponse& r, std::uint64_t now);
  void schedule_response(const MemRequest& r, std::uint32_t sectors, std::uint64_t earliest, std::uint64_t latency);
  void request_sectors(std::uint64_t line, std::uint32_t mask, std::uint64_t at);

  SectoredCacheArray array_;
  const std::uint64_t tag_latency_, data_latency_, fill_latency_;
  const std::size_t mshrs_, mshr_targets_, lookups_per_cycle_, max_pending_writes_;
  const std::uint32_t data_bytes_per_cycle_;
  const std::uint32_t source_id_;

  std::unordered_map<std::uint64_t, Mshr> mshr_;             // by line address
  std::unordered_map<std::uint64_t, MemRequest> pending_writes_;  // by tag sent downstream
  std::uint64_t next_write_tag_ = 1;
  std::uint64_t data_free_ = 0;  // first cycle the data port is free
  DelayHeap<MemResponse> responses_;
  OutputQueues<MemRequest> downstream_;
  bool stalled_ = false;

  Counter& st_reads_;
  Counter& st_read_hits_;
  Counter& st_read_misses_;
  Counter& st_merges_;
  Counter& st_fills_;
  Counter& st_fill_bytes_;
  Counter& st_writes_;
  Counter& st_stall_cycles_;
};

}  // namespace tilesim

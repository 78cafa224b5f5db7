// One slice of a partitioned last-level cache (DESIGN.md §6): sectored, set-associative, LRU,
// MSHRs with merging, write-back with per-sector dirty bits, write-allocate without fetch.
//
// Partitions (address_map.hpp): a slice serves the cores of its partition (`req`/`resp`, via the
// partition's crossbar) and is the *home* of the addresses whose DRAM its partition owns. A read miss on a
// home address goes to the memory controller (`mem_req`/`mem_resp`); a read miss on another partition's
// address goes over the partition fabric to the home slice (`fwd_req`/`fwd_resp`) and the line is kept
// here as a replica. Requests from other partitions' slices arrive on `home_req` and are answered on
// `home_resp`. Replicas are never dirty: a core's write to a non-home address updates the replica and is
// forwarded to the home slice, which keeps the dirty data and writes it back on eviction.
//
// Sets are indexed by the line's position among the slice's lines (its controller-local line number
// divided by the slices per controller), so a stream fills sets in order and evicts an older stream's
// lines in address order, as a DRAM-friendly write-back needs.
// Deadlock freedom (requests from other partitions are a separate class, as on a real NoC's virtual
// channels): a far miss waits for the home slice to serve a `home_req`, and a home slice serves it with its
// own DRAM only. So (1) the two request inputs are separate queues: a head that must wait (MSHR or its
// targets full, write slots full) holds only its own input, never the other one; (2) MSHRs are kept for
// home lines: far misses may hold at most `far_mshrs` (default half), so a home request can always get an
// MSHR once DRAM answers; (3) only forwarded writes need a forwarded-write slot. Without them two partitions
// can each hold the other's requests behind their own far misses. A reserve of one MSHR is enough to avoid
// the deadlock but not the collapse: when every core reads lines homed in the other partition with more
// loads in flight than the far MSHRs (B200 anti-affine stream, 8 loads per warp: 1.8 instead of 4.9 TB/s),
// each slice serves the other's home requests one line per DRAM round trip.
// Timing: `lookups_per_cycle` tag lookups per cycle; a hit answers tag_latency + data_latency after
// arrival; a miss is sent on tag_latency after arrival and answered fill_latency after its fill arrives;
// every hit and write occupies the data array for bytes / data_bytes_per_cycle cycles (fractions carry).
// A read whose line's MSHR already holds mshr_targets requests does not hold up the reads behind it: it
// waits beside the MSHR in one of `replay_slots` slots (entries of the slice's input queue) and is looked
// up again when its sectors arrive (a hit: tag_latency + data_latency after the fill). Only when every
// slot is taken does it wait at the head of the core input. (Blocking the input instead made every read
// of a slice wait a miss round trip whenever more than mshr_targets cores read one line, as the 64 CTAs
// of an 8192^3 gemm_ws column do with each B tile: 276 instead of 508 TFLOPS on an h100_sxm5 proxy.)
// Request coalescer (`request_coalescer`, GH100 and later: Nsight Compute's `lrc` unit "processes incoming
// requests for L2 and tries to coalesce read requests before forwarding them to the L2 cache. It also
// serves programmatic multicast requests"): the core-side reads that one fill completes (the MSHR's
// targets, and separately its replays) are answered with one data-array read of their sectors; and
// (`request_coalescer_queued`) a core read that waited in the input while a core read of its line was looked
// up is merged with it when it reaches the head, without a lookup of its own: a replica of the hit's answer,
// or one more target of the miss. The first answer crosses the crossbar as usual and the others follow as
// replicas (MemResponse::replica, with the same MemResponse::answer), which occupy only their own
// destination port once the original has passed the slice's port. Without it each merged read takes its own
// data-array read and its own pass through the slice's crossbar port, so 132 SMs that read one line in
// lock-step cost that slice 132 line times. Reads that arrive after their line's lookup are not merged
// (arch/memory/README.md says why).
#pragma once

#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "arch/memory/address_map.hpp"
#include "arch/memory/cache_array.hpp"
#include "arch/memory/port_timer.hpp"
#include "arch/memory/output_queues.hpp"
#include "arch/memory/request.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

class L2Slice final : public Component {
 public:
  static ParamSchema param_schema();
  explicit L2Slice(const ComponentContext& ctx);

  bool tick(Cycle now) override;
  bool busy() const override;
  std::string waiting_on() const override;

  InPort<MemRequest> req{*this, "req", "MemRequest"};
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

  OutPort<MemResponse> resp{*this, "resp", "MemResponse"};
  InPort<MemRequest> home_req{*this, "home_req", "MemRequest"};
  OutPort<MemResponse> home_resp{*this, "home_resp", "MemResponse"};
  OutPort<MemRequest> fwd_req{*this, "fwd_req", "MemRequest"};
  InPort<MemResponse> fwd_resp{*this, "fwd_resp", "MemResponse"};
  OutPort<MemRequest> mem_req{*this, "mem_req", "MemRequest"};
  InPort<MemResponse> mem_resp{*this, "mem_resp", "MemResponse"};

 private:
  enum Upstream : std::size_t { kCore = 0, kHome = 1 };
  enum Downstream : std::size_t { kMem = 0, kFwd = 1 };
  struct Target {
    MemRequest req;
    std::uint32_t need;
    Upstream from;
    bool merged;  // it requested no sectors itself: it waits for a fill another request started
  };
  struct Mshr {
    std::uint32_t requested = 0;
    std::uint32_t arrived = 0;
    bool far = false;  // the line is homed in another partition (its fills come over the fabric)
    std::vector<Target> targets;
    std::vector<Target> replays;  // reads that found `targets` full: looked up again after their fill
  };

  /// Why a request cannot be accepted now (kNone: it can, and was).
  enum class Wait : std::uint8_t { kNone, kMshrs, kFarMshrs, kTargets, kWriteSlots };
  /// `lead`: a tag lookup (not a read the coalescer merged with a queued one); with the coalescer a core
  /// read's lookup is noted for the reads queued behind it.
  Wait accept(const MemRequest& r, Upstream from, std::uint64_t now, bool lead);
  void accept_write(const MemRequest& r, Upstream from, std::uint64_t now);
  void handle_fill(const MemResponse& r, std::uint64_t now);
  /// Returns the cycle the answer leaves the slice. `answer`: its MemResponse::answer (0: not shared).
  std::uint64_t respond(const MemRequest& r, ServedBy served, Upstream from, std::uint32_t data_bytes,
                        std::uint64_t earliest, std::uint64_t latency, std::uint64_t answer = 0);
  struct Lookup;
  /// request_coalescer: the lookup of the head read's line that it was queued behind (it was waiting in the
  /// input when the lookup took place, and that lookup covers its sectors), or null.
  const Lookup* queued_behind(const MemRequest& r, std::uint64_t ready) const;
  void note_lookup(std::uint64_t line, std::uint32_t sectors, std::uint64_t now, std::uint64_t due, std::uint64_t id);
  void forget_lookups(std::uint64_t before);
  /// Answer the core-side targets one fill completes with one data-array read (request_coalescer): the
  /// first crosses the crossbar, the others as replicas. Clears `group`.
  void respond_coalesced(std::vector<Target>& group, ServedBy served, std::uint64_t earliest, std::uint64_t latency);
  void send_down(Downstream where, MemRequest m, std::uint64_t at);
  void request_sectors(std::uint64_t line, std::uint32_t mask, Downstream where, std::uint64_t at);
  SectoredCacheArray::Line& allocate(std::uint64_t line, std::uint64_t now);
  void write_back(std::uint64_t line, std::uint32_t dirty, std::uint64_t at);
  void prefill_lines(std::uint64_t base, double dirty_fraction, bool replicas);
  std::uint64_t tries_dirty_ = 0;  // prefill: allocations made

  AddressMap map_;
  SectoredCacheArray array_;
  const std::uint32_t slice_, partition_;
  const std::uint64_t tag_latency_, data_latency_, fill_latency_;
  const std::size_t mshrs_, mshr_targets_, lookups_per_cycle_, max_pending_writes_, downstream_limit_, replay_slots_;
  const bool coalesce_;             // request_coalescer
  const bool coalesce_queued_;     // request_coalescer_queued
  std::vector<Target> coalesced_;  // handle_fill: the core-side reads of one answer (kept for its capacity)
  struct Lookup {  // the latest tag lookup of a line by a core read (request_coalescer)
    std::uint64_t cycle;    // when
    std::uint64_t due;      // a hit: when its answer leaves the slice; 0: it missed
    std::uint32_t sectors;  // the sectors it read
    std::uint64_t id;       // a hit: its MemResponse::answer
  };
  std::unordered_map<std::uint64_t, Lookup> lookups_;  // by line
  std::deque<std::pair<std::uint64_t, std::uint64_t>> lookup_order_;  // (cycle, line), oldest first
  std::unordered_set<std::uint64_t> replicated_;  // answer ids with replicas, until the original leaves
  std::uint64_t next_answer_ = 1;
  std::size_t replays_waiting_ = 0;  // reads in replay slots

  std::unordered_map<std::uint64_t, Mshr> mshr_;
  std::unordered_map<std::uint64_t, std::pair<MemRequest, Upstream>> forwarded_writes_;  // by tag
  std::uint64_t next_tag_ = 1;
  PortTimer data_port_;  // the data array: data_bytes_per_cycle
  std::size_t next_port_ = 0;  // round-robin between core and home requests
  OutputQueues<MemResponse> up_;
  OutputQueues<MemRequest> down_;
  DelayHeap<std::pair<Upstream, MemResponse>> pending_up_;
  bool stalled_ = false;      // every ready input's head waits (for a fill, a write slot or the downstream queue)
  Wait head_wait_[2] = {Wait::kNone, Wait::kNone};  // per input (kCore, kHome): why its head waited last tick
  std::size_t far_mshr_limit_ = 0;  // far_mshrs (0: mshrs / 2)
  std::size_t far_mshrs_ = 0;  // MSHRs of lines homed in another partition (at most far_mshr_limit_)

  Counter& st_reads_;
  Counter& st_read_hits_;
  Counter& st_read_misses_;
  Counter& st_merges_;
  Counter& st_home_requests_;
  Counter& st_forwarded_;
  Counter& st_writes_;
  Counter& st_writebacks_;
  Counter& st_writeback_bytes_;
  Counter& st_dram_reads_;
  Counter& st_dram_read_bytes_;
  Counter& st_bytes_out_;
  Counter& st_stalls_;
  Counter& st_replays_;
  Counter& st_coalesced_;
  Distribution& st_input_wait_;
  Distribution& st_data_port_wait_;
};

}  // namespace tilesim

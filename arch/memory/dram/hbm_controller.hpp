// `hbm_controller`: one HBM memory controller owning `channels` independent (pseudo-)channels, each with
// bank groups x banks, per-bank open rows, JEDEC timing constraints, all-bank refresh and FR-FCFS
// scheduling (hbm_channel.hpp). Its clock domain is the DRAM command clock (CK); every timing parameter
// is resolved to whole CK cycles (hbm_config.hpp). Formulas, mapping and presets: README.md.
//
// Interface (what an L2 slice or NoC port connects to):
//   req  (InPort<MemRequest>)   controller-local byte addresses (ControllerInterleave::local_address);
//                               any size and alignment within capacity: the request is split into
//                               bursts (32 B for HBM3) that may spread over several channels
//   resp (OutPort<MemResponse>) the request unchanged, sent at the CK edge where its last burst's data
//                               has moved (reads: RD + tCL + tBURST; writes: WR + tCWL + tBURST).
//                               Responses leave in completion order, not request order.
// Buffering and back-pressure: a request's bursts enter the channel queues (queue_depth reads and
// write_queue_depth writes each; writes are drained in batches, hbm_channel.hpp)
// together, once every channel it touches has room. Until then the request waits in a shared input
// buffer (input_buffer requests), so a full channel (e.g. one that is refreshing) does not stop requests
// to the others; requests touching a channel leave the buffer in arrival order (no reordering within a
// channel). When the input buffer is full, requests stay in the `req` port (counted in input_stalls), so
// a link with `capacity` stops its sender. Nothing is dropped. A request that could never fit (more
// bursts for one channel than queue_depth), has zero bytes or lies beyond the controller's capacity is an
// error. Atomics are timed as reads (the L2 performs the operation).
// The controller is event-driven: it sleeps on a timer until the earliest cycle at which some command
// becomes legal or some response is due.
#pragma once

#include <cstdint>
#include <queue>
#include <vector>

#include "arch/memory/dram/address_mapping.hpp"
#include "arch/memory/dram/hbm_channel.hpp"
#include "arch/memory/dram/hbm_config.hpp"
#include "arch/memory/request.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

class HbmController final : public Component {
 public:
  static ParamSchema param_schema() { return dram::hbm_param_schema(); }
  explicit HbmController(const ComponentContext& ctx);

  bool tick(Cycle now) override;
  void finish() override;
  bool busy() const override { return in_flight_ > 0 || !staged_.empty(); }
  std::string waiting_on() const override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

  const dram::HbmConfig& config() const { return config_; }
  const dram::AddressMapping& mapping() const { return mapping_; }

 private:
  struct Request {
    MemResponse resp;
    std::uint64_t arrival = 0;
    std::uint64_t done = 0;  // latest data end over its bursts
    std::uint32_t bursts_left = 0;
  };
  struct Due {
    std::uint64_t done;
    std::uint64_t seq;
    std::uint32_t slot;
    bool operator>(const Due& o) const { return done != o.done ? done > o.done : seq > o.seq; }
  };

  /// A request taken from the port with its bursts decoded, waiting for room in its channels.
  struct Staged {
    MemRequest req;
    std::vector<std::pair<std::uint64_t, dram::DramCoord>> bursts;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> needs;  // (channel, bursts in it)
  };
  /// Move buffered (if `room_freed`: queues may have room since the last pass) and newly arrived
  /// requests into the channel queues, oldest first; their channels act from cycle `first_step`.
  void admit_requests(std::uint64_t now, std::uint64_t first_step, bool room_freed);
  void plan_bursts(const MemRequest& r, Staged& into);
  bool fits(const Staged& s);
  void enqueue(Staged& s, std::uint64_t now, std::uint64_t first_step);
  void complete_burst(const dram::ColumnIssued& c);
  void send_responses(std::uint64_t now);
  void schedule_wake(std::uint64_t now);
  std::uint32_t allocate_slot();

  InPort<MemRequest> req_{*this, "req", "MemRequest"};
  OutPort<MemResponse> resp_{*this, "resp", "MemResponse"};

  const dram::HbmConfig config_;
  const dram::AddressMapping mapping_;
  std::vector<dram::HbmChannel> channels_;
  std::vector<std::uint64_t> channel_next_;  // cycle each channel next wants a step (kNever: idle)

  std::vector<Request> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  std::vector<Staged> staged_;         // the input buffer, arrival order
  std::vector<Staged> spare_;          // recycled entries (keeps their burst vectors' capacity)
  std::vector<dram::ColumnIssued> issued_;  // scratch
  std::vector<std::uint32_t> need_;         // scratch: bursts per channel
  std::vector<char> closed_;                // scratch: channels that refused an older request this pass
  std::size_t closed_channels_ = 0;         // how many of them
  std::vector<std::uint32_t> staged_on_;    // buffered requests touching each channel
  std::uint64_t next_seq_ = 0;
  std::uint64_t in_flight_ = 0;
  std::uint64_t last_tick_ = 0;
  bool input_blocked_ = false;
  bool response_blocked_ = false;

  Counter& st_reads_;
  Counter& st_writes_;
  Counter& st_bytes_read_;
  Counter& st_bytes_written_;
  Counter& st_bytes_;
  Counter& st_bursts_;
  Counter& st_row_hits_;
  Counter& st_row_misses_;
  Counter& st_row_conflicts_;
  Counter& st_activates_;
  Counter& st_precharges_;
  Counter& st_refreshes_;
  Counter& st_bus_busy_;
  Counter& st_busy_cycles_;
  Counter& st_read_to_write_;
  Counter& st_write_to_read_;
  Counter& st_write_drains_;
  Counter& st_forwarded_reads_;
  Counter& st_input_stalls_;
  Distribution& st_queue_latency_;
  Distribution& st_latency_;
};

}  // namespace tilesim

// A core's copy engine (DESIGN.md §6): the TMA unit of an SM, the DMA engine of a megacore. It takes
// CopyCommands (a 1-D block or a 2-D box between global memory and the core's scratch), cuts them into
// requests that each stay within one `line_size` line of global memory, keeps at most `max_outstanding`
// of them in flight, issues `requests_per_cycle` per cycle, and signals completion (CopyDone) on `done`
// `completion_latency` cycles after the last piece landed.
//   to_scratch:   global read (mem_req) -> scratch write (scratch_req) -> piece done
//   from_scratch: scratch read -> global write -> write acknowledged -> piece done
// A command starts `issue_latency` cycles after it arrives (descriptor fetch and decode); commands are
// processed in order, their pieces overlapping.
//   multicast (to_scratch with CopyCommand::multicast): the engine fetches only its slice of the box's
//   pieces; each piece read goes into its own scratch and, as a MulticastPiece on `mcast_out`, to every
//   peer core's engine (through the cluster network). Pieces arriving on `mcast_in` are written into this
//   scratch and counted towards this engine's command with the same key (they may come before it: they
//   are counted ahead). A multicast command completes when its own slice and every peer's have landed.
#pragma once

#include <array>
#include <deque>
#include <unordered_map>
#include <vector>

#include "arch/memory/messages.hpp"
#include "arch/memory/output_queues.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

/// The pieces a copy command becomes: (global address, scratch address, bytes), none crossing a line.
struct CopyPiece {
  std::uint64_t global_addr;
  std::uint32_t scratch_addr;
  std::uint32_t bytes;
};
std::vector<CopyPiece> split_copy(const CopyCommand& cmd, std::uint32_t line_bytes);

class CopyEngine final : public Component {
 public:
  static ParamSchema param_schema();
  explicit CopyEngine(const ComponentContext& ctx);

  bool tick(Cycle now) override;
  bool busy() const override {
    return !commands_.empty() || in_flight_ > 0 || !done_queue_.empty() || !inbound_writes_.empty() || !mcast_out_.empty();
  }
  std::string waiting_on() const override;
  void finish() override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

  InPort<CopyCommand> cmd{*this, "cmd", "CopyCommand"};
  OutPort<CopyDone> done{*this, "done", "CopyDone"};
  OutPort<MemRequest> mem_req{*this, "mem_req", "MemRequest"};
  InPort<MemResponse> mem_resp{*this, "mem_resp", "MemResponse"};
  OutPort<ScratchRequest> scratch_req{*this, "scratch_req", "ScratchRequest"};
  InPort<MemResponse> scratch_resp{*this, "scratch_resp", "MemResponse"};
  OutPort<MulticastPiece> mcast_out{*this, "mcast_out", "MulticastPiece"};
  InPort<MulticastPiece> mcast_in{*this, "mcast_in", "MulticastPiece"};

 private:
  struct Active {
    CopyCommand cmd;
    std::vector<CopyPiece> pieces;
    std::size_t next_piece = 0;
    std::size_t pieces_done = 0;
    std::uint64_t start_cycle = 0;
    std::uint64_t inbound_expected = 0;  // multicast: bytes the peers deliver
  };
  /// What has arrived from peers for one multicast key (before or after this engine's own command).
  struct Receipt {
    std::uint64_t received = 0;     // bytes written into the scratch
    std::uint64_t expected = 0;     // bytes the peers owe (known once this engine's command arrived)
    bool has_command = false;
    bool box_named = false;
    std::uint64_t box_addr = 0;     // the box's global address, as the first to name it gave it
    std::uint32_t named_by = 0;     // the core that gave box_addr
  };
  struct InboundWrite {
    MulticastKey key;
    std::uint32_t bytes = 0;
  };
  void accept(CopyCommand cmd, std::uint64_t now);
  void piece_done(std::uint64_t command_seq, std::uint64_t now);
  void retire_finished(std::uint64_t now);
  bool finished(const Active& a) const;
  /// Peers must load the same box under one key: a disagreement is a kernel error, named here.
  void check_box(Receipt& r, std::uint64_t box_addr, std::uint32_t core) const;
  void deliver_to_peers(const Active& a, const MemRequest& read, std::uint64_t now);
  void receive_piece(const MulticastPiece& m, std::uint64_t now);
  Active* active_by_seq(std::uint64_t seq);
  void issue_piece(const Active& a, std::uint64_t command_seq, std::uint32_t index, std::uint64_t now);
  /// A piece's tag names its command and, for to_scratch, its scratch address (from_scratch: its index
  /// in the command), so a response needs no lookup table (tags are opaque to the rest of the hierarchy).
  static std::uint64_t piece_tag(std::uint64_t command_seq, std::uint32_t low) { return (command_seq + 1) << 32 | low; }
  static std::uint64_t tag_command(std::uint64_t tag) { return (tag >> 32) - 1; }
  static std::uint32_t tag_low(std::uint64_t tag) { return static_cast<std::uint32_t>(tag); }
  /// Scratch writes of pieces from peers carry this bit and an index into inbound_writes_.
  static constexpr std::uint64_t kInboundTag = std::uint64_t{1} << 63;
  /// The open command a response's tag names (panics when there is none).
  Active& command_of(std::uint64_t tag, const char* from);
  /// Account the cycles in which pieces were due to issue but max_outstanding were in flight: the
  /// engine's in-flight limit, not the hierarchy's bandwidth, held the copies back then.
  void track_in_flight_limit(std::uint64_t now, bool limited);

  const std::uint32_t line_bytes_;
  const std::uint64_t issue_latency_, completion_latency_;
  const std::size_t max_outstanding_, requests_per_cycle_;
  const std::uint32_t source_id_;

  std::deque<Active> commands_;  // in arrival order; front ones are being cut into pieces
  std::uint64_t first_seq_ = 0;  // sequence number of commands_.front()
  std::uint64_t next_seq_ = 0;
  std::size_t in_flight_ = 0;  // pieces issued and not yet done
  DelayHeap<CopyDone> done_queue_;
  OutputQueues<MemRequest> mem_out_;
  OutputQueues<ScratchRequest> scratch_out_;
  OutputQueues<MulticastPiece> mcast_out_;
  std::unordered_map<MulticastKey, Receipt, MulticastKeyHash> receipts_;
  std::unordered_map<std::uint64_t, InboundWrite> inbound_writes_;
  std::uint64_t next_inbound_ = 0;
  bool limited_ = false;            // pieces were due while max_outstanding were in flight ...
  std::uint64_t limited_since_ = 0;  // ... since this cycle

  Counter& st_commands_;
  Counter& st_line_requests_;
  Counter& st_bytes_;
  Distribution& st_command_cycles_;
  Distribution& st_line_latency_;
  // Loaded latency of line reads by where the L2 answered them (indexed by ServedBy; unknown is unused).
  std::array<Distribution*, 4> st_read_latency_by_source_{};
  Counter& st_multicast_commands_;
  Counter& st_multicast_sent_;
  Counter& st_multicast_received_;
  Counter& st_limited_cycles_;
};

}  // namespace tilesim

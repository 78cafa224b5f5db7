// The cluster network (DSMEM: one core reading or writing another core's scratch, DESIGN.md §6).
// A requester addresses the cluster window: `req.addr = target_core * window_bytes + offset`, with
// `req.source` its own core. The network carries the access to the target core's scratch (`to_scratch<c>`,
// with the offset as address), and the answer back to the requester (`resp<c>`).
//   - An access to the requester's own scratch through the window takes `local_latency` cycles each way
//     and no network bandwidth.
//   - A remote access takes `latency` cycles each way; the requester's injection port and the target's
//     ejection port each carry `port_bytes_per_cycle` (per direction), and the cores of one `group`
//     (a GPC) share `group_bytes_per_cycle` of switching bandwidth.
//   - A multicast piece (a TMA multicast load's line, arriving from the core that fetched it) goes to the
//     peer core's copy engine (`to_engine<c>`) after `multicast_latency` cycles through the peer's multicast
//     input (`multicast_bytes_per_cycle`, the width of the core's crossbar port) only: the GPC crossbar
//     replicates multicast data on its way in from L2, so it uses neither the fetching core's injection
//     port, nor the group switch, nor the SM-to-SM ports of DSMEM accesses. No answer goes back.
// Cores may only reach cores of their own group (`group_size` consecutive cores); anything else is an
// error in the requester.
#pragma once

#include <unordered_map>
#include <vector>

#include "arch/memory/port_timer.hpp"
#include "arch/memory/messages.hpp"
#include "arch/memory/output_queues.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

class ClusterNetwork final : public Component {
 public:
  static ParamSchema param_schema();
  explicit ClusterNetwork(const ComponentContext& ctx);

  bool tick(Cycle now) override;
  bool busy() const override { return !in_flight_.empty() || !to_engine_.empty(); }
  std::string waiting_on() const override;

  InPort<ScratchRequest> req{*this, "req", "ScratchRequest"};
  InPort<MemResponse> from_scratch{*this, "from_scratch", "MemResponse"};
  InPort<MulticastPiece> mcast_in{*this, "mcast_in", "MulticastPiece"};
  std::vector<std::unique_ptr<OutPort<MulticastPiece>>> engine_ports;
  std::vector<std::unique_ptr<OutPort<ScratchRequest>>> scratch_ports;
  std::vector<std::unique_ptr<OutPort<MemResponse>>> resp_ports;

 private:
  std::uint64_t route(std::uint32_t from, std::uint32_t to, std::uint64_t payload, std::uint64_t now,
                      std::vector<PortTimer>& out_timers, std::uint64_t latency);
  void check_reach(std::uint32_t from, std::uint64_t to, const char* what) const;

  const std::uint32_t cores_, group_size_;
  const std::uint64_t window_;
  const std::uint64_t latency_, local_latency_, multicast_latency_, port_width_, multicast_width_, group_width_, header_;
  std::vector<PortTimer> inject_, eject_req_, eject_resp_, eject_multicast_, group_;
  std::vector<PortTimer> order_scratch_, order_resp_, order_engine_;
  struct InFlight {
    std::uint64_t window_addr;
    std::uint64_t tag;
    std::uint32_t target;
  };
  std::unordered_map<std::uint64_t, InFlight> in_flight_;
  std::uint64_t next_seq_ = 0;
  OutputQueues<ScratchRequest> to_scratch_;
  OutputQueues<MemResponse> to_requester_;
  OutputQueues<MulticastPiece> to_engine_;

  Counter& st_remote_;
  Counter& st_local_;
  Counter& st_bytes_;
  Counter& st_multicast_bytes_;
};

}  // namespace tilesim

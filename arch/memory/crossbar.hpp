// The crossbar between the cores of one partition and that partition's cache slices (DESIGN.md §6: the
// NoC to L2). Requests from any client (on `req`, one link per client) go to slice
// AddressMap::slice_index(addr) on `slice<j>`; responses from the slices (on `resp`) go back to client
// `req.source - client_base` on `client<i>`.
//
// Timing per message: it enters through its source port, which carries `port_bytes_per_cycle` (a
// message occupies it for message_bytes / width cycles: its data, or `header_bytes` if it has none),
// crosses in `latency` cycles and leaves through its destination port, which has the same width. By
// default the crossbar has ideal output queues. With `input_window` w (input queueing with w buffer entries
// per source port) a message occupies one of its source port's w entries until its destination port takes
// it; when all w are taken, the next message from that source waits for the first of them to leave, so a
// busy destination also delays other messages from the same source. w = 1 is strict head-of-line blocking
// (`head_of_line`: about 59 % of the ideal throughput under uniform traffic, Karol, Hluchyj and Morgan,
// "Input versus output queueing on a space-division packet switch", IEEE Trans. Commun. 1987); a larger w
// approaches output queueing.
// Unloaded, a message leaves `latency` cycles after it arrived (its link adds one more cycle). Data:
// write data on requests, read data on responses.
#pragma once

#include <functional>
#include <queue>
#include <vector>

#include "arch/memory/address_map.hpp"
#include "arch/memory/output_queues.hpp"
#include "arch/memory/port_timer.hpp"
#include "arch/memory/request.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

class Crossbar final : public Component {
 public:
  static ParamSchema param_schema();
  explicit Crossbar(const ComponentContext& ctx);

  bool tick(Cycle now) override;
  bool busy() const override { return !to_slices_.empty() || !to_clients_.empty(); }
  std::string waiting_on() const override;

  InPort<MemRequest> req{*this, "req", "MemRequest"};
  InPort<MemResponse> resp{*this, "resp", "MemResponse"};
  std::vector<std::unique_ptr<OutPort<MemRequest>>> slice_ports;
  std::vector<std::unique_ptr<OutPort<MemResponse>>> client_ports;

 private:
  AddressMap map_;
  const std::uint32_t clients_, client_base_, partition_;
  const std::uint64_t latency_, width_, header_;
  /// The buffer entries of one source port: when each message in it leaves for its destination.
  using InputEntries = std::priority_queue<std::uint64_t, std::vector<std::uint64_t>, std::greater<>>;
  /// Earliest cycle >= `ready` at which a message may enter through a source port whose entries are
  /// `entries` (0 entries = unlimited: ideal output queueing).
  std::uint64_t admit(InputEntries& entries, std::uint64_t ready) const;
  void occupy(InputEntries& entries, std::uint64_t entered, std::uint64_t leave) const;

  const std::size_t window_;  // buffer entries per source port; 0 = ideal output queues
  std::vector<PortTimer> client_in_, client_out_, slice_in_, slice_out_;
  std::vector<InputEntries> client_entries_, slice_entries_;
  OutputQueues<MemRequest> to_slices_;
  OutputQueues<MemResponse> to_clients_;

  Counter& st_requests_;
  Counter& st_responses_;
  Counter& st_request_bytes_;
  Counter& st_response_bytes_;
};

}  // namespace tilesim

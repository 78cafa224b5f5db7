// The crossbar between the cores of one partition and that partition's cache slices (DESIGN.md §6: the
// NoC to L2). Requests from any client (on `req`, one link per client) go to slice
// AddressMap::slice_index(addr) on `slice<j>`; responses from the slices (on `resp`) go back to client
// `req.source - client_base` on `client<i>`.
//
// Timing per message (crossbar_switch.hpp, one switch per direction): it enters through its source port,
// which carries `port_bytes_per_cycle` (a message occupies it for message_bytes / width cycles: its data,
// or `header_bytes` if it has none), is taken by its destination port (same width) when that port is free,
// oldest message first, and leaves `latency` cycles later. By default the crossbar has ideal output queues.
// With `input_window` w (input queueing with w buffer entries per source port) only the first w messages
// of a source are offered to their destinations; a message holds its entry until it has crossed to its
// destination, and a source crosses to one destination at a time, so a busy destination also delays later
// messages from the same source. w = 1 is strict head-of-line blocking (`head_of_line`: under saturated
// uniform traffic 0.60 of the ideal throughput for 16 ports, 2 - sqrt(2) = 0.586 for many, Karol, Hluchyj
// and Morgan, "Input versus output queueing on a space-division packet switch", IEEE Trans. Commun. 1987;
// tests/memory/test_crossbar_switch.cpp checks 4 and 16 ports); a larger w approaches output queueing.
// Unloaded, a message leaves `latency` cycles after it arrived (its link adds one more cycle). Data:
// write data on requests, read data on responses. A response marked `replica` (a copy of an answer the
// slice sent to another client, l2_slice.hpp's request coalescer) is replicated in the switch: it is offered
// to its destination port when the original with the same `answer` has passed the slice's source port, and
// occupies only that destination port.
#pragma once

#include <vector>

#include "arch/memory/address_map.hpp"
#include "arch/memory/crossbar_switch.hpp"
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
  const std::size_t window_;  // buffer entries per source port; 0 = ideal output queues

  Counter& st_requests_;
  Counter& st_responses_;
  Counter& st_request_bytes_;
  Counter& st_response_bytes_;
  Counter& st_replicas_;
  Distribution& st_request_wait_;
  Distribution& st_response_wait_;

  CrossbarDirection<MemRequest> to_slices_;    // sources: clients; destinations: slices
  CrossbarDirection<MemResponse> to_clients_;  // sources: slices; destinations: clients
};

}  // namespace tilesim

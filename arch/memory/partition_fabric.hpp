// The fabric between cache partitions (and dies), DESIGN.md §6: a slice's miss on an address homed in
// another partition travels here to the home slice (`req` -> `home<g>`), and the answer travels back
// (`resp` -> `back<g>`, routed by `req.source`, the asking slice).
//
// Each ordered pair of partitions (p -> q) is a link of `link_bytes_per_cycle`; a message occupies it for
// its data bytes (or header_bytes without data) / width cycles and arrives `far_latency` cycles after it entered, plus
// `die_latency` more when p and q are on different dies. This is where the far-partition penalty of the
// hierarchy lives: a far hit costs 2 x far_latency (+ 2 x die_latency across dies) plus the home slice's
// lookup more than a near hit.
#pragma once

#include <vector>

#include "arch/memory/address_map.hpp"
#include "arch/memory/port_timer.hpp"
#include "arch/memory/output_queues.hpp"
#include "arch/memory/request.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

class PartitionFabric final : public Component {
 public:
  static ParamSchema param_schema();
  explicit PartitionFabric(const ComponentContext& ctx);

  bool tick(Cycle now) override;
  bool busy() const override { return !to_home_.empty() || !to_back_.empty(); }
  std::string waiting_on() const override;

  InPort<MemRequest> req{*this, "req", "MemRequest"};
  InPort<MemResponse> resp{*this, "resp", "MemResponse"};
  std::vector<std::unique_ptr<OutPort<MemRequest>>> home_ports;
  std::vector<std::unique_ptr<OutPort<MemResponse>>> back_ports;

  /// One-way cycles from partition p to partition q (0 when p == q).
  std::uint64_t one_way_latency(std::uint32_t p, std::uint32_t q) const;

 private:
  std::uint64_t deliver_cycle(std::uint32_t from_part, std::uint32_t to_part, std::uint64_t payload, std::uint64_t now);

  AddressMap map_;
  const std::uint64_t far_latency_, die_latency_, width_, header_;
  std::vector<PortTimer> links_;  // partitions x partitions
  std::vector<PortTimer> arrive_home_, arrive_back_;  // per destination slice: keeps per-port order
  OutputQueues<MemRequest> to_home_;
  OutputQueues<MemResponse> to_back_;

  Counter& st_requests_;
  Counter& st_responses_;
  Counter& st_bytes_;
  Counter& st_die_crossings_;
};

/// The path from cache slices to one memory controller (several slices may share it): requests leave
/// `latency` cycles after arrival with the controller-local address (AddressMap::controller_local, which
/// the controller expects), responses come back `latency` cycles after arrival with the global address
/// restored, to slice `req.source - slice_base` on `up<i>`. `latency` is the controller front end and
/// PHY each way — what a DRAM access costs beyond the DRAM timing itself. At most `depth` requests are
/// on their way down; beyond that the slices' links fill and the slices wait (write-back pressure).
class ControllerMux final : public Component {
 public:
  static ParamSchema param_schema();
  explicit ControllerMux(const ComponentContext& ctx);
  bool tick(Cycle now) override;
  bool busy() const override { return !down_.empty() || !up_.empty(); }
  std::string waiting_on() const override;

  InPort<MemRequest> req{*this, "req", "MemRequest"};
  OutPort<MemRequest> down{*this, "down", "MemRequest"};
  InPort<MemResponse> resp{*this, "resp", "MemResponse"};
  std::vector<std::unique_ptr<OutPort<MemResponse>>> up_ports;

 private:
  AddressMap map_;
  const std::uint32_t controller_, slice_base_, slices_;
  const std::uint64_t latency_;
  const std::size_t depth_;
  OutputQueues<MemRequest> down_;
  OutputQueues<MemResponse> up_;
};

}  // namespace tilesim

#include "arch/memory/partition_fabric.hpp"

#include <algorithm>

#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<PartitionFabric> kFabric(
    "partition_fabric", "links between cache partitions and dies: far-partition latency and bandwidth");
const RegisterComponent<ControllerMux> kMux("controller_mux", "path from cache slices to a memory controller: address translation, front-end latency");
}  // namespace

ParamSchema PartitionFabric::param_schema() {
  ParamSchema s;
  s.quantity("far_latency", UnitKind::cycles, "40", "one-way cycles between two partitions on the same die", 1)
      .quantity("die_latency", UnitKind::cycles, "0", "extra one-way cycles when the partitions are on different dies", 0)
      .quantity("link_bytes_per_cycle", UnitKind::size, "256B", "width of the link from one partition to another", 1)
      .quantity("header_bytes", UnitKind::size, "16B", "link bytes a message without data occupies (address, command)", 0);
  AddressMap::declare_params(s);
  return s;
}

PartitionFabric::PartitionFabric(const ComponentContext& ctx)
    : Component(ctx),
      map_(AddressMap::from_params(params())),
      far_latency_(static_cast<std::uint64_t>(params().quantity("far_latency"))),
      die_latency_(static_cast<std::uint64_t>(params().quantity("die_latency"))),
      width_(params().bytes("link_bytes_per_cycle")),
      header_(params().bytes("header_bytes")),
      st_requests_(stats().counter("requests", "", "requests carried to home slices in other partitions")),
      st_responses_(stats().counter("responses", "", "responses carried back")),
      st_bytes_(stats().counter("bytes", "B", "data carried (write data and read data)")),
      st_die_crossings_(stats().counter("die_crossings", "", "messages that crossed between dies")) {
  const std::uint32_t slices = map_.slices();
  for (std::uint32_t g = 0; g < slices; ++g) {
    home_ports.push_back(std::make_unique<OutPort<MemRequest>>(*this, cat("home", g), "MemRequest"));
    to_home_.add_port(home_ports.back().get());
    back_ports.push_back(std::make_unique<OutPort<MemResponse>>(*this, cat("back", g), "MemResponse"));
    to_back_.add_port(back_ports.back().get());
  }
  links_.assign(static_cast<std::size_t>(map_.partitions()) * map_.partitions(), PortTimer(width_));
  arrive_home_.resize(slices);
  arrive_back_.resize(slices);
}

std::uint64_t PartitionFabric::one_way_latency(std::uint32_t p, std::uint32_t q) const {
  if (p == q) return 0;
  return far_latency_ + (map_.die_of_partition(p) != map_.die_of_partition(q) ? die_latency_ : 0);
}

std::uint64_t PartitionFabric::deliver_cycle(std::uint32_t from, std::uint32_t to, std::uint64_t payload,
                                             std::uint64_t now) {
  if (from == to) panic(name(), ": message within partition ", from, " routed over the fabric");
  if (map_.die_of_partition(from) != map_.die_of_partition(to)) ++st_die_crossings_;
  st_bytes_ += payload;
  const std::uint64_t start = links_[from * map_.partitions() + to].reserve(now, message_bytes(header_, payload));
  return start + one_way_latency(from, to);
}

bool PartitionFabric::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  while (req.ready()) {
    MemRequest r = req.pop();
    const std::uint32_t home = map_.home_slice(r.addr);
    const std::uint64_t at = deliver_cycle(map_.partition_of_slice(r.source), map_.partition_of_slice(home),
                                           request_payload(r), now);
    ++st_requests_;
    to_home_.push(home, arrive_home_[home].reserve(at, 0), std::move(r), Priority::request);
  }
  while (resp.ready()) {
    MemResponse m = resp.pop();
    const std::uint32_t back = m.req.source;
    if (back >= map_.slices()) panic(name(), ": response for unknown slice ", back);
    const std::uint64_t at = deliver_cycle(map_.partition_of_slice(map_.home_slice(m.req.addr)),
                                           map_.partition_of_slice(back), response_payload(m.req), now);
    ++st_responses_;
    to_back_.push(back, arrive_back_[back].reserve(at, 0), std::move(m), Priority::response);
  }
  if (to_home_.drain(now) + to_back_.drain(now) > 0) note_progress();
  const std::uint64_t next = std::min(to_home_.next_cycle(), to_back_.next_cycle());
  if (next != OutputQueues<MemRequest>::kNone) {
    if (next <= now) return true;
    wake_at(Cycle(next));
  }
  return false;
}

std::string PartitionFabric::waiting_on() const {
  return cat(to_home_.size(), " requests and ", to_back_.size(), " responses in flight between partitions");
}

ParamSchema ControllerMux::param_schema() {
  ParamSchema s;
  s.integer("controller", 0, "global index of the memory controller behind this path", 0)
      .integer("slice_base", 0, "global index of the first slice on this controller", 0)
      .integer("slices", 1, "slices sharing the controller (consecutive global indices)", 1, 1024)
      .quantity("latency", UnitKind::cycles, "0", "cycles each way (controller front end and PHY)", 0)
      .integer("depth", 256, "requests on their way to the controller at most; the slices wait beyond", 1, 1 << 20);
  AddressMap::declare_params(s);
  return s;
}

ControllerMux::ControllerMux(const ComponentContext& ctx)
    : Component(ctx),
      map_(AddressMap::from_params(params())),
      controller_(static_cast<std::uint32_t>(params().integer("controller"))),
      slice_base_(static_cast<std::uint32_t>(params().integer("slice_base"))),
      slices_(static_cast<std::uint32_t>(params().integer("slices"))),
      latency_(static_cast<std::uint64_t>(params().quantity("latency"))),
      depth_(static_cast<std::size_t>(params().integer("depth"))) {
  if (controller_ >= map_.controllers())
    throw ConfigError(cat(params().path(), ".controller: ", controller_, " is not below controllers (", map_.controllers(), ")"));
  down_.add_port(&down);
  for (std::uint32_t i = 0; i < slices_; ++i) {
    up_ports.push_back(std::make_unique<OutPort<MemResponse>>(*this, cat("up", i), "MemResponse"));
    up_.add_port(up_ports.back().get());
  }
}

bool ControllerMux::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  while (req.ready() && down_.size() < depth_) {
    MemRequest r = req.pop();
    if (map_.home_controller(r.addr) != controller_)
      panic(name(), ": address ", r.addr, " belongs to controller ", map_.home_controller(r.addr), ", not ", controller_);
    r.addr = map_.controller_local(r.addr);
    down_.push(0, now + latency_, std::move(r), Priority::request);
  }
  while (resp.ready()) {
    MemResponse m = resp.pop();
    if (m.req.source < slice_base_ || m.req.source >= slice_base_ + slices_)
      panic(name(), ": response for slice ", m.req.source, " not on this controller");
    const std::uint32_t i = m.req.source - slice_base_;
    m.req.addr = map_.global_from_local(controller_, m.req.addr);
    up_.push(i, now + latency_, std::move(m), Priority::response);
  }
  if (down_.drain(now) + up_.drain(now) > 0) note_progress();
  if (req.ready() && down_.size() < depth_) return true;
  const std::uint64_t next = std::min(down_.next_cycle(), up_.next_cycle());
  if (next != OutputQueues<MemRequest>::kNone) {
    if (next <= now) return true;
    wake_at(Cycle(next));
  }
  return false;
}

std::string ControllerMux::waiting_on() const {
  return cat(down_.size(), " requests and ", up_.size(), " responses waiting for link credit");
}

}  // namespace tilesim

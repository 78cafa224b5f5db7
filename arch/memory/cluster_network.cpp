#include "arch/memory/cluster_network.hpp"

#include <algorithm>

#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<ClusterNetwork> kRegistration(
    "cluster_network", "core-to-core scratch access within a group (DSMEM): window decode, latency, port bandwidth");

std::uint64_t scratch_bytes(const ScratchRequest& r) {
  return r.lane_addr.empty() ? r.req.bytes : static_cast<std::uint64_t>(r.lane_addr.size()) * r.lane_bytes;
}
}  // namespace

ParamSchema ClusterNetwork::param_schema() {
  ParamSchema s;
  s.integer("cores", 1, "cores attached", 1, 100000)
      .integer("group_size", 1, "consecutive cores that can reach each other's scratch (a GPC)", 1, 1024)
      .quantity("window_bytes", UnitKind::size, "1MiB", "bytes of cluster window per core (>= the scratch size)", 1)
      .quantity("latency", UnitKind::cycles, "70", "one-way cycles to another core", 1)
      .quantity("local_latency", UnitKind::cycles, "2", "one-way cycles to the requester's own scratch via the window", 0)
      .quantity("multicast_latency", UnitKind::cycles, "4",
                "cycles a multicast load's line takes from the core that fetched it to a peer core's copy engine", 0)
      .quantity("port_bytes_per_cycle", UnitKind::size, "32B", "per-core injection/ejection width per direction", 1)
      .quantity("multicast_bytes_per_cycle", UnitKind::size, "32B",
                "per-core input width for multicast copies (the core's crossbar port for its copy engine)", 1)
      .quantity("group_bytes_per_cycle", UnitKind::size, "256B", "switching bandwidth shared by one group", 1)
      .quantity("header_bytes", UnitKind::size, "16B", "port bytes a message without data occupies (address, command)", 0);
  return s;
}

ClusterNetwork::ClusterNetwork(const ComponentContext& ctx)
    : Component(ctx),
      cores_(static_cast<std::uint32_t>(params().integer("cores"))),
      group_size_(static_cast<std::uint32_t>(params().integer("group_size"))),
      window_(params().bytes("window_bytes")),
      latency_(static_cast<std::uint64_t>(params().quantity("latency"))),
      local_latency_(static_cast<std::uint64_t>(params().quantity("local_latency"))),
      multicast_latency_(static_cast<std::uint64_t>(params().quantity("multicast_latency"))),
      port_width_(params().bytes("port_bytes_per_cycle")),
      multicast_width_(params().bytes("multicast_bytes_per_cycle")),
      group_width_(params().bytes("group_bytes_per_cycle")),
      header_(params().bytes("header_bytes")),
      st_remote_(stats().counter("remote_accesses", "", "accesses to another core's scratch")),
      st_local_(stats().counter("local_accesses", "", "accesses to the requester's own scratch via the window")),
      st_bytes_(stats().counter("bytes", "B", "data carried between cores")),
      st_multicast_bytes_(stats().counter("multicast_bytes", "B", "multicast-load data carried to peer cores")) {
  for (std::uint32_t c = 0; c < cores_; ++c) {
    scratch_ports.push_back(std::make_unique<OutPort<ScratchRequest>>(*this, cat("to_scratch", c), "ScratchRequest"));
    to_scratch_.add_port(scratch_ports.back().get());
    resp_ports.push_back(std::make_unique<OutPort<MemResponse>>(*this, cat("resp", c), "MemResponse"));
    to_requester_.add_port(resp_ports.back().get());
    engine_ports.push_back(std::make_unique<OutPort<MulticastPiece>>(*this, cat("to_engine", c), "MulticastPiece"));
    to_engine_.add_port(engine_ports.back().get());
  }
  inject_.assign(cores_, PortTimer(port_width_));
  eject_req_.assign(cores_, PortTimer(port_width_));
  eject_resp_.assign(cores_, PortTimer(port_width_));
  eject_multicast_.assign(cores_, PortTimer(multicast_width_));
  order_scratch_.resize(cores_);
  order_resp_.resize(cores_);
  order_engine_.resize(cores_);
  group_.assign((cores_ + group_size_ - 1) / group_size_, PortTimer(group_width_));
}

void ClusterNetwork::check_reach(std::uint32_t from, std::uint64_t target, const char* what) const {
  if (from >= cores_ || target >= cores_)
    panic(name(), ": ", what, " from core ", from, " to core ", target, " outside ", cores_, " cores");
  if (from / group_size_ != target / group_size_)
    panic(name(), ": core ", from, " cannot reach core ", target, " (groups of ", group_size_, " cores)");
}

std::uint64_t ClusterNetwork::route(std::uint32_t from, std::uint32_t to, std::uint64_t payload, std::uint64_t now,
                                    std::vector<PortTimer>& out_timers, std::uint64_t latency) {
  if (from == to) return now + local_latency_;
  const std::uint64_t bytes = message_bytes(header_, payload);
  const std::uint64_t injected = inject_[from].reserve(now, bytes);
  const std::uint64_t switched = group_[from / group_size_].reserve(injected, bytes);
  const std::uint64_t ejected = out_timers[to].reserve(switched, bytes);
  st_bytes_ += payload;
  return ejected + latency;
}

bool ClusterNetwork::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  while (req.ready()) {
    ScratchRequest r = req.pop();
    const std::uint32_t from = r.req.source;
    const std::uint64_t target = r.req.addr / window_;
    check_reach(from, target, "access");
    const auto to = static_cast<std::uint32_t>(target);
    (from == to ? st_local_ : st_remote_) += 1;
    // The target sees an offset in its scratch and our tag; the requester's address and tag come back.
    const std::uint64_t seq = next_seq_++;
    in_flight_.emplace(seq, InFlight{r.req.addr, r.req.tag, to});
    r.req.addr %= window_;
    r.req.tag = seq;
    const std::uint64_t at = route(from, to, r.req.op == MemOp::read ? 0 : scratch_bytes(r), now, eject_req_, latency_);
    to_scratch_.push(to, order_scratch_[to].reserve(at, 0), std::move(r), Priority::request);
  }
  while (from_scratch.ready()) {
    MemResponse m = from_scratch.pop();
    const auto it = in_flight_.find(m.req.tag);
    if (it == in_flight_.end()) panic(name(), ": response for unknown access ", m.req.tag);
    const std::uint32_t requester = m.req.source, target = it->second.target;
    m.req.addr = it->second.window_addr;
    m.req.tag = it->second.tag;
    in_flight_.erase(it);
    const std::uint64_t at = route(target, requester, response_payload(m.req), now, eject_resp_, latency_);
    to_requester_.push(requester, order_resp_[requester].reserve(at, 0), std::move(m), Priority::response);
  }
  while (mcast_in.ready()) {
    MulticastPiece m = mcast_in.pop();
    check_reach(m.from, m.to, "multicast piece");
    if (m.from == m.to) panic(name(), ": multicast piece from core ", m.from, " to itself");
    st_multicast_bytes_ += m.bytes;
    st_bytes_ += m.bytes;
    // TMA multicast is replicated by the GPC crossbar on the way in from L2: the line crossed the crossbar
    // once (the fetching core's response), so the copy neither leaves the fetching core nor crosses the
    // group switch again. It enters the peer as an L2 response does, not through the SM-to-SM port that
    // DSMEM accesses take.
    const std::uint64_t at =
        eject_multicast_[m.to].reserve(now, message_bytes(header_, m.bytes)) + multicast_latency_;
    const std::uint32_t to = m.to;
    to_engine_.push(to, order_engine_[to].reserve(at, 0), std::move(m), Priority::request);
  }
  if (to_scratch_.drain(now) + to_requester_.drain(now) + to_engine_.drain(now) > 0) note_progress();
  const std::uint64_t next = std::min({to_scratch_.next_cycle(), to_requester_.next_cycle(), to_engine_.next_cycle()});
  if (next != OutputQueues<MemRequest>::kNone) {
    if (next <= now) return true;
    wake_at(Cycle(next));
  }
  return false;
}

std::string ClusterNetwork::waiting_on() const {
  return cat(to_scratch_.size(), " accesses, ", to_requester_.size(), " responses and ", to_engine_.size(),
             " multicast pieces in flight between cores");
}

}  // namespace tilesim

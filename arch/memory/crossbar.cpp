#include "arch/memory/crossbar.hpp"

#include <algorithm>

#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<Crossbar> kRegistration(
    "crossbar", "crossbar between one partition's cores and its cache slices (address-routed, port-width limited)");
}

ParamSchema Crossbar::param_schema() {
  ParamSchema s;
  s.integer("clients", 1, "client ports (requesters) on this crossbar", 1, 1 << 16)
      .integer("client_base", 0, "`source` id of client port 0 (clients are numbered consecutively)", 0)
      .integer("partition", 0, "the partition whose slices this crossbar reaches", 0)
      .quantity("latency", UnitKind::cycles, "10", "cycles to cross, unloaded", 1)
      .quantity("port_bytes_per_cycle", UnitKind::size, "32B", "width of every client and slice port", 1)
      .quantity("header_bytes", UnitKind::size, "16B", "port bytes a message without data occupies (address, command)", 0)
      .boolean("head_of_line", false,
               "input-queued: a message holds its input port until its output port takes it, blocking those behind "
               "it (false: ideal output queues); the same as input_window 1")
      .integer("input_window", 0,
               "input-queued with this many buffer entries per source port: a message waits for a free entry, "
               "which it holds until its destination port takes it (0: ideal output queues)", 0, 1 << 16);
  AddressMap::declare_params(s);
  return s;
}

Crossbar::Crossbar(const ComponentContext& ctx)
    : Component(ctx),
      map_(AddressMap::from_params(params())),
      clients_(static_cast<std::uint32_t>(params().integer("clients"))),
      client_base_(static_cast<std::uint32_t>(params().integer("client_base"))),
      partition_(static_cast<std::uint32_t>(params().integer("partition"))),
      latency_(static_cast<std::uint64_t>(params().quantity("latency"))),
      width_(params().bytes("port_bytes_per_cycle")),
      header_(params().bytes("header_bytes")),
      window_(params().boolean("head_of_line") ? 1 : static_cast<std::size_t>(params().integer("input_window"))),
      st_requests_(stats().counter("requests", "", "requests routed to slices")),
      st_responses_(stats().counter("responses", "", "responses routed to clients")),
      st_request_bytes_(stats().counter("request_bytes", "B", "write data carried to slices")),
      st_response_bytes_(stats().counter("response_bytes", "B", "read data carried to clients")),
      st_replicas_(stats().counter("replicated_responses", "",
                                   "responses replicated from another one (the L2 request coalescer): they occupy their "
                                   "client port only")),
      st_request_wait_(stats().distribution("request_wait", "cycles",
                                            "cycles a request waited from arrival until its slice port took it")),
      st_response_wait_(stats().distribution("response_wait", "cycles",
                                             "cycles a response waited from arrival until its client port took it")),
      to_slices_(clients_, window_, width_, latency_, st_request_wait_),
      to_clients_(map_.spec().slices_per_partition, window_, width_, latency_, st_response_wait_) {
  if (partition_ >= map_.partitions())
    throw ConfigError(cat(params().path(), ".partition: ", partition_, " is not below partitions (", map_.partitions(), ")"));
  const std::uint32_t slices = map_.spec().slices_per_partition;
  for (std::uint32_t j = 0; j < slices; ++j) {
    slice_ports.push_back(std::make_unique<OutPort<MemRequest>>(*this, cat("slice", j), "MemRequest"));
    to_slices_.add_destination(slice_ports.back().get());
  }
  for (std::uint32_t i = 0; i < clients_; ++i) {
    client_ports.push_back(std::make_unique<OutPort<MemResponse>>(*this, cat("client", i), "MemResponse"));
    to_clients_.add_destination(client_ports.back().get());
  }
  if (params().boolean("head_of_line") && params().integer("input_window") > 1)
    throw ConfigError(cat(params().path(), ".head_of_line: true means input_window 1, but input_window is ",
                          params().integer("input_window"), " (set one of them)"));
}

bool Crossbar::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  while (req.ready()) {
    MemRequest r = req.pop();
    if (r.source < client_base_ || r.source >= client_base_ + clients_)
      panic(name(), ": request from source ", r.source, " outside clients [", client_base_, ", ",
            client_base_ + clients_, ")");
    const std::uint32_t c = r.source - client_base_;
    const std::uint32_t j = map_.slice_index(r.addr);
    const std::uint64_t occ = message_bytes(header_, request_payload(r));
    ++st_requests_;
    st_request_bytes_ += request_payload(r);
    to_slices_.arrive(c, j, occ, now, std::move(r), Priority::request);
  }
  while (resp.ready()) {
    MemResponse m = resp.pop();
    const MemRequest& r = m.req;
    if (r.source < client_base_ || r.source >= client_base_ + clients_)
      panic(name(), ": response for source ", r.source, " outside clients [", client_base_, ", ",
            client_base_ + clients_, ")");
    const std::uint32_t c = r.source - client_base_;
    const std::uint32_t j = map_.slice_index(r.addr);
    const std::uint64_t occ = message_bytes(header_, response_payload(r));
    ++st_responses_;
    st_response_bytes_ += response_payload(r);
    if (m.replica) {
      ++st_replicas_;
      const std::uint64_t answer = m.answer;
      to_clients_.arrive_replica(j, c, occ, now, std::move(m), Priority::response, answer);
    } else {
      const std::uint64_t answer = m.answer;
      to_clients_.arrive(j, c, occ, now, std::move(m), Priority::response, answer);
    }
  }
  if (to_slices_.step(now) + to_clients_.step(now) > 0) note_progress();
  const std::uint64_t next = std::min(to_slices_.next_cycle(), to_clients_.next_cycle());
  if (next != CrossbarDirection<MemRequest>::kNone) {
    if (next <= now) return true;
    wake_at(Cycle(next));
  }
  return false;
}

std::string Crossbar::waiting_on() const {
  return cat(to_slices_.size(), " requests and ", to_clients_.size(), " responses to switch or deliver",
             to_slices_.any_blocked() || to_clients_.any_blocked() ? " (some ports wait for credit)" : "");
}

}  // namespace tilesim

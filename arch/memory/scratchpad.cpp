#include "arch/memory/scratchpad.hpp"

#include <algorithm>

#include "sim/component_registry.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<Scratchpad> kRegistration(
    "scratchpad", "banked scratchpad (SMEM/VMEM): bank-conflict serialisation, several client ports");
}

std::uint32_t scratch_wavefronts(const ScratchRequest& r, std::uint32_t banks, std::uint32_t bank_bytes) {
  if (r.lane_addr.empty()) {
    // A contiguous block: its words spread over the banks round-robin.
    if (r.req.bytes == 0) return 1;
    const std::uint64_t first = r.req.addr / bank_bytes, last = (r.req.addr + r.req.bytes - 1) / bank_bytes;
    const std::uint64_t words = last - first + 1;
    return static_cast<std::uint32_t>(std::max<std::uint64_t>(1, (words + banks - 1) / banks));
  }
  // Distinct words per bank; lanes naming the same word are served together (broadcast).
  std::vector<std::vector<std::uint64_t>> per_bank(banks);
  const std::uint32_t lane_bytes = std::max<std::uint32_t>(1, r.lane_bytes);
  for (const std::uint32_t a : r.lane_addr)
    for (std::uint64_t w = a / bank_bytes; w <= (a + lane_bytes - 1) / bank_bytes; ++w) {
      auto& words = per_bank[w % banks];
      if (std::find(words.begin(), words.end(), w) == words.end()) words.push_back(w);
    }
  std::size_t worst = 1;
  for (const auto& words : per_bank) worst = std::max(worst, words.size());
  return static_cast<std::uint32_t>(worst);
}

ParamSchema Scratchpad::param_schema() {
  ParamSchema s;
  s.quantity("size", UnitKind::size, "228KiB", "capacity (accesses beyond it are errors)", 1)
      .integer("banks", 32, "banks", 1, 1024)
      .quantity("bank_bytes", UnitKind::size, "4B", "bytes per bank per wavefront (word size)", 1)
      .quantity("latency", UnitKind::cycles, "20", "cycles from the start of a conflict-free access to its response", 1)
      .integer("clients", 1, "client port pairs req<i>/resp<i>", 1, 64);
  return s;
}

Scratchpad::Scratchpad(const ComponentContext& ctx)
    : Component(ctx),
      size_(params().bytes("size")),
      banks_(static_cast<std::uint32_t>(params().integer("banks"))),
      bank_bytes_(static_cast<std::uint32_t>(params().bytes("bank_bytes"))),
      latency_(static_cast<std::uint64_t>(params().quantity("latency"))),
      st_accesses_(stats().counter("accesses", "", "accesses served")),
      st_wavefronts_(stats().counter("wavefronts", "", "bank wavefronts (cycles the banks were busy)")),
      st_conflict_cycles_(stats().counter("conflict_cycles", "", "extra wavefronts caused by bank conflicts")),
      st_bytes_(stats().counter("bytes", "B", "bytes read or written")) {
  const auto clients = params().integer("clients");
  for (std::int64_t i = 0; i < clients; ++i) {
    req_ports.push_back(std::make_unique<InPort<ScratchRequest>>(*this, cat("req", i), "ScratchRequest"));
    resp_ports.push_back(std::make_unique<OutPort<MemResponse>>(*this, cat("resp", i), "MemResponse"));
    out_.add_port(resp_ports.back().get());
  }
  stats().ratio("bytes_per_wavefront", "B", "bytes / wavefronts", "bytes", "wavefronts");
}

bool Scratchpad::tick(Cycle now_cycle) {
  const std::uint64_t now = now_cycle.value;
  // Start at most one access per cycle, and only when the banks are free: a d-wavefront access holds
  // them for d cycles.
  const std::size_t n = req_ports.size();
  bool more_waiting = false;
  if (bank_free_ <= now) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t c = (next_client_ + k) % n;
      if (!req_ports[c]->ready()) continue;
      ScratchRequest r = req_ports[c]->pop();
      const std::uint64_t extent = r.lane_addr.empty()
                                       ? r.req.addr + r.req.bytes
                                       : static_cast<std::uint64_t>(*std::max_element(r.lane_addr.begin(), r.lane_addr.end())) +
                                             r.lane_bytes;
      if (extent > size_)
        panic(name(), ": access up to byte ", extent, " beyond the scratch size ", size_, " (from client ", c, ")");
      const std::uint32_t d = scratch_wavefronts(r, banks_, bank_bytes_);
      bank_free_ = now + d;
      ++st_accesses_;
      st_wavefronts_ += d;
      st_conflict_cycles_ += d - 1;
      st_bytes_ += r.lane_addr.empty() ? r.req.bytes : static_cast<std::uint64_t>(r.lane_addr.size()) * r.lane_bytes;
      pending_.push(now + latency_ + d - 1, {c, MemResponse{r.req}});
      next_client_ = (c + 1) % n;
      break;
    }
  }
  for (std::size_t c = 0; c < n && !more_waiting; ++c) more_waiting = req_ports[c]->ready();
  while (pending_.due(now)) {
    auto [c, m] = pending_.pop();
    out_.send_now(c, now, std::move(m), Priority::response);
    note_progress();
  }
  out_.drain(now);
  std::uint64_t next = std::min(pending_.next_cycle(), out_.next_cycle());
  if (more_waiting) next = std::min(next, std::max(bank_free_, now + 1));
  if (next != DelayHeap<int>::kNone) {
    if (next <= now + 1) return true;
    wake_at(Cycle(next));
  }
  return false;
}

std::string Scratchpad::waiting_on() const {
  return cat(pending_.size(), " accesses in the bank pipeline, ", out_.size(), " responses waiting for link credit");
}

}  // namespace tilesim

// A banked scratchpad (an SM's shared memory, a megacore's VMEM), DESIGN.md §6. `banks` banks of
// `bank_bytes` each; word w lives in bank w % banks. An access is served in wavefronts: one wavefront
// reads or writes at most one word per bank (lanes reading the same word share it), so an access whose
// busiest bank holds d distinct words takes d wavefronts — the bank-conflict degree. One wavefront per
// cycle for the whole scratch; a contiguous block of B bytes takes ceil(B / (banks x bank_bytes)).
// A conflict-free access answers `latency` cycles after it starts; each extra wavefront adds a cycle.
// Several clients (the core's load/store unit, the copy engine, the cluster network) each have a port
// pair `req<i>`/`resp<i>`; ready requests are served round-robin between clients.
#pragma once

#include <vector>

#include "arch/memory/messages.hpp"
#include "arch/memory/output_queues.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

/// Wavefronts an access needs: the largest number of distinct words any one bank must deliver.
std::uint32_t scratch_wavefronts(const ScratchRequest& r, std::uint32_t banks, std::uint32_t bank_bytes);

class Scratchpad final : public Component {
 public:
  static ParamSchema param_schema();
  explicit Scratchpad(const ComponentContext& ctx);

  bool tick(Cycle now) override;
  bool busy() const override { return !out_.empty() || !pending_.empty(); }
  std::string waiting_on() const override;

  std::vector<std::unique_ptr<InPort<ScratchRequest>>> req_ports;
  std::vector<std::unique_ptr<OutPort<MemResponse>>> resp_ports;

 private:
  const std::uint64_t size_;
  const std::uint32_t banks_, bank_bytes_;
  const std::uint64_t latency_;
  std::uint64_t bank_free_ = 0;  // first cycle the banks take a new wavefront
  std::size_t next_client_ = 0;
  DelayHeap<std::pair<std::size_t, MemResponse>> pending_;
  OutputQueues<MemResponse> out_;

  Counter& st_accesses_;
  Counter& st_wavefronts_;
  Counter& st_conflict_cycles_;
  Counter& st_bytes_;
};

}  // namespace tilesim

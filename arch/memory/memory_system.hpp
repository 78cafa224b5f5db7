// The memory hierarchy as one buildable unit (DESIGN.md §6): parameter sections and a builder that every
// system kind with cores reuses (the memory probe today; the SIMT GPU and the megacore later).
//
// Per core: a banked scratch, an L1-like cache, a copy engine (TMA/DMA). Per partition: a crossbar to that
// partition's L2 slices. Between partitions (and dies): the partition fabric. Per memory controller: the
// DRAM model, behind a multiplexer when several slices share it. Between cores of a group: the cluster
// network (DSMEM). Nothing here assumes a GPU: a "core" is whatever attaches to CoreMemoryPorts.
//
// Links: every link carries one cycle of its receiver's clock; every other latency is a configured
// pipeline latency of a component, so an unloaded access costs the sum of the configured latencies on its
// path plus one cycle per link (see unloaded_latency_cycles()).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "arch/memory/address_map.hpp"
#include "arch/memory/messages.hpp"
#include "sim/clock_domain.hpp"
#include "sim/port.hpp"
#include "sim/simulator.hpp"
#include "sim/system_kind.hpp"

namespace tilesim {

/// The sections the memory hierarchy reads: chip, memory.scratch, memory.l1, memory.noc, memory.l2,
/// memory.hbm, memory.copy, memory.cluster.
std::vector<std::pair<std::string, ParamSchema>> memory_sections();

/// Client indices of a core on its scratch and on its partition's crossbar.
enum ScratchClient : std::uint32_t { kScratchCore = 0, kScratchCopy = 1, kScratchCluster = 2, kScratchClients = 3 };
enum CrossbarClient : std::uint32_t { kXbarCache = 0, kXbarCopy = 1, kXbarClientsPerCore = 2 };

/// The memory-side ports one core attaches to.
struct CoreMemoryPorts {
  std::uint32_t core = 0;
  InPort<MemRequest>* cache_req = nullptr;         // loads/stores/atomics through the L1-like cache
  OutPort<MemResponse>* cache_resp = nullptr;
  InPort<ScratchRequest>* scratch_req = nullptr;   // the core's own scratch
  OutPort<MemResponse>* scratch_resp = nullptr;
  InPort<CopyCommand>* copy_cmd = nullptr;         // the copy engine (TMA / DMA)
  OutPort<CopyDone>* copy_done = nullptr;
  InPort<ScratchRequest>* remote_req = nullptr;    // other cores' scratch through the cluster network
  OutPort<MemResponse>* remote_resp = nullptr;
};

/// The core-side ports, to be joined to CoreMemoryPorts by attach_core().
struct CoreSidePorts {
  OutPort<MemRequest>* cache_req = nullptr;
  InPort<MemResponse>* cache_resp = nullptr;
  OutPort<ScratchRequest>* scratch_req = nullptr;
  InPort<MemResponse>* scratch_resp = nullptr;
  OutPort<CopyCommand>* copy_cmd = nullptr;
  InPort<CopyDone>* copy_done = nullptr;
  OutPort<ScratchRequest>* remote_req = nullptr;
  InPort<MemResponse>* remote_resp = nullptr;
};

/// The CoreSidePorts of a core component that declares the eight memory-side ports under their usual names
/// (cache_req, cache_resp, scratch_req, scratch_resp, copy_cmd, copy_done, remote_req, remote_resp).
template <class Core>
CoreSidePorts core_side_ports(Core& c) {
  return {&c.cache_req, &c.cache_resp, &c.scratch_req, &c.scratch_resp,
          &c.copy_cmd,  &c.copy_done,  &c.remote_req,  &c.remote_resp};
}

/// Numbers of the built hierarchy that cores and front-ends may need (read-only).
struct MemorySystemInfo {
  std::uint32_t cores = 0;
  std::uint32_t line_bytes = 128;
  std::uint32_t sector_bytes = 32;
  std::uint64_t scratch_bytes = 0;
  std::uint64_t l1_bytes = 0;
  std::uint64_t l2_bytes = 0;               // all partitions
  std::uint64_t l2_partition_bytes = 0;     // one partition
  std::uint64_t cluster_window_bytes = 0;   // remote address = core * window + offset
  std::uint32_t cores_per_group = 1;
  std::uint64_t core_hz = 0;
};

struct MemorySystem {
  ClockDomain* core_clock = nullptr;
  ClockDomain* l2_clock = nullptr;
  ClockDomain* dram_clock = nullptr;
  std::vector<CoreMemoryPorts> cores;
  AddressMap map;
  MemorySystemInfo info;
  std::uint32_t cache_request_queue = 8;  // credit of each core -> cache link
};

/// Create clocks (`core`, `l2`, `dram`), components and links for the sections of memory_sections().
/// Throws ConfigError for combinations that cannot be built, naming the keys.
MemorySystem build_memory_system(Simulator& sim, const SystemSections& config);

/// Join a core's ports to its memory ports, one link per direction of one cycle of the receiver's clock.
/// Every core-side port must be given (unused ones still need a partner: connect an idle port).
void attach_core(Simulator& sim, const MemorySystem& mem, const CoreMemoryPorts& memory_side,
                 const CoreSidePorts& core_side);

/// Unloaded round-trip latencies implied by the configuration, in core cycles, for a core of partition 0
/// (the first-principles reference the tests and the report compare against). DRAM is the fixed access
/// latency of the controller, converted to core cycles.
struct UnloadedLatencies {
  double l1_hit = 0;
  double l2_near_hit = 0;
  double l2_far_hit = 0;
  double l2_near_miss = 0;
  double l2_far_miss = 0;
  double scratch = 0;
  double remote_scratch = 0;
};
UnloadedLatencies unloaded_latency_cycles(const SystemSections& config);

}  // namespace tilesim

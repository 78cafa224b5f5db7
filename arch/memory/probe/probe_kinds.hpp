// Which probe component kind replays which `workload.kind`, and per-core inputs the system computes.
#pragma once

#include <cstdint>
#include <string>

#include "arch/memory/memory_system.hpp"

namespace tilesim {

/// The registered component kind of the probe for workload kind `kind` (pchase -> pchase_probe, ...).
const char* probe_component_kind(const std::string& kind);

/// cold_load: the first address of a line that core `core` loads, homed on `workload.home_die` and
/// touched by no other core (each core gets its own lines, so every load is cold).
std::uint64_t cold_load_address(const MemorySystem& mem, const ParamValues& workload, std::uint32_t core);

}  // namespace tilesim

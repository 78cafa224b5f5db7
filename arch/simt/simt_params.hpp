// Parameters of a SIMT streaming multiprocessor (the `core.sm` section), read once into a plain struct.
// Per sub-partition pipelines have a width in lanes (a warp instruction occupies the pipe for
// 32 / lanes cycles: the initiation interval) and a fixed latency; memory, tensor and synchronisation
// costs have their own entries. Every number in a preset carries its source there.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "sim/params.hpp"

namespace tilesim::simt {

/// Fixed-latency pipelines of one sub-partition.
enum class Unit : std::uint8_t {
  fp32,     // FFMA/FADD/FMUL/FMNMX/FSETP/FSEL, conversions to/from 16-bit
  fp16,     // packed HFMA2/HADD2/HMUL2 (two 16-bit results per lane)
  int32,    // IADD3/LOP3/ISETP/IMAD, integer tile ops
  sfu,      // MUFU: ex2, lg2, rcp, rsq, sqrt, tanh
  fp64,     // DFMA
  uniform,  // scalar (uniform-datapath) ops: loop counters, addresses, program ids
  lsu,      // address generation / issue of memory and shuffle instructions
  tensor,   // warp-level mma.sync on this sub-partition's tensor core
  count_
};
constexpr int kUnitCount = static_cast<int>(Unit::count_);
const char* unit_name(Unit u);

struct UnitTiming {
  double interval = 1;        // cycles the pipe is busy per warp instruction
  std::uint32_t latency = 4;  // issue to result, cycles
};

enum class SchedulerPolicy : std::uint8_t { gto, lrr };
enum class AsyncCopyEngine : std::uint8_t { tma, cp_async };
/// What makes the warp-group tensor pipe (wgmma) pause: nothing, a sub-partition's SFU at work, or any
/// vector-register instruction a sub-partition dispatches (an inferred register-file port hazard; uniform-
/// datapath instructions are exempt; see arch/simt/README.md).
enum class WgmmaPause : std::uint8_t { none, sfu, issue };

struct SimtParams {
  std::uint32_t sub_partitions = 4;
  std::uint32_t max_warps = 64;
  std::uint32_t max_threads = 2048;
  std::uint32_t program_slots = 32;
  std::uint64_t registers = 65536;
  std::uint32_t register_granule = 256;
  std::uint32_t max_registers_per_thread = 255;
  std::uint32_t base_registers = 32;
  std::uint64_t scratch_reserved_per_program = 1024;
  SchedulerPolicy scheduler = SchedulerPolicy::gto;
  std::uint32_t issue_chunk = 8;
  std::array<UnitTiming, kUnitCount> units{};
  std::uint32_t shuffle_latency = 24;
  std::uint32_t barrier_latency = 20;
  std::uint32_t mbarrier_latency = 10;
  std::uint32_t load_use_latency = 2;
  std::uint32_t max_outstanding_requests = 512;
  std::uint32_t requests_per_cycle = 1;
  std::uint32_t vector_bytes = 16;
  AsyncCopyEngine async_copy = AsyncCopyEngine::tma;
  std::uint32_t lookahead = 32;
  std::uint32_t tma_box_rows = 256;
  double program_launch_cycles = 0;
  WgmmaPause wgmma_paused_by = WgmmaPause::none;

  const UnitTiming& unit(Unit u) const { return units[static_cast<int>(u)]; }
};

/// The `core.sm` section.
ParamSchema simt_sm_schema();
/// Read and cross-check the section; ConfigError names the key.
SimtParams read_simt_params(const ParamValues& sm);

}  // namespace tilesim::simt

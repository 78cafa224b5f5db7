#include "arch/simt/simt_params.hpp"

#include "sim/error.hpp"

namespace tilesim::simt {

const char* unit_name(Unit u) {
  switch (u) {
    case Unit::fp32: return "fp32";
    case Unit::fp16: return "fp16";
    case Unit::int32: return "int";
    case Unit::sfu: return "sfu";
    case Unit::fp64: return "fp64";
    case Unit::uniform: return "uniform";
    case Unit::lsu: return "lsu";
    case Unit::tensor: return "tensor";
    case Unit::count_: break;
  }
  return "?";
}

namespace {
struct UnitDefaults {
  Unit unit;
  int lanes;
  int latency;
  const char* what;
};
// Defaults: an H100-like sub-partition (Hopper tuning guide / whitepaper: 32 FP32, 16 INT32, 16 FP64,
// 4 SFU lanes per sub-partition; latencies from Accel-Sim's SM90_H100 trace.config). Presets override.
const UnitDefaults kUnitDefaults[] = {
    {Unit::fp32, 32, 4, "FP32 pipe"},
    {Unit::fp16, 32, 6, "packed 16-bit pipe (lanes of 2-wide results)"},
    {Unit::int32, 16, 4, "INT32 pipe"},
    {Unit::sfu, 4, 23, "special-function pipe (MUFU)"},
    {Unit::fp64, 16, 8, "FP64 pipe"},
    {Unit::uniform, 32, 4, "uniform (scalar) datapath"},
    {Unit::lsu, 8, 4, "load/store issue (address generation, shuffles)"},
};
}  // namespace

ParamSchema simt_sm_schema() {
  ParamSchema s;
  s.integer("sub_partitions", 4, "processing blocks per SM, each with a warp scheduler and its own pipes", 1, 16)
      .integer("max_warps", 64, "resident warps per SM", 1)
      .integer("max_threads", 2048, "resident threads per SM", 1)
      .integer("program_slots", 32, "resident programs (CTAs) per SM", 1)
      .integer("registers", 65536, "32-bit registers per SM (256 KiB register file)", 1)
      .integer("register_granule", 256, "registers are allocated per warp in multiples of this", 1)
      .integer("max_registers_per_thread", 255, "largest per-thread register allocation", 1)
      .integer("base_registers", 32,
               "per-thread registers a lowered program needs besides its tiles (addresses, indices, predicates)", 0)
      .quantity("scratch_reserved_per_program", UnitKind::size, "1KiB", "scratch the driver reserves per program")
      .choice("scheduler", "gto", {"gto", "lrr"},
              "warp scheduler: gto = greedy-then-oldest, lrr = loose round robin")
      .integer("issue_chunk", 8,
               "warp instructions of one tile op a warp issues back to back before the scheduler picks again "
               "(1 = exact per-instruction interleaving; larger is faster to simulate)",
               1, 1024);
  for (const auto& d : kUnitDefaults) {
    const std::string n = unit_name(d.unit);
    // Real, not integer: GA10x/AD10x and Turing SMs have 2 FP64 units, half a lane per sub-partition.
    s.real(n + "_lanes", d.lanes,
           std::string("lanes of the ") + d.what +
               " per sub-partition (32 = one warp instruction per cycle; 0.5 = one every 64 cycles)",
           0.0625, 64);
    s.integer(n + "_latency", d.latency, std::string("latency of the ") + d.what + " (cycles)", 1);
  }
  s.integer("shuffle_latency", 24, "latency of a warp shuffle (cycles)", 1)
      .integer("barrier_latency", 20, "from the last warp's arrival at a barrier to the release of all (cycles)", 0)
      .integer("mbarrier_latency", 10,
               "from a completion (copy done, stage full/free) to the waiting warp seeing it (cycles)", 0)
      .integer("load_use_latency", 2,
               "from a load's data reaching the SM (L1 or shared memory answer) to a dependent instruction's issue: "
               "register write-back (cycles)", 0)
      .integer("max_outstanding_requests", 512, "memory requests the SM may have in flight (MSHR-like limit)", 1)
      .integer("requests_per_cycle", 1, "memory requests (one per 128 B line) the SM sends per cycle", 1)
      .integer("vector_bytes", 16, "widest per-thread global/shared access (LDG.128: 16 bytes)", 1)
      .choice("async_copy", "tma", {"tma", "cp_async"},
              "how copy_async runs: tma = one bulk tensor copy per tile (Hopper), cp_async = per-thread 16-byte "
              "asynchronous copies (Ampere LDGSTS)")
      .integer("lookahead", 32,
               "micro-ops a warp group's front end expands ahead of its slowest warp (instruction buffer)", 4)
      .integer("tma_box_rows", 256, "largest box height of one TMA command (rows)", 1)
      .quantity("program_launch", UnitKind::cycles, "0",
                "cycles from a program's arrival at the SM to its first instruction (CTA launch)")
      .choice("wgmma_paused_by", "none", {"none", "sfu", "issue"},
              "what the warp-group tensor pipe (wgmma) pauses for, the other work going first: none; sfu = "
              "while any sub-partition's special-function pipe (MUFU) works; issue = for every cycle a "
              "sub-partition dispatches another instruction on the vector register file (uniform-datapath "
              "instructions do not pause it)");
  return s;
}

SimtParams read_simt_params(const ParamValues& p) {
  SimtParams s;
  s.sub_partitions = static_cast<std::uint32_t>(p.integer("sub_partitions"));
  s.max_warps = static_cast<std::uint32_t>(p.integer("max_warps"));
  s.max_threads = static_cast<std::uint32_t>(p.integer("max_threads"));
  s.program_slots = static_cast<std::uint32_t>(p.integer("program_slots"));
  s.registers = static_cast<std::uint64_t>(p.integer("registers"));
  s.register_granule = static_cast<std::uint32_t>(p.integer("register_granule"));
  s.max_registers_per_thread = static_cast<std::uint32_t>(p.integer("max_registers_per_thread"));
  s.base_registers = static_cast<std::uint32_t>(p.integer("base_registers"));
  s.scratch_reserved_per_program = p.bytes("scratch_reserved_per_program");
  s.scheduler = p.string("scheduler") == "lrr" ? SchedulerPolicy::lrr : SchedulerPolicy::gto;
  s.issue_chunk = static_cast<std::uint32_t>(p.integer("issue_chunk"));
  for (const auto& d : kUnitDefaults) {
    const std::string n = unit_name(d.unit);
    UnitTiming& t = s.units[static_cast<int>(d.unit)];
    t.interval = 32.0 / p.real(n + "_lanes");
    t.latency = static_cast<std::uint32_t>(p.integer(n + "_latency"));
  }
  // The tensor pipe's timing comes from the tensor unit's plan per instruction, not from here.
  s.units[static_cast<int>(Unit::tensor)] = {1, 1};
  s.shuffle_latency = static_cast<std::uint32_t>(p.integer("shuffle_latency"));
  s.barrier_latency = static_cast<std::uint32_t>(p.integer("barrier_latency"));
  s.mbarrier_latency = static_cast<std::uint32_t>(p.integer("mbarrier_latency"));
  s.load_use_latency = static_cast<std::uint32_t>(p.integer("load_use_latency"));
  s.max_outstanding_requests = static_cast<std::uint32_t>(p.integer("max_outstanding_requests"));
  s.requests_per_cycle = static_cast<std::uint32_t>(p.integer("requests_per_cycle"));
  s.vector_bytes = static_cast<std::uint32_t>(p.integer("vector_bytes"));
  s.async_copy = p.string("async_copy") == "cp_async" ? AsyncCopyEngine::cp_async : AsyncCopyEngine::tma;
  s.lookahead = static_cast<std::uint32_t>(p.integer("lookahead"));
  s.tma_box_rows = static_cast<std::uint32_t>(p.integer("tma_box_rows"));
  s.program_launch_cycles = p.quantity("program_launch");
  {
    const std::string w = p.string("wgmma_paused_by");
    s.wgmma_paused_by = w == "sfu" ? WgmmaPause::sfu : w == "issue" ? WgmmaPause::issue : WgmmaPause::none;
  }
  if (s.max_warps * 32 < s.max_threads)
    throw ConfigError("core.sm.max_threads: more threads than max_warps x 32");
  if (s.vector_bytes & (s.vector_bytes - 1)) throw ConfigError("core.sm.vector_bytes: must be a power of two");
  return s;
}

}  // namespace tilesim::simt

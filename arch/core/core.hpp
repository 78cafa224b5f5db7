// The Core interface (DESIGN.md §6): a core accepts program instances from the grid dispatcher while its
// resources allow, runs them, and reports each completion. What a program needs (its footprint) comes
// from the core kind's lowering of the kernel; what a core offers (its resources) is static. The
// dispatcher computes occupancy from the two and never sends a program that does not fit.
//
// Messages: dispatcher -> core `ProgramLaunch` on the core's `launch` port; core -> dispatcher
// `ProgramDone` on its `done` port.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "arch/core/launch.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim::core {

/// One program instance (a CTA) sent to a core.
struct ProgramLaunch {
  std::uint32_t launch = 0;                 // index of the KernelLaunch in the run's launch list
  std::int64_t program = 0;                 // linear program index (axis 0 fastest)
  std::array<std::int64_t, 3> coord{};      // program_id per axis
  std::int64_t cluster = 0;                 // linear cluster index
  std::uint32_t cluster_rank = 0;           // rank within the cluster (axis 0 fastest)
  std::vector<std::uint32_t> cluster_cores; // core of every rank of the cluster (DSMEM addressing)
};

/// What a program did while it was resident, reported with its completion so that the dispatcher can sum
/// a kernel's activity over all cores (the per-core detail stays in each core's own stats). The entries
/// follow the core kind's ActivityLayout.
struct ProgramActivity {
  double flops = 0;                // tensor/matrix FLOPs
  double instructions = 0;         // instructions issued (core-kind units: warp instructions, bundles)
  std::vector<double> busy;        // busy cycles per unit (ActivityLayout::units)
  std::vector<double> stalls;      // issue-slot cycles per reason (ActivityLayout::stalls)
};

/// Names and capacities of a core kind's ProgramActivity entries.
struct ActivityLayout {
  struct Unit {
    std::string name;
    double per_cycle = 1;  // busy cycles the unit can accumulate per core cycle (e.g. 4 sub-partitions)
  };
  std::vector<Unit> units;
  std::vector<std::string> stalls;   // the first is "issued" (a slot used), the rest are reasons a slot went unused
  double slots_per_cycle = 1;        // issue slots per core cycle (stall entries sum to at most this)
  std::vector<std::string> memory_stalls;  // reasons that mean waiting for data (for the bound)
};

struct ProgramDone {
  std::uint32_t core = 0;
  std::uint32_t launch = 0;
  std::int64_t program = 0;
  ProgramActivity activity;
  // A program may hand back its core resources (slot, registers, scratch) before it completes: its warps
  // have exited and only stores of register data are in flight, as a GPU frees a CTA's resources once its
  // warps exit. It then reports twice: releases without completes, later completes (with its activity)
  // without releases. The kernel ends when every program has completed.
  bool releases = true;
  bool completes = true;
};

/// What one core offers to resident programs (static).
struct CoreResources {
  std::uint64_t registers = 65536;        // 32-bit registers
  std::uint32_t register_granule = 256;   // registers are allocated per warp in multiples of this
  std::uint64_t scratch_bytes = 228 * 1024;
  std::uint32_t scratch_granule = 128;    // scratch is allocated in multiples of this
  std::uint64_t scratch_reserved_per_program = 1024;  // driver-reserved SMEM per CTA (sm_80+: 1 KiB)
  std::uint32_t threads = 2048;
  std::uint32_t program_slots = 32;       // resident CTAs
  std::uint32_t warp_size = 32;
};

/// What one program needs (from the lowering).
struct ProgramFootprint {
  std::uint32_t threads = 128;
  std::uint32_t registers_per_thread = 32;  // before allocation rounding (max over the program's warps)
  std::uint64_t registers = 0;               // per program, after per-warp rounding (0: threads * per-thread)
  std::uint64_t scratch_bytes = 0;
};

/// Why a core holds at most a given number of programs.
struct Occupancy {
  std::uint32_t programs = 0;  // resident programs per core (0: the program does not fit at all)
  std::string limiter;         // "registers", "scratch", "threads", "slots"
  std::uint64_t registers_per_program = 0;
  std::uint64_t scratch_per_program = 0;
};

/// Programs of `fp` that fit on a core with `res`, and the resource that limits them.
Occupancy occupancy(const CoreResources& res, const ProgramFootprint& fp);

/// The base of every core kind. Subclasses implement the component (tick) and the two static queries.
class Core : public Component {
 public:
  Core(const ComponentContext& ctx, std::uint32_t index) : Component(ctx), index_(index) {}
  std::uint32_t index() const { return index_; }
  /// What the core offers (static; read by the dispatcher at build time).
  virtual CoreResources resources() const = 0;

  InPort<ProgramLaunch> launch{*this, "launch", "ProgramLaunch"};
  OutPort<ProgramDone> done{*this, "done", "ProgramDone"};

 private:
  std::uint32_t index_;
};

}  // namespace tilesim::core

// The VLIW bundler of the megacore (DESIGN.md §6, docs/megacore_units.md): packs operations into bundles
// under per-bundle slot limits, exclusive functional-unit reservations and dependence latencies.
//  - list_schedule: critical-path-priority list scheduling of a straight-line block;
//  - modulo_schedule: iterative modulo scheduling (B. R. Rau, "Iterative Modulo Scheduling", MICRO-27,
//    1994) of a loop body with loop-carried dependences.
// Plain C++17, no simulation kernel.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tilesim::megacore {

enum class SlotKind : std::uint8_t { scalar, vector, vector_load, vector_store, mxu_push, mxu_pop, dma, misc };
constexpr std::size_t kSlotKinds = 8;
const char* slot_kind_name(SlotKind kind);
/// "scalar" | "vector" | ... ; ConfigError naming the value and the choices otherwise.
SlotKind parse_slot_kind(const std::string& text);

/// Slots per bundle. Default: TPU v2/v3 VLIW bundle (ARCH.md): 2 scalar, 4 vector (2 ALU + 1 load +
/// 1 store), 2 matrix (push, pop), 1 DMA / misc each.
struct SlotCounts {
  std::array<std::uint32_t, kSlotKinds> per_bundle{2, 2, 1, 1, 1, 1, 1, 1};
  std::uint32_t of(SlotKind kind) const { return per_bundle[static_cast<std::size_t>(kind)]; }
};

/// A dependence of an op on a producer `op`: issue(consumer) >= issue(producer) + latency - distance * II.
struct Dep {
  std::uint32_t op = 0;
  std::uint32_t distance = 0;  // loop-carried: iterations back (0 = same iteration)
  std::int32_t latency = -1;   // -1: the producer's latency
};

struct SchedOp {
  SlotKind slot = SlotKind::scalar;
  std::uint32_t latency = 1;      // cycles from issue until dependants may issue
  std::int32_t unit = -1;         // exclusive functional unit (e.g. MXU 0/1, DMA queue), -1 = none
  std::uint32_t unit_cycles = 1;  // cycles the unit stays reserved from issue (an MXU push of 8 rows = 8)
  std::vector<Dep> deps;
  std::string label;
};

struct Bundle {
  std::vector<std::uint32_t> ops;  // op indices, ascending
};

struct Schedule {
  std::vector<std::uint32_t> cycle_of;  // issue cycle of each op
  std::vector<Bundle> bundles;          // one per cycle 0 .. last issue cycle (stall cycles are empty)
  std::uint32_t length = 0;  // max over ops of issue + max(1, latency, unit_cycles if it holds a unit); 0 if empty
};

/// Critical-path-priority list scheduling of a straight-line block (deps with distance 0 only). `units` is
/// the number of exclusive units; every op's `unit` must be < units. Cycle-driven: each cycle, the ready
/// ops in order of decreasing height (longest latency path to the block's end; ties: lower index) take the
/// slots and units they fit.
Schedule list_schedule(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units = 0);

struct ModuloSchedule {
  std::uint32_t ii = 0, res_mii = 0, rec_mii = 0, stages = 0;
  std::vector<std::uint32_t> cycle_of;  // flat schedule time of each op in iteration 0 (min = 0)
  std::vector<Bundle> kernel;           // ii bundles (op indices; stage = cycle_of / ii)
};

/// Iterative modulo scheduling (Rau 1994): MII = max(ResMII from slots and unit reservations, RecMII from
/// loop-carried cycles); tries II = MII, MII+1, ... with a modulo reservation table and a bounded
/// eviction budget; ConfigError if no II <= max_ii works.
ModuloSchedule modulo_schedule(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units,
                               std::uint32_t max_ii);

/// ResMII alone: max over slot kinds ceil(ops of kind / slots of kind) and over units sum(unit_cycles).
std::uint32_t resource_mii(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units);
/// RecMII alone: max over dependence cycles ceil(sum latency / sum distance); 0 without loop-carried cycles.
std::uint32_t recurrence_mii(const std::vector<SchedOp>& ops);

/// For traces / debug: one line per bundle, "c12: vector[add.3] mxu_push[push.0]" (ops without a label
/// print as "op<index>").
std::vector<std::string> format_bundles(const std::vector<SchedOp>& ops, const std::vector<Bundle>& bundles);

}  // namespace tilesim::megacore

// The `gpu` system kind: the memory hierarchy of arch/memory (memory_sections / build_memory_system) with
// one SIMT SM (sm.hpp) per core and a grid dispatcher, running a kernel of the workload library
// (workloads/) on it. Sections: the memory's, `core.sm` (simt_params.hpp), `core.tensor`
// (arch/tensor/tensor_unit.hpp), `core.dispatch` (arch/core/grid_dispatcher.hpp) and `workload`:
//
//   workload.name       a workload of the library (gemm, attention_fwd, softmax, mma, alu, launch, ...)
//   workload.scale      full (the workload's realistic defaults) | functional (its small test shape)
//   workload.values     carry values through the timed run and compare every tensor with the functional
//                       interpreter when the run ends (stats of component `values`)
//   workload.<param>    any parameter of the chosen workload (M, N, K, dtype_in, seqlen, ...); empty = default
//
// power.tensor_clock   the sustained SM clock of the device under full tensor load (power/thermal limit);
//                      the gpu case mappers run tensor-throughput rows at it (the simulation itself runs at
//                      chip.core_clock: there is no power model)
//
// The workload section also accepts the keys of the memory_probe system's workload (a preset may carry
// both systems' settings); they are not used here.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "arch/core/launch.hpp"
#include "isa/interpreter.hpp"
#include "sim/clock_domain.hpp"
#include "sim/component.hpp"
#include "sim/params.hpp"

namespace tilesim::simt {

/// The `workload` section of the gpu system.
ParamSchema gpu_workload_schema();
/// The `power` section: device facts about clocks under load (read by the validation case mappers).
ParamSchema gpu_power_schema();

/// At the end of a run that carried values, runs the functional interpreter on the same inputs and
/// compares every global tensor with the timed run's, bit for bit. Never ticked.
class ValueCheck final : public Component {
 public:
  struct Spec {
    std::shared_ptr<const core::KernelLaunch> launch;
    isa::Buffers inputs;
    isa::SymbolValues scalars;
    isa::InterpreterOptions interpreter;
  };
  ValueCheck(const ComponentContext& ctx, Spec spec);
  bool tick(Cycle) override { return false; }
  void finish() override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

 private:
  Spec spec_;
  std::string first_mismatch_;
  Counter& st_tensors_;
  Counter& st_elements_;
  Counter& st_mismatches_;
};

/// The workload kernel of a run: the library workload the `workload` section names, built at its scale and
/// bound to device addresses, with what the value check needs when the run carries values. Shared by every
/// system kind that runs a workload kernel (gpu, megacore).
struct WorkloadRun {
  std::shared_ptr<const core::KernelLaunch> launch;
  bool values = false;     // workload.values: carry values and check them at the end
  ValueCheck::Spec check;  // the inputs and interpreter settings to check against (when values)
};
WorkloadRun bind_workload(const ParamValues& workload_section);

/// Adds the `values` component (ValueCheck) when `run` carries values; nothing otherwise.
void add_value_check(Simulator& sim, ClockDomain& clock, const WorkloadRun& run);

}  // namespace tilesim::simt

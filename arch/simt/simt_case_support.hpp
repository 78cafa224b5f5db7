// Helpers shared by the SIMT GPU's case mappers (simt_case_mappers.cpp: mma, alu, gemm, attention,
// softmax, launch; simt_memory_case_mappers.cpp: pchase and stream on the SM).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "validation/case_mapper.hpp"

namespace tilesim::validation::simt_cases {

inline constexpr const char* kClockKey = "chip.core_clock";

/// The SM layer (arch/presets/<layer>.yaml) for a device preset, or "" when the SIMT model has none.
std::string core_layer(const std::string& preset);
/// Volta rows have no device preset (no memory hierarchy was built for them): their SM layer runs alone,
/// on the memory defaults, which register-only microbenchmarks do not touch.
bool layer_alone(const ReferenceRow& row);
/// The runnable base of a gpu case running `workload` (device preset + SM layer, system=gpu), or why there
/// is none.
MapResult gpu_case(const ReferenceRow& row, const std::string& workload);
/// A number from the layered configuration of the case's presets (e.g. chip.cores); nullopt if absent.
std::optional<double> preset_value(const ReferenceRow& row, const std::string& dotted);
/// As preset_value; ConfigError naming the row when absent.
double preset_number(const ReferenceRow& row, const std::string& dotted);
/// Tensor-throughput rows run at the device's sustained clock under tensor load (power.tensor_clock in its
/// preset, with the measurement it comes from) when the preset states one: the simulator has no power
/// model, and power-limited parts do not hold their boost clock under dense tensor work.
void use_tensor_clock(const ReferenceRow& row, SimCase& c);
/// Adds `--set workload.<key>=<value>`.
void set(SimCase& c, const std::string& key, const std::string& value);
/// Reference-vocabulary dtype names to the ISA's.
std::optional<std::string> isa_dtype(const std::string& d);
/// Seconds of kernel scope `workload`; nullopt when absent or not positive.
std::optional<double> kernel_time(const nlohmann::json& stats, const std::string& workload);
/// Number of SM components (sm0, sm1, ...) in the stats.
double sm_count(const nlohmann::json& stats);

}  // namespace tilesim::validation::simt_cases

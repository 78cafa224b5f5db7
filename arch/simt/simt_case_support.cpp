#include "arch/simt/simt_case_support.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "sim/units.hpp"

namespace tilesim::validation::simt_cases {

namespace fs = std::filesystem;

std::string core_layer(const std::string& preset) {
  auto starts = [&](const char* p) { return preset.rfind(p, 0) == 0; };
  if (starts("a100")) return "sm80_core";
  if (starts("h100") || starts("h800") || starts("h200")) return "sm90_core";
  if (starts("titan_v") || starts("v100")) return "sm70_core";
  if (starts("rtx4090") || starts("l40")) return "sm89_core";
  if (starts("rtx2070")) return "sm75_core";
  if (starts("b200")) return "sm100_core";
  return "";
}

namespace {
/// Whether preset `name` already merges `layer` through its `inherits` chain (the Volta, Turing and Ada
/// device presets inherit sm70_core, sm75_core, sm89_core): layering it again on top would undo the device's own chip settings (80 SMs, clock).
bool inherits_layer(const std::string& name, const std::string& layer) {
  ConfigTree t;
  t.merge_file(find_preset(name));
  const std::string layer_path = fs::weakly_canonical(find_preset(layer)).string();
  const auto& merged = t.merged_files();
  return std::find(merged.begin(), merged.end(), layer_path) != merged.end();
}
/// The presets a row's case merges, in order: the layer alone, the device preset (when it already
/// inherits its layer), or the device preset with its layer on top.
std::vector<std::string> case_presets(const ReferenceRow& row);
}  // namespace

bool layer_alone(const ReferenceRow& row) {
  if (core_layer(row.preset) != "sm70_core") return false;
  try {
    find_preset(row.preset);
    return false;
  } catch (const ConfigError&) {
    return true;
  }
}

namespace {
std::vector<std::string> case_presets(const ReferenceRow& row) {
  const std::string layer = core_layer(row.preset);
  if (layer_alone(row)) return {layer};
  if (inherits_layer(row.preset, layer)) return {row.preset};
  return {row.preset, layer};
}
}  // namespace

MapResult gpu_case(const ReferenceRow& row, const std::string& workload) {
  const std::string layer = core_layer(row.preset);
  if (layer.empty())
    return cat("no SIMT SM layer for preset '", row.preset,
               "' (the gpu system models Volta titan_v/v100, Turing rtx2070, Ampere a100_*, Ada rtx4090/l40, "
               "Hopper h100_*/h800_*/h200 and Blackwell b200)");
  if (!layer_alone(row)) {
    try {
      find_preset(row.preset);
    } catch (const ConfigError&) {
      return cat("no preset '", row.preset, "'");
    }
  }
  SimCase c;
  c.presets = case_presets(row);
  c.overrides = {"system=gpu", cat("workload.name=", workload), "workload.scale=full"};
  c.clock_key = kClockKey;
  return c;
}

void use_tensor_clock(const ReferenceRow& row, SimCase& c) {
  const auto f = preset_value(row, "power.tensor_clock");
  if (f && *f > 0) c.overrides.push_back(cat(kClockKey, "=", format_number(*f / 1e6, 6), "MHz"));
}

void set(SimCase& c, const std::string& key, const std::string& value) {
  c.overrides.push_back(cat("workload.", key, "=", value));
}

std::optional<double> preset_value(const ReferenceRow& row, const std::string& dotted) {
  ConfigTree t;
  for (const auto& preset : case_presets(row)) t.merge_file(find_preset(preset));
  const YAML::Node n = t.find(dotted);
  if (!n) return std::nullopt;
  return parse_any_quantity(n.Scalar(), dotted).value;
}

double preset_number(const ReferenceRow& row, const std::string& dotted) {
  const auto v = preset_value(row, dotted);
  if (!v) throw ConfigError(cat(row.location(), ": preset ", row.preset, " has no ", dotted));
  return *v;
}

std::optional<std::string> isa_dtype(const std::string& d) {
  if (d == "f16" || d == "bf16" || d == "tf32" || d == "f32" || d == "f64" || d == "i8" || d == "i32") return d;
  if (d == "fp64") return std::string("f64");
  if (d == "e4m3" || d == "f8e4m3" || d == "fp8") return std::string("f8e4m3");
  if (d == "e5m2" || d == "f8e5m2") return std::string("f8e5m2");
  if (d == "s8" || d == "int8") return std::string("i8");
  if (d == "e2m1" || d == "f4e2m1" || d == "fp4") return std::string("f4e2m1");
  return std::nullopt;
}

std::optional<double> kernel_time(const nlohmann::json& stats, const std::string& workload) {
  auto t = kernel_seconds(stats, workload);
  if (!t || *t <= 0) return std::nullopt;
  return t;
}

double sm_count(const nlohmann::json& stats) {
  double n = 0;
  if (!stats.contains("scopes")) return 0;
  for (const auto& scope : stats["scopes"]) {
    if (scope.value("scope", "") != "total") continue;
    for (const auto& comp : scope["components"]) n += comp.value("kind", "") == "simt_sm" ? 1 : 0;
  }
  return n;
}

}  // namespace tilesim::validation::simt_cases

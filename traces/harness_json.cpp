#include "traces/harness_json.hpp"

#include "sim/error.hpp"
#include "traces/json_input.hpp"

namespace tilesim::traces {
namespace {

std::string param_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return v.dump();  // numbers and booleans in their JSON spelling
}

}  // namespace

bool is_harness_json(const nlohmann::json& doc) {
  return doc.is_object() && doc.contains("schema") && doc["schema"] == kHarnessSchemaName;
}

HarnessResult read_harness_json(const std::string& path) { return harness_from_json(read_json_file(path), path); }

HarnessResult harness_from_json(const nlohmann::json& doc, const std::string& file) {
  if (!is_harness_json(doc))
    throw InputError(cat(file, ": not a harness result (expected \"schema\": \"", kHarnessSchemaName, "\")"));
  const double version = json_number(doc, "schema_version", file, "");
  if (version != kHarnessSchemaVersion)
    throw InputError(cat(file, ": schema_version ", version, " is not supported (this tilesim reads version ",
                         kHarnessSchemaVersion, ")"));
  HarnessResult out;
  out.file = file;
  if (doc.contains("preset") && doc["preset"].is_string()) out.preset = doc["preset"].get<std::string>();
  const auto& dev = json_member(doc, "device", file, "");
  out.device.name = json_string(dev, "name", file, "device");
  out.device.compute_capability = json_string(dev, "compute_capability", file, "device");
  out.device.sm_count = static_cast<int>(json_number(dev, "sm_count", file, "device"));
  out.device.sm_clock_mhz_observed = json_number(dev, "sm_clock_mhz_observed", file, "device");
  if (out.device.sm_clock_mhz_observed <= 0)
    throw InputError(cat(file, ": device.sm_clock_mhz_observed must be positive, got ", out.device.sm_clock_mhz_observed));
  if (dev.contains("sm_clock_mhz_max")) out.device.sm_clock_mhz_max = json_number(dev, "sm_clock_mhz_max", file, "device");
  out.device.driver_version = json_string(dev, "driver_version", file, "device");
  out.device.runtime_version = json_string(dev, "runtime_version", file, "device");

  const auto& cases = json_member(doc, "cases", file, "");
  if (!cases.is_array()) throw InputError(cat(file, ": cases: expected an array"));
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string path = cat("cases[", i, "]");
    const auto& c = cases[i];
    HarnessCase hc;
    hc.id = json_string(c, "id", file, path);
    hc.workload = json_string(c, "workload", file, path);
    const auto& params = json_member(c, "params", file, path);
    if (!params.is_object()) throw InputError(cat(file, ": ", path, ".params: expected an object of key: value"));
    for (const auto& [k, v] : params.items()) hc.params[k] = param_text(v);
    hc.metric = json_string(c, "metric", file, path);
    hc.value = json_number(c, "value", file, path);
    hc.unit = json_string(c, "unit", file, path);
    if (c.contains("kernel")) hc.kernel = json_string(c, "kernel", file, path);
    if (c.contains("kernel_ns")) hc.kernel_ns = json_number(c, "kernel_ns", file, path);
    out.cases.push_back(std::move(hc));
  }
  const auto read_list = [&](const char* key, const char* reason_key, std::vector<HarnessSkipped>& into) {
    if (!doc.contains(key)) return;
    const auto& list = doc[key];
    if (!list.is_array()) throw InputError(cat(file, ": ", key, ": expected an array"));
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string path = cat(key, "[", i, "]");
      into.push_back({json_string(list[i], "id", file, path), json_string(list[i], reason_key, file, path)});
    }
  };
  read_list("skipped", "reason", out.skipped);
  read_list("failed", "error", out.failed);
  return out;
}

MeasuredTrace harness_kernels(const HarnessResult& result) {
  MeasuredTrace t;
  t.file = result.file;
  t.format = "harness";
  t.devices["0"] = result.device.name;
  for (const auto& c : result.cases) {
    if (c.kernel.empty() || !c.kernel_ns) continue;
    MeasuredKernel k;
    k.name = c.kernel;
    k.duration_ns = c.kernel_ns;
    k.device = "0";
    k.metrics[c.metric] = {c.value, c.unit};
    t.kernels.push_back(std::move(k));
  }
  return t;
}

}  // namespace tilesim::traces

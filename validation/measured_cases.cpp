#include "validation/measured_cases.hpp"

#include <cctype>

#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "traces/harness_json.hpp"
#include "traces/import.hpp"
#include "validation/reference_csv.hpp"

namespace tilesim::validation {
namespace {

std::string lower(const std::string& s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

struct DeviceRule {
  std::vector<const char*> all_of;   // lower-case substrings that must all appear
  std::vector<const char*> none_of;  // lower-case substrings that must not appear
  const char* preset;
};

// Most specific first. Names as cudaGetDeviceProperties reports them.
const DeviceRule kDeviceRules[] = {
    {{"h100", "pcie"}, {}, "h100_pcie"},
    {{"h100"}, {"pcie", "nvl"}, "h100_sxm5"},  // "NVIDIA H100 80GB HBM3" is the SXM5 part
    {{"h800", "pcie"}, {}, "h800_pcie"},
    {{"h800"}, {"pcie"}, "h800_sxm5"},
    {{"h200"}, {"nvl"}, "h200"},
    {{"b200"}, {}, "b200"},
    {{"a100", "sxm4", "40gb"}, {}, "a100_40gb"},
    {{"a100", "sxm4"}, {}, "a100_sxm4"},
    {{"a100", "80gb", "pcie"}, {}, "a100_pcie"},
    {{"v100"}, {}, "v100"},
    {{"titan v"}, {}, "titan_v"},
    {{"rtx 4090"}, {}, "rtx4090"},
    {{"rtx 2070"}, {}, "rtx2070"},
    {{"l40"}, {"l40s"}, "l40"},
};

MeasuredCases from_harness(const std::string& path, const std::string& preset_override) {
  const traces::HarnessResult h = traces::read_harness_json(path);
  const auto inferred = preset_for_device(h.device.name);
  std::string preset;
  if (!preset_override.empty()) {
    if (inferred && *inferred != preset_override)
      throw ConfigError(cat(path, ": device '", h.device.name, "' is modelled by preset ", *inferred, ", not ",
                            preset_override, "; refusing to compare measurements of one device with a model of another"));
    preset = preset_override;
  } else if (inferred) {
    preset = *inferred;
  } else {
    throw ConfigError(cat(path, ": no preset is known to model device '", h.device.name,
                          "'; pass --preset NAME to say which one does"));
  }
  MeasuredCases out;
  out.notes.push_back(cat(path, ": ", h.device.name, " (cc ", h.device.compute_capability, ", ", h.device.sm_count,
                          " SMs), SM clock observed ", format_number(h.device.sm_clock_mhz_observed, 4),
                          " MHz, driver ", h.device.driver_version, ", runtime ", h.device.runtime_version,
                          " -> preset ", preset));
  for (const auto& s : h.skipped) out.notes.push_back(cat(path, ": harness skipped ", s.id, ": ", s.reason));
  for (const auto& f : h.failed) out.notes.push_back(cat(path, ": harness failed ", f.id, " (not measured): ", f.reason));
  int index = 0;
  for (const auto& c : h.cases) {
    ReferenceRow row;
    row.id = c.id;
    row.device = h.device.name;
    row.preset = preset;
    row.workload = c.workload;
    row.params = c.params;
    for (const auto& [k, v] : c.params) row.params_text += (row.params_text.empty() ? "" : ";") + k + "=" + v;
    row.metric = c.metric;
    row.value = c.value;
    row.unit = c.unit;
    row.clock_mhz = h.device.sm_clock_mhz_observed;
    row.trust = "measured";
    row.source_url = path;
    row.file = path;
    row.line = ++index;  // harness cases are numbered, not lines; location() reads "file:N"
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace

std::optional<std::string> preset_for_device(const std::string& device_name) {
  const std::string name = lower(device_name);
  for (const auto& rule : kDeviceRules) {
    bool match = true;
    for (const char* s : rule.all_of) match = match && name.find(s) != std::string::npos;
    for (const char* s : rule.none_of) match = match && name.find(s) == std::string::npos;
    if (match) return std::string(rule.preset);
  }
  return std::nullopt;
}

MeasuredCases load_measured_cases(const std::string& path, const std::string& preset_override) {
  const traces::TraceFormat format = traces::detect_format(path);
  if (format == traces::TraceFormat::reference_csv) {
    if (!preset_override.empty())
      throw ConfigError(cat(path, ": --preset applies to harness JSON; a reference CSV names the preset of every row"));
    return MeasuredCases{read_reference_csv(path), {}};
  }
  if (format == traces::TraceFormat::harness_json) return from_harness(path, preset_override);
  if (format == traces::TraceFormat::unknown)
    throw InputError(cat(path, ": unrecognised format; validate reads reference CSVs (SCHEMA.md) and CUDA harness JSON"));
  throw InputError(cat(path, ": this is a ", traces::format_name(format),
                       " (kernel timings), not measured cases; validate reads reference CSVs and CUDA harness JSON. "
                       "Use `tilesim compare ", path, " SIMULATED` to compare kernel timings."));
}

}  // namespace tilesim::validation

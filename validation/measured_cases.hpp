// The measured cases `validate` compares against: rows of a reference CSV, or the cases of a CUDA harness
// JSON (converted into ReferenceRows on the preset that models the measured device).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "validation/case_mapper.hpp"

namespace tilesim::validation {

/// The preset that models a device as CUDA names it (cudaDeviceProp::name, nvidia-smi), e.g.
/// "NVIDIA H100 80GB HBM3" -> h100_sxm5, "NVIDIA H100 PCIe" -> h100_pcie; nullopt when unknown.
std::optional<std::string> preset_for_device(const std::string& device_name);

struct MeasuredCases {
  std::vector<ReferenceRow> rows;
  std::vector<std::string> notes;  // lines to print (harness device, clock, skipped cases)
};

/// Read a reference CSV or a harness JSON. For harness JSON the preset is `preset_override` when given
/// (a ConfigError when the device is known to be modelled by another preset), else the preset that
/// models the device (a ConfigError asking for --preset when none does). Every harness case gets the
/// observed SM clock as clock_mhz. Other formats: InputError saying what the file is.
MeasuredCases load_measured_cases(const std::string& path, const std::string& preset_override);

}  // namespace tilesim::validation

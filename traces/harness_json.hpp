// The measured JSON of the CUDA harness (validation/cuda/README.md documents the schema).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "traces/measured_trace.hpp"

namespace tilesim::traces {

inline constexpr const char* kHarnessSchemaName = "tilesim-cuda-harness";
inline constexpr int kHarnessSchemaVersion = 1;

struct HarnessDevice {
  std::string name;                 // cudaDeviceProp::name
  std::string compute_capability;   // "9.0"
  int sm_count = 0;
  double sm_clock_mhz_observed = 0;  // clock64() cycles over a timed interval
  std::optional<double> sm_clock_mhz_max;
  std::string driver_version;       // "13.0"
  std::string runtime_version;
};

struct HarnessCase {
  std::string id;
  std::string workload;  // reference vocabulary (SCHEMA.md)
  std::map<std::string, std::string> params;
  std::string metric;
  double value = 0;
  std::string unit;
  std::string kernel;               // the measured kernel's name ("" = none)
  std::optional<double> kernel_ns;  // median kernel time
};

struct HarnessSkipped {
  std::string id;
  std::string reason;
};

struct HarnessResult {
  std::string file;
  std::string preset;  // the harness's guess from the device name ("" = none); validate checks it
  HarnessDevice device;
  std::vector<HarnessCase> cases;
  std::vector<HarnessSkipped> skipped;  // cases the device cannot run
  std::vector<HarnessSkipped> failed;   // cases that raised an error on the device (reason = the error)
};

/// True when `doc` declares the harness schema (`"schema": "tilesim-cuda-harness"`).
bool is_harness_json(const nlohmann::json& doc);

/// Read and check a harness JSON file. InputError naming the file and the JSON path of the first problem
/// ("cases[2].value: expected a number, got \"fast\"").
HarnessResult read_harness_json(const std::string& path);
HarnessResult harness_from_json(const nlohmann::json& doc, const std::string& file);

/// The measured kernels of the cases that recorded one (name = kernel, duration = kernel_ns).
MeasuredTrace harness_kernels(const HarnessResult& result);

}  // namespace tilesim::traces

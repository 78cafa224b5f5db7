// One simulation from configuration layers to outputs; shared by the CLI (`tilesim run`) and Python.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/simulator.hpp"

namespace tilesim {

struct RunRequest {
  std::vector<std::string> presets;       // layered first, in order
  std::vector<std::string> config_files;  // then these
  std::vector<std::string> overrides;     // then these (key.path=value)
  std::string out_dir;                    // "" = write nothing
  std::string title;                      // report title; "" = the config's description
  bool check_only = false;                // resolve, build and init, but do not run
  std::string trace_file;                 // "" = no timeline; else Chrome trace JSON (traces/chrome_trace_writer.hpp)
  std::string trace_window;               // "A:B" cycles of the first clock or times; "" = the whole run
};

struct RunOutcome {
  nlohmann::json stats;  // as written to stats.json
  std::string stats_csv;
  std::string report;    // the human report
  RunInfo info;
  std::string resolved_config;
};

/// Resolve the configuration, build, run, write outputs into out_dir (config.resolved.yaml first; then
/// stats.json, stats.csv, report.txt and run.json, each written atomically, only for a run that ended).
/// A run that fails leaves out_dir/error.txt and no stats files. Throws tilesim::Error.
RunOutcome run_simulation(const RunRequest& request);

}  // namespace tilesim

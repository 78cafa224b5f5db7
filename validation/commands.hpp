// The `tilesim validate` and `tilesim compare` subcommands (dispatched from sim/cli/main.cpp).
// Each returns the process exit code; bad input raises tilesim::Error (the CLI prints it, exit 2).
#pragma once

#include <string>
#include <vector>

namespace tilesim::validation {

/// tilesim validate FILE... [--only WORKLOAD,...] [--subset IDS_FILE] [--out DIR] [--jobs N] ...
/// Exit codes: 0 all compared or listed as not runnable; 1 the --expected gate found a regression;
/// 3 some runnable case failed to simulate or to yield its metric.
int run_validate_command(const std::vector<std::string>& args);

/// tilesim compare MEASURED SIMULATED [--by name|order]
int run_compare_command(const std::vector<std::string>& args);

}  // namespace tilesim::validation

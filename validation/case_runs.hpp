// Planning and running the simulations of measured cases: each runnable case becomes one
// `tilesim run -q -o DIR -p PRESET... --set KEY=VALUE...` process (SystemC allows one simulation per
// process); results are read back from DIR/stats.json through the workload's CaseMapper.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "validation/case_mapper.hpp"

namespace tilesim::validation {

enum class CaseStatus { planned, compared, not_runnable, failed };

const char* case_status_name(CaseStatus status);

/// What replays the memory microbenchmark rows (pchase, stream, ...): the memory probe (default), or the
/// preset's core model running them as tile programs (the "<workload>@core" mappers).
enum class FrontEnd { probe, core };

struct CaseResult {
  ReferenceRow row;
  std::string mapper;      // registry name of the mapper that planned the case (e.g. "stream@core")
  CaseStatus status = CaseStatus::planned;
  std::string reason;      // why not runnable / why it failed
  SimCase sim;             // what runs (clock override included)
  std::string clock_note;  // the clock normalisation applied, "" if none
  std::string run_dir;     // the case's `tilesim run -o` folder
  std::optional<double> simulated;
  double error_pct = 0;  // (simulated - measured) / measured * 100
};

/// Map every row onto a simulation, or say why it cannot run: preset file missing, no mapper for the
/// workload, the mapper's reason, malformed params, or a row clock the mapper cannot simulate at.
/// A row with clock_mhz whose mapper names a clock_key gets `--set clock_key=<clock_mhz>MHz` and a
/// clock_note saying what the preset had.
/// With FrontEnd::core, a workload with a core mapper ("pchase@core") uses it, and rows whose only
/// mapper drives the memory probe are not runnable.
std::vector<CaseResult> plan_cases(const std::vector<ReferenceRow>& rows, FrontEnd front_end = FrontEnd::probe);

/// Append `overrides` (KEY=VALUE, from `tilesim validate --set`) to every planned case, after the mapper's
/// own so that they win: a design-space study validates a changed configuration without editing presets.
/// ConfigError naming the override when one is not KEY=VALUE.
void apply_user_overrides(std::vector<CaseResult>& cases, const std::vector<std::string>& overrides);

struct RunSettings {
  std::string tilesim;        // the binary to run
  std::string work_dir;       // one sub-folder per case is created here
  int jobs = 1;
  double timeout_seconds = 0;  // per case; 0 = none
  std::ostream* progress = nullptr;  // a line per finished case, or nothing
};

/// Run every planned case, then extract and compare (status becomes compared or failed).
void run_cases(std::vector<CaseResult>& cases, const RunSettings& settings);

/// The `tilesim run` argument list (after the binary) for a case writing into `out_dir`.
std::vector<std::string> run_arguments(const SimCase& sim, const std::string& out_dir);

}  // namespace tilesim::validation

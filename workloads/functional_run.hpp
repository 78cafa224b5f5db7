// `tilesim run --functional <workload>`: run a workload at its small functional shape with the
// interpreter and report pass/fail against its reference.
#pragma once

#include <string>
#include <vector>

namespace tilesim::workloads {

/// `workload` is a workload name (`gemm`), a path-like name (`workloads/gemm`), or a `.tile` file that
/// replaces the workload's template (its file name names the workload: `/tmp/x/gemm.tile` runs `gemm`
/// with that kernel). `params` are `key=value` overrides of the functional defaults. Prints a short
/// report (workload, shape, run, comparison, PASS/FAIL) to stdout; with `verbose` also the parameters,
/// the instantiated kernel and the op counts. Returns 0 on PASS, 1 on FAIL, 2 on bad input (the error
/// goes to stderr).
int run_functional_command(const std::string& workload, const std::vector<std::string>& params, bool verbose);

}  // namespace tilesim::workloads

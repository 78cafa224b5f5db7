#include "workloads/functional_run.hpp"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "isa/text_printer.hpp"
#include "sim/error.hpp"
#include "workloads/workload.hpp"

namespace tilesim::workloads {

namespace {

struct Target {
  std::string name;
  std::string template_path;  // empty: the built-in template
};

/// `gemm`, `workloads/gemm`, `workloads/gemm.tile` -> gemm (built-in template);
/// an existing `<dir>/<name>.tile` -> <name> with that file as its template.
Target resolve_target(const std::string& arg) {
  namespace fs = std::filesystem;
  const fs::path path(arg);
  Target t;
  t.name = path.extension() == ".tile" ? path.stem().string() : path.filename().string();
  if (path.extension() == ".tile") {
    if (!fs::is_regular_file(path)) throw InputError(arg + ": no such .tile file");
    const fs::path builtin = fs::path(workloads_dir()) / path.filename();
    std::error_code ec;
    if (!fs::equivalent(path, builtin, ec)) t.template_path = arg;
  }
  if (t.name.empty()) throw ConfigError("'" + arg + "' does not name a workload");
  return t;
}

std::string op_counts(const isa::RunSummary& run) {
  std::string s;
  for (const isa::OpcodeInfo& info : isa::opcode_table()) {
    const int64_t n = run.count(info.id);
    if (n > 0) s += (s.empty() ? "" : ", ") + std::string(info.name) + " " + std::to_string(n);
  }
  return s.empty() ? "(none)" : s;
}

}  // namespace

int run_functional_command(const std::string& workload, const std::vector<std::string>& params, bool verbose) {
  try {
    const Target target = resolve_target(workload);
    const FunctionalResult r = run_functional(target.name, parse_param_list(params), target.template_path);
    const WorkloadBuild& b = r.build;
    std::ostringstream os;
    os << "workload  " << b.workload << " — " << find_workload(b.workload).description() << "\n";
    os << "kernel    @" << b.kernel_name << " from " << b.module.source_name << "\n";
    os << "shape     " << b.shape << "\n";
    if (verbose) os << "params    " << b.params.to_string() << "\n";
    os << "run       " << r.run.programs << " program" << (r.run.programs == 1 ? "" : "s") << ", " << r.run.tasks
       << " task" << (r.run.tasks == 1 ? "" : "s") << ", " << r.run.ops_executed << " ops in " << std::fixed
       << std::setprecision(3) << r.seconds << " s\n";
    if (verbose) os << "ops       " << op_counts(r.run) << "\n";
    std::istringstream report(r.comparison.report());
    for (std::string line; std::getline(report, line);) os << "check     " << line << "\n";
    os << (r.comparison.pass ? "PASS" : "FAIL") << "\n";
    if (verbose) {
      std::string text = isa::print_module(b.module);
      if (!text.empty() && text.back() != '\n') text += '\n';
      os << "\n" << text;
    }
    std::cout << os.str() << std::flush;
    return r.comparison.pass ? 0 : 1;
  } catch (const Error& e) {
    std::cerr << "tilesim run --functional: " << e.what() << "\n";
    return e.exit_code() == kExitInternal ? kExitInternal : kExitUsage;
  }
}

}  // namespace tilesim::workloads

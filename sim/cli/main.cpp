// `tilesim` command line: subcommands run, params, presets, script. Each has --help.
// Exit codes: 0 ok, 2 bad input/config/usage, 3 simulation failed or truncated, 70 internal error.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "python/script_runner.hpp"
#include "sim/component_registry.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/run.hpp"
#include "sim/simulator.hpp"
#include "sim/system_kind.hpp"
#include "sim/text_util.hpp"
#include "validation/commands.hpp"
#include "workloads/functional_run.hpp"

namespace po = boost::program_options;
using namespace tilesim;

namespace {

const char* const kUsage =
    "usage: tilesim <command> [options]\n"
    "\n"
    "commands:\n"
    "  run       simulate a configuration (presets and/or YAML files) and print the report\n"
    "  params    list the declared parameters of every component kind (or of one kind)\n"
    "  presets   list the architecture presets\n"
    "  script    run a Python file with the embedded `tilesim` module\n"
    "  validate  simulate measured cases (reference CSV, CUDA harness JSON) and report the error\n"
    "  compare   compare a measured kernel trace with a simulated one, kernel by kernel\n"
    "\n"
    "`tilesim <command> --help` describes each command.\n";

std::vector<std::string> command_names() {
  return {"run", "params", "presets", "script", "validate", "compare", "help"};
}

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& opts,
                        const po::positional_options_description* pos = nullptr) {
  po::variables_map vm;
  try {
    auto parser = po::command_line_parser(args).options(opts);
    if (pos) parser.positional(*pos);
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(cat(e.what(), " (see --help)"));
  }
  return vm;
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description opts("tilesim run [options]\n\nSimulate a configuration and print the report");
  opts.add_options()("help,h", "this help")(
      "preset,p", po::value<std::vector<std::string>>()->composing(), "preset name (see `tilesim presets`); repeatable, layered in order")(
      "config,c", po::value<std::vector<std::string>>()->composing(), "YAML config file; repeatable, layered after presets")(
      "set", po::value<std::vector<std::string>>()->composing(), "override: key.path=value (e.g. components.mem.latency=120ns)")(
      "out,o", po::value<std::string>(), "output folder for config.resolved.yaml, stats.json, stats.csv, report.txt")(
      "seed", po::value<std::uint64_t>(), "same as --set sim.seed=N")(
      "max-cycles", po::value<std::uint64_t>(), "same as --set sim.max_cycles=N (cycles of the first clock)")(
      "quiet,q", "do not print the report")(
      "check", "resolve the configuration, build and wire the system, then stop without simulating")(
      "trace", po::value<std::string>(), "write a timeline (Chrome trace JSON, opens in Perfetto) to this file")(
      "trace-window", po::value<std::string>(), "keep only A:B of the timeline: cycles of the first clock, or times (2us:4us)")(
      "functional", po::value<std::string>(), "run workloads/<name> (or a .tile template) at its small shape with the functional interpreter and check it against its reference (exit 0 PASS, 1 FAIL)")(
      "param", po::value<std::vector<std::string>>()->composing(), "with --functional: workload parameter key=value (e.g. M=128)")(
      "verbose,v", "with --functional: also print the parameters, op counts and the instantiated kernel");
  const auto vm = parse(args, opts);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitOk;
  }
  if (vm.count("functional"))
    return workloads::run_functional_command(vm["functional"].as<std::string>(),
                                             vm.count("param") ? vm["param"].as<std::vector<std::string>>() : std::vector<std::string>{},
                                             vm.count("verbose") > 0);
  RunRequest req;
  if (vm.count("preset")) req.presets = vm["preset"].as<std::vector<std::string>>();
  if (vm.count("config")) req.config_files = vm["config"].as<std::vector<std::string>>();
  if (vm.count("set")) req.overrides = vm["set"].as<std::vector<std::string>>();
  if (vm.count("seed")) req.overrides.push_back(cat("sim.seed=", vm["seed"].as<std::uint64_t>()));
  if (vm.count("max-cycles")) req.overrides.push_back(cat("sim.max_cycles=", vm["max-cycles"].as<std::uint64_t>()));
  if (vm.count("out")) req.out_dir = vm["out"].as<std::string>();
  req.check_only = vm.count("check") > 0;
  if (vm.count("trace")) req.trace_file = vm["trace"].as<std::string>();
  if (vm.count("trace-window")) {
    if (!vm.count("trace")) throw ConfigError("--trace-window needs --trace FILE");
    req.trace_window = vm["trace-window"].as<std::string>();
  }
  const RunOutcome out = run_simulation(req);
  if (req.check_only) {
    std::cout << out.report;
    return kExitOk;
  }
  if (!vm.count("quiet")) std::cout << out.report << std::flush;
  if (!out.info.completed) {
    std::cerr << "tilesim: run truncated at sim.max_cycles with work left; results are partial\n";
    return kExitSimFailed;
  }
  return kExitOk;
}

void print_schema(const ParamSchema& s, const std::string& description) {
  std::cout << s.kind() << (description.empty() ? "" : " — " + description) << "\n";
  if (s.decls().empty()) std::cout << "  (no parameters)\n";
  for (const auto& d : s.decls()) {
    std::string type = param_type_name(d.type);
    if (d.type == ParamType::quantity) type = unit_kind_name(d.unit);
    if (d.type == ParamType::choice) {
      type = "one of";
      for (const auto& c : d.choices) type += " " + c;
    }
    std::cout << "  " << d.name << " (" << type << ", default " << (d.default_text.empty() ? "\"\"" : d.default_text)
              << ")\n      " << d.description << "\n";
  }
}

void print_system_kind(const std::string& name) {
  const auto& e = SystemRegistry::instance().get(name, "tilesim params");
  std::cout << "system " << name << " — " << e.description << "\n";
  for (auto& [path, schema] : e.make({})->sections()) {
    schema.set_kind(path);
    std::cout << "\n";
    print_schema(schema, "");
  }
}

int cmd_params(const std::vector<std::string>& args) {
  po::options_description opts("tilesim params [KIND]\n\nList declared parameters (all kinds, or one)");
  opts.add_options()("help,h", "this help")("kind", po::value<std::string>(), "component kind, system kind, or `sim`");
  po::positional_options_description pos;
  pos.add("kind", 1);
  const auto vm = parse(args, opts, &pos);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitOk;
  }
  const auto& reg = ComponentRegistry::instance();
  if (vm.count("kind")) {
    const std::string kind = vm["kind"].as<std::string>();
    if (kind == "sim") {
      print_schema(sim_param_schema(), "run control (the `sim:` section)");
      return kExitOk;
    }
    if (SystemRegistry::instance().find(kind)) {
      print_system_kind(kind);
      return kExitOk;
    }
    const auto& e = reg.get(kind, "tilesim params");
    print_schema(e.schema(), e.description);
    return kExitOk;
  }
  print_schema(sim_param_schema(), "run control (the `sim:` section)");
  for (const auto& name : reg.names()) {
    std::cout << "\n";
    const auto* e = reg.find(name);
    print_schema(e->schema(), e->description);
  }
  for (const auto& name : SystemRegistry::instance().names()) {
    std::cout << "\n";
    print_system_kind(name);
  }
  return kExitOk;
}

int cmd_presets(const std::vector<std::string>& args) {
  po::options_description opts("tilesim presets\n\nList the architecture presets");
  opts.add_options()("help,h", "this help");
  const auto vm = parse(args, opts);
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitOk;
  }
  for (const auto& p : list_presets()) std::cout << p.name << "\t" << p.description << "\t" << p.path << "\n";
  return kExitOk;
}

int cmd_script(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << "tilesim script FILE.py [ARGS...]\n\nRun a Python file in the embedded interpreter; `import "
                 "tilesim` gives the simulator's module. ARGS become sys.argv[1:].\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  return run_python_script(args[0], std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace

int main(int argc, char** argv) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::string command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "run") return cmd_run(rest);
    if (command == "params") return cmd_params(rest);
    if (command == "presets") return cmd_presets(rest);
    if (command == "script") return cmd_script(rest);
    if (command == "validate") return validation::run_validate_command(rest);
    if (command == "compare") return validation::run_compare_command(rest);
    std::cerr << "tilesim: unknown command '" << command << "'" << did_you_mean(command, command_names()) << "\n\n"
              << kUsage;
    return kExitUsage;
  } catch (const Error& e) {
    std::cerr << "tilesim: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "tilesim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

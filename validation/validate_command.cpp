// `tilesim validate`: simulate measured cases and report the error (DESIGN.md §9, validation/README.md).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include <boost/program_options.hpp>

#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "validation/case_runs.hpp"
#include "validation/commands.hpp"
#include "validation/error_gate.hpp"
#include "validation/error_report.hpp"
#include "validation/measured_cases.hpp"
#include "validation/subprocess.hpp"

namespace fs = std::filesystem;
namespace po = boost::program_options;

namespace tilesim::validation {
namespace {

const char* const kPlotScript = TILESIM_SOURCE_DIR "/validation/plot_validation.py";
const char* const kPython = "/usr/bin/python3";  // the system interpreter, which has matplotlib (scripts/setup.sh)

/// Ids listed in a subset file: one per line, `#` starts a comment.
std::vector<std::pair<std::string, int>> read_subset(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(cat(path, ": cannot open"));
  std::vector<std::pair<std::string, int>> ids;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    const auto hash = line.find('#');
    const std::string id(trim(line.substr(0, hash)));
    if (!id.empty()) ids.emplace_back(id, n);
  }
  return ids;
}

std::vector<ReferenceRow> select_rows(std::vector<ReferenceRow> rows, const std::string& only,
                                      const std::string& subset_file) {
  if (!only.empty()) {
    std::set<std::string> workloads;
    for (const auto& w : split(only, ','))
      if (!trim(w).empty()) workloads.insert(std::string(trim(w)));
    std::set<std::string> present;
    for (const auto& r : rows) present.insert(r.workload);
    for (const auto& w : workloads)
      if (!present.count(w))
        throw ConfigError(cat("--only: no row has workload '", w, "'",
                              did_you_mean(w, std::vector<std::string>(present.begin(), present.end()))));
    std::vector<ReferenceRow> kept;
    for (auto& r : rows)
      if (workloads.count(r.workload)) kept.push_back(std::move(r));
    rows = std::move(kept);
  }
  if (!subset_file.empty()) {
    std::map<std::string, int> wanted;
    const auto listed = read_subset(subset_file);
    if (listed.empty()) throw InputError(cat(subset_file, ": lists no row ids (one id per line, # comments)"));
    for (const auto& [id, line] : listed) {
      bool found = false;
      for (const auto& r : rows) found = found || r.id == id;
      if (!found) throw InputError(cat(subset_file, ":", line, ":1: id '", id, "' is not among the input rows"));
      wanted.emplace(id, line);
    }
    std::vector<ReferenceRow> kept;
    for (auto& r : rows)
      if (wanted.count(r.id)) kept.push_back(std::move(r));
    rows = std::move(kept);
  }
  return rows;
}

void print_dry_run(std::ostream& out, const std::vector<CaseResult>& cases, const std::string& tilesim) {
  for (const auto& c : cases) {
    if (c.status != CaseStatus::planned) {
      out << c.row.id << ": not runnable: " << c.reason << "\n";
      continue;
    }
    out << c.row.id << ": " << tilesim;
    for (const auto& a : run_arguments(c.sim, "<dir>")) out << " " << a;
    out << "\n";
    if (!c.clock_note.empty()) out << "    clock: " << c.clock_note << "\n";
  }
}

bool make_plot(const std::string& csv, const std::string& png, std::ostream& err) {
  ChildCommand cmd;
  cmd.argv = {kPython, kPlotScript, csv, png};
  cmd.stderr_file = png + ".log";
  const auto r = run_children({cmd}, 1, 300)[0];
  if (r.start_error.empty() && r.exit_code == 0 && fs::exists(png)) {
    fs::remove(cmd.stderr_file);
    return true;
  }
  err << "validate: warning: the scatter plot was not made (" << kPython << " " << kPlotScript << "): "
      << (r.start_error.empty() ? tail_lines(cmd.stderr_file, 3) : r.start_error) << "\n";
  return false;
}

}  // namespace

int run_validate_command(const std::vector<std::string>& args) {
  po::options_description opts(
      "tilesim validate FILE... [options]\n\n"
      "Simulate every measured case of FILE (a reference CSV, ../shared/reference/SCHEMA.md, or a CUDA harness\n"
      "JSON, validation/cuda/README.md) on its preset, one `tilesim run` process per case, and report\n"
      "measured vs simulated with the error per row, grouped by workload (MAPE, median, worst, Pearson r).\n"
      "Rows that cannot run are listed with the reason. Writes DIR/validation.csv and DIR/validation.png\n"
      "\nOptions");
  opts.add_options()("help,h", "this help")(
      "file", po::value<std::vector<std::string>>()->composing(), "measured cases (positional; repeatable)")(
      "only", po::value<std::string>(), "only these workloads, comma-separated (e.g. pchase,stream)")(
      "subset", po::value<std::string>(), "only the row ids listed in this file (one per line, # comments)")(
      "out,o", po::value<std::string>()->default_value("validation_out"), "output folder (validation.csv, validation.png, runs/)")(
      "jobs,j", po::value<int>()->default_value(static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
      "simulations run in parallel")(
      "timeout", po::value<double>()->default_value(900), "seconds per case before it is killed (0 = no limit)")(
      "preset", po::value<std::string>(), "harness JSON only: the preset to compare with (must model the measured device)")(
      "expected", po::value<std::string>(), "CI gate: fail (exit 1) when a row's |error| exceeds its recorded value + margin")(
      "write-expected", po::value<std::string>(), "record the compared rows' errors into this file (for --expected)")(
      "margin", po::value<double>()->default_value(1.0), "with --write-expected: margin in percentage points")(
      "set", po::value<std::vector<std::string>>()->composing(),
      "KEY=VALUE added to every case after its mapping (repeatable): validate a changed configuration "
      "without editing presets")(
      "tilesim", po::value<std::string>(), "tilesim binary to run the cases with (default: this executable)")(
      "front-end", po::value<std::string>()->default_value("probe"),
      "what replays the memory microbenchmark rows (pchase, stream): probe = the memory probe, a request "
      "generator in front of the hierarchy; core = the preset's core model running them as tile programs "
      "(rows no core mapper can express are listed as not runnable)")(
      "dry-run", "print the `tilesim run` command of every case (and why others cannot run) without running")(
      "no-plot", "do not make validation.png");
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(cat("validate: ", e.what(), " (see --help)"));
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitOk;
  }
  if (!vm.count("file")) throw ConfigError("validate: no input file (see --help)");
  const int jobs = vm["jobs"].as<int>();
  if (jobs < 1) throw ConfigError(cat("validate: --jobs must be at least 1, got ", jobs));
  const double margin = vm["margin"].as<double>();
  if (margin < 0) throw ConfigError("validate: --margin must not be negative");
  const std::string preset = vm.count("preset") ? vm["preset"].as<std::string>() : "";
  const std::string tilesim = vm.count("tilesim") ? vm["tilesim"].as<std::string>() : self_executable();

  std::vector<ReferenceRow> rows;
  std::map<std::string, std::string> id_source;
  for (const auto& file : vm["file"].as<std::vector<std::string>>()) {
    MeasuredCases loaded = load_measured_cases(file, preset);
    for (const auto& n : loaded.notes) std::cout << n << "\n";
    for (auto& r : loaded.rows) {
      const auto [it, fresh] = id_source.emplace(r.id, r.location());
      if (!fresh) throw InputError(cat(r.location(), ": id '", r.id, "' also at ", it->second));
      rows.push_back(std::move(r));
    }
  }
  rows = select_rows(std::move(rows), vm.count("only") ? vm["only"].as<std::string>() : "",
                     vm.count("subset") ? vm["subset"].as<std::string>() : "");
  std::vector<ExpectedError> expected;
  if (vm.count("expected")) expected = read_expected_errors(vm["expected"].as<std::string>());

  const std::string front_end_name = vm["front-end"].as<std::string>();
  if (front_end_name != "probe" && front_end_name != "core")
    throw ConfigError(cat("validate: --front-end must be probe or core, got '", front_end_name, "'"));
  std::vector<CaseResult> cases =
      plan_cases(rows, front_end_name == "core" ? FrontEnd::core : FrontEnd::probe);
  const std::vector<std::string> user_overrides =
      vm.count("set") ? vm["set"].as<std::vector<std::string>>() : std::vector<std::string>{};
  apply_user_overrides(cases, user_overrides);
  if (vm.count("dry-run")) {
    print_dry_run(std::cout, cases, tilesim);
    return kExitOk;
  }

  const std::string out_dir = vm["out"].as<std::string>();
  fs::create_directories(out_dir);
  std::size_t runnable = 0;
  for (const auto& c : cases) runnable += c.status == CaseStatus::planned;
  std::cerr << "validate: " << rows.size() << " rows, " << runnable << " to simulate with " << jobs << " jobs\n";
  RunSettings settings;
  settings.tilesim = tilesim;
  settings.work_dir = (fs::path(out_dir) / "runs").string();
  settings.jobs = jobs;
  settings.timeout_seconds = vm["timeout"].as<double>();
  settings.progress = &std::cerr;
  run_cases(cases, settings);

  std::cout << "\n";
  if (!user_overrides.empty()) {
    std::cout << "every case ran with";
    for (const auto& o : user_overrides) std::cout << " --set " << o;
    std::cout << "\n";
  }
  if (front_end_name == "core")
    std::cout << "front end: core (memory microbenchmark rows ran as tile programs on the preset's core model)\n";
  print_report(std::cout, cases);
  const std::string csv = (fs::path(out_dir) / "validation.csv").string();
  write_validation_csv(csv, cases);
  std::cout << "\nwrote " << csv << "\n";
  if (!vm.count("no-plot")) {
    const std::string png = (fs::path(out_dir) / "validation.png").string();
    if (make_plot(csv, png, std::cerr)) std::cout << "wrote " << png << "\n";
  }
  if (vm.count("write-expected")) {
    write_expected_errors(vm["write-expected"].as<std::string>(), cases, margin);
    std::cout << "wrote " << vm["write-expected"].as<std::string>() << "\n";
  }

  int exit_code = kExitOk;
  for (const auto& c : cases)
    if (c.status == CaseStatus::failed) exit_code = kExitSimFailed;
  if (vm.count("expected")) {
    const auto findings = check_expected_errors(expected, cases);
    std::size_t regressions = 0;
    for (const auto& f : findings) regressions += f.regression;
    std::cout << "\n== gate (" << vm["expected"].as<std::string>() << "): " << expected.size() << " recorded rows, "
              << regressions << " regression" << (regressions == 1 ? "" : "s") << " ==\n";
    for (const auto& f : findings) std::cout << "  " << (f.regression ? "REGRESSION " : "note ") << f.id << ": " << f.message << "\n";
    if (regressions > 0) exit_code = 1;
  }
  return exit_code;
}

}  // namespace tilesim::validation

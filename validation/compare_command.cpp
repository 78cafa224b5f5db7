// `tilesim compare MEASURED SIMULATED`: a measured trace and a simulated one, kernel by kernel.
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include <boost/program_options.hpp>

#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "traces/import.hpp"
#include "validation/commands.hpp"
#include "validation/error_report.hpp"
#include "validation/kernel_matching.hpp"

namespace po = boost::program_options;

namespace tilesim::validation {
namespace {

std::string us(const std::optional<double>& ns) {
  if (!ns) return "-";
  std::ostringstream os;
  os << std::fixed << std::setprecision(3) << *ns / 1e3;
  return os.str();
}

std::string pad(const std::string& s, std::size_t w, bool right = false) {
  if (s.size() >= w) return s;
  return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

std::string shorten(const std::string& s, std::size_t w) { return s.size() <= w ? s : s.substr(0, w - 3) + "..."; }

/// Both traces' kernels as Kineto-style events in one file: pid 0 measured, pid 1 simulated; each side
/// starts at 0 (their clocks are unrelated), kernels without a start follow each other back to back.
void write_side_by_side_timeline(const std::string& path, const traces::MeasuredTrace& measured,
                                 const traces::MeasuredTrace& simulated) {
  nlohmann::json events = nlohmann::json::array();
  const traces::MeasuredTrace* sides[] = {&measured, &simulated};
  for (int pid = 0; pid < 2; ++pid) {
    const auto& t = *sides[pid];
    events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", pid}, {"tid", 0},
                      {"args", {{"name", cat(pid == 0 ? "measured: " : "simulated: ", t.file, " (", t.format, ")")}}}});
    events.push_back({{"ph", "M"}, {"name", "process_sort_index"}, {"pid", pid}, {"tid", 0}, {"args", {{"sort_index", pid}}}});
    double origin = -1, cursor = 0;
    for (const auto& k : t.kernels)
      if (k.start_ns && (origin < 0 || *k.start_ns < origin)) origin = *k.start_ns;
    for (const auto& k : t.kernels) {
      const double dur = k.duration_ns.value_or(0);
      const double start = k.start_ns ? *k.start_ns - origin : cursor;
      cursor = start + dur;
      events.push_back({{"ph", "X"}, {"cat", "kernel"}, {"name", k.name}, {"pid", pid}, {"tid", 0},
                        {"ts", start / 1e3}, {"dur", dur / 1e3}, {"args", {{"device", k.device}}}});
    }
  }
  nlohmann::json doc = {{"displayTimeUnit", "ns"}, {"traceEvents", events}, {"otherData", {{"generator", "tilesim compare"}}}};
  std::ofstream out(path);
  if (!(out << doc.dump(1) << "\n")) throw ConfigError(cat(path, ": cannot write"));
}

}  // namespace

int run_compare_command(const std::vector<std::string>& args) {
  po::options_description opts(
      "tilesim compare MEASURED SIMULATED [options]\n\n"
      "Kernel-by-kernel comparison of a measured trace (Nsight Compute CSV, Nsight Systems SQLite export,\n"
      "Kineto/Chrome trace JSON(.gz), CUDA harness JSON) with a simulated one (tilesim stats.json or trace\n"
      "JSON; any of the measured formats also works). Kernels are matched by base name, the k-th launch of a\n"
      "name with the k-th (--by name), or position by position (--by order).\n\nOptions");
  opts.add_options()("help,h", "this help")("measured", po::value<std::string>(), "measured trace (positional)")(
      "simulated", po::value<std::string>(), "simulated trace (positional)")(
      "by", po::value<std::string>()->default_value("name"), "matching: name or order")(
      "csv", po::value<std::string>(), "also write the table to this CSV file")(
      "timeline", po::value<std::string>(),
      "write both kernel sequences into one Chrome trace JSON (a process each, both starting at 0) for Perfetto");
  po::positional_options_description pos;
  pos.add("measured", 1).add("simulated", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(cat("compare: ", e.what(), " (see --help)"));
  }
  if (vm.count("help")) {
    std::cout << opts << "\n";
    return kExitOk;
  }
  if (!vm.count("measured") || !vm.count("simulated")) throw ConfigError("compare: need MEASURED and SIMULATED (see --help)");
  const std::string by = vm["by"].as<std::string>();
  if (by != "name" && by != "order") throw ConfigError(cat("compare: --by must be name or order, got '", by, "'"));

  const traces::MeasuredTrace measured = traces::read_kernel_trace(vm["measured"].as<std::string>());
  const traces::MeasuredTrace simulated = traces::read_kernel_trace(vm["simulated"].as<std::string>());
  std::cout << "measured:  " << measured.file << " (" << measured.format << ", " << measured.kernels.size() << " kernels)\n"
            << "simulated: " << simulated.file << " (" << simulated.format << ", " << simulated.kernels.size()
            << " kernels)\n\n";
  const auto pairs = match_kernels(measured.kernels, simulated.kernels, by == "name" ? MatchBy::name : MatchBy::order);

  std::cout << pad("#", 4) << pad("measured kernel", 34) << pad("simulated kernel", 30) << pad("meas us", 12, true)
            << pad("sim us", 12, true) << pad("sim/meas", 10, true) << "\n";
  std::ostringstream csv;
  csv << "index,measured_kernel,simulated_kernel,measured_ns,simulated_ns,ratio\n";
  std::vector<double> log_m, log_s;
  double abs_err_sum = 0, total_m = 0, total_s = 0;
  std::size_t timed = 0, n = 0;
  for (const auto& p : pairs) {
    ++n;
    const auto* m = p.measured >= 0 ? &measured.kernels[static_cast<std::size_t>(p.measured)] : nullptr;
    const auto* s = p.simulated >= 0 ? &simulated.kernels[static_cast<std::size_t>(p.simulated)] : nullptr;
    const std::optional<double> md = m ? m->duration_ns : std::nullopt, sd = s ? s->duration_ns : std::nullopt;
    std::string ratio = "-";
    if (md && sd && *md > 0) {
      ratio = format_number(*sd / *md, 4);
      abs_err_sum += std::fabs(*sd / *md - 1) * 100;
      total_m += *md;
      total_s += *sd;
      ++timed;
      if (*sd > 0) {
        log_m.push_back(std::log10(*md));
        log_s.push_back(std::log10(*sd));
      }
    }
    std::cout << pad(std::to_string(n), 4) << pad(shorten(m ? m->name : "(none)", 32), 34)
              << pad(shorten(s ? s->name : "(none)", 28), 30) << pad(us(md), 12, true) << pad(us(sd), 12, true)
              << pad(ratio, 10, true) << "\n";
    csv << n << "," << csv_field(m ? m->name : "") << "," << csv_field(s ? s->name : "") << ","
        << (md ? format_number(*md, 10) : "") << "," << (sd ? format_number(*sd, 10) : "") << ","
        << (ratio == "-" ? "" : ratio) << "\n";
  }
  std::size_t unmatched_m = 0, unmatched_s = 0;
  for (const auto& p : pairs) {
    unmatched_m += p.simulated < 0;
    unmatched_s += p.measured < 0;
  }
  std::cout << "\n" << timed << " pairs with both durations";
  if (timed > 0) {
    const auto r = pearson(log_m, log_s);
    std::cout << ": total measured " << format_number(total_m / 1e3, 6) << " us, simulated "
              << format_number(total_s / 1e3, 6) << " us (ratio " << format_number(total_s / total_m, 4)
              << "), mean |sim/meas - 1| " << format_number(abs_err_sum / static_cast<double>(timed), 3)
              << "%, r " << (r ? format_number(*r, 4) : std::string("n/a"));
  }
  std::cout << "\n" << unmatched_m << " measured kernels without a simulated match, " << unmatched_s
            << " simulated kernels without a measured match\n";
  if (vm.count("timeline")) {
    write_side_by_side_timeline(vm["timeline"].as<std::string>(), measured, simulated);
    std::cout << "wrote " << vm["timeline"].as<std::string>() << "\n";
  }
  if (vm.count("csv")) {
    std::ofstream out(vm["csv"].as<std::string>());
    if (!(out << csv.str())) throw ConfigError(cat(vm["csv"].as<std::string>(), ": cannot write"));
  }
  return kExitOk;
}

}  // namespace tilesim::validation

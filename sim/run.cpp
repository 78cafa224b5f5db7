#include "sim/run.hpp"

#include <filesystem>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/output.hpp"
#include "sim/system.hpp"
#include "sim/text_util.hpp"
#include "traces/chrome_trace_writer.hpp"

namespace tilesim {

namespace fs = std::filesystem;

namespace {
const char* const kOutputFiles[] = {"stats.json", "stats.csv", "report.txt", "run.json", "error.txt",
                                    "config.resolved.yaml"};

void prepare_out_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw ConfigError(cat("cannot create output folder '", dir, "': ", ec.message()));
  // Remove what an earlier run left, so nothing in the folder can be mistaken for this run's result.
  for (const char* f : kOutputFiles) fs::remove(fs::path(dir) / f, ec);
}
}  // namespace

RunOutcome run_simulation(const RunRequest& request) {
  ConfigTree tree;
  for (const auto& p : request.presets) tree.merge_file(find_preset(p));
  for (const auto& f : request.config_files) tree.merge_file(f);
  for (const auto& o : request.overrides) tree.apply_override(o);
  if (request.presets.empty() && request.config_files.empty() && request.overrides.empty())
    throw ConfigError("nothing to run: give a preset (-p NAME, see `tilesim presets`) or a config file (-c FILE)");
  const SystemSpec spec = parse_system(tree);

  RunOutcome out;
  out.resolved_config = resolved_config_yaml(spec);
  const bool write = !request.out_dir.empty();
  if (write) {
    prepare_out_dir(request.out_dir);
    write_file_atomic((fs::path(request.out_dir) / "config.resolved.yaml").string(), out.resolved_config);
  }
  try {
    std::unique_ptr<traces::ChromeTraceWriter> trace;  // declared first: it outlives the simulator using it
    auto sim = build_system(spec);
    if (!request.trace_file.empty() && !request.check_only) {
      const double first_clock_hz = sim->clocks().empty() ? 0 : static_cast<double>(sim->clocks().front()->frequency_hz());
      trace = std::make_unique<traces::ChromeTraceWriter>(request.trace_file,
                                                          traces::parse_trace_window(request.trace_window, first_clock_hz));
      sim->set_trace(trace.get());
    }
    if (request.check_only) {
      sim->check_wiring();
      out.report = cat("config ok: ", sim->components().size(), " components built and wired\n");
      return out;
    }
    out.info = sim->run();
    if (trace) trace->finish(out.info.end_tick);
    const StatsReport report = sim->stats_report();
    out.stats = stats_to_json(report);
    out.stats_csv = stats_to_csv(report);
    const std::string title = !request.title.empty() ? request.title
                              : !spec.description.empty() ? spec.description
                                                          : std::string("tilesim run");
    out.report = render_report(report, out.info, *sim, title);
  } catch (const Error& e) {
    if (write) write_file_atomic((fs::path(request.out_dir) / "error.txt").string(), std::string(e.what()) + "\n");
    throw;
  }
  if (write) {
    const fs::path dir(request.out_dir);
    write_file_atomic((dir / "stats.json").string(), out.stats.dump(1) + "\n");
    write_file_atomic((dir / "stats.csv").string(), out.stats_csv);
    write_file_atomic((dir / "report.txt").string(), out.report);
    // Wall-clock facts live apart from stats.json, which must be byte-identical across identical runs.
    nlohmann::json run;
    run["wall_seconds"] = out.info.wall_seconds;
    run["component_ticks"] = out.info.component_ticks;
    run["domain_firings"] = out.info.domain_firings;
    run["completed"] = out.info.completed;
    write_file_atomic((dir / "run.json").string(), run.dump(1) + "\n");
  }
  return out;
}

}  // namespace tilesim

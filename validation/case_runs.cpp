#include "validation/case_runs.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "sim/units.hpp"
#include "traces/json_input.hpp"
#include "validation/subprocess.hpp"

namespace fs = std::filesystem;

namespace tilesim::validation {
namespace {

std::string mapper_list() {
  std::string out;
  for (const auto& n : CaseMapperRegistry::instance().names())
    if (n.find(kCoreFrontEndSuffix) == std::string::npos) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none registered" : out;
}

bool preset_exists(const std::string& name, std::string& why) {
  try {
    find_preset(name);
    return true;
  } catch (const ConfigError&) {
    why = cat("no preset '", name, "' (see `tilesim presets`)");
    return false;
  }
}

/// The value of dotted key `key` in the merged presets, as written ("" when the presets do not set it).
std::string preset_value(const std::vector<std::string>& presets, const std::string& key) {
  ConfigTree tree;
  for (const auto& p : presets) tree.merge_file(find_preset(p));
  YAML::Node node = YAML::Clone(tree.root());
  for (const auto& part : split(key, '.')) {
    if (!node.IsMap() || !node[part]) return "";
    node = node[part];
  }
  return node.IsScalar() ? node.as<std::string>() : "";
}

/// Make `id` safe as a folder name.
std::string folder_name(const std::string& id, std::size_t index) {
  std::string out;
  for (char c : id) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  return cat(index, "_", out);
}

void apply_clock(CaseResult& c, std::map<std::string, std::string>& preset_clock_cache) {
  const ReferenceRow& row = c.row;
  if (!row.clock_mhz) return;
  if (c.sim.clock_key.empty()) {
    c.status = CaseStatus::not_runnable;
    c.reason = cat("measured at clock_mhz=", format_number(*row.clock_mhz), " but the ", row.workload,
                   " mapper exposes no clock key to simulate at that clock; refusing to compare at another clock");
    return;
  }
  std::string cache_key;
  for (const auto& p : c.sim.presets) cache_key += p + "+";
  cache_key += c.sim.clock_key;
  auto it = preset_clock_cache.find(cache_key);
  if (it == preset_clock_cache.end()) it = preset_clock_cache.emplace(cache_key, preset_value(c.sim.presets, c.sim.clock_key)).first;
  const std::string& preset_text = it->second;
  if (!preset_text.empty()) {
    try {
      const double hz = parse_quantity(preset_text, UnitKind::frequency, c.sim.clock_key).value;
      if (std::fabs(hz / 1e6 - *row.clock_mhz) < 0.5) return;  // already at the row's clock
    } catch (const ConfigError&) {
      // Not a plain frequency in the preset (e.g. a reference); the override below still decides.
    }
  }
  const std::string mhz = format_number(*row.clock_mhz);
  c.sim.overrides.push_back(cat(c.sim.clock_key, "=", mhz, "MHz"));
  c.clock_note = cat(c.sim.clock_key, " ", preset_text.empty() ? "(preset default)" : preset_text, " -> ", mhz,
                     "MHz (the row's clock_mhz)");
}

}  // namespace

void apply_user_overrides(std::vector<CaseResult>& cases, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == o.size())
      throw ConfigError(cat("validate: --set '", o, "': expected KEY=VALUE (e.g. memory.hbm.queue_depth=256)"));
  }
  for (auto& c : cases)
    if (c.status == CaseStatus::planned) c.sim.overrides.insert(c.sim.overrides.end(), overrides.begin(), overrides.end());
}

const char* case_status_name(CaseStatus status) {
  switch (status) {
    case CaseStatus::planned: return "planned";
    case CaseStatus::compared: return "compared";
    case CaseStatus::not_runnable: return "not runnable";
    case CaseStatus::failed: return "failed";
  }
  return "?";
}

std::vector<CaseResult> plan_cases(const std::vector<ReferenceRow>& rows, FrontEnd front_end) {
  std::vector<CaseResult> out;
  std::map<std::string, std::string> preset_clock_cache;
  const auto& registry = CaseMapperRegistry::instance();
  for (const auto& row : rows) {
    CaseResult c;
    c.row = row;
    const auto refuse = [&](std::string why) {
      c.status = CaseStatus::not_runnable;
      c.reason = std::move(why);
    };
    std::string why;
    c.mapper = row.workload;
    if (front_end == FrontEnd::core && registry.find(row.workload + kCoreFrontEndSuffix))
      c.mapper = row.workload + kCoreFrontEndSuffix;
    const auto* entry = registry.find(c.mapper);
    std::vector<std::string> problems;
    if (!entry) problems.push_back(cat("no case mapper for workload '", row.workload, "' (mappers: ", mapper_list(), ")"));
    if (!preset_exists(row.preset, why)) problems.push_back(why);
    if (!problems.empty()) {
      std::string all;
      for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
      refuse(all);
    } else {
      try {
        const auto mapper = entry->make({});
        MapResult mapped = front_end == FrontEnd::core && mapper->drives_memory_probe()
                               ? MapResult(cat("no core front end for workload '", row.workload,
                                               "': its mapper drives the memory probe (run without --front-end core)"))
                               : mapper->map(row);
        if (auto* reason = std::get_if<std::string>(&mapped)) {
          refuse(*reason);
        } else {
          c.sim = std::get<SimCase>(std::move(mapped));
          if (c.sim.presets.empty()) panic("case mapper '", row.workload, "' returned no preset for row ", row.id);
          for (const auto& p : c.sim.presets)
            if (c.status == CaseStatus::planned && !preset_exists(p, why)) refuse(why);
          if (c.status == CaseStatus::planned) apply_clock(c, preset_clock_cache);
        }
      } catch (const InputError& e) {
        refuse(cat("invalid params: ", e.what()));
      } catch (const ConfigError& e) {
        refuse(cat("configuration error: ", e.what()));
      }
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::string> run_arguments(const SimCase& sim, const std::string& out_dir) {
  std::vector<std::string> args = {"run", "-q", "-o", out_dir};
  for (const auto& p : sim.presets) {
    args.push_back("-p");
    args.push_back(p);
  }
  for (const auto& o : sim.overrides) {
    args.push_back("--set");
    args.push_back(o);
  }
  return args;
}

void run_cases(std::vector<CaseResult>& cases, const RunSettings& settings) {
  std::vector<std::size_t> runnable;
  std::vector<ChildCommand> commands;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    CaseResult& c = cases[i];
    if (c.status != CaseStatus::planned) continue;
    c.run_dir = (fs::path(settings.work_dir) / folder_name(c.row.id, i)).string();
    fs::remove_all(c.run_dir);
    fs::create_directories(c.run_dir);
    ChildCommand cmd;
    cmd.argv = {settings.tilesim};
    for (auto& a : run_arguments(c.sim, c.run_dir)) cmd.argv.push_back(std::move(a));
    cmd.stdout_file = (fs::path(c.run_dir) / "stdout.txt").string();
    cmd.stderr_file = (fs::path(c.run_dir) / "stderr.txt").string();
    runnable.push_back(i);
    commands.push_back(std::move(cmd));
  }
  std::size_t finished = 0;
  const auto on_done = [&](std::size_t k) {
    ++finished;
    if (settings.progress)
      *settings.progress << "validate: [" << finished << "/" << commands.size() << "] " << cases[runnable[k]].row.id
                         << "\n"
                         << std::flush;
  };
  const auto results = run_children(commands, settings.jobs, settings.timeout_seconds, on_done);

  for (std::size_t k = 0; k < runnable.size(); ++k) {
    CaseResult& c = cases[runnable[k]];
    const ChildResult& r = results[k];
    const auto fail = [&](std::string why) {
      c.status = CaseStatus::failed;
      c.reason = std::move(why);
    };
    const std::string err_tail = tail_lines(commands[k].stderr_file, 3);
    if (!r.start_error.empty()) {
      fail(r.start_error);
      continue;
    }
    if (r.timed_out) {
      fail(cat("timed out after ", format_number(settings.timeout_seconds), " s"));
      continue;
    }
    if (r.exit_code != 0) {
      fail(cat("tilesim run ", r.signal ? cat("killed by signal ", r.signal) : cat("exited with ", r.exit_code),
               err_tail.empty() ? "" : ": " + err_tail));
      continue;
    }
    nlohmann::json stats;
    try {
      stats = traces::read_json_file((fs::path(c.run_dir) / "stats.json").string());
    } catch (const Error& e) {
      fail(cat("cannot read the run's stats.json: ", e.what()));
      continue;
    }
    const auto mapper = CaseMapperRegistry::instance().get(c.mapper, "validate").make({});
    std::optional<double> value;
    try {
      value = mapper->extract(c.row, stats);
    } catch (const Error& e) {
      fail(cat("reading the metric from stats.json failed: ", e.what()));
      continue;
    }
    if (!value) {
      fail(cat("the run's stats lack ", mapper->what_is_extracted(c.row)));
      continue;
    }
    if (c.row.value == 0) {
      fail("measured value is 0: the relative error is undefined");
      continue;
    }
    c.simulated = *value;
    c.error_pct = (*value - c.row.value) / c.row.value * 100.0;
    c.status = CaseStatus::compared;
  }
}

}  // namespace tilesim::validation

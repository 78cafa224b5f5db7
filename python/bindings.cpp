#include "python/bindings.hpp"

#include <pybind11/stl.h>

#include "python/isa_bindings.hpp"
#include "python/workload_bindings.hpp"

#include "sim/component_registry.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/run.hpp"
#include "sim/units.hpp"

namespace py = pybind11;

namespace tilesim {

namespace {
UnitKind unit_kind_from_name(const std::string& name) {
  for (UnitKind k : {UnitKind::none, UnitKind::frequency, UnitKind::size, UnitKind::bandwidth, UnitKind::time,
                     UnitKind::cycles})
    if (name == unit_kind_name(k)) return k;
  throw ConfigError(cat("unknown unit kind '", name, "' (frequency, size, bandwidth, time, cycle count, number)"));
}

py::list schema_to_py(const ParamSchema& s) {
  py::list out;
  for (const auto& d : s.decls()) {
    py::dict e;
    e["name"] = d.name;
    e["type"] = param_type_name(d.type);
    e["unit"] = d.type == ParamType::quantity ? unit_kind_name(d.unit) : "";
    e["default"] = d.default_text;
    e["description"] = d.description;
    e["choices"] = d.choices;
    out.append(e);
  }
  return out;
}
}  // namespace

void bind_tilesim(py::module_& m) {
  m.doc() = "tilesim: cycle-level simulator for AI accelerators (C++ core)";
  static py::exception<Error> error_type(m, "Error");
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Error& e) {
      PyErr_SetString(error_type.ptr(), e.what());
    }
  });

  m.def("version", [] { return std::string("0.1.0"); }, "tilesim version");
  m.def(
      "parse_quantity",
      [](const std::string& text) {
        const Quantity q = parse_any_quantity(text, "parse_quantity");
        return py::make_tuple(q.value, std::string(unit_kind_base_symbol(q.kind)));
      },
      py::arg("text"), "Parse '1.83GHz' -> (1.83e9, 'Hz'); sizes in bytes, bandwidth in B/s, time in s.");
  m.def(
      "format_quantity",
      [](double value, const std::string& kind) { return format_quantity(value, unit_kind_from_name(kind)); },
      py::arg("value"), py::arg("kind"), "Render a base-unit value readably: format_quantity(1.83e9, 'frequency').");
  m.def("kinds", [] { return ComponentRegistry::instance().names(); }, "Registered component kinds.");
  m.def(
      "params",
      [](const std::string& kind) {
        if (kind == "sim") return schema_to_py(sim_param_schema());
        return schema_to_py(ComponentRegistry::instance().get(kind, "params()").schema());
      },
      py::arg("kind"), "Declared parameters of a component kind (or 'sim').");
  m.def(
      "presets",
      [] {
        py::list out;
        for (const auto& p : list_presets()) {
          py::dict d;
          d["name"] = p.name;
          d["path"] = p.path;
          d["description"] = p.description;
          out.append(d);
        }
        return out;
      },
      "Available presets.");
  m.def(
      "run",
      [](std::vector<std::string> presets, std::vector<std::string> configs, std::map<std::string, std::string> set,
         std::string out) {
        RunRequest req;
        req.presets = std::move(presets);
        req.config_files = std::move(configs);
        for (const auto& [k, v] : set) req.overrides.push_back(k + "=" + v);
        req.out_dir = std::move(out);
        RunOutcome o;
        {
          py::gil_scoped_release release;  // C++ runs; no Python per cycle
          o = run_simulation(req);
        }
        py::dict result;
        result["stats"] = py::module_::import("json").attr("loads")(o.stats.dump());
        result["report"] = o.report;
        result["completed"] = o.info.completed;
        result["wall_seconds"] = o.info.wall_seconds;
        result["resolved_config"] = o.resolved_config;
        return result;
      },
      py::arg("presets") = std::vector<std::string>{}, py::arg("configs") = std::vector<std::string>{},
      py::arg("set") = std::map<std::string, std::string>{}, py::arg("out") = std::string(),
      "Run one simulation (one per process: SystemC cannot re-elaborate). Returns a dict with 'stats' "
      "(the stats.json content), 'report', 'completed', 'wall_seconds', 'resolved_config'.");

  bind_isa(m);
  bind_workloads(m);
}

}  // namespace tilesim

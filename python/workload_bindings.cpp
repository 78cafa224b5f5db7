// Python bindings of the workload registry (workloads/workload.hpp): list workloads and their parameters,
// instantiate one (module + scalar arguments + seeded inputs as numpy), run it in the functional
// interpreter and compare with the workload's own reference.
#include "python/workload_bindings.hpp"

#include <pybind11/stl.h>

#include <memory>

#include "python/numpy_buffers.hpp"
#include "sim/error.hpp"
#include "workloads/workload.hpp"

namespace py = pybind11;

namespace tilesim {

namespace {

using workloads::Workload;
using workloads::WorkloadBuild;

/// A built workload and the registry entry that built it (check() and make_inputs() need both).
struct WorkloadInstance {
  const Workload* workload = nullptr;
  WorkloadBuild build;
  std::shared_ptr<isa::Module> module;  // a copy of build.module, shareable with Python
};

std::string param_text(py::handle v) {
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>() ? "true" : "false";
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if (py::isinstance<py::int_>(v) || py::isinstance<py::float_>(v)) return py::str(v).cast<std::string>();
  throw py::type_error("a workload parameter value must be a str, int, float or bool, got " +
                       py::repr(v).cast<std::string>());
}

workloads::Scale scale_from(const std::string& s) {
  if (s == "functional") return workloads::Scale::functional;
  if (s == "full") return workloads::Scale::full;
  throw py::value_error("scale must be 'functional' or 'full', got '" + s + "'");
}

isa::Buffers buffers_of(const WorkloadInstance& w, const py::dict& arrays) {
  isa::Buffers b = buffers_from_py(w.build.kernel(), w.build.scalars, arrays);
  b.scalars = w.build.float_scalars;
  return b;
}

py::dict comparison_to_py(const workloads::Comparison& c) {
  py::dict d;
  d["pass"] = c.pass;
  d["report"] = c.report();
  py::list outputs;
  for (const auto& o : c.outputs) {
    py::dict od;
    od["name"] = o.name;
    od["criterion"] = o.criterion;
    od["why"] = o.why;
    od["elements"] = o.elements;
    od["mismatches"] = o.mismatches;
    od["max_abs_error"] = o.max_abs_error;
    od["max_rel_error"] = o.max_rel_error;
    od["max_ulp"] = o.max_ulp;
    od["first_mismatch"] = o.first_mismatch;
    od["pass"] = o.pass;
    outputs.append(od);
  }
  d["outputs"] = outputs;
  d["notes"] = c.notes;
  return d;
}

}  // namespace

void bind_workloads(py::module_& m) {
  m.def("workloads", &workloads::workload_names, "Names of every registered workload.");
  m.def(
      "workload_info",
      [](const std::string& name) {
        const Workload& w = workloads::find_workload(name);
        py::dict d;
        d["name"] = w.name();
        d["description"] = w.description();
        d["template_file"] = w.template_file();
        return d;
      },
      py::arg("name"), "Name, description and .tile template of a workload.");
  m.def(
      "workload_params",
      [](const std::string& name) {
        py::list out;
        for (const auto& p : workloads::find_workload(name).params()) {
          py::dict d;
          d["name"] = p.name;
          d["default"] = p.default_value;
          d["functional"] = p.functional_value.empty() ? p.default_value : p.functional_value;
          d["description"] = p.description;
          d["choices"] = p.choices;
          out.append(d);
        }
        return out;
      },
      py::arg("name"), "Parameters of a workload: name, default, functional (small-shape default), description, choices.");

  py::class_<WorkloadInstance>(m, "WorkloadInstance",
                               "A workload instantiated for one parameter set (WorkloadBuild): its module, scalar "
                               "arguments, seeded inputs, interpreter options and reference check.")
      .def_property_readonly("workload", [](const WorkloadInstance& w) { return w.build.workload; })
      .def_property_readonly("kernel_name", [](const WorkloadInstance& w) { return w.build.kernel_name; })
      .def_property_readonly("module", [](const WorkloadInstance& w) { return w.module; })
      .def_property_readonly("params", [](const WorkloadInstance& w) { return w.build.params.values(); })
      .def_property_readonly("scalars", [](const WorkloadInstance& w) { return w.build.scalars; })
      .def_property_readonly("float_scalars", [](const WorkloadInstance& w) { return w.build.float_scalars; })
      .def_property_readonly("shape", [](const WorkloadInstance& w) { return w.build.shape; })
      .def_property_readonly("options", [](const WorkloadInstance& w) { return interpreter_options_to_py(w.build.interpreter); })
      .def(
          "make_inputs",
          [](const WorkloadInstance& w) { return buffers_to_py(w.workload->make_inputs(w.build)); },
          "Seeded inputs (from the `seed` parameter) and zeroed outputs: tensor name -> float64 array.")
      .def(
          "run",
          [](const WorkloadInstance& w, const py::dict& buffers) {
            isa::Buffers b = buffers_of(w, buffers);
            isa::RunSummary run;
            {
              py::gil_scoped_release release;
              run = isa::run_kernel(w.build.module, w.build.kernel_name, b, w.build.scalars, w.build.interpreter);
            }
            return py::make_tuple(buffers_to_py(b), run);
          },
          py::arg("buffers"),
          "Run in the functional interpreter with the workload's scalars and options; returns (tensors after "
          "the run, RunSummary).")
      .def(
          "check",
          [](const WorkloadInstance& w, const py::dict& inputs, const py::dict& results, const isa::RunSummary& run,
             double tolerance_scale) {
            const isa::Buffers in = buffers_of(w, inputs);
            const isa::Buffers out = buffers_of(w, results);
            return comparison_to_py(w.workload->check(w.build, in, out, run, tolerance_scale));
          },
          py::arg("inputs"), py::arg("results"), py::arg("run"), py::arg("tolerance_scale") = 1.0,
          "Compare results with the workload's C++ reference: dict with pass, report, outputs, notes.");

  m.def(
      "build_workload",
      [](const std::string& name, const py::dict& params, const std::string& scale, const std::string& template_path) {
        std::map<std::string, std::string> overrides;
        for (auto item : params) overrides[item.first.cast<std::string>()] = param_text(item.second);
        WorkloadInstance w;
        w.workload = &workloads::find_workload(name);
        w.build = workloads::build_workload(name, overrides, scale_from(scale), template_path);
        w.module = std::make_shared<isa::Module>(w.build.module);
        return w;
      },
      py::arg("name"), py::arg("params") = py::dict(), py::arg("scale") = "functional",
      py::arg("template_path") = "",
      "Instantiate a workload: defaults at `scale` ('functional': the small test shape, or 'full'), then "
      "`params` overrides. Returns a WorkloadInstance.");
}

}  // namespace tilesim

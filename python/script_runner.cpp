#include "python/script_runner.hpp"

#include <filesystem>
#include <iostream>

#include <pybind11/embed.h>
#include <pybind11/stl.h>

#include "python/bindings.hpp"
#include "sim/error.hpp"

namespace py = pybind11;

PYBIND11_EMBEDDED_MODULE(_tilesim, m) { tilesim::bind_tilesim(m); }

namespace tilesim {

int run_python_script(const std::string& path, const std::vector<std::string>& args) {
  if (!std::filesystem::is_regular_file(path)) throw ConfigError(cat("script '", path, "' not found"));
  py::scoped_interpreter interpreter;
  try {
    py::module_ sys = py::module_::import("sys");
    sys.attr("path").attr("insert")(0, std::string(TILESIM_SOURCE_DIR) + "/python");
    sys.attr("path").attr("insert")(0, std::filesystem::absolute(path).parent_path().string());
    std::vector<std::string> argv{path};
    argv.insert(argv.end(), args.begin(), args.end());
    sys.attr("argv") = argv;
    py::dict globals;
    globals["__name__"] = "__main__";
    globals["__file__"] = path;
    globals["__builtins__"] = py::module_::import("builtins");
    py::eval_file(path, globals);
    sys.attr("stdout").attr("flush")();
    return 0;
  } catch (py::error_already_set& e) {
    if (e.matches(PyExc_SystemExit)) {
      py::object code = e.value().attr("code");
      if (code.is_none()) return 0;
      if (py::isinstance<py::int_>(code)) return code.cast<int>();
      std::cerr << py::str(code).cast<std::string>() << "\n";
      return 1;
    }
    std::cerr << "tilesim script: " << path << " raised:\n" << e.what() << "\n";
    return 1;
  }
}

}  // namespace tilesim

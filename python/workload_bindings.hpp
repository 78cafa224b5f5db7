// Python bindings of the workload registry, registered into `_tilesim` by bind_tilesim.
#pragma once

#include <pybind11/pybind11.h>

namespace tilesim {
void bind_workloads(pybind11::module_& m);
}

// The Python bindings of the simulator, shared by the embedded module (inside `tilesim script`) and the
// importable extension module (build/python/_tilesim*.so). Python describes and composes; C++ runs.
#pragma once

#include <pybind11/pybind11.h>

namespace tilesim {
void bind_tilesim(pybind11::module_& m);
}

// Python bindings of the tile ISA (IR builder, .tile parser/printer/verifier, dtype conversions),
// registered into the `_tilesim` module by bind_tilesim.
#pragma once

#include <pybind11/pybind11.h>

namespace tilesim {
void bind_isa(pybind11::module_& m);
}

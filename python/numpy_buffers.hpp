// numpy arrays <-> the functional interpreter's buffers, shared by the ISA and workload bindings.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <map>
#include <string>

#include "isa/interpreter.hpp"

namespace tilesim {

/// Integer scalar parameters (index, i8, i32, i1) go to `ints` (the interpreter's SymbolValues), the others
/// (f32, ...) to `floats` (Buffers::scalars). ConfigError for a name that is not a scalar parameter, or a
/// float given for an integer parameter.
void split_scalars(const isa::Kernel& k, const pybind11::dict& scalars, isa::SymbolValues& ints,
                   std::map<std::string, double>& floats);
/// A buffer for every tensor parameter of `k`: the given numpy array (its shape must be the parameter's
/// with `ints`; values are rounded to the dtype), or zeros. ConfigError for unknown names or bad shapes.
isa::Buffers buffers_from_py(const isa::Kernel& k, const isa::SymbolValues& ints, const pybind11::dict& arrays);
/// Every tensor as a float64 numpy array of its exact values.
pybind11::dict buffers_to_py(const isa::Buffers& b);
/// InterpreterOptions from a dict (acc_mantissa_bits, acc_block_k, int_satfinite, check_bounds, verify).
isa::InterpreterOptions interpreter_options(const pybind11::dict& options);
pybind11::dict interpreter_options_to_py(const isa::InterpreterOptions& o);

}  // namespace tilesim

// The canonical `.tile` printer. print(parse(text)) is a fixed point: printing, re-parsing and printing
// again gives the same bytes (comments are not kept). Inferable result types are left out; token results
// that nothing uses are left unnamed.
#pragma once

#include <string>

#include "isa/ir.hpp"

namespace tilesim::isa {

std::string print_module(const Module& module);
std::string print_kernel(const Kernel& kernel);
/// One op (and its regions) at the given indent, using `kernel` for value names and types.
std::string print_op(const Kernel& kernel, const Op& op, int indent = 0);
/// A real number in a form that re-parses to the same double (always with '.', 'e', inf or nan).
std::string format_real(double v);

}  // namespace tilesim::isa

// Pairing the kernels of two traces for `tilesim compare`.
#pragma once

#include <vector>

#include "traces/measured_trace.hpp"

namespace tilesim::validation {

enum class MatchBy { name, order };

struct KernelPair {
  long measured = -1;   // index into the measured kernels, -1 = none
  long simulated = -1;  // index into the simulated kernels, -1 = none
};

/// by name: the k-th launch of a base name (traces::kernel_base_name) pairs with the k-th launch of the
/// same base name on the other side; by order: position i with position i. The result follows the
/// measured order, then unmatched simulated kernels in their order.
std::vector<KernelPair> match_kernels(const std::vector<traces::MeasuredKernel>& measured,
                                      const std::vector<traces::MeasuredKernel>& simulated, MatchBy by);

}  // namespace tilesim::validation

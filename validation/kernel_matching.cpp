#include "validation/kernel_matching.hpp"

#include <algorithm>
#include <map>
#include <string>

namespace tilesim::validation {

std::vector<KernelPair> match_kernels(const std::vector<traces::MeasuredKernel>& measured,
                                      const std::vector<traces::MeasuredKernel>& simulated, MatchBy by) {
  std::vector<KernelPair> out;
  if (by == MatchBy::order) {
    const std::size_t n = std::max(measured.size(), simulated.size());
    for (std::size_t i = 0; i < n; ++i)
      out.push_back({i < measured.size() ? static_cast<long>(i) : -1, i < simulated.size() ? static_cast<long>(i) : -1});
    return out;
  }
  std::map<std::string, std::vector<long>> sim_by_name;  // base name -> simulated indices in order
  for (std::size_t i = 0; i < simulated.size(); ++i)
    sim_by_name[traces::kernel_base_name(simulated[i].name)].push_back(static_cast<long>(i));
  std::map<std::string, std::size_t> used;
  std::vector<bool> sim_taken(simulated.size(), false);
  for (std::size_t i = 0; i < measured.size(); ++i) {
    const std::string base = traces::kernel_base_name(measured[i].name);
    auto it = sim_by_name.find(base);
    long match = -1;
    if (it != sim_by_name.end() && used[base] < it->second.size()) match = it->second[used[base]++];
    if (match >= 0) sim_taken[static_cast<std::size_t>(match)] = true;
    out.push_back({static_cast<long>(i), match});
  }
  for (std::size_t i = 0; i < simulated.size(); ++i)
    if (!sim_taken[i]) out.push_back({-1, static_cast<long>(i)});
  return out;
}

}  // namespace tilesim::validation

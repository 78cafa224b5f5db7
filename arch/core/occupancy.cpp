#include <algorithm>
#include <limits>

#include "arch/core/core.hpp"

namespace tilesim::core {

namespace {
std::uint64_t round_up(std::uint64_t v, std::uint64_t granule) {
  return granule ? (v + granule - 1) / granule * granule : v;
}
}  // namespace

Occupancy occupancy(const CoreResources& res, const ProgramFootprint& fp) {
  Occupancy o;
  const std::uint32_t ws = res.warp_size ? res.warp_size : 32;
  const std::uint64_t warps = (fp.threads + ws - 1) / ws;
  o.registers_per_program =
      fp.registers ? fp.registers : warps * round_up(std::uint64_t(fp.registers_per_thread) * ws, res.register_granule);
  o.scratch_per_program = round_up(fp.scratch_bytes + res.scratch_reserved_per_program, res.scratch_granule);

  struct Limit {
    const char* name;
    std::uint64_t programs;
  };
  const std::uint64_t unlimited = std::numeric_limits<std::uint64_t>::max();
  const Limit limits[] = {
      {"slots", res.program_slots},
      {"threads", fp.threads ? res.threads / fp.threads : unlimited},
      {"registers", o.registers_per_program ? res.registers / o.registers_per_program : unlimited},
      {"scratch", o.scratch_per_program ? res.scratch_bytes / o.scratch_per_program : unlimited},
  };
  std::uint64_t best = unlimited;
  for (const auto& l : limits) {
    if (l.programs < best) {  // first minimum wins: a tie reports the earlier (more basic) limit
      best = l.programs;
      o.limiter = l.name;
    }
  }
  o.programs = static_cast<std::uint32_t>(std::min<std::uint64_t>(best, std::numeric_limits<std::uint32_t>::max()));
  return o;
}

}  // namespace tilesim::core

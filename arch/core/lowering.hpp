// The lowering interface (DESIGN.md §6): a core kind turns the tile ops of a kernel into its own
// micro-op stream (SIMT: warp instructions per warp group; a megacore: VLIW bundles) and says what one
// program needs (registers, scratch, threads). Lowering depends only on the kernel, its bound scalar
// arguments and the core's configuration, so it is done once per (kernel x arguments x config) and
// shared by every core of that kind (a GPU has 132 SMs, not 132 lowerings).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arch/core/core.hpp"
#include "arch/core/launch.hpp"

namespace tilesim::core {

/// The result of lowering one kernel launch for one core kind. Core kinds downcast to their own type.
class LoweredKernel {
 public:
  virtual ~LoweredKernel() = default;
  virtual const ProgramFootprint& footprint() const = 0;
  /// A few human lines (roles -> warp groups, registers, scratch), for the report and debugging.
  virtual std::vector<std::string> describe() const = 0;
};

class Lowering {
 public:
  virtual ~Lowering() = default;
  /// Fingerprint of every configuration value the lowering reads (part of the cache key).
  virtual std::string config_key() const = 0;
  /// Lower `launch`. Throws ConfigError when the kernel cannot run on this core kind (naming why).
  virtual std::shared_ptr<const LoweredKernel> lower(const KernelLaunch& launch) const = 0;
};

/// Lowerings by (module, kernel, integer arguments, lowering config).
class LoweringCache {
 public:
  std::shared_ptr<const LoweredKernel> get(const Lowering& lowering, const KernelLaunch& launch);
  std::size_t size() const { return cache_.size(); }
  std::size_t hits() const { return hits_; }

 private:
  std::map<std::string, std::shared_ptr<const LoweredKernel>> cache_;
  std::size_t hits_ = 0;
};

}  // namespace tilesim::core

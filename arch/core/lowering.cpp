#include "arch/core/lowering.hpp"

#include "sim/error.hpp"

namespace tilesim::core {

std::shared_ptr<const LoweredKernel> LoweringCache::get(const Lowering& lowering, const KernelLaunch& launch) {
  if (!launch.kernel || !launch.module) panic("lowering cache: launch ", launch.name, " has no kernel");
  // The module's address identifies its (immutable) IR for the life of the launch list.
  std::string key = cat(static_cast<const void*>(launch.module.get()), "/", launch.kernel->name, "/");
  for (const auto& [name, value] : launch.symbols) key += cat(name, "=", value, ";");
  key += "/" + lowering.config_key();
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    ++hits_;
    return it->second;
  }
  auto lowered = lowering.lower(launch);
  cache_.emplace(key, lowered);
  return lowered;
}

}  // namespace tilesim::core

#include "sim/system_kind.hpp"

#include "sim/error.hpp"

namespace tilesim {

const ParamValues& SystemSections::at(const std::string& path) const {
  const auto it = values_.find(path);
  if (it == values_.end()) panic("system section '", path, "' read but never declared");
  return it->second;
}

}  // namespace tilesim

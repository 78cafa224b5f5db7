// Registry of pluggable kinds (DESIGN.md §4, §11): one registry per interface; implementations register
// themselves by name from their own .cpp (model folders are CMake OBJECT libraries so the registration
// objects are linked in). The registry is filled during static initialisation and read-only afterwards.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/error.hpp"
#include "sim/params.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

template <class Interface, class Context>
class Registry {
 public:
  struct Entry {
    std::string name;
    std::string description;
    std::function<ParamSchema()> schema;
    std::function<std::unique_ptr<Interface>(const Context&)> make;
  };

  static Registry& instance() {
    static Registry registry;  // function-local: no static-initialisation-order problem
    return registry;
  }

  void add(Entry entry) {
    if (entries_.count(entry.name)) panic("kind '", entry.name, "' registered twice");
    entries_.emplace(entry.name, std::move(entry));
  }

  const Entry* find(const std::string& name) const {
    const auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

  /// The entry, or a ConfigError naming `what` with a did-you-mean and the list of kinds.
  const Entry& get(const std::string& name, const std::string& what) const {
    if (const Entry* e = find(name)) return *e;
    std::string list;
    for (const auto& n : names()) list += (list.empty() ? "" : ", ") + n;
    throw ConfigError(cat(what, ": unknown kind '", name, "'", did_you_mean(name, names()), "; registered kinds: ", list));
  }

  /// Names in sorted order (deterministic).
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [name, e] : entries_) out.push_back(name);
    return out;
  }

 private:
  Registry() = default;
  std::map<std::string, Entry> entries_;
};

}  // namespace tilesim

// Architecture-level systems (DESIGN.md §7): a preset names a registered system kind (`system: gpu`)
// and sets its parameter sections (`memory.l2.size: 50MiB`); the kind's builder expands them into
// clocks, components and links programmatically (132 SMs are not written out by hand). Sections are the
// leaves of the config tree: a dotted path whose map holds parameters, e.g. `memory.l2`, `core.sm`,
// `workload`. Every section is declared with a ParamSchema, so unknown keys get a did-you-mean and
// `tilesim params` lists them.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "sim/params.hpp"
#include "sim/registry.hpp"

namespace tilesim {

class Simulator;

/// The resolved parameter sections of a system, by dotted path.
class SystemSections {
 public:
  SystemSections() = default;
  explicit SystemSections(std::map<std::string, ParamValues> values) : values_(std::move(values)) {}
  /// The section at `path`; a panic if the system kind never declared it.
  const ParamValues& at(const std::string& path) const;
  bool has(const std::string& path) const { return values_.count(path) != 0; }
  const std::map<std::string, ParamValues>& all() const { return values_; }

 private:
  std::map<std::string, ParamValues> values_;
};

class SystemKind {
 public:
  virtual ~SystemKind() = default;
  /// The parameter sections this kind reads, as (dotted path, schema), in a stable order.
  virtual std::vector<std::pair<std::string, ParamSchema>> sections() const = 0;
  /// Add clocks, components and links to `sim` according to `config`. Throws ConfigError for
  /// combinations of values that are individually valid but cannot be built (naming the keys).
  virtual void build(Simulator& sim, const SystemSections& config) const = 0;
};

struct SystemKindContext {};
using SystemRegistry = Registry<SystemKind, SystemKindContext>;

/// Registers SystemKind type T (default-constructible) under `name`.
template <class T>
struct RegisterSystemKind {
  RegisterSystemKind(const char* name, const char* description) {
    SystemRegistry::instance().add({name, description, [name] { return ParamSchema(name); },
                                    [](const SystemKindContext&) -> std::unique_ptr<SystemKind> {
                                      return std::make_unique<T>();
                                    }});
  }
};

}  // namespace tilesim

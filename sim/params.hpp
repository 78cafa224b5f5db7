// Typed parameters, declared once (DESIGN.md §7): each has a type, a unit, a default and a description.
// A ParamSchema is what a component kind (or the `sim` section) accepts; ParamValues is the validated,
// resolved set of values for one instance, in SI base units.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "sim/time.hpp"
#include "sim/units.hpp"

namespace tilesim {

enum class ParamType { integer, real, boolean, string, choice, quantity };

const char* param_type_name(ParamType type);

struct ParamDecl {
  std::string name;
  ParamType type = ParamType::integer;
  UnitKind unit = UnitKind::none;  // for quantity
  std::string default_text;        // as it would be written in YAML
  std::string description;
  std::vector<std::string> choices;  // for choice
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

class ParamSchema {
 public:
  ParamSchema() = default;
  explicit ParamSchema(std::string kind) : kind_(std::move(kind)) {}

  ParamSchema& integer(const std::string& name, std::int64_t def, const std::string& description,
                       double min = -std::numeric_limits<double>::infinity(),
                       double max = std::numeric_limits<double>::infinity());
  ParamSchema& real(const std::string& name, double def, const std::string& description,
                    double min = -std::numeric_limits<double>::infinity(),
                    double max = std::numeric_limits<double>::infinity());
  ParamSchema& boolean(const std::string& name, bool def, const std::string& description);
  ParamSchema& string(const std::string& name, const std::string& def, const std::string& description);
  ParamSchema& choice(const std::string& name, const std::string& def, std::vector<std::string> choices,
                      const std::string& description);
  /// A quantity with a unit, e.g. quantity("latency", UnitKind::time, "100ns", "...", 0).
  ParamSchema& quantity(const std::string& name, UnitKind unit, const std::string& def,
                        const std::string& description, double min = 0,
                        double max = std::numeric_limits<double>::infinity());

  const std::string& kind() const { return kind_; }
  void set_kind(std::string kind) { kind_ = std::move(kind); }
  const std::vector<ParamDecl>& decls() const { return decls_; }
  const ParamDecl* find(const std::string& name) const;
  std::vector<std::string> names() const;

 private:
  ParamDecl& add(ParamDecl decl);
  std::string kind_;
  std::vector<ParamDecl> decls_;
};

/// Validated values of one schema. Reading an undeclared name is an internal error (panic).
class ParamValues {
 public:
  struct Value {
    ParamType type = ParamType::integer;
    UnitKind unit = UnitKind::none;
    double number = 0;   // integer, real, boolean (0/1), quantity in base units
    std::string text;    // string/choice value; canonical text for every type
  };

  ParamValues() = default;

  /// Resolve `given` (name -> text as written) against `schema`. `path` prefixes every error message
  /// (e.g. "components.mem"). Unknown names are errors with a did-you-mean; missing ones take the default.
  static ParamValues resolve(const ParamSchema& schema, const std::map<std::string, std::string>& given,
                             const std::string& path);

  std::int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  bool boolean(const std::string& name) const;
  const std::string& string(const std::string& name) const;  // string or choice
  double quantity(const std::string& name) const;             // base unit (Hz, B, B/s, s, cycles)
  std::uint64_t bytes(const std::string& name) const;         // size quantity as an integer
  Tick ticks(const std::string& name) const;                  // time quantity in ps
  const std::map<std::string, Value>& all() const { return values_; }
  const std::string& path() const { return path_; }

 private:
  const Value& get(const std::string& name, ParamType type) const;
  std::string path_;
  std::map<std::string, Value> values_;
};

}  // namespace tilesim

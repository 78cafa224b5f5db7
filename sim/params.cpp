#include "sim/params.hpp"

#include <cmath>

#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

const char* param_type_name(ParamType type) {
  switch (type) {
    case ParamType::integer: return "integer";
    case ParamType::real: return "real";
    case ParamType::boolean: return "bool";
    case ParamType::string: return "string";
    case ParamType::choice: return "choice";
    case ParamType::quantity: return "quantity";
  }
  return "?";
}

ParamDecl& ParamSchema::add(ParamDecl decl) {
  if (find(decl.name)) panic("parameter '", decl.name, "' declared twice in schema '", kind_, "'");
  decls_.push_back(std::move(decl));
  return decls_.back();
}

ParamSchema& ParamSchema::integer(const std::string& name, std::int64_t def, const std::string& description,
                                  double min, double max) {
  add({name, ParamType::integer, UnitKind::none, std::to_string(def), description, {}, min, max});
  return *this;
}
ParamSchema& ParamSchema::real(const std::string& name, double def, const std::string& description, double min,
                               double max) {
  add({name, ParamType::real, UnitKind::none, format_number(def, 17), description, {}, min, max});
  return *this;
}
ParamSchema& ParamSchema::boolean(const std::string& name, bool def, const std::string& description) {
  add({name, ParamType::boolean, UnitKind::none, def ? "true" : "false", description, {}, 0, 1});
  return *this;
}
ParamSchema& ParamSchema::string(const std::string& name, const std::string& def, const std::string& description) {
  add({name, ParamType::string, UnitKind::none, def, description, {}, 0, 0});
  return *this;
}
ParamSchema& ParamSchema::choice(const std::string& name, const std::string& def, std::vector<std::string> choices,
                                 const std::string& description) {
  add({name, ParamType::choice, UnitKind::none, def, description, std::move(choices), 0, 0});
  return *this;
}
ParamSchema& ParamSchema::quantity(const std::string& name, UnitKind unit, const std::string& def,
                                   const std::string& description, double min, double max) {
  add({name, ParamType::quantity, unit, def, description, {}, min, max});
  return *this;
}

const ParamDecl* ParamSchema::find(const std::string& name) const {
  for (const auto& d : decls_)
    if (d.name == name) return &d;
  return nullptr;
}

std::vector<std::string> ParamSchema::names() const {
  std::vector<std::string> out;
  for (const auto& d : decls_) out.push_back(d.name);
  return out;
}

namespace {

std::string key_of(const std::string& path, const std::string& name) {
  return path.empty() ? name : path + "." + name;
}

void check_range(const ParamDecl& d, double v, const std::string& key) {
  if (v < d.min)
    throw ConfigError(cat(key, ": ", format_number(v), " is below the minimum ", format_number(d.min)));
  if (v > d.max)
    throw ConfigError(cat(key, ": ", format_number(v), " is above the maximum ", format_number(d.max)));
}

ParamValues::Value parse_value(const ParamDecl& d, const std::string& raw, const std::string& key) {
  ParamValues::Value v;
  v.type = d.type;
  v.unit = d.unit;
  const std::string text(trim(raw));
  switch (d.type) {
    case ParamType::integer: {
      const Quantity q = parse_quantity(text, UnitKind::none, key);
      if (q.value != std::floor(q.value) || std::fabs(q.value) > 9.0e15)
        throw ConfigError(cat(key, ": '", text, "' is not an integer"));
      check_range(d, q.value, key);
      v.number = q.value;
      v.text = std::to_string(static_cast<std::int64_t>(q.value));
      break;
    }
    case ParamType::real: {
      const Quantity q = parse_quantity(text, UnitKind::none, key);
      check_range(d, q.value, key);
      v.number = q.value;
      v.text = format_number(q.value, 17);
      break;
    }
    case ParamType::boolean: {
      if (text == "true" || text == "yes" || text == "on" || text == "1") v.number = 1;
      else if (text == "false" || text == "no" || text == "off" || text == "0") v.number = 0;
      else throw ConfigError(cat(key, ": '", text, "' is not a boolean (use true or false)"));
      v.text = v.number != 0 ? "true" : "false";
      break;
    }
    case ParamType::string:
      v.text = text;
      break;
    case ParamType::choice: {
      bool ok = false;
      for (const auto& c : d.choices) ok = ok || c == text;
      if (!ok) {
        std::string list;
        for (const auto& c : d.choices) list += (list.empty() ? "" : ", ") + c;
        throw ConfigError(cat(key, ": '", text, "' is not one of: ", list, did_you_mean(text, d.choices)));
      }
      v.text = text;
      break;
    }
    case ParamType::quantity: {
      const Quantity q = parse_quantity(text, d.unit, key);
      check_range(d, q.value, key);
      v.number = q.value;
      v.text = format_quantity_exact(q.value, d.unit);  // it travels on as text: keep every digit
      break;
    }
  }
  return v;
}

}  // namespace

ParamValues ParamValues::resolve(const ParamSchema& schema, const std::map<std::string, std::string>& given,
                                 const std::string& path) {
  ParamValues out;
  out.path_ = path;
  for (const auto& [name, text] : given) {
    if (!schema.find(name)) {
      std::string valid;
      for (const auto& n : schema.names()) valid += (valid.empty() ? "" : ", ") + n;
      throw ConfigError(cat("unknown key '", key_of(path, name), "'",
                            schema.kind().empty() ? std::string() : " for a " + schema.kind(),
                            did_you_mean(name, schema.names()), "; valid keys: ", valid.empty() ? "(none)" : valid));
    }
  }
  for (const auto& d : schema.decls()) {
    const auto it = given.find(d.name);
    const std::string key = key_of(path, d.name);
    if (it != given.end()) {
      out.values_[d.name] = parse_value(d, it->second, key);
    } else {
      try {
        out.values_[d.name] = parse_value(d, d.default_text, key);
      } catch (const ConfigError& e) {
        panic("default of '", key, "' is invalid: ", e.what());
      }
    }
  }
  return out;
}

const ParamValues::Value& ParamValues::get(const std::string& name, ParamType type) const {
  const auto it = values_.find(name);
  if (it == values_.end()) panic("parameter '", key_of(path_, name), "' was read but never declared");
  const bool compatible = it->second.type == type ||
                          (type == ParamType::string && it->second.type == ParamType::choice);
  if (!compatible)
    panic("parameter '", key_of(path_, name), "' is a ", param_type_name(it->second.type), ", read as ",
          param_type_name(type));
  return it->second;
}

std::int64_t ParamValues::integer(const std::string& name) const {
  return static_cast<std::int64_t>(get(name, ParamType::integer).number);
}
double ParamValues::real(const std::string& name) const { return get(name, ParamType::real).number; }
bool ParamValues::boolean(const std::string& name) const { return get(name, ParamType::boolean).number != 0; }
const std::string& ParamValues::string(const std::string& name) const { return get(name, ParamType::string).text; }
double ParamValues::quantity(const std::string& name) const { return get(name, ParamType::quantity).number; }
std::uint64_t ParamValues::bytes(const std::string& name) const {
  const Value& v = get(name, ParamType::quantity);
  if (v.unit != UnitKind::size) panic("parameter '", key_of(path_, name), "' is not a size");
  return static_cast<std::uint64_t>(std::llround(v.number));
}
Tick ParamValues::ticks(const std::string& name) const {
  const Value& v = get(name, ParamType::quantity);
  if (v.unit != UnitKind::time) panic("parameter '", key_of(path_, name), "' is not a time");
  return seconds_to_ticks(v.number);
}

}  // namespace tilesim

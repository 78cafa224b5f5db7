#include "sim/system.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <map>

#include "sim/component_registry.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {

const std::vector<std::string> kTopLevelKeys = {"description", "system", "sim", "clocks", "components", "links"};

bool is_reserved(const std::string& key) {
  return std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), key) != kTopLevelKeys.end();
}

/// Check that every key under `node` (at dotted `path`, "" for the root) is either reserved (root only),
/// a declared section, or a namespace leading to one; errors name the key with a did-you-mean.
void check_section_keys(const YAML::Node& node, const std::string& path,
                        const std::vector<std::string>& section_paths, const ConfigTree& tree,
                        const std::string& system_kind);

/// Re-throw a ConfigError with the place the offending key was written, when known.
[[noreturn]] void rethrow_with_origin(const ConfigError& e, const ConfigTree& tree, const std::string& key) {
  const std::string where = tree.origin(key);
  if (where.empty()) throw e;
  throw ConfigError(cat(e.what(), " [", key, " set at ", where, "]"));
}

void check_section_keys(const YAML::Node& node, const std::string& path,
                        const std::vector<std::string>& section_paths, const ConfigTree& tree,
                        const std::string& system_kind) {
  // Map-valued names that may appear at this level: reserved keys at the root, else the next component of
  // every declared section below `path`. Scalars inside a section are its parameters, which
  // ParamValues::resolve checks against the section's schema.
  const bool is_section =
      !path.empty() && std::find(section_paths.begin(), section_paths.end(), path) != section_paths.end();
  std::vector<std::string> allowed;
  if (path.empty()) allowed = kTopLevelKeys;
  const std::string prefix = path.empty() ? "" : path + ".";
  for (const auto& sp : section_paths) {
    if (sp.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = sp.substr(prefix.size());
    const std::string head = rest.substr(0, rest.find('.'));
    if (std::find(allowed.begin(), allowed.end(), head) == allowed.end()) allowed.push_back(head);
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    const std::string full = prefix + key;
    if (path.empty() && is_reserved(key)) continue;
    const bool known = std::find(allowed.begin(), allowed.end(), key) != allowed.end();
    if (known) {
      if (!it->second.IsMap())
        throw ConfigError(cat("'", full, "' is a section, not a value (its keys are listed by `tilesim params ",
                              system_kind.empty() ? std::string("KIND") : system_kind, "`)"));
      check_section_keys(it->second, full, section_paths, tree, system_kind);
      continue;
    }
    if (is_section && !it->second.IsMap()) continue;  // a parameter: checked by its schema
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
    try {
      throw ConfigError(cat("unknown key '", full, "'",
                            path.empty() && system_kind.empty() ? " at the top level" : "",
                            did_you_mean(key, allowed), "; valid here: ", list.empty() ? "(parameters only)" : list));
    } catch (const ConfigError& e) {
      rethrow_with_origin(e, tree, full);
    }
  }
}

std::map<std::string, std::string> scalar_map(const YAML::Node& node, const std::string& path,
                                              const std::vector<std::string>& skip) {
  std::map<std::string, std::string> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) throw ConfigError(cat(path, ": expected a map of key: value"));
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.Scalar();
    bool skipped = false;
    for (const auto& s : skip) skipped = skipped || s == key;
    if (skipped) continue;
    if (!it->second.IsScalar())
      throw ConfigError(cat(path, ".", key, ": expected a single value, found a ",
                            it->second.IsMap() ? "map" : "list"));
    out[key] = it->second.Scalar();
  }
  return out;
}

std::pair<std::string, std::string> split_endpoint(const std::string& text, const std::string& key) {
  const auto dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size())
    throw ConfigError(cat(key, ": '", text, "' should be component.port (e.g. gen.req)"));
  return {text.substr(0, dot), text.substr(dot + 1)};
}

ParamSchema link_schema() {
  ParamSchema s("link");
  s.string("from", "", "output port, as component.port")
      .string("to", "", "input port, as component.port")
      .string("latency", "1cycles", "delivery latency: a time (10ns) or cycles of the sender's clock (4cycles)")
      .integer("capacity", 0, "messages in flight before the sender is back-pressured (0 = unlimited)", 0, 1e9);
  return s;
}

}  // namespace

SystemSpec parse_system(const ConfigTree& tree) {
  const YAML::Node& root = tree.root();
  SystemSpec spec;
  if (root["description"]) spec.description = root["description"].Scalar();

  // system kind and its sections
  std::vector<std::pair<std::string, ParamSchema>> sections;
  if (root["system"]) {
    try {
      if (!root["system"].IsScalar()) throw ConfigError("system: expected the name of a system kind");
      spec.system_kind = root["system"].Scalar();
      sections = SystemRegistry::instance().get(spec.system_kind, "system").make({})->sections();
    } catch (const ConfigError& e) {
      rethrow_with_origin(e, tree, "system");
    }
  }
  std::vector<std::string> section_paths;
  for (const auto& sec : sections) section_paths.push_back(sec.first);
  // A preset describes hardware that several system kinds may run (the `gpu` with its SMs and the
  // `memory_probe` microbenchmark front ends on one chip): sections another registered kind declares are
  // accepted here and left to that kind; only the selected kind's sections are resolved.
  if (!spec.system_kind.empty())
    for (const auto& other : SystemRegistry::instance().names()) {
      if (other == spec.system_kind) continue;
      for (const auto& sec : SystemRegistry::instance().get(other, "system").make({})->sections())
        if (std::find(section_paths.begin(), section_paths.end(), sec.first) == section_paths.end())
          section_paths.push_back(sec.first);
    }
  check_section_keys(root, "", section_paths, tree, spec.system_kind);
  std::map<std::string, ParamValues> section_values;
  for (const auto& [path, schema] : sections) {
    try {
      // Keys that are sub-sections of this section (of any kind) are not its parameters.
      std::vector<std::string> children;
      for (const auto& sp : section_paths)
        if (sp.size() > path.size() + 1 && sp.compare(0, path.size() + 1, path + ".") == 0) {
          const std::string rest = sp.substr(path.size() + 1);
          children.push_back(rest.substr(0, rest.find('.')));
        }
      section_values[path] = ParamValues::resolve(schema, scalar_map(find_config_node(root, path), path, children), path);
    } catch (const ConfigError& e) {
      rethrow_with_origin(e, tree, path);
    }
  }
  spec.sections = SystemSections(std::move(section_values));

  // sim
  try {
    spec.sim = ParamValues::resolve(sim_param_schema(), scalar_map(root["sim"], "sim", {}), "sim");
  } catch (const ConfigError& e) {
    rethrow_with_origin(e, tree, "sim");
  }

  // clocks
  const YAML::Node clocks = root["clocks"];
  const bool has_clocks = clocks && clocks.IsMap() && clocks.size() > 0;
  if (!has_clocks && spec.system_kind.empty())
    throw ConfigError("the config declares no clock: add e.g. `clocks: {core: 1.83GHz}` (or name a `system:`)");
  if (clocks && !clocks.IsNull() && !clocks.IsMap()) throw ConfigError("clocks: expected a map of name: frequency");
  if (has_clocks)
  for (auto it = clocks.begin(); it != clocks.end(); ++it) {
    const std::string name = it->first.Scalar();
    const std::string key = "clocks." + name;
    try {
      if (!it->second.IsScalar()) throw ConfigError(cat(key, ": expected a frequency such as 1.83GHz"));
      const Quantity q = parse_quantity(it->second.Scalar(), UnitKind::frequency, key);
      if (q.value < 1.0) throw ConfigError(cat(key, ": frequency must be at least 1Hz"));
      spec.clocks.push_back({name, static_cast<std::uint64_t>(std::llround(q.value))});
    } catch (const ConfigError& e) {
      rethrow_with_origin(e, tree, key);
    }
  }

  // components
  const YAML::Node comps = root["components"];
  if (comps && !comps.IsNull() && !comps.IsMap())
    throw ConfigError("components: expected a map of name: {kind: ..., ...}");
  std::vector<std::string> clock_names;
  for (const auto& c : spec.clocks) clock_names.push_back(c.name);
  if (comps && comps.IsMap()) {
    for (auto it = comps.begin(); it != comps.end(); ++it) {
      const std::string name = it->first.Scalar();
      const std::string path = "components." + name;
      try {
        if (name.find('.') != std::string::npos) throw ConfigError(cat(path, ": component names cannot contain '.'"));
        const YAML::Node& node = it->second;
        if (!node.IsMap() || !node["kind"])
          throw ConfigError(cat(path, ": needs `kind:` (see `tilesim params` for the registered kinds)"));
        ComponentSpec cs;
        cs.name = name;
        cs.kind = node["kind"].Scalar();
        const auto& entry = ComponentRegistry::instance().get(cs.kind, path + ".kind");
        if (node["clock"]) {
          cs.clock = node["clock"].Scalar();
          if (spec.system_kind.empty() &&
              std::find(clock_names.begin(), clock_names.end(), cs.clock) == clock_names.end())
            throw ConfigError(cat(path, ".clock: unknown clock '", cs.clock, "'", did_you_mean(cs.clock, clock_names)));
        } else if (spec.clocks.size() == 1) {
          cs.clock = spec.clocks.front().name;
        } else {
          throw ConfigError(cat(path, ": needs `clock:` (one of the declared clocks)"));
        }
        cs.params = ParamValues::resolve(entry.schema(), scalar_map(node, path, {"kind", "clock"}), path);
        spec.components.push_back(std::move(cs));
      } catch (const ConfigError& e) {
        rethrow_with_origin(e, tree, path);
      }
    }
  }

  // links
  const YAML::Node links = root["links"];
  if (links && !links.IsNull() && !links.IsMap())
    throw ConfigError("links: expected a map of name: {from: a.port, to: b.port, latency: ...}");
  if (links && links.IsMap()) {
    for (auto it = links.begin(); it != links.end(); ++it) {
      const std::string name = it->first.Scalar();
      const std::string path = "links." + name;
      try {
        const ParamValues v = ParamValues::resolve(link_schema(), scalar_map(it->second, path, {}), path);
        LinkSpec ls;
        ls.name = name;
        if (v.string("from").empty() || v.string("to").empty())
          throw ConfigError(cat(path, ": needs both `from:` and `to:`"));
        std::tie(ls.from_component, ls.from_port) = split_endpoint(v.string("from"), path + ".from");
        std::tie(ls.to_component, ls.to_port) = split_endpoint(v.string("to"), path + ".to");
        ls.latency_text = v.string("latency");
        ls.latency = parse_any_quantity(ls.latency_text, path + ".latency");
        if (ls.latency.kind == UnitKind::none) ls.latency.kind = UnitKind::cycles;
        if (ls.latency.kind != UnitKind::time && ls.latency.kind != UnitKind::cycles)
          throw ConfigError(cat(path, ".latency: '", ls.latency_text, "' is a ", unit_kind_name(ls.latency.kind),
                                "; use a time (10ns) or cycles (4cycles)"));
        ls.capacity = static_cast<std::uint32_t>(v.integer("capacity"));
        spec.links.push_back(std::move(ls));
      } catch (const ConfigError& e) {
        rethrow_with_origin(e, tree, path);
      }
    }
  }
  return spec;
}

std::unique_ptr<Simulator> build_system(const SystemSpec& spec) {
  auto sim = std::make_unique<Simulator>(spec.sim);
  for (const auto& c : spec.clocks) sim->add_clock(c.name, c.frequency_hz);
  if (!spec.system_kind.empty())
    SystemRegistry::instance().get(spec.system_kind, "system").make({})->build(*sim, spec.sections);
  for (const auto& cs : spec.components) {
    const auto& entry = ComponentRegistry::instance().get(cs.kind, "components." + cs.name + ".kind");
    ClockDomain* clk = nullptr;
    try {
      clk = &sim->clock(cs.clock);
    } catch (const ConfigError& e) {
      throw ConfigError(cat("components.", cs.name, ".clock: ", e.what()));
    }
    ComponentContext ctx{cs.name, cs.kind, cs.params, clk, sim.get()};
    sim->add(entry.make(ctx));
  }
  for (const auto& ls : spec.links) {
    const std::string path = "links." + ls.name;
    auto port_of = [&](const std::string& comp, const std::string& port, const char* end) -> PortBase& {
      Component* c = nullptr;
      try {
        c = &sim->component(comp);
      } catch (const ConfigError& e) {
        throw ConfigError(cat(path, ".", end, ": ", e.what()));
      }
      if (PortBase* p = c->find_port(port)) return *p;
      std::vector<std::string> names;
      for (const auto* p : c->ports()) names.push_back(p->name());
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      throw ConfigError(cat(path, ".", end, ": component '", comp, "' (", c->kind(), ") has no port '", port, "'",
                            did_you_mean(port, names), "; its ports: ", list));
    };
    PortBase& out = port_of(ls.from_component, ls.from_port, "from");
    PortBase& in = port_of(ls.to_component, ls.to_port, "to");
    LinkParams lp;
    if (ls.latency.kind == UnitKind::time) {
      lp.latency = seconds_to_ticks(ls.latency.value);
    } else {
      if (ls.latency.value != std::floor(ls.latency.value) || ls.latency.value < 0)
        throw ConfigError(cat(path, ".latency: cycles must be a whole number"));
      lp.latency = out.owner().clock().tick_of(Cycle(static_cast<std::uint64_t>(ls.latency.value)));
    }
    lp.capacity = ls.capacity;
    try {
      sim->connect(out, in, lp);
    } catch (const ConfigError& e) {
      throw ConfigError(cat(path, ": ", e.what()));
    }
  }
  return sim;
}

std::string resolved_config_yaml(const SystemSpec& spec) {
  YAML::Node root(YAML::NodeType::Map);
  root["description"] = spec.description;
  if (!spec.system_kind.empty()) root["system"] = spec.system_kind;
  for (const auto& [path, values] : spec.sections.all()) {
    YAML::Node node;
    node.reset(root);
    for (const auto& part : split(path, '.')) {
      if (!node[part]) node[part] = YAML::Node(YAML::NodeType::Map);
      YAML::Node child = node[part];
      node.reset(child);
    }
    for (const auto& [k, v] : values.all()) node[k] = v.text;
  }
  YAML::Node sim(YAML::NodeType::Map);
  for (const auto& [k, v] : spec.sim.all()) sim[k] = v.text;
  root["sim"] = sim;
  if (!spec.clocks.empty()) {
    YAML::Node clocks(YAML::NodeType::Map);
    for (const auto& c : spec.clocks)
      clocks[c.name] = format_quantity(static_cast<double>(c.frequency_hz), UnitKind::frequency);
    root["clocks"] = clocks;
  }
  if (!spec.components.empty()) {
    YAML::Node comps(YAML::NodeType::Map);
    for (const auto& cs : spec.components) {
      YAML::Node c(YAML::NodeType::Map);
      c["kind"] = cs.kind;
      c["clock"] = cs.clock;
      for (const auto& [k, v] : cs.params.all()) c[k] = v.text;
      comps[cs.name] = c;
    }
    root["components"] = comps;
  }
  if (!spec.links.empty()) {
    YAML::Node links(YAML::NodeType::Map);
    for (const auto& ls : spec.links) {
      YAML::Node l(YAML::NodeType::Map);
      l.SetStyle(YAML::EmitterStyle::Flow);
      l["from"] = ls.from_component + "." + ls.from_port;
      l["to"] = ls.to_component + "." + ls.to_port;
      l["latency"] = ls.latency_text;
      l["capacity"] = ls.capacity;
      links[ls.name] = l;
    }
    root["links"] = links;
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace tilesim

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

const std::vector<std::string> kTopLevelKeys = {"description", "sim", "clocks", "components", "links"};

/// Re-throw a ConfigError with the place the offending key was written, when known.
[[noreturn]] void rethrow_with_origin(const ConfigError& e, const ConfigTree& tree, const std::string& key) {
  const std::string where = tree.origin(key);
  if (where.empty()) throw e;
  throw ConfigError(cat(e.what(), " [", key, " set at ", where, "]"));
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
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), key) == kTopLevelKeys.end()) {
      try {
        throw ConfigError(cat("unknown top-level key '", key, "'", did_you_mean(key, kTopLevelKeys),
                              "; valid keys: description, sim, clocks, components, links"));
      } catch (const ConfigError& e) {
        rethrow_with_origin(e, tree, key);
      }
    }
  }
  if (root["description"]) spec.description = root["description"].Scalar();

  // sim
  try {
    spec.sim = ParamValues::resolve(sim_param_schema(), scalar_map(root["sim"], "sim", {}), "sim");
  } catch (const ConfigError& e) {
    rethrow_with_origin(e, tree, "sim");
  }

  // clocks
  const YAML::Node clocks = root["clocks"];
  if (!clocks || !clocks.IsMap() || clocks.size() == 0)
    throw ConfigError("the config declares no clock: add e.g. `clocks: {core: 1.83GHz}`");
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
          if (std::find(clock_names.begin(), clock_names.end(), cs.clock) == clock_names.end())
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
  for (const auto& cs : spec.components) {
    const auto& entry = ComponentRegistry::instance().get(cs.kind, "components." + cs.name + ".kind");
    ComponentContext ctx{cs.name, cs.kind, cs.params, &sim->clock(cs.clock), sim.get()};
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
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "description" << YAML::Value << spec.description;
  out << YAML::Key << "sim" << YAML::Value << YAML::BeginMap;
  for (const auto& [k, v] : spec.sim.all()) out << YAML::Key << k << YAML::Value << v.text;
  out << YAML::EndMap;
  out << YAML::Key << "clocks" << YAML::Value << YAML::BeginMap;
  for (const auto& c : spec.clocks)
    out << YAML::Key << c.name << YAML::Value << format_quantity(static_cast<double>(c.frequency_hz), UnitKind::frequency);
  out << YAML::EndMap;
  out << YAML::Key << "components" << YAML::Value << YAML::BeginMap;
  for (const auto& cs : spec.components) {
    out << YAML::Key << cs.name << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "kind" << YAML::Value << cs.kind;
    out << YAML::Key << "clock" << YAML::Value << cs.clock;
    for (const auto& [k, v] : cs.params.all()) out << YAML::Key << k << YAML::Value << v.text;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::Key << "links" << YAML::Value << YAML::BeginMap;
  for (const auto& ls : spec.links) {
    out << YAML::Key << ls.name << YAML::Value << YAML::Flow << YAML::BeginMap;
    out << YAML::Key << "from" << YAML::Value << (ls.from_component + "." + ls.from_port);
    out << YAML::Key << "to" << YAML::Value << (ls.to_component + "." + ls.to_port);
    out << YAML::Key << "latency" << YAML::Value << ls.latency_text;
    out << YAML::Key << "capacity" << YAML::Value << ls.capacity;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace tilesim

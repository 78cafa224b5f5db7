#include "sim/config.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sim/error.hpp"
#include "sim/text_util.hpp"

#ifndef TILESIM_SOURCE_DIR
#error "TILESIM_SOURCE_DIR must be defined by the build"
#endif

namespace tilesim {
namespace fs = std::filesystem;

namespace {
std::string join_key(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}
std::string mark_text(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return cat(file, ":", mark.line + 1, ":", mark.column + 1);
}
}  // namespace

void ConfigTree::merge_node(YAML::Node target, const YAML::Node& source, const std::string& path,
                            const std::string& file) {
  for (auto it = source.begin(); it != source.end(); ++it) {
    if (!it->first.IsScalar())
      throw ConfigError(cat(mark_text(file, it->first.Mark()), ": keys must be plain names"));
    const std::string key = it->first.Scalar();
    const std::string full = join_key(path, key);
    const YAML::Node& value = it->second;
    origins_[full] = mark_text(file, it->first.Mark());
    if (value.IsMap()) {
      if (!target[key] || !target[key].IsMap()) target[key] = YAML::Node(YAML::NodeType::Map);
      merge_node(target[key], value, full, file);
    } else {
      target[key] = YAML::Clone(value);
    }
  }
}

void ConfigTree::merge_text(const std::string& text, const std::string& origin) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(cat(mark_text(origin, e.mark), ": error: malformed YAML: ", e.msg));
  }
  if (!doc || doc.IsNull()) return;  // an empty file is a valid (empty) layer
  if (!doc.IsMap()) throw ConfigError(cat(origin, ": error: the top level of a config must be a map of keys"));
  merge_node(root_, doc, "", origin);
}

void ConfigTree::merge_file(const std::string& path) {
  std::vector<std::string> chain;
  merge_file_chain(path, chain);
}

void ConfigTree::merge_file_chain(const std::string& path, std::vector<std::string>& chain) {
  std::ifstream in(path);
  if (!in) throw ConfigError(cat("cannot read config file '", path, "'"));
  std::stringstream ss;
  ss << in.rdbuf();
  YAML::Node doc;
  try {
    doc = YAML::Load(ss.str());
  } catch (const YAML::Exception& e) {
    throw ConfigError(cat(mark_text(path, e.mark), ": error: malformed YAML: ", e.msg));
  }
  if (!doc || doc.IsNull()) return;
  if (!doc.IsMap()) throw ConfigError(cat(path, ": error: the top level of a config must be a map of keys"));
  const std::string canonical = fs::weakly_canonical(path).string();
  if (std::find(chain.begin(), chain.end(), canonical) != chain.end()) {
    std::string cycle;
    for (const auto& c : chain) cycle += c + " -> ";
    throw ConfigError(cat(path, ": `inherits` forms a cycle: ", cycle, canonical));
  }
  chain.push_back(canonical);
  if (const YAML::Node parents = doc["inherits"]) {
    std::vector<std::string> names;
    if (parents.IsScalar()) names.push_back(parents.Scalar());
    else if (parents.IsSequence())
      for (const auto& p : parents) names.push_back(p.Scalar());
    else throw ConfigError(cat(mark_text(path, parents.Mark()), ": inherits: expected a preset name or a list of them"));
    for (const auto& n : names) {
      try {
        merge_file_chain(find_preset(n), chain);
      } catch (const ConfigError& e) {
        throw ConfigError(cat(mark_text(path, parents.Mark()), ": in `inherits: ", n, "`: ", e.what()));
      }
    }
    doc.remove("inherits");
  }
  chain.pop_back();
  merged_files_.push_back(canonical);
  merge_node(root_, doc, "", path);
}

void ConfigTree::apply_override(const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(cat("--set '", assignment, "': expected key.path=value"));
  const std::string key(trim(assignment.substr(0, eq)));
  const std::string value(trim(assignment.substr(eq + 1)));
  const auto parts = split(key, '.');
  for (const auto& p : parts)
    if (p.empty()) throw ConfigError(cat("--set '", assignment, "': empty component in key '", key, "'"));
  YAML::Node node;
  node.reset(root_);
  std::string path;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    path = join_key(path, parts[i]);
    YAML::Node next = node[parts[i]];
    if (!next || next.IsNull()) {
      node[parts[i]] = YAML::Node(YAML::NodeType::Map);
    } else if (!next.IsMap()) {
      throw ConfigError(cat("--set '", assignment, "': '", path, "' is a value, not a section"));
    }
    node.reset(node[parts[i]]);  // rebind; `node = ...` would overwrite the referenced node (yaml-cpp)
  }
  node[parts.back()] = value;
  origins_[key] = "--set";
}

std::string ConfigTree::origin(const std::string& dotted_key) const {
  const auto it = origins_.find(dotted_key);
  return it == origins_.end() ? std::string() : it->second;
}

std::string ConfigTree::dump() const {
  YAML::Emitter out;
  out << root_;
  return std::string(out.c_str()) + "\n";
}

std::vector<std::string> preset_dirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("TILESIM_PRESETS")) {
    for (const auto& d : split(env, ':'))
      if (!d.empty()) dirs.push_back(d);
  }
  dirs.push_back(std::string(TILESIM_SOURCE_DIR) + "/arch/presets");
  return dirs;
}

std::vector<PresetInfo> list_presets() {
  std::vector<PresetInfo> out;
  for (const auto& dir : preset_dirs()) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec))
      if (entry.path().extension() == ".yaml") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      const std::string name = f.stem().string();
      if (std::any_of(out.begin(), out.end(), [&](const PresetInfo& p) { return p.name == name; })) continue;
      PresetInfo info{name, f.string(), ""};
      try {
        const YAML::Node doc = YAML::LoadFile(f.string());
        if (doc && doc.IsMap() && doc["description"]) info.description = doc["description"].as<std::string>();
      } catch (const YAML::Exception& e) {
        info.description = cat("(unreadable: ", e.msg, ")");
      }
      out.push_back(info);
    }
  }
  return out;
}

std::string find_preset(const std::string& name) {
  std::string stem = name;
  if (stem.size() > 5 && stem.substr(stem.size() - 5) == ".yaml") stem = stem.substr(0, stem.size() - 5);
  std::vector<std::string> names;
  for (const auto& p : list_presets()) {
    if (p.name == stem) return p.path;
    names.push_back(p.name);
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw ConfigError(cat("unknown preset '", name, "'", did_you_mean(stem, names),
                        "; available: ", list.empty() ? "(none)" : list, " (see `tilesim presets`)"));
}

YAML::Node find_config_node(const YAML::Node& root, const std::string& dotted_key) {
  // "Not found" must be an Undefined node: a default-constructed YAML::Node is a defined Null, which
  // callers' `if (!n)` would take for a key that is present (and then read an empty value).
  const YAML::Node not_found(YAML::NodeType::Undefined);
  YAML::Node node;
  node.reset(root);
  for (const auto& part : split(dotted_key, '.')) {
    if (!node.IsMap()) return not_found;
    // Through a const reference: the non-const operator[] would insert the missing key into the tree.
    const YAML::Node& lookup = node;
    const YAML::Node child = lookup[part];
    if (!child) return not_found;
    node.reset(child);
  }
  return node;
}

}  // namespace tilesim

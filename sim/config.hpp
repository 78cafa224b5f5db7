// Configuration loading (DESIGN.md §7): YAML files layered in order (`-c a.yaml -c b.yaml`), then
// `--set key.path=value` overrides. Maps merge key by key; scalars and lists are replaced.
// The origin of every key (file:line:col or --set) is remembered for error messages.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace tilesim {

/// The node at `dotted.key` under `root`, or a null node when a part of the path is missing or not a map.
YAML::Node find_config_node(const YAML::Node& root, const std::string& dotted_key);

class ConfigTree {
 public:
  ConfigTree() : root_(YAML::NodeType::Map) {}

  /// Merge a YAML file on top of what is there. Missing file or bad YAML -> ConfigError naming file:line:col.
  /// A file whose top level has `inherits: PRESET` (or a list of presets) gets those presets merged
  /// first, recursively (a cycle is an error); `inherits` itself is not kept in the tree.
  void merge_file(const std::string& path);
  /// Merge YAML text; `origin` names it in errors (e.g. a preset name).
  void merge_text(const std::string& text, const std::string& origin);
  /// Apply `a.b.c=value`. The value is a scalar (kept as text).
  void apply_override(const std::string& assignment);

  const YAML::Node& root() const { return root_; }
  /// The node at `dotted.key`, or a null node when a part of the path is missing or not a map.
  YAML::Node find(const std::string& dotted_key) const { return find_config_node(root_, dotted_key); }
  /// Where `dotted.key` was last set ("file.yaml:3:5", "--set"), or "" if unknown.
  std::string origin(const std::string& dotted_key) const;
  /// The merged tree as YAML text.
  std::string dump() const;
  /// Every file merged so far, `inherits` parents included (canonical paths, in merge order).
  const std::vector<std::string>& merged_files() const { return merged_files_; }

 private:
  void merge_node(YAML::Node target, const YAML::Node& source, const std::string& path, const std::string& file);
  void merge_file_chain(const std::string& path, std::vector<std::string>& chain);
  YAML::Node root_;
  std::map<std::string, std::string> origins_;
  std::vector<std::string> merged_files_;
};

/// Directories searched for presets: $TILESIM_PRESETS (colon-separated), then the source tree's
/// arch/presets (compiled in).
std::vector<std::string> preset_dirs();
/// Path of preset `name` (with or without .yaml); ConfigError with the list of presets if unknown.
std::string find_preset(const std::string& name);
struct PresetInfo {
  std::string name;
  std::string path;
  std::string description;
};
std::vector<PresetInfo> list_presets();

}  // namespace tilesim

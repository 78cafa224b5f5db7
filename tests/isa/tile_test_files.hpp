// Helpers shared by the IR/parser/verifier tests: where the .tile examples live and how to read them.
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace tilesim::isa::testing {

inline std::filesystem::path repo_root() { return std::filesystem::path(TILESIM_ISA_REPO_ROOT); }

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Every .tile file under tests/isa/data and workloads/ (recursively), sorted.
inline std::vector<std::filesystem::path> all_tile_files() {
  std::vector<std::filesystem::path> files;
  for (const char* dir : {"tests/isa/data", "workloads"}) {
    const auto root = repo_root() / dir;
    if (!std::filesystem::is_directory(root)) continue;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root))
      if (entry.is_regular_file() && entry.path().extension() == ".tile") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// Values of `// <key>: ...` comment lines (e.g. key "expect-error").
inline std::vector<std::string> directives(const std::string& text, const std::string& key) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  std::string line;
  const std::string marker = "// " + key + ": ";
  while (std::getline(lines, line)) {
    const auto pos = line.find(marker);
    if (pos == std::string::npos) continue;
    std::string value = line.substr(pos + marker.size());
    while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
    out.push_back(value);
  }
  return out;
}

}  // namespace tilesim::isa::testing

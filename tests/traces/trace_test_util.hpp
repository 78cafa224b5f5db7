// Temporary files for the trace tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>

namespace trace_test {

inline std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("tilesim_traces_test_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

/// Write `text` to DIR/name and return the path.
inline std::string write_file(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
  const auto path = dir / name;
  std::ofstream(path, std::ios::binary) << text;
  return path.string();
}

}  // namespace trace_test

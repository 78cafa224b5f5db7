// Running programs from tests (the CLI as a user runs it; one simulation per process) and reading their
// outputs. Header-only; TILESIM_BINARY is defined by each test target that runs the CLI.
#pragma once

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace tilesim::test {

struct CommandResult {
  int code = -1;       // exit status; -1 if the command could not start or was killed
  std::string output;  // stdout and stderr, merged
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) {
    r.output = "popen failed: " + command;
    return r;
  }
  std::array<char, 4096> buf{};
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

#ifdef TILESIM_BINARY
/// `tilesim ARGS`, with the binary this build made.
inline CommandResult run_tilesim(const std::string& args) {
  return run_command(std::string(TILESIM_BINARY) + " " + args);
}
#endif

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// An empty folder under the temp dir, unique to this process.
inline std::filesystem::path fresh_temp_dir(const std::string& name) {
  const auto d = std::filesystem::temp_directory_path() / ("tilesim_test_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  return d;
}

}  // namespace tilesim::test

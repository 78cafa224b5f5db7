// Running commands as child processes, several at a time (validate runs one simulation per process:
// SystemC cannot elaborate twice). stdout and stderr of each go to files the caller names.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace tilesim::validation {

struct ChildCommand {
  std::vector<std::string> argv;  // argv[0] is the program path
  std::string stdout_file;        // "" = /dev/null
  std::string stderr_file;        // "" = /dev/null
};

struct ChildResult {
  int exit_code = -1;       // the exit status; -1 when killed by a signal or not started
  int signal = 0;           // the signal that ended it, 0 if none
  bool timed_out = false;   // killed after timeout_seconds
  std::string start_error;  // why it could not be started ("" = started)
};

/// Run every command, at most `jobs` at a time (jobs >= 1), killing any that runs longer than
/// `timeout_seconds` (0 = no limit). Results are in the order of `commands`. `on_done(i)` is called as
/// each finishes (progress output).
std::vector<ChildResult> run_children(const std::vector<ChildCommand>& commands, int jobs, double timeout_seconds,
                                      const std::function<void(std::size_t)>& on_done = {});

/// The last `max_lines` non-empty lines of a text file joined by " | " on one line ("" when unreadable).
std::string tail_lines(const std::string& path, int max_lines);

/// Path of the running executable (/proc/self/exe).
std::string self_executable();

}  // namespace tilesim::validation

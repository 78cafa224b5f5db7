#include "validation/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <thread>

#include "sim/error.hpp"
#include "sim/text_util.hpp"

extern char** environ;

namespace tilesim::validation {
namespace {

using Clock = std::chrono::steady_clock;

struct Running {
  std::size_t index;
  Clock::time_point started;
  bool killed_for_timeout = false;
};

/// Start one child; its pid, or -1 with `error` set.
pid_t start_child(const ChildCommand& cmd, std::string& error) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const auto redirect = [&](int fd, const std::string& file) {
    posix_spawn_file_actions_addopen(&actions, fd, file.empty() ? "/dev/null" : file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  };
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  redirect(1, cmd.stdout_file);
  redirect(2, cmd.stderr_file);
  std::vector<char*> argv;
  for (const auto& a : cmd.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    error = cat("cannot start ", cmd.argv[0], ": ", std::strerror(rc));
    return -1;
  }
  return pid;
}

}  // namespace

std::vector<ChildResult> run_children(const std::vector<ChildCommand>& commands, int jobs, double timeout_seconds,
                                      const std::function<void(std::size_t)>& on_done) {
  if (jobs < 1) panic("run_children: jobs must be >= 1, got ", jobs);
  std::vector<ChildResult> results(commands.size());
  std::deque<std::size_t> waiting;
  for (std::size_t i = 0; i < commands.size(); ++i) waiting.push_back(i);
  std::map<pid_t, Running> running;
  while (!waiting.empty() || !running.empty()) {
    while (!waiting.empty() && static_cast<int>(running.size()) < jobs) {
      const std::size_t i = waiting.front();
      waiting.pop_front();
      std::string error;
      const pid_t pid = start_child(commands[i], error);
      if (pid < 0) {
        results[i].start_error = error;
        if (on_done) on_done(i);
        continue;
      }
      running.emplace(pid, Running{i, Clock::now()});
    }
    if (running.empty()) continue;
    // Poll only our own children (waitpid(-1) could reap a process the caller started).
    bool any_done = false;
    for (auto it = running.begin(); it != running.end();) {
      int status = 0;
      const pid_t done = waitpid(it->first, &status, WNOHANG);
      if (done == 0 || (done < 0 && errno == EINTR)) {
        ++it;
        continue;
      }
      if (done < 0) panic("waitpid(", it->first, ") failed: ", std::strerror(errno));
      ChildResult& res = results[it->second.index];
      res.timed_out = it->second.killed_for_timeout;
      if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
      if (WIFSIGNALED(status)) res.signal = WTERMSIG(status);
      const std::size_t index = it->second.index;
      it = running.erase(it);
      any_done = true;
      if (on_done) on_done(index);
    }
    if (any_done) continue;
    // Nothing finished: enforce timeouts, then sleep briefly (children run for seconds, so 20 ms is cheap).
    if (timeout_seconds > 0) {
      for (auto& [pid, r] : running) {
        const double age = std::chrono::duration<double>(Clock::now() - r.started).count();
        if (!r.killed_for_timeout && age > timeout_seconds) {
          ::kill(pid, SIGKILL);
          r.killed_for_timeout = true;
        }
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return results;
}

std::string tail_lines(const std::string& path, int max_lines) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > max_lines) lines.pop_front();
  }
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : " | ") + std::string(trim(l));
  return out;
}

std::string self_executable() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) panic("cannot read /proc/self/exe: ", std::strerror(errno));
  return std::string(buf, static_cast<std::size_t>(n));
}

}  // namespace tilesim::validation

// Error kinds shared by every layer (header-only, no SystemC dependency).
//
// Two kinds, as DESIGN.md §11 asks:
//  - user-facing errors (ConfigError, InputError, SimulationError) say what the user did wrong and what to
//    do; the CLI prints them without a stack trace and exits with a documented code;
//  - internal invariant failures (panic -> InternalError) say what broke, with context, for a developer.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace tilesim {

/// Process exit codes used by the CLI (documented in README).
enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 2,       // bad configuration, bad input file, bad command line
  kExitSimFailed = 3,   // the simulation itself failed: deadlock, watchdog, max-cycles reached
  kExitInternal = 70,   // internal invariant failure (a bug in tilesim)
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual int exit_code() const { return kExitUsage; }
};

/// A configuration problem: unknown key, bad value, missing preset. Names the key.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A malformed input file (e.g. `.tile` text). The message starts with `file:line:col:`.
class InputError : public Error {
 public:
  using Error::Error;
};

/// The simulation could not complete: deadlock, no forward progress, cycle limit.
class SimulationError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitSimFailed; }
};

/// An internal invariant failed. Raised only through panic().
class InternalError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return kExitInternal; }
};

namespace detail {
inline void append_all(std::ostringstream&) {}
template <class T, class... Rest>
void append_all(std::ostringstream& os, T&& v, Rest&&... rest) {
  os << std::forward<T>(v);
  append_all(os, std::forward<Rest>(rest)...);
}
}  // namespace detail

/// Concatenate any streamable values into a string.
template <class... Args>
std::string cat(Args&&... args) {
  std::ostringstream os;
  detail::append_all(os, std::forward<Args>(args)...);
  return os.str();
}

/// Internal invariant failure: throws InternalError("internal error: <context>").
template <class... Args>
[[noreturn]] void panic(Args&&... args) {
  throw InternalError("internal error: " + cat(std::forward<Args>(args)...));
}

}  // namespace tilesim

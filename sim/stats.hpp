// Statistics (DESIGN.md §8): per-component groups of named values with units and descriptions.
// Every stat keeps a total and a per-kernel-scope part, so the simulator can emit per-kernel and total
// scopes without scraping anything. Ratios are declared (numerator / denominator x scale), not lambdas,
// so they evaluate correctly in each scope.
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <vector>

namespace tilesim {

/// One emitted value.
struct StatValue {
  std::string name;
  double value = 0;
  bool is_integer = false;
  std::string unit;
  std::string description;
};

/// The value named `name` among `values` (a component's emitted stats), 0 when it has none: the report
/// lines read their own totals by name.
double stat_value(const std::vector<StatValue>& values, const std::string& name);

class Counter {
 public:
  void add(std::uint64_t n = 1) { total_ += n; }
  Counter& operator++() { ++total_; return *this; }
  Counter& operator+=(std::uint64_t n) { total_ += n; return *this; }
  std::uint64_t total() const { return total_; }
  std::uint64_t in_scope() const { return total_ - scope_start_; }
  void begin_scope() { scope_start_ = total_; }

 private:
  std::uint64_t total_ = 0;
  std::uint64_t scope_start_ = 0;
};

/// Count, sum, min, max of sampled values (e.g. request latency in cycles).
class Distribution {
 public:
  struct Summary {
    std::uint64_t count = 0;
    double sum = 0;
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    void add(double v) {
      ++count;
      sum += v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  };
  void sample(double v) { total_.add(v); scope_.add(v); }
  const Summary& total() const { return total_; }
  const Summary& in_scope() const { return scope_; }
  void begin_scope() { scope_ = Summary{}; }

 private:
  Summary total_;
  Summary scope_;
};

class StatGroup {
 public:
  StatGroup() = default;
  StatGroup(const StatGroup&) = delete;
  StatGroup& operator=(const StatGroup&) = delete;

  Counter& counter(const std::string& name, const std::string& unit, const std::string& description);
  Distribution& distribution(const std::string& name, const std::string& unit, const std::string& description);
  /// value = scale * stat(numerator) / stat(denominator); emitted as 0 when the denominator is 0.
  void ratio(const std::string& name, const std::string& unit, const std::string& description,
             const std::string& numerator, const std::string& denominator, double scale = 1.0);

  enum class Scope { total, kernel };
  void begin_scope();
  /// All values, in declaration order: counters, distributions as name.count/.mean/.min/.max, ratios.
  std::vector<StatValue> values(Scope scope) const;

 private:
  struct Entry {
    enum class Kind { counter, distribution, ratio } kind;
    std::string name, unit, description;
    std::size_t index = 0;  // into counters_/distributions_
    std::string numerator, denominator;
    double scale = 1.0;
  };
  void check_new(const std::string& name) const;
  double lookup(const std::vector<StatValue>& done, const std::string& name) const;
  std::deque<Counter> counters_;  // deque: references stay valid as stats are added
  std::deque<Distribution> distributions_;
  std::vector<Entry> entries_;
};

}  // namespace tilesim

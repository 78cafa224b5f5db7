#include "sim/stats.hpp"

#include "sim/error.hpp"

namespace tilesim {

double stat_value(const std::vector<StatValue>& values, const std::string& name) {
  for (const auto& v : values)
    if (v.name == name) return v.value;
  return 0.0;
}

void StatGroup::check_new(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) panic("stat '", name, "' declared twice");
}

Counter& StatGroup::counter(const std::string& name, const std::string& unit, const std::string& description) {
  check_new(name);
  entries_.push_back({Entry::Kind::counter, name, unit, description, counters_.size(), "", "", 1.0});
  counters_.emplace_back();
  return counters_.back();
}

Distribution& StatGroup::distribution(const std::string& name, const std::string& unit,
                                      const std::string& description) {
  check_new(name);
  entries_.push_back({Entry::Kind::distribution, name, unit, description, distributions_.size(), "", "", 1.0});
  distributions_.emplace_back();
  return distributions_.back();
}

void StatGroup::ratio(const std::string& name, const std::string& unit, const std::string& description,
                      const std::string& numerator, const std::string& denominator, double scale) {
  check_new(name);
  entries_.push_back({Entry::Kind::ratio, name, unit, description, 0, numerator, denominator, scale});
}

void StatGroup::begin_scope() {
  for (auto& c : counters_) c.begin_scope();
  for (auto& d : distributions_) d.begin_scope();
}

double StatGroup::lookup(const std::vector<StatValue>& done, const std::string& name) const {
  for (const auto& v : done)
    if (v.name == name) return v.value;
  panic("ratio refers to stat '", name, "', which is not declared before it");
}

std::vector<StatValue> StatGroup::values(Scope scope) const {
  std::vector<StatValue> out;
  for (const auto& e : entries_) {
    switch (e.kind) {
      case Entry::Kind::counter: {
        const Counter& c = counters_[e.index];
        const auto v = scope == Scope::total ? c.total() : c.in_scope();
        out.push_back({e.name, static_cast<double>(v), true, e.unit, e.description});
        break;
      }
      case Entry::Kind::distribution: {
        const Distribution& d = distributions_[e.index];
        const auto& s = scope == Scope::total ? d.total() : d.in_scope();
        const bool any = s.count > 0;
        out.push_back({e.name + ".count", static_cast<double>(s.count), true, "", e.description + " (samples)"});
        out.push_back({e.name + ".mean", any ? s.sum / static_cast<double>(s.count) : 0.0, false, e.unit,
                       e.description + " (mean)"});
        out.push_back({e.name + ".min", any ? s.min : 0.0, false, e.unit, e.description + " (min)"});
        out.push_back({e.name + ".max", any ? s.max : 0.0, false, e.unit, e.description + " (max)"});
        break;
      }
      case Entry::Kind::ratio: {
        const double num = lookup(out, e.numerator);
        const double den = lookup(out, e.denominator);
        out.push_back({e.name, den == 0 ? 0.0 : e.scale * num / den, false, e.unit, e.description});
        break;
      }
    }
  }
  return out;
}

}  // namespace tilesim

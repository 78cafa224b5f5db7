// ParamSet, the registry of workloads, template loading and functional runs.
#include "workloads/workload.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include "isa/text_parser.hpp"
#include "sim/error.hpp"
#include "workloads/support.hpp"

#ifndef TILESIM_WORKLOADS_DIR
#error "TILESIM_WORKLOADS_DIR must be defined by the build (workloads/CMakeLists.txt)"
#endif

namespace tilesim::workloads {

// ---- ParamSet ------------------------------------------------------------------------------------------

ParamSet::ParamSet(std::string workload, std::map<std::string, std::string> values)
    : workload_(std::move(workload)), values_(std::move(values)) {}

void ParamSet::bad(const std::string& name, const std::string& what) const {
  throw ConfigError(workload_ + ": parameter " + name + " = '" + text(name) + "' is not " + what);
}

const std::string& ParamSet::text(const std::string& name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) panic("workload ", workload_, " reads undeclared parameter '", name, "'");
  return it->second;
}

int64_t ParamSet::integer(const std::string& name) const {
  const std::string& s = text(name);
  struct Suffix {
    const char* text;
    int64_t factor;
  };
  static constexpr Suffix kSuffixes[] = {{"KiB", int64_t{1} << 10}, {"MiB", int64_t{1} << 20}, {"GiB", int64_t{1} << 30}};
  std::string digits = s;
  int64_t factor = 1;
  for (const Suffix& suf : kSuffixes) {
    const std::string t = suf.text;
    if (s.size() > t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0) {
      digits = s.substr(0, s.size() - t.size());
      factor = suf.factor;
    }
  }
  if (digits.empty()) bad(name, "an integer");
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(digits, &used, 10);
  } catch (const std::exception&) {
    bad(name, "an integer (sizes may end in KiB, MiB or GiB)");
  }
  if (used != digits.size()) bad(name, "an integer (sizes may end in KiB, MiB or GiB)");
  int64_t out = 0;
  if (__builtin_mul_overflow(static_cast<int64_t>(v), factor, &out)) bad(name, "a 64-bit integer");
  return out;
}

double ParamSet::number(const std::string& name) const {
  const std::string& s = text(name);
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    bad(name, "a number");
  }
  if (used != s.size() || !std::isfinite(v)) bad(name, "a finite number");
  return v;
}

bool ParamSet::flag(const std::string& name) const {
  const std::string& s = text(name);
  if (s == "1" || s == "true") return true;
  if (s == "0" || s == "false") return false;
  bad(name, "a flag (0, 1, true or false)");
}

isa::DType ParamSet::dtype(const std::string& name) const {
  if (auto d = isa::parse_dtype(text(name))) return *d;
  bad(name, "a dtype (f32, f64, tf32, f16, bf16, f8e4m3, f8e5m2, f4e2m1, i8, i32)");
}

std::string ParamSet::to_string() const {
  std::string s;
  for (const auto& [k, v] : values_) s += (s.empty() ? "" : " ") + k + "=" + v;
  return s;
}

// ---- WorkloadBuild -------------------------------------------------------------------------------------

const isa::Kernel& WorkloadBuild::kernel() const {
  const isa::Kernel* k = module.find_kernel(kernel_name);
  if (!k) panic("workload build of ", workload, " has no kernel @", kernel_name);
  return *k;
}

isa::Buffers WorkloadBuild::allocate() const {
  isa::Buffers b = isa::zero_buffers(kernel(), scalars);
  b.scalars = float_scalars;
  return b;
}

// ---- registry ------------------------------------------------------------------------------------------

namespace {

/// The workloads, built on first use and never modified afterwards.
const std::vector<std::unique_ptr<Workload>>& workload_table() {
  static const std::vector<std::unique_ptr<Workload>> table = [] {
    std::vector<std::unique_ptr<Workload>> all;
    for (auto maker : {make_gemm_workloads, make_attention_workloads, make_norm_workloads, make_basic_workloads,
                       make_microbench_workloads})
      for (auto& w : maker()) all.push_back(std::move(w));
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->name() < b->name(); });
    for (size_t i = 1; i < all.size(); ++i)
      if (all[i]->name() == all[i - 1]->name()) panic("workload '", all[i]->name(), "' registered twice");
    return all;
  }();
  return table;
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  int best_d = 3;  // suggest only close names
  for (const std::string& c : candidates) {
    const int d = isa::edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

std::string joined(const std::vector<std::string>& items) {
  std::string s;
  for (const std::string& i : items) s += (s.empty() ? "" : ", ") + i;
  return s;
}

}  // namespace

const std::vector<const Workload*>& all_workloads() {
  static const std::vector<const Workload*> views = [] {
    std::vector<const Workload*> v;
    for (const auto& w : workload_table()) v.push_back(w.get());
    return v;
  }();
  return views;
}

std::vector<std::string> workload_names() {
  std::vector<std::string> names;
  for (const Workload* w : all_workloads()) names.push_back(w->name());
  return names;
}

const Workload& find_workload(const std::string& name) {
  for (const Workload* w : all_workloads())
    if (w->name() == name) return *w;
  throw ConfigError("unknown workload '" + name + "'" + closest(name, workload_names()) +
                    "; workloads: " + joined(workload_names()));
}

ParamSet resolve_params(const Workload& w, const std::map<std::string, std::string>& overrides, Scale scale) {
  std::map<std::string, std::string> values;
  std::vector<std::string> names;
  const std::vector<ParamSpec> specs = w.params();
  for (const ParamSpec& s : specs) {
    names.push_back(s.name);
    values[s.name] = scale == Scale::functional && !s.functional_value.empty() ? s.functional_value : s.default_value;
  }
  for (const auto& [k, v] : overrides) {
    if (!values.count(k))
      throw ConfigError(w.name() + ": unknown parameter '" + k + "'" + closest(k, names) + "; parameters: " + joined(names));
    values[k] = v;
  }
  for (const ParamSpec& s : specs) {
    if (s.choices.empty()) continue;
    const std::string& v = values[s.name];
    if (std::find(s.choices.begin(), s.choices.end(), v) == s.choices.end())
      throw ConfigError(w.name() + ": parameter " + s.name + " = '" + v + "' is not one of " + joined(s.choices));
  }
  return ParamSet(w.name(), values);
}

std::map<std::string, std::string> parse_param_list(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const std::string& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw ConfigError("workload parameter '" + item + "' is not key=value (e.g. M=128)");
    const std::string key = item.substr(0, eq);
    if (out.count(key)) throw ConfigError("workload parameter '" + key + "' is given twice");
    out[key] = item.substr(eq + 1);
  }
  return out;
}

std::string workloads_dir() { return TILESIM_WORKLOADS_DIR; }

isa::Module load_template(const Workload& w, const std::string& path) {
  const std::string file = path.empty() ? (std::filesystem::path(workloads_dir()) / w.template_file()).string() : path;
  return isa::parse_file(file);
}

WorkloadBuild build_workload(const std::string& name, const std::map<std::string, std::string>& params, Scale scale,
                             const std::string& template_path) {
  const Workload& w = find_workload(name);
  return w.build(resolve_params(w, params, scale), load_template(w, template_path));
}

FunctionalResult run_functional(const std::string& name, const std::map<std::string, std::string>& overrides,
                                const std::string& template_path, double tolerance_scale) {
  const Workload& w = find_workload(name);
  FunctionalResult r;
  r.build = w.build(resolve_params(w, overrides, Scale::functional), load_template(w, template_path));
  const isa::Buffers inputs = w.make_inputs(r.build);
  isa::Buffers results = inputs;
  const auto start = std::chrono::steady_clock::now();
  r.run = isa::run_kernel(r.build.kernel(), results, r.build.scalars, r.build.interpreter);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.comparison = w.check(r.build, inputs, results, r.run, tolerance_scale);
  return r;
}

}  // namespace tilesim::workloads

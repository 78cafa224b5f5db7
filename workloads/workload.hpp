// The workload library: kernels of the tile ISA (GEMM, attention, norms, softmax, elementwise,
// reduction, transpose, and the microbenchmarks of ../shared/reference/SCHEMA.md), each with its
// parameters, a generator producing a verified isa::Module, seeded inputs, and a reference with a stated
// comparison rule.
//
// A workload's kernel is a `.tile` template in workloads/ (e.g. workloads/gemm.tile) whose problem sizes
// and tile sizes are scalar parameters. build() parses the template and instantiates it for one
// parameter set (template.hpp): tile sizes are baked into the shapes, template dtypes are mapped to the
// requested ones, opcode choices (activation, elementwise op, reduction op) and pipeline stages are
// applied, the scratch budget is computed, and the result is verified. Problem sizes stay symbolic in
// the module and are passed as scalar arguments.
//
// Running a workload (what `tilesim run --functional` does; see run_functional):
//
//   const Workload& w = find_workload("gemm");
//   ParamSet p = resolve_params(w, {{"M", "64"}}, Scale::functional);
//   WorkloadBuild b = w.build(p, load_template(w));      // module + scalar arguments, no data
//   isa::Buffers inputs = w.make_inputs(b);               // seeded from p's `seed`
//   isa::Buffers results = inputs;
//   isa::RunSummary run = isa::run_kernel(b.module, b.kernel_name, results, b.scalars, b.interpreter);
//   Comparison c = w.check(b, inputs, results, run);       // c.pass, c.report()
//
// A timing model takes WorkloadBuild::module / kernel() and WorkloadBuild::scalars (every integer scalar
// argument, problem and tile sizes) — build() allocates no data, so full-size parameter sets are cheap.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "isa/interpreter.hpp"
#include "isa/ir.hpp"

namespace tilesim::workloads {

/// Which defaults resolve_params starts from: the workload's realistic size, or the small shape used by
/// functional runs and tests.
enum class Scale { full, functional };

struct ParamSpec {
  std::string name;
  std::string default_value;     // full-size default
  std::string functional_value;  // default at Scale::functional (empty: same as default_value)
  std::string description;
  std::vector<std::string> choices;  // allowed values; empty: any value of the right kind
};

/// The resolved parameters of one workload instance: every declared parameter has a value. Values are
/// text as given (`footprint=32MiB`); the typed accessors parse them and throw tilesim::ConfigError
/// naming the workload and the parameter when a value does not parse.
class ParamSet {
 public:
  ParamSet() = default;
  ParamSet(std::string workload, std::map<std::string, std::string> values);

  const std::string& workload() const { return workload_; }
  const std::map<std::string, std::string>& values() const { return values_; }
  const std::string& text(const std::string& name) const;
  /// An integer; accepts the size suffixes KiB, MiB and GiB (powers of 1024).
  int64_t integer(const std::string& name) const;
  /// A real number.
  double number(const std::string& name) const;
  /// 0/1, true/false.
  bool flag(const std::string& name) const;
  isa::DType dtype(const std::string& name) const;
  /// "k1=v1 k2=v2 ..." in name order.
  std::string to_string() const;

 private:
  [[noreturn]] void bad(const std::string& name, const std::string& what) const;
  std::string workload_;
  std::map<std::string, std::string> values_;
};

/// A comparison of a kernel's results with the workload's reference.
struct Comparison {
  bool pass = true;
  struct Output {
    std::string name;       // output buffer
    std::string criterion;  // "bit-exact", "|got - ref| <= atol + rtol*|ref| (atol=..., rtol=...)", ...
    std::string why;        // justification of a tolerance (empty for bit-exact)
    int64_t elements = 0;
    int64_t mismatches = 0;      // elements failing the criterion
    double max_abs_error = 0;
    double max_rel_error = 0;    // over elements with |ref| >= atol (all nonzero ones when exact)
    int64_t max_ulp = 0;         // in the output dtype (floats), over the same elements
    std::string first_mismatch;  // e.g. "C[3, 17]: got 1.5, reference 1.75"
    bool pass = true;
  };
  std::vector<Output> outputs;
  std::vector<std::string> notes;  // other checks (e.g. "ran 4 programs")

  void add(Output o);
  void note(bool ok, const std::string& text);
  /// One line per output and note.
  std::string report() const;
};

/// A workload instantiated for one parameter set: the module to run and its scalar arguments.
struct WorkloadBuild {
  std::string workload;
  ParamSet params;
  isa::Module module;                          // holds exactly one kernel, verified
  std::string kernel_name;
  isa::SymbolValues scalars;                   // integer scalar arguments (problem and tile sizes)
  std::map<std::string, double> float_scalars; // non-integer scalar arguments (scale, eps, ...)
  isa::InterpreterOptions interpreter;         // numerics (mma accumulator model) and checks to run with
  std::string shape;                           // short description, e.g. "M=96 N=80 K=100"

  const isa::Kernel& kernel() const;
  /// Zero tensors for every tensor parameter, plus float_scalars.
  isa::Buffers allocate() const;
};

class Workload {
 public:
  virtual ~Workload() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;
  /// The template's file name in workloads/, e.g. "gemm.tile".
  virtual std::string template_file() const = 0;
  /// Every parameter (the common `seed` included), with defaults.
  virtual std::vector<ParamSpec> params() const = 0;
  /// Instantiate `tmpl` (the parsed template) for `p`. Throws ConfigError for parameter values the
  /// workload does not support and InputError if the instantiated kernel fails to verify.
  virtual WorkloadBuild build(const ParamSet& p, const isa::Module& tmpl) const = 0;
  /// Seeded inputs (from the `seed` parameter) and zeroed outputs for every tensor parameter.
  virtual isa::Buffers make_inputs(const WorkloadBuild& b) const = 0;
  /// Compute the reference from `inputs` and compare `results` (the buffers after the run) with it.
  /// `tolerance_scale` multiplies every stated tolerance (1: as stated; tests use 0 to show that a
  /// tolerance-compared workload is not exact, i.e. that its comparison can fail).
  virtual Comparison check(const WorkloadBuild& b, const isa::Buffers& inputs, const isa::Buffers& results,
                           const isa::RunSummary& run, double tolerance_scale = 1.0) const = 0;
};

// ---- the registry ----------------------------------------------------------------------------------

/// Every workload, in name order (built once, immutable).
const std::vector<const Workload*>& all_workloads();
std::vector<std::string> workload_names();
/// The workload called `name`; ConfigError with a did-you-mean and the list of names otherwise.
const Workload& find_workload(const std::string& name);

/// Defaults of `w` at `scale`, then `overrides`. Unknown names (did-you-mean) and values outside a
/// parameter's choices are ConfigErrors.
ParamSet resolve_params(const Workload& w, const std::map<std::string, std::string>& overrides, Scale scale);
/// Parses "key=value" strings (ConfigError for a missing '=' or a repeated key).
std::map<std::string, std::string> parse_param_list(const std::vector<std::string>& items);

/// Where the built-in templates live (the source tree's workloads/ folder).
std::string workloads_dir();
/// Parse the workload's template: `path` if given, else workloads_dir()/template_file().
isa::Module load_template(const Workload& w, const std::string& path = "");

/// Resolve, load the template and build in one call (for timing models and validation).
WorkloadBuild build_workload(const std::string& name, const std::map<std::string, std::string>& params,
                             Scale scale = Scale::full, const std::string& template_path = "");

// ---- functional runs -----------------------------------------------------------------------------------

struct FunctionalResult {
  WorkloadBuild build;
  isa::RunSummary run;
  Comparison comparison;
  double seconds = 0;  // interpreter wall time
};

/// Build at Scale::functional with `overrides`, make inputs, run the interpreter, check.
FunctionalResult run_functional(const std::string& name, const std::map<std::string, std::string>& overrides,
                                const std::string& template_path = "", double tolerance_scale = 1.0);

}  // namespace tilesim::workloads

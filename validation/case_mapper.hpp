// Mapping measured cases onto simulations (DESIGN.md §9). A measured case — a row of a reference CSV
// (../shared/reference/SCHEMA.md) or a case of the CUDA harness JSON (validation/cuda/README.md) — names a
// workload from the reference vocabulary (`pchase`, `stream`, `mma`, `gemm`, ...) with `key=value` params.
// For each workload a CaseMapper, registered by workload name, says
//   - map():     which `tilesim run` reproduces the case (presets + --set overrides), or why none can;
//   - extract(): how to read the row's metric, in the row's unit, out of that run's stats.json.
// Mappers live next to the models they drive (e.g. arch/memory registers pchase/stream/bulk_copy/dsmem)
// and register themselves with `const RegisterCaseMapper<MyMapper> kReg("pchase", "description");`.
// `tilesim validate` runs each mapped case as its own `tilesim run -q -o DIR` process.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/registry.hpp"

namespace tilesim::validation {

/// One measured case, every SCHEMA.md column parsed by header name. Rows from the harness JSON are
/// converted into the same structure (trust "measured", source_url the JSON file).
struct ReferenceRow {
  std::string id;
  std::string device;
  std::string preset;
  std::string workload;
  std::map<std::string, std::string> params;  // `key=value;...` split, keys sorted (order is irrelevant)
  std::string params_text;                    // the params field as written
  std::string metric;                         // latency, bandwidth, throughput, efficiency, mfu
  double value = 0;                           // the measured number
  std::string unit;                           // cycles, ns, GB/s, B/clk/SM, B/clk, TFLOPS, TOPS, FLOP/clk/SM, FLOP/clk, %
  std::optional<double> clock_mhz;            // the SM/core clock the value was taken or converted at
  std::string trust;
  std::string source_url;
  std::string note;
  std::string file;  // where the row was read, for messages
  int line = 0;      // 1-based line of the row's first character

  /// "file:line" of the row, the prefix of every message about it.
  std::string location() const;

  bool has_param(const std::string& key) const { return params.count(key) != 0; }
  /// The param's text; InputError "file:line: row ID: missing param 'key' (params: ...)" when absent.
  const std::string& param(const std::string& key) const;
  /// The param's text, or `fallback` when absent.
  std::string param_or(const std::string& key, const std::string& fallback) const;
  /// A size param with an optional suffix (`15KiB`, `2.8MiB`, `1GiB`, `4096` = bytes), in bytes.
  double param_bytes(const std::string& key) const;
  /// A plain number param (`64`, `0.5`).
  double param_number(const std::string& key) const;
  /// A non-negative integer param (`64`).
  long long param_integer(const std::string& key) const;
  /// A percentage param (`12.5%`, also `12.5`), as a fraction (0.125).
  double param_fraction(const std::string& key) const;
};

/// What `tilesim run` gets for one case: `-p PRESET ... --set OVERRIDE ...`.
struct SimCase {
  std::vector<std::string> presets;
  std::vector<std::string> overrides;
  /// Config key of the clock the row's metric depends on (e.g. `clocks.core`). When the row states
  /// clock_mhz, validate adds `--set <clock_key>=<clock_mhz>MHz` and prints the normalisation; when
  /// the row states a clock and this is empty, validate refuses the comparison (validation/README.md).
  std::string clock_key = {};
};

/// Outcome of CaseMapper::map: a runnable case, or the reason the case cannot be run.
using MapResult = std::variant<SimCase, std::string>;

struct CaseMapperContext {};

class CaseMapper {
 public:
  virtual ~CaseMapper() = default;
  /// The simulation that reproduces `row`, or a one-line reason why none can (unknown level, dtype the
  /// preset lacks, ...). Throws InputError (with row.location()) for malformed params.
  virtual MapResult map(const ReferenceRow& row) const = 0;
  /// The row's metric in the row's unit from that run's stats.json; nullopt when the stats lack it
  /// (validate then reports the row as failed, naming what_is_extracted()).
  virtual std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const = 0;
  /// One line saying which statistic extract() reads, for messages ("random.latency_ns.mean").
  virtual std::string what_is_extracted(const ReferenceRow& row) const { return "the mapper's statistic"; }
  /// True for mappers whose cases run on the memory probe (a request generator in front of the hierarchy)
  /// rather than on a core model; `validate --front-end core` refuses those rows unless a core mapper
  /// ("<workload>@core") replays them as tile programs.
  virtual bool drives_memory_probe() const { return false; }
};

/// Registry suffix of the mappers that run a memory microbenchmark as a tile program on the preset's core
/// model ("pchase@core"), for `validate --front-end core`.
inline constexpr const char* kCoreFrontEndSuffix = "@core";

using CaseMapperRegistry = Registry<CaseMapper, CaseMapperContext>;

/// Registers CaseMapper type T (default-constructible) for workload `workload`.
template <class T>
struct RegisterCaseMapper {
  RegisterCaseMapper(const char* workload, const char* description) {
    CaseMapperRegistry::instance().add({workload, description, [workload] { return ParamSchema(workload); },
                                        [](const CaseMapperContext&) -> std::unique_ptr<CaseMapper> {
                                          return std::make_unique<T>();
                                        }});
  }
};

// ---- Reading stats.json (schema_version 1, sim/output.cpp) -------------------------------------------

/// Value of statistic `name` of component `component` in the scope of kernel `kernel` ("" = the total
/// scope); nullopt when the scope, component or statistic is absent.
std::optional<double> stat_value(const nlohmann::json& stats, const std::string& component, const std::string& name,
                                 const std::string& kernel = "");
/// Duration in seconds of kernel scope `kernel` (end - begin); nullopt when absent.
std::optional<double> kernel_seconds(const nlohmann::json& stats, const std::string& kernel);
/// Frequency in Hz of clock domain `clock`; nullopt when absent.
std::optional<double> clock_hz(const nlohmann::json& stats, const std::string& clock);

// ---- Unit conversion into a row's unit -------------------------------------------------------------

/// A time in seconds expressed in `unit` ("ns", "us", "cycles" — cycles need clock_hz); nullopt when the
/// unit is not a time unit or a needed clock is missing.
std::optional<double> time_in_unit(double seconds, const std::string& unit, std::optional<double> clock_hz);
/// A rate per second (bytes/s or FLOP/s) expressed in `unit`: GB/s, TB/s, B/clk, B/clk/SM, TFLOPS, TOPS,
/// FLOP/clk, FLOP/clk/SM (per-clock units need clock_hz; per-SM units need sms); nullopt otherwise.
std::optional<double> rate_in_unit(double per_second, const std::string& unit, std::optional<double> clock_hz,
                                   std::optional<double> sms = std::nullopt);

}  // namespace tilesim::validation

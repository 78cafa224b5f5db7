// Test-only case mappers: they drive the foundation demo preset (demo_memory, a traffic generator's
// dependent-load chain against a fixed-latency memory), so the whole validate path — CSV row -> mapper ->
// `tilesim run` subprocess -> stats.json -> metric -> error -> gate — runs for real before the core models
// exist. Registered only in the validation test binary.
#include <cmath>

#include "sim/text_util.hpp"
#include "validation/case_mapper.hpp"

namespace tilesim::validation {
namespace {

/// workload fixture_chase: params `latency` (the memory's latency, a time) and optionally `requests`
/// (chain length) and `level` (only `dram` is modelled); metric latency in ns or cycles of the core clock.
class FixtureChaseMapper : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    const std::string level = row.param_or("level", "dram");
    if (level != "dram") return cat("fixture_chase models only level=dram, not '", level, "'");
    if (row.metric != "latency") return cat("fixture_chase measures latency, not ", row.metric);
    SimCase c;
    c.presets = {"demo_memory"};
    c.overrides = {cat("components.memory_chase.latency=", format_number(row.param_number("latency_ns")), "ns"),
                   cat("components.random.requests=", row.param_integer("requests")),
                   "components.stream.requests=1000"};
    c.clock_key = "clocks.core";
    return c;
  }
  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    if (row.unit == "ns") return stat_value(stats, "random", "latency_ns.mean", "pointer_chase");
    if (row.unit == "cycles") return stat_value(stats, "random", "latency_cycles.mean", "pointer_chase");
    return std::nullopt;
  }
  std::string what_is_extracted(const ReferenceRow& row) const override {
    return cat("random.latency_", row.unit, ".mean in kernel pointer_chase");
  }
};

/// workload fixture_noclock: like fixture_chase but without a clock key (rows stating a clock are refused).
class FixtureNoClockMapper : public FixtureChaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    MapResult r = FixtureChaseMapper::map(row);
    if (auto* c = std::get_if<SimCase>(&r)) c->clock_key.clear();
    return r;
  }
};

/// workload fixture_broken: a run that tilesim rejects (a negative latency), to exercise failed cases.
class FixtureBrokenMapper : public CaseMapper {
 public:
  MapResult map(const ReferenceRow&) const override {
    return SimCase{{"demo_memory"}, {"components.memory_chase.latency=-5ns"}};
  }
  std::optional<double> extract(const ReferenceRow&, const nlohmann::json&) const override { return 1.0; }
};

const RegisterCaseMapper<FixtureChaseMapper> kChase("fixture_chase", "test: demo_memory dependent-load chain");
const RegisterCaseMapper<FixtureNoClockMapper> kNoClock("fixture_noclock", "test: fixture_chase without a clock key");
const RegisterCaseMapper<FixtureBrokenMapper> kBroken("fixture_broken", "test: a run tilesim rejects");

}  // namespace
}  // namespace tilesim::validation

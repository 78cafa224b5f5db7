// Architecture-level systems: a registered system kind declares parameter sections; configs set them,
// layering and --set reach them, unknown keys get a did-you-mean, and the builder expands them.
#include <catch2/catch.hpp>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/system.hpp"
#include "tests/sim/test_components.hpp"

using namespace tilesim;
using Catch::Matchers::Contains;

namespace {
SystemSpec parse(const std::string& yaml, const std::vector<std::string>& overrides = {}) {
  ConfigTree t;
  t.merge_text(yaml, "sys.yaml");
  for (const auto& o : overrides) t.apply_override(o);
  return parse_system(t);
}
}  // namespace

TEST_CASE("system sections resolve with defaults and overrides", "[system]") {
  const SystemSpec spec = parse("system: test_ring\nring: {nodes: 6}\n", {"ring.start.starter=false"});
  CHECK(spec.system_kind == "test_ring");
  CHECK(spec.sections.at("ring").integer("nodes") == 6);
  CHECK(spec.sections.at("ring").ticks("hop_latency") == 2000);
  CHECK_FALSE(spec.sections.at("ring.start").boolean("starter"));
  const std::string resolved = resolved_config_yaml(spec);
  CHECK_THAT(resolved, Contains("system: test_ring") && Contains("nodes: 6") && Contains("starter: false"));
  CHECK(resolved_config_yaml(parse(resolved)) == resolved);
}

TEST_CASE("unknown keys in and around sections are named with a suggestion", "[system]") {
  CHECK_THROWS_WITH(parse("system: test_ring\nring: {nodez: 6}\n"),
                    Contains("unknown key 'ring.nodez'") && Contains("did you mean 'nodes'"));
  CHECK_THROWS_WITH(parse("system: test_ring\nrnig: {nodes: 6}\n"),
                    Contains("unknown key 'rnig'") && Contains("did you mean 'ring'"));
  CHECK_THROWS_WITH(parse("system: test_ring\nring: {strat: {starter: true}}\n"),
                    Contains("unknown key 'ring.strat'") && Contains("did you mean 'start'"));
  CHECK_THROWS_WITH(parse("system: test_rign\n"), Contains("unknown kind 'test_rign'") && Contains("did you mean 'test_ring'"));
  CHECK_THROWS_WITH(parse("ring: {nodes: 6}\nclocks: {c: 1GHz}\n"), Contains("unknown key 'ring' at the top level"));
}

TEST_CASE("a system kind builds and runs", "[system]") {
  auto sim = build_system(parse("system: test_ring\nring: {nodes: 5, hop_latency: 3ns}\n"));
  const RunInfo info = sim->run();
  CHECK(info.completed);
  CHECK(info.end_tick == 5 * 3000 + 1);  // one lap of 5 hops
}

TEST_CASE("a system kind's deadlock names its generated units", "[system]") {
  auto sim = build_system(parse("system: test_ring\nring: {nodes: 3}\n", {"ring.start.starter=false"}));
  CHECK_THROWS_WITH(sim->run(), Contains("node0 (test_wait_then_send") && Contains("node2 (test_wait_then_send"));
}

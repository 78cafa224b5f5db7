// Config layering, overrides, validation of system configs, and errors that name the key.
#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/system.hpp"

using namespace tilesim;
using Catch::Matchers::Contains;

namespace {
const char* kBase = R"(
description: base
clocks: {core: 1GHz}
components:
  gen: {kind: traffic_generator, requests: 10}
  mem: {kind: fixed_latency_memory, latency: 100ns}
links:
  req:  {from: gen.req, to: mem.req, latency: 10ns}
  resp: {from: mem.resp, to: gen.resp, latency: 10ns}
)";
}

TEST_CASE("layers merge map by map: later layers and --set win", "[config]") {
  ConfigTree t;
  t.merge_text(kBase, "base.yaml");
  t.merge_text("components: {mem: {latency: 200ns}}\n", "overlay.yaml");
  t.apply_override("components.gen.requests=20");
  const SystemSpec spec = parse_system(t);
  REQUIRE(spec.components.size() == 2);
  CHECK(spec.components[0].params.integer("requests") == 20);
  CHECK(spec.components[1].params.ticks("latency") == 200000);
  CHECK(spec.components[1].params.quantity("bandwidth") == Approx(1e12));  // default kept
  CHECK(t.origin("components.mem.latency") == "overlay.yaml:1:20");  // the key `latency`, 1-based
  CHECK(t.origin("components.gen.requests") == "--set");
}

TEST_CASE("a dotted-key lookup tells a missing key from a present one", "[config]") {
  ConfigTree t;
  t.merge_text(kBase, "base.yaml");
  t.merge_text("power: {tensor_clock: 1GHz}\nempty: {key: }\n", "overlay.yaml");
  CHECK(t.find("components.mem.latency").Scalar() == "100ns");
  CHECK(t.find("power.tensor_clock").Scalar() == "1GHz");
  // A missing key at any depth is "not found" (falsy), not a defined Null that reads as an empty value.
  CHECK_FALSE(t.find("power.core_clock"));
  CHECK_FALSE(t.find("nothing.here"));
  CHECK_FALSE(t.find("components.mem.latency.deeper"));
  // A key that is present but empty is found: the caller reports its empty value.
  CHECK(t.find("empty.key"));
}

TEST_CASE("unknown keys are errors with a did-you-mean, naming where they were set", "[config]") {
  ConfigTree t;
  t.merge_text(kBase, "base.yaml");
  t.apply_override("components.mem.latncy=5ns");
  CHECK_THROWS_WITH(parse_system(t), Contains("unknown key 'components.mem.latncy'") &&
                                         Contains("did you mean 'latency'") && Contains("valid keys: latency, bandwidth"));

  ConfigTree t2;
  t2.merge_text(kBase, "base.yaml");
  t2.merge_text("clokcs: {x: 1GHz}\n", "typo.yaml");
  CHECK_THROWS_WITH(parse_system(t2), Contains("unknown key 'clokcs' at the top level") &&
                                          Contains("did you mean 'clocks'") && Contains("typo.yaml:1:1"));

  ConfigTree t3;
  t3.merge_text(kBase, "base.yaml");
  t3.apply_override("components.mem.kind=fixed_latency_memroy");
  CHECK_THROWS_WITH(parse_system(t3), Contains("unknown kind 'fixed_latency_memroy'") &&
                                          Contains("did you mean 'fixed_latency_memory'"));

  ConfigTree t4;
  t4.merge_text(kBase, "base.yaml");
  t4.apply_override("sim.sed=3");
  CHECK_THROWS_WITH(parse_system(t4), Contains("unknown key 'sim.sed'") && Contains("did you mean 'seed'"));
}

TEST_CASE("malformed YAML names file:line:col", "[config]") {
  ConfigTree t;
  CHECK_THROWS_WITH(t.merge_text("clocks: {core: 1GHz\nx: [1, 2\n", "bad.yaml"), Contains("bad.yaml:") && Contains("malformed YAML"));
  CHECK_THROWS_WITH(t.merge_file("/nonexistent/x.yaml"), Contains("cannot read config file '/nonexistent/x.yaml'"));
  CHECK_THROWS_WITH(t.apply_override("novalue"), Contains("expected key.path=value"));
}

TEST_CASE("presets are found by name with a did-you-mean", "[config]") {
  const std::string path = find_preset("demo_memory");
  CHECK(path.find("arch/presets/demo_memory.yaml") != std::string::npos);
  CHECK_THROWS_WITH(find_preset("demo_memroy"), Contains("unknown preset 'demo_memroy'") && Contains("did you mean 'demo_memory'"));
}

TEST_CASE("the resolved config holds every parameter and re-reads to the same system", "[config]") {
  ConfigTree t;
  t.merge_text(kBase, "base.yaml");
  const SystemSpec spec = parse_system(t);
  const std::string resolved = resolved_config_yaml(spec);
  CHECK_THAT(resolved, Contains("max_outstanding: 64") && Contains("bandwidth: 1TB/s") && Contains("seed: 1"));
  ConfigTree again;
  again.merge_text(resolved, "resolved.yaml");
  CHECK(resolved_config_yaml(parse_system(again)) == resolved);
}

TEST_CASE("wiring errors name the ports", "[config]") {
  ConfigTree t;
  t.merge_text(kBase, "base.yaml");
  t.apply_override("links.req.to=mem.rq");
  const SystemSpec bad_port = parse_system(t);
  CHECK_THROWS_WITH(build_system(bad_port), Contains("links.req.to: component 'mem' (fixed_latency_memory) has no port 'rq'") &&
                                                Contains("did you mean 'req'"));
}

TEST_CASE("wiring errors: message types must match", "[config]") {
  ConfigTree t;
  t.merge_text(kBase, "base.yaml");
  t.apply_override("links.req.to=gen.resp");
  CHECK_THROWS_WITH(build_system(parse_system(t)),
                    Contains("cannot link gen.req (sends MemRequest) to gen.resp (receives MemResponse)"));
}

TEST_CASE("an unconnected port is a config error at run start", "[config]") {
  ConfigTree t2;
  t2.merge_text(R"(
clocks: {core: 1GHz}
components:
  gen: {kind: traffic_generator}
  mem: {kind: fixed_latency_memory}
links:
  req: {from: gen.req, to: mem.req}
)", "x.yaml");
  auto sim = build_system(parse_system(t2));
  CHECK_THROWS_WITH(sim->run(), Contains("port gen.resp is not connected"));
}

TEST_CASE("a preset inherits another and overrides parts of it", "[config]") {
  ConfigTree t;
  t.merge_file(std::string(TILESIM_TEST_DATA) + "/child.yaml");
  const SystemSpec spec = parse_system(t);
  CHECK(spec.description == "child of demo_memory");
  bool found = false;
  for (const auto& c : spec.components)
    if (c.name == "memory") {
      found = true;
      CHECK(c.params.ticks("latency") == 123000);
      CHECK(c.params.quantity("bandwidth") == Approx(2e12));  // from the parent
    }
  CHECK(found);
}

TEST_CASE("an inheritance cycle is an error that shows the chain", "[config]") {
  ::setenv("TILESIM_PRESETS", TILESIM_TEST_DATA, 1);
  ConfigTree t;
  CHECK_THROWS_WITH(t.merge_file(std::string(TILESIM_TEST_DATA) + "/cycle_a.yaml"), Contains("forms a cycle"));
}

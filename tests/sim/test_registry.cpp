// Registry self-test: every registered kind constructs from its defaults and declares its parameters.
#include <catch2/catch.hpp>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/simulator.hpp"
#include "sim/system_kind.hpp"

#include <cstdlib>

using namespace tilesim;

TEST_CASE("every registered component kind constructs from its defaults", "[registry]") {
  const auto& reg = ComponentRegistry::instance();
  const auto names = reg.names();
  // The models linked into every binary are registered (guards against the linker dropping them).
  CHECK(std::find(names.begin(), names.end(), "traffic_generator") != names.end());
  CHECK(std::find(names.begin(), names.end(), "fixed_latency_memory") != names.end());

  Simulator sim(ParamValues::resolve(sim_param_schema(), {}, "sim"));
  ClockDomain& clk = sim.add_clock("core", 1000000000ull);
  for (const auto& name : names) {
    INFO("kind " << name);
    const auto* e = reg.find(name);
    REQUIRE(e != nullptr);
    CHECK(!e->description.empty());
    const ParamSchema schema = e->schema();
    CHECK(schema.kind() == name);
    for (const auto& d : schema.decls()) CHECK(!d.description.empty());
    ComponentContext ctx{"x_" + name, name, ParamValues::resolve(schema, {}, "components.x_" + name), &clk, &sim};
    Component& c = sim.add(e->make(ctx));
    CHECK(c.kind() == name);
    CHECK(c.name() == "x_" + name);
  }
  CHECK_THROWS_WITH(reg.get("trafic_generator", "components.g.kind"),
                    Catch::Matchers::Contains("did you mean 'traffic_generator'"));
}

TEST_CASE("every registered system kind declares documented sections and builds from its defaults", "[registry]") {
  // In-process: declarations. Each build runs in its own `tilesim run --check` process (one simulation
  // per process); test-only kinds (test_*) are built by their own tests.
  for (const auto& name : SystemRegistry::instance().names()) {
    INFO("system kind " << name);
    const auto sections = SystemRegistry::instance().find(name)->make({})->sections();
    CHECK(!sections.empty());
    for (const auto& [path, schema] : sections) {
      for (const auto& d : schema.decls()) CHECK(!d.description.empty());
      CHECK_NOTHROW(ParamValues::resolve(schema, {}, path));
    }
    if (name.rfind("test_", 0) == 0) continue;
    const std::string cmd = std::string(TILESIM_BINARY) + " run --check --set system=" + name + " > /dev/null 2>&1";
    CHECK(std::system(cmd.c_str()) == 0);
  }
}

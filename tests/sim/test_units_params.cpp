// Units and typed parameters: parsing, canonical formatting, and the errors a user sees.
#include <catch2/catch.hpp>

#include "sim/error.hpp"
#include "sim/params.hpp"
#include "sim/units.hpp"

using namespace tilesim;
using Catch::Matchers::Contains;

TEST_CASE("quantities parse into SI base units", "[units]") {
  CHECK(parse_quantity("1.83GHz", UnitKind::frequency, "k").value == Approx(1.83e9));
  CHECK(parse_quantity("1755 MHz", UnitKind::frequency, "k").value == Approx(1.755e9));
  CHECK(parse_quantity("228KiB", UnitKind::size, "k").value == 228.0 * 1024);
  CHECK(parse_quantity("40MB", UnitKind::size, "k").value == 40e6);
  CHECK(parse_quantity("2.8MiB", UnitKind::size, "k").value == Approx(2.8 * 1048576));
  CHECK(parse_quantity("3.35TB/s", UnitKind::bandwidth, "k").value == Approx(3.35e12));
  CHECK(parse_quantity("20ns", UnitKind::time, "k").value == Approx(20e-9));
  CHECK(parse_quantity("1e3ps", UnitKind::time, "k").value == Approx(1e-9));
  CHECK(parse_quantity("32", UnitKind::cycles, "k").value == 32);
  CHECK(parse_quantity("32cycles", UnitKind::cycles, "k").value == 32);
}

TEST_CASE("quantity errors name the key and show a valid example", "[units]") {
  CHECK_THROWS_WITH(parse_quantity("1830", UnitKind::frequency, "clocks.core"),
                    Contains("clocks.core") && Contains("needs a unit") && Contains("1.83GHz"));
  CHECK_THROWS_WITH(parse_quantity("228KiB", UnitKind::frequency, "clocks.core"),
                    Contains("is a size, but a frequency is expected"));
  CHECK_THROWS_WITH(parse_quantity("3.35TB/sec", UnitKind::bandwidth, "memory.bw"),
                    Contains("unknown unit 'TB/sec'") && Contains("did you mean 'TB/s'"));
  CHECK_THROWS_WITH(parse_quantity("fast", UnitKind::frequency, "clocks.core"), Contains("not a number"));
  CHECK_THROWS_WITH(parse_quantity("", UnitKind::time, "x.latency"), Contains("x.latency: empty value"));
  CHECK_THROWS_AS(parse_quantity("1.2.3GHz", UnitKind::frequency, "k"), ConfigError);
}

TEST_CASE("quantities format back readably", "[units]") {
  CHECK(format_quantity(1.83e9, UnitKind::frequency) == "1.83GHz");
  CHECK(format_quantity(228.0 * 1024, UnitKind::size) == "228KiB");
  CHECK(format_quantity(3.35e12, UnitKind::bandwidth) == "3.35TB/s");
  CHECK(format_quantity(20e-9, UnitKind::time) == "20ns");
  // Round trip through text keeps the value.
  for (const char* text : {"1.83GHz", "228KiB", "3.35TB/s", "20ns", "1.5us"}) {
    const Quantity q = parse_any_quantity(text, "k");
    CHECK(parse_any_quantity(format_quantity(q.value, q.kind), "k").value == Approx(q.value));
  }
}

TEST_CASE("parameter values keep every digit when they travel as text", "[units][params]") {
  // Regression: a resolved quantity's text had 6 significant digits. Sections hand their values to
  // components as text, so B200's per-core probe home addresses (2 MiB + 1 KiB, ...) arrived 2 bytes off.
  CHECK(format_quantity_exact(2098176, UnitKind::size) == "2.0009765625MiB");
  CHECK(format_quantity_exact(228.0 * 1024, UnitKind::size) == "228KiB");  // readable where exact
  CHECK(format_quantity_exact(1.83e9, UnitKind::frequency) == "1.83GHz");
  CHECK(format_quantity_exact(1073741840, UnitKind::size) == "1073741840B");  // no shorter exact text
  for (const double bytes : {1073741840.0, 2098176.0, 137366528.0, 1.0, 0.0})
    CHECK(parse_quantity(format_quantity_exact(bytes, UnitKind::size), UnitKind::size, "k").value == Approx(bytes).epsilon(0));
  for (const double hz : {1.98765432e9, 1587e6, 1.3086e9})
    CHECK(parse_quantity(format_quantity_exact(hz, UnitKind::frequency), UnitKind::frequency, "k").value ==
          Approx(hz).epsilon(1e-12));
  ParamSchema s("widget");
  s.quantity("base", UnitKind::size, "0B", "an address");
  const ParamValues v = ParamValues::resolve(s, {{"base", "1073741840B"}}, "w");
  CHECK(v.bytes("base") == 1073741840u);
  const ParamValues again = ParamValues::resolve(s, {{"base", v.all().at("base").text}}, "w");
  CHECK(again.bytes("base") == 1073741840u);
}

TEST_CASE("parameters resolve against their declaration", "[params]") {
  ParamSchema s("widget");
  s.integer("count", 4, "how many", 1, 64)
      .quantity("latency", UnitKind::time, "20ns", "delay")
      .choice("policy", "gto", {"gto", "lrr"}, "scheduler")
      .boolean("enabled", true, "on/off");
  const ParamValues v = ParamValues::resolve(s, {{"count", "8"}, {"policy", "lrr"}}, "components.w");
  CHECK(v.integer("count") == 8);
  CHECK(v.ticks("latency") == 20000);  // default applies
  CHECK(v.string("policy") == "lrr");
  CHECK(v.boolean("enabled"));

  CHECK_THROWS_WITH(ParamValues::resolve(s, {{"latncy", "5ns"}}, "components.w"),
                    Contains("unknown key 'components.w.latncy'") && Contains("did you mean 'latency'"));
  CHECK_THROWS_WITH(ParamValues::resolve(s, {{"count", "100"}}, "components.w"),
                    Contains("components.w.count: 100 is above the maximum 64"));
  CHECK_THROWS_WITH(ParamValues::resolve(s, {{"count", "2.5"}}, "components.w"), Contains("not an integer"));
  CHECK_THROWS_WITH(ParamValues::resolve(s, {{"policy", "gt0"}}, "components.w"),
                    Contains("not one of: gto, lrr") && Contains("did you mean 'gto'"));
  CHECK_THROWS_WITH(ParamValues::resolve(s, {{"enabled", "maybe"}}, "components.w"), Contains("not a boolean"));
  // Reading an undeclared parameter is a bug in the model, not a user error.
  CHECK_THROWS_AS(v.integer("nope"), InternalError);
  CHECK_THROWS_AS(v.integer("latency"), InternalError);
}

// .tile parser and printer: each construct, error messages (location, caret, hints), round trips.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <set>

#include "isa/text_parser.hpp"
#include "isa/text_printer.hpp"
#include "isa/verifier.hpp"
#include "sim/error.hpp"
#include "tile_test_files.hpp"

using namespace tilesim::isa;
using tilesim::InputError;

namespace {

/// The message of the InputError parsing `text` throws ("" if it parses).
std::string parse_error(const std::string& text) {
  try {
    parse_module(text, "t.tile");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

const Kernel& only_kernel(const Module& m) {
  REQUIRE(m.kernels.size() == 1);
  return m.kernels[0];
}

std::string roundtrip_once(const std::string& text) { return print_module(parse_module(text, "t.tile")); }

const char* const kSmall = R"(
kernel @k(%X: global<f32>[N, 64], N: i32, alpha: f32) grid(cdiv(N, 32)) {
  %i = program_id 0
  %c0 = const 0 : index
  %x, %tx = load %X[%i, %c0] : tile<f32>[32, 64] @reg
  %y = mul %x, alpha
  %t = store %y, %X[%i, %c0] after(%tx)
}
)";

}  // namespace

TEST_CASE("parser: kernel header with tensors, scalars, grid, cluster and resources", "[parser]") {
  const Module m = parse_module(R"(
kernel @gemm(%A: global<bf16>[M, K], %B: global<f8e4m3>[K, 2 * N], M: i32, N: index, K: i32, s: f32)
    grid(ceil(M / 128), cdiv(N, 64), 1)
    cluster(2, 1)
    resources(scratch=3 * 16384, warps=8, registers=168) {
}
)", "h.tile");
  const Kernel& k = only_kernel(m);
  CHECK(k.name == "gemm");
  REQUIRE(k.params.size() == 6);
  const Type& a = k.type_of(k.params[0].value);
  CHECK(a.kind == TypeKind::global);
  CHECK(a.dtype == DType::bf16);
  CHECK(type_to_string(a) == "global<bf16>[M, K]");
  CHECK(type_to_string(k.type_of(k.params[1].value)) == "global<f8e4m3>[K, 2 * N]");
  CHECK(k.type_of(k.params[3].value).kind == TypeKind::index);
  CHECK(k.type_of(k.params[5].value) == Type::scalar_of(DType::f32));
  CHECK(k.is_symbol("M"));
  CHECK_FALSE(k.is_symbol("s"));  // f32 is not a kernel constant
  REQUIRE(k.grid.size() == 3);
  CHECK(expr_to_string(k.grid[0]) == "cdiv(M, 128)");  // ceil(a / b) is sugar for cdiv
  CHECK(eval_expr(k.grid[0], {{"M", 1000}}) == std::optional<int64_t>(8));
  CHECK(k.cluster.size() == 2);
  CHECK(const_value(*k.resources.scratch_bytes) == std::optional<int64_t>(49152));
  CHECK(k.resources.warps == std::optional<int64_t>(8));
  CHECK(k.resources.registers == std::optional<int64_t>(168));
  CHECK(k.params[0].loc.line == 2);
  CHECK(k.params[0].loc.col == 14);
}

TEST_CASE("parser: ops, inferred and written types, positional attributes, tokens", "[parser]") {
  const Module m = parse_module(kSmall, "s.tile");
  const Kernel& k = only_kernel(m);
  const auto& ops = k.body.ops;
  REQUIRE(ops.size() == 5);
  CHECK(ops[0].opcode == OpId::program_id);
  CHECK(ops[0].attr("axis")->i == 0);
  CHECK(k.type_of(ops[0].results[0]).kind == TypeKind::index);
  CHECK(ops[1].opcode == OpId::constant);
  // load: buffer then tile coordinates; tile + token results
  CHECK(ops[2].opcode == OpId::load);
  REQUIRE(ops[2].operands.size() == 3);
  CHECK(k.value(ops[2].operands[0]).name == "X");
  REQUIRE(ops[2].results.size() == 2);
  CHECK(type_to_string(k.type_of(ops[2].results[0])) == "tile<f32>[32, 64] @reg");
  CHECK(k.type_of(ops[2].results[1]).kind == TypeKind::token);
  // mul with a scalar parameter operand: inferred tile type
  CHECK(type_to_string(k.type_of(ops[3].results[0])) == "tile<f32>[32, 64] @reg");
  CHECK(ops[3].loc.line == 6);
  CHECK(ops[3].loc.col == 8);
  // store after the load's token
  REQUIRE(ops[4].after.size() == 1);
  CHECK(ops[4].after[0] == ops[2].results[1]);
}

TEST_CASE("parser: unnamed trailing tokens, explicit types on inferable ops", "[parser]") {
  const Module m = parse_module(R"(
kernel @k(%X: global<f32>[64]) {
  %c0 = const 0 : index
  %x = load %X[%c0] : tile<f32>[64] @scratch
  %y = exp %x : tile<f32>[64] @reg
  store %y, %X[%c0]
}
)", "t.tile");
  const Kernel& k = only_kernel(m);
  CHECK(k.body.ops[1].results.size() == 2);
  CHECK(k.value(k.body.ops[1].results[1]).name.empty());
  CHECK(k.body.ops[3].results.size() == 1);  // store's token, unnamed
  // a written type that disagrees with the rule is an error
  const std::string err = parse_error(R"(kernel @k(%X: global<f32>[64]) {
  %c0 = const 0 : index
  %x = load %X[%c0] : tile<f32>[64] @reg
  %y = exp %x : tile<f16>[64] @reg
}
)");
  CHECK_THAT(err, Catch::Contains("t.tile:4:8: error: result type written as tile<f16>[64] @reg but 'exp' produces "
                                  "tile<f32>[64] @reg"));
}

TEST_CASE("parser: for with iter args and stages, if with results, nesting", "[parser]") {
  const Module m = parse_module(R"(
kernel @k(%X: global<f32>[N, 64], N: i32) {
  %c0 = const 0 : index
  %c1 = const 1 : index
  %zero = zeros : tile<f32>[1, 64] @reg
  %sum, %last = for %i = %c0 to N step %c1 stages=2 iter(%acc = %zero, %prev = %c0) {
    %x = load %X[%i, %c0] : tile<f32>[1, 64] @reg
    %big = cmp.gt %i, %c1
    %y = if %big {
      %d = add %x, %x
      yield %d
    } else {
      yield %x
    }
    %acc2 = add %acc, %y
    yield %acc2, %i
  }
  for %j = %c0 to N step %c1 {
  }
  store %sum, %X[%c0, %c0]
}
)", "t.tile");
  const Kernel& k = only_kernel(m);
  const Op& loop = k.body.ops[3];
  CHECK(loop.opcode == OpId::for_);
  CHECK(loop.operands.size() == 5);
  CHECK(loop.attr("stages")->i == 2);
  REQUIRE(loop.regions.size() == 1);
  CHECK(loop.regions[0].args.size() == 3);
  CHECK(k.type_of(loop.regions[0].args[0]).kind == TypeKind::index);  // N: i32 mixed with index
  CHECK(loop.results.size() == 2);
  const Op& branch = loop.regions[0].ops[2];
  CHECK(branch.opcode == OpId::if_);
  CHECK(branch.regions.size() == 2);
  CHECK(type_to_string(k.type_of(branch.results[0])) == "tile<f32>[1, 64] @reg");
  CHECK(k.body.ops[4].regions[0].ops.empty());
}

TEST_CASE("parser: channels and roles (x2, x 2 and the multiplication sign)", "[parser]") {
  const Module m = parse_module(R"(
kernel @ws(%A: global<f32>[64, 64]) {
  channel %ch: stages=3 of tile<f32>[64, 64] @scratch
  role producer warps=1 {
    %c0 = const 0 : index
    %a, %ta = copy_async %A[%c0, %c0] : tile<f32>[64, 64] @scratch
    put %ch, %a after(%ta)
  }
  role consumer ×2 warps=4 registers=200 {
    %a = get %ch
    release %ch
  }
  role other x 3 {
  }
  role third x4 {
  }
}
)", "t.tile");
  const Kernel& k = only_kernel(m);
  REQUIRE(k.channels.size() == 1);
  CHECK(k.channels[0].stages == 3);
  CHECK(type_to_string(k.type_of(k.channels[0].value)) == "channel<f32>[64, 64] @scratch");
  REQUIRE(k.roles.size() == 4);
  CHECK(k.roles[0].count == 1);
  CHECK(k.roles[1].count == 2);
  CHECK(k.roles[2].count == 3);
  CHECK(k.roles[3].count == 4);
  CHECK(find_attr(k.roles[1].hints, "registers")->i == 200);
  // both roles may name a value %a: names are scoped
  CHECK(k.value(k.roles[0].body.ops[1].results[0]).name == "a");
  CHECK(k.value(k.roles[1].body.ops[0].results[0]).name == "a");
  const std::string printed = print_module(m);
  CHECK_THAT(printed, Catch::Contains("  role consumer x2 warps=4 registers=200 {\n"));
  CHECK_THAT(printed, Catch::Contains("  channel %ch: stages=3 of tile<f32>[64, 64] @scratch\n"));
}

TEST_CASE("parser: comments with // and #, CRLF line ends, several kernels", "[parser]") {
  const Module m = parse_module("# file comment\r\nkernel @a() { // trailing\r\n}\r\n\r\n// another\r\nkernel @b() {\r\n"
                                "  %c = const 1.5 : f32 # value\r\n}\r\n",
                                "t.tile");
  REQUIRE(m.kernels.size() == 2);
  CHECK(m.kernels[1].body.ops[0].attr("value")->f == 1.5);
  CHECK(m.find_kernel("b") == &m.kernels[1]);
}

TEST_CASE("parser: canonical print of a small kernel", "[parser][printer]") {
  CHECK(roundtrip_once(kSmall) ==
        "kernel @k(%X: global<f32>[N, 64], N: i32, alpha: f32)\n"
        "    grid(cdiv(N, 32)) {\n"
        "  %i = program_id 0\n"
        "  %c0 = const 0 : index\n"
        "  %x, %tx = load %X[%i, %c0] : tile<f32>[32, 64] @reg\n"
        "  %y = mul %x, alpha\n"
        "  store %y, %X[%i, %c0] after(%tx)\n"
        "}\n");
}

TEST_CASE("printer: expressions keep their meaning and round-trip", "[printer]") {
  const char* cases[][2] = {
      {"(M + 1) * 2", "(M + 1) * 2"},
      {"M - (K - 1)", "M - (K - 1)"},
      {"M - K - 1", "M - K - 1"},
      {"M / (K / 2)", "M / (K / 2)"},
      {"-(M + K)", "-(M + K)"},
      {"2 * -K", "2 * -K"},
      {"min(M, max(K, 3)) + cdiv(M, 4)", "min(M, max(K, 3)) + cdiv(M, 4)"},
      {"ceil((M + 1) / 2)", "cdiv(M + 1, 2)"},
  };
  for (const auto& c : cases) {
    const std::string text = std::string("kernel @k(M: i32, K: i32) grid(") + c[0] + ") {\n}\n";
    const Module m = parse_module(text, "t.tile");
    CHECK(expr_to_string(m.kernels[0].grid[0]) == c[1]);
    const std::string once = print_module(m);
    CHECK(roundtrip_once(once) == once);
  }
  // evaluation follows the printed precedence
  const Module m = parse_module("kernel @k(M: i32, K: i32) grid(M - K - 1, M - (K - 1), -7 / 2) {\n}\n", "t.tile");
  CHECK(eval_expr(m.kernels[0].grid[0], {{"M", 10}, {"K", 3}}) == std::optional<int64_t>(6));
  CHECK(eval_expr(m.kernels[0].grid[1], {{"M", 10}, {"K", 3}}) == std::optional<int64_t>(8));
  CHECK(const_value(m.kernels[0].grid[2]) == std::optional<int64_t>(-4));  // floor division
}

TEST_CASE("printer: reals round-trip exactly", "[printer]") {
  for (double v : {0.0, -0.5, 1.0, 0.1, 1e-30, 3.4028234663852886e38, 1.0 / 3.0, -2.5e-7, 123456789.0}) {
    const std::string s = format_real(v);
    CHECK(s.find_first_of(".e") != std::string::npos);
    CHECK(std::strtod(s.c_str(), nullptr) == v);
  }
  CHECK(format_real(HUGE_VAL) == "inf");
  CHECK(format_real(-HUGE_VAL) == "-inf");
  CHECK(format_real(std::nan("")) == "nan");
  const Module m = parse_module("kernel @k() {\n  %a = full -inf : tile<f32>[4] @reg\n  %b = const 0.1 : f32\n"
                                "  %c = full 2 : tile<f16>[4] @reg\n  %d = const true : i1\n}\n",
                                "t.tile");
  const std::string p = print_module(m);
  CHECK_THAT(p, Catch::Contains("%a = full -inf : tile<f32>[4] @reg"));
  CHECK_THAT(p, Catch::Contains("%b = const 0.1 : f32"));
  CHECK_THAT(p, Catch::Contains("%c = full 2 : tile<f16>[4] @reg"));
  CHECK_THAT(p, Catch::Contains("%d = const true : i1"));
  CHECK(roundtrip_once(p) == p);
}

TEST_CASE("parser: f64 tensors, scalars, tiles and constants print and parse back exactly", "[parser][printer][f64]") {
  const char* text =
      "kernel @k(%X: global<f64>[N], %C: global<f64>[8, 8], N: i32, alpha: f64) {\n"
      "  %c0 = const 0 : index\n"
      "  %x = load %X[%c0] : tile<f64>[64] @reg\n"
      "  %third = const 0.33333333333333331 : f64\n"
      "  %tiny = full 4.9406564584124654e-324 : tile<f64>[64] @reg\n"
      "  %y = fma %x, alpha, %third\n"
      "  %z = add %y, %tiny\n"
      "  store %z, %X[%c0]\n"
      "  %a = zeros : tile<f64>[8, 4] @reg\n"
      "  %b = zeros : tile<f64>[4, 8] @reg\n"
      "  %acc = zeros : tile<f64>[8, 8] @acc\n"
      "  %d = mma %a, %b, %acc\n"
      "  store %d, %C[%c0, %c0]\n"
      "}\n";
  const Module m = parse_module(text, "t.tile");
  const Kernel& k = m.kernels.at(0);
  CHECK(k.type_of(k.params.at(0).value).dtype == DType::f64);
  const std::string printed = print_module(m);
  CHECK_THAT(printed, Catch::Contains("global<f64>[N]"));
  CHECK_THAT(printed, Catch::Contains("alpha: f64"));
  CHECK_THAT(printed, Catch::Contains("%third = const 0.3333333333333333 : f64"));  // shortest text of 1/3
  CHECK_THAT(printed, Catch::Contains("tile<f64>[8, 8] @acc"));
  CHECK_THAT(printed, Catch::Contains("full 5e-324 : tile<f64>[64] @reg"));  // the f64 subnormal is kept
  CHECK(roundtrip_once(printed) == printed);
  // The printed constant parses back to the same double, not to an f32-rounded one.
  const Module again = parse_module(printed, "t.tile");
  bool found = false;
  for (const Op& op : again.kernels.at(0).body.ops) {
    if (op.opcode != OpId::constant || again.kernels.at(0).type_of(op.results.at(0)).dtype != DType::f64) continue;
    const Attr* v = op.attr("value");
    REQUIRE(v != nullptr);
    CHECK(v->as_number() == 1.0 / 3.0);
    found = true;
  }
  CHECK(found);
  // An f64 operand with an f32 accumulator is a type error naming the supported pair.
  const std::string bad = std::string(text).replace(std::string(text).find("tile<f64>[8, 8] @acc"), 20,
                                                    "tile<f32>[8, 8] @acc");
  CHECK_THAT(parse_error(bad), Catch::Contains("f64->f64"));
}

TEST_CASE("parser: every example and workload .tile file round-trips through the printer", "[parser][roundtrip]") {
  const auto files = testing::all_tile_files();
  REQUIRE(files.size() >= 6);
  int round_tripped = 0;
  for (const auto& path : files) {
    INFO(path.string());
    const std::string text = testing::read_text(path);
    Module first;
    try {
      first = parse_module(text, path.string());
    } catch (const InputError& e) {
      // only files that say so may fail to parse
      INFO(e.what());
      CHECK_FALSE(testing::directives(text, "expect-error").empty());
      continue;
    }
    const std::string p1 = print_module(first);
    const std::string p2 = print_module(parse_module(p1, "printed.tile"));
    CHECK(p1 == p2);
    // the printed text means the same: same ops, same types
    const Module again = parse_module(p1, "printed.tile");
    REQUIRE(again.kernels.size() == first.kernels.size());
    for (size_t i = 0; i < first.kernels.size(); ++i) {
      CHECK(again.kernels[i].values.size() == first.kernels[i].values.size());
      for (size_t v = 0; v < first.kernels[i].values.size(); ++v)
        CHECK(again.kernels[i].values[v].type == first.kernels[i].values[v].type);
    }
    ++round_tripped;
  }
  CHECK(round_tripped >= 6);
}

TEST_CASE("parser: the valid example kernels use every opcode of the table", "[parser][roundtrip]") {
  std::set<OpId> seen;
  std::function<void(const Block&)> walk = [&](const Block& b) {
    for (const Op& op : b.ops) {
      seen.insert(op.opcode);
      for (const Block& r : op.regions) walk(r);
    }
  };
  for (const auto& path : testing::all_tile_files()) {
    const std::string text = testing::read_text(path);
    if (!testing::directives(text, "expect-error").empty()) continue;
    for (const Kernel& k : parse_module(text, path.string()).kernels) {
      walk(k.body);
      for (const Role& r : k.roles) walk(r.body);
    }
  }
  for (const OpcodeInfo& row : opcode_table()) {
    INFO("no valid example kernel uses '" << row.name << "'");
    CHECK(seen.count(row.id) == 1);
  }
}

// ---- errors --------------------------------------------------------------------------------------------

TEST_CASE("parser errors: unknown opcode has location, source line, caret and did-you-mean", "[parser][errors]") {
  const std::string err = parse_error("kernel @k() {\n  %c = cosnt 1 : f32\n}\n");
  CHECK(err ==
        "t.tile:2:8: error: unknown opcode 'cosnt'\n"
        " 2 |   %c = cosnt 1 : f32\n"
        "   |        ^\n"
        "hint: did you mean 'const'?");
  CHECK_THAT(parse_error("kernel @k() {\n  %c = reduce.summ\n}\n"), Catch::Contains("did you mean 'reduce.sum'"));
}

TEST_CASE("parser errors: names", "[parser][errors]") {
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 1 : i32\n  %b = add %a, %aa\n}\n"),
             Catch::StartsWith("t.tile:3:16: error: unknown value %aa") && Catch::Contains("hint: did you mean %a?"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 1 : i32\n  %a = const 2 : i32\n}\n"),
             Catch::StartsWith("t.tile:3:3: error: redefinition of %a (first defined at 2:3)"));
  CHECK_THAT(parse_error("kernel @k(M: i32) {\n  %a = add %M, %M\n}\n"),
             Catch::StartsWith("t.tile:2:12: error: 'M' is a scalar parameter: write it without '%'"));
  CHECK_THAT(parse_error("kernel @k() {\n  %c0 = const 0 : index\n  %c1 = const 1 : index\n"
                         "  for %i = %c0 to %c1 step %c1 {\n    %x = add %i, %c1\n  }\n  %y = add %x, %c1\n}\n"),
             Catch::StartsWith("t.tile:7:12: error: %x (defined at 5:5 inside a for body) is not visible here"));
  CHECK_THAT(parse_error("kernel @k(%A: global<f32>[Q]) {\n}\n"),
             Catch::StartsWith("t.tile:1:27: error: unknown kernel constant 'Q'"));
  CHECK_THAT(parse_error("kernel @k(x: f32) grid(x) {\n}\n"),
             Catch::StartsWith("t.tile:1:24: error: 'x' is f32; shapes need an integer parameter"));
  CHECK_THAT(parse_error("kernel @k(for: i32) {\n}\n"), Catch::Contains("'for' is a reserved word"));
  CHECK_THAT(parse_error("kernel @k() {\n}\nkernel @k() {\n}\n"),
             Catch::StartsWith("t.tile:3:1: error: kernel @k is defined twice (first at 1:1)"));
}

TEST_CASE("parser errors: op shapes", "[parser][errors]") {
  // load needs its result type
  CHECK_THAT(parse_error("kernel @k(%A: global<f32>[8]) {\n  %c = const 0 : index\n  %x = load %A[%c]\n}\n"),
             Catch::StartsWith("t.tile:3:8: error: 'load' needs the tile type after ':'"));
  // wrong number of result names
  CHECK_THAT(parse_error("kernel @k() {\n  %a, %b = const 0 : index\n}\n"),
             Catch::StartsWith("t.tile:2:3: error: 'const' produces 1 value but 2 names are given"));
  CHECK_THAT(parse_error("kernel @k() {\n  zeros : tile<f32>[2] @reg\n}\n"),
             Catch::StartsWith("t.tile:2:3: error: 'zeros' produces 1 value but 0 names are given"));
  // tile coordinates required where the table says
  CHECK_THAT(parse_error("kernel @k(%A: global<f32>[8]) {\n  %x = load %A : tile<f32>[8] @reg\n}\n"),
             Catch::StartsWith("t.tile:2:13: error: 'load' needs tile coordinates here: %A[%i, %j]"));
  // after(...) only on token-ordered ops, and only tokens
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 0 : index\n  %t = barrier\n  %b = add %a, %a after(%t)\n}\n"),
             Catch::StartsWith("t.tile:4:19: error: 'add' does not take after(...)"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 0 : index\n  %t = barrier after(%a)\n}\n"),
             Catch::StartsWith("t.tile:3:22: error: after(...) takes tokens; %a is index"));
  // literals are not operands
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 0 : index\n  %b = add %a, 1\n}\n"),
             Catch::StartsWith("t.tile:3:16: error: expected an operand, found number 1"));
  // attributes
  CHECK_THAT(parse_error("kernel @k() {\n  %a = zeros : tile<f32>[4, 4] @reg\n  %s = reduce.sum %a axs=1 keepdims=true\n}\n"),
             Catch::StartsWith("t.tile:3:22: error: 'reduce.sum' has no attribute 'axs'") &&
                 Catch::Contains("hint: did you mean 'axis'?"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = zeros : tile<f32>[4, 4] @reg\n  %s = reduce.sum %a axis=1\n}\n"),
             Catch::StartsWith("t.tile:3:8: error: 'reduce.sum' needs attribute 'keepdims'"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = zeros : tile<f32>[4, 4] @reg\n  %b = cast %a to=f128\n}\n"),
             Catch::StartsWith("t.tile:3:19: error: expected a dtype for attribute 'to', found 'f128'"));
  // one op per line
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 0 : index %b = const 1 : index\n}\n"),
             Catch::StartsWith("t.tile:2:24: error: expected a new line after the op, found '%b'"));
  // yield placement
  CHECK_THAT(parse_error("kernel @k() {\n  yield\n}\n"), Catch::StartsWith("t.tile:2:3: error: 'yield' outside a for/if region"));
  CHECK_THAT(parse_error("kernel @k() {\n  %c = const 0 : index\n  %z = zeros : tile<f32>[2] @reg\n"
                         "  %r = for %i = %c to %c step %c iter(%a = %z) {\n  }\n}\n"),
             Catch::StartsWith("t.tile:5:3: error: the loop body must end with `yield` of 1 value(s)"));
  CHECK_THAT(parse_error("kernel @k() {\n  %c = const 0 : index\n  %z = zeros : tile<f32>[2] @reg\n"
                         "  %r = for %i = %c to %c step %c iter(%a = %z) {\n    yield %c\n  }\n}\n"),
             Catch::StartsWith("t.tile:5:5: error: yield value 0 is index but the loop carries tile<f32>[2] @reg"));
  CHECK_THAT(parse_error("kernel @k() {\n  %p = const true : i1\n  %z = zeros : tile<f32>[2] @reg\n"
                         "  %r = if %p {\n    yield %z\n  }\n}\n"),
             Catch::StartsWith("t.tile:6:3: error: an if that yields values needs an else-branch"));
  CHECK_THAT(parse_error("kernel @k() {\n  %p = const true : i1\n  if %p {\n  }\n  else {\n  }\n}\n"),
             Catch::StartsWith("t.tile:5:3: error: 'else' must follow the then-branch's '}' on the same line"));
}

TEST_CASE("parser errors: type rules report the op", "[parser][errors]") {
  CHECK_THAT(parse_error("kernel @k() {\n  %a = zeros : tile<f32>[4, 8] @reg\n  %b = zeros : tile<f32>[4, 3] @reg\n"
                         "  %c = add %a, %b\n}\n"),
             Catch::StartsWith("t.tile:4:8: error: 'add' cannot broadcast shapes [4, 8] and [4, 3]: dim 1 is 8 vs 3"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = zeros : tile<f32>[4] @reg\n  %b = zeros : tile<f16>[4] @reg\n"
                         "  %c = add %a, %b\n}\n"),
             Catch::Contains("operands of 'add' have different dtypes: f32 and f16") &&
                 Catch::Contains("hint: the ISA inserts no implicit casts; use cast"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = zeros : tile<i32>[4] @reg\n  %b = exp %a\n}\n"),
             Catch::StartsWith("t.tile:3:8: error: 'exp' needs a float dtype, got i32"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = zeros : tile<bf16>[16, 16] @reg\n  %c = zeros : tile<bf16>[16, 16] @acc\n"
                         "  %d = mma %a, %a, %c\n}\n"),
             Catch::Contains("'mma' does not support bf16 x bf16 accumulating in bf16"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = zeros : tile<f16>[16, 16] @acc\n  %c = zeros : tile<f32>[16, 16] @acc\n"
                         "  %d = mma %a, %a, %c\n}\n"),
             Catch::Contains("the first operand of 'mma' must be in @reg or @scratch, got @acc"));
  CHECK_THAT(parse_error("kernel @k(%A: global<f32>[8, 8]) {\n  %c = const 0 : index\n"
                         "  %x = copy_async %A[%c, %c] : tile<f32>[8, 8] @reg\n}\n"),
             Catch::Contains("'copy_async' copies into @scratch, got @reg"));
  CHECK_THAT(parse_error("kernel @k(%A: global<f32>[8, 8]) {\n  %c = const 0 : index\n"
                         "  %x = load %A[%c] : tile<f32>[8, 8] @reg\n}\n"),
             Catch::Contains("'load' indexes a rank-2 tensor with 1 coordinate"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = zeros : tile<f32>[4] @reg\n  %c = if %a {\n  }\n}\n"),
             Catch::StartsWith("t.tile:3:11: error: the if condition must be an i1 scalar, got tile<f32>[4] @reg"));
}

TEST_CASE("parser errors: lexical problems and hostile bytes", "[parser][errors]") {
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 99999999999999999999 : i32\n}\n"),
             Catch::StartsWith("t.tile:2:14: error: integer literal is too large"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 1e999 : f32\n}\n"),
             Catch::StartsWith("t.tile:2:14: error: number literal 1e999 is out of range"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 12abc : f32\n}\n"),
             Catch::StartsWith("t.tile:2:16: error: unexpected 'a' after a number"));
  CHECK_THAT(parse_error(std::string("kernel @k() {\n  %a\0 = const 1 : f32\n}\n", 37)),
             Catch::StartsWith("t.tile:2:5: error: unexpected byte 0x00"));
  const std::string err = parse_error("kernel @k() {\n  %a = \xff\xfe const\n}\n");
  CHECK_THAT(err, Catch::StartsWith("t.tile:2:8: error: unexpected byte 0xFF"));
  CHECK_THAT(err, Catch::Contains(" 2 |   %a = ?? const\n   |        ^\n"));  // shown safely, caret aligned
  CHECK_THAT(parse_error("kernel @k() {\n  % = const 1 : f32\n}\n"),
             Catch::StartsWith("t.tile:2:3: error: expected a name after '%'"));
  CHECK_THAT(parse_error("kernel @k() {\n  %a = const 1 : f32\n"), Catch::StartsWith("t.tile:3:1: error: expected '}' before the end of the file"));
  CHECK_THAT(parse_error("kernal @k() {\n}\n"), Catch::StartsWith("t.tile:1:1: error: expected 'kernel', found 'kernal'"));
  CHECK(parse_error("") == "");  // an empty module is fine
}

TEST_CASE("parser errors: nesting depth and expression size are bounded", "[parser][errors]") {
  std::string deep = "kernel @k() {\n  %p = const true : i1\n";
  for (int i = 0; i < 100; ++i) deep += "if %p {\n";
  for (int i = 0; i < 100; ++i) deep += "}\n";
  deep += "}\n";
  CHECK_THAT(parse_error(deep), Catch::StartsWith("t.tile:67:1: error: nesting is too deep (more than 64 levels)"));
  std::string parens = "kernel @k() grid(" + std::string(1000, '(') + "1" + std::string(1000, ')') + ") {\n}\n";
  CHECK_THAT(parse_error(parens), Catch::Contains("nesting is too deep"));
  std::string sum = "kernel @k() grid(1";
  for (int i = 0; i < 5000; ++i) sum += " + 1";
  sum += ") {\n}\n";
  CHECK_THAT(parse_error(sum), Catch::Contains("expression is too large"));
}

TEST_CASE("parser: a long line is echoed as a window around the error", "[parser][errors]") {
  const std::string text = "kernel @k() grid(" + std::string(300, ' ') + "@) {\n}\n";
  const std::string err = parse_error(text);
  CHECK_THAT(err, Catch::StartsWith("t.tile:1:318: error: expected a name after '@'"));
  // the echoed line is cut to a window and the caret still sits under the '@'
  const auto line_start = err.find(" 1 | ...");
  REQUIRE(line_start != std::string::npos);
  const auto caret_line = err.find("\n   | ", line_start);
  REQUIRE(caret_line != std::string::npos);
  const std::string echoed = err.substr(line_start + 5, caret_line - line_start - 5);
  const std::string caret = err.substr(caret_line + 6, err.find('\n', caret_line + 1) - caret_line - 6);
  REQUIRE(caret.back() == '^');
  CHECK(echoed.size() < 200);
  CHECK(echoed[caret.size() - 1] == '@');
}

TEST_CASE("parse_file reports unreadable files as input errors", "[parser][errors]") {
  CHECK_THROWS_AS(parse_file("/nonexistent/x.tile"), InputError);
  CHECK_THROWS_WITH(parse_file("/nonexistent/x.tile"), Catch::StartsWith("/nonexistent/x.tile:0:0: error: cannot open"));
}

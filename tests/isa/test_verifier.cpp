// Verifier: example kernels (valid ones verify cleanly, invalid ones say what and where), token rules,
// roles/channels, resources, and structural checks on hand-built IR.
#include <catch2/catch.hpp>

#include "isa/text_parser.hpp"
#include "isa/verifier.hpp"
#include "sim/error.hpp"
#include "tile_test_files.hpp"

using namespace tilesim::isa;
using tilesim::InputError;

namespace {

VerifyReport verify_text(const std::string& text, Module* out = nullptr) {
  Module m = parse_module(text, "v.tile");
  VerifyReport r = verify(m);
  if (out) *out = std::move(m);
  return r;
}

std::string errors_of(const std::string& text) {
  Module m;
  const VerifyReport r = verify_text(text, &m);
  return r.format(m);
}

bool has_error_at(const VerifyReport& r, int line, int col) {
  for (const Diagnostic& d : r.diagnostics)
    if (d.severity == Severity::error && d.loc.line == line && d.loc.col == col) return true;
  return false;
}

}  // namespace

TEST_CASE("verifier: the valid example kernels verify without diagnostics", "[verifier]") {
  int checked = 0;
  for (const auto& path : testing::all_tile_files()) {
    const std::string text = testing::read_text(path);
    if (!testing::directives(text, "expect-error").empty()) continue;
    INFO(path.string());
    const Module m = parse_module(text, path.string());
    const VerifyReport r = verify(m);
    INFO(r.format(m));
    CHECK(r.diagnostics.empty());
    CHECK_NOTHROW(load_tile_file(path.string()));
    ++checked;
  }
  CHECK(checked >= 6);
}

TEST_CASE("verifier: each invalid example fails with its expected message and location", "[verifier]") {
  int checked = 0;
  for (const auto& path : testing::all_tile_files()) {
    const std::string text = testing::read_text(path);
    const auto expected = testing::directives(text, "expect-error");
    if (expected.empty()) continue;
    INFO(path.string());
    std::string report;
    std::vector<std::pair<int, int>> locations;
    try {
      const Module m = parse_module(text, path.string());
      const VerifyReport r = verify(m);
      CHECK_FALSE(r.ok());
      report = r.format(m);
      for (const Diagnostic& d : r.diagnostics)
        if (d.severity == Severity::error) locations.emplace_back(d.loc.line, d.loc.col);
    } catch (const InputError& e) {
      report = e.what();
      int line = 0, col = 0;
      const std::string prefix = path.string() + ":";
      REQUIRE(report.rfind(prefix, 0) == 0);
      REQUIRE(std::sscanf(report.c_str() + prefix.size(), "%d:%d", &line, &col) == 2);
      locations.emplace_back(line, col);
    }
    INFO(report);
    for (const std::string& want : expected) CHECK_THAT(report, Catch::Contains(want));
    for (const std::string& at : testing::directives(text, "expect-error-at")) {
      int line = 0, col = 0;
      REQUIRE(std::sscanf(at.c_str(), "%d:%d", &line, &col) == 2);
      CHECK(std::find(locations.begin(), locations.end(), std::make_pair(line, col)) != locations.end());
    }
    CHECK_THROWS_AS(load_tile_file(path.string()), InputError);
    ++checked;
  }
  CHECK(checked >= 10);
}

// ---- tokens --------------------------------------------------------------------------------------------

TEST_CASE("verifier tokens: wait, after(...) and transitive ordering make async tiles readable", "[verifier][tokens]") {
  // after(...) on a memory op orders it after the copy; a wait on a later token implies the earlier ones
  const std::string ok = R"(
kernel @k(%A: global<f32>[64], %B: global<f32>[64]) {
  %c0 = const 0 : index
  %a, %ta = copy_async %A[%c0] : tile<f32>[64] @scratch
  %t1 = store %a, %B[%c0] after(%ta)
  wait %t1
  %b = exp %a
  store %b, %B[%c0]
}
)";
  CHECK(verify_text(ok).diagnostics.empty());
  // a view of an unwaited tile is fine; reading through it is not
  const std::string view = R"(
kernel @k(%A: global<f32>[64, 64]) {
  %c0 = const 0 : index
  %a, %ta = copy_async %A[%c0, %c0] : tile<f32>[64, 64] @scratch
  %h = subtile %a[%c0, %c0] shape=[32, 64]
  %e = exp %h
  wait %ta
}
)";
  const std::string err = errors_of(view);
  CHECK_THAT(err, Catch::StartsWith("v.tile:6:8: error: 'exp' reads %h before its copy_async token %ta is waited on"));
  CHECK_THAT(err, Catch::Contains("hint: add `wait %ta` before this op"));
}

TEST_CASE("verifier tokens: waits inside a branch do not cover code after it", "[verifier][tokens]") {
  const std::string text = R"(
kernel @k(%A: global<f32>[64]) {
  %c0 = const 0 : index
  %p = const true : i1
  %a, %ta = copy_async %A[%c0] : tile<f32>[64] @scratch
  if %p {
    wait %ta
    %x = exp %a
  }
  %y = exp %a
}
)";
  Module m;
  const VerifyReport r = verify_text(text, &m);
  INFO(r.format(m));
  CHECK(r.error_count() == 1);
  CHECK(has_error_at(r, 10, 8));
}

TEST_CASE("verifier tokens: loops may carry an async tile with its token, not without", "[verifier][tokens]") {
  const std::string carried_without_token = R"(
kernel @k(%A: global<f32>[N], N: i32) {
  %c0 = const 0 : index
  %c1 = const 1 : index
  %a0, %t0 = copy_async %A[%c0] : tile<f32>[64] @scratch
  wait %t0
  %r = for %i = %c0 to N step %c1 iter(%a = %a0) {
    %an, %tn = copy_async %A[%i] : tile<f32>[64] @scratch
    %e = exp %a
    yield %an
  }
}
)";
  const std::string err = errors_of(carried_without_token);
  CHECK_THAT(err, Catch::Contains("v.tile:10:5: error: yield passes %an on before its copy_async token %tn is waited on"));
  CHECK_THAT(err, Catch::Contains("v.tile:8:16: error: the token of this copy_async (%an) is never waited on"));
  // the carried iter value is used without waiting for the carried token
  const std::string forgot_wait = R"(
kernel @k(%A: global<f32>[N], N: i32) {
  %c0 = const 0 : index
  %c1 = const 1 : index
  %a0, %t0 = copy_async %A[%c0] : tile<f32>[64] @scratch
  %r, %rt = for %i = %c0 to N step %c1 iter(%a = %a0, %t = %t0) {
    %e = exp %a
    %an, %tn = copy_async %A[%i] : tile<f32>[64] @scratch
    yield %an, %tn
  }
}
)";
  CHECK_THAT(errors_of(forgot_wait), Catch::StartsWith("v.tile:7:10: error: 'exp' reads %a before its copy_async token %t is waited on"));
}

TEST_CASE("verifier tokens: only copy_async tokens must be consumed", "[verifier][tokens]") {
  const std::string text = R"(
kernel @k(%A: global<f32>[64]) {
  %c0 = const 0 : index
  %x, %tx = load %A[%c0] : tile<f32>[64] @reg
  %ts = store %x, %A[%c0]
  %tf = fence scope=device
  %tb = barrier
}
)";
  CHECK(verify_text(text).diagnostics.empty());
}

// ---- roles and channels ----------------------------------------------------------------------------------

TEST_CASE("verifier channels: roles, producers and consumers", "[verifier][roles]") {
  const std::string no_roles = R"(
kernel @k(%A: global<f32>[64]) {
  channel %ch: stages=2 of tile<f32>[64] @scratch
  %x = get %ch
}
)";
  CHECK_THAT(errors_of(no_roles), Catch::StartsWith("v.tile:4:8: error: 'get' on channel %ch in a kernel without roles"));
  const std::string both = R"(
kernel @k(%A: global<f32>[64]) {
  channel %ch: stages=2 of tile<f32>[64] @reg
  channel %unused: stages=2 of tile<f32>[64] @reg
  role loop {
    %c0 = const 0 : index
    %a = load %A[%c0] : tile<f32>[64] @reg
    put %ch, %a
    %b = get %ch
  }
  role other {
    release %ch
  }
}
)";
  Module m;
  const VerifyReport r = verify_text(both, &m);
  const std::string text = r.format(m);
  INFO(text);
  CHECK_THAT(text, Catch::Contains("v.tile:9:10: error: role 'loop' both puts to and gets from channel %ch"));
  CHECK_THAT(text, Catch::Contains("v.tile:12:5: error: role 'other' releases channel %ch but never gets from it"));
  CHECK_THAT(text, Catch::Contains("v.tile:4:3: warning: channel %unused is never used"));
  CHECK(r.warning_count() == 1);
  const std::string no_producer = R"(
kernel @k() {
  channel %ch: stages=2 of tile<f32>[64] @reg
  role consumer {
    %b = get %ch
  }
}
)";
  CHECK_THAT(errors_of(no_producer), Catch::StartsWith("v.tile:3:3: error: channel %ch has no producer: no role puts to it"));
}

// ---- resources -------------------------------------------------------------------------------------------

TEST_CASE("verifier resources: scratch totals, stages, channels and symbolic shapes", "[verifier][resources]") {
  const Module ws = parse_file((testing::repo_root() / "tests/isa/data/gemm_warp_specialized.tile").string());
  const ScratchUsage u = scratch_usage(ws.kernels[0]);
  // only the channels' stages count: the copies land in the stages they are put into
  CHECK(u.total_bytes() == std::optional<int64_t>(4 * 128 * 64 * 2 + 4 * 64 * 256 * 2));
  REQUIRE(u.items.size() == 2);
  CHECK(u.items[0].what == "channel %ch_a");
  CHECK(u.items[0].copies == 4);

  const Module pipe = parse_file((testing::repo_root() / "tests/isa/data/gemm_pipelined.tile").string());
  CHECK(scratch_usage(pipe.kernels[0]).total_bytes() == std::optional<int64_t>(3 * (16384 + 16384)));

  const std::string symbolic = R"(
kernel @k(%A: global<f32>[N, 64], N: i32) resources(scratch=1024) {
  %c0 = const 0 : index
  %a, %ta = copy_async %A[%c0, %c0] : tile<f32>[N, 64] @scratch
  wait %ta
}
)";
  Module m;
  const VerifyReport r = verify_text(symbolic, &m);
  CHECK(r.ok());
  REQUIRE(r.warning_count() == 1);
  CHECK_THAT(r.format(m), Catch::StartsWith("v.tile:4:13: warning: cannot check the scratch budget: %a has a symbolic shape"));
}

TEST_CASE("verify_or_throw lists every error with location and caret", "[verifier]") {
  const Module m = parse_module(R"(kernel @k(%A: global<f32>[64]) {
  %c0 = const 0 : index
  %a, %ta = copy_async %A[%c0] : tile<f32>[64] @scratch
  %b, %tb = copy_async %A[%c0] : tile<f32>[64] @scratch
}
)", "v.tile");
  try {
    verify_or_throw(m);
    FAIL("expected an InputError");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CHECK_THAT(msg, Catch::StartsWith("v.tile:3:13: error: the token of this copy_async (%a) is never waited on\n"
                                      " 3 |   %a, %ta = copy_async %A[%c0] : tile<f32>[64] @scratch\n"
                                      "   |             ^\n"));
    CHECK_THAT(msg, Catch::Contains("v.tile:4:13: error: the token of this copy_async (%b) is never waited on"));
  }
}

// ---- hand-built IR ---------------------------------------------------------------------------------------

TEST_CASE("verifier structure: hand-built IR with use-before-definition and wrong types", "[verifier][structure]") {
  Module m;
  m.source_name = "built";
  Builder b(m, "k");
  b.set_loc({3, 1});
  const Value c0 = b.const_index(0, "c0");
  const Value x = b.zeros(Type::tile_of(DType::f32, std::vector<int64_t>{8, 8}), "x");
  const Value y = b.unary("exp", x, "y");
  CHECK(verify(m).ok());

  SECTION("an op reads a value defined after it") {
    Kernel& k = m.kernels[0];
    std::swap(k.body.ops[1], k.body.ops[2]);  // exp now precedes the zeros that defines its operand
    const VerifyReport r = verify(m);
    CHECK_THAT(r.format(m), Catch::Contains("error: %x is used before it is defined"));
  }
  SECTION("a result type that disagrees with the opcode's rule") {
    m.kernels[0].values[static_cast<size_t>(y.id)].type = Type::tile_of(DType::f16, std::vector<int64_t>{8, 8});
    CHECK_THAT(verify(m).format(m),
               Catch::Contains("result %y of 'exp' has type tile<f16>[8, 8] @reg but the op produces tile<f32>[8, 8] @reg"));
  }
  SECTION("a wait on something that is not a token") {
    Op w;
    w.opcode = OpId::wait;
    w.operands = {c0.id};
    w.loc = {9, 3};
    m.kernels[0].body.ops.push_back(w);
    const VerifyReport r = verify(m);
    CHECK(has_error_at(r, 9, 3));
    CHECK_THAT(r.format(m), Catch::Contains("'wait' takes tokens; the first operand is index"));
  }
  SECTION("a use of an id that does not exist") {
    Op w;
    w.opcode = OpId::wait;
    w.operands = {12345};
    m.kernels[0].body.ops.push_back(w);
    CHECK_THAT(verify(m).format(m), Catch::Contains("use of an invalid value id 12345"));
  }
  SECTION("a symbol in a shape that is not a parameter") {
    m.kernels[0].values[static_cast<size_t>(x.id)].type.shape[0] = Expr::symbol_of("Q");
    CHECK_THAT(verify(m).format(m), Catch::Contains("uses 'Q', which is not an integer scalar parameter of @k"));
  }
}

// The CI gate: expected_errors.csv parsing, the comparison rules, and the gate run for real on fixture rows.
#include <fstream>

#include <catch2/catch.hpp>

#include "sim/error.hpp"
#include "validation/error_gate.hpp"
#include "validation_test_util.hpp"

using namespace tilesim;
using namespace tilesim::validation;
using namespace validation_test;
namespace fs = std::filesystem;

namespace {
const std::string kData = VALIDATION_TEST_DATA;

CaseResult compared(const std::string& id, double error_pct) {
  CaseResult c;
  c.row.id = id;
  c.status = CaseStatus::compared;
  c.simulated = 1;
  c.error_pct = error_pct;
  return c;
}

std::string read_error(const std::string& text) {
  const fs::path file = fresh_dir("gate_parse") / "expected.csv";
  std::ofstream(file) << text;
  try {
    read_expected_errors(file.string());
  } catch (const InputError& e) {
    const std::string what = e.what();
    return what.substr(file.string().size());  // strip the path, keep ":line:col: ..."
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("expected errors: the file is read by header name, with comments") {
  const fs::path file = fresh_dir("gate_read") / "expected.csv";
  std::ofstream(file) << "# recorded\nmargin,id,error_pct\n1.5,a,-3.25\n0,b,10\n";
  const auto e = read_expected_errors(file.string());
  REQUIRE(e.size() == 2);
  CHECK(e[0].id == "a");
  CHECK(e[0].error_pct == -3.25);
  CHECK(e[0].margin == 1.5);
  CHECK(e[0].line == 3);
  CHECK(e[1].margin == 0);
}

TEST_CASE("expected errors: malformed files give file:line:col errors") {
  CHECK(read_error("id,error_pct\n") == ":1:1: expected errors: missing column 'margin' (columns: id, error_pct)");
  CHECK(read_error("") == ":1:1: expected errors: the file is empty (expected the header id,error_pct,margin)");
  CHECK(read_error("id,error_pct,margin\na,x,1\n") == ":2:3: column 'error_pct': 'x' is not a number");
  CHECK(read_error("id,error_pct,margin\na,1,-1\n") == ":2:5: column 'margin': must not be negative");
  CHECK(read_error("id,error_pct,margin\na,1,1\na,2,1\n") == ":3:1: duplicate id 'a' (first at line 2)");
  CHECK(read_error("id,error_pct,margin\na,1\n") == ":2:1: row has 2 fields, the header has 3");
}

TEST_CASE("gate rules: growth beyond recorded + margin and lost rows are regressions, the rest are notes") {
  CaseResult gone;
  gone.row.id = "now-unrunnable";
  gone.status = CaseStatus::not_runnable;
  gone.reason = "no case mapper";
  const std::vector<CaseResult> cases = {compared("within", -5.9), compared("grew", 7.2), compared("shrank", 1.0),
                                         compared("new", 3.0), gone};
  const std::vector<ExpectedError> expected = {{"within", 5.0, 1.0, 2}, {"grew", -6.0, 1.0, 3}, {"shrank", 4.0, 1.0, 4},
                                               {"now-unrunnable", 2.0, 1.0, 5}, {"removed", 2.0, 1.0, 6}};
  const auto findings = check_expected_errors(expected, cases);
  REQUIRE(findings.size() == 5);
  CHECK(findings[0].id == "grew");
  CHECK(findings[0].regression);
  CHECK(findings[0].message == "|error| grew to 7.2% (recorded -6% +- 1 pp, limit 7%)");
  CHECK(findings[1].id == "now-unrunnable");
  CHECK(findings[1].message == "now not runnable (recorded 2% +- 1 pp): no case mapper");
  CHECK(findings[2].id == "removed");
  CHECK(findings[2].regression);
  CHECK(findings[3].id == "shrank");
  CHECK_FALSE(findings[3].regression);
  CHECK(findings[4].id == "new");
  CHECK_FALSE(findings[4].regression);
  CHECK(findings[4].message == "compared (error 3%) but not recorded in the expected file");
}

TEST_CASE("gate: recorded errors pass, then a tightened record and a lost row fail the build (exit 1)") {
  const fs::path dir = fresh_dir("gate_run");
  const std::string csv = kData + "/fixture_cases.csv";
  const std::string expected = (dir / "expected.csv").string();
  std::string printed;
  // Record the current errors of the runnable fixture rows.
  REQUIRE(validate({csv, "--only", "fixture_chase", "--out", (dir / "a").string(), "--no-plot", "--write-expected",
                    expected, "--margin", "0.5"},
                   printed) == 0);
  const auto recorded = read_expected_errors(expected);
  REQUIRE(recorded.size() == 2);
  CHECK(recorded[0].id == "fx-chase-cycles");
  CHECK(recorded[1].id == "fx-chase-ns");

  // Same models, same rows: the gate passes.
  CHECK(validate({csv, "--only", "fixture_chase", "--out", (dir / "b").string(), "--no-plot", "--expected", expected},
                 printed) == 0);
  CHECK(printed.find("2 recorded rows, 0 regressions") != std::string::npos);

  // A record that says the error was 0 +- 0.5: the real error (about -8%) exceeds it.
  std::ofstream(dir / "tight.csv") << "id,error_pct,margin\nfx-chase-ns,0,0.5\n";
  CHECK(validate({csv, "--only", "fixture_chase", "--out", (dir / "c").string(), "--no-plot", "--expected",
                  (dir / "tight.csv").string()},
                 printed) == 1);
  CHECK(printed.find("REGRESSION fx-chase-ns: |error| grew to ") != std::string::npos);

  // A recorded row that can no longer run fails the gate too.
  std::ofstream(dir / "lost.csv") << "id,error_pct,margin\nfx-no-preset,1,1\n";
  CHECK(validate({csv, "--out", (dir / "d").string(), "--no-plot", "--expected", (dir / "lost.csv").string()}, printed) == 1);
  CHECK(printed.find("REGRESSION fx-no-preset: now not runnable (recorded 1% +- 1 pp): no preset 'no_such_preset'") !=
        std::string::npos);
}

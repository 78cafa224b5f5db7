// Reading reference CSVs by header name, and ReferenceRow's param accessors.
#include <sstream>

#include <catch2/catch.hpp>

#include "sim/error.hpp"
#include "validation/reference_csv.hpp"

using namespace tilesim;
using namespace tilesim::validation;

namespace {

std::vector<ReferenceRow> parse(const std::string& text) {
  std::istringstream in(text);
  return read_reference_csv(in, "t.csv");
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

const char* const kHeader = "id,device,preset,workload,params,metric,value,unit,clock_mhz,trust,source_url,note\n";

}  // namespace

TEST_CASE("reference CSV: columns are found by name, quoted fields keep commas, quotes and newlines") {
  // Columns in a different order than SCHEMA.md, plus an extra column that is ignored.
  const auto rows = parse(
      "note,unit,value,metric,params,workload,preset,extra,id,clock_mhz\n"
      "\"a, \"\"b\"\"\nc\",cycles,34.2,latency,space=global; footprint=15KiB ;stride=random,pchase,h100_pcie,x,r1,1755\n"
      ",GB/s,1942,bandwidth,op=read;occupancy=12.5%,stream,h100_pcie,y,r2,\n");
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].id == "r1");
  CHECK(rows[0].note == "a, \"b\"\nc");
  CHECK(rows[0].value == Approx(34.2));
  CHECK(rows[0].unit == "cycles");
  REQUIRE(rows[0].clock_mhz);
  CHECK(*rows[0].clock_mhz == 1755);
  CHECK(rows[0].params.size() == 3);
  CHECK(rows[0].param("footprint") == "15KiB");
  CHECK(rows[0].param_bytes("footprint") == 15 * 1024);
  CHECK(rows[0].line == 2);
  CHECK(rows[0].location() == "t.csv:2");
  CHECK(rows[1].line == 4);  // the quoted note of row 1 spans lines 2-3
  CHECK_FALSE(rows[1].clock_mhz);
  CHECK(rows[1].param_fraction("occupancy") == Approx(0.125));
  CHECK(rows[1].device.empty());  // no device column: optional
}

TEST_CASE("reference CSV: param accessors convert sizes and numbers and name the row on errors") {
  const auto rows = parse(std::string(kHeader) +
                          "r1,d,p,pchase,footprint=2.8MiB;bytes=4096;threads=64;stride=random;occ=150%,latency,1,ns,,,,\n");
  const ReferenceRow& r = rows.at(0);
  CHECK(r.param_bytes("footprint") == Approx(2.8 * 1048576));
  CHECK(r.param_bytes("bytes") == 4096);
  CHECK(r.param_integer("threads") == 64);
  CHECK(r.param_or("level", "dram") == "dram");
  CHECK_THROWS_WITH(r.param("level"),
                    "t.csv:2: row r1: missing param 'level' for workload pchase (params: bytes, footprint, occ, stride, threads)");
  CHECK_THROWS_WITH(r.param_number("stride"), "t.csv:2: row r1: param 'stride' = 'random': not a number");
  CHECK_THROWS_WITH(r.param_fraction("occ"),
                    "t.csv:2: row r1: param 'occ' = '150%': not a percentage between 0% and 100%");
  CHECK_THROWS_AS(r.param_bytes("stride"), InputError);
}

TEST_CASE("reference CSV: malformed input gives file:line:col errors") {
  CHECK(error_of("id,preset,workload,params,metric,value\n") ==
        "t.csv:1:1: reference CSV: missing column 'unit' (columns: id, preset, workload, params, metric, value)");
  CHECK(error_of("") == "t.csv:1:1: reference CSV: the file is empty (expected a header row)");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,w,a=1,latency,1,ns,,,\n") == "t.csv:2:1: row has 11 fields, the header has 12");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,w,a=1,latency,fast,ns,,,,\n") ==
        "t.csv:2:22: column 'value': 'fast' is not a number");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,w,a=1,latency,1,ns,abc,,,\n") ==
        "t.csv:2:27: column 'clock_mhz': 'abc' is not a number");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,w,a=1;b,latency,1,ns,,,,\n") ==
        "t.csv:2:10: params: 'b' is not key=value (params are `key=value;key=value`)");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,w,a=1;a=2,latency,1,ns,,,,\n") == "t.csv:2:10: params: key 'a' given twice");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,w,a=1,latency,1,ns,,,,\nr1,d,p,w,a=1,latency,1,ns,,,,\n") ==
        "t.csv:3:1: duplicate id 'r1' (first at line 2)");
  CHECK(error_of(std::string(kHeader) + ",d,p,w,a=1,latency,1,ns,,,,\n") == "t.csv:2:1: column 'id' is empty");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,,a=1,latency,1,ns,,,,\n") == "t.csv:2:8: column 'workload' is empty");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,w,a=1,latency,1,ns,,,,\"open\n") == "t.csv:2:30: unterminated quoted field");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,w,a=1,latency,1,ns,,,,x\"y\n") ==
        "t.csv:2:31: a quote inside an unquoted field");
  CHECK(error_of(std::string(kHeader) + "r1,d,p,w,a=1,latency,1,ns,,,,\"x\"y\n") ==
        "t.csv:2:33: expected ',' or end of line after a closing quote");
}

TEST_CASE("reference CSV: a missing file is a clear error") {
  CHECK_THROWS_WITH(read_reference_csv("/nonexistent/ref.csv"), "/nonexistent/ref.csv: cannot open: No such file or directory");
}

TEST_CASE("reference CSV: the shared calibration set parses completely") {
  const std::string path = CALIBRATION_CSV;
  if (path.empty()) {
    WARN("no shared/reference/calibration.csv next to or inside this checkout; nothing to parse");
    return;
  }
  const auto rows = read_reference_csv(path);
  CHECK(rows.size() >= 100);
  for (const auto& r : rows) {
    CAPTURE(r.id);
    CHECK_FALSE(r.workload.empty());
    CHECK_FALSE(r.preset.empty());
    CHECK(r.line > 1);
  }
}

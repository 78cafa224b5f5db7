// Nsight Systems SQLite export: the test creates the database with the tables and columns of the
// documented export schema (CUPTI_ACTIVITY_KIND_KERNEL, StringIds, TARGET_INFO_GPU).
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "sim/error.hpp"
#include "trace_test_util.hpp"
#include "traces/import.hpp"
#include "traces/nsys_sqlite.hpp"

using namespace tilesim;
using namespace tilesim::traces;

namespace {

const char* const kSchema = R"sql(
CREATE TABLE StringIds (id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE TARGET_INFO_GPU (id INTEGER NOT NULL, name TEXT, busLocation TEXT, totalMemory INTEGER, smCount INTEGER);
CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (
  start INTEGER NOT NULL, end INTEGER NOT NULL, deviceId INTEGER NOT NULL, contextId INTEGER NOT NULL,
  streamId INTEGER NOT NULL, correlationId INTEGER, globalPid INTEGER, demangledName INTEGER NOT NULL,
  shortName INTEGER NOT NULL, mangledName INTEGER, launchType INTEGER, cacheConfig INTEGER,
  registersPerThread INTEGER NOT NULL, gridX INTEGER NOT NULL, gridY INTEGER NOT NULL, gridZ INTEGER NOT NULL,
  blockX INTEGER NOT NULL, blockY INTEGER NOT NULL, blockZ INTEGER NOT NULL, staticSharedMemory INTEGER NOT NULL,
  dynamicSharedMemory INTEGER NOT NULL, localMemoryPerThread INTEGER NOT NULL, localMemoryTotal INTEGER NOT NULL,
  gridId INTEGER NOT NULL, sharedMemoryExecuted INTEGER);
INSERT INTO StringIds VALUES (1, 'void gemm_kernel<128>(const float *, float *)'), (2, 'gemm_kernel'),
  (3, 'softmax_kernel(float *, int)'), (4, 'softmax_kernel');
INSERT INTO TARGET_INFO_GPU VALUES (0, 'NVIDIA H100 80GB HBM3', '0000:1b:00.0', 85029158912, 132);
INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES
  (5000, 5950, 0, 1, 7, 12, 1, 3, 4, NULL, 0, 0, 32, 1024, 1, 1, 128, 1, 1, 0, 0, 0, 0, 2, 0),
  (1000, 4500, 0, 1, 7, 10, 1, 1, 2, NULL, 0, 0, 168, 132, 2, 1, 256, 1, 1, 0, 49152, 0, 0, 1, 0);
)sql";

std::string make_db(const std::string& name, const std::string& sql) {
  const auto path = (trace_test::temp_dir("nsys_" + name) / "report.sqlite").string();
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  INFO((err ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
  return path;
}

std::string error_reading(const std::string& path) {
  try {
    read_nsys_sqlite(path);
  } catch (const InputError& e) {
    return std::string(e.what()).substr(path.size());
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("nsys SQLite: kernels joined with StringIds, ordered by start, with grid, block and device") {
  const std::string path = make_db("good", kSchema);
  CHECK(detect_format(path) == TraceFormat::nsys_sqlite);
  const MeasuredTrace t = read_nsys_sqlite(path);
  CHECK(t.format == "nsys-sqlite");
  REQUIRE(t.kernels.size() == 2);
  CHECK(t.kernels[0].name == "gemm_kernel");
  CHECK(t.kernels[0].full_name == "void gemm_kernel<128>(const float *, float *)");
  CHECK(*t.kernels[0].start_ns == 1000);
  CHECK(*t.kernels[0].duration_ns == 3500);
  CHECK(t.kernels[0].grid == std::array<long long, 3>{132, 2, 1});
  CHECK(t.kernels[0].block == std::array<long long, 3>{256, 1, 1});
  CHECK(t.kernels[1].name == "softmax_kernel");
  CHECK(*t.kernels[1].duration_ns == 950);
  CHECK(t.devices.at("0") == "NVIDIA H100 80GB HBM3");
}

TEST_CASE("nsys SQLite: malformed exports give the exact error") {
  CHECK(error_reading(make_db("nokernels", "CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT);")) ==
        ": no table CUPTI_ACTIVITY_KIND_KERNEL (profile with `nsys profile --trace=cuda` and make sure kernels ran)");
  CHECK(error_reading(make_db("nostrings", "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER, end INTEGER);")) ==
        ": no table StringIds (kernel names are ids into it)");
  CHECK(error_reading(make_db("nocol", "CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT);"
                                       "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER, end INTEGER, shortName INTEGER);")) ==
        ": table CUPTI_ACTIVITY_KIND_KERNEL: missing column 'deviceId' (columns: end, shortName, start)");
  CHECK(error_reading(make_db("dangling", "CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT);"
                                          "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER, end INTEGER, deviceId INTEGER, shortName INTEGER);"
                                          "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (1, 2, 0, 42);")) ==
        ": table CUPTI_ACTIVITY_KIND_KERNEL row 1: shortName id 42 is not in StringIds");
  CHECK(error_reading(make_db("backwards", "CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT);"
                                           "INSERT INTO StringIds VALUES (1, 'k');"
                                           "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER, end INTEGER, deviceId INTEGER, shortName INTEGER);"
                                           "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (10, 5, 0, 1);")) ==
        ": table CUPTI_ACTIVITY_KIND_KERNEL row 1: end (5) is before start (10)");
  const std::string text = trace_test::write_file(trace_test::temp_dir("nsys_text"), "report.sqlite", "not a database\n");
  CHECK(error_reading(text) == ": not an SQLite database (expected an `nsys export --type sqlite` file)");
  CHECK(error_reading("/nonexistent/report.sqlite") == ": cannot open: no such file or not readable");
}

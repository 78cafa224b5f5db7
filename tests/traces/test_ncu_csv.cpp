// Nsight Compute CSV, both pages, on fixtures that follow ncu's documented column names.
#include <catch2/catch.hpp>

#include "sim/error.hpp"
#include "trace_test_util.hpp"
#include "traces/import.hpp"
#include "traces/ncu_csv.hpp"

using namespace tilesim;
using namespace tilesim::traces;

namespace {
const std::string kData = TRACES_TEST_DATA;
const std::string kDetailsHeader =
    "\"ID\",\"Process ID\",\"Process Name\",\"Host Name\",\"Kernel Name\",\"Context\",\"Stream\",\"Block Size\","
    "\"Grid Size\",\"Device\",\"CC\",\"Section Name\",\"Metric Name\",\"Metric Unit\",\"Metric Value\"\n";

std::string error_reading(const std::string& name, const std::string& text) {
  const std::string path = trace_test::write_file(trace_test::temp_dir("ncu_bad"), name, text);
  try {
    read_ncu_csv(path);
  } catch (const InputError& e) {
    return std::string(e.what()).substr(path.size());
  }
  return "(no error)";
}
}  // namespace

TEST_CASE("ncu details page: one kernel per ID, metrics by name, duration from Duration") {
  const MeasuredTrace t = read_ncu_csv(kData + "/ncu_details.csv");
  CHECK(t.format == "ncu-details");
  REQUIRE(t.kernels.size() == 2);
  const MeasuredKernel& gemm = t.kernels[0];
  CHECK(gemm.name == "void gemm_kernel<128>(float const*, float*)");
  CHECK(kernel_base_name(gemm.name) == "gemm_kernel");
  REQUIRE(gemm.duration_ns);
  CHECK(*gemm.duration_ns == Approx(1234560));  // 1,234.56 usecond
  CHECK(gemm.device == "0");
  CHECK(gemm.block == std::array<long long, 3>{256, 1, 1});
  CHECK(gemm.grid == std::array<long long, 3>{132, 2, 1});
  CHECK(gemm.metrics.at("SM Frequency").value == Approx(1.75));
  CHECK(gemm.metrics.at("SM Frequency").unit == "Ghz");
  CHECK(gemm.metrics.at("Registers Per Thread").value == 128);
  CHECK(gemm.metrics.count("Achieved Occupancy") == 0);  // "n/a" carries no number
  const MeasuredKernel& softmax = t.kernels[1];
  CHECK(*softmax.duration_ns == 15360);
  // A ==PROF== line between rows is skipped, the row after it still belongs to launch 1.
  CHECK(softmax.metrics.at("Memory Throughput").value == Approx(1850.2));
  CHECK(detect_format(kData + "/ncu_details.csv") == TraceFormat::ncu_csv);
}

TEST_CASE("ncu raw page: header plus units row, one row per launch, a column per metric") {
  const MeasuredTrace t = read_ncu_csv(kData + "/ncu_raw.csv");
  CHECK(t.format == "ncu-raw");
  REQUIRE(t.kernels.size() == 3);
  CHECK(*t.kernels[0].duration_ns == 553120);
  CHECK(*t.kernels[1].duration_ns == 551904);
  CHECK_FALSE(t.kernels[2].duration_ns);  // n/a
  CHECK(t.kernels[0].metrics.at("dram__bytes_read.sum").value == Approx(1073.74));
  CHECK(t.kernels[0].metrics.at("dram__bytes_read.sum").unit == "Mbyte");
  CHECK(t.kernels[0].metrics.count("Kernel Name") == 0);
  CHECK(t.kernels[2].grid == std::array<long long, 3>{1, 1, 1});
  CHECK(read_kernel_trace(kData + "/ncu_raw.csv").kernels.size() == 3);
}

TEST_CASE("ncu CSV: malformed input gives the exact error") {
  CHECK(error_reading("noheader.csv", "==PROF== Connected to process 1\n==ERROR== The application returned an error code (1).\nhello\n") ==
        ": no Nsight Compute CSV header (a line starting with \"ID\",\"Process ID\") in 3 lines; is this `ncu --csv` "
        "output?\n  ==ERROR== The application returned an error code (1).");
  CHECK(error_reading("empty.csv", kDetailsHeader) == ":1:1: Nsight Compute CSV has a header but no kernel rows");
  CHECK(error_reading("width.csv", kDetailsHeader + "\"0\",\"1\",\"p\",\"h\",\"k\",\"1\",\"7\",\"(1, 1, 1)\",\"(1, 1, 1)\",\"0\",\"9.0\",\"S\",\"Duration\",\"ns\"\n") ==
        ":2:1: row has 14 fields, the header has 15");
  CHECK(error_reading("id.csv", kDetailsHeader + "\"x\",\"1\",\"p\",\"h\",\"k\",\"1\",\"7\",\"(1, 1, 1)\",\"(1, 1, 1)\",\"0\",\"9.0\",\"S\",\"Duration\",\"ns\",\"5\"\n") ==
        ":2:1: column 'ID': 'x' is not a launch id (a non-negative integer)");
  CHECK(error_reading("dim.csv", kDetailsHeader + "\"0\",\"1\",\"p\",\"h\",\"k\",\"1\",\"7\",\"(256, a, 1)\",\"(1, 1, 1)\",\"0\",\"9.0\",\"S\",\"Duration\",\"ns\",\"5\"\n") ==
        ":2:29: column 'Block Size': '(256, a, 1)' is not a dimension like (256, 1, 1)");
  CHECK(error_reading("quote.csv", kDetailsHeader + "\"0\",\"1\",\"p\",\"h\",\"k(int\n") == ":2:17: unterminated quoted field");
  CHECK(error_reading("novalue.csv", "\"ID\",\"Process ID\",\"Kernel Name\",\"Metric Name\",\"Metric Unit\"\n\"0\",\"1\",\"k\",\"Duration\",\"ns\"\n") ==
        ":1:1: Nsight Compute CSV (--page details): missing column 'Metric Value' (columns: ID, Process ID, Kernel Name, "
        "Metric Name, Metric Unit)");
  CHECK(error_reading("nounits.csv", "\"ID\",\"Process ID\",\"Kernel Name\",\"gpu__time_duration.sum\"\n\"0\",\"1\",\"k\",\"5\"\n") ==
        ":2:1: Nsight Compute CSV (--page raw): expected the units row (empty under \"ID\") after the header, got a launch row");
  CHECK(error_reading("nokernel.csv", "\"ID\",\"Process ID\",\"gpu__time_duration.sum\"\n\"\",\"\",\"ns\"\n\"0\",\"1\",\"5\"\n") ==
        ":1:1: Nsight Compute CSV: missing column 'Kernel Name' (columns: ID, Process ID, gpu__time_duration.sum)");
}

TEST_CASE("profiler numbers: thousands separators, n/a, and ambiguous commas") {
  CHECK(parse_profiler_number("1,215,000,000.00") == 1215000000.0);
  CHECK(parse_profiler_number("12.5") == 12.5);
  CHECK(parse_profiler_number("-3,000") == -3000.0);
  CHECK(parse_profiler_number("4.0e-05") == Approx(4e-5));
  CHECK_FALSE(parse_profiler_number("n/a"));
  CHECK_FALSE(parse_profiler_number(""));
  CHECK_FALSE(parse_profiler_number("1,5"));
  CHECK_FALSE(parse_profiler_number("1.5,000"));
  CHECK_FALSE(parse_profiler_number("27.595.520"));
  CHECK(duration_to_ns(2, "msecond") == 2e6);
  CHECK(duration_to_ns(2, "us") == 2e3);
  CHECK_FALSE(duration_to_ns(2, "cycle"));
}

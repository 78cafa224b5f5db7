// Kineto/Chrome trace JSON (plain and gzip), harness JSON, tilesim stats.json, format detection.
#include <zlib.h>

#include <catch2/catch.hpp>

#include "sim/error.hpp"
#include "trace_test_util.hpp"
#include "traces/harness_json.hpp"
#include "traces/import.hpp"
#include "traces/kineto_json.hpp"

using namespace tilesim;
using namespace tilesim::traces;

namespace {
const std::string kData = TRACES_TEST_DATA;

template <class F>
std::string error_of(const std::string& path, F read) {
  try {
    read(path);
  } catch (const InputError& e) {
    return std::string(e.what()).substr(path.size());
  }
  return "(no error)";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
}  // namespace

TEST_CASE("Kineto JSON: kernel events only, ordered by start, us converted to ns, device names") {
  const MeasuredTrace t = read_kineto_json(kData + "/kineto_trace.json");
  CHECK(t.format == "kineto");
  REQUIRE(t.kernels.size() == 2);  // cpu_op, cuda_runtime, flow, memcpy and metadata events are not kernels
  CHECK(t.kernels[0].name.rfind("void at::native::vectorized_elementwise_kernel<4", 0) == 0);
  CHECK(kernel_base_name(t.kernels[0].name) == "vectorized_elementwise_kernel");
  CHECK(*t.kernels[0].duration_ns == Approx(3125));
  const MeasuredKernel& gemm = t.kernels[1];
  CHECK(gemm.name == "sm90_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize128x256x64_warpgroupsize2x1x1");
  CHECK(*gemm.start_ns == Approx(1700000000123.5e3));
  CHECK(*gemm.duration_ns == Approx(412250));
  CHECK(gemm.device == "0");
  CHECK(gemm.grid == std::array<long long, 3>{132, 1, 1});
  CHECK(gemm.block == std::array<long long, 3>{384, 1, 1});
  CHECK(gemm.metrics.at("registers per thread").value == 168);
  CHECK(t.devices.at("0") == "NVIDIA H100 80GB HBM3");
  CHECK(detect_format(kData + "/kineto_trace.json") == TraceFormat::chrome_json);
}

TEST_CASE("Kineto JSON: a gzip file reads the same as the plain one") {
  const auto dir = trace_test::temp_dir("gz");
  const std::string gz = (dir / "trace.json.gz").string();
  const std::string text = slurp(kData + "/kineto_trace.json");
  gzFile f = gzopen(gz.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  gzclose(f);
  REQUIRE(slurp(gz).substr(0, 2) == "\x1f\x8b");
  CHECK(detect_format(gz) == TraceFormat::chrome_json);
  const MeasuredTrace t = read_kernel_trace(gz);
  REQUIRE(t.kernels.size() == 2);
  CHECK(*t.kernels[1].duration_ns == Approx(412250));
}

TEST_CASE("Kineto JSON: malformed input gives the exact error") {
  const auto dir = trace_test::temp_dir("kineto_bad");
  const auto read = [](const std::string& p) { read_kineto_json(p); };
  CHECK(error_of(trace_test::write_file(dir, "syntax.json", "{\"traceEvents\": [\n  {\"ph\": \"X\",, }\n]}"), read) ==
        ":2:14: JSON syntax error while parsing object key - unexpected ','; expected string literal");
  CHECK(error_of(trace_test::write_file(dir, "nodur.json",
                                        "{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"cpu_op\", \"name\": \"a\"},\n"
                                        "{\"ph\": \"X\", \"cat\": \"kernel\", \"name\": \"k\", \"ts\": 1}]}"),
                 read) == ": traceEvents[1] (k): kernel event without a numeric 'dur'");
  CHECK(error_of(trace_test::write_file(dir, "noname.json", "{\"traceEvents\": [{\"ph\": \"X\", \"cat\": \"kernel\", \"ts\": 1, \"dur\": 2}]}"),
                 read) == ": traceEvents[0]: kernel event without a string 'name'");
  CHECK(error_of(trace_test::write_file(dir, "noevents.json", "{\"schemaVersion\": 1}"), read) ==
        ": no \"traceEvents\" array (not a Chrome/Kineto trace)");
  CHECK(error_of(trace_test::write_file(dir, "truncated.json", "{\"traceEvents\": [{\"ph\": \"X\""), read) ==
        ":1:28: JSON syntax error while parsing object - unexpected end of input; expected '}'");
}

TEST_CASE("harness JSON: device, observed clock, versions, cases with params in the reference vocabulary") {
  const HarnessResult h = read_harness_json(kData + "/harness.json");
  CHECK(h.device.name == "NVIDIA H100 80GB HBM3");
  CHECK(h.device.sm_clock_mhz_observed == Approx(1755.2));
  CHECK(*h.device.sm_clock_mhz_max == 1980);
  CHECK(h.device.driver_version == "13.0");
  CHECK(h.device.runtime_version == "13.0");
  CHECK(h.preset == "h100_sxm5");
  REQUIRE(h.cases.size() == 2);
  CHECK(h.cases[0].params.at("footprint") == "16KiB");
  CHECK(h.cases[0].params.at("threads") == "64");  // JSON numbers become their decimal text
  CHECK(h.cases[1].unit == "GB/s");
  REQUIRE(h.skipped.size() == 1);
  CHECK(h.skipped[0].reason == "tcgen05 needs sm_100a; this device is sm_90");
  REQUIRE(h.failed.size() == 1);
  CHECK(h.failed[0].reason == "cublasGemmEx failed: cuBLAS status 13");
  const MeasuredTrace t = read_kernel_trace(kData + "/harness.json");
  CHECK(t.format == "harness");
  REQUIRE(t.kernels.size() == 2);
  CHECK(t.kernels[1].name == "stream_read");
  CHECK(*t.kernels[1].duration_ns == 356650);
}

TEST_CASE("harness JSON: malformed input gives the exact error") {
  const auto dir = trace_test::temp_dir("harness_bad");
  const auto read = [](const std::string& p) { read_harness_json(p); };
  const std::string device = R"("device": {"name": "G", "compute_capability": "9.0", "sm_count": 1, "sm_clock_mhz_observed": 1000, "driver_version": "13.0", "runtime_version": "13.0"})";
  CHECK(error_of(trace_test::write_file(dir, "a.json", R"({"schema": "other"})"), read) ==
        ": not a harness result (expected \"schema\": \"tilesim-cuda-harness\")");
  CHECK(error_of(trace_test::write_file(dir, "b.json", R"({"schema": "tilesim-cuda-harness", "schema_version": 2})"), read) ==
        ": schema_version 2 is not supported (this tilesim reads version 1)");
  CHECK(error_of(trace_test::write_file(dir, "c.json", R"({"schema": "tilesim-cuda-harness", "schema_version": 1, "device": {"name": "G"}})"), read) ==
        ": device: missing key 'compute_capability'");
  CHECK(error_of(trace_test::write_file(dir, "d.json", "{\"schema\": \"tilesim-cuda-harness\", \"schema_version\": 1, " + device +
                                                           R"(, "cases": [{"id": "x", "workload": "pchase", "params": {}, "metric": "latency", "value": "fast", "unit": "ns"}]})"),
                 read) == ": cases[0].value: expected a number, got \"fast\"");
  CHECK(error_of(trace_test::write_file(dir, "e.json", "{\"schema\": \"tilesim-cuda-harness\", \"schema_version\": 1, " + device +
                                                           R"(, "cases": [{"id": "x", "workload": "pchase", "params": "a=b"}]})"),
                 read) == ": cases[0].params: expected an object of key: value");
  CHECK(error_of(trace_test::write_file(dir, "f.json", "{\"schema\": \"tilesim-cuda-harness\",\n \"schema_version\": 1,\n \"device\": }"), read) ==
        ":3:12: JSON syntax error while parsing value - unexpected '}'; expected '[', '{', or a literal");
}

TEST_CASE("tilesim stats.json: kernel scopes are the kernels, unknown formats are named") {
  const auto dir = trace_test::temp_dir("stats");
  const std::string stats = trace_test::write_file(dir, "stats.json", R"({"schema_version": 1, "scopes": [
    {"scope": "total", "kernel": "", "begin_ps": 0, "end_ps": 900000},
    {"scope": "kernel", "kernel": "gemm_kernel", "begin_ps": 1000, "end_ps": 501000},
    {"scope": "kernel", "kernel": "softmax_kernel", "begin_ps": 600000, "end_ps": 900000}]})");
  CHECK(detect_format(stats) == TraceFormat::tilesim_stats);
  const MeasuredTrace t = read_kernel_trace(stats);
  REQUIRE(t.kernels.size() == 2);
  CHECK(*t.kernels[0].duration_ns == 500);
  CHECK(*t.kernels[1].start_ns == 600);
  const std::string other = trace_test::write_file(dir, "notes.txt", "hello\n");
  CHECK(error_of(other, [](const std::string& p) { read_kernel_trace(p); }) ==
        ": unrecognised format; expected an Nsight Compute CSV, an Nsight Systems SQLite export, a Kineto/Chrome trace "
        "JSON(.gz), a CUDA harness JSON or a tilesim stats.json");
  CHECK(error_of("/nonexistent/x.json", [](const std::string& p) { read_kernel_trace(p); }) ==
        ": cannot open: No such file or directory");
}

// tilesim-cuda-harness: runs the microbenchmarks and kernels of the reference vocabulary on a GPU and
// writes measured JSON for `tilesim validate` (schema: validation/cuda/README.md).
//
//   tilesim-cuda-harness [--dry-run] [--out FILE] [--only WORKLOAD,...] [--device N] [--repeats N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "harness.hpp"

namespace harness {

void check_cuda(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  std::ostringstream os;
  os << file << ":" << line << ": " << call << " failed: " << cudaGetErrorName(status) << " ("
     << cudaGetErrorString(status) << ")";
  throw std::runtime_error(os.str());
}

double elapsed_ms(const std::function<void()>& launch) {
  cudaEvent_t start, stop;
  HARNESS_CUDA(cudaEventCreate(&start));
  HARNESS_CUDA(cudaEventCreate(&stop));
  HARNESS_CUDA(cudaEventRecord(start));
  launch();
  HARNESS_CUDA(cudaGetLastError());
  HARNESS_CUDA(cudaEventRecord(stop));
  HARNESS_CUDA(cudaEventSynchronize(stop));
  float ms = 0;
  HARNESS_CUDA(cudaEventElapsedTime(&ms, start, stop));
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return ms;
}

double median_ms(const std::function<void()>& launch, int repeats) {
  elapsed_ms(launch);  // warm-up: first-touch, caches, clocks
  std::vector<double> t;
  for (int i = 0; i < std::max(1, repeats); ++i) t.push_back(elapsed_ms(launch));
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::string size_text(std::size_t bytes) {
  const char* units[] = {"GiB", "MiB", "KiB"};
  const std::size_t scale[] = {1ull << 30, 1ull << 20, 1ull << 10};
  for (int i = 0; i < 3; ++i)
    if (bytes >= scale[i] && bytes % scale[i] == 0) return std::to_string(bytes / scale[i]) + units[i];
  return std::to_string(bytes);
}

std::vector<unsigned> random_chain(std::size_t elements, std::size_t spacing_words, unsigned seed) {
  std::vector<unsigned> order(elements);
  std::iota(order.begin(), order.end(), 0u);
  std::mt19937 rng(seed);
  std::shuffle(order.begin() + 1, order.end(), rng);  // slot 0 starts the chain
  std::vector<unsigned> words(elements * spacing_words, 0u);
  for (std::size_t i = 0; i < elements; ++i)
    words[order[i] * spacing_words] = static_cast<unsigned>(order[(i + 1) % elements] * spacing_words);
  return words;
}

}  // namespace harness

namespace {

using harness::Case;
using harness::Device;

// Spins every SM for a fixed number of its own cycles; cycles / elapsed time is the SM clock under load.
__global__ void clock_probe(long long spin_cycles, long long* sink) {
  const long long start = clock64();
  long long now = start;
  while (now - start < spin_cycles) now = clock64();
  if (threadIdx.x == 0 && now == 0) sink[blockIdx.x] = now;
}

double observe_sm_clock_mhz(const Device& dev) {
  harness::DeviceBuffer<long long> sink(static_cast<std::size_t>(dev.sm_count()));
  const long long spin = 200000000;  // ~0.1 s at 2 GHz: launch overhead is negligible against it
  const auto launch = [&] { clock_probe<<<dev.sm_count(), 32>>>(spin, sink.get()); };
  const double ms = harness::median_ms(launch, 3);
  return static_cast<double>(spin) / (ms * 1e3);  // cycles per microsecond = MHz
}

std::string version_text(int v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

/// The preset that models a device, by its CUDA name (a hint for `tilesim validate`, which checks it).
std::string preset_hint(const std::string& name) {
  std::string n;
  for (char c : name) n += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto has = [&](const char* s) { return n.find(s) != std::string::npos; };
  if (has("h100") && has("pcie")) return "h100_pcie";
  if (has("h100") && !has("nvl")) return "h100_sxm5";
  if (has("h800") && has("pcie")) return "h800_pcie";
  if (has("h800")) return "h800_sxm5";
  if (has("h200")) return "h200";
  if (has("b200")) return "b200";
  if (has("a100") && has("sxm4") && has("40gb")) return "a100_40gb";
  if (has("a100") && has("sxm4")) return "a100_sxm4";
  if (has("a100") && has("80gb") && has("pcie")) return "a100_pcie";
  return "";
}

std::string params_text(const std::vector<harness::Param>& params) {
  std::string out;
  for (const auto& p : params) out += (out.empty() ? "" : ";") + p.key + "=" + p.value;
  return out;
}

std::string requirement_text(const Case& c) {
  if (c.exact_cc) return "needs " + c.needs;
  if (c.min_cc > 80) return "needs " + c.needs;
  return "sm_80+";
}

struct Options {
  bool dry_run = false;
  bool help = false;
  std::string out = "harness_results.json";
  std::set<std::string> only;
  int device = 0;
  int repeats = 5;
};

const char* const kUsage =
    "usage: tilesim-cuda-harness [--dry-run] [--out FILE] [--only WORKLOAD,...] [--device N]\n"
    "\n"
    "Runs the reference-vocabulary microbenchmarks and kernels (pchase, stream, bulk_copy, dsmem, mma, alu,\n"
    "launch, gemm, attention_fwd, softmax) on one GPU and writes measured JSON for `tilesim validate`.\n"
    "  --dry-run        print the cases that would run (no GPU needed)\n"
    "  --out FILE       result file (default harness_results.json)\n"
    "  --only LIST      only these workloads, comma-separated\n"
    "  --device N       CUDA device index (default 0)\n";

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--dry-run") {
      o.dry_run = true;
    } else if (a == "--help" || a == "-h") {
      o.help = true;
    } else if (a == "--out") {
      o.out = value();
    } else if (a == "--only") {
      std::stringstream ss(value());
      std::string w;
      while (std::getline(ss, w, ','))
        if (!w.empty()) o.only.insert(w);
    } else if (a == "--device") {
      o.device = std::stoi(value());
    } else if (a == "--repeats") {
      o.repeats = std::stoi(value());
    } else {
      throw std::runtime_error("unknown option '" + a + "' (see --help)");
    }
  }
  return o;
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  harness::add_pchase_cases(cases);
  harness::add_stream_cases(cases);
  harness::add_bulk_copy_cases(cases);
  harness::add_dsmem_cases(cases);
  harness::add_mma_cases(cases);
  harness::add_alu_cases(cases);
  harness::add_launch_cases(cases);
  harness::add_gemm_cases(cases);
  harness::add_attention_cases(cases);
  harness::add_softmax_cases(cases);
  return cases;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  try {
    opt = parse_args(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "tilesim-cuda-harness: " << e.what() << "\n";
    return 2;
  }
  if (opt.help) {
    std::cout << kUsage;
    return 0;
  }
  std::vector<Case> cases;
  std::set<std::string> workloads;
  for (auto& c : all_cases()) {
    workloads.insert(c.workload);
    if (opt.only.empty() || opt.only.count(c.workload)) cases.push_back(std::move(c));
  }
  for (const auto& w : opt.only)
    if (!workloads.count(w)) {
      std::cerr << "tilesim-cuda-harness: --only: no case has workload '" << w << "'\n";
      return 2;
    }

  if (opt.dry_run) {
    std::cout << "tilesim-cuda-harness: " << cases.size() << " cases (dry run: nothing runs, no GPU needed)\n";
    for (const auto& c : cases)
      std::cout << c.id << "  " << c.workload << "  " << params_text(c.params) << "  -> " << c.metric << " ["
                << c.unit << "]  kernel " << c.kernel << "  (" << requirement_text(c) << ")\n";
    return 0;
  }

  Device dev;
  try {
    int count = 0;
    HARNESS_CUDA(cudaGetDeviceCount(&count));
    if (opt.device < 0 || opt.device >= count)
      throw std::runtime_error("--device " + std::to_string(opt.device) + ": only " + std::to_string(count) + " devices");
    dev.index = opt.device;
    HARNESS_CUDA(cudaSetDevice(dev.index));
    HARNESS_CUDA(cudaGetDeviceProperties(&dev.prop, dev.index));
    dev.cc = dev.prop.major * 10 + dev.prop.minor;
    dev.sm_clock_mhz = observe_sm_clock_mhz(dev);
  } catch (const std::exception& e) {
    std::cerr << "tilesim-cuda-harness: no usable CUDA device: " << e.what() << "\n";
    return 2;
  }
  int driver = 0, runtime = 0;
  cudaDriverGetVersion(&driver);
  cudaRuntimeGetVersion(&runtime);
  int clock_khz = 0;
  cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, dev.index);
  std::cerr << "tilesim-cuda-harness: " << dev.prop.name << " (cc " << dev.prop.major << "." << dev.prop.minor << ", "
            << dev.sm_count() << " SMs), SM clock observed " << dev.sm_clock_mhz << " MHz\n";

  std::ostringstream measured, skipped, failed;
  int n_measured = 0, n_skipped = 0, n_failed = 0;
  for (const auto& c : cases) {
    const bool wrong_arch = c.exact_cc ? dev.cc != c.exact_cc : dev.cc < c.min_cc;
    if (wrong_arch) {
      skipped << (n_skipped++ ? ",\n" : "") << "    {\"id\": " << json_escape(c.id) << ", \"reason\": "
              << json_escape(c.needs + "; this device is sm_" + std::to_string(dev.cc)) << "}";
      continue;
    }
    std::cerr << "  " << c.id << " ... " << std::flush;
    try {
      const harness::Measurement m = c.run(dev);
      std::vector<harness::Param> params = c.params;
      for (auto& p : params)
        for (const auto& r : m.resolved)
          if (p.key == r.key) p.value = r.value;
      measured << (n_measured++ ? ",\n" : "") << "    {\"id\": " << json_escape(c.id)
               << ", \"workload\": " << json_escape(c.workload) << ", \"params\": {";
      for (std::size_t i = 0; i < params.size(); ++i)
        measured << (i ? ", " : "") << json_escape(params[i].key) << ": " << json_escape(params[i].value);
      measured << "}, \"metric\": " << json_escape(c.metric) << ", \"value\": " << json_number(m.value)
               << ", \"unit\": " << json_escape(c.unit) << ", \"kernel\": " << json_escape(c.kernel);
      if (m.kernel_ns > 0) measured << ", \"kernel_ns\": " << json_number(m.kernel_ns);
      measured << "}";
      std::cerr << m.value << " " << c.unit << "\n";
    } catch (const std::exception& e) {
      failed << (n_failed++ ? ",\n" : "") << "    {\"id\": " << json_escape(c.id) << ", \"error\": " << json_escape(e.what()) << "}";
      std::cerr << "failed: " << e.what() << "\n";
      cudaGetLastError();  // clear a sticky launch error where possible
    }
  }

  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::ostringstream doc;
  doc << "{\n  \"schema\": \"tilesim-cuda-harness\",\n  \"schema_version\": 1,\n  \"tool\": \"tilesim-cuda-harness 1\",\n"
      << "  \"started_at\": \"" << stamp << "\",\n  \"preset\": " << json_escape(preset_hint(dev.prop.name)) << ",\n"
      << "  \"device\": {\n    \"name\": " << json_escape(dev.prop.name) << ",\n    \"index\": " << dev.index
      << ",\n    \"compute_capability\": \"" << dev.prop.major << "." << dev.prop.minor << "\",\n    \"sm_count\": "
      << dev.sm_count() << ",\n    \"sm_clock_mhz_observed\": " << json_number(dev.sm_clock_mhz)
      << ",\n    \"sm_clock_mhz_max\": " << json_number(clock_khz / 1e3) << ",\n    \"l2_bytes\": " << dev.prop.l2CacheSize
      << ",\n    \"driver_version\": \"" << version_text(driver) << "\",\n    \"runtime_version\": \""
      << version_text(runtime) << "\"\n  },\n  \"cases\": [\n"
      << measured.str() << "\n  ],\n  \"skipped\": [\n" << skipped.str() << "\n  ],\n  \"failed\": [\n" << failed.str()
      << "\n  ]\n}\n";
  std::ofstream out(opt.out);
  if (!(out << doc.str())) {
    std::cerr << "tilesim-cuda-harness: cannot write " << opt.out << "\n";
    return 2;
  }
  std::cerr << "tilesim-cuda-harness: " << n_measured << " measured, " << n_skipped << " skipped, " << n_failed
            << " failed -> " << opt.out << "\n";
  return n_failed ? 3 : 0;
}

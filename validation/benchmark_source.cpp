#include "validation/benchmark_source.hpp"

#include <regex>
#include <string>

namespace tilesim::validation {

BenchmarkSource benchmark_source(const ReferenceRow& row) {
  const std::string& u = row.source_url;
  auto has = [&](const char* s) { return u.find(s) != std::string::npos; };
  if (has("gpu-benches")) {
    if (has("gpu-latency")) return BenchmarkSource::gpu_latency;
    if (has("gpu-l2-cache")) return BenchmarkSource::gpu_l2_cache;
    if (has("gpu-cache")) return BenchmarkSource::gpu_cache;
    return BenchmarkSource::gpu_stream;  // gpu-stream/*.txt and the README's stream table
  }
  if (has("NVIDIA-Hopper-Benchmark")) return BenchmarkSource::hopper_repo;
  if (has("2501.12084")) return BenchmarkSource::hopper_paper;
  if (has("microbench-blackwell")) return BenchmarkSource::semianalysis;
  return BenchmarkSource::other;
}

std::uint64_t spacing_from_note(const ReferenceRow& row, std::uint64_t fallback) {
  static const std::regex spaced(R"((\d+) B-spaced)");
  std::smatch m;
  if (std::regex_search(row.note, m, spaced)) return std::stoull(m[1].str());
  return fallback;
}

std::uint64_t chase_spacing(const ReferenceRow& row) {
  return spacing_from_note(row, benchmark_source(row) == BenchmarkSource::gpu_latency ? 64 : 128);
}

}  // namespace tilesim::validation

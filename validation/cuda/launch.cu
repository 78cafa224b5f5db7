// launch: empty-kernel launch latency, measured on the host as launch + completion of one empty kernel,
// averaged over many back-to-back round trips (the figure a framework pays per dependent kernel).
#include <chrono>

#include "harness.hpp"

namespace harness {
namespace {

__global__ void empty_kernel() {}

Measurement run_launch() {
  constexpr int kRounds = 2000;
  for (int i = 0; i < 100; ++i) empty_kernel<<<1, 1>>>();  // warm-up: module load, first launches
  HARNESS_CUDA(cudaDeviceSynchronize());
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < kRounds; ++i) {
    empty_kernel<<<1, 1>>>();
    HARNESS_CUDA(cudaStreamSynchronize(nullptr));
  }
  const auto t1 = std::chrono::steady_clock::now();
  HARNESS_CUDA(cudaGetLastError());
  const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count() / kRounds;
  return {ns, 0, {}};
}

}  // namespace

void add_launch_cases(std::vector<Case>& cases) {
  Case c;
  c.id = "launch-empty-kernel";
  c.workload = "launch";
  c.params = {{"grid", "1"}, {"block", "1"}, {"sync", "each"}};
  c.metric = "latency";
  c.unit = "ns";
  c.kernel = "empty_kernel";
  c.run = [](const Device&) { return run_launch(); };
  cases.push_back(std::move(c));
}

}  // namespace harness

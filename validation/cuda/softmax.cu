// softmax: row softmax of a rows x cols f32 matrix, one 1024-thread CTA per row: a first pass keeps a
// running max and rescaled sum per thread (online softmax), a block reduction combines them, a second
// pass writes exp(x - max) / sum. Bandwidth is the model's bytes (read once + write once) / time, as
// SCHEMA.md defines it.
#include "harness.hpp"

namespace harness {
namespace {

constexpr int kThreads = 1024;

__device__ __forceinline__ void combine(float& m, float& s, float m2, float s2) {
  const float mn = fmaxf(m, m2);
  s = (m == -INFINITY ? 0.f : s * __expf(m - mn)) + (m2 == -INFINITY ? 0.f : s2 * __expf(m2 - mn));
  m = mn;
}

__global__ void __launch_bounds__(kThreads) softmax_rows(const float* x, float* y, int cols) {
  __shared__ float red_m[kThreads / 32], red_s[kThreads / 32];
  const float4* row = reinterpret_cast<const float4*>(x + static_cast<std::size_t>(blockIdx.x) * cols);
  float4* out = reinterpret_cast<float4*>(y + static_cast<std::size_t>(blockIdx.x) * cols);
  float m = -INFINITY, s = 0.f;
  for (int i = threadIdx.x; i < cols / 4; i += kThreads) {
    const float4 v = row[i];
    const float vm = fmaxf(fmaxf(v.x, v.y), fmaxf(v.z, v.w));
    const float vs = __expf(v.x - vm) + __expf(v.y - vm) + __expf(v.z - vm) + __expf(v.w - vm);
    combine(m, s, vm, vs);
  }
  for (int o = 16; o > 0; o /= 2) combine(m, s, __shfl_xor_sync(0xffffffffu, m, o), __shfl_xor_sync(0xffffffffu, s, o));
  if (threadIdx.x % 32 == 0) {
    red_m[threadIdx.x / 32] = m;
    red_s[threadIdx.x / 32] = s;
  }
  __syncthreads();
  m = red_m[0];
  s = red_s[0];
  for (int w = 1; w < kThreads / 32; ++w) combine(m, s, red_m[w], red_s[w]);
  const float inv = 1.f / s;
  for (int i = threadIdx.x; i < cols / 4; i += kThreads) {
    const float4 v = row[i];
    out[i] = make_float4(__expf(v.x - m) * inv, __expf(v.y - m) * inv, __expf(v.z - m) * inv, __expf(v.w - m) * inv);
  }
}

Measurement run_softmax(int rows, int cols) {
  const std::size_t n = static_cast<std::size_t>(rows) * cols;
  DeviceBuffer<float> x(n), y(n);
  HARNESS_CUDA(cudaMemset(x.get(), 0, x.bytes()));
  const double ms = median_ms([&] { softmax_rows<<<rows, kThreads>>>(x.get(), y.get(), cols); });
  return {2.0 * n * sizeof(float) / (ms * 1e-3) / 1e9, ms * 1e6, {}};
}

}  // namespace

void add_softmax_cases(std::vector<Case>& cases) {
  Case c;
  c.id = "softmax-f32-16k-16k";
  c.workload = "softmax";
  c.params = {{"rows", "16384"}, {"cols", "16384"}, {"dtype", "f32"}, {"impl", "tile"}};
  c.metric = "bandwidth";
  c.unit = "GB/s";
  c.kernel = "softmax_rows";
  c.run = [](const Device&) { return run_softmax(16384, 16384); };
  cases.push_back(std::move(c));
}

}  // namespace harness

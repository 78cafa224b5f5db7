// stream: achieved bandwidth of streaming kernels (read, write, copy, scale, triad) at the level the
// footprint lands in: DRAM (1 GiB arrays, grid-stride over all SMs), L2 (all blocks re-read one shared
// 8 MiB working set) and L1 (each block re-reads its own 16 KiB). Bandwidth = bytes moved / kernel time.
#include "harness.hpp"

namespace harness {
namespace {

template <int V>
struct alignas(8 * V) Vec {
  double x[V];
};

template <int V>
__device__ __forceinline__ double sum_of(const Vec<V>& v) {
  double s = 0;
#pragma unroll
  for (int i = 0; i < V; ++i) s += v.x[i];
  return s;
}

enum class Op { read, write, copy, scale, triad };

template <int V>
__global__ void stream_kernel(Op op, Vec<V>* a, const Vec<V>* b, const Vec<V>* c, std::size_t n, double scalar, double* sink) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  double acc = 0;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    switch (op) {
      case Op::read: acc += sum_of(a[i]); break;
      case Op::write: {
        Vec<V> v;
#pragma unroll
        for (int k = 0; k < V; ++k) v.x[k] = scalar;
        a[i] = v;
        break;
      }
      case Op::copy: a[i] = b[i]; break;
      case Op::scale: {
        Vec<V> v = b[i];
#pragma unroll
        for (int k = 0; k < V; ++k) v.x[k] *= scalar;
        a[i] = v;
        break;
      }
      case Op::triad: {
        Vec<V> v = b[i];
        const Vec<V> w = c[i];
#pragma unroll
        for (int k = 0; k < V; ++k) v.x[k] += scalar * w.x[k];
        a[i] = v;
        break;
      }
    }
  }
  if (acc == -1.0) sink[0] = acc;  // keeps the loads; never true for the zero-filled arrays
}

// Cache-level read: each block walks `words` doubles starting at its offset `repeats` times.
__global__ void reread_kernel(const double* a, std::size_t words, std::size_t block_offset, int repeats, double* sink) {
  const double* base = a + blockIdx.x * block_offset;
  double acc = 0;
  for (int r = 0; r < repeats; ++r)
    for (std::size_t i = threadIdx.x; i < words; i += blockDim.x) acc += base[i];
  if (acc == -1.0) sink[0] = acc;
}

const char* op_name(Op op) {
  switch (op) {
    case Op::read: return "read";
    case Op::write: return "write";
    case Op::copy: return "copy";
    case Op::scale: return "scale";
    case Op::triad: return "triad";
  }
  return "?";
}

int arrays_touched(Op op) { return op == Op::read || op == Op::write ? 1 : op == Op::triad ? 3 : 2; }

Measurement run_dram(Op op, std::size_t footprint, const Device& dev) {
  const std::size_t n = footprint / sizeof(Vec<1>);
  DeviceBuffer<Vec<1>> a(n), b(op == Op::read || op == Op::write ? 1 : n), c(op == Op::triad ? n : 1);
  DeviceBuffer<double> sink(1);
  HARNESS_CUDA(cudaMemset(a.get(), 0, a.bytes()));
  HARNESS_CUDA(cudaMemset(b.get(), 0, b.bytes()));
  HARNESS_CUDA(cudaMemset(c.get(), 0, c.bytes()));
  const int threads = 1024;
  const int blocks = dev.sm_count() * (dev.prop.maxThreadsPerMultiProcessor / threads);  // 100% occupancy
  const double ms = median_ms([&] { stream_kernel<1><<<blocks, threads>>>(op, a.get(), b.get(), c.get(), n, 2.0, sink.get()); });
  const double bytes = static_cast<double>(footprint) * arrays_touched(op);
  return {bytes / (ms * 1e-3) / 1e9, ms * 1e6, {}};
}

Measurement run_l2(std::size_t footprint, const Device& dev) {
  const std::size_t words = footprint / sizeof(double);
  DeviceBuffer<double> a(words), sink(1);
  HARNESS_CUDA(cudaMemset(a.get(), 0, a.bytes()));
  const int blocks = dev.sm_count() * 2, threads = 1024, repeats = 4;
  // Every block reads the whole working set: the shared set stays in L2 after the first pass.
  const double ms = median_ms([&] { reread_kernel<<<blocks, threads>>>(a.get(), words, 0, repeats, sink.get()); });
  const double bytes = static_cast<double>(footprint) * blocks * repeats;
  return {bytes / (ms * 1e-3) / 1e9, ms * 1e6, {{"blocks", std::to_string(blocks)}}};
}

Measurement run_l1(std::size_t footprint_per_block, const Device& dev) {
  const std::size_t words = footprint_per_block / sizeof(double);
  const int blocks = dev.sm_count(), threads = 256, repeats = 2000;
  DeviceBuffer<double> a(words * blocks), sink(1);
  HARNESS_CUDA(cudaMemset(a.get(), 0, a.bytes()));
  const double ms = median_ms([&] { reread_kernel<<<blocks, threads>>>(a.get(), words, words, repeats, sink.get()); });
  const double bytes = static_cast<double>(footprint_per_block) * blocks * repeats;
  return {bytes / (ms * 1e-3) / 1e9, ms * 1e6, {{"blocks", std::to_string(blocks)}}};
}

Case bandwidth_case(std::string id, std::vector<Param> params, std::string kernel) {
  Case c;
  c.id = std::move(id);
  c.workload = "stream";
  c.params = std::move(params);
  c.metric = "bandwidth";
  c.unit = "GB/s";
  c.kernel = std::move(kernel);
  return c;
}

}  // namespace

void add_stream_cases(std::vector<Case>& cases) {
  for (Op op : {Op::read, Op::write, Op::copy, Op::scale, Op::triad}) {
    Case c = bandwidth_case(std::string("stream-") + op_name(op) + "-dram",
                            {{"op", op_name(op)}, {"footprint", "1GiB"}, {"vector", "1"}, {"occupancy", "100%"}, {"level", "dram"}},
                            "stream_kernel");
    c.run = [op](const Device& dev) { return run_dram(op, 1u << 30, dev); };
    cases.push_back(std::move(c));
  }
  {
    Case c = bandwidth_case("stream-read-l2",
                            {{"op", "read"}, {"footprint", "8MiB"}, {"vector", "1"}, {"blocks", "<2*sm_count>"},
                             {"threads", "1024"}, {"level", "l2"}},
                            "reread_kernel");
    c.run = [](const Device& dev) { return run_l2(8u << 20, dev); };
    cases.push_back(std::move(c));
  }
  {
    Case c = bandwidth_case("stream-read-l1",
                            {{"op", "read"}, {"footprint", "16KiB"}, {"vector", "1"}, {"blocks", "<sm_count>"},
                             {"threads", "256"}, {"level", "l1"}},
                            "reread_kernel");
    c.run = [](const Device& dev) { return run_l1(16u << 10, dev); };
    cases.push_back(std::move(c));
  }
}

}  // namespace harness

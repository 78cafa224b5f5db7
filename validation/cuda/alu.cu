// alu: dependent arithmetic latency (each FMA waits for the previous one), ffma / dfma / hfma, in
// clock64() cycles per instruction (ILP = 1, one thread, as cuda-incore measures it).
#include <cuda_fp16.h>

#include "harness.hpp"

namespace harness {
namespace {

constexpr int kChain = 1024;  // FMAs per timed chain (unrolled; the clock reads are amortised)

__global__ void ffma_chain(float x, float a, float b, long long* cycles, float* sink) {
  const long long t0 = clock64();
#pragma unroll
  for (int i = 0; i < kChain; ++i) asm volatile("fma.rn.f32 %0, %0, %1, %2;" : "+f"(x) : "f"(a), "f"(b));
  const long long t1 = clock64();
  cycles[0] = t1 - t0;
  sink[0] = x;
}

__global__ void dfma_chain(double x, double a, double b, long long* cycles, float* sink) {
  const long long t0 = clock64();
#pragma unroll
  for (int i = 0; i < kChain; ++i) asm volatile("fma.rn.f64 %0, %0, %1, %2;" : "+d"(x) : "d"(a), "d"(b));
  const long long t1 = clock64();
  cycles[0] = t1 - t0;
  sink[0] = static_cast<float>(x);
}

__global__ void hfma_chain(float xf, float af, float bf, long long* cycles, float* sink) {
  unsigned short x = __half_as_ushort(__float2half(xf));
  const unsigned short a = __half_as_ushort(__float2half(af)), b = __half_as_ushort(__float2half(bf));
  const long long t0 = clock64();
#pragma unroll
  for (int i = 0; i < kChain; ++i) asm volatile("fma.rn.f16 %0, %0, %1, %2;" : "+h"(x) : "h"(a), "h"(b));
  const long long t1 = clock64();
  cycles[0] = t1 - t0;
  sink[0] = __half2float(__ushort_as_half(x));
}

template <class Launch>
Measurement chain_latency(Launch launch) {
  DeviceBuffer<long long> cycles(1);
  DeviceBuffer<float> sink(1);
  const double ms = median_ms([&] { launch(cycles.get(), sink.get()); });
  long long c = 0;
  HARNESS_CUDA(cudaMemcpy(&c, cycles.get(), sizeof c, cudaMemcpyDeviceToHost));
  return {static_cast<double>(c) / kChain, ms * 1e6, {}};
}

Case alu_case(const char* op, std::function<Measurement(const Device&)> run) {
  Case c;
  c.id = std::string(op) + "-lat";
  c.workload = "alu";
  c.params = {{"op", op}, {"mode", "latency"}};
  c.metric = "latency";
  c.unit = "cycles";
  c.kernel = std::string(op) + "_chain";
  c.run = std::move(run);
  return c;
}

}  // namespace

void add_alu_cases(std::vector<Case>& cases) {
  cases.push_back(alu_case("ffma", [](const Device&) {
    return chain_latency([](long long* c, float* s) { ffma_chain<<<1, 1>>>(1.0f, 0.999f, 0.001f, c, s); });
  }));
  cases.push_back(alu_case("dfma", [](const Device&) {
    return chain_latency([](long long* c, float* s) { dfma_chain<<<1, 1>>>(1.0, 0.999, 0.001, c, s); });
  }));
  cases.push_back(alu_case("hfma", [](const Device&) {
    return chain_latency([](long long* c, float* s) { hfma_chain<<<1, 1>>>(1.0f, 0.5f, 0.25f, c, s); });
  }));
}

}  // namespace harness

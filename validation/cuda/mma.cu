// mma: tensor-instruction latency and throughput with zero inputs (no power throttling from data):
//   mma.sync m16n8k16 f16->f32 and wmma m16n16k16 (sm_80+), dmma m8n8k4 f64 (sm_80+),
//   wgmma m64nNk16 (sm_90a only; operands SS: A and B from shared memory through descriptors),
//   tcgen05.mma kind::f16 (sm_100a only; cta_group::1, accumulator in tensor memory).
// Latency: one issuing warp (warpgroup, thread) with each instruction waiting for the previous one, in
// clock64() cycles per instruction. Throughput: every SM busy, FLOPs / kernel time.
#include <mma.h>

#include "device_util.cuh"
#include "harness.hpp"

namespace harness {
namespace {

// ---------------------------------------------------------------- mma.sync / wmma / dmma (sm_80+)

__device__ __forceinline__ void mma_m16n8k16_f32_f16(float (&c)[4], const unsigned (&a)[4], const unsigned (&b)[2]) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

__device__ __forceinline__ void dmma_m8n8k4(double (&c)[2], double a, double b) {
  asm volatile("mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64 {%0, %1}, {%2}, {%3}, {%0, %1};"
               : "+d"(c[0]), "+d"(c[1])
               : "d"(a), "d"(b));
}

/// ILP independent accumulator chains per warp; ILP = 1 with one warp measures the latency.
template <int ILP>
__global__ void mma_sync_kernel(int iters, long long* cycles, float* sink) {
  const unsigned a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
  float c[ILP][4] = {};
  const long long t0 = clock64();
  for (int i = 0; i < iters; ++i) {
#pragma unroll
    for (int j = 0; j < ILP; ++j) mma_m16n8k16_f32_f16(c[j], a, b);
  }
  const long long t1 = clock64();
  float s = 0;
#pragma unroll
  for (int j = 0; j < ILP; ++j) s += c[j][0] + c[j][1] + c[j][2] + c[j][3];
  if (threadIdx.x == 0 && blockIdx.x == 0) cycles[0] = t1 - t0;
  if (s != 0) sink[0] = s;
}

template <int ILP>
__global__ void wmma_kernel(int iters, long long* cycles, float* sink) {
  using namespace nvcuda;
  wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> a;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::col_major> b;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> c[ILP];
  wmma::fill_fragment(a, __float2half(0.f));
  wmma::fill_fragment(b, __float2half(0.f));
#pragma unroll
  for (int j = 0; j < ILP; ++j) wmma::fill_fragment(c[j], 0.f);
  const long long t0 = clock64();
  for (int i = 0; i < iters; ++i) {
#pragma unroll
    for (int j = 0; j < ILP; ++j) wmma::mma_sync(c[j], a, b, c[j]);
  }
  const long long t1 = clock64();
  if (threadIdx.x == 0 && blockIdx.x == 0) cycles[0] = t1 - t0;
  float s = 0;
#pragma unroll
  for (int j = 0; j < ILP; ++j) s += c[j].x[0];
  if (s != 0) sink[0] = s;
}

template <int ILP>
__global__ void dmma_kernel(int iters, long long* cycles, float* sink) {
  double c[ILP][2] = {};
  const long long t0 = clock64();
  for (int i = 0; i < iters; ++i) {
#pragma unroll
    for (int j = 0; j < ILP; ++j) dmma_m8n8k4(c[j], 0.0, 0.0);
  }
  const long long t1 = clock64();
  if (threadIdx.x == 0 && blockIdx.x == 0) cycles[0] = t1 - t0;
  double s = 0;
#pragma unroll
  for (int j = 0; j < ILP; ++j) s += c[j][0] + c[j][1];
  if (s != 0) sink[0] = static_cast<float>(s);
}

// ---------------------------------------------------------------- wgmma (sm_90a)

struct F16 {};
struct TF32 {};
struct E4M3 {};

template <class T, int N>
struct WgmmaOp;  // specialised below for the shapes of wgmma_asm.inc

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
#include "wgmma_asm.inc"

#define HARNESS_WGMMA_OP(TAG, N, FN)                                                                    \
  template <>                                                                                            \
  struct WgmmaOp<TAG, N> {                                                                               \
    __device__ static void run(float (&d)[N / 2], std::uint64_t a, std::uint64_t b) { FN(d, a, b); }    \
  };
HARNESS_WGMMA_OP(F16, 8, wgmma_m64n8k16_f32_f16_ss)
HARNESS_WGMMA_OP(F16, 16, wgmma_m64n16k16_f32_f16_ss)
HARNESS_WGMMA_OP(F16, 32, wgmma_m64n32k16_f32_f16_ss)
HARNESS_WGMMA_OP(F16, 64, wgmma_m64n64k16_f32_f16_ss)
HARNESS_WGMMA_OP(F16, 128, wgmma_m64n128k16_f32_f16_ss)
HARNESS_WGMMA_OP(F16, 256, wgmma_m64n256k16_f32_f16_ss)
HARNESS_WGMMA_OP(TF32, 256, wgmma_m64n256k8_f32_tf32_ss)
HARNESS_WGMMA_OP(E4M3, 256, wgmma_m64n256k32_f32_e4m3_ss)
#undef HARNESS_WGMMA_OP

/// Shared-memory matrix descriptor, no swizzle: 8-row x 16-B core matrices, `lbo` bytes apart along K
/// and `sbo` bytes apart along M/N.
__device__ __forceinline__ std::uint64_t wgmma_desc(const void* p, unsigned lbo, unsigned sbo) {
  return static_cast<std::uint64_t>((smem_u32(p) & 0x3FFFF) >> 4) |
         static_cast<std::uint64_t>((lbo >> 4) & 0x3FFF) << 16 | static_cast<std::uint64_t>((sbo >> 4) & 0x3FFF) << 32;
}
#endif

// Every wgmma shape here reads 32 bytes of K per row (16 f16, 8 tf32, 32 e4m3): A is 64 x 32 B, B is N x 32 B.
constexpr int kRowBytes = 32;

/// One block of `blockDim.x / 128` warpgroups; each issues PerCommit wgmmas per commit group and waits
/// for the group (PerCommit = 1 with one warpgroup: latency). PerCommit is a template parameter so the
/// issue loop unrolls and the accumulators stay untouched between wgmmas.
template <class T, int N, int PerCommit>
__global__ void wgmma_kernel(int iters, long long* cycles, float* sink) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  extern __shared__ __align__(128) unsigned char tile[];
  const int bytes = (64 + N) * kRowBytes;
  for (int i = threadIdx.x; i < bytes / 4; i += blockDim.x) reinterpret_cast<unsigned*>(tile)[i] = 0;
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");  // generic-proxy zeros -> async proxy
  __syncthreads();
  const std::uint64_t da = wgmma_desc(tile, 64 / 8 * 128, 128);
  const std::uint64_t db = wgmma_desc(tile + 64 * kRowBytes, N / 8 * 128, 128);
  float d[N / 2];
#pragma unroll
  for (int i = 0; i < N / 2; ++i) d[i] = 0.f;
  const long long t0 = clock64();
  for (int i = 0; i < iters; ++i) {
    asm volatile("wgmma.fence.sync.aligned;" ::: "memory");
#pragma unroll
    for (int k = 0; k < PerCommit; ++k) WgmmaOp<T, N>::run(d, da, db);
    asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");
    asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");
  }
  const long long t1 = clock64();
  if (threadIdx.x == 0 && blockIdx.x == 0) cycles[0] = t1 - t0;
  float s = 0;
#pragma unroll
  for (int i = 0; i < N / 2; ++i) s += d[i];
  if (s != 0) sink[0] = s;
#else
  __trap();
#endif
}

// ---------------------------------------------------------------- tcgen05 (sm_100a)

#if defined(__CUDA_ARCH_FEAT_SM100_ALL)
/// UMMA shared-memory descriptor (sm_100): as wgmma's plus the descriptor version (bit 46), no swizzle.
__device__ __forceinline__ std::uint64_t umma_desc(const void* p, unsigned lbo, unsigned sbo) {
  return static_cast<std::uint64_t>((smem_u32(p) & 0x3FFFF) >> 4) |
         static_cast<std::uint64_t>((lbo >> 4) & 0x3FFF) << 16 | static_cast<std::uint64_t>((sbo >> 4) & 0x3FFF) << 32 |
         1ull << 46;
}

/// Instruction descriptor for kind::f16: D f32, A and B bf16, both K-major, shape M x N.
__device__ __forceinline__ std::uint32_t umma_idesc_bf16(int m, int n) {
  return (1u << 4) | (1u << 7) | (1u << 10) | (static_cast<std::uint32_t>(n >> 3) << 17) |
         (static_cast<std::uint32_t>(m >> 4) << 24);
}
#endif

/// One CTA, one issuing thread: `per_commit` tcgen05.mma into tensor memory, a commit to an mbarrier, a
/// wait on it; repeated. per_commit = 1 measures the latency.
template <int M, int N>
__global__ void tcgen05_kernel(int iters, int per_commit, long long* cycles, float* sink) {
#if defined(__CUDA_ARCH_FEAT_SM100_ALL)
  extern __shared__ __align__(128) unsigned char tile[];
  __shared__ std::uint32_t tmem_slot;
  __shared__ alignas(8) std::uint64_t bar;
  constexpr unsigned kCols = N < 32 ? 32 : N;  // f32 accumulator: one column per N, power of two >= 32
  const int bytes = (M + N) * kRowBytes;
  for (int i = threadIdx.x; i < bytes / 4; i += blockDim.x) reinterpret_cast<unsigned*>(tile)[i] = 0;
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  if (threadIdx.x < 32) {
    asm volatile("tcgen05.alloc.cta_group::1.sync.aligned.shared::cta.b32 [%0], %1;" ::"r"(smem_u32(&tmem_slot)),
                 "r"(kCols)
                 : "memory");
    asm volatile("tcgen05.relinquish_alloc_permit.cta_group::1.sync.aligned;" ::: "memory");
  }
  if (threadIdx.x == 0) mbar_init(&bar, 1);
  asm volatile("tcgen05.fence::before_thread_sync;" ::: "memory");
  __syncthreads();
  asm volatile("tcgen05.fence::after_thread_sync;" ::: "memory");
  const std::uint32_t tmem = tmem_slot;
  if (threadIdx.x == 0) {
    const std::uint64_t da = umma_desc(tile, M / 8 * 128, 128);
    const std::uint64_t db = umma_desc(tile + M * kRowBytes, N / 8 * 128, 128);
    const std::uint32_t idesc = umma_idesc_bf16(M, N);
    unsigned phase = 0;
    const long long t0 = clock64();
    for (int i = 0; i < iters; ++i) {
      for (int k = 0; k < per_commit; ++k)
        asm volatile(
            "{\n .reg .pred p;\n setp.ne.b32 p, %4, 0;\n"
            "tcgen05.mma.cta_group::1.kind::f16 [%0], %1, %2, %3, p;\n}\n" ::"r"(tmem),
            "l"(da), "l"(db), "r"(idesc), "r"(i | k)
            : "memory");
      asm volatile("tcgen05.commit.cta_group::1.mbarrier::arrive::one.shared::cluster.b64 [%0];" ::"r"(smem_u32(&bar))
                   : "memory");
      mbar_wait(&bar, phase);
      phase ^= 1;
    }
    const long long t1 = clock64();
    if (blockIdx.x == 0) cycles[0] = t1 - t0;
  }
  asm volatile("tcgen05.fence::before_thread_sync;" ::: "memory");
  __syncthreads();
  asm volatile("tcgen05.fence::after_thread_sync;" ::: "memory");
  if (threadIdx.x < 32)
    asm volatile("tcgen05.dealloc.cta_group::1.sync.aligned.b32 %0, %1;" ::"r"(tmem), "r"(kCols) : "memory");
  if (tmem == 0xffffffffu) sink[0] = 1;
#else
  __trap();
#endif
}

// ---------------------------------------------------------------- host side

struct Timing {
  DeviceBuffer<long long> cycles{1};
  DeviceBuffer<float> sink{1};
  long long read_cycles() const {
    long long c = 0;
    HARNESS_CUDA(cudaMemcpy(&c, cycles.get(), sizeof c, cudaMemcpyDeviceToHost));
    return c;
  }
};

/// FLOP/clk/SM from a kernel time, at the observed SM clock.
double flop_per_clk_per_sm(double flops, double ms, const Device& dev) {
  return flops / (ms * 1e-3 * dev.sm_clock_mhz * 1e6) / dev.sm_count();
}

Measurement latency_of(void (*kernel)(int, long long*, float*), int threads, int iters) {
  Timing t;
  const double ms = median_ms([&] { kernel<<<1, threads>>>(iters, t.cycles.get(), t.sink.get()); });
  return {static_cast<double>(t.read_cycles()) / iters, ms * 1e6, {}};
}

Measurement throughput_of(void (*kernel)(int, long long*, float*), double flops_per_warp_iter, int ilp, const Device& dev) {
  Timing t;
  const int threads = 256, blocks = dev.sm_count() * 4, iters = 4096;
  const double ms = median_ms([&] { kernel<<<blocks, threads>>>(iters, t.cycles.get(), t.sink.get()); });
  const double flops = flops_per_warp_iter * ilp * iters * (threads / 32.0) * blocks;
  return {flop_per_clk_per_sm(flops, ms, dev), ms * 1e6, {}};
}

template <class T, int N>
Measurement wgmma_run(bool latency, int k_per_instr, const Device& dev) {
  Timing t;
  constexpr int kThroughputPerCommit = 16;
  const int warpgroups = latency ? 1 : 2, per_commit = latency ? 1 : kThroughputPerCommit, iters = latency ? 2048 : 512;
  const int blocks = latency ? 1 : dev.sm_count();
  const std::size_t smem = static_cast<std::size_t>(64 + N) * kRowBytes;
  const double ms = median_ms([&] {
    if (latency)
      wgmma_kernel<T, N, 1><<<blocks, 128 * warpgroups, smem>>>(iters, t.cycles.get(), t.sink.get());
    else
      wgmma_kernel<T, N, kThroughputPerCommit><<<blocks, 128 * warpgroups, smem>>>(iters, t.cycles.get(), t.sink.get());
  });
  if (latency) return {static_cast<double>(t.read_cycles()) / iters, ms * 1e6, {}};
  const double flops = 2.0 * 64 * N * k_per_instr * per_commit * iters * warpgroups * blocks;
  return {flops / (ms * 1e-3) / 1e12, ms * 1e6, {}};
}

template <int M, int N>
Measurement tcgen05_run(bool latency, const Device& dev) {
  Timing t;
  const int per_commit = latency ? 1 : 16, iters = latency ? 2048 : 512;
  const int blocks = latency ? 1 : dev.sm_count();
  const std::size_t smem = static_cast<std::size_t>(M + N) * kRowBytes;
  const double ms = median_ms([&] { tcgen05_kernel<M, N><<<blocks, 128, smem>>>(iters, per_commit, t.cycles.get(), t.sink.get()); });
  if (latency) return {static_cast<double>(t.read_cycles()) / iters, ms * 1e6, {}};
  const double flops = 2.0 * M * N * 16 * per_commit * iters * blocks;
  return {flop_per_clk_per_sm(flops, ms, dev), ms * 1e6, {}};
}

Case mma_case(std::string id, std::vector<Param> params, std::string metric, std::string unit, std::string kernel) {
  Case c;
  c.id = std::move(id);
  c.workload = "mma";
  c.params = std::move(params);
  c.metric = std::move(metric);
  c.unit = std::move(unit);
  c.kernel = std::move(kernel);
  return c;
}

}  // namespace

void add_mma_cases(std::vector<Case>& cases) {
  const std::vector<Param> mma_sync = {{"instr", "mma_sync"}, {"shape", "m16n8k16"}, {"dtype_in", "f16"}, {"dtype_acc", "f32"}};
  const auto with = [](std::vector<Param> p, std::vector<Param> more) {
    p.insert(p.end(), more.begin(), more.end());
    return p;
  };
  {
    Case c = mma_case("mma-sync-m16n8k16-f16-f32-lat", with(mma_sync, {{"mode", "latency"}, {"inputs", "zero"}}), "latency",
                      "cycles", "mma_sync_kernel");
    c.run = [](const Device&) { return latency_of(mma_sync_kernel<1>, 32, 4096); };
    cases.push_back(std::move(c));
  }
  {
    Case c = mma_case("mma-sync-m16n8k16-f16-f32-tput", with(mma_sync, {{"mode", "throughput"}, {"inputs", "zero"}}),
                      "throughput", "FLOP/clk/SM", "mma_sync_kernel");
    c.run = [](const Device& dev) { return throughput_of(mma_sync_kernel<4>, 2.0 * 16 * 8 * 16, 4, dev); };
    cases.push_back(std::move(c));
  }
  const std::vector<Param> wmma = {{"instr", "wmma"}, {"shape", "m16n16k16"}, {"dtype_in", "f16"}, {"dtype_acc", "f32"}};
  {
    Case c = mma_case("wmma-m16n16k16-f16-f32-lat", with(wmma, {{"mode", "latency"}, {"inputs", "zero"}}), "latency", "cycles",
                      "wmma_kernel");
    c.run = [](const Device&) { return latency_of(wmma_kernel<1>, 32, 4096); };
    cases.push_back(std::move(c));
  }
  {
    Case c = mma_case("wmma-m16n16k16-f16-f32-tput", with(wmma, {{"mode", "throughput"}, {"inputs", "zero"}}), "throughput",
                      "FLOP/clk/SM", "wmma_kernel");
    c.run = [](const Device& dev) { return throughput_of(wmma_kernel<4>, 2.0 * 16 * 16 * 16, 4, dev); };
    cases.push_back(std::move(c));
  }
  {
    Case c = mma_case("dmma-m8n8k4-f64-tput",
                      {{"instr", "dmma"}, {"shape", "m8n8k4"}, {"dtype_in", "f64"}, {"dtype_acc", "f64"}, {"mode", "throughput"},
                       {"inputs", "zero"}},
                      "throughput", "TFLOPS", "dmma_kernel");
    c.run = [](const Device& dev) {
      Measurement m = throughput_of(dmma_kernel<4>, 2.0 * 8 * 8 * 4, 4, dev);
      m.value = m.value * dev.sm_clock_mhz * 1e6 * dev.sm_count() / 1e12;  // FLOP/clk/SM -> TFLOPS
      return m;
    };
    cases.push_back(std::move(c));
  }

  // wgmma latency per N, and throughput at N = 256 for f16, tf32, e4m3.
  const auto wgmma_case = [&](const std::string& dtype, int n, int k, bool latency, std::function<Measurement(const Device&)> run) {
    const std::string shape = "m64n" + std::to_string(n) + "k" + std::to_string(k);
    Case c = mma_case("wgmma-" + shape + "-" + dtype + "-f32-ss-" + (latency ? "lat" : "tput"),
                      {{"instr", "wgmma"}, {"shape", shape}, {"dtype_in", dtype}, {"dtype_acc", "f32"}, {"operands", "SS"},
                       {"mode", latency ? "latency" : "throughput"}, {"inputs", "zero"}},
                      latency ? "latency" : "throughput", latency ? "cycles" : "TFLOPS", "wgmma_kernel");
    c.min_cc = 90;
    c.exact_cc = 90;
    c.needs = "sm_90a (wgmma)";
    c.run = std::move(run);
    cases.push_back(std::move(c));
  };
  wgmma_case("f16", 8, 16, true, [](const Device& d) { return wgmma_run<F16, 8>(true, 16, d); });
  wgmma_case("f16", 16, 16, true, [](const Device& d) { return wgmma_run<F16, 16>(true, 16, d); });
  wgmma_case("f16", 32, 16, true, [](const Device& d) { return wgmma_run<F16, 32>(true, 16, d); });
  wgmma_case("f16", 64, 16, true, [](const Device& d) { return wgmma_run<F16, 64>(true, 16, d); });
  wgmma_case("f16", 128, 16, true, [](const Device& d) { return wgmma_run<F16, 128>(true, 16, d); });
  wgmma_case("f16", 256, 16, true, [](const Device& d) { return wgmma_run<F16, 256>(true, 16, d); });
  wgmma_case("f16", 256, 16, false, [](const Device& d) { return wgmma_run<F16, 256>(false, 16, d); });
  wgmma_case("tf32", 256, 8, false, [](const Device& d) { return wgmma_run<TF32, 256>(false, 8, d); });
  wgmma_case("e4m3", 256, 32, false, [](const Device& d) { return wgmma_run<E4M3, 256>(false, 32, d); });

  // tcgen05.mma kind::f16 bf16 -> f32, operands SS, cta_group 1.
  const auto tcgen05_case = [&](int m, int n, bool latency, std::function<Measurement(const Device&)> run) {
    const std::string shape = "m" + std::to_string(m) + "n" + std::to_string(n) + "k16";
    Case c = mma_case("tcgen05-" + shape + "-bf16-1cta-ss-" + (latency ? "lat" : "tput"),
                      {{"instr", "tcgen05"}, {"shape", shape}, {"dtype_in", "bf16"}, {"dtype_acc", "f32"}, {"operands", "SS"},
                       {"cta_group", "1"}, {"mode", latency ? "latency" : "throughput"}, {"inputs", "zero"}},
                      latency ? "latency" : "throughput", latency ? "cycles" : "FLOP/clk/SM", "tcgen05_kernel");
    c.min_cc = 100;
    c.exact_cc = 100;
    c.needs = "sm_100a (tcgen05)";
    c.run = std::move(run);
    cases.push_back(std::move(c));
  };
  tcgen05_case(64, 64, true, [](const Device& d) { return tcgen05_run<64, 64>(true, d); });
  tcgen05_case(128, 128, true, [](const Device& d) { return tcgen05_run<128, 128>(true, d); });
  tcgen05_case(128, 256, true, [](const Device& d) { return tcgen05_run<128, 256>(true, d); });
  tcgen05_case(128, 256, false, [](const Device& d) { return tcgen05_run<128, 256>(false, d); });
}

}  // namespace harness

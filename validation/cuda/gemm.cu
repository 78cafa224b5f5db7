// gemm: C = A.B in TFLOPS = 2 M N K / time, two ways:
//  - impl=cublas: cublasGemmEx (f16, bf16, or tf32 inputs; f32 accumulation), when the build found cuBLAS
//    (TILESIM_HARNESS_CUBLAS);
//  - impl=tile: a kernel shaped like workloads/gemm.tile: each CTA computes one BM x BN tile of C,
//    streaming BM x BK tiles of A and BK x BN tiles of B through shared memory with asynchronous copies
//    (cp.async) over `stages` buffers, bf16 tensor-core MMAs (WMMA) accumulating in f32, f16 output.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#ifdef TILESIM_HARNESS_CUBLAS
#include <cublas_v2.h>
#endif

#include "harness.hpp"

namespace harness {
namespace {

using namespace nvcuda;

constexpr int kBM = 128, kBN = 128, kBK = 32, kStages = 3, kThreads = 256;
constexpr int kLdA = kBK + 8, kLdB = kBN + 8;  // padded rows (elements) against bank conflicts
constexpr int kStageA = kBM * kLdA, kStageB = kBK * kLdB;  // elements per stage
constexpr int kWarpM = 64, kWarpN = 32;                    // 8 warps as 2 x 4, each 64 x 32 of C
constexpr std::size_t kPipelineBytes = static_cast<std::size_t>(kStages) * (kStageA + kStageB) * sizeof(__nv_bfloat16);
constexpr std::size_t kEpilogueBytes = static_cast<std::size_t>(kThreads / 32) * kWarpM * kWarpN * sizeof(float);
constexpr std::size_t kTileGemmSmem = kPipelineBytes > kEpilogueBytes ? kPipelineBytes : kEpilogueBytes;

__device__ __forceinline__ void cp_async_16(void* smem, const void* gmem) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(static_cast<unsigned>(__cvta_generic_to_shared(smem))),
               "l"(gmem)
               : "memory");
}

/// Copy the k-th BM x BK tile of A and BK x BN tile of B into stage `s` (16 B per cp.async, 2 + 2 per thread).
__device__ __forceinline__ void load_stage(__nv_bfloat16* sa, __nv_bfloat16* sb, const __nv_bfloat16* A,
                                           const __nv_bfloat16* B, int K, int N, int m0, int n0, int k) {
  for (int c = threadIdx.x; c < kBM * kBK / 8; c += kThreads) {
    const int row = c / (kBK / 8), col = c % (kBK / 8) * 8;
    cp_async_16(sa + row * kLdA + col, A + static_cast<std::size_t>(m0 + row) * K + k * kBK + col);
  }
  for (int c = threadIdx.x; c < kBK * kBN / 8; c += kThreads) {
    const int row = c / (kBN / 8), col = c % (kBN / 8) * 8;
    cp_async_16(sb + row * kLdB + col, B + static_cast<std::size_t>(k * kBK + row) * N + n0 + col);
  }
}

__global__ void __launch_bounds__(kThreads) tile_gemm(const __nv_bfloat16* A, const __nv_bfloat16* B, __half* C, int M,
                                                      int N, int K) {
  extern __shared__ __align__(128) unsigned char smem[];
  auto* sa = reinterpret_cast<__nv_bfloat16*>(smem);
  auto* sb = sa + kStages * kStageA;
  const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;
  const int warp = threadIdx.x / 32, wm = warp / 4, wn = warp % 4;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[4][2];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.f);

  const int kt = K / kBK;
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < kt) load_stage(sa + s * kStageA, sb + s * kStageB, A, B, K, N, m0, n0, s);
    asm volatile("cp.async.commit_group;" ::: "memory");
  }
  for (int k = 0; k < kt; ++k) {
    asm volatile("cp.async.wait_group %0;" ::"n"(kStages - 2) : "memory");
    __syncthreads();  // stage k landed for every thread, and stage k-1 is no longer read
    const int next = k + kStages - 1;
    if (next < kt) load_stage(sa + next % kStages * kStageA, sb + next % kStages * kStageB, A, B, K, N, m0, n0, next);
    asm volatile("cp.async.commit_group;" ::: "memory");
    const __nv_bfloat16* ta = sa + k % kStages * kStageA + wm * kWarpM * kLdA;
    const __nv_bfloat16* tb = sb + k % kStages * kStageB + wn * kWarpN;
#pragma unroll
    for (int kk = 0; kk < kBK / 16; ++kk) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa[4];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> fb[2];
#pragma unroll
      for (int i = 0; i < 4; ++i) wmma::load_matrix_sync(fa[i], ta + i * 16 * kLdA + kk * 16, kLdA);
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(fb[j], tb + kk * 16 * kLdB + j * 16, kLdB);
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
  }
  asm volatile("cp.async.wait_all;" ::: "memory");
  __syncthreads();
  // Epilogue: each warp stages its 64 x 32 f32 block in shared memory, then writes it as f16.
  float* stage = reinterpret_cast<float*>(smem) + warp * kWarpM * kWarpN;
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(stage + i * 16 * kWarpN + j * 16, acc[i][j], kWarpN, wmma::mem_row_major);
  __syncwarp();
  const int lane = threadIdx.x % 32;
  for (int r = 0; r < kWarpM; ++r)
    C[static_cast<std::size_t>(m0 + wm * kWarpM + r) * N + n0 + wn * kWarpN + lane] = __float2half(stage[r * kWarpN + lane]);
}

Measurement run_tile_gemm(int M, int N, int K) {
  if (M % kBM || N % kBN || K % kBK) throw std::runtime_error("tile gemm needs M, N multiples of 128 and K of 32");
  DeviceBuffer<__nv_bfloat16> A(static_cast<std::size_t>(M) * K), B(static_cast<std::size_t>(K) * N);
  DeviceBuffer<__half> C(static_cast<std::size_t>(M) * N);
  HARNESS_CUDA(cudaMemset(A.get(), 0, A.bytes()));
  HARNESS_CUDA(cudaMemset(B.get(), 0, B.bytes()));
  HARNESS_CUDA(cudaFuncSetAttribute(tile_gemm, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(kTileGemmSmem)));
  const dim3 grid(N / kBN, M / kBM);
  const double ms = median_ms([&] { tile_gemm<<<grid, kThreads, kTileGemmSmem>>>(A.get(), B.get(), C.get(), M, N, K); });
  return {2.0 * M * N * K / (ms * 1e-3) / 1e12, ms * 1e6, {}};
}

#ifdef TILESIM_HARNESS_CUBLAS
void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw std::runtime_error(std::string(what) + " failed: cuBLAS status " + std::to_string(s));
}

/// cublasGemmEx on zero-filled inputs. dtype: "f16", "bf16" (out = in type) or "tf32" (f32 in and out).
Measurement run_cublas(const std::string& dtype, int M, int N, int K) {
  const bool tf32 = dtype == "tf32";
  const cudaDataType_t t = tf32 ? CUDA_R_32F : dtype == "bf16" ? CUDA_R_16BF : CUDA_R_16F;
  const std::size_t elem = tf32 ? 4 : 2;
  DeviceBuffer<char> A(elem * M * K), B(elem * K * N), C(elem * M * N);
  HARNESS_CUDA(cudaMemset(A.get(), 0, A.bytes()));
  HARNESS_CUDA(cudaMemset(B.get(), 0, B.bytes()));
  cublasHandle_t handle;
  check_cublas(cublasCreate(&handle), "cublasCreate");
  const float alpha = 1.f, beta = 0.f;
  const cublasComputeType_t compute = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  double ms = 0;
  try {
    ms = median_ms([&] {
      check_cublas(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, M, N, K, &alpha, A.get(), t, M, B.get(), t, K, &beta,
                                C.get(), t, M, compute, CUBLAS_GEMM_DEFAULT),
                   "cublasGemmEx");
    });
  } catch (...) {
    cublasDestroy(handle);
    throw;
  }
  cublasDestroy(handle);
  return {2.0 * M * N * K / (ms * 1e-3) / 1e12, ms * 1e6, {}};
}
#endif

Case gemm_case(std::string id, std::vector<Param> params, std::string kernel) {
  Case c;
  c.id = std::move(id);
  c.workload = "gemm";
  c.params = std::move(params);
  c.metric = "throughput";
  c.unit = "TFLOPS";
  c.kernel = std::move(kernel);
  return c;
}

}  // namespace

void add_gemm_cases(std::vector<Case>& cases) {
  for (int n : {4096, 8192}) {
    const std::string s = std::to_string(n);
    Case c = gemm_case("gemm-tile-bf16-" + s,
                       {{"M", s}, {"N", s}, {"K", s}, {"dtype_in", "bf16"}, {"dtype_acc", "f32"}, {"dtype_out", "f16"},
                        {"impl", "tile"}, {"BM", "128"}, {"BN", "128"}, {"BK", "32"}, {"stages", "3"}, {"inputs", "zero"}},
                       "tile_gemm");
    c.run = [n](const Device&) { return run_tile_gemm(n, n, n); };
    cases.push_back(std::move(c));
  }
#ifdef TILESIM_HARNESS_CUBLAS
  for (const char* dtype : {"f16", "bf16", "tf32"}) {
    const std::string d = dtype;
    Case c = gemm_case("gemm-cublas-" + d + "-8192",
                       {{"M", "8192"}, {"N", "8192"}, {"K", "8192"}, {"dtype_in", d}, {"dtype_acc", "f32"},
                        {"dtype_out", d == "tf32" ? "f32" : d}, {"impl", "cublas"}, {"inputs", "zero"}},
                       "cublasGemmEx");
    c.run = [d](const Device&) { return run_cublas(d, 8192, 8192, 8192); };
    cases.push_back(std::move(c));
  }
#endif
}

}  // namespace harness

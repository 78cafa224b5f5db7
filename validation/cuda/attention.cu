// attention_fwd: a kernel shaped like workloads/attention_fwd.tile (FlashAttention-style forward pass):
// each CTA owns BM = 64 query rows of one (batch, head), streams keys and values in blocks of BN = 64,
// and carries the running row max, row sum and unnormalised output through the loop (online softmax);
// with causal masking the loop stops at the diagonal block. bf16 inputs and output, f32 scores and
// accumulators, tensor-core MMAs through WMMA; 4 warps, each owning 16 query rows.
// TFLOPS = 4 B H S^2 D / time (halved when causal), the FLOP count SCHEMA.md uses.
#include <cuda_bf16.h>
#include <mma.h>

#include "harness.hpp"

namespace harness {
namespace {

using namespace nvcuda;

constexpr int kBM = 64, kBN = 64, kWarps = 4, kThreads = kWarps * 32;

template <int D>
struct Layout {
  static constexpr int kLdQ = D + 8, kLdS = kBN + 4, kLdP = kBN + 8, kLdO = D + 4;
  static constexpr std::size_t kQ = 0;                                         // Q, then K, then V (bf16)
  static constexpr std::size_t kK = kQ + kBM * kLdQ * 2;
  static constexpr std::size_t kV = kK + kBN * kLdQ * 2;
  static constexpr std::size_t kS = kV + kBN * kLdQ * 2;                       // scores (f32)
  static constexpr std::size_t kP = kS + kBM * kLdS * 4;                       // probabilities (bf16)
  static constexpr std::size_t kO = kP + kBM * kLdP * 2;                       // output accumulator (f32)
  static constexpr std::size_t kStats = kO + static_cast<std::size_t>(kBM) * kLdO * 4;  // row max, row sum
  static constexpr std::size_t kBytes = kStats + 2 * kBM * 4;
};

template <int D>
__device__ __forceinline__ void load_rows(__nv_bfloat16* dst, const __nv_bfloat16* src, int rows) {
  constexpr int kChunks = D / 8;  // 16-B chunks per row
  for (int c = threadIdx.x; c < rows * kChunks; c += kThreads) {
    const int r = c / kChunks, col = c % kChunks * 8;
    *reinterpret_cast<uint4*>(dst + r * Layout<D>::kLdQ + col) = *reinterpret_cast<const uint4*>(src + static_cast<std::size_t>(r) * D + col);
  }
}

template <int D>
__global__ void __launch_bounds__(kThreads) attention_fwd(const __nv_bfloat16* Q, const __nv_bfloat16* K,
                                                          const __nv_bfloat16* V, __nv_bfloat16* O, int S, int causal,
                                                          float scale_log2) {
  using L = Layout<D>;
  extern __shared__ __align__(128) unsigned char smem[];
  auto* sq = reinterpret_cast<__nv_bfloat16*>(smem + L::kQ);
  auto* sk = reinterpret_cast<__nv_bfloat16*>(smem + L::kK);
  auto* sv = reinterpret_cast<__nv_bfloat16*>(smem + L::kV);
  auto* ss = reinterpret_cast<float*>(smem + L::kS);
  auto* sp = reinterpret_cast<__nv_bfloat16*>(smem + L::kP);
  auto* so = reinterpret_cast<float*>(smem + L::kO);
  auto* row_max = reinterpret_cast<float*>(smem + L::kStats);
  float* row_sum = row_max + kBM;

  const std::size_t head = (static_cast<std::size_t>(blockIdx.z) * gridDim.y + blockIdx.y) * S * D;
  const int q0 = blockIdx.x * kBM;
  load_rows<D>(sq, Q + head + static_cast<std::size_t>(q0) * D, kBM);
  for (int i = threadIdx.x; i < kBM * L::kLdO; i += kThreads) so[i] = 0.f;
  for (int i = threadIdx.x; i < kBM; i += kThreads) {
    row_max[i] = -INFINITY;
    row_sum[i] = 0.f;
  }
  __syncthreads();

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, r0 = warp * 16;
  const int blocks = causal ? (q0 + kBM + kBN - 1) / kBN : S / kBN;
  for (int j = 0; j < blocks; ++j) {
    load_rows<D>(sk, K + head + static_cast<std::size_t>(j) * kBN * D, kBN);
    load_rows<D>(sv, V + head + static_cast<std::size_t>(j) * kBN * D, kBN);
    __syncthreads();
    // S = Q K^T for this warp's 16 rows (K stored row-major is K^T column-major).
    for (int n = 0; n < kBN / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> s;
      wmma::fill_fragment(s, 0.f);
      for (int k = 0; k < D / 16; ++k) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::col_major> b;
        wmma::load_matrix_sync(a, sq + r0 * L::kLdQ + k * 16, L::kLdQ);
        wmma::load_matrix_sync(b, sk + n * 16 * L::kLdQ + k * 16, L::kLdQ);
        wmma::mma_sync(s, a, b, s);
      }
      wmma::store_matrix_sync(ss + r0 * L::kLdS + n * 16, s, L::kLdS, wmma::mem_row_major);
    }
    __syncwarp();
    // Online softmax: two lanes per row, 32 columns each.
    {
      const int r = r0 + lane / 2, half = lane % 2, q = q0 + r;
      float* srow = ss + r * L::kLdS + half * (kBN / 2);
      float m = -INFINITY;
      for (int c = 0; c < kBN / 2; ++c) {
        const int key = j * kBN + half * (kBN / 2) + c;
        const float x = (causal && key > q) ? -INFINITY : srow[c] * scale_log2;
        srow[c] = x;
        m = fmaxf(m, x);
      }
      m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 1));
      const float m_new = fmaxf(row_max[r], m);
      const float alpha = exp2f(row_max[r] - m_new);
      float sum = 0.f;
      __nv_bfloat16* prow = sp + r * L::kLdP + half * (kBN / 2);
      for (int c = 0; c < kBN / 2; ++c) {
        const float p = exp2f(srow[c] - m_new);
        sum += p;
        prow[c] = __float2bfloat16(p);
      }
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      float* orow = so + r * L::kLdO + half * (D / 2);
      for (int c = 0; c < D / 2; ++c) orow[c] *= alpha;
      __syncwarp();
      if (half == 0) {
        row_sum[r] = row_sum[r] * alpha + sum;
        row_max[r] = m_new;
      }
    }
    __syncwarp();
    // O += P V for this warp's rows.
    for (int d = 0; d < D / 16; ++d) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> o;
      wmma::load_matrix_sync(o, so + r0 * L::kLdO + d * 16, L::kLdO, wmma::mem_row_major);
      for (int k = 0; k < kBN / 16; ++k) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> b;
        wmma::load_matrix_sync(a, sp + r0 * L::kLdP + k * 16, L::kLdP);
        wmma::load_matrix_sync(b, sv + k * 16 * L::kLdQ + d * 16, L::kLdQ);
        wmma::mma_sync(o, a, b, o);
      }
      wmma::store_matrix_sync(so + r0 * L::kLdO + d * 16, o, L::kLdO, wmma::mem_row_major);
    }
    __syncthreads();  // K and V are overwritten next
  }
  // O / l, as bf16.
  for (int i = threadIdx.x; i < kBM * D; i += kThreads) {
    const int r = i / D, c = i % D;
    O[head + static_cast<std::size_t>(q0 + r) * D + c] = __float2bfloat16(so[r * L::kLdO + c] / row_sum[r]);
  }
}

template <int D>
Measurement run_attention(int batch, int heads, int seqlen, bool causal) {
  if (seqlen % kBM) throw std::runtime_error("attention_fwd needs seqlen to be a multiple of 64");
  const std::size_t n = static_cast<std::size_t>(batch) * heads * seqlen * D;
  DeviceBuffer<__nv_bfloat16> Q(n), K(n), V(n), O(n);
  for (auto* b : {&Q, &K, &V}) HARNESS_CUDA(cudaMemset(b->get(), 0, b->bytes()));
  const std::size_t smem = Layout<D>::kBytes;
  HARNESS_CUDA(cudaFuncSetAttribute(attention_fwd<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const dim3 grid(seqlen / kBM, heads, batch);
  const float scale_log2 = 1.4426950408889634f / sqrtf(static_cast<float>(D));  // 1/sqrt(D), in base 2
  const double ms = median_ms([&] {
    attention_fwd<D><<<grid, kThreads, smem>>>(Q.get(), K.get(), V.get(), O.get(), seqlen, causal ? 1 : 0, scale_log2);
  });
  const double flops = 4.0 * batch * heads * static_cast<double>(seqlen) * seqlen * D * (causal ? 0.5 : 1.0);
  return {flops / (ms * 1e-3) / 1e12, ms * 1e6, {}};
}

}  // namespace

void add_attention_cases(std::vector<Case>& cases) {
  struct Shape {
    int headdim, seqlen;
    bool causal;
  };
  // FlashAttention benchmark convention (SCHEMA.md): batch = 16384 / seqlen, heads = 2048 / headdim.
  for (const Shape s : {Shape{128, 2048, false}, Shape{128, 2048, true}, Shape{64, 4096, false}}) {
    const int batch = 16384 / s.seqlen, heads = 2048 / s.headdim;
    Case c;
    c.id = "attention-tile-d" + std::to_string(s.headdim) + "-s" + std::to_string(s.seqlen) + (s.causal ? "-causal" : "");
    c.workload = "attention_fwd";
    c.params = {{"batch", std::to_string(batch)}, {"heads", std::to_string(heads)}, {"seqlen", std::to_string(s.seqlen)},
                {"headdim", std::to_string(s.headdim)}, {"causal", s.causal ? "true" : "false"}, {"dtype", "bf16"},
                {"impl", "tile"}, {"BM", "64"}, {"BN", "64"}, {"inputs", "zero"}};
    c.metric = "throughput";
    c.unit = "TFLOPS";
    c.kernel = "attention_fwd";
    c.run = [s, batch, heads](const Device&) {
      return s.headdim == 128 ? run_attention<128>(batch, heads, s.seqlen, s.causal)
                              : run_attention<64>(batch, heads, s.seqlen, s.causal);
    };
    cases.push_back(std::move(c));
  }
}

}  // namespace harness

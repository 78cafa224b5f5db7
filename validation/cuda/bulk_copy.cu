// bulk_copy: copy-engine bandwidth from DRAM into shared memory. engine=tma: one thread per block drives
// the bulk copy engine (cp.async.bulk, sm_90+) through `stages` buffers of bytes_per_copy, each with its
// own mbarrier; engine=cp_async: 256 threads issue 16-B cp.async (LDGSTS, sm_80+) with `stages` commit
// groups in flight. The data is discarded; bandwidth = bytes copied / kernel time.
#include "device_util.cuh"
#include "harness.hpp"

namespace harness {
namespace {

__global__ void bulk_copy_tma(const char* src, std::size_t bytes_per_block, unsigned chunk, int stages, unsigned* sink) {
#ifdef HARNESS_HAS_SM90
  constexpr int kMaxStages = 8;
  extern __shared__ __align__(128) char buf[];
  __shared__ alignas(8) std::uint64_t bars[kMaxStages];
  if (threadIdx.x != 0) return;
  for (int s = 0; s < stages; ++s) mbar_init(&bars[s], 1);
  unsigned phase_bits = 0;
  const char* base = src + blockIdx.x * bytes_per_block;
  const std::size_t chunks = bytes_per_block / chunk;
  for (std::size_t k = 0; k < chunks; ++k) {
    const int s = static_cast<int>(k % stages);
    if (k >= static_cast<std::size_t>(stages)) {  // wait until this stage's previous copy landed
      mbar_wait(&bars[s], (phase_bits >> s) & 1u);
      phase_bits ^= 1u << s;
    }
    mbar_arrive_expect_tx(&bars[s], chunk);
    bulk_copy_g2s(buf + static_cast<std::size_t>(s) * chunk, base + k * chunk, chunk, &bars[s]);
  }
  for (std::size_t k = chunks > static_cast<std::size_t>(stages) ? chunks - stages : 0; k < chunks; ++k) {
    const int s = static_cast<int>(k % stages);
    mbar_wait(&bars[s], (phase_bits >> s) & 1u);
    phase_bits ^= 1u << s;
  }
  if (reinterpret_cast<volatile unsigned*>(buf)[0] == 0xdeadbeef) sink[0] = 1;
#else
  __trap();
#endif
}

template <int Stages>
__global__ void bulk_copy_cp_async(const char* src, std::size_t bytes_per_block, unsigned* sink) {
  extern __shared__ __align__(128) char buf[];
  const unsigned tile = blockDim.x * 16;  // one 16-B cp.async per thread per stage
  const char* base = src + blockIdx.x * bytes_per_block;
  const std::size_t tiles = bytes_per_block / tile;
  for (std::size_t k = 0; k < tiles; ++k) {
    const int s = static_cast<int>(k % Stages);
    const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(buf + s * tile + threadIdx.x * 16));
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(dst), "l"(base + k * tile + threadIdx.x * 16) : "memory");
    asm volatile("cp.async.commit_group;" ::: "memory");
    // At most Stages - 1 groups stay in flight before a stage buffer is reused.
    if (k + 1 >= static_cast<std::size_t>(Stages)) asm volatile("cp.async.wait_group %0;" ::"n"(Stages - 1) : "memory");
  }
  asm volatile("cp.async.wait_all;" ::: "memory");
  __syncthreads();
  if (reinterpret_cast<volatile unsigned*>(buf)[threadIdx.x] == 0xdeadbeef) sink[0] = 1;
}

Measurement run_tma(std::size_t footprint, unsigned chunk, int stages, const Device& dev) {
  const int blocks = dev.sm_count();
  const std::size_t per_block = footprint / blocks / chunk * chunk;
  DeviceBuffer<char> src(footprint);
  DeviceBuffer<unsigned> sink(1);
  HARNESS_CUDA(cudaMemset(src.get(), 0, src.bytes()));
  const std::size_t smem = static_cast<std::size_t>(chunk) * stages;
  if (stages > 8) throw std::runtime_error("bulk_copy_tma: at most 8 stages");
  HARNESS_CUDA(cudaFuncSetAttribute(bulk_copy_tma, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  const double ms = median_ms([&] { bulk_copy_tma<<<blocks, 32, smem>>>(src.get(), per_block, chunk, stages, sink.get()); });
  const double bytes = static_cast<double>(per_block) * blocks;
  return {bytes / (ms * 1e-3) / 1e9, ms * 1e6, {{"blocks", std::to_string(blocks)}}};
}

Measurement run_cp_async(std::size_t footprint, const Device& dev) {
  constexpr int stages = 4;
  const int threads = 256, blocks = dev.sm_count() * 3;
  const unsigned tile = threads * 16;
  const std::size_t per_block = footprint / blocks / tile * tile;
  DeviceBuffer<char> src(footprint);
  DeviceBuffer<unsigned> sink(1);
  HARNESS_CUDA(cudaMemset(src.get(), 0, src.bytes()));
  const std::size_t smem = static_cast<std::size_t>(tile) * stages;
  const double ms = median_ms([&] { bulk_copy_cp_async<stages><<<blocks, threads, smem>>>(src.get(), per_block, sink.get()); });
  const double bytes = static_cast<double>(per_block) * blocks;
  return {bytes / (ms * 1e-3) / 1e9, ms * 1e6, {{"blocks", std::to_string(blocks)}}};
}

}  // namespace

void add_bulk_copy_cases(std::vector<Case>& cases) {
  {
    Case c;
    c.id = "bulk-copy-tma-dram";
    c.workload = "bulk_copy";
    c.params = {{"engine", "tma"}, {"bytes_per_copy", "16KiB"}, {"stages", "4"}, {"blocks", "<sm_count>"},
                {"footprint", "1GiB"}, {"level", "dram"}};
    c.metric = "bandwidth";
    c.unit = "GB/s";
    c.kernel = "bulk_copy_tma";
    c.min_cc = 90;
    c.needs = "sm_90 (cp.async.bulk)";
    c.run = [](const Device& dev) { return run_tma(1u << 30, 16u << 10, 4, dev); };
    cases.push_back(std::move(c));
  }
  {
    Case c;
    c.id = "bulk-copy-cp-async-dram";
    c.workload = "bulk_copy";
    c.params = {{"engine", "cp_async"}, {"bytes_per_copy", "16"}, {"stages", "4"}, {"blocks", "<3*sm_count>"},
                {"threads", "256"}, {"footprint", "1GiB"}, {"level", "dram"}};
    c.metric = "bandwidth";
    c.unit = "GB/s";
    c.kernel = "bulk_copy_cp_async";
    c.run = [](const Device& dev) { return run_cp_async(1u << 30, dev); };
    cases.push_back(std::move(c));
  }
}

}  // namespace harness

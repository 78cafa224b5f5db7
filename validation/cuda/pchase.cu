// pchase: dependent-load latency (a pointer chase) for every level: global memory at footprints that land
// in L1, L2 and DRAM, shared memory, the bulk copy engine (TMA, sm_90+) and distributed shared memory
// across a cluster (DSMEM, sm_90+). Latency is clock64() cycles over the chase divided by its steps.
#include <cooperative_groups.h>

#include <memory>

#include "device_util.cuh"
#include "harness.hpp"

namespace harness {
namespace {

constexpr int kSteps = 1 << 14;           // dependent loads per timed chase
constexpr std::size_t kSpacingWords = 16;  // 64-B spaced elements, visited in random order

// Every thread follows the same chain (gpu-benches gpu-latency launches <<<1, 64>>> the same way).
__global__ void pchase_global(unsigned* chain, int steps, long long* cycles, unsigned* sink) {
  unsigned j = 0;
  for (int i = 0; i < 256; ++i) j = chain[j];  // warm the translation and the first lines
  j = 0;
  const long long t0 = clock64();
  for (int i = 0; i < steps; ++i) j = chain[j];
  const long long t1 = clock64();
  if (threadIdx.x == 0) {
    cycles[0] = t1 - t0;
    sink[0] = j;
  }
}

__global__ void pchase_shared(const unsigned* init, int words, int steps, long long* cycles, unsigned* sink) {
  extern __shared__ unsigned s[];
  for (int i = threadIdx.x; i < words; i += blockDim.x) s[i] = init[i];
  __syncthreads();
  if (threadIdx.x != 0) return;
  unsigned j = 0;
  const long long t0 = clock64();
  for (int i = 0; i < steps; ++i) j = s[j];
  const long long t1 = clock64();
  cycles[0] = t1 - t0;
  sink[0] = j;
}

// One thread: each step bulk-copies the 16-B element holding the next index into shared memory and waits
// for it on an mbarrier, so the step time is the copy engine's round trip from the element's level.
__global__ void pchase_tma(const unsigned* chain, int steps, long long* cycles, unsigned* sink) {
#ifdef HARNESS_HAS_SM90
  __shared__ alignas(128) unsigned landing[4];
  __shared__ alignas(8) std::uint64_t bar;
  if (threadIdx.x != 0) return;
  mbar_init(&bar, 1);
  unsigned j = 0, phase = 0;
  long long t0 = 0;
  for (int i = -64; i < steps; ++i) {  // 64 untimed warm-up steps
    if (i == 0) t0 = clock64();
    mbar_arrive_expect_tx(&bar, 16);
    bulk_copy_g2s(landing, chain + j, 16, &bar);
    mbar_wait(&bar, phase);
    phase ^= 1;
    j = landing[0];
  }
  const long long t1 = clock64();
  cycles[0] = t1 - t0;
  sink[0] = j;
#else
  __trap();
#endif
}

// Cluster of 2 CTAs; CTA 0 chases a chain held in the shared memory of CTA `target` (0 = its own, through
// the cluster address space; 1 = the other SM's).
__global__ void pchase_dsmem(const unsigned* init, int words, int steps, int target, long long* cycles, unsigned* sink) {
#ifdef HARNESS_HAS_SM90
  namespace cg = cooperative_groups;
  extern __shared__ unsigned s[];
  cg::cluster_group cluster = cg::this_cluster();
  for (int i = threadIdx.x; i < words; i += blockDim.x) s[i] = init[i];
  cluster.sync();
  if (cluster.block_rank() == 0 && threadIdx.x == 0) {
    const unsigned* remote = cluster.map_shared_rank(s, target);
    unsigned j = 0;
    for (int i = 0; i < 64; ++i) j = remote[j];
    j = 0;
    const long long t0 = clock64();
    for (int i = 0; i < steps; ++i) j = remote[j];
    const long long t1 = clock64();
    cycles[0] = t1 - t0;
    sink[0] = j;
  }
  cluster.sync();  // the remote shared memory must outlive the reads
#else
  __trap();
#endif
}

struct ChaseBuffers {
  DeviceBuffer<long long> cycles{1};
  DeviceBuffer<unsigned> sink{1};
  double cycles_per_step(int steps) const {
    long long c = 0;
    HARNESS_CUDA(cudaMemcpy(&c, cycles.get(), sizeof c, cudaMemcpyDeviceToHost));
    return static_cast<double>(c) / steps;
  }
};

std::unique_ptr<DeviceBuffer<unsigned>> upload_chain(std::size_t footprint) {
  const std::size_t elements = footprint / (kSpacingWords * sizeof(unsigned));
  const std::vector<unsigned> host = random_chain(elements, kSpacingWords);
  auto dev = std::make_unique<DeviceBuffer<unsigned>>(host.size());
  HARNESS_CUDA(cudaMemcpy(dev->get(), host.data(), host.size() * sizeof(unsigned), cudaMemcpyHostToDevice));
  return dev;
}

Measurement run_global(std::size_t footprint, int threads) {
  const auto chain = upload_chain(footprint);
  ChaseBuffers b;
  const double ms = median_ms([&] { pchase_global<<<1, threads>>>(chain->get(), kSteps, b.cycles.get(), b.sink.get()); });
  return {b.cycles_per_step(kSteps), ms * 1e6, {}};
}

Measurement run_shared(std::size_t footprint) {
  const int words = static_cast<int>(footprint / sizeof(unsigned));
  const std::vector<unsigned> host = random_chain(words / 8, 8);  // 32-B spaced: distinct banks per step
  DeviceBuffer<unsigned> init(host.size());
  HARNESS_CUDA(cudaMemcpy(init.get(), host.data(), host.size() * sizeof(unsigned), cudaMemcpyHostToDevice));
  ChaseBuffers b;
  const double ms = median_ms([&] {
    pchase_shared<<<1, 128, footprint>>>(init.get(), words, kSteps, b.cycles.get(), b.sink.get());
  });
  return {b.cycles_per_step(kSteps), ms * 1e6, {}};
}

Measurement run_tma(std::size_t footprint) {
  const auto chain = upload_chain(footprint);
  ChaseBuffers b;
  const int steps = kSteps / 4;
  const double ms = median_ms([&] { pchase_tma<<<1, 32>>>(chain->get(), steps, b.cycles.get(), b.sink.get()); });
  return {b.cycles_per_step(steps), ms * 1e6, {}};
}

Measurement run_dsmem(std::size_t footprint, int target) {
  const int words = static_cast<int>(footprint / sizeof(unsigned));
  const std::vector<unsigned> host = random_chain(words / 8, 8);
  DeviceBuffer<unsigned> init(host.size());
  HARNESS_CUDA(cudaMemcpy(init.get(), host.data(), host.size() * sizeof(unsigned), cudaMemcpyHostToDevice));
  ChaseBuffers b;
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(2);
  cfg.blockDim = dim3(128);
  cfg.dynamicSmemBytes = footprint;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = 2;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  const double ms = median_ms([&] {
    HARNESS_CUDA(cudaLaunchKernelEx(&cfg, pchase_dsmem, static_cast<const unsigned*>(init.get()), words, kSteps, target,
                                    b.cycles.get(), b.sink.get()));
  });
  return {b.cycles_per_step(kSteps), ms * 1e6, {}};
}

Case latency_case(std::string id, std::vector<Param> params, std::string kernel) {
  Case c;
  c.id = std::move(id);
  c.workload = "pchase";
  c.params = std::move(params);
  c.metric = "latency";
  c.unit = "cycles";
  c.kernel = std::move(kernel);
  return c;
}

}  // namespace

void add_pchase_cases(std::vector<Case>& cases) {
  const struct {
    const char* level;
    std::size_t footprint;
  } global_levels[] = {{"l1", 16u << 10}, {"l2", 4u << 20}, {"dram", 1u << 30}};
  for (const auto& g : global_levels) {
    Case c = latency_case(std::string("pchase-global-") + g.level,
                          {{"space", "global"}, {"footprint", size_text(g.footprint)}, {"stride", "random"},
                           {"threads", "64"}, {"level", g.level}},
                          "pchase_global");
    const std::size_t footprint = g.footprint;
    c.run = [footprint](const Device&) { return run_global(footprint, 64); };
    cases.push_back(std::move(c));
  }
  {
    Case c = latency_case("pchase-shared", {{"space", "shared"}, {"footprint", "4KiB"}, {"threads", "1"}, {"level", "smem"}},
                          "pchase_shared");
    c.run = [](const Device&) { return run_shared(4u << 10); };
    cases.push_back(std::move(c));
  }
  const struct {
    const char* level;
    std::size_t footprint;
  } tma_levels[] = {{"l2", 2u << 20}, {"dram", 1u << 30}};
  for (const auto& t : tma_levels) {
    Case c = latency_case(std::string("pchase-tma-") + t.level,
                          {{"space", "tma"}, {"footprint", size_text(t.footprint)}, {"stride", "random"}, {"threads", "1"},
                           {"level", t.level}},
                          "pchase_tma");
    c.min_cc = 90;
    c.needs = "sm_90 (cp.async.bulk)";
    const std::size_t footprint = t.footprint;
    c.run = [footprint](const Device&) { return run_tma(footprint); };
    cases.push_back(std::move(c));
  }
  const struct {
    const char* level;
    int target;
  } dsmem_levels[] = {{"smem", 0}, {"remote_sm", 1}};
  for (const auto& d : dsmem_levels) {
    Case c = latency_case(std::string("pchase-dsmem-") + d.level,
                          {{"space", "dsmem"}, {"footprint", "4KiB"}, {"cluster", "2"}, {"level", d.level}}, "pchase_dsmem");
    c.min_cc = 90;
    c.needs = "sm_90 (thread-block clusters)";
    const int target = d.target;
    c.run = [target](const Device&) { return run_dsmem(4u << 10, target); };
    cases.push_back(std::move(c));
  }
}

}  // namespace harness

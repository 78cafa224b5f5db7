// dsmem: SM-to-SM throughput over distributed shared memory (sm_90+). Clusters of `cluster` CTAs, one CTA
// per SM; every CTA reads its neighbour's (rank + 1) shared buffer with 16-B loads, `repeats` times.
// Bandwidth = remote bytes read by all CTAs / kernel time.
#include <cooperative_groups.h>

#include "device_util.cuh"
#include "harness.hpp"

namespace harness {
namespace {

__global__ void dsmem_read(std::size_t bytes, int repeats, float* sink) {
#ifdef HARNESS_HAS_SM90
  namespace cg = cooperative_groups;
  extern __shared__ float4 local[];
  cg::cluster_group cluster = cg::this_cluster();
  const std::size_t n = bytes / sizeof(float4);
  for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) local[i] = make_float4(0.f, 0.f, 0.f, 0.f);
  cluster.sync();
  const float4* peer = cluster.map_shared_rank(local, (cluster.block_rank() + 1) % cluster.num_blocks());
  float acc = 0;
  for (int r = 0; r < repeats; ++r)
    for (std::size_t i = threadIdx.x; i < n; i += blockDim.x) {
      const float4 v = peer[i];
      acc += v.x + v.y + v.z + v.w;
    }
  cluster.sync();  // the peer's buffer must outlive the reads
  if (acc != 0) sink[0] = acc;
#else
  __trap();
#endif
}

Measurement run_dsmem(int cluster, std::size_t bytes, const Device& dev) {
  const int repeats = 256, threads = 1024;
  const int blocks = dev.sm_count() / cluster * cluster;
  DeviceBuffer<float> sink(1);
  HARNESS_CUDA(cudaFuncSetAttribute(dsmem_read, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(blocks);
  cfg.blockDim = dim3(threads);
  cfg.dynamicSmemBytes = bytes;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = cluster;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  const double ms = median_ms([&] { HARNESS_CUDA(cudaLaunchKernelEx(&cfg, dsmem_read, bytes, repeats, sink.get())); });
  const double total = static_cast<double>(bytes) * repeats * blocks;
  return {total / (ms * 1e-3) / 1e9, ms * 1e6, {{"blocks", std::to_string(blocks)}}};
}

}  // namespace

void add_dsmem_cases(std::vector<Case>& cases) {
  for (int cluster : {2, 4}) {
    Case c;
    c.id = "dsmem-bw-cluster" + std::to_string(cluster);
    c.workload = "dsmem";
    c.params = {{"cluster", std::to_string(cluster)}, {"bytes", "64KiB"}, {"threads", "1024"}, {"blocks", "<sm_count>"}};
    c.metric = "bandwidth";
    c.unit = "GB/s";
    c.kernel = "dsmem_read";
    c.min_cc = 90;
    c.needs = "sm_90 (thread-block clusters)";
    c.run = [cluster](const Device& dev) { return run_dsmem(cluster, 64u << 10, dev); };
    cases.push_back(std::move(c));
  }
}

}  // namespace harness

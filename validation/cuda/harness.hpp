// The tilesim CUDA harness: microbenchmarks and kernels of the reference vocabulary
// (../shared/reference/SCHEMA.md), measured on a real GPU and written as JSON that `tilesim validate`
// reads (validation/cuda/README.md documents the schema). One file per benchmark family registers its
// cases; main.cu selects, runs and records them.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace harness {

/// Throws std::runtime_error naming the call, file and line when a CUDA call fails.
void check_cuda(cudaError_t status, const char* call, const char* file, int line);
#define HARNESS_CUDA(call) ::harness::check_cuda((call), #call, __FILE__, __LINE__)

struct Device {
  int index = 0;
  cudaDeviceProp prop{};
  int cc = 0;               // compute capability as major * 10 + minor (90 = sm_90)
  double sm_clock_mhz = 0;  // observed under load (main.cu measures it with clock64())
  int sm_count() const { return prop.multiProcessorCount; }
};

struct Param {
  std::string key;
  std::string value;  // a value in <...> is decided at run time (e.g. <sm_count>), see Measurement::resolved
};

struct Measurement {
  double value = 0;              // in the case's unit
  double kernel_ns = 0;          // median duration of the measured kernel (0 = none recorded)
  std::vector<Param> resolved;   // run-time values of <...> params
};

struct Case {
  std::string id;
  std::string workload;  // reference vocabulary
  std::vector<Param> params;
  std::string metric;    // latency, bandwidth, throughput
  std::string unit;      // cycles, ns, GB/s, TFLOPS, FLOP/clk/SM
  std::string kernel;    // name of the timed kernel, for `tilesim compare`
  int min_cc = 80;       // the lowest compute capability the case runs on
  int exact_cc = 0;      // arch-specific ('a') instructions: only this compute capability (90, 100)
  std::string needs;     // what the requirement is, for messages ("sm_90a (wgmma)")
  std::function<Measurement(const Device&)> run;
};

// Families (one .cu each).
void add_pchase_cases(std::vector<Case>& cases);
void add_stream_cases(std::vector<Case>& cases);
void add_bulk_copy_cases(std::vector<Case>& cases);
void add_dsmem_cases(std::vector<Case>& cases);
void add_mma_cases(std::vector<Case>& cases);
void add_alu_cases(std::vector<Case>& cases);
void add_launch_cases(std::vector<Case>& cases);
void add_gemm_cases(std::vector<Case>& cases);
void add_attention_cases(std::vector<Case>& cases);
void add_softmax_cases(std::vector<Case>& cases);

// ---- helpers shared by the families (main.cu) ----

/// Median over `repeats` runs of the elapsed milliseconds of `launch` (timed with CUDA events, after one
/// untimed warm-up run).
double median_ms(const std::function<void()>& launch, int repeats = 5);

/// Elapsed milliseconds of one `launch` between CUDA events.
double elapsed_ms(const std::function<void()>& launch);

/// "16KiB", "1GiB", "4096" (bytes) as the reference vocabulary writes sizes.
std::string size_text(std::size_t bytes);

/// A device allocation freed on scope exit.
template <class T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t count) : count_(count) {
    HARNESS_CUDA(cudaMalloc(&ptr_, count * sizeof(T) > 0 ? count * sizeof(T) : 1));
  }
  ~DeviceBuffer() { cudaFree(ptr_); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return ptr_; }
  std::size_t count() const { return count_; }
  std::size_t bytes() const { return count_ * sizeof(T); }

 private:
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

/// A random cyclic permutation over `elements` slots spaced `spacing_words` 32-bit words apart: word
/// slot*spacing holds the word index of the next slot (a dependent-load chain, as gpu-benches builds it).
std::vector<unsigned> random_chain(std::size_t elements, std::size_t spacing_words, unsigned seed = 1);

}  // namespace harness

// Which public benchmark a reference row comes from, recognised from its source URL, and the kernel
// details its note states. Mappers that replay a row the way its benchmark ran (the memory probe's and the
// SM's memory mappers) share these.
#pragma once

#include <cstdint>

#include "validation/case_mapper.hpp"

namespace tilesim::validation {

enum class BenchmarkSource {
  gpu_latency,     // te42kyfo/gpu-benches gpu-latency: <<<1,64>>> pointer chase, 64 B spacing
  gpu_stream,      // gpu-benches gpu-stream (and its README table): one double per thread, 2 blocks/SM
  gpu_l2_cache,    // gpu-benches gpu-l2-cache: 1024-thread blocks, 32 unrolled double loads
  gpu_cache,       // gpu-benches gpu-cache: one 256-thread block per SM re-reading a float buffer
  hopper_repo,     // HPMLL/NVIDIA-Hopper-Benchmark: chases with 4 threads, 128 B spacing; TMA; DSM
  hopper_paper,    // arXiv 2501.12084 tables (values transcribed; kernels not stated)
  semianalysis,    // SemiAnalysisAI/microbench-blackwell
  other,
};

BenchmarkSource benchmark_source(const ReferenceRow& row);

/// "(N) B-spaced" in the note, the element spacing of a chase; `fallback` otherwise.
std::uint64_t spacing_from_note(const ReferenceRow& row, std::uint64_t fallback);

/// The element spacing of a pointer chase: as the note states; gpu-latency uses 64 B slots, the other
/// sources chase one element per 128 B line (HPMLL random_latency; assumed for sources that do not say).
std::uint64_t chase_spacing(const ReferenceRow& row);

}  // namespace tilesim::validation

// Case mappers for the megacore (validation/case_mapper.hpp): `gemm` and `attention_fwd` rows whose preset
// is a megacore preset (tpu_*, hypothetical_megacore) become `tilesim run` cases of the `megacore` system.
// The gpu system's mappers (arch/simt/simt_case_mappers.cpp) are registered by workload name and delegate
// such rows here.
#pragma once

#include <optional>
#include <string>

#include "validation/case_mapper.hpp"

namespace tilesim::megacore {

/// True for presets that run on the megacore system (their preset file says `system: megacore`).
bool is_megacore_preset(const std::string& preset);

validation::MapResult map_gemm(const validation::ReferenceRow& row);
std::optional<double> extract_gemm(const validation::ReferenceRow& row, const nlohmann::json& stats);
validation::MapResult map_attention(const validation::ReferenceRow& row);
std::optional<double> extract_attention(const validation::ReferenceRow& row, const nlohmann::json& stats);

/// The one GEMM block rule (docs/megacore.md): K steps of BK = 2 x the MXU size (two MXU-deep folds), square
/// output blocks B x B with B the largest power of two that is at least the MXU size, at most min(M, N)
/// rounded down to a power of two (never below the MXU size), and whose two resident grid steps fit VMEM
/// (each 12 B BK + 6 B^2 bytes: the library gemm's 3 stages of bf16 A and B blocks, the f32 accumulator and
/// the bf16 result). The workload's own `stages` (3) is kept.
struct GemmBlocks {
  std::int64_t bm = 0, bn = 0, bk = 0;
};
GemmBlocks gemm_blocks(std::int64_t M, std::int64_t N, std::int64_t mxu_cols, std::uint64_t vmem_bytes);

}  // namespace tilesim::megacore

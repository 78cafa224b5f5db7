// Case mappers of the megacore (megacore_case_mappers.hpp). GEMM rows run the library's `gemm` workload
// (the same program the GPUs run) with blocks from the one rule of gemm_blocks(); attention rows run
// `attention_fwd` with its default blocks. Rows that say `cores=1` on a multi-TensorCore preset run on one
// TensorCore (`chip.cores=1`): such rows measure one JAX device, which is one TensorCore (tpu_v7: one chiplet).
#include "arch/megacore/megacore_case_mappers.hpp"

#include <algorithm>
#include <cmath>

#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "sim/units.hpp"

namespace tilesim::megacore {

using validation::MapResult;
using validation::ReferenceRow;
using validation::SimCase;

namespace {

std::optional<YAML::Node> preset_tree(const std::string& preset, ConfigTree& t) {
  try {
    t.merge_file(find_preset(preset));
  } catch (const ConfigError&) {
    return std::nullopt;
  }
  return t.root();
}

std::optional<double> preset_number(const std::string& preset, const std::string& dotted) {
  ConfigTree t;
  if (!preset_tree(preset, t)) return std::nullopt;
  const YAML::Node n = t.find(dotted);
  if (!n) return std::nullopt;
  return parse_any_quantity(n.Scalar(), dotted).value;
}

void set(SimCase& c, const std::string& key, const std::string& value) { c.overrides.push_back(cat("workload.", key, "=", value)); }

MapResult base_case(const ReferenceRow& row, const std::string& workload) {
  SimCase c;
  c.presets = {row.preset};
  c.overrides = {"system=megacore", cat("workload.name=", workload), "workload.scale=full"};
  c.clock_key = "chip.core_clock";
  if (row.has_param("cores")) {
    const auto cores = preset_number(row.preset, "chip.cores");
    const long long want = row.param_integer("cores");
    if (cores && want > static_cast<long long>(*cores))
      return cat("the row uses ", want, " TensorCores, preset ", row.preset, " has ", *cores);
    c.overrides.push_back(cat("chip.cores=", want));
  }
  return c;
}

std::optional<double> rate(const ReferenceRow& row, const nlohmann::json& stats, const std::string& kernel, double flops) {
  const auto t = validation::kernel_seconds(stats, kernel);
  if (!t || *t <= 0) return std::nullopt;
  return validation::rate_in_unit(flops / *t, row.unit, validation::clock_hz(stats, "core"));
}

}  // namespace

bool is_megacore_preset(const std::string& preset) {
  ConfigTree t;
  if (!preset_tree(preset, t)) return false;
  const YAML::Node& r = t.root();
  return r["system"] && r["system"].IsScalar() && r["system"].Scalar() == "megacore";
}

GemmBlocks gemm_blocks(std::int64_t M, std::int64_t N, std::int64_t mxu, std::uint64_t vmem_bytes) {
  std::int64_t cap = 1;
  while (cap * 2 <= std::min(M, N)) cap *= 2;
  const std::int64_t bk = 2 * mxu;  // two MXU-deep K folds per step
  // One grid step of the library's gemm (3 stages) holds 3 x (B x BK + BK x B) bf16 = 12 B BK bytes of A and
  // B blocks, the f32 accumulator (4 B^2) and the bf16 result (2 B^2, stored by DMA from its buffer).
  auto step_bytes = [&](std::int64_t b) { return 12.0 * static_cast<double>(b * bk) + 6.0 * static_cast<double>(b * b); };
  std::int64_t b = mxu;
  while (b * 2 <= cap && 2.0 * step_bytes(b * 2) <= static_cast<double>(vmem_bytes)) b *= 2;
  return {b, b, bk};
}

MapResult map_gemm(const ReferenceRow& row) {
  const std::string din = row.param_or("dtype_in", "bf16");
  if (din != "bf16" && din != "f16") return cat("dtype_in '", din, "': the megacore mapper runs 16-bit GEMMs only");
  MapResult base = base_case(row, "gemm");
  if (auto* why = std::get_if<std::string>(&base)) return *why;
  SimCase c = std::get<SimCase>(base);
  for (const char* k : {"M", "N", "K"}) set(c, k, row.param(k));
  set(c, "dtype_in", din);
  set(c, "dtype_acc", "f32");
  set(c, "dtype_out", row.param_or("dtype_out", "bf16"));
  const auto cols = preset_number(row.preset, "core.megacore.mxu_cols");
  auto vmem = preset_number(row.preset, "memory.scratch.size");
  if (!cols || !vmem) return cat("preset ", row.preset, " lacks core.megacore.mxu_cols or memory.scratch.size");
  // The compiler tiles under its scoped-VMEM budget, not the whole VMEM (XLA's default: 16 MiB on v5e, 32 MiB
  // on v6e and v7x).
  const auto scoped = preset_number(row.preset, "core.megacore.scoped_vmem_limit");
  if (scoped && *scoped > 0) vmem = std::min(*vmem, *scoped);
  const GemmBlocks g = gemm_blocks(static_cast<std::int64_t>(row.param_number("M")), static_cast<std::int64_t>(row.param_number("N")),
                                   static_cast<std::int64_t>(*cols), static_cast<std::uint64_t>(*vmem));
  set(c, "BLOCK_M", std::to_string(g.bm));
  set(c, "BLOCK_N", std::to_string(g.bn));
  set(c, "BLOCK_K", std::to_string(g.bk));
  set(c, "inputs", row.param_or("inputs", "random"));
  return c;
}

std::optional<double> extract_gemm(const ReferenceRow& row, const nlohmann::json& stats) {
  const double flops = 2.0 * row.param_number("M") * row.param_number("N") * row.param_number("K");
  return rate(row, stats, "gemm", flops);
}

MapResult map_attention(const ReferenceRow& row) {
  MapResult base = base_case(row, "attention_fwd");
  if (auto* why = std::get_if<std::string>(&base)) return *why;
  SimCase c = std::get<SimCase>(base);
  for (const char* k : {"batch", "heads", "seqlen", "headdim"}) set(c, k, row.param(k));
  const std::string causal = row.param_or("causal", "false");
  set(c, "causal", causal == "true" || causal == "1" ? "1" : "0");
  set(c, "dtype", row.param_or("dtype", "bf16"));
  return c;
}

std::optional<double> extract_attention(const ReferenceRow& row, const nlohmann::json& stats) {
  const std::string causal = row.param_or("causal", "false");
  const double s = row.param_number("seqlen");
  double flops = 4.0 * row.param_number("batch") * row.param_number("heads") * s * s * row.param_number("headdim");
  if (causal == "true" || causal == "1") flops /= 2;
  return rate(row, stats, "attention_fwd", flops);
}

}  // namespace tilesim::megacore

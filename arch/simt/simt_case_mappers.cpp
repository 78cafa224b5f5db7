// Case mappers (validation/case_mapper.hpp) for the SIMT GPU: rows of workloads mma, alu, gemm,
// attention_fwd, softmax and launch become `tilesim run` cases of the `gpu` system on the row's device
// preset with the SM layer of its architecture (arch/presets/sm80_core.yaml, sm90_core.yaml) on top.
//
// One kernel per workload for every row (no per-shape choices): GEMM rows run the workload library's
// warp-specialised `gemm_ws` with 128x256 output tiles, 128-byte K tiles (64 bf16/f16 elements), as
// many stages (up to 4) as the SM's scratch holds and, on sm_90, clusters of 2 sharing B (TMA multicast), attention rows the warp-specialised `attention_ws` with
// 128-row query tiles and key tiles sized to the scratch, softmax rows `softmax` with row slices sized to
// the register file (see the mappers). Instruction-level rows run the library's microbenchmarks long
// enough that the constant part (copies in, result out) is below 1% of the measured time.
#include <cmath>
#include <regex>

#include "arch/megacore/megacore_case_mappers.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "arch/simt/simt_case_support.hpp"
#include "validation/case_mapper.hpp"

namespace tilesim::validation {
namespace {

using namespace simt_cases;

struct MmaShape {
  std::int64_t m = 64, n = 256, k = 16;
};
std::optional<MmaShape> parse_shape(const std::string& s) {
  static const std::regex re("m([0-9]+)n([0-9]+)k([0-9]+)");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  return MmaShape{std::stoll(m[1]), std::stoll(m[2]), std::stoll(m[3])};
}

// ---- mma -----------------------------------------------------------------------------------------------

/// Warp-level tensor instructions: each warp issues its own on its sub-partition's tensor core. DMMA is
/// mma.sync with f64 operands (PTX mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64).
bool warp_level_instr(const std::string& instr) { return instr == "mma_sync" || instr == "wmma" || instr == "dmma"; }

/// The mma tile a row runs. Latency rows: the instruction's shape (one warp, or one warp group, runs the
/// chain). Throughput rows of warp-level instructions (wmma, mma.sync, dmma): a 2x2 arrangement of
/// instructions so that each of the program's 4 warps issues its own, as those benchmarks do; mma.sync
/// rows without a shape ("average over shapes") use m64n64k16.
std::string tile_shape(const ReferenceRow& row) {
  const std::string instr = row.param_or("instr", "wgmma");
  const bool warp_level = warp_level_instr(instr);
  const std::string shape = row.param_or("shape", instr == "mma_sync" ? "m64n64k16"
                                                  : instr == "wmma"   ? "m16n16k16"
                                                  : instr == "dmma"   ? "m8n8k4"
                                                                      : "m64n256k16");
  if (!warp_level || row.param_or("mode", "throughput") == "latency" || !row.has_param("shape")) return shape;
  const auto s = parse_shape(shape);
  if (!s) return shape;
  return cat("m", 2 * s->m, "n", 2 * s->n, "k", s->k);
}

constexpr std::int64_t kLatencyIters = 16384;
constexpr std::int64_t kThroughputIters = 4096;

class MmaMapper final : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    const std::string instr = row.param_or("instr", "wgmma");
    const std::string mode = row.param_or("mode", "throughput");
    const std::string din = row.param_or("dtype_in", instr == "dmma" ? "f64" : "f16");
    if (instr == "dmma" && din != "f64") return cat("dmma takes f64 operands, not ", din);
    if (mode != "latency" && mode != "throughput") return cat("mode '", mode, "' is not modelled");
    std::string operands = row.param_or("operands", "SS");
    if (instr == "tcgen05") {
      // arch/tensor/README.md: back-to-back MMAs into one TMEM accumulator chain at the interval; the
      // single-MMA latency (commit + mbarrier wait after each) needs a benchmark that waits per MMA.
      if (core_layer(row.preset) != "sm100_core") return std::string("tcgen05 runs on sm_100 (b200) only");
      if (mode == "latency")
        return std::string("tcgen05 single-MMA latency (commit + mbarrier wait per MMA) is not modelled: these "
                           "rows set core.tensor.tcgen05_latency (sm100_core.yaml)");
      if (row.param_or("cta_group", "1") != "1") return std::string("tcgen05 CTA pairs (cta_group::2) are not modelled");
      if (operands == "TS") operands = "RS";  // A from tensor memory: off the shared-memory operand stream
    }
    if (operands != "SS" && operands != "RS") return cat("operands ", operands, " (tensor memory) is not modelled");
    auto d = isa_dtype(din);
    if (!d) return cat("dtype_in '", din, "' has no ISA dtype");
    MapResult base = gpu_case(row, "mma");
    if (auto* why = std::get_if<std::string>(&base)) return *why;
    SimCase c = std::get<SimCase>(base);
    // DMMA is the f64 form of mma.sync: it runs on the warp-level tensor unit like mma_sync rows.
    const bool sync = instr == "mma_sync" || instr == "dmma";
    if (sync) c.overrides.push_back("core.tensor.kind=mma_sync");
    const std::string shape = tile_shape(row);
    if (!parse_shape(shape)) return cat("shape '", shape, "' is not m<M>n<N>k<K>");
    set(c, "instr", instr == "dmma" ? "mma_sync" : instr);
    set(c, "shape", shape);
    set(c, "dtype_in", *d);
    set(c, "dtype_acc", row.param_or("dtype_acc", *d == "f64" ? "f64" : "f32"));
    set(c, "operands", operands);
    set(c, "inputs", row.param_or("inputs", "zero"));
    set(c, "mode", mode);
    if (mode == "latency") {
      set(c, "iters", std::to_string(kLatencyIters));
      set(c, "blocks", "1");
    } else {
      // One dependent chain per program; enough programs to keep every sub-partition's (mma.sync) or
      // the SM's (wgmma, latency = interval for N >= 32) tensor pipe busy.
      const double sms = preset_number(row, "chip.cores");
      use_tensor_clock(row, c);
      set(c, "iters", std::to_string(kThroughputIters));
      set(c, "blocks", std::to_string(static_cast<std::int64_t>(sms) * (warp_level_instr(instr) ? 4 : 1)));
    }
    return c;
  }

  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    const auto t = kernel_time(stats, "mma");
    if (!t) return std::nullopt;
    const std::string mode = row.param_or("mode", "throughput");
    const auto clock = clock_hz(stats, "core");
    if (mode == "latency") {
      if (!clock) return std::nullopt;
      const double cycles_per = *t * *clock / static_cast<double>(kLatencyIters);
      return row.unit == "cycles" ? std::optional<double>(cycles_per) : time_in_unit(cycles_per / *clock, row.unit, clock);
    }
    const std::string instr = row.param_or("instr", "wgmma");
    const bool sync = warp_level_instr(instr);
    const auto s = parse_shape(tile_shape(row));
    const double sms = sm_count(stats);
    const double programs = sms * (sync ? 4 : 1);
    const double flops = 2.0 * static_cast<double>(s->m * s->n * s->k) * kThroughputIters * programs;
    const double per_second = flops / *t;
    if (row.unit == "%") {
      // Efficiency: against the dense rate of the operand dtype from the preset.
      const std::string din = *isa_dtype(row.param_or("dtype_in", instr == "dmma" ? "f64" : "f16"));
      const char* key = din == "tf32" ? "core.tensor.rate_tf32"
                        : din.rfind("f8", 0) == 0 ? "core.tensor.rate_f8"
                        : din == "i8" ? "core.tensor.rate_i8"
                        : din == "f64" ? "core.tensor.rate_f64" : "core.tensor.rate_f16";
      if (!clock) return std::nullopt;
      return 100.0 * per_second / (preset_number(row, key) * sms * *clock);
    }
    if (row.unit == "cycles") {
      // An issue interval: cycles between back-to-back issues of the row's instruction on one tensor pipe
      // (one per sub-partition for warp-level instructions, one per SM for wgmma) at full occupancy, the
      // inverse of the throughput. Every pipe of the GPU is busy in this run (4 chains per sub-partition,
      // or one per SM), so it is the run's cycles divided by the instructions each pipe executed: all the
      // FLOPs counted in instructions of the row's `shape` (not of the run's 2x2 tile), spread over the
      // pipes. With flops per instruction F, pipes P and the achieved rate R (FLOP/clk): F * P / R.
      if (!clock || !row.has_param("shape")) return std::nullopt;
      const auto inst = parse_shape(row.param("shape"));
      if (!inst) return std::nullopt;
      const double pipes = sms * (sync ? preset_number(row, "core.sm.sub_partitions") : 1.0);
      const double instructions = flops / (2.0 * static_cast<double>(inst->m * inst->n * inst->k));
      return *t * *clock / (instructions / pipes);
    }
    return rate_in_unit(per_second, row.unit, clock, sms);
  }

  std::string what_is_extracted(const ReferenceRow& row) const override {
    if (row.param_or("mode", "throughput") == "latency") return "kernel scope 'mma' / iterations (cycles)";
    if (row.unit == "cycles")
      return "kernel scope 'mma' (cycles) / instructions of the row's shape per tensor pipe (issue interval)";
    return "tensor FLOPs of all programs / kernel scope 'mma'";
  }
};

// ---- alu -----------------------------------------------------------------------------------------------

class AluMapper final : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    const std::string op = row.param_or("op", "ffma");
    if (op != "ffma" && op != "hfma" && op != "dfma") return cat("op '", op, "' is not an alu microbenchmark of the library");
    MapResult base = gpu_case(row, "alu");
    if (auto* why = std::get_if<std::string>(&base)) return *why;
    SimCase c = std::get<SimCase>(base);
    set(c, "op", op);
    set(c, "iters", std::to_string(kLatencyIters));
    return c;
  }
  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    const auto t = kernel_time(stats, "alu");
    const auto clock = clock_hz(stats, "core");
    if (!t || !clock) return std::nullopt;
    const double cycles_per = *t * *clock / static_cast<double>(kLatencyIters);
    return row.unit == "cycles" ? std::optional<double>(cycles_per) : time_in_unit(cycles_per / *clock, row.unit, clock);
  }
  std::string what_is_extracted(const ReferenceRow&) const override { return "kernel scope 'alu' / iterations (cycles)"; }
};

// ---- gemm ----------------------------------------------------------------------------------------------

/// DeepGEMM's kernels are block-scaled FP8 GEMMs (1 x 128 scales of A, 128 x 128 of B): their rows run the
/// library's block-scaled kernel, every other GEMM row the plain warp-specialised one.
bool block_scaled(const ReferenceRow& row) { return row.param_or("impl", "") == "deepgemm"; }
const char* gemm_kernel(const ReferenceRow& row) { return block_scaled(row) ? "gemm_fp8_scaled" : "gemm_ws"; }

/// gemm_fp8_scaled's launch, chosen per shape as DeepGEMM's host code (jit_kernels/gemm.py,
/// get_best_configs, as of the README's measurements) chooses it, not per row:
///  - 128-row tiles of two math warp groups; 64-row tiles of one for M <= 64;
///  - of the tile widths 16, 24, ..., 128, the one with the fewest waves of one tile per SM, then the
///    fullest last wave, then the narrower tile;
///  - the most stages, of 8..4 (6..4 when the width does not divide 128: two B scales per K block), whose
///    shared memory fits: A, B and A's scales per stage, plus the output tile (bf16) and B's scales;
///  - TMA multicast of A (and its scales) over a cluster of two tiles along N when M >= 1024, N is a
///    multiple of two tile widths, the SM count is even and there is one group.
/// Grouped GEMMs (m_grouped_gemm_fp8_fp8_bf16_nt_*): the contiguous layout chooses as for one GEMM of all
/// groups' rows with 128-row tiles (its M alignment); the masked layout as for `groups` GEMMs of M rows.
struct ScaledLaunch {
  double m = 0;          // rows the tile choice sees: M, the groups' total (contiguous), or M per group (masked)
  double groups = 1;     // GEMMs of m rows whose tiles share the waves (masked layout)
  bool fixed_128 = false;  // 128-row tiles whatever m (contiguous layout's alignment)
};
MapResult map_block_scaled(const ReferenceRow& row, SimCase c, const std::string& din, const ScaledLaunch& l) {
  if (din != "f8e4m3" && din != "f8e5m2") return cat("the block-scaled kernel takes FP8 inputs, not ", din);
  if (core_layer(row.preset) != "sm90_core") return std::string("DeepGEMM's block-scaled kernel needs sm_90 (wgmma, TMA)");
  const double m = l.m, n = row.param_number("N"), k = row.param_number("K");
  const double block_m = m <= 64 && !l.fixed_128 ? 64 : 128;
  const double sms = preset_number(row, "chip.cores");
  const double tile_rows = std::ceil(m / block_m) * l.groups;
  int best_bn = 0;
  double best_waves = 0, best_last = 0;
  for (int bn = 16; bn <= 128; bn += 8) {
    const double tiles = tile_rows * std::ceil(n / bn);
    const double waves = std::ceil(tiles / sms);
    const double rem = std::fmod(tiles, sms), last = rem == 0 ? sms : rem;
    if (best_bn == 0 || waves < best_waves || (waves == best_waves && last > best_last)) {
      best_bn = bn;
      best_waves = waves;
      best_last = last;
    }
  }
  const bool two_b_scales = 128 % best_bn != 0;
  const double fixed_bytes = block_m * best_bn * 2 + std::ceil(std::ceil(k / 128) * 4 * (two_b_scales ? 2 : 1) / 8) * 8;
  const double stage_bytes = block_m * 128 + block_m * 4 + best_bn * 128.0 + 16;  // A, A's scales, B, two barriers
  const double scratch = preset_number(row, "memory.scratch.size") - 1024;
  int stages = 0;
  for (int s = two_b_scales ? 6 : 8; s >= 4 && stages == 0; --s)
    if (fixed_bytes + s * stage_bytes <= scratch) stages = s;
  if (stages == 0)
    return cat("the SM's scratch (", scratch, " B) holds fewer than 4 stages of ", stage_bytes, " B besides ",
               fixed_bytes, " B of output tile and B scales");
  const double tile_cols = std::ceil(n / best_bn);
  const bool multicast = m >= 1024 && std::fmod(n, 2.0 * best_bn) == 0 && std::fmod(sms, 2) == 0 && l.groups == 1;
  set(c, "BLOCK_M", block_m == 64 ? "64" : "128");
  set(c, "consumers", block_m == 64 ? "1" : "2");
  set(c, "BLOCK_N", std::to_string(best_bn));
  set(c, "BLOCK_K", "128");
  set(c, "stages", std::to_string(stages));
  set(c, "cluster_m", "1");
  set(c, "cluster_n", multicast && std::fmod(tile_cols, 2) == 0 ? "2" : "1");
  set(c, "inputs", row.param_or("inputs", "random"));
  use_tensor_clock(row, c);
  return c;
}

class GemmMapper final : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    if (megacore::is_megacore_preset(row.preset)) return megacore::map_gemm(row);  // TPU rows: the megacore's mapper
    if (row.has_param("sms")) return std::string("runs on a subset of the SMs (sms=...) are not modelled");
    const std::string din = row.param_or("dtype_in", "bf16");
    auto d = isa_dtype(din);
    if (!d) return cat("dtype_in '", din, "' has no ISA dtype");
    MapResult base = gpu_case(row, gemm_kernel(row));
    if (auto* why = std::get_if<std::string>(&base)) return *why;
    SimCase c = std::get<SimCase>(base);
    for (const char* k : {"M", "N", "K"}) set(c, k, row.param(k));
    set(c, "dtype_in", *d);
    const std::string acc = row.param_or("dtype_acc", *d == "i8" ? "i32" : "f32");
    set(c, "dtype_acc", acc);
    std::string out = row.param_or("dtype_out", "");
    if (out.empty()) out = *d == "tf32" ? "f32" : (*d == "i8" ? "i32" : (*d == "f16" ? "f16" : "bf16"));
    auto o = isa_dtype(out);
    if (!o) return cat("dtype_out '", out, "' has no ISA dtype");
    set(c, "dtype_out", *o);
    if (block_scaled(row)) return map_block_scaled(row, std::move(c), *d, ScaledLaunch{row.param_number("M")});
    // One kernel for every shape: 128x256 output tiles, 128-byte K tiles, 4 stages.
    const int bits = *d == "tf32" ? 32 : (d->rfind("f8", 0) == 0 || *d == "i8" ? 8 : (*d == "f4e2m1" ? 4 : 16));
    // Stages: up to 4, as many as the SM's scratch holds (one stage = a 128 x 128 B tile of A and a
    // 128 B x 256 tile of B = 48 KiB), as CUTLASS sizes its pipelines from the shared-memory capacity.
    // Where not even 2 such stages fit (Turing's 64 KB), the tile narrows to 128 x 128 (32 KiB stages), as
    // CUTLASS's sm_75 configurations do.
    const auto reserved = preset_value(row, "core.sm.scratch_reserved_per_program");
    const double scratch = preset_number(row, "memory.scratch.size") - (reserved ? *reserved : 1024.0);
    int block_n = 256;
    if (std::floor(scratch / (48 * 1024)) < 2) block_n = 128;
    const double stage_bytes = 128.0 * 128 + 128.0 * block_n;
    const auto stages = static_cast<int>(std::min(4.0, std::floor(scratch / stage_bytes)));
    if (stages < 2)
      return cat("the SM's scratch (", scratch, " B) holds fewer than 2 GEMM stages of ", stage_bytes, " B");
    set(c, "BLOCK_M", "128");
    set(c, "BLOCK_N", std::to_string(block_n));
    set(c, "BLOCK_K", std::to_string(1024 / bits));
    set(c, "stages", std::to_string(stages));
    // Clusters: on sm_90 and sm_100 (TMA multicast) two programs stacked along M share each B tile, as CUTLASS's and
    // DeepGEMM's Hopper kernels do (cluster shape 2 x 1), whenever the output has an even number of tile
    // rows; sm_80 and older have no clusters.
    const auto tile_rows = static_cast<std::int64_t>(std::ceil(row.param_number("M") / 128));
    const bool multicast =
        (core_layer(row.preset) == "sm90_core" || core_layer(row.preset) == "sm100_core") && tile_rows % 2 == 0;
    set(c, "cluster_m", multicast ? "2" : "1");
    set(c, "inputs", row.param_or("inputs", "random"));
    use_tensor_clock(row, c);
    return c;
  }
  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    if (megacore::is_megacore_preset(row.preset)) return megacore::extract_gemm(row, stats);
    const auto t = kernel_time(stats, gemm_kernel(row));
    if (!t) return std::nullopt;
    const double flops = 2.0 * row.param_number("M") * row.param_number("N") * row.param_number("K");
    return rate_in_unit(flops / *t, row.unit, clock_hz(stats, "core"), sm_count(stats));
  }
  std::string what_is_extracted(const ReferenceRow& row) const override {
    return cat("2MNK / kernel scope '", gemm_kernel(row), "'");
  }
};

// ---- grouped_gemm --------------------------------------------------------------------------------------

/// DeepGEMM's m-grouped FP8 GEMMs (MoE experts: `groups` weights of N x K, M rows per group) on the
/// block-scaled kernel with one weight per group. Both layouts run the contiguous computation: the masked
/// one with every group's mask full (M valid rows per group), which the row's M stands for; they differ
/// in DeepGEMM's launch choice (map_block_scaled).
class GroupedGemmMapper final : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    if (megacore::is_megacore_preset(row.preset)) return std::string("grouped GEMM rows are modelled on the GPU only");
    const std::string layout = row.param_or("layout", "contiguous");
    if (layout != "contiguous" && layout != "masked") return cat("layout '", layout, "' is not contiguous or masked");
    const std::string din = row.param_or("dtype_in", "e4m3");
    auto d = isa_dtype(din);
    if (!d) return cat("dtype_in '", din, "' has no ISA dtype");
    const double groups = row.param_number("groups"), m = row.param_number("M");
    const double block_m = layout == "masked" && m <= 64 ? 64 : 128;
    if (groups < 1 || std::fmod(m, block_m) != 0)
      return cat("M per group (", m, ") must be a whole number of ", block_m,
                 "-row tiles: the kernel has no per-group row mask");
    MapResult base = gpu_case(row, "gemm_fp8_scaled");
    if (auto* why = std::get_if<std::string>(&base)) return *why;
    SimCase c = std::get<SimCase>(base);
    set(c, "M", format_number(groups * m));
    set(c, "N", row.param("N"));
    set(c, "K", row.param("K"));
    set(c, "groups", format_number(groups));
    set(c, "dtype_in", *d);
    set(c, "dtype_acc", "f32");
    set(c, "dtype_out", "bf16");  // m_grouped_gemm_fp8_fp8_bf16_nt_*
    return map_block_scaled(row, std::move(c), *d,
                            layout == "contiguous" ? ScaledLaunch{groups * m, 1, true} : ScaledLaunch{m, groups, false});
  }
  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    const auto t = kernel_time(stats, "gemm_fp8_scaled");
    if (!t) return std::nullopt;
    const double flops =
        2.0 * row.param_number("groups") * row.param_number("M") * row.param_number("N") * row.param_number("K");
    return rate_in_unit(flops / *t, row.unit, clock_hz(stats, "core"), sm_count(stats));
  }
  std::string what_is_extracted(const ReferenceRow&) const override {
    return "2 groups M N K / kernel scope 'gemm_fp8_scaled'";
  }
};

// ---- attention -----------------------------------------------------------------------------------------

class AttentionMapper final : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    if (megacore::is_megacore_preset(row.preset)) return megacore::map_attention(row);
    MapResult base = gpu_case(row, "attention_ws");
    if (auto* why = std::get_if<std::string>(&base)) return *why;
    SimCase c = std::get<SimCase>(base);
    for (const char* k : {"batch", "heads", "seqlen", "headdim"}) set(c, k, row.param(k));
    const std::string causal = row.param_or("causal", "false");
    set(c, "causal", causal == "true" || causal == "1" ? "1" : "0");
    set(c, "dtype", row.param_or("dtype", "bf16"));
    // One kernel for every shape, the warp-specialised `attention_ws` (FlashAttention-3's structure).
    // BLOCK_M = 128: two consumer warp groups of 64 query rows (one wgmma M each). BLOCK_N: the most key
    // rows, up to 128 and a multiple of 16 (the k step of P.V), for which the Q tile and the two stages of
    // K and V (16-bit) fit the SM's scratch; FlashAttention-3 sizes its tiles the same way (128 x 128 for
    // head dim 64 and 128, 128 x 80 for 256).
    const double headdim = row.param_number("headdim");
    const double scratch = preset_number(row, "memory.scratch.size") - 1024;
    auto footprint = [&](double bn) { return 2.0 * headdim * (128 + 2 * 2 * bn); };
    double bn = 128;
    while (bn > 16 && footprint(bn) > scratch) bn -= 16;
    if (footprint(bn) > scratch)
      return cat("the SM's scratch (", scratch, " B) cannot hold attention tiles of head dim ", headdim);
    set(c, "BLOCK_M", "128");
    set(c, "BLOCK_N", format_number(bn, 6));
    // FlashAttention-3 (sm_90) runs persistent programs, one per SM, and without causal masking hands
    // them the tiles in a static stride (StaticPersistentTileScheduler): a program's next Q and K/V loads
    // overlap its last P.V and its store of O. Causal attention uses a dynamic scheduler, longest tiles
    // first, which the model does not have, and FlashAttention-2 launches one program per tile: those run
    // one program per tile, ordered by the block scheduler.
    if (row.param_or("impl", "") == "fa3" && causal != "true" && causal != "1")
      set(c, "programs", format_number(preset_number(row, "chip.cores"), 6));
    use_tensor_clock(row, c);
    return c;
  }
  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    if (megacore::is_megacore_preset(row.preset)) return megacore::extract_attention(row, stats);
    const auto t = kernel_time(stats, "attention_ws");
    if (!t) return std::nullopt;
    const std::string causal = row.param_or("causal", "false");
    const double s = row.param_number("seqlen");
    double flops = 4.0 * row.param_number("batch") * row.param_number("heads") * s * s * row.param_number("headdim");
    if (causal == "true" || causal == "1") flops /= 2;
    return rate_in_unit(flops / *t, row.unit, clock_hz(stats, "core"), sm_count(stats));
  }
  std::string what_is_extracted(const ReferenceRow&) const override {
    return "4*B*H*S^2*D (halved when causal) / kernel scope 'attention_ws'";
  }
};

// ---- softmax -------------------------------------------------------------------------------------------

class SoftmaxMapper final : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    MapResult base = gpu_case(row, "softmax");
    if (auto* why = std::get_if<std::string>(&base)) return *why;
    SimCase c = std::get<SimCase>(base);
    set(c, "rows", row.param("rows"));
    set(c, "cols", row.param("cols"));
    set(c, "dtype", row.param_or("dtype", "bf16"));
    // One kernel for every shape: a row is read once into registers, as quack does. One row per cluster;
    // the cluster's size is the smallest power of two whose programs each hold at most half the SM's
    // register file of the row in f32: 32K columns per program on a 256 KiB register file, so the 131072-column
    // f32 row of quack's benchmark gets a cluster of 4, the size its blog reports for that shape.
    const double cols = row.param_number("cols");
    const double slice_budget = preset_number(row, "core.sm.registers") * 4 / 2;
    int cluster = 1;
    while (cluster < 16 && cols * 4 / cluster > slice_budget) cluster *= 2;
    if (cols * 4 / cluster > slice_budget)
      return cat("a row of ", cols, " columns does not fit on a cluster of 16 SMs");
    if (cluster > 1 && core_layer(row.preset) != "sm90_core")
      return cat("a row of ", cols, " columns needs a cluster of ", cluster,
                 " SMs; thread-block clusters exist from sm_90 on");
    set(c, "BLOCK_R", "1");
    set(c, "CLUSTER", std::to_string(cluster));
    return c;
  }
  std::optional<double> extract(const ReferenceRow& row, const nlohmann::json& stats) const override {
    const auto t = kernel_time(stats, "softmax");
    if (!t) return std::nullopt;
    const std::string d = row.param_or("dtype", "bf16");
    const double bytes_per = d == "f32" ? 4 : 2;
    const double bytes = 2.0 * row.param_number("rows") * row.param_number("cols") * bytes_per;  // read + write
    return rate_in_unit(bytes / *t, row.unit, clock_hz(stats, "core"), sm_count(stats));
  }
  std::string what_is_extracted(const ReferenceRow&) const override {
    return "model bytes (read once + write once) / kernel scope 'softmax'";
  }
};

// ---- launch --------------------------------------------------------------------------------------------

class LaunchMapper final : public CaseMapper {
 public:
  MapResult map(const ReferenceRow& row) const override {
    MapResult base = gpu_case(row, "launch");
    if (auto* why = std::get_if<std::string>(&base)) return *why;
    return std::string("host-side kernel launch overhead is not modelled (core.dispatch.launch_latency is a setting, not a model)");
  }
  std::optional<double> extract(const ReferenceRow&, const nlohmann::json&) const override { return std::nullopt; }
};

const RegisterCaseMapper<MmaMapper> kMma("mma", "gpu system: tensor-instruction latency/throughput microbenchmark");
const RegisterCaseMapper<AluMapper> kAlu("alu", "gpu system: dependent FMA latency microbenchmark");
const RegisterCaseMapper<GemmMapper> kGemm("gemm", "gpu system: warp-specialised GEMM (128x256 tiles, 4 stages)");
const RegisterCaseMapper<GroupedGemmMapper> kGroupedGemm(
    "grouped_gemm", "gpu system: DeepGEMM's m-grouped FP8 GEMM (block-scaled kernel, one weight per group)");
const RegisterCaseMapper<AttentionMapper> kAttention("attention_fwd", "gpu system: warp-specialised flash-attention forward (attention_ws)");
const RegisterCaseMapper<SoftmaxMapper> kSoftmax("softmax", "gpu system: row softmax");
const RegisterCaseMapper<LaunchMapper> kLaunch("launch", "gpu system: empty-kernel launch latency");

}  // namespace
}  // namespace tilesim::validation

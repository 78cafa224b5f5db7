// The GEMM family: gemm, gemm_splitk, gemm_ws (warp-specialised), gemm_epilogue (bias + activation),
// gemm_fp8_scaled (DeepGEMM's block-scaled FP8 GEMM with promotion of each K block's partial sum).
//
// Reference numerics (bit-for-bit with the kernels): products of the inputs are exact; per output
// element the accumulator starts at 0 and takes the products in ascending k, which is the order of the
// tiled kernels too (K tiles ascending, and mma is k-ascending inside a tile; out-of-bounds K elements
// read as 0 and add nothing). An f32 accumulator rounds each sum to f32 (RNE): the double sum of an f32
// and a product of <= 22 significant bits is exact unless their exponents are far apart, and then the
// sum is not near an f32 rounding boundary, so rounding it once more gives the correctly rounded result.
// An f16 accumulator rounds to f16 likewise; i32 sums exactly and wraps. With acc_mantissa_bits < 23 the
// narrowed model of isa::MmaOptions applies: exact sums of acc_block_k consecutive products (blocks
// aligned to the K tiles, so BLOCK_K must be a multiple of acc_block_k), each added to the accumulator
// and truncated to acc_mantissa_bits. The output is the accumulator rounded to dtype_out.
// gemm_splitk: each split accumulates its K range from 0 as above; the partial sums are added into C (f32,
// initially 0) in split order, which is the interpreter's program order (split is grid axis 2).
// gemm_fp8_scaled: B is [N, K]; per 128-wide K block the partial sum is accumulated from 0 as above, then
// acc = fma(partial, f32(sa * sb), acc) rounded once to f32.
#include <cmath>
#include <limits>

#include "sim/error.hpp"
#include "workloads/support.hpp"

namespace tilesim::workloads {

namespace {

using namespace isa;

enum class GemmVariant { plain, splitk, ws, epilogue, scaled };

constexpr int64_t kScaleBlock = 128;  // gemm_fp8_scaled: K (and B's N) elements sharing one scale

struct GemmConfig {
  int64_t m = 0, n = 0, k = 0;
  int64_t bm = 0, bn = 0, bk = 0;
  int64_t split_k = 1;
  int64_t cluster_m = 1;  // gemm_ws: programs per cluster along M (B multicast)
  int64_t cluster_n = 1;  // gemm_ws: programs per cluster along N (A multicast)
  int64_t consumers = 2;  // consumer instances (math warp groups) sharing a tile's rows
  int64_t groups = 1;     // gemm_fp8_scaled: weight matrices B, one per group of M / groups rows
  DType in = DType::bf16, acc = DType::f32, out = DType::bf16;
  MmaOptions mma;

  /// gemm_fp8_scaled's grouped layout: B rows per group (N padded to whole BN tiles when grouped), scale
  /// blocks of B per group, M tiles per group (every M tile with one group).
  int64_t n_tiles() const { return (n + bn - 1) / bn; }
  int64_t b_rows_per_group() const { return groups == 1 ? n : n_tiles() * bn; }
  int64_t b_scale_rows_per_group() const { return (b_rows_per_group() + 127) / 128; }
  int64_t m_tiles_per_group() const { return groups == 1 ? (m + bm - 1) / bm : m / groups / bm; }
  int64_t group_of_row(int64_t i) const { return i / (m / groups); }
};

/// The accumulator of one output element over k in [k0, k1), starting from 0.
double accumulate(const GemmConfig& c, const TileValue& a, const TileValue& b, int64_t i, int64_t j, int64_t k0,
                  int64_t k1) {
  const double* av = a.values().data() + i * c.k;
  const double* bv = b.values().data() + j;
  const int64_t n = c.n;
  return reference_accumulate(c.acc, c.mma, 0.0, [&](int64_t k) { return av[k] * bv[k * n]; }, k0, k1);
}

/// gemm_fp8_scaled's output element (i, j) before the output rounding: B is [N, K]; each K block's partial
/// sum from 0, promoted as acc = fma(partial, f32(sa * sb), acc), rounded once to f32.
double scaled_accumulate(const GemmConfig& c, const TileValue& a, const TileValue& b, const TileValue& sa,
                         const TileValue& sb, int64_t i, int64_t j) {
  const int64_t g = c.group_of_row(i);
  const double* av = a.values().data() + i * c.k;
  const double* bv = b.values().data() + (g * c.b_rows_per_group() + j) * c.k;
  const int64_t kb = (c.k + kScaleBlock - 1) / kScaleBlock;
  const int64_t sb_row = g * c.b_scale_rows_per_group() + j / kScaleBlock;
  double acc = 0.0;
  for (int64_t blk = 0; blk < kb; ++blk) {
    const int64_t k0 = blk * kScaleBlock, k1 = std::min(c.k, k0 + kScaleBlock);
    const double partial = reference_accumulate(c.acc, c.mma, 0.0, [&](int64_t k) { return av[k] * bv[k]; }, k0, k1);
    const double scale = round_to(DType::f32, sa.at(blk * c.m + i) * sb.at(sb_row * kb + blk));
    acc = round_to(DType::f32, add_round_to_odd(partial * scale, acc));
  }
  return acc;
}

double activation(const std::string& name, double x) {
  constexpr double kSqrt2OverPi = 0.79788456080286535588;
  if (name == "relu") return x > 0.0 ? x : 0.0;
  if (name == "gelu") return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  if (name == "gelu_tanh") return 0.5 * x * (1.0 + std::tanh(kSqrt2OverPi * (x + 0.044715 * x * x * x)));
  if (name == "silu") return x / (1.0 + std::exp(-x));
  if (name == "sigmoid") return 1.0 / (1.0 + std::exp(-x));
  if (name == "tanh") return std::tanh(x);
  panic("unknown activation ", name);
}

class GemmWorkload final : public Workload {
 public:
  explicit GemmWorkload(GemmVariant v) : v_(v) {}

  std::string name() const override {
    switch (v_) {
      case GemmVariant::plain: return "gemm";
      case GemmVariant::splitk: return "gemm_splitk";
      case GemmVariant::ws: return "gemm_ws";
      case GemmVariant::epilogue: return "gemm_epilogue";
      case GemmVariant::scaled: return "gemm_fp8_scaled";
    }
    return "";
  }

  std::string description() const override {
    switch (v_) {
      case GemmVariant::plain: return "C = A.B, tiled, with pipelined bulk copies (one kernel for every shape)";
      case GemmVariant::splitk: return "C += A.B with the K loop split over programs, combined with atomic_add";
      case GemmVariant::ws: return "warp-specialised GEMM: a producer role feeds two consumer instances through channels";
      case GemmVariant::epilogue: return "C = act(A.B + bias) with the epilogue fused";
      case GemmVariant::scaled:
        return "block-scaled FP8 GEMM (DeepGEMM): C = (A*SA).(B*SB)^T, per-K-block partials promoted on the CUDA cores";
    }
    return "";
  }

  std::string template_file() const override { return name() + ".tile"; }

  std::vector<ParamSpec> params() const override {
    const bool splitk = v_ == GemmVariant::splitk;
    const bool scaled = v_ == GemmVariant::scaled;
    std::vector<ParamSpec> p = {
        {"M", "4096", "96", "rows of A and C", {}},
        {"N", "4096", "80", "columns of B and C", {}},
        {"K", "4096", "100", "columns of A, rows of B", {}},
        {"dtype_in", scaled ? "f8e4m3" : "bf16", "", "dtype of A and B",
         scaled ? std::vector<std::string>{"f8e4m3", "f8e5m2"}
                : std::vector<std::string>{"bf16", "f16", "tf32", "f8e4m3", "f8e5m2", "f4e2m1", "i8"}},
        {"dtype_acc", "f32", "", "accumulator dtype",
         v_ == GemmVariant::plain || v_ == GemmVariant::ws ? std::vector<std::string>{"f32", "f16", "i32"}
                                                          : std::vector<std::string>{"f32"}},
        {"dtype_out", splitk ? "f32" : "bf16", "", "dtype of C",
         splitk   ? std::vector<std::string>{"f32"}
         : scaled ? std::vector<std::string>{"bf16", "f16", "f32"}
                  : std::vector<std::string>{"f32", "bf16", "f16", "f8e4m3", "f8e5m2", "i32"}},
        {"BLOCK_M", "128", "64", "rows of the output tile of one program", {}},
        {"BLOCK_N", "128", "64", "columns of the output tile of one program", {}},
        {"BLOCK_K", scaled ? "128" : "64", scaled ? "128" : "32",
         scaled ? "K extent of one A/B tile: the scale block, 128" : "K extent of one A/B tile", {}},
        {"stages", warp_specialised() ? "4" : "3", "2",
         warp_specialised() ? "stages of the producer/consumer channels" : "pipelining hint of the K loop", {}},
        {"inputs", "random", "", "input values: random (uniform) or zero", {"random", "zero"}},
        label_param("impl", "cutlass", "the implementation a measurement used"),
        label_param("sms", "0", "SMs used when not all (0: all)"),
        label_param("cores", "0", "TPU TensorCores used (0: all)"),
        seed_param(),
    };
    for (ParamSpec& s : mma_model_params()) p.push_back(s);
    if (splitk) p.push_back({"split_k", "4", "3", "programs sharing one output tile's K loop", {}});
    if (warp_specialised()) {
      p.push_back({"cluster_m", "1", "2", "programs per cluster along M, sharing each B tile (TMA multicast)", {}});
      p.push_back({"cluster_n", "1", "1", "programs per cluster along N, sharing each A tile (TMA multicast)", {}});
    }
    if (scaled) {
      p.push_back({"consumers", "2", "2",
                   "math warp groups (consumer instances) splitting a tile's rows: DeepGEMM takes 1 for BLOCK_M 64",
                   {"1", "2"}});
      p.push_back({"groups", "1", "1",
                   "weight matrices B, one per group of M / groups consecutive rows of A (DeepGEMM's m-grouped "
                   "contiguous layout: MoE experts); each group's rows a multiple of BLOCK_M",
                   {}});
    }
    if (v_ == GemmVariant::epilogue)
      p.push_back({"activation", "gelu", "", "activation after the bias add",
                   {"relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"}});
    return p;
  }

  GemmConfig config(const ParamSet& p) const {
    GemmConfig c;
    c.m = int_in(p, "M", 1, kMaxI32);
    c.n = int_in(p, "N", 1, kMaxI32);
    c.k = int_in(p, "K", 1, kMaxI32);
    c.bm = int_in(p, "BLOCK_M", 1, 4096);
    c.bn = int_in(p, "BLOCK_N", 1, 4096);
    c.bk = int_in(p, "BLOCK_K", 1, 4096);
    if (v_ == GemmVariant::splitk) c.split_k = int_in(p, "split_k", 1, 4096);
    c.in = p.dtype("dtype_in");
    c.acc = p.dtype("dtype_acc");
    c.out = p.dtype("dtype_out");
    c.mma = mma_options(p);
    check_mma_dtypes(p, "dtype_in", "dtype_acc");
    if (c.acc == DType::f32 && c.mma.acc_mantissa_bits < 23 && c.bk % c.mma.acc_block_k != 0)
      config_fail(p, "the narrowed accumulator needs BLOCK_K (" + std::to_string(c.bk) +
                         ") to be a multiple of acc_block_k (" + std::to_string(c.mma.acc_block_k) +
                         ") so its blocks line up with the K tiles");
    if (v_ == GemmVariant::scaled) {
      c.consumers = int_in(p, "consumers", 1, 2);
      c.groups = int_in(p, "groups", 1, 65536);
      if (c.groups > 1 && (c.m % c.groups != 0 || (c.m / c.groups) % c.bm != 0))
        config_fail(p, "groups (" + std::to_string(c.groups) + "): each group's rows, M / groups = " +
                           std::to_string(c.m) + " / " + std::to_string(c.groups) +
                           ", must be a whole multiple of BLOCK_M (" + std::to_string(c.bm) +
                           "), as DeepGEMM's contiguous layout aligns them");
    }
    if (warp_specialised() && c.bm % c.consumers != 0)
      config_fail(p, "BLOCK_M (" + std::to_string(c.bm) + ") must be a multiple of the " + std::to_string(c.consumers) +
                         " consumers: each takes an equal share of the rows");
    int_in(p, "stages", 1, 64);
    if (v_ == GemmVariant::scaled) {
      if (c.bk != kScaleBlock)
        config_fail(p, "BLOCK_K (" + std::to_string(c.bk) + ") must be the scale block, " +
                           std::to_string(kScaleBlock) + ": each K tile is promoted with one scale per row");
      if (c.bn > kScaleBlock || c.bn % 8 != 0)
        config_fail(p, "BLOCK_N (" + std::to_string(c.bn) + ") must be a multiple of 8 up to " +
                           std::to_string(kScaleBlock) + " so that a tile's columns span at most two scale "
                           "blocks of B (DeepGEMM's tile widths)");
    }
    if (warp_specialised()) {
      c.cluster_m = int_in(p, "cluster_m", 1, 16);
      c.cluster_n = int_in(p, "cluster_n", 1, 16);
      const std::int64_t tiles_m = (c.m + c.bm - 1) / c.bm, tiles_n = (c.n + c.bn - 1) / c.bn;
      if (tiles_m % c.cluster_m != 0)
        config_fail(p, "cluster_m (" + std::to_string(c.cluster_m) + ") must divide the " + std::to_string(tiles_m) +
                           " output-tile rows (M / BLOCK_M rounded up)");
      if (tiles_n % c.cluster_n != 0)
        config_fail(p, "cluster_n (" + std::to_string(c.cluster_n) + ") must divide the " + std::to_string(tiles_n) +
                           " output-tile columns (N / BLOCK_N rounded up)");
      if (c.groups > 1 && c.cluster_m > 1)
        config_fail(p, "cluster_m (" + std::to_string(c.cluster_m) + ") must be 1 with groups: programs stacked "
                           "along M may belong to different groups and cannot share B tiles");
    }
    return c;
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const GemmConfig c = config(p);
    TemplateArgs args;
    args.kernel = name();
    args.bake = {{"BM", c.bm}, {"BN", c.bn}, {"BK", c.bk}};
    if (warp_specialised()) {
      args.bake["CM"] = c.cluster_m;
      args.bake["CN"] = c.cluster_n;
    }
    if (v_ == GemmVariant::scaled) {
      args.bake["WG"] = c.consumers;
      args.role_counts["consumer"] = c.consumers;
    }
    switch (v_) {
      case GemmVariant::plain:
      case GemmVariant::ws: args.dtypes = {{DType::bf16, c.in}, {DType::f32, c.acc}, {DType::f16, c.out}}; break;
      case GemmVariant::splitk: args.dtypes = {{DType::bf16, c.in}}; break;
      case GemmVariant::epilogue:
      case GemmVariant::scaled: args.dtypes = {{DType::bf16, c.in}, {DType::f16, c.out}}; break;
    }
    if (warp_specialised()) args.channel_stages = p.integer("stages");
    else args.loop_stages = p.integer("stages");
    if (v_ == GemmVariant::epilogue) {
      const std::string act = p.text("activation");
      OpReplacement r{OpId::relu, {}};
      if (act == "gelu") r = {OpId::gelu, {{"approx", Attr::word_of("erf")}}};
      if (act == "gelu_tanh") r = {OpId::gelu, {{"approx", Attr::word_of("tanh")}}};
      if (act == "silu") r.opcode = OpId::silu;
      if (act == "sigmoid") r.opcode = OpId::sigmoid;
      if (act == "tanh") r.opcode = OpId::tanh;
      args.replace["y"] = r;
    }
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"M", c.m}, {"N", c.n}, {"K", c.k}, {"BM", c.bm}, {"BN", c.bn}, {"BK", c.bk}};
    if (v_ == GemmVariant::splitk) b.scalars["SPLIT_K"] = c.split_k;
    if (warp_specialised()) {
      b.scalars["CM"] = c.cluster_m;
      b.scalars["CN"] = c.cluster_n;
    }
    if (v_ == GemmVariant::scaled) {
      b.scalars["KB"] = (c.k + kScaleBlock - 1) / kScaleBlock;
      b.scalars["NB"] = (c.n + kScaleBlock - 1) / kScaleBlock;
      b.scalars["WG"] = c.consumers;
      b.scalars["BR"] = c.groups * c.b_rows_per_group();
      b.scalars["SR"] = c.groups * c.b_scale_rows_per_group();
      b.scalars["MPG"] = c.m_tiles_per_group();
      b.scalars["NTG"] = c.n_tiles();
      b.scalars["NBG"] = c.b_scale_rows_per_group();
    }
    b.interpreter.mma = c.mma;
    // gemm_ws: the second consumer's half of a bottom edge tile can lie wholly below M (its store then
    // writes nothing, per the out-of-bounds rule), so whole-tile-outside accesses are legitimate here.
    if (warp_specialised()) b.interpreter.check_bounds = false;
    b.shape = "M=" + std::to_string(c.m) + " N=" + std::to_string(c.n) + " K=" + std::to_string(c.k) + " " +
              dtype_name(c.in) + "->" + dtype_name(c.acc) + "->" + dtype_name(c.out) + ", tiles " +
              std::to_string(c.bm) + "x" + std::to_string(c.bn) + "x" + std::to_string(c.bk) +
              (v_ == GemmVariant::splitk ? ", split_k " + std::to_string(c.split_k) : "") +
              (c.groups > 1 ? ", " + std::to_string(c.groups) + " groups" : "") +
              (c.cluster_m * c.cluster_n > 1
                   ? ", clusters of " + std::to_string(c.cluster_m) + "x" + std::to_string(c.cluster_n) + " (multicast)"
                   : "");
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    const GemmConfig c = config(b.params);
    Buffers buf = b.allocate();
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    if (b.params.text("inputs") == "random") {
      // |values| <= 1 for 16-bit and tf32 inputs; +-2 for f8/f4 (so their coarse grids are used); small
      // integers for i8, keeping i32 sums far from overflow.
      const double range = c.in == DType::i8 ? 8.0 : (bits(c.in) <= 8 ? 2.0 : 1.0);
      buf.tensors.at("A") = random_tensor(c.in, {c.m, c.k}, rng, -range, range);
      buf.tensors.at("B") = random_tensor(
          c.in, v_ == GemmVariant::scaled ? Shape{c.groups * c.b_rows_per_group(), c.k} : Shape{c.k, c.n}, rng,
          -range, range);
    }
    if (v_ == GemmVariant::scaled) {
      // Scales as a quantiser makes them: positive, within a few binades of 1.
      const int64_t kb = (c.k + kScaleBlock - 1) / kScaleBlock;
      buf.tensors.at("SA") = random_tensor(DType::f32, {kb, c.m}, rng, 0.125, 4.0);
      buf.tensors.at("SB") = random_tensor(DType::f32, {c.groups * c.b_scale_rows_per_group(), kb}, rng, 0.125, 4.0);
    }
    if (v_ == GemmVariant::epilogue) buf.tensors.at("Bias") = random_tensor(DType::f32, {c.n}, rng, -1.0, 1.0);
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary& run,
                   double tolerance_scale) const override {
    const GemmConfig c = config(b.params);
    const TileValue& a = inputs.tensor("A");
    const TileValue& bb = inputs.tensor("B");
    const DType out_dtype = v_ == GemmVariant::splitk ? DType::f32 : c.out;
    TileValue want(out_dtype, {c.m, c.n});
    const int64_t k_tiles = (c.k + c.bk - 1) / c.bk;
    const int64_t per_split = (k_tiles + c.split_k - 1) / c.split_k;
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        double value = 0.0;
        if (v_ == GemmVariant::scaled) {
          value = scaled_accumulate(c, a, bb, inputs.tensor("SA"), inputs.tensor("SB"), i, j);
        } else if (v_ == GemmVariant::splitk) {
          for (int64_t s = 0; s < c.split_k; ++s) {
            const int64_t k0 = std::min(c.k, s * per_split * c.bk);
            const int64_t k1 = std::min(c.k, (s + 1) * per_split * c.bk);
            value = round_to(DType::f32, value + accumulate(c, a, bb, i, j, k0, k1));
          }
        } else {
          value = accumulate(c, a, bb, i, j, 0, c.k);
        }
        if (v_ == GemmVariant::epilogue) {
          const double x = round_to(DType::f32, value + inputs.tensor("Bias").at(j));
          value = round_to(DType::f32, activation(b.params.text("activation"), x));
        }
        want.set(i * c.n + j, round_to(out_dtype, value));
      }
    }
    Comparison cmp;
    const TileValue& got = results.tensor("C");
    if (v_ == GemmVariant::epilogue && b.params.text("activation") != "relu") {
      // The GEMM and the bias add are exact; the activation is a libm function rounded to f32 in both the
      // kernel and the reference, so one f32 ulp of difference (from a different formula or libm) can
      // move the result by at most one ulp of dtype_out.
      const auto ulps = static_cast<int64_t>(std::lround(tolerance_scale * 1.0));
      cmp.add(compare_ulps("C", got, want, ulps, "activation is a transcendental function (libm), rounded once"));
    } else {
      cmp.add(compare_exact("C", got, want));
    }
    const int64_t programs = ((c.m + c.bm - 1) / c.bm) * ((c.n + c.bn - 1) / c.bn) * c.split_k;
    cmp.note(run.programs == programs, "ran " + std::to_string(run.programs) + " programs (grid " +
                                           std::to_string(programs) + ")");
    return cmp;
  }

 private:
  /// gemm_ws and gemm_fp8_scaled: producer and consumer roles, channel stages, clusters.
  bool warp_specialised() const { return v_ == GemmVariant::ws || v_ == GemmVariant::scaled; }

  GemmVariant v_;
};

}  // namespace

std::vector<std::unique_ptr<Workload>> make_gemm_workloads() {
  std::vector<std::unique_ptr<Workload>> v;
  for (GemmVariant g : {GemmVariant::plain, GemmVariant::splitk, GemmVariant::ws, GemmVariant::epilogue,
                        GemmVariant::scaled})
    v.push_back(std::make_unique<GemmWorkload>(g));
  return v;
}

}  // namespace tilesim::workloads

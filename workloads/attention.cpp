// The attention family: attention_fwd (FlashAttention-2 style: one instruction stream per program) and
// attention_ws (FlashAttention-3 style: a producer role streams K and V through channels to two consumer
// warp groups), forward pass with the online softmax, causal or not, head dims 64/128/256.
//
// The reference is exact-softmax attention in double precision on the same (dtype-rounded) inputs and
// the same f32 scale: O[r] = sum_c p[r][c] V[c] / sum_c p[r][c], p = exp(scale * Q[r].K[c] - max) over the
// visible columns c (c < seqlen, and c <= r when causal). The kernel differs from it by rounding, so the
// comparison has a stated tolerance (see check()).
#include <cmath>

#include "workloads/support.hpp"

namespace tilesim::workloads {

namespace {

using namespace isa;

enum class AttentionVariant { fwd, ws };

struct AttentionConfig {
  int64_t batch = 1, heads = 1, seqlen = 1, headdim = 64, bm = 64, bn = 64;
  int64_t programs = 0;  // attention_ws: persistent programs striding over the tiles; 0: one per tile
  int64_t tiles() const { return (seqlen + bm - 1) / bm * heads * batch; }
  int64_t grid() const { return programs > 0 ? std::min(programs, tiles()) : tiles(); }
  bool causal = false;
  DType dtype = DType::bf16;
};

class AttentionWorkload final : public Workload {
 public:
  explicit AttentionWorkload(AttentionVariant v) : v_(v) {}
  std::string name() const override { return v_ == AttentionVariant::ws ? "attention_ws" : "attention_fwd"; }
  std::string description() const override {
    return v_ == AttentionVariant::ws
               ? "warp-specialised FlashAttention forward: a producer role streams K/V blocks through channels "
                 "to two consumer warp groups, each running the online softmax on half the query rows"
               : "FlashAttention forward: online softmax over key/value blocks, causal or not";
  }
  std::string template_file() const override { return name() + ".tile"; }

  std::vector<ParamSpec> params() const override {
    std::vector<ParamSpec> p = {
        {"batch", "4", "1", "batch size", {}},
        {"heads", "16", "2", "attention heads", {}},
        {"seqlen", "4096", "100", "sequence length (queries = keys)", {}},
        {"headdim", "128", "64", "head dimension", {"64", "128", "256"}},
        {"causal", "0", "", "mask keys after each query (1) or not (0)", {"0", "1", "true", "false"}},
        {"dtype", "bf16", "", "dtype of Q, K, V, O", {"bf16", "f16"}},
        {"BLOCK_M", "128", "64", "query rows per program", {}},
        {"BLOCK_N", "64", "32", "key/value rows per loop iteration", {}},
        label_param("impl", v_ == AttentionVariant::ws ? "fa3" : "fa2", "the implementation a measurement used"),
        seed_param(),
    };
    // attention_ws: its K/V channels have 2 stages and its Q channel 1, written in the template (as
    // FlashAttention-3's forward kernel uses), since one `stages` knob would resize every channel.
    if (v_ == AttentionVariant::fwd) p.push_back({"stages", "2", "", "pipelining hint of the key/value loop", {}});
    if (v_ == AttentionVariant::ws)
      p.push_back({"programs", "0", "0",
                   "persistent programs, each looping over every programs-th tile (FlashAttention-3 launches one "
                   "per SM); 0: one program per tile",
                   {}});
    for (ParamSpec& s : mma_model_params()) p.push_back(s);
    return p;
  }

  AttentionConfig config(const ParamSet& p) const {
    AttentionConfig c;
    c.batch = int_in(p, "batch", 1, 1 << 20);
    c.heads = int_in(p, "heads", 1, 1 << 20);
    c.seqlen = int_in(p, "seqlen", 1, kMaxI32);
    c.headdim = p.integer("headdim");
    c.bm = int_in(p, "BLOCK_M", 1, 1024);
    c.bn = int_in(p, "BLOCK_N", 1, 1024);
    c.causal = p.flag("causal");
    c.dtype = p.dtype("dtype");
    if (v_ == AttentionVariant::fwd) int_in(p, "stages", 1, 64);
    if (v_ == AttentionVariant::ws) c.programs = int_in(p, "programs", 0, 1 << 20);
    if (v_ == AttentionVariant::ws && c.bm % 2 != 0)
      config_fail(p, "BLOCK_M (" + std::to_string(c.bm) + ") must be even: two consumers take half the rows each");
    return c;
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const AttentionConfig c = config(p);
    TemplateArgs args;
    args.kernel = name();
    args.dtypes = {{DType::bf16, c.dtype}};
    args.bake = {{"BM", c.bm}, {"BN", c.bn}, {"D", c.headdim}};
    if (v_ == AttentionVariant::fwd) args.loop_stages = p.integer("stages");
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"B", c.batch}, {"H", c.heads}, {"S", c.seqlen}, {"D", c.headdim},
                 {"BM", c.bm},   {"BN", c.bn},   {"causal", c.causal ? 1 : 0}};
    if (v_ == AttentionVariant::ws) b.scalars["NP"] = c.grid();
    if (v_ == AttentionVariant::ws)  // the scale folded into exp2, as FlashAttention-3 does
      b.float_scalars["scale_log2"] = round_to(DType::f32, softmax_scale(c) * 1.4426950408889634);  // log2(e)
    else
      b.float_scalars["scale"] = softmax_scale(c);
    b.interpreter.mma = mma_options(p);
    // attention_ws: the second consumer's half of the last query block can lie wholly past the sequence
    // end (its store then writes nothing, per the out-of-bounds rule), so such accesses are legitimate.
    if (v_ == AttentionVariant::ws) b.interpreter.check_bounds = false;
    b.shape = "batch=" + std::to_string(c.batch) + " heads=" + std::to_string(c.heads) + " seqlen=" +
              std::to_string(c.seqlen) + " headdim=" + std::to_string(c.headdim) + (c.causal ? " causal" : "") + " " +
              dtype_name(c.dtype) + ", tiles " + std::to_string(c.bm) + "x" + std::to_string(c.bn);
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    const AttentionConfig c = config(b.params);
    Buffers buf = b.allocate();
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    const Shape shape{c.batch, c.heads, c.seqlen, c.headdim};
    for (const char* t : {"Q", "K", "V"}) buf.tensors.at(t) = random_tensor(c.dtype, shape, rng, -1.0, 1.0);
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary& run,
                   double tolerance_scale) const override {
    const AttentionConfig c = config(b.params);
    const double scale = softmax_scale(c);
    const TileValue& q = inputs.tensor("Q");
    const TileValue& k = inputs.tensor("K");
    const TileValue& v = inputs.tensor("V");
    const int64_t s = c.seqlen, d = c.headdim;
    std::vector<double> ref(static_cast<size_t>(c.batch * c.heads * s * d));
    std::vector<double> logits(static_cast<size_t>(s));
    double max_abs_v = 0;
    for (double x : v.values()) max_abs_v = std::max(max_abs_v, std::fabs(x));
    for (int64_t bh = 0; bh < c.batch * c.heads; ++bh) {
      const double* qb = q.values().data() + bh * s * d;
      const double* kb = k.values().data() + bh * s * d;
      const double* vb = v.values().data() + bh * s * d;
      for (int64_t r = 0; r < s; ++r) {
        const int64_t visible = c.causal ? r + 1 : s;
        double row_max = -INFINITY;
        for (int64_t col = 0; col < visible; ++col) {
          double dot = 0;
          for (int64_t e = 0; e < d; ++e) dot += qb[r * d + e] * kb[col * d + e];
          logits[static_cast<size_t>(col)] = dot * scale;
          row_max = std::max(row_max, logits[static_cast<size_t>(col)]);
        }
        double denom = 0;
        for (int64_t col = 0; col < visible; ++col) {
          logits[static_cast<size_t>(col)] = std::exp(logits[static_cast<size_t>(col)] - row_max);
          denom += logits[static_cast<size_t>(col)];
        }
        for (int64_t e = 0; e < d; ++e) {
          double num = 0;
          for (int64_t col = 0; col < visible; ++col) num += logits[static_cast<size_t>(col)] * vb[col * d + e];
          ref[static_cast<size_t>((bh * s + r) * d + e)] = num / denom;
        }
      }
    }
    // Tolerance. The kernel rounds the probabilities to `dtype` before the P.V mma (relative error <= u,
    // the dtype's unit roundoff, on each weight), so |O - O_exact| <= u * max|V| from that alone; the f32
    // logits, exp and sums add errors of order headdim * 2^-24, far below u; the output is rounded to
    // `dtype` (<= u * |O|). Twice each term leaves room for the f32 effects without hiding a real
    // error: a wrong mask, scale or rescale moves outputs by O(max|V|), hundreds of u. attention_ws folds
    // the scale into exp2 (scale * log2(e) rounded to f32; s * scale_log2 - m * scale_log2 in one fma):
    // relative errors of order |s scale| 2^-24 on each weight, also << u.
    const double u = unit_roundoff(c.dtype);
    Tolerance tol{tolerance_scale * 2 * u * max_abs_v, tolerance_scale * 2 * u,
                  "P is rounded to " + std::string(dtype_name(c.dtype)) + " before P.V (<= u*max|V|, u = " +
                      std::to_string(u) + ") and O is rounded to it (<= u*|O|); f32 softmax errors are << u"};
    Comparison cmp;
    cmp.add(compare_close("O", results.tensor("O"), ref, tol));
    const int64_t programs = v_ == AttentionVariant::ws ? c.grid() : c.tiles();
    cmp.note(run.programs == programs, "ran " + std::to_string(run.programs) + " programs (grid " +
                                           std::to_string(programs) + ")");
    return cmp;
  }

 private:
  AttentionVariant v_;

  static double softmax_scale(const AttentionConfig& c) {
    return round_to(DType::f32, 1.0 / std::sqrt(static_cast<double>(c.headdim)));
  }
};

}  // namespace

std::vector<std::unique_ptr<Workload>> make_attention_workloads() {
  std::vector<std::unique_ptr<Workload>> v;
  v.push_back(std::make_unique<AttentionWorkload>(AttentionVariant::fwd));
  v.push_back(std::make_unique<AttentionWorkload>(AttentionVariant::ws));
  return v;
}

}  // namespace tilesim::workloads

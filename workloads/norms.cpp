// Row-wise normalisations: softmax, layernorm, rmsnorm. The kernels compute in f32 and round the output
// to `dtype`; the references compute in double on the same inputs, so the comparisons have stated
// tolerances (see tolerance()).
#include <cmath>

#include "workloads/support.hpp"

namespace tilesim::workloads {

namespace {

using namespace isa;

enum class NormKind { softmax, layernorm, rmsnorm };

class NormWorkload final : public Workload {
 public:
  explicit NormWorkload(NormKind kind) : kind_(kind) {}

  std::string name() const override {
    switch (kind_) {
      case NormKind::softmax: return "softmax";
      case NormKind::layernorm: return "layernorm";
      case NormKind::rmsnorm: return "rmsnorm";
    }
    return "";
  }
  std::string description() const override {
    switch (kind_) {
      case NormKind::softmax:
        return "row softmax of a rows x cols matrix, each row read once: a cluster of CLUSTER programs shares a "
               "row, each holding a slice, and combines row max and sum through distributed shared memory";
      case NormKind::layernorm: return "layer normalisation of each row, with f32 gamma and beta";
      case NormKind::rmsnorm: return "RMS normalisation of each row, with an f32 gamma";
    }
    return "";
  }
  std::string template_file() const override { return name() + ".tile"; }

  std::vector<ParamSpec> params() const override {
    std::vector<ParamSpec> p = {
        {"rows", "16384", "37", "rows of the matrix", {}},
        {"cols", "4096", "96",
         kind_ == NormKind::softmax ? "row length (a cluster's tiles hold a whole row)" : "row length (one tile holds a whole row)", {}},
        {"dtype", "bf16", "", "dtype of the input and the output", {"f32", "bf16", "f16"}},
        {"BLOCK_R", "4", "8", "rows per program", {}},
        seed_param(),
    };
    if (kind_ != NormKind::softmax) p.push_back({"eps", "1e-5", "", "added to the variance / mean square", {}});
    if (kind_ == NormKind::softmax)
      p.push_back({"CLUSTER", "1", "", "programs (one thread-block cluster) sharing each row, each holding cdiv(cols, CLUSTER) columns", {}});
    return p;
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const int64_t rows = int_in(p, "rows", 1, kMaxI32);
    const int64_t cols = int_in(p, "cols", 1, int64_t{1} << 24);
    const int64_t br = int_in(p, "BLOCK_R", 1, 4096);
    TemplateArgs args;
    args.kernel = name();
    args.dtypes = {{DType::bf16, p.dtype("dtype")}};
    args.bake = {{"C", cols}, {"BR", br}};
    const int64_t cluster = programs_per_row(p);
    if (kind_ == NormKind::softmax) {
      args.bake["CN"] = cluster;
      args.bake["W"] = (cols + cluster - 1) / cluster;
    }
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"R", rows}, {"C", cols}, {"BR", br}};
    if (kind_ == NormKind::softmax) {
      b.scalars["CN"] = cluster;
      b.scalars["W"] = (cols + cluster - 1) / cluster;
    }
    if (kind_ != NormKind::softmax) b.float_scalars["eps"] = p.number("eps");
    b.shape = "rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) + " " + p.text("dtype") +
              (cluster > 1 ? ", clusters of " + std::to_string(cluster) : "");
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    const int64_t rows = b.params.integer("rows"), cols = b.params.integer("cols");
    Buffers buf = b.allocate();
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    // softmax: logits in [-4, 4) (a spread of e^8 between the smallest and largest weights); norms: an
    // offset so the mean is not zero and x - mean matters.
    if (kind_ == NormKind::softmax)
      buf.tensors.at("X") = random_tensor(b.params.dtype("dtype"), {rows, cols}, rng, -4.0, 4.0);
    else
      buf.tensors.at("X") = random_tensor(b.params.dtype("dtype"), {rows, cols}, rng, -1.0, 3.0);
    if (kind_ != NormKind::softmax) buf.tensors.at("Gamma") = random_tensor(DType::f32, {cols}, rng, 0.5, 1.5);
    if (kind_ == NormKind::layernorm) buf.tensors.at("Beta") = random_tensor(DType::f32, {cols}, rng, -0.5, 0.5);
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary& run,
                   double tolerance_scale) const override {
    const int64_t rows = b.params.integer("rows"), cols = b.params.integer("cols");
    const TileValue& x = inputs.tensor("X");
    std::vector<double> ref(static_cast<size_t>(rows * cols));
    for (int64_t r = 0; r < rows; ++r) {
      const double* xr = x.values().data() + r * cols;
      double* yr = ref.data() + r * cols;
      if (kind_ == NormKind::softmax) {
        double m = -INFINITY, sum = 0;
        for (int64_t c = 0; c < cols; ++c) m = std::max(m, xr[c]);
        for (int64_t c = 0; c < cols; ++c) sum += std::exp(xr[c] - m);
        for (int64_t c = 0; c < cols; ++c) yr[c] = std::exp(xr[c] - m) / sum;
        continue;
      }
      const double eps = round_to(DType::f32, b.params.number("eps"));
      const TileValue& gamma = inputs.tensor("Gamma");
      double mean = 0;
      if (kind_ == NormKind::layernorm) {
        for (int64_t c = 0; c < cols; ++c) mean += xr[c];
        mean /= static_cast<double>(cols);
      }
      double ssq = 0;
      for (int64_t c = 0; c < cols; ++c) ssq += (xr[c] - mean) * (xr[c] - mean);
      const double rstd = 1.0 / std::sqrt(ssq / static_cast<double>(cols) + eps);
      for (int64_t c = 0; c < cols; ++c) {
        yr[c] = (xr[c] - mean) * rstd * gamma.at(c);
        if (kind_ == NormKind::layernorm) yr[c] += inputs.tensor("Beta").at(c);
      }
    }
    Comparison cmp;
    cmp.add(compare_close("Y", results.tensor("Y"), ref, tolerance(b.params, cols, tolerance_scale)));
    const int64_t programs =
        (rows + b.params.integer("BLOCK_R") - 1) / b.params.integer("BLOCK_R") * programs_per_row(b.params);
    cmp.note(run.programs == programs, "ran " + std::to_string(run.programs) + " programs (grid " +
                                           std::to_string(programs) + ")");
    return cmp;
  }

 private:
  /// softmax: the cluster size (programs per row); the other norms hold whole rows in one program.
  int64_t programs_per_row(const ParamSet& p) const {
    if (kind_ != NormKind::softmax) return 1;
    const int64_t cn = int_in(p, "CLUSTER", 1, 16);
    const int64_t cols = p.integer("cols"), slice = (cols + cn - 1) / cn;
    if ((cn - 1) * slice >= cols)
      config_fail(p, "CLUSTER (" + std::to_string(cn) + ") leaves the last program's slice of " + std::to_string(slice) +
                         " columns past the row end (cols = " + std::to_string(cols) + ")");
    return cn;
  }

  Tolerance tolerance(const ParamSet& p, int64_t cols, double scale) const {
    const double u_out = unit_roundoff(p.dtype("dtype"));
    const double u32 = unit_roundoff(DType::f32);
    const auto n = static_cast<double>(cols);
    if (kind_ == NormKind::softmax) {
      // Relative, per element: x - max is rounded to f32 (|x - max| <= 8, so exp's argument is off by
      // <= 8 u32 -> relative 8 u32), exp, 1/sum and the product round once each, the f32 row sum of `cols`
      // terms is off by <= cols * u32 relative; the output rounds to dtype (u_out). Doubled for margin.
      // Outputs below the dtype's normal range round to its subnormal grid: absolute error <= half its
      // spacing, min_subnormal / 2, whatever their size (atol).
      return {scale * min_subnormal(p.dtype("dtype")), scale * 2 * (u_out + (n + 16) * u32),
              "f32 row sum (<= cols*2^-24 relative), f32 exp/div, output rounded to " + p.text("dtype") +
                  " (relative u, or half a subnormal step)"};
    }
    // Absolute: the f32 mean and sum of squares of `cols` terms are off by <= cols * u32 relative, which
    // shifts x - mean and rstd by about (cols + 8) * u32 times |x| <= 3 scaled by rstd and |gamma| <= 1.5
    // (a few units): (cols + 32) * u32 * 8 bounds it. Relative: the output rounds to dtype (u_out),
    // doubled for the f32 products before it.
    return {scale * (n + 32) * u32 * 8, scale * 2 * u_out,
            "f32 sums over cols (<= cols*2^-24 relative) through x - mean and rsqrt; output rounded to " +
                p.text("dtype")};
  }

  NormKind kind_;
};

}  // namespace

std::vector<std::unique_ptr<Workload>> make_norm_workloads() {
  std::vector<std::unique_ptr<Workload>> v;
  for (NormKind k : {NormKind::softmax, NormKind::layernorm, NormKind::rmsnorm}) v.push_back(std::make_unique<NormWorkload>(k));
  return v;
}

}  // namespace tilesim::workloads

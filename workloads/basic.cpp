// elementwise, reduction, transpose: references that model the kernels' exact arithmetic, compared
// bit for bit.
#include <cmath>

#include "sim/error.hpp"
#include "workloads/support.hpp"

namespace tilesim::workloads {

namespace {

using namespace isa;

// ---- elementwise -----------------------------------------------------------------------------------------

class ElementwiseWorkload final : public Workload {
 public:
  std::string name() const override { return "elementwise"; }
  std::string description() const override { return "Z = X op Y element-wise over vectors (add, sub, mul, div, max, min)"; }
  std::string template_file() const override { return "elementwise.tile"; }
  std::vector<ParamSpec> params() const override {
    return {{"N", "16777216", "5000", "elements", {}},
            {"op", "add", "", "the operation", {"add", "sub", "mul", "div", "max", "min"}},
            {"dtype", "f32", "", "element dtype", {"f32", "bf16", "f16"}},
            {"BLOCK", "1024", "512", "elements per program", {}},
            seed_param()};
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const int64_t n = int_in(p, "N", 1, kMaxI32);
    const int64_t block = int_in(p, "BLOCK", 1, 1 << 20);
    TemplateArgs args;
    args.kernel = "elementwise";
    args.dtypes = {{DType::f32, p.dtype("dtype")}};
    args.bake = {{"BLOCK", block}};
    args.replace["z"] = {*find_opcode(p.text("op")), {}};
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"N", n}, {"BLOCK", block}};
    b.shape = "N=" + std::to_string(n) + " op=" + p.text("op") + " " + p.text("dtype");
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    Buffers buf = b.allocate();
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    const Shape shape{b.params.integer("N")};
    buf.tensors.at("X") = random_tensor(b.params.dtype("dtype"), shape, rng, -2.0, 2.0);
    // Y away from zero keeps div finite (a zero divisor would still compare equal: both give inf).
    TileValue y = random_tensor(b.params.dtype("dtype"), shape, rng, 0.25, 2.0);
    for (int64_t i = 0; i < y.size(); i += 2) y.set(i, -y.at(i));
    buf.tensors.at("Y") = y;
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary&,
                   double) const override {
    // Each element is the exact result rounded once to dtype (correctly rounded + - * /; max/min exact).
    const TileValue& x = inputs.tensor("X");
    const TileValue& y = inputs.tensor("Y");
    const std::string op = b.params.text("op");
    TileValue want(x.dtype(), x.shape());
    for (int64_t i = 0; i < x.size(); ++i) {
      const double a = x.at(i), c = y.at(i);
      double r = 0;
      if (op == "add") r = a + c;
      else if (op == "sub") r = a - c;
      else if (op == "mul") r = a * c;
      else if (op == "div") r = a / c;
      else if (op == "max") r = std::fmax(a, c);
      else r = std::fmin(a, c);
      want.set(i, r);
    }
    Comparison cmp;
    cmp.add(compare_exact("Z", results.tensor("Z"), want));
    return cmp;
  }
};

// ---- reduction ---------------------------------------------------------------------------------------------

class ReductionWorkload final : public Workload {
 public:
  std::string name() const override { return "reduction"; }
  std::string description() const override {
    return "sum/max/min of a rows x cols matrix along one axis, into f32, tile by tile";
  }
  std::string template_file() const override { return "reduction.tile"; }
  std::vector<ParamSpec> params() const override {
    return {{"rows", "8192", "70", "rows of the matrix", {}},
            {"cols", "8192", "300", "columns of the matrix", {}},
            {"op", "sum", "", "the reduction", {"sum", "max", "min"}},
            {"axis", "1", "", "1: one result per row; 0: one per column", {"0", "1"}},
            {"dtype", "bf16", "", "input dtype", {"f32", "bf16", "f16"}},
            {"BLOCK_R", "32", "16", "rows per tile", {}},
            {"BLOCK_C", "256", "128", "columns per tile", {}},
            seed_param()};
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const int64_t rows = int_in(p, "rows", 1, kMaxI32), cols = int_in(p, "cols", 1, kMaxI32);
    const int64_t br = int_in(p, "BLOCK_R", 1, 4096), bc = int_in(p, "BLOCK_C", 1, 1 << 16);
    const std::string op = p.text("op");
    TemplateArgs args;
    args.kernel = p.integer("axis") == 1 ? "reduce_rows" : "reduce_cols";
    args.dtypes = {{DType::bf16, p.dtype("dtype")}};
    args.bake = {{"BR", br}, {"BC", bc}};
    args.replace["part"] = {op == "sum" ? OpId::reduce_sum : op == "max" ? OpId::reduce_max : OpId::reduce_min, {}};
    args.replace["next"] = {op == "sum" ? OpId::add : op == "max" ? OpId::max : OpId::min, {}};
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"R", rows}, {"C", cols}, {"BR", br}, {"BC", bc}};
    b.float_scalars["ident"] = op == "sum" ? 0.0 : op == "max" ? -INFINITY : INFINITY;
    b.shape = "rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) + " " + op + " axis=" + p.text("axis") +
              " " + p.text("dtype");
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    Buffers buf = b.allocate();
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    // Negative values make max sensitive to masking (a padded 0 would win); positive ones min.
    buf.tensors.at("X") = random_tensor(b.params.dtype("dtype"), {b.params.integer("rows"), b.params.integer("cols")},
                                        rng, -3.0, 1.0);
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary&,
                   double) const override {
    // The kernel's order, modelled exactly: the running value starts at the identity; each tile's
    // elements along the axis (padded to the tile with the identity) are summed in f32 in index order
    // starting from the first, then added to the running value in f32. max/min are exact.
    const TileValue& x = inputs.tensor("X");
    const int64_t rows = b.params.integer("rows"), cols = b.params.integer("cols");
    const bool along_cols = b.params.integer("axis") == 1;  // reduce each row over its columns
    const int64_t outer = along_cols ? rows : cols, length = along_cols ? cols : rows;
    const int64_t tile = along_cols ? b.params.integer("BLOCK_C") : b.params.integer("BLOCK_R");
    const std::string op = b.params.text("op");
    const double ident = op == "sum" ? 0.0 : op == "max" ? -INFINITY : INFINITY;
    auto combine = [&](double a, double v) {
      if (op == "sum") return round_to(DType::f32, a + v);
      return op == "max" ? std::fmax(a, v) : std::fmin(a, v);
    };
    TileValue want(DType::f32, {outer});
    for (int64_t o = 0; o < outer; ++o) {
      double run = ident;
      for (int64_t t0 = 0; t0 < length; t0 += tile) {
        double part = 0;
        for (int64_t e = t0; e < t0 + tile; ++e) {
          const double v = e < length ? x.at(along_cols ? o * cols + e : e * cols + o) : ident;
          part = e == t0 ? v : combine(part, v);
        }
        run = combine(run, part);
      }
      want.set(o, run);
    }
    Comparison cmp;
    cmp.add(compare_exact("Y", results.tensor("Y"), want));
    return cmp;
  }
};

// ---- transpose -------------------------------------------------------------------------------------------

class TransposeWorkload final : public Workload {
 public:
  std::string name() const override { return "transpose"; }
  std::string description() const override { return "Y = X^T for a rows x cols matrix, one square tile per program"; }
  std::string template_file() const override { return "transpose.tile"; }
  std::vector<ParamSpec> params() const override {
    return {{"rows", "8192", "100", "rows of X", {}},
            {"cols", "8192", "70", "columns of X", {}},
            {"dtype", "f32", "", "element dtype", {"f32", "bf16", "f16", "f8e4m3", "i8", "i32"}},
            {"BLOCK", "64", "32", "tile edge", {}},
            seed_param()};
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const int64_t rows = int_in(p, "rows", 1, kMaxI32), cols = int_in(p, "cols", 1, kMaxI32);
    const int64_t bt = int_in(p, "BLOCK", 1, 4096);
    TemplateArgs args;
    args.kernel = "transpose";
    args.dtypes = {{DType::f32, p.dtype("dtype")}};
    args.bake = {{"BT", bt}};
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"R", rows}, {"C", cols}, {"BT", bt}};
    b.shape = "rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) + " " + p.text("dtype");
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    Buffers buf = b.allocate();
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    buf.tensors.at("X") =
        random_tensor(b.params.dtype("dtype"), {b.params.integer("rows"), b.params.integer("cols")}, rng, -100.0, 100.0);
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary&,
                   double) const override {
    const TileValue& x = inputs.tensor("X");
    const int64_t rows = x.dim(0), cols = x.dim(1);
    TileValue want(x.dtype(), {cols, rows});
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) want.set(c * rows + r, x.at(r * cols + c));
    Comparison cmp;
    cmp.add(compare_exact("Y", results.tensor("Y"), want));
    return cmp;
  }
};

}  // namespace

std::vector<std::unique_ptr<Workload>> make_basic_workloads() {
  std::vector<std::unique_ptr<Workload>> v;
  v.push_back(std::make_unique<ElementwiseWorkload>());
  v.push_back(std::make_unique<ReductionWorkload>());
  v.push_back(std::make_unique<TransposeWorkload>());
  return v;
}

}  // namespace tilesim::workloads

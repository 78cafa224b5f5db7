// Workload variants against their references and against each other: GEMM in every input dtype with
// f32 accumulation (bit-for-bit), the narrowed fp8 accumulator, split-K and warp-specialised GEMM vs
// plain GEMM, attention causal/non-causal at head dims 64/128/256, warp-specialised attention vs
// attention_fwd, softmax with clusters sharing rows, and the other workloads' options.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "workloads/workload.hpp"

using namespace tilesim;
using namespace tilesim::workloads;
using isa::TileValue;

namespace {

struct Outcome {
  WorkloadBuild build;
  isa::Buffers inputs;
  isa::Buffers results;
  isa::RunSummary run;
  Comparison comparison;
};

/// Build `name` at the functional shape with `params`, optionally edit the inputs, run, check.
Outcome run_workload(const std::string& name, const std::map<std::string, std::string>& params,
                     const std::function<void(isa::Buffers&)>& edit_inputs = {}) {
  const Workload& w = find_workload(name);
  Outcome o;
  o.build = w.build(resolve_params(w, params, Scale::functional), load_template(w));
  o.inputs = w.make_inputs(o.build);
  if (edit_inputs) edit_inputs(o.inputs);
  o.results = o.inputs;
  o.run = isa::run_kernel(o.build.kernel(), o.results, o.build.scalars, o.build.interpreter);
  o.comparison = w.check(o.build, o.inputs, o.results, o.run);
  return o;
}

/// a * b + c with two roundings, whatever the compiler's floating-point contraction.
double unfused(double a, double b, double c) {
  volatile double product = a * b;
  return product + c;
}

std::map<std::string, std::string> with(std::map<std::string, std::string> base,
                                        const std::map<std::string, std::string>& more) {
  for (const auto& [k, v] : more) base[k] = v;
  return base;
}

}  // namespace

TEST_CASE("workloads: GEMM with f32 accumulation is bit-exact in bf16, f16, f8e4m3 and f8e5m2", "[workloads][gemm]") {
  const std::string dtype = GENERATE(as<std::string>{}, "bf16", "f16", "f8e4m3", "f8e5m2");
  const auto shape = GENERATE(std::map<std::string, std::string>{{"M", "96"}, {"N", "80"}, {"K", "100"}},
                              std::map<std::string, std::string>{{"M", "128"}, {"N", "64"}, {"K", "64"}},
                              std::map<std::string, std::string>{{"M", "1"}, {"N", "3"}, {"K", "5"}});
  for (const char* out : {"f32", "bf16"}) {
    const Outcome o = run_workload("gemm", with(shape, {{"dtype_in", dtype}, {"dtype_out", out}}));
    INFO(dtype << " -> " << out << " " << o.build.shape << "\n" << o.comparison.report());
    CHECK(o.comparison.pass);
    CHECK(o.comparison.outputs.at(0).criterion == "bit-exact");
  }
}

TEST_CASE("workloads: GEMM with f16, i32 accumulators and tf32, f4e2m1 inputs is bit-exact", "[workloads][gemm]") {
  for (const auto& p : std::vector<std::map<std::string, std::string>>{
           {{"dtype_in", "f16"}, {"dtype_acc", "f16"}, {"dtype_out", "f16"}},
           {{"dtype_in", "f8e5m2"}, {"dtype_acc", "f16"}, {"dtype_out", "f32"}},
           {{"dtype_in", "i8"}, {"dtype_acc", "i32"}, {"dtype_out", "i32"}},
           {{"dtype_in", "tf32"}, {"dtype_out", "f32"}},
           {{"dtype_in", "f4e2m1"}, {"dtype_out", "f8e4m3"}}}) {
    const Outcome o = run_workload("gemm", p);
    INFO(o.build.shape << "\n" << o.comparison.report());
    CHECK(o.comparison.pass);
  }
}

TEST_CASE("workloads: the narrowed fp8 accumulator differs from full fp32 on a crafted case", "[workloads][gemm]") {
  // Every C element is 1 * 1 + 2^-9 * 2^-9 = 1 + 2^-18: exact in fp32, lost when the accumulator keeps
  // 13 mantissa bits. Both runs match their own reference model bit for bit.
  const auto craft = [](isa::Buffers& b) {
    TileValue& a = b.tensor("A");
    TileValue& bb = b.tensor("B");
    const int64_t m = a.dim(0), k = a.dim(1), n = bb.dim(1);
    a.fill(0.0);
    bb.fill(0.0);
    for (int64_t i = 0; i < m; ++i) {
      a.set(i * k + 0, 1.0);
      a.set(i * k + 40, 0x1.0p-9);
    }
    for (int64_t j = 0; j < n; ++j) {
      bb.set(0 * n + j, 1.0);
      bb.set(40 * n + j, 0x1.0p-9);
    }
  };
  const std::map<std::string, std::string> base{{"dtype_in", "f8e4m3"}, {"dtype_out", "f32"}, {"K", "64"}};
  const Outcome full = run_workload("gemm", base, craft);
  const Outcome narrow = run_workload("gemm", with(base, {{"acc_mantissa_bits", "13"}}), craft);
  INFO(full.comparison.report() << narrow.comparison.report());
  CHECK(full.comparison.pass);
  CHECK(narrow.comparison.pass);
  CHECK(full.results.tensor("C").at(0) == 1.0 + 0x1.0p-18);
  CHECK(narrow.results.tensor("C").at(0) == 1.0);
  CHECK(full.results.tensor("C") != narrow.results.tensor("C"));

  // On random fp8 inputs the narrowed model still matches its reference, and differs from fp32.
  const Outcome random_full = run_workload("gemm", with(base, {{"K", "256"}}));
  const Outcome random_narrow = run_workload("gemm", with(base, {{"K", "256"}, {"acc_mantissa_bits", "13"}}));
  CHECK(random_narrow.comparison.pass);
  CHECK(random_full.results.tensor("C") != random_narrow.results.tensor("C"));
}

TEST_CASE("workloads: warp-specialised GEMM equals plain GEMM bit for bit", "[workloads][gemm]") {
  for (const auto& p : std::vector<std::map<std::string, std::string>>{
           {{"dtype_out", "f32"}},
           {{"M", "128"}, {"N", "64"}, {"K", "96"}, {"stages", "1"}, {"dtype_in", "f8e4m3"}, {"dtype_out", "f32"}},
           {{"M", "50"}, {"BLOCK_M", "32"}, {"BLOCK_K", "16"}, {"stages", "3"}}}) {
    const Outcome plain = run_workload("gemm", p);
    const Outcome ws = run_workload("gemm_ws", p);
    INFO(ws.build.shape << "\n" << ws.comparison.report());
    CHECK(plain.comparison.pass);
    CHECK(ws.comparison.pass);
    CHECK(ws.results.tensor("C") == plain.results.tensor("C"));
    CHECK(ws.run.tasks == 3 * plain.run.tasks);  // producer + 2 consumers per program
  }
}

TEST_CASE("workloads: split-K GEMM equals plain GEMM with one split, and within the summation bound with more",
          "[workloads][gemm]") {
  const std::map<std::string, std::string> base{{"dtype_out", "f32"}, {"K", "256"}};
  const Outcome plain = run_workload("gemm", base);
  const Outcome one = run_workload("gemm_splitk", with(base, {{"split_k", "1"}}));
  CHECK(one.comparison.pass);
  CHECK(one.results.tensor("C") == plain.results.tensor("C"));

  for (const char* splits : {"2", "3", "5"}) {
    const Outcome split = run_workload("gemm_splitk", with(base, {{"split_k", splits}}));
    INFO("split_k " << splits << "\n" << split.comparison.report());
    CHECK(split.comparison.pass);  // bit-exact against the model of its own order
    // Against plain GEMM the order differs. Both f32 results are within gamma_n * sum|a*b| of the exact
    // value (recursive summation, n = K + split_k additions at most, gamma_n = n u / (1 - n u),
    // u = 2^-24), so they are within twice that of each other.
    const TileValue& a = split.inputs.tensor("A");
    const TileValue& b = split.inputs.tensor("B");
    const int64_t m = a.dim(0), k = a.dim(1), n = b.dim(1);
    const double nu = static_cast<double>(k + std::stoi(splits)) * 0x1.0p-24;
    const double gamma = nu / (1 - nu);
    int64_t differing = 0;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double abs_sum = 0;
        for (int64_t kk = 0; kk < k; ++kk) abs_sum += std::fabs(a.at(i * k + kk) * b.at(kk * n + j));
        const double got = split.results.tensor("C").at(i * n + j), want = plain.results.tensor("C").at(i * n + j);
        CHECK(std::fabs(got - want) <= 2 * gamma * abs_sum);
        differing += got != want;
      }
    }
    CHECK(differing > 0);  // the orders really differ, so the bound (not equality) is the right check
  }
}

TEST_CASE("workloads: fused-epilogue GEMM for every activation", "[workloads][gemm]") {
  for (const char* act : {"relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"}) {
    const Outcome o = run_workload("gemm_epilogue", {{"activation", act}});
    INFO(act << "\n" << o.comparison.report());
    CHECK(o.comparison.pass);
    CHECK(o.run.count(act == std::string("relu") ? isa::OpId::relu
                      : std::string(act).rfind("gelu", 0) == 0 ? isa::OpId::gelu
                      : act == std::string("silu")            ? isa::OpId::silu
                      : act == std::string("sigmoid")         ? isa::OpId::sigmoid
                                                              : isa::OpId::tanh) == o.run.programs);
  }
}

TEST_CASE("workloads: attention forward, causal and not, head dims 64, 128, 256", "[workloads][attention]") {
  const std::string causal = GENERATE(as<std::string>{}, "0", "1");
  const std::string headdim = GENERATE(as<std::string>{}, "64", "128", "256");
  const Outcome o = run_workload("attention_fwd", {{"causal", causal}, {"headdim", headdim}});
  INFO(o.build.shape << "\n" << o.comparison.report());
  CHECK(o.comparison.pass);
  CHECK(o.comparison.outputs.at(0).max_abs_error > 0);  // not exact: the tolerance is doing work
  // causal runs visit fewer key blocks
  const Outcome other = run_workload("attention_fwd", {{"causal", causal == "0" ? "1" : "0"}, {"headdim", headdim}});
  CHECK((causal == "1") == (o.run.count(isa::OpId::mma) < other.run.count(isa::OpId::mma)));
}

TEST_CASE("workloads: attention in f16, with several batches and a short sequence", "[workloads][attention]") {
  const Outcome o = run_workload("attention_fwd", {{"dtype", "f16"}, {"batch", "2"}, {"seqlen", "33"}, {"causal", "1"}});
  INFO(o.comparison.report());
  CHECK(o.comparison.pass);
}

TEST_CASE("workloads: warp-specialised attention agrees with attention_fwd", "[workloads][attention]") {
  using P = std::map<std::string, std::string>;
  for (const P& p : std::vector<P>{{{"causal", "0"}},
                                   {{"causal", "1"}, {"headdim", "128"}},
                                   {{"causal", "1"}, {"seqlen", "33"}, {"dtype", "f16"}, {"batch", "2"}},
                                   {{"causal", "0"}, {"seqlen", "64"}},  // S a multiple of BLOCK_N: no masked block
                                   {{"causal", "1"}, {"seqlen", "70"}, {"BLOCK_M", "32"}, {"BLOCK_N", "16"}}}) {
    const Outcome fwd = run_workload("attention_fwd", p);
    const Outcome ws = run_workload("attention_ws", p);
    INFO(ws.build.shape << "\n" << ws.comparison.report());
    CHECK(fwd.comparison.pass);
    CHECK(ws.comparison.pass);
    // Both are within their tolerance (2u max|V| + 2u |O|, u the dtype's unit roundoff) of the same exact
    // result, so within twice that of each other (attention_ws folds the scale into exp2, so not bit-equal).
    const double u = p.count("dtype") ? 0x1.0p-11 : 0x1.0p-8;
    double max_v = 0;
    for (double x : ws.inputs.tensor("V").values()) max_v = std::max(max_v, std::fabs(x));
    const TileValue& a = ws.results.tensor("O");
    const TileValue& b = fwd.results.tensor("O");
    int64_t outside = 0;
    for (int64_t i = 0; i < a.size(); ++i) outside += std::fabs(a.at(i) - b.at(i)) > 4 * u * (max_v + std::fabs(b.at(i)));
    CHECK(outside == 0);
    CHECK(ws.run.programs == fwd.run.programs);
    CHECK(ws.run.tasks == 3 * fwd.run.tasks);  // producer + 2 consumers per program
    CHECK(ws.run.count(isa::OpId::mma) == 2 * fwd.run.count(isa::OpId::mma));  // each consumer: half the rows
  }
  CHECK_THROWS_WITH(run_workload("attention_ws", {{"BLOCK_M", "33"}}), Catch::Matchers::Contains("must be even"));
}

TEST_CASE("workloads: persistent attention_ws programs loop over the tiles and give the same output",
          "[workloads][attention]") {
  using P = std::map<std::string, std::string>;
  // 3 programs over more tiles (2 batches x 2 heads x 2 or 3 query blocks), causal and not; and more
  // programs than tiles (capped at the tile count).
  for (const P& p : std::vector<P>{{{"batch", "2"}, {"seqlen", "100"}, {"causal", "0"}},
                                   {{"batch", "2"}, {"seqlen", "70"}, {"causal", "1"}, {"BLOCK_M", "32"}, {"BLOCK_N", "16"}}}) {
    const Outcome one_per_tile = run_workload("attention_ws", p);
    const Outcome persistent = run_workload("attention_ws", with(p, {{"programs", "3"}}));
    INFO(persistent.build.shape << "\n" << persistent.comparison.report());
    CHECK(one_per_tile.comparison.pass);
    CHECK(persistent.comparison.pass);
    CHECK(persistent.run.programs == 3);
    CHECK(one_per_tile.run.programs > 3);
    // The same operations on the same tiles, in another order: the output is bit-identical.
    CHECK(persistent.results.tensor("O").values() == one_per_tile.results.tensor("O").values());
    CHECK(persistent.run.count(isa::OpId::mma) == one_per_tile.run.count(isa::OpId::mma));
    const Outcome capped = run_workload("attention_ws", with(p, {{"programs", "1000"}}));
    CHECK(capped.run.programs == one_per_tile.run.programs);
    CHECK(capped.comparison.pass);
  }
}

TEST_CASE("workloads: softmax with a cluster sharing each row", "[workloads][softmax]") {
  const Outcome whole = run_workload("softmax", {{"dtype", "f32"}, {"cols", "301"}});
  CHECK(whole.comparison.pass);
  CHECK(whole.run.count(isa::OpId::cluster_load) == 0);  // one program per row: no peers
  for (const char* cn : {"2", "3", "4", "16"}) {
    const Outcome o = run_workload("softmax", {{"dtype", "f32"}, {"cols", "301"}, {"CLUSTER", cn}});
    INFO("CLUSTER " << cn << "\n" << o.comparison.report());
    CHECK(o.comparison.pass);
    const int64_t n = std::stoi(cn);
    CHECK(o.run.programs == n * whole.run.programs);
    // each program reads the packed (max, sum) pair of every other program of its cluster, in one round
    CHECK(o.run.count(isa::OpId::cluster_load) == o.run.programs * (n - 1));
    // The maximum is exact; the f32 row sum differs in order and in the rescaling of each slice's sum from
    // its own max to the row's (exp of an argument off by <= 8 u32, and a multiply: ~10 u32 per slice), and
    // each sum is within cols * 2^-24 (relative) of the exact one, so the outputs are within twice that
    // (plus the rescales and the division's rounding).
    const TileValue& a = o.results.tensor("Y");
    const TileValue& b = whole.results.tensor("Y");
    double worst = 0;
    for (int64_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a.at(i) - b.at(i)) / std::fabs(b.at(i)));
    CHECK(worst <= 2 * (301 + 16 * 10) * 0x1.0p-24);
  }
  CHECK_THROWS_WITH(run_workload("softmax", {{"cols", "100"}, {"CLUSTER", "16"}}),
                    Catch::Matchers::Contains("past the row end"));
}

TEST_CASE("workloads: options of the other workloads", "[workloads]") {
  using P = std::map<std::string, std::string>;
  const std::vector<std::pair<std::string, P>> cases = {
      {"elementwise", {{"op", "sub"}}},        {"elementwise", {{"op", "mul"}, {"dtype", "bf16"}}},
      {"elementwise", {{"op", "div"}, {"dtype", "f16"}}},
      {"elementwise", {{"op", "max"}}},        {"elementwise", {{"op", "min"}, {"N", "1000"}}},
      {"reduction", {{"op", "max"}}},          {"reduction", {{"op", "min"}, {"axis", "0"}}},
      {"reduction", {{"op", "sum"}, {"axis", "0"}, {"dtype", "f32"}}},
      {"transpose", {{"dtype", "bf16"}}},      {"transpose", {{"dtype", "i8"}, {"rows", "33"}}},
      {"softmax", {{"dtype", "f32"}}},         {"softmax", {{"dtype", "f16"}, {"cols", "300"}}},
      {"layernorm", {{"dtype", "f32"}}},       {"rmsnorm", {{"dtype", "f16"}}},
      {"stream", {{"op", "read"}}},            {"stream", {{"op", "write"}}},
      {"stream", {{"op", "scale"}}},           {"stream", {{"op", "triad"}, {"blocks", "0"}}},
      {"pchase", {{"space", "shared"}}},       {"pchase", {{"stride", "12"}, {"steps", "300"}, {"threads", "3"}}},
      {"pchase", {{"order", "random"}, {"stride", "64"}, {"threads", "3"}, {"steps", "1000"}}},
      {"pchase", {{"order", "random"}, {"space", "shared"}, {"stride", "64"}}},
      {"bulk_copy", {{"engine", "tma_2d"}}},   {"bulk_copy", {{"engine", "cp_async"}, {"footprint", "5000"}}},
      {"mma", {{"operands", "RS"}}},           {"mma", {{"dtype_in", "f8e4m3"}, {"dtype_acc", "f16"}, {"shape", "m64n32k32"}}},
      {"mma", {{"dtype_in", "i8"}, {"dtype_acc", "i32"}, {"inputs", "zero"}}},
      {"alu", {{"op", "hfma"}}},               {"launch", {{"blocks", "7"}}},
  };
  for (const auto& [name, params] : cases) {
    const Outcome o = run_workload(name, params);
    INFO(name << " " << o.build.params.to_string() << "\n" << o.comparison.report());
    CHECK(o.comparison.pass);
  }
}

TEST_CASE("workloads: alu dfma and an f64 mma chain match their fused references bit for bit", "[workloads][f64]") {
  // dfma: x = fma(x, 0.75, 0.125) in f64, a chain of the workload's length on random inputs.
  const Outcome alu = run_workload("alu", {{"op", "dfma"}});
  INFO(alu.comparison.report());
  CHECK(alu.comparison.pass);
  REQUIRE(alu.inputs.tensor("X").dtype() == isa::DType::f64);
  // One step on inputs where multiply-then-add rounds twice to another double than the fused operation:
  // for x near -0.7, x * 0.75 (near -0.525, ulp 2^-53) is rounded before the add brings the sum into the
  // binade below (ulp 2^-54), where the bit the first rounding dropped would have counted. (A quarter of
  // the x = -0.7 - k 2^-53 qualify; the search is bounded.) The interpreter and the reference agree, and
  // both are fused.
  std::vector<double> crafted;
  for (int64_t k = 1; crafted.size() < 32 && k < 100000; ++k) {
    const double x = -0.7 - std::ldexp(static_cast<double>(k), -53);
    if (std::fma(x, 0.75, 0.125) != unfused(x, 0.75, 0.125)) crafted.push_back(x);
  }
  REQUIRE(crafted.size() == 32);
  const Outcome step = run_workload("alu", {{"op", "dfma"}, {"iters", "1"}}, [&](isa::Buffers& b) {
    TileValue& x = b.tensor("X");
    for (int64_t i = 0; i < x.size(); ++i) x.set(i, crafted.at(static_cast<size_t>(i)));
  });
  INFO(step.comparison.report());
  CHECK(step.comparison.pass);
  for (int64_t i = 0; i < 32; ++i) {
    const double x = crafted.at(static_cast<size_t>(i));
    CHECK(step.results.tensor("Y").at(i) == std::fma(x, 0.75, 0.125));
    CHECK(step.results.tensor("Y").at(i) != unfused(x, 0.75, 0.125));
  }
  // DMMA m8n8k4 chain: f64 operands, f64 accumulator, one fma per product.
  const Outcome mma = run_workload("mma", {{"dtype_in", "f64"}, {"dtype_acc", "f64"}, {"shape", "m8n8k4"}});
  INFO(mma.comparison.report());
  CHECK(mma.comparison.pass);
  CHECK(mma.results.tensor("C").dtype() == isa::DType::f64);
  CHECK_THROWS_WITH(run_workload("mma", {{"dtype_in", "f64"}, {"dtype_acc", "f32"}}),
                    Catch::Matchers::Contains("f64 -> f64"));
}

TEST_CASE("workloads: a random pchase ring is one cycle through every slot, at each offset", "[workloads]") {
  // 16 KiB, 64 B slots: 256 slots of 16 elements. Following the ring from element `off` visits every
  // slot once (at that offset) before it returns, and never steps to the next slot in memory every time.
  const Outcome o = run_workload("pchase", {{"footprint", "16KiB"}, {"stride", "64"}, {"order", "random"}});
  REQUIRE(o.comparison.pass);
  const TileValue& next = o.inputs.tensor("Next");
  for (std::int64_t off : {0, 5, 15}) {
    std::vector<bool> seen(256, false);
    std::int64_t pos = off, sequential = 0;
    for (int step = 0; step < 256; ++step) {
      const auto to = static_cast<std::int64_t>(next.at(pos));
      REQUIRE(to % 16 == off);
      CHECK_FALSE(seen[static_cast<std::size_t>(to / 16)]);
      seen[static_cast<std::size_t>(to / 16)] = true;
      sequential += to == pos + 16;
      pos = to;
    }
    CHECK(pos == off);  // back at the start after exactly 256 steps
    CHECK(sequential < 8);
  }
  // Another seed, another cycle.
  const Outcome other = run_workload("pchase", {{"footprint", "16KiB"}, {"stride", "64"}, {"order", "random"}, {"seed", "2"}});
  CHECK(other.inputs.tensor("Next").values() != next.values());
}

TEST_CASE("workloads: a random pchase ring needs whole slots", "[workloads]") {
  const Workload& w = find_workload("pchase");
  CHECK_THROWS_WITH(w.build(resolve_params(w, {{"footprint", "1000"}, {"stride", "64"}, {"order", "random"}}, Scale::full),
                            load_template(w)),
                    Catch::Matchers::Contains("order=random needs a footprint that is a whole number of strides"));
}

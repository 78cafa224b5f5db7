// The workload library: the registry, every workload against its reference at the functional shape,
// parameter handling, full-size builds, template instantiation, and that a broken kernel fails.
#include <catch2/catch.hpp>
#include <algorithm>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "isa/text_parser.hpp"
#include "isa/text_printer.hpp"
#include "isa/verifier.hpp"
#include "sim/error.hpp"
#include "workloads/template.hpp"
#include "workloads/workload.hpp"

using namespace tilesim;
using namespace tilesim::workloads;
using Catch::Matchers::Contains;

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A copy of a built-in template with `from` replaced by `to` (which must occur), in a temp folder.
std::string corrupted_template(const std::string& file, const std::string& from, const std::string& to) {
  std::string text = read_file(std::filesystem::path(workloads_dir()) / file);
  const auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  text.replace(pos, from.size(), to);
  const auto dir = std::filesystem::temp_directory_path() / "tilesim_workloads_test";
  std::filesystem::create_directories(dir);
  const auto path = dir / file;
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

TEST_CASE("workloads: the registry holds the workloads of the vocabulary", "[workloads]") {
  const std::vector<std::string> want = {"alu",       "attention_fwd", "attention_ws", "bulk_copy", "elementwise", "gemm",
                                         "gemm_epilogue", "gemm_fp8_scaled", "gemm_splitk", "gemm_ws", "launch",  "layernorm",
                                         "mma",       "pchase",        "reduction", "rmsnorm",     "softmax",
                                         "stream",    "transpose"};
  CHECK(workload_names() == want);
  for (const Workload* w : all_workloads()) {
    INFO(w->name());
    CHECK(std::filesystem::is_regular_file(std::filesystem::path(workloads_dir()) / w->template_file()));
    CHECK_FALSE(w->description().empty());
    bool has_seed = false;
    for (const ParamSpec& p : w->params()) has_seed |= p.name == "seed";
    CHECK(has_seed);
  }
  CHECK_THROWS_WITH(find_workload("gem"), Contains("unknown workload 'gem' (did you mean 'gemm'?)"));
}

TEST_CASE("workloads: every workload passes its reference at the functional shape", "[workloads]") {
  for (const std::string& name : workload_names()) {
    INFO(name);
    const FunctionalResult r = run_functional(name, {});
    INFO(r.comparison.report());
    CHECK(r.comparison.pass);
    CHECK(r.run.programs > 0);
    CHECK(r.seconds < 5.0);
  }
}

TEST_CASE("workloads: a corrupted kernel fails its reference", "[workloads]") {
  // GEMM: the loop forgets the product (the accumulator stays 0).
  const std::string gemm = corrupted_template("gemm.tile", "yield %c2", "yield %c");
  FunctionalResult r = run_functional("gemm", {}, gemm);
  CHECK_FALSE(r.comparison.pass);
  CHECK_THAT(r.comparison.report(), Contains("FAIL") && Contains("first mismatch: C["));
  // Attention: the mask lets each query see one key too many.
  const std::string attn = corrupted_template("attention_fwd.tile", "%visible = cmp.lt %col, %limit",
                                              "%visible = cmp.le %col, %limit");
  CHECK_FALSE(run_functional("attention_fwd", {{"causal", "1"}}, attn).comparison.pass);
  // Warp-specialised attention: the mask of the diagonal blocks lets each query see one key too many.
  const std::string attn_ws = corrupted_template("attention_ws.tile", "%visible_m = cmp.lt %col_m, %limit",
                                                 "%visible_m = cmp.le %col_m, %limit");
  CHECK_FALSE(run_functional("attention_ws", {{"causal", "1"}}, attn_ws).comparison.pass);
  // Block-scaled GEMM: the promotion scales by B's scale only (forgets A's row scale), or the B scale of
  // the wrong block (K=300: 3 scale blocks).
  const std::string scaled = corrupted_template("gemm_fp8_scaled.tile", "%c1n = fma %p, %s, %c", "%c1n = fma %p, %sb, %c");
  CHECK_FALSE(run_functional("gemm_fp8_scaled", {}, scaled).comparison.pass);
  // A tile that spans two B scale blocks (BLOCK_N 48 does not divide 128: columns 96..143) scales every
  // column with its first block's scale.
  const std::map<std::string, std::string> spanning{{"N", "160"}, {"K", "300"}, {"BLOCK_N", "48"}};
  CHECK(run_functional("gemm_fp8_scaled", spanning).comparison.pass);
  const std::string first_only = corrupted_template("gemm_fp8_scaled.tile", "%s2 = select %former, %s0, %s1",
                                                    "%s2 = select %former, %s0, %s0");
  CHECK_FALSE(run_functional("gemm_fp8_scaled", spanning, first_only).comparison.pass);
  const std::string wrong_block = corrupted_template("gemm_fp8_scaled.tile", "copy_async %SB[%nbg, %k]", "copy_async %SB[%nbg, %c0]");
  CHECK_FALSE(run_functional("gemm_fp8_scaled", {{"K", "300"}}, wrong_block).comparison.pass);
  // One math warp group per 64-row tile (DeepGEMM's M <= 64 launch), M = 100: two tile rows, the second
  // partly outside. Storing each tile one row block too low must fail.
  const std::map<std::string, std::string> one_group{{"M", "100"}, {"BLOCK_M", "64"}, {"consumers", "1"}, {"K", "300"}};
  CHECK(run_functional("gemm_fp8_scaled", one_group).comparison.pass);
  const std::string shifted = corrupted_template("gemm_fp8_scaled.tile", "%row = add %m2, %wg", "%row = add %m2, %c1");
  CHECK_FALSE(run_functional("gemm_fp8_scaled", one_group, shifted).comparison.pass);
  // Grouped (DeepGEMM's m-grouped contiguous layout): 2 groups of 128 rows, and 4 groups of 128 rows
  // whose 200 columns end in a partial 48-wide tile (each group's B padded to 5 tiles) spanning two
  // scale blocks. Every group reading group 0's weights must fail.
  const std::map<std::string, std::string> grouped{{"M", "256"}, {"groups", "2"}, {"cluster_m", "1"}};
  CHECK(run_functional("gemm_fp8_scaled", grouped).comparison.pass);
  const std::map<std::string, std::string> grouped_spanning{{"M", "512"}, {"groups", "4"}, {"N", "200"},
                                                            {"BLOCK_N", "48"}, {"K", "300"}, {"cluster_m", "1"}};
  CHECK(run_functional("gemm_fp8_scaled", grouped_spanning).comparison.pass);
  const std::string one_weight = corrupted_template("gemm_fp8_scaled.tile", "%pnb = add %b_first, %pn", "%pnb = add %c0, %pn");
  CHECK_FALSE(run_functional("gemm_fp8_scaled", grouped, one_weight).comparison.pass);
  // Softmax: multiplies by the row sum instead of its reciprocal.
  const std::string softmax = corrupted_template("softmax.tile", "%row_scale = mul %own_scale, %rs",
                                                 "%row_scale = mul %own_scale, %s");
  CHECK_FALSE(run_functional("softmax", {}, softmax).comparison.pass);
  // Softmax in clusters: a program adds its own partial sum in place of each peer's.
  const std::string cluster_sum = corrupted_template("softmax.tile", "%s_next = add %s_acc_scaled, %s_r_scaled",
                                                     "%s_next = add %s_acc_scaled, %s_part");
  CHECK(run_functional("softmax", {{"CLUSTER", "1"}}, cluster_sum).comparison.pass);  // no peers: same kernel
  CHECK_FALSE(run_functional("softmax", {{"CLUSTER", "2"}}, cluster_sum).comparison.pass);
  // Online combine: a peer's sum is not rescaled to the cluster's max (right only when the slices' maxima agree).
  const std::string unscaled_peer = corrupted_template("softmax.tile", "%s_next = add %s_acc_scaled, %s_r_scaled",
                                                       "%s_next = add %s_acc_scaled, %s_r");
  CHECK(run_functional("softmax", {{"CLUSTER", "1"}}, unscaled_peer).comparison.pass);
  CHECK_FALSE(run_functional("softmax", {{"CLUSTER", "2"}}, unscaled_peer).comparison.pass);
  // Online combine: the running sum is not rescaled when a later rank raises the running max.
  const std::string unscaled_acc = corrupted_template("softmax.tile", "%s_next = add %s_acc_scaled, %s_r_scaled",
                                                      "%s_next = add %s_acc, %s_r_scaled");
  CHECK_FALSE(run_functional("softmax", {{"CLUSTER", "4"}}, unscaled_acc).comparison.pass);
  // Own slice not rescaled from its local max to the cluster's.
  const std::string unscaled_own = corrupted_template("softmax.tile", "%row_scale = mul %own_scale, %rs",
                                                      "%row_scale = mul %rs, %rs");
  CHECK_FALSE(run_functional("softmax", {{"CLUSTER", "2"}}, unscaled_own).comparison.pass);
}

TEST_CASE("workloads: a stated tolerance is not vacuous: tightened to zero, the comparison fails", "[workloads]") {
  for (const char* name : {"attention_fwd", "attention_ws", "softmax", "layernorm", "rmsnorm"}) {
    INFO(name);
    CHECK(run_functional(name, {}).comparison.pass);
    CHECK_FALSE(run_functional(name, {}, "", 0.0).comparison.pass);
  }
}

TEST_CASE("workloads: parameters are resolved and validated", "[workloads]") {
  const Workload& gemm = find_workload("gemm");
  const ParamSet full = resolve_params(gemm, {}, Scale::full);
  const ParamSet small = resolve_params(gemm, {{"M", "64"}}, Scale::functional);
  CHECK(full.integer("M") == 4096);
  CHECK(small.integer("M") == 64);
  CHECK(small.integer("N") == 80);
  CHECK(small.dtype("dtype_in") == isa::DType::bf16);
  CHECK_THROWS_WITH(resolve_params(gemm, {{"MM", "1"}}, Scale::full), Contains("gemm: unknown parameter 'MM' (did you mean 'M'?)"));
  CHECK_THROWS_WITH(resolve_params(gemm, {{"dtype_in", "f64"}}, Scale::full),
                    Contains("gemm: parameter dtype_in = 'f64' is not one of bf16, f16"));
  CHECK_THROWS_WITH(build_workload("gemm", {{"M", "12x"}}), Contains("gemm: parameter M = '12x' is not an integer"));
  CHECK_THROWS_WITH(build_workload("gemm", {{"dtype_in", "bf16"}, {"dtype_acc", "i32"}}),
                    Contains("mma does not accumulate bf16 operands in i32"));
  CHECK_THROWS_WITH(build_workload("gemm_ws", {{"BLOCK_M", "63"}}), Contains("BLOCK_M (63) must be a multiple of the 2 consumers"));
  CHECK_THROWS_WITH(build_workload("gemm_fp8_scaled", {{"M", "256"}, {"groups", "3"}, {"cluster_m", "1"}}),
                    Contains("groups (3): each group's rows, M / groups = 256 / 3, must be a whole multiple of BLOCK_M"));
  CHECK_THROWS_WITH(build_workload("gemm_fp8_scaled", {{"M", "256"}, {"groups", "2"}, {"cluster_m", "2"}}),
                    Contains("cluster_m (2) must be 1 with groups"));
  CHECK_THROWS_WITH(build_workload("mma", {{"shape", "64x64"}}), Contains("shape '64x64' is not m<M>n<N>k<K>"));
  CHECK_THROWS_WITH(build_workload("stream", {{"footprint", "4"}}), Contains("gives 0 elements per vector"));
  CHECK_THROWS_AS(parse_param_list({"M"}), ConfigError);
  CHECK_THROWS_AS(parse_param_list({"M=1", "M=2"}), ConfigError);
  CHECK(parse_param_list({"footprint=32MiB"}).at("footprint") == "32MiB");
  CHECK(resolve_params(find_workload("pchase"), {{"footprint", "32MiB"}}, Scale::full).integer("footprint") == 32 << 20);
  CHECK(resolve_params(find_workload("attention_fwd"), {{"causal", "true"}}, Scale::full).flag("causal"));
}

TEST_CASE("workloads: full-size builds allocate nothing, verify and declare their scratch", "[workloads]") {
  for (const std::string& name : workload_names()) {
    INFO(name);
    const WorkloadBuild b = build_workload(name, {});
    CHECK(isa::verify(b.module).ok());
    CHECK(b.module.kernels.size() == 1);
    CHECK(b.kernel().name == b.kernel_name);
  }
  // gemm at 128x128x64 with 3 stages: 3 x (16 KiB of A + 16 KiB of B)
  const WorkloadBuild gemm = build_workload("gemm", {});
  REQUIRE(gemm.kernel().resources.scratch_bytes);
  CHECK(isa::const_value(*gemm.kernel().resources.scratch_bytes) == std::optional<int64_t>(98304));
  CHECK(gemm.scalars.at("M") == 4096);
  CHECK(gemm.scalars.at("BM") == 128);
  // the instantiated text names concrete tiles and the requested dtypes
  const WorkloadBuild fp8 = build_workload("gemm", {{"dtype_in", "f8e4m3"}, {"dtype_out", "f16"}, {"stages", "4"}});
  const std::string text = isa::print_module(fp8.module);
  CHECK_THAT(text, Contains("copy_async %A[%pm, %k] : tile<f8e4m3>[128, 64] @scratch") && Contains("stages=4") &&
                       Contains("%C: global<f16>[M, N]") && Contains("grid(cdiv(M, 128), cdiv(N, 128))"));
}

TEST_CASE("workloads: template instantiation bakes symbols, maps dtypes and replaces ops", "[workloads]") {
  const isa::Module tmpl = isa::parse_module(R"(kernel @t(%X: global<bf16>[N], %Y: global<f16>[N], N: i32, B: i32)
    grid(cdiv(N, B)) {
  %i = program_id 0
  %x = load %X[%i] : tile<bf16>[B * 2 - B] @reg
  %y = relu %x
  %z = cast %y to=f16
  store %z, %Y[%i]
}
)", "t.tile");
  TemplateArgs args;
  args.kernel = "t";
  args.bake = {{"B", 64}};
  args.dtypes = {{isa::DType::bf16, isa::DType::f16}, {isa::DType::f16, isa::DType::bf16}};  // a swap
  args.replace["y"] = {isa::OpId::gelu, {{"approx", isa::Attr::word_of("tanh")}}};
  const std::string text = isa::print_module(instantiate(tmpl, args));
  CHECK_THAT(text, Contains("%X: global<f16>[N], %Y: global<bf16>[N]"));
  CHECK_THAT(text, Contains("grid(cdiv(N, 64))"));
  CHECK_THAT(text, Contains("load %X[%i] : tile<f16>[64] @reg"));
  CHECK_THAT(text, Contains("%y = gelu %x approx=tanh"));
  CHECK_THAT(text, Contains("%z = cast %y to=bf16"));
  CHECK(bake_expr(isa::Expr::binary(isa::Expr::Kind::mul, isa::Expr::symbol_of("B"), isa::Expr::constant_of(3)),
                  {{"B", 5}}) == isa::Expr::constant_of(15));

  TemplateArgs missing = args;
  missing.replace["nope"] = {isa::OpId::exp, {}};
  CHECK_THROWS_WITH(instantiate(tmpl, missing), Contains("has no op defining %nope"));
  TemplateArgs bad = args;
  bad.dtypes = {{isa::DType::bf16, isa::DType::i8}};  // gelu needs floats: the verifier refuses
  CHECK_THROWS_WITH(instantiate(tmpl, bad), Contains("t.tile:5:8: error:"));
}

TEST_CASE("workloads: template instantiation sets role counts and moves the declared warps with them", "[workloads]") {
  // the block-scaled GEMM declares resources(warps=12): a producer of 4 warps and two consumers of 4
  const isa::Module tmpl = isa::parse_module(read_file(std::filesystem::path(workloads_dir()) / "gemm_fp8_scaled.tile"), "gemm_fp8_scaled.tile");
  TemplateArgs args;
  args.kernel = "gemm_fp8_scaled";
  args.role_counts["consumer"] = 1;
  const isa::Module one = instantiate(tmpl, args);
  const isa::Kernel& k = one.kernels.front();
  CHECK(k.resources.warps == std::optional<int64_t>(8));
  const auto consumer = std::find_if(k.roles.begin(), k.roles.end(), [](const isa::Role& r) { return r.name == "consumer"; });
  REQUIRE(consumer != k.roles.end());
  CHECK(consumer->count == 1);
  CHECK_THAT(isa::print_module(one), Contains("role consumer warps=4"));

  TemplateArgs missing = args;
  missing.role_counts = {{"math", 2}};
  CHECK_THROWS_WITH(instantiate(tmpl, missing), Contains("has no role 'math'"));
  TemplateArgs zero = args;
  zero.role_counts["consumer"] = 0;
  CHECK_THROWS_WITH(instantiate(tmpl, zero), Contains("positive instance count, not 0"));
}

TEST_CASE("workloads: inputs are seeded: same seed same bits, another seed other data", "[workloads]") {
  const Workload& w = find_workload("gemm");
  const WorkloadBuild b1 = w.build(resolve_params(w, {}, Scale::functional), load_template(w));
  const WorkloadBuild b2 = w.build(resolve_params(w, {{"seed", "7"}}, Scale::functional), load_template(w));
  CHECK(w.make_inputs(b1).tensor("A") == w.make_inputs(b1).tensor("A"));
  CHECK(w.make_inputs(b1).tensor("A") != w.make_inputs(b2).tensor("A"));
  const FunctionalResult r1 = run_functional("gemm_ws", {});
  const FunctionalResult r2 = run_functional("gemm_ws", {});
  CHECK(r1.run.task_switches == r2.run.task_switches);
  CHECK(r1.run.ops_executed == r2.run.ops_executed);
}

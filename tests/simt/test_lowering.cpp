// Lowering of tile ops to per-warp micro-op bundles: groups, registers, scratch and instruction counts.
#include <catch2/catch.hpp>

#include "arch/simt/simt_lowering.hpp"
#include "tests/simt/sm_rig.hpp"

using namespace tilesim;
using namespace tilesim::simt;

namespace {

struct Lowered {
  std::shared_ptr<const isa::Module> module;
  std::shared_ptr<const SimtLoweredKernel> kernel;
  std::unique_ptr<tensor::TensorUnit> tu;
};

Lowered lower(const std::string& text, const std::string& name, const std::map<std::string, double>& scalars,
              const std::map<std::string, std::string>& tensor = {{"kind", "wgmma"}}) {
  Lowered out;
  out.module = simt_test::parse_module(text);
  core::LaunchArgs a;
  a.scalars = scalars;
  const core::KernelLaunch l = core::bind_launch(out.module, name, a);
  const SimtParams p = read_simt_params(ParamValues::resolve(simt_sm_schema(), {}, "core.sm"));
  tensor::TensorUnitContext ctx{ParamValues::resolve(tensor::tensor_unit_schema(), tensor, "core.tensor"), 4};
  out.tu = tensor::make_tensor_unit(ctx, ctx.params.string("kind"));
  SimtLowering lowering(p, *out.tu, "test");
  out.kernel = std::static_pointer_cast<const SimtLoweredKernel>(lowering.lower(l));
  return out;
}

const isa::Op& find_op(const isa::Kernel& k, isa::OpId id) {
  std::function<const isa::Op*(const isa::Block&)> walk = [&](const isa::Block& b) -> const isa::Op* {
    for (const isa::Op& op : b.ops) {
      if (op.opcode == id) return &op;
      for (const isa::Block& r : op.regions)
        if (const isa::Op* x = walk(r)) return x;
    }
    return nullptr;
  };
  const isa::Op* op = walk(k.body);
  for (const isa::Role& r : k.roles)
    if (!op) op = walk(r.body);
  REQUIRE(op);
  return *op;
}

const char* const kGemm = R"(
kernel @gemm(%A: global<bf16>[M, K], %B: global<bf16>[K, N], %C: global<f32>[M, N], M: i32, N: i32, K: i32)
    grid(cdiv(M, 128), cdiv(N, 128)) resources(scratch=98304, warps=4) {
  %pm = program_id 0
  %pn = program_id 1
  %c0 = const 0 : index
  %c1 = const 1 : index
  %c64 = const 64 : index
  %kt = cdiv K, %c64
  %zero = zeros : tile<f32>[128, 128] @acc
  %acc = for %k = %c0 to %kt step %c1 stages=3 iter(%c = %zero) {
    %a, %ta = copy_async %A[%pm, %k] : tile<bf16>[128, 64] @scratch
    %b, %tb = copy_async %B[%k, %pn] : tile<bf16>[64, 128] @scratch
    wait %ta, %tb
    %c2 = mma %a, %b, %c
    yield %c2
  }
  store %acc, %C[%pm, %pn]
}
)";

}  // namespace

TEST_CASE("a plain kernel is one warp group: registers count the live accumulator", "[lowering]") {
  Lowered l = lower(kGemm, "gemm", {{"M", 256}, {"N", 256}, {"K", 256}});
  const SimtLoweredKernel& k = *l.kernel;
  REQUIRE(k.groups().size() == 1);
  CHECK(k.groups()[0].warps == 4);
  // 128x128 f32 accumulator over 128 threads = 128 registers, plus 32 base registers.
  CHECK(k.groups()[0].registers_per_thread == 160);
  CHECK(k.footprint().threads == 128);
  CHECK(k.footprint().scratch_bytes == 98304);
  CHECK(k.footprint().registers == 4 * 160 * 32);
  const isa::Kernel& kern = l.module->kernels[0];
  const OpLowering& mma = k.op(find_op(kern, isa::OpId::mma));
  REQUIRE(mma.steps.size() == 1);
  CHECK(mma.steps[0].kind == MicroKind::wgmma);
  CHECK(mma.steps[0].count == 8);  // 2 x m64n128k16 x 4 k-steps per warp
  CHECK(mma.steps[0].interval == Approx(64));
  CHECK(mma.flops == 2.0 * 128 * 128 * 64);
  const OpLowering& copy = k.op(find_op(kern, isa::OpId::copy_async));
  REQUIRE(copy.steps.size() == 1);
  CHECK(copy.steps[0].kind == MicroKind::tma_load);
  CHECK(copy.steps[0].leader_only);
  // store of a 128x128 f32 accumulator: 64 KiB / (16 B x 128 threads) = 32 STG.128 per warp.
  const OpLowering& st = k.op(find_op(kern, isa::OpId::store));
  REQUIRE(st.steps.size() == 1);
  CHECK(st.steps[0].kind == MicroKind::global_store);
  CHECK(st.steps[0].count == 32);
}

TEST_CASE("cp.async replaces TMA when the SM has no copy engine for tiles", "[lowering]") {
  auto module = simt_test::parse_module(kGemm);
  core::LaunchArgs a;
  a.scalars = {{"M", 256}, {"N", 256}, {"K", 256}};
  const core::KernelLaunch launch = core::bind_launch(module, "gemm", a);
  const SimtParams p = read_simt_params(ParamValues::resolve(simt_sm_schema(), {{"async_copy", "cp_async"}}, "core.sm"));
  tensor::TensorUnitContext ctx{ParamValues::resolve(tensor::tensor_unit_schema(), {{"kind", "mma_sync"}, {"rate_f16", "2048"}}, "core.tensor"), 4};
  auto tu = tensor::make_tensor_unit(ctx, "mma_sync");
  auto k = std::static_pointer_cast<const SimtLoweredKernel>(SimtLowering(p, *tu, "t").lower(launch));
  const isa::Kernel& kern = module->kernels[0];
  const OpLowering& copy = k->op(find_op(kern, isa::OpId::copy_async));
  REQUIRE(copy.steps.size() == 1);
  CHECK(copy.steps[0].kind == MicroKind::cp_async);
  CHECK(copy.steps[0].count == 8);  // 16 KiB / (16 B x 128 threads)
  const OpLowering& mma = k->op(find_op(kern, isa::OpId::mma));
  REQUIRE(mma.steps.size() == 2);
  CHECK(mma.steps[0].kind == MicroKind::shared_load);
  CHECK(mma.steps[1].kind == MicroKind::mma_sync);
  CHECK(mma.steps[1].count == 4 * 8 * 4);  // warp tile 64x64: 4x8 m16n8 tiles x 4 k16 steps
}

TEST_CASE("warp-specialised roles become warp groups: channels get scratch stages", "[lowering]") {
  const char* ws = R"(
kernel @gemm_ws(%A: global<bf16>[M, K], %B: global<bf16>[K, N], %C: global<bf16>[M, N], M: i32, N: i32, K: i32)
    grid(cdiv(M, 128), cdiv(N, 256)) resources(scratch=196608, warps=12) {
  channel %ch_a: stages=4 of tile<bf16>[128, 64] @scratch
  channel %ch_b: stages=4 of tile<bf16>[64, 256] @scratch
  role producer warps=4 registers=40 {
    %pm = program_id 0
    %pn = program_id 1
    %c0 = const 0 : index
    %c1 = const 1 : index
    %c64 = const 64 : index
    %kt = cdiv K, %c64
    for %k = %c0 to %kt step %c1 {
      %a, %ta = copy_async %A[%pm, %k] : tile<bf16>[128, 64] @scratch
      %b, %tb = copy_async %B[%k, %pn] : tile<bf16>[64, 256] @scratch
      put %ch_a, %a after(%ta)
      put %ch_b, %b after(%tb)
    }
  }
  role consumer x2 warps=4 registers=232 {
    %pm = program_id 0
    %pn = program_id 1
    %half = role_instance
    %c0 = const 0 : index
    %c1 = const 1 : index
    %c2 = const 2 : index
    %c64 = const 64 : index
    %kt = cdiv K, %c64
    %zero = zeros : tile<f32>[64, 256] @acc
    %acc = for %k = %c0 to %kt step %c1 iter(%c = %zero) {
      %a = get %ch_a
      %b = get %ch_b
      %ah = subtile %a[%half, %c0] shape=[64, 64]
      %cn = mma %ah, %b, %c
      release %ch_a
      release %ch_b
      yield %cn
    }
    %out = cast %acc to=bf16
    %m2 = mul %pm, %c2
    %row = add %m2, %half
    store %out, %C[%row, %pn]
  }
}
)";
  Lowered l = lower(ws, "gemm_ws", {{"M", 256}, {"N", 256}, {"K", 256}});
  const SimtLoweredKernel& k = *l.kernel;
  REQUIRE(k.groups().size() == 3);
  CHECK(k.groups()[0].role == "producer");
  CHECK(k.groups()[0].registers_per_thread == 40);
  CHECK(k.groups()[1].instance == 0);
  CHECK(k.groups()[2].instance == 1);
  CHECK(k.groups()[2].first_warp == 8);
  CHECK(k.warps() == 12);
  CHECK(k.footprint().registers == 4 * 40 * 32 + 8 * 232 * 32);
  REQUIRE(k.channels().size() == 2);
  CHECK(k.channels()[0].consumers == 2);
  CHECK(k.channels()[0].tile_bytes == 128 * 64 * 2);
  CHECK(k.channels()[1].scratch_offset == 4 * 128 * 64 * 2);
  const isa::Kernel& kern = l.module->kernels[0];
  const OpLowering& copy = k.op(find_op(kern, isa::OpId::copy_async));
  CHECK(copy.acquire_channel == 0);
  REQUIRE(copy.steps.size() == 2);
  CHECK(copy.steps[0].kind == MicroKind::channel_acquire);
  const OpLowering& mma = k.op(find_op(kern, isa::OpId::mma));
  CHECK(mma.steps.at(0).count == 4);  // m64n256k16 x 4 k-steps per warp of a warp group
  CHECK(mma.steps.at(0).interval == Approx(128));
}

TEST_CASE("element-wise ops become per-thread instruction bundles on the right pipes", "[lowering]") {
  const char* text = R"(
kernel @ew(%X: global<f32>[64, 128], %Y: global<bf16>[64, 128]) resources(warps=4) {
  %c0 = const 0 : index
  %x = load %X[%c0, %c0] : tile<f32>[64, 128] @reg
  %e = exp %x
  %m = reduce.max %e axis=1 keepdims=true
  %d = sub %e, %m
  %h = cast %d to=bf16
  %h2 = add %h, %h
  store %h2, %Y[%c0, %c0]
}
)";
  Lowered l = lower(text, "ew", {});
  const isa::Kernel& kern = l.module->kernels[0];
  // 8192 elements / 128 threads = 64 per thread.
  const OpLowering& e = l.kernel->op(find_op(kern, isa::OpId::exp));
  REQUIRE(e.steps.size() == 2);  // scale by log2(e), MUFU.EX2
  CHECK(e.steps[0].unit == Unit::fp32);
  CHECK(e.steps[0].count == 64);
  CHECK(e.steps[1].unit == Unit::sfu);
  CHECK(e.steps[1].count == 64);
  CHECK(e.steps[1].elementwise);
  const OpLowering& d = l.kernel->op(find_op(kern, isa::OpId::sub));
  CHECK(d.steps.size() == 1);
  const OpLowering& ld = l.kernel->op(find_op(kern, isa::OpId::load));
  CHECK(ld.steps.at(0).count == 16);  // 32 KiB / (16 B x 128 threads)
  // A 128-wide f32 row is 32 vectors of 16 B: 32 threads share it, 5 shuffle rounds.
  const OpLowering& red = l.kernel->op(find_op(kern, isa::OpId::reduce_max));
  CHECK(red.steps.size() == 1 + 2 * 5);
  const OpLowering& cast = l.kernel->op(find_op(kern, isa::OpId::cast));
  CHECK(cast.steps.at(0).count == 32);  // packed f32 -> bf16 pairs
  const OpLowering& add = l.kernel->op(find_op(kern, isa::OpId::add));
  CHECK(add.steps.at(0).unit == Unit::fp16);
  CHECK(add.steps.at(0).count == 32);  // HADD2.BF16: two elements per lane
}

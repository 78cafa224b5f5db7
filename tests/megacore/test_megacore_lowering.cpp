// The megacore lowering in-process (no simulation): a GEMM's K loop is modulo-scheduled at the initiation
// interval its MXUs allow, VMEM is counted per the documented rule, unsupported kernels are refused by name.
#include <catch2/catch.hpp>

#include <memory>

#include "arch/core/launch.hpp"
#include "arch/megacore/megacore_lowering.hpp"
#include "sim/error.hpp"
#include "workloads/workload.hpp"

using Catch::Matchers::Contains;
using namespace tilesim;

namespace {

std::shared_ptr<const core::KernelLaunch> make_launch(const std::string& name, std::map<std::string, std::string> given) {
  workloads::WorkloadBuild b = workloads::build_workload(name, given, workloads::Scale::full, "");
  core::LaunchArgs args;
  for (const auto& [k, v] : b.scalars) args.scalars[k] = static_cast<double>(v);
  for (const auto& [k, v] : b.float_scalars) args.scalars[k] = v;
  auto module = std::make_shared<const isa::Module>(b.module);
  return std::make_shared<const core::KernelLaunch>(core::bind_launch(module, b.kernel_name, args, name));
}

megacore::MegacoreParams v6e_like() {
  megacore::MegacoreParams p;
  p.mxus = 4;
  p.array.rows = p.array.cols = 256;
  return p;
}

}  // namespace

TEST_CASE("megacore: a GEMM K loop is modulo-scheduled at the MXU-bound initiation interval", "[megacore][lowering]") {
  const auto launch = make_launch("gemm", {{"M", "1024"}, {"N", "1024"}, {"K", "2048"}, {"BLOCK_M", "512"},
                                           {"BLOCK_N", "512"}, {"BLOCK_K", "512"}});
  const megacore::MegacoreLowering lowering(v6e_like(), 128ull << 20, "test");
  const auto lowered = std::static_pointer_cast<const megacore::MegacoreLoweredKernel>(lowering.lower(*launch));
  const isa::Op* loop = nullptr;
  for (const isa::Op& op : launch->kernel->body.ops)
    if (op.opcode == isa::OpId::for_) loop = &op;
  REQUIRE(loop);
  const megacore::BlockPlan& body = lowered->block(loop->regions.at(0));
  REQUIRE(body.loop_segment >= 0);
  const megacore::Segment& seg = lowered->segment(body.loop_segment);
  CHECK(seg.modulo);
  // 512 x 512 x 512 on 256 x 256 arrays: 2 x 2 = 4 folds of 512 streamed rows, one per MXU: each MXU is
  // held 512 cycles per iteration, so ResMII = 512 and the schedule reaches it.
  CHECK(seg.res_mii == 512);
  CHECK(seg.ii == seg.res_mii);
  // Both copies are software-pipelined (the loop's stages=3).
  CHECK(lowered->pipelined_copies(*loop).size() == 2);
  CHECK(seg.pipeline == 3);
  // VMEM: 3 stages x (A 512 KiB + B 512 KiB) + f32 accumulator 1 MiB + bf16 result 512 KiB.
  CHECK(lowered->vmem_bytes() == 3 * (512 + 512) * 1024 + 1024 * 1024 + 512 * 1024);
}

TEST_CASE("megacore: kernels with roles and channels are refused by name", "[megacore][lowering]") {
  const auto launch = make_launch("gemm_ws", {{"M", "512"}, {"N", "512"}, {"K", "512"}});
  const megacore::MegacoreLowering lowering(v6e_like(), 128ull << 20, "test");
  CHECK_THROWS_WITH(lowering.lower(*launch), Contains("roles and channels") && Contains("gemm_ws"));
}

// Timed runs that carry values: the SM's front end executes every op's semantics in program order while
// it times the program, so the buffers after the timed run must equal the functional interpreter's,
// bit for bit, for the workload library's kernels.
#include <catch2/catch.hpp>

#include "isa/interpreter.hpp"
#include "tests/simt/sm_rig.hpp"
#include "workloads/workload.hpp"

using namespace tilesim;

namespace {

struct Outcome {
  std::int64_t elements = 0;
  std::int64_t mismatches = 0;
  std::string first;
};

/// Build workload `name` at its functional shape with `overrides`, run it timed (carrying values) on `o`
/// and with the interpreter, and compare every tensor.
Outcome timed_vs_interpreter(const std::string& name, const std::map<std::string, std::string>& overrides,
                             simt_test::RigOptions o = {}) {
  workloads::WorkloadBuild b = workloads::build_workload(name, overrides, workloads::Scale::functional);
  const workloads::Workload& w = workloads::find_workload(name);
  const isa::Buffers inputs = w.make_inputs(b);
  isa::Buffers ref = inputs;
  isa::run_kernel(b.module, b.kernel_name, ref, b.scalars, b.interpreter);

  core::LaunchArgs a;
  for (const auto& [k, v] : b.scalars) a.scalars[k] = static_cast<double>(v);
  for (const auto& [k, v] : b.float_scalars) a.scalars[k] = v;
  for (const auto& [k, v] : inputs.scalars) a.scalars[k] = v;
  a.carry_values = true;
  a.inputs = inputs.tensors;
  a.mma = b.interpreter.mma;
  auto module = std::make_shared<const isa::Module>(b.module);
  simt_test::SmRig rig(module, b.kernel_name, a, o);
  REQUIRE(rig.run().completed);

  Outcome out;
  const core::KernelLaunch& l = rig.launch();
  for (const auto& g : l.globals) {
    const isa::TileValue& got = l.values->tensor(g.param);
    const isa::TileValue& want = ref.tensor(g.name);
    REQUIRE(got.shape() == want.shape());
    for (std::int64_t i = 0; i < got.size(); ++i) {
      ++out.elements;
      if (got.bits_at(i) != want.bits_at(i)) {
        if (out.mismatches++ == 0)
          out.first = cat(g.name, "[", i, "]: timed ", got.at(i), ", interpreter ", want.at(i));
      }
    }
  }
  return out;
}

simt_test::RigOptions two_sms() {
  simt_test::RigOptions o;
  o.cores = 2;
  return o;
}

}  // namespace

TEST_CASE("timed GEMM (TMA + wgmma, pipelined) matches the interpreter bit for bit", "[sm][values]") {
  const Outcome r = timed_vs_interpreter("gemm", {}, two_sms());
  INFO(r.first);
  CHECK(r.elements > 0);
  CHECK(r.mismatches == 0);
}

TEST_CASE("timed GEMM on an Ampere-like SM (cp.async + mma.sync) matches the interpreter", "[sm][values]") {
  simt_test::RigOptions o = two_sms();
  o.sm = {{"async_copy", "cp_async"}};
  o.tensor = {{"kind", "mma_sync"}, {"rate_f16", "2048"}};
  const Outcome r = timed_vs_interpreter("gemm", {}, o);
  INFO(r.first);
  CHECK(r.mismatches == 0);
}

TEST_CASE("timed warp-specialised GEMM (roles + channels) matches the interpreter", "[sm][values]") {
  const Outcome r = timed_vs_interpreter("gemm_ws", {}, two_sms());
  INFO(r.first);
  CHECK(r.elements > 0);
  CHECK(r.mismatches == 0);
}

TEST_CASE("timed warp-specialised GEMM with multicast over 2 x 2 clusters matches the interpreter",
          "[sm][values][multicast]") {
  // Each program's A and B tiles come half from its own copy engine and half from a peer's; the values
  // must not depend on it. 4 programs of one cluster on 4 SMs.
  simt_test::RigOptions o;
  o.cores = 4;
  const Outcome r = timed_vs_interpreter("gemm_ws", {{"cluster_m", "2"}, {"cluster_n", "2"}}, o);
  INFO(r.first);
  CHECK(r.elements > 0);
  CHECK(r.mismatches == 0);
}

TEST_CASE("timed attention forward matches the interpreter", "[sm][values]") {
  const Outcome r = timed_vs_interpreter("attention_fwd", {}, two_sms());
  INFO(r.first);
  CHECK(r.mismatches == 0);
}

TEST_CASE("timed causal attention forward matches the interpreter", "[sm][values]") {
  const Outcome r = timed_vs_interpreter("attention_fwd", {{"causal", "1"}}, two_sms());
  INFO(r.first);
  CHECK(r.mismatches == 0);
}

TEST_CASE("timed softmax matches the interpreter", "[sm][values]") {
  const Outcome r = timed_vs_interpreter("softmax", {}, two_sms());
  INFO(r.first);
  CHECK(r.mismatches == 0);
}

TEST_CASE("a timed run that dropped an op's effect would be caught", "[sm][values]") {
  // The comparison itself can fail: perturb one input after the interpreter ran and expect mismatches.
  workloads::WorkloadBuild b = workloads::build_workload("softmax", {}, workloads::Scale::functional);
  const isa::Buffers inputs = workloads::find_workload("softmax").make_inputs(b);
  isa::Buffers ref = inputs;
  isa::run_kernel(b.module, b.kernel_name, ref, b.scalars, b.interpreter);
  core::LaunchArgs a;
  for (const auto& [k, v] : b.scalars) a.scalars[k] = static_cast<double>(v);
  a.carry_values = true;
  a.inputs = inputs.tensors;
  isa::TileValue& x = a.inputs.at("X");
  x.set(0, x.at(0) + 1.0);
  simt_test::SmRig rig(std::make_shared<const isa::Module>(b.module), b.kernel_name, a);
  REQUIRE(rig.run().completed);
  const core::KernelLaunch& l = rig.launch();
  bool differs = false;
  for (const auto& g : l.globals)
    if (g.name == "Y") differs = l.values->tensor(g.param) != ref.tensor("Y");
  CHECK(differs);
}

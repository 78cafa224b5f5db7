// Channels between multi-warp groups on the SIMT SM: a warp group's put is one arrive for the group
// (published by whichever of its warps gets there first), while each warp waits for the stage itself
// (acquire). A warp that reaches its acquire after a sibling already filled the stage again must see it
// as acquired, not wait for a release that already happened.
#include <catch2/catch.hpp>

#include <map>

#include "isa/interpreter.hpp"
#include "tests/simt/sm_rig.hpp"
#include "workloads/workload.hpp"

using namespace tilesim;

namespace {

// A producer warp group (4 warps) computes a tile per round and puts it into a two-stage channel; a
// consumer warp group (4 warps) gets each round's tile, doubles it and stores it. The producer's warps do
// not issue in lockstep (each shares its sub-partition with a consumer warp), so the first ones publish a
// stage's refill before the last one has executed its own acquire of it.
const char* const kRounds = R"(
kernel @rounds(%X: global<f32>[1, T], %Y: global<f32>[R, T], T: i32, R: i32)
    resources(warps=8) {
  channel %ch: stages=2 of tile<f32>[1, T] @scratch

  role producer warps=4 {
    %c0 = const 0 : index
    %c1 = const 1 : index
    %x = load %X[%c0, %c0] : tile<f32>[1, T] @reg
    for %i = %c0 to R step %c1 {
      %ii = cast %i to=i32
      %fi = cast %ii to=f32
      %xi = add %x, %fi
      put %ch, %xi
    }
  }

  role consumer warps=4 {
    %c0 = const 0 : index
    %c1 = const 1 : index
    for %i = %c0 to R step %c1 {
      %t = get %ch
      %y = add %t, %t
      release %ch
      store %y, %Y[%i, %c0]
    }
  }
}
)";

struct RoundsRun {
  bool values_match = false;
  double last_round_first = 0;  // Y[R - 1][1] of the timed run
};

/// Run @rounds for `rounds` rounds on one SM, carrying values, and compare Y with the interpreter's.
RoundsRun run_rounds(std::int64_t rounds) {
  const std::int64_t T = 512;
  auto module = simt_test::parse_module(kRounds);
  isa::Buffers in;
  std::vector<double> x(static_cast<std::size_t>(T));
  for (std::int64_t i = 0; i < T; ++i) x[static_cast<std::size_t>(i)] = static_cast<double>(i % 17);
  in.tensors.emplace("X", isa::TileValue(isa::DType::f32, {1, T}, x));
  in.tensors.emplace("Y", isa::TileValue(isa::DType::f32, {rounds, T}));
  const std::map<std::string, std::int64_t> ints = {{"T", T}, {"R", rounds}};
  isa::Buffers ref = in;
  isa::run_kernel(*module, "rounds", ref, ints, {});

  core::LaunchArgs a;
  for (const auto& [k, v] : ints) a.scalars[k] = static_cast<double>(v);
  a.carry_values = true;
  a.inputs = in.tensors;
  simt_test::SmRig rig(module, "rounds", a);
  REQUIRE(rig.run().completed);  // before the fix: "deadlock: ... warp N (producer) at channel_acquire"
  RoundsRun out;
  for (const auto& g : rig.launch().globals)
    if (g.name == "Y") {
      const isa::TileValue& y = rig.launch().values->tensor(g.param);
      out.values_match = y == ref.tensor("Y");
      out.last_round_first = y.at((rounds - 1) * T + 1);
    }
  return out;
}

}  // namespace

TEST_CASE("a multi-warp producer group puts computed tiles round after round without deadlock",
          "[sm][channels]") {
  // 24 rounds through 2 stages: every stage is refilled 11 times, each time acquired by all 4 producer
  // warps, some of them after a sibling already published the refill.
  const RoundsRun r = run_rounds(24);
  CHECK(r.values_match);
  CHECK(r.last_round_first == 2 * (1 + 23));  // 2 * (X[1] + round)
}

namespace {
// Runs attention_ws timed on a 2-SM rig, carrying values, and compares every tensor with the interpreter.
void check_timed_attention_ws(const std::map<std::string, std::string>& params) {
  workloads::WorkloadBuild b = workloads::build_workload("attention_ws", params, workloads::Scale::functional);
  const isa::Buffers inputs = workloads::find_workload("attention_ws").make_inputs(b);
  isa::Buffers ref = inputs;
  isa::run_kernel(b.module, b.kernel_name, ref, b.scalars, b.interpreter);
  core::LaunchArgs a;
  for (const auto& [k, v] : b.scalars) a.scalars[k] = static_cast<double>(v);
  for (const auto& [k, v] : b.float_scalars) a.scalars[k] = v;
  a.carry_values = true;
  a.inputs = inputs.tensors;
  a.mma = b.interpreter.mma;
  simt_test::RigOptions o;
  o.cores = 2;
  simt_test::SmRig rig(std::make_shared<const isa::Module>(b.module), b.kernel_name, a, o);
  REQUIRE(rig.run().completed);
  for (const auto& g : rig.launch().globals) {
    INFO(g.name);
    CHECK(rig.launch().values->tensor(g.param) == ref.tensor(g.name));
  }
}
}  // namespace

TEST_CASE("timed warp-specialised attention with ping-pong turns matches the interpreter", "[sm][channels][values]") {
  // attention_ws passes a turn token between its two consumer warp groups through one-stage channels
  // (computed puts by 4-warp groups, every key block); causal, so masked and unmasked loops both run.
  check_timed_attention_ws({{"causal", "1"}});
}

TEST_CASE("timed persistent attention_ws programs loop over their tiles and match the interpreter",
          "[sm][channels][values]") {
  // 3 persistent programs on 2 SMs over 2 batches x 2 heads x 2 query blocks: each program's roles run
  // several tiles through the same channels (Q released and refilled per tile, the turn tokens balanced
  // per tile), and the third program waits for an SM.
  check_timed_attention_ws({{"batch", "2"}, {"seqlen", "100"}, {"programs", "3"}});
}

// The functional interpreter on roles, channels, barriers and clusters (the cooperative scheduler and
// its deadlock report), on every opcode of the table, and on a whole tiled GEMM (result and speed).
#include <catch2/catch.hpp>

#include <chrono>
#include <set>

#include "isa/interpreter.hpp"
#include "isa/text_parser.hpp"
#include "tile_test_files.hpp"

using namespace tilesim;
using namespace tilesim::isa;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {

Module parse(const std::string& text) { return parse_module(text, "t.tile"); }

std::string run_error(const Module& m, const SymbolValues& scalars = {}) {
  Buffers b = zero_buffers(m.kernels.at(0), scalars);
  try {
    run_kernel(m, m.kernels.at(0).name, b, scalars);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

void fill(TileValue& t, double (*f)(int64_t)) {
  for (int64_t i = 0; i < t.size(); ++i) t.set(i, f(i));
}

const char* const kProducerConsumer = R"(
kernel @pc(%A: global<f32>[4, 8], %S: global<f32>[2, 8]) {
  channel %ch: stages=2 of tile<f32>[1, 8] @scratch
  role producer {
    %c0 = const 0 : index
    %c1 = const 1 : index
    %c4 = const 4 : index
    for %i = %c0 to %c4 step %c1 {
      %a, %ta = copy_async %A[%i, %c0] : tile<f32>[1, 8] @scratch
      put %ch, %a after(%ta)
    }
  }
  role consumer x2 {
    %c0 = const 0 : index
    %c1 = const 1 : index
    %c4 = const 4 : index
    %inst = role_instance
    %z = zeros : tile<f32>[1, 8] @reg
    %sum = for %i = %c0 to %c4 step %c1 iter(%s = %z) {
      %x = get %ch
      %s2 = add %s, %x
      release %ch
      yield %s2
    }
    store %sum, %S[%inst, %c0]
  }
}
)";

}  // namespace

TEST_CASE("interpreter roles: every consumer instance gets every item through a 2-stage channel", "[interpreter][roles]") {
  const Module m = parse(kProducerConsumer);
  Buffers b = zero_buffers(m.kernels[0], {});
  fill(b.tensor("A"), [](int64_t i) { return static_cast<double>(i); });
  const RunSummary s = run_kernel(m, "pc", b, {});
  // column sums of A: rows 0..3 of [8r .. 8r + 7]
  for (int64_t inst = 0; inst < 2; ++inst)
    for (int64_t c = 0; c < 8; ++c) CHECK(b.tensor("S").at(inst * 8 + c) == 4.0 * c + 8.0 * (0 + 1 + 2 + 3));
  CHECK(s.tasks == 3);
  CHECK(s.count(OpId::put) == 4);
  CHECK(s.count(OpId::get) == 8);
  CHECK(s.count(OpId::release) == 8);
  CHECK(s.task_switches > 0);  // the producer had to stop at the third put

  // The same run twice gives the same bits and the same schedule.
  Buffers again = zero_buffers(m.kernels[0], {});
  fill(again.tensor("A"), [](int64_t i) { return static_cast<double>(i); });
  const RunSummary s2 = run_kernel(m, "pc", again, {});
  CHECK(again.tensor("S") == b.tensor("S"));
  CHECK(s2.task_switches == s.task_switches);
}

TEST_CASE("interpreter roles: a consumer that never releases deadlocks the producer", "[interpreter][roles][errors]") {
  const Module m = parse(R"(kernel @stuck(%A: global<f32>[4, 8]) {
  channel %ch: stages=2 of tile<f32>[1, 8] @scratch
  role producer {
    %c0 = const 0 : index
    %c1 = const 1 : index
    %c4 = const 4 : index
    for %i = %c0 to %c4 step %c1 {
      %a, %ta = copy_async %A[%i, %c0] : tile<f32>[1, 8] @scratch
      put %ch, %a after(%ta)
    }
  }
  role consumer {
    %c0 = const 0 : index
    %c1 = const 1 : index
    %c4 = const 4 : index
    for %i = %c0 to %c4 step %c1 {
      %x = get %ch
    }
  }
}
)");
  const std::string e = run_error(m);
  CHECK_THAT(e, StartsWith("t.tile:9:7: error: deadlock: every unfinished task is blocked"));
  CHECK_THAT(e, Contains("program (0), role producer instance 0: blocked at 9:7 on 'put': channel %ch is full "
                         "(2 put, 2 of 2 stages in use; consumer instance 0 got 2, released 0)"));
  CHECK_THAT(e, Contains("program (0), role consumer instance 0: blocked at 17:12 on 'get': channel %ch has no new item"));
  CHECK_THAT(e, Contains("hint: "));
}

TEST_CASE("interpreter roles: a get with nothing left to put deadlocks", "[interpreter][roles][errors]") {
  const Module m = parse(R"(kernel @starved(%A: global<f32>[1, 8]) {
  channel %ch: stages=1 of tile<f32>[1, 8] @scratch
  role producer {
    %c0 = const 0 : index
    %a, %ta = copy_async %A[%c0, %c0] : tile<f32>[1, 8] @scratch
    put %ch, %a after(%ta)
  }
  role consumer {
    %x = get %ch
    release %ch
    %y = get %ch
    release %ch
  }
}
)");
  const std::string e = run_error(m);
  CHECK_THAT(e, StartsWith("t.tile:11:10: error: deadlock"));
  CHECK_THAT(e, Contains("role producer instance 0: finished"));
  CHECK_THAT(e, Contains("role consumer instance 0: blocked at 11:10 on 'get': channel %ch has no new item (1 put, 0 of 1 stages in use"));
}

TEST_CASE("interpreter roles: barriers wait for every task of their scope", "[interpreter][roles]") {
  // The consumer stores after the barrier what the producer wrote before it: both orders of arrival work.
  const char* text = R"(kernel @sync(%A: global<f32>[8], %B: global<f32>[8], %C: global<f32>[8]) {
  channel %ch: stages=1 of tile<f32>[8] @reg
  role producer {
    %c0 = const 0 : index
    %a = load %A[%c0] : tile<f32>[8] @reg
    store %a, %B[%c0]
    barrier
    put %ch, %a
  }
  role consumer {
    %c0 = const 0 : index
    barrier
    %b = load %B[%c0] : tile<f32>[8] @reg
    store %b, %C[%c0]
    %x = get %ch
    release %ch
  }
}
)";
  const Module m = parse(text);
  Buffers b = zero_buffers(m.kernels[0], {});
  fill(b.tensor("A"), [](int64_t i) { return 1.0 + static_cast<double>(i); });
  const RunSummary s = run_kernel(m, "sync", b, {});
  CHECK(b.tensor("C") == b.tensor("A"));
  CHECK(s.count(OpId::barrier) == 2);

  // A role that finishes without reaching the barrier leaves the other waiting.
  const Module lonely = parse(R"(kernel @lonely(%A: global<f32>[8]) {
  channel %ch: stages=1 of tile<f32>[8] @reg
  role producer {
    %c0 = const 0 : index
    %a = load %A[%c0] : tile<f32>[8] @reg
    put %ch, %a
    barrier
  }
  role consumer {
    %x = get %ch
    release %ch
  }
}
)");
  CHECK_THAT(run_error(lonely), StartsWith("t.tile:7:5: error: deadlock") &&
                                    Contains("on 'barrier': waiting at the barrier: 1 of 2 tasks arrived") &&
                                    Contains("role consumer instance 0: finished"));
}

TEST_CASE("interpreter clusters: cluster_load reads the peer program's tile", "[interpreter][cluster]") {
  for (const char* sync : {"barrier scope=cluster", ""}) {
    const std::string text = std::string(R"(kernel @swap(%X: global<f32>[4, 4], %Y: global<f32>[4, 4]) grid(4) cluster(2) {
  %p = program_id 0
  %c0 = const 0 : index
  %x, %tx = copy_async %X[%p, %c0] : tile<f32>[1, 4] @scratch
  wait %tx
  )") + sync + R"(
  %r = cluster_rank
  %c1 = const 1 : index
  %other = sub %c1, %r
  %peer, %tp = cluster_load %x, %other
  store %peer, %Y[%p, %c0]
}
)";
    INFO(text);
    const Module m = parse(text);
    Buffers b = zero_buffers(m.kernels[0], {});
    fill(b.tensor("X"), [](int64_t i) { return static_cast<double>(i); });
    const RunSummary s = run_kernel(m, "swap", b, {});
    // programs 0 and 1 form one cluster, 2 and 3 the other: rows swap pairwise
    for (int64_t r = 0; r < 4; ++r)
      for (int64_t c = 0; c < 4; ++c) CHECK(b.tensor("Y").at(r * 4 + c) == static_cast<double>((r ^ 1) * 4 + c));
    CHECK(s.programs == 4);
  }
  const Module bad = parse(R"(kernel @far(%X: global<f32>[2, 4]) grid(2) cluster(2) {
  %c0 = const 0 : index
  %x, %tx = copy_async %X[%c0, %c0] : tile<f32>[1, 4] @scratch
  wait %tx
  %r = const 5 : index
  %peer, %tp = cluster_load %x, %r
}
)");
  CHECK_THAT(run_error(bad), StartsWith("t.tile:6:16: error: 'cluster_load': cluster rank 5 is outside 0..1"));
  const Module uneven = parse(R"(kernel @uneven() grid(3) cluster(2) {
}
)");
  CHECK_THAT(run_error(uneven), Contains("grid dim 0 (3) is not a multiple of the cluster dim (2)"));
}

TEST_CASE("interpreter: every opcode of the table executes (every_opcode.tile)", "[interpreter]") {
  const Module m = parse_file((testing::repo_root() / "tests/isa/data/every_opcode.tile").string());
  std::set<OpId> executed;
  for (const Kernel& k : m.kernels) {
    const SymbolValues scalars = k.name == "every_op" ? SymbolValues{{"N", 4}} : SymbolValues{};
    Buffers b = zero_buffers(k, scalars);
    for (auto& [name, t] : b.tensors) fill(t, [](int64_t i) { return 0.25 + 0.5 * static_cast<double>(i % 5); });
    const RunSummary s = run_kernel(m, k.name, b, scalars);
    for (const OpcodeInfo& info : opcode_table())
      if (s.count(info.id) > 0) executed.insert(info.id);
  }
  for (const OpcodeInfo& info : opcode_table()) {
    INFO("not executed: " << info.name);
    CHECK(executed.count(info.id) == 1);
  }
}

TEST_CASE("interpreter: a 256^3 bf16 GEMM in 128x128x64 tiles equals one whole-matrix mma, fast", "[interpreter][mma]") {
  const Module m = parse_file((testing::repo_root() / "tests/isa/data/gemm_pipelined.tile").string());
  const SymbolValues sizes{{"M", 256}, {"N", 256}, {"K", 256}};
  Buffers b = zero_buffers(m.kernels[0], sizes);
  fill(b.tensor("A"), [](int64_t i) { return static_cast<double>((i * 7919) % 2001 - 1000) / 997.0; });
  fill(b.tensor("B"), [](int64_t i) { return static_cast<double>((i * 104729) % 1999 - 999) / 1013.0; });
  const auto start = std::chrono::steady_clock::now();
  const RunSummary s = run_kernel(m, "gemm_pipelined", b, sizes);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  WARN("256x256x256 bf16 GEMM: " << seconds << " s");
  CHECK(s.programs == 4);
  CHECK(s.count(OpId::mma) == 16);
  CHECK(seconds < 2.0);  // measured ~0.2 s at -O2; the bound leaves room for a loaded machine
  // K tiles ascending + k ascending inside each mma = one mma over the whole K
  const TileValue whole = mma(TileValue(DType::f32, {256, 256}), b.tensor("A"), b.tensor("B"));
  CHECK(b.tensor("C") == whole);
}

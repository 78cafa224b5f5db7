// The systolic array (arch/megacore/systolic_array.*): SCALE-Sim's formulas, hand-computed values, and the
// wavefront state machine checked against the formulas (independent oracle), double buffering, stepping
// equivalence and determinism.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "arch/megacore/systolic_array.hpp"
#include "sim/error.hpp"

using namespace tilesim;
using namespace tilesim::megacore;

namespace {

using Completions = std::vector<SystolicArray::Completion>;

struct Gemm {
  std::uint64_t M, K, N;
};

// Shapes: exact multiples, partial folds in every dimension, degenerate 1x1x1, tall and wide.
const std::vector<Gemm> kGemms = {{128, 128, 128}, {256, 128, 128}, {100, 70, 50},  {1000, 300, 129},
                                  {1, 1, 1},       {129, 257, 513}, {64, 512, 512}, {4096, 128, 256},
                                  {127, 129, 255}, {300, 1, 700},   {17, 2048, 33}, {512, 384, 96}};

// Drive the array by jumping from event to event until it is idle; returns every completion.
Completions run_to_idle(SystolicArray& array) {
  Completions all;
  while (!array.idle()) {
    const std::uint64_t next = array.next_event_cycle();
    REQUIRE(next != std::numeric_limits<std::uint64_t>::max());
    for (const auto& c : array.advance_to(next)) all.push_back(c);
  }
  return all;
}

// Total cycles of a GEMM on the stepped model: all folds queued at cycle 0, last completion cycle.
std::uint64_t stepped_gemm_cycles(const ArrayShape& shape, std::uint32_t buffers, Charging charging, const Gemm& g) {
  SystolicArray array(shape, buffers, charging);
  const std::vector<Fold> folds = gemm_folds(shape, g.M, g.K, g.N);
  for (std::size_t i = 0; i < folds.size(); ++i) array.enqueue_fold(folds[i].used_rows, folds[i].used_cols, folds[i].t, i);
  const Completions done = run_to_idle(array);
  REQUIRE(done.size() == folds.size());
  return done.back().second;
}

void check_stepped_equals_scalesim(Dataflow dataflow) {
  for (const std::uint32_t size : {128u, 256u}) {
    const ArrayShape shape{size, size, dataflow};
    for (const Gemm& g : kGemms) {
      INFO(dataflow_name(dataflow) << " " << size << "x" << size << " array, M=" << g.M << " K=" << g.K
                                   << " N=" << g.N);
      CHECK(stepped_gemm_cycles(shape, 1, Charging::full_array, g) == scalesim_compute_cycles(shape, g.M, g.K, g.N));
    }
  }
  // A non-square array as well.
  const ArrayShape wide{32, 64, dataflow};
  for (const Gemm& g : kGemms) {
    INFO(dataflow_name(dataflow) << " 32x64 array, M=" << g.M << " K=" << g.K << " N=" << g.N);
    CHECK(stepped_gemm_cycles(wide, 1, Charging::full_array, g) == scalesim_compute_cycles(wide, g.M, g.K, g.N));
  }
}

// Fold-level reference of the double-buffered model (written independently of the state machine):
// fold k streams from s_k = s_{k-1} + max(T_{k-1}, L_k) (its load starts when fold k-1 starts streaming),
// s_0 = L_0; it completes at s_k + T_k - 1 + (rows_k + cols_k - 1).
std::vector<std::uint64_t> double_buffered_completions(const std::vector<Fold>& folds) {
  std::vector<std::uint64_t> out;
  std::uint64_t s = 0;
  for (std::size_t k = 0; k < folds.size(); ++k) {
    s = k == 0 ? folds[0].used_rows : s + std::max<std::uint64_t>(folds[k - 1].t, folds[k].used_rows);
    out.push_back(s + folds[k].t - 1 + (folds[k].used_rows + folds[k].used_cols - 1));
  }
  return out;
}

struct TimedFold {
  std::uint64_t at;  // cycle it is enqueued
  Fold fold;
};

std::vector<TimedFold> random_fold_stream(std::uint32_t seed, const ArrayShape& shape) {
  std::mt19937 rng(seed);
  std::vector<TimedFold> stream;
  std::uint64_t at = 0;
  for (int i = 0; i < 40; ++i) {
    at += rng() % 3 == 0 ? rng() % 200 : 0;  // bursts of folds with gaps between them
    Fold f;
    f.used_rows = 1 + rng() % shape.rows;
    f.used_cols = 1 + rng() % shape.cols;
    f.t = 1 + rng() % 90;
    stream.push_back({at, f});
  }
  return stream;
}

struct RunResult {
  Completions done;
  std::uint64_t busy, macs, loads, wavefronts;
  std::vector<std::uint64_t> samples;  // statistics every kSampleEvery cycles (mid-phase exactness)
};

constexpr std::uint64_t kSampleEvery = 37;

// Feed the timed folds; `step` = 1 advances one cycle per call, 0 jumps from event to event.
RunResult run_stream(const ArrayShape& shape, std::uint32_t buffers, Charging charging,
                     const std::vector<TimedFold>& stream, bool one_cycle_steps) {
  SystolicArray array(shape, buffers, charging);
  RunResult r{};
  std::size_t next_fold = 0;
  std::uint64_t tag = 0;
  while (next_fold < stream.size() || !array.idle()) {
    while (next_fold < stream.size() && stream[next_fold].at == array.now()) {
      const Fold& f = stream[next_fold++].fold;
      array.enqueue_fold(f.used_rows, f.used_cols, f.t, tag++);
    }
    if (array.now() % kSampleEvery == 0)
      for (const std::uint64_t v : {array.busy_cycles(), array.macs(), array.wavefronts(), array.stationary_load_cycles(),
                                    static_cast<std::uint64_t>(array.queued_folds())})
        r.samples.push_back(v);
    std::uint64_t to = array.now() + 1;
    if (!one_cycle_steps) {
      to = std::min(array.next_event_cycle(), (array.now() / kSampleEvery + 1) * kSampleEvery);
      if (next_fold < stream.size()) to = std::min(to, stream[next_fold].at);
    }
    for (const auto& c : array.advance_to(to)) r.done.push_back(c);
  }
  r.busy = array.busy_cycles();
  r.macs = array.macs();
  r.loads = array.stationary_load_cycles();
  r.wavefronts = array.wavefronts();
  return r;
}

}  // namespace

TEST_CASE("systolic: hand-computed SCALE-Sim cycles (formula written out)", "[systolic]") {
  // 128x128 WS, M=100 K=70 N=50: Sr=K=70, Sc=N=50, T=M=100; 1 fold; 2*128 + 128 + 100 - 2 = 482.
  const ArrayShape ws128{128, 128, Dataflow::weight_stationary};
  const FoldPlan p1 = fold_plan(ws128, 100, 70, 50);
  CHECK(std::make_tuple(p1.sr, p1.sc, p1.t, p1.row_folds, p1.col_folds) == std::make_tuple(70u, 50u, 100u, 1u, 1u));
  CHECK(scalesim_compute_cycles(ws128, 100, 70, 50) == 482);

  // 128x128 OS, M=1000 K=300 N=129: Sr=M=1000 (8 row folds), Sc=N=129 (2 col folds), T=K=300;
  // 16 * (256 + 128 + 300 - 2) = 16 * 682 = 10912.
  const ArrayShape os128{128, 128, Dataflow::output_stationary};
  const FoldPlan p2 = fold_plan(os128, 1000, 300, 129);
  CHECK(std::make_tuple(p2.sr, p2.sc, p2.t, p2.row_folds, p2.col_folds) == std::make_tuple(1000u, 129u, 300u, 8u, 2u));
  CHECK(scalesim_compute_cycles(os128, 1000, 300, 129) == 10912);

  // 256x256 IS, M=129 K=257 N=513: Sr=K=257 (2 row folds), Sc=M=129 (1 col fold), T=N=513;
  // 2 * (512 + 256 + 513 - 2) = 2 * 1279 = 2558.
  const ArrayShape is256{256, 256, Dataflow::input_stationary};
  const FoldPlan p3 = fold_plan(is256, 129, 257, 513);
  CHECK(std::make_tuple(p3.sr, p3.sc, p3.t, p3.row_folds, p3.col_folds) == std::make_tuple(257u, 129u, 513u, 2u, 1u));
  CHECK(scalesim_compute_cycles(is256, 129, 257, 513) == 2558);

  // 8x4 WS, M=10 K=9 N=5: Sr=9 (2 row folds), Sc=5 (2 col folds), T=10; 4 * (16 + 4 + 10 - 2) = 112.
  CHECK(scalesim_compute_cycles(ArrayShape{8, 4, Dataflow::weight_stationary}, 10, 9, 5) == 112);
}

TEST_CASE("systolic: gemm_folds lists every fold with the used extent", "[systolic]") {
  const ArrayShape shape{128, 128, Dataflow::weight_stationary};
  const std::vector<Fold> folds = gemm_folds(shape, 1000, 300, 129);  // Sr = 300 (3 folds), Sc = 129 (2 folds)
  REQUIRE(folds.size() == fold_plan(shape, 1000, 300, 129).folds());
  REQUIRE(folds.size() == 6);
  std::uint64_t macs = 0;
  for (const Fold& f : folds) {
    CHECK(f.t == 1000);
    macs += std::uint64_t{f.used_rows} * f.used_cols * f.t;
  }
  CHECK(macs == 1000ull * 300 * 129);  // the folds tile the GEMM exactly
  CHECK(folds[0].used_rows == 128);
  CHECK(folds[2].used_rows == 300 - 256);
  CHECK(folds[0].used_cols == 128);
  CHECK(folds[5].used_cols == 1);
}

TEST_CASE("systolic: stepped model = SCALE-Sim cycles, weight stationary", "[systolic]") {
  check_stepped_equals_scalesim(Dataflow::weight_stationary);
}

TEST_CASE("systolic: stepped model = SCALE-Sim cycles, output stationary", "[systolic]") {
  check_stepped_equals_scalesim(Dataflow::output_stationary);
}

TEST_CASE("systolic: stepped model = SCALE-Sim cycles, input stationary", "[systolic]") {
  check_stepped_equals_scalesim(Dataflow::input_stationary);
}

TEST_CASE("systolic: one fold, used extent: load + stream + drain over the used rows and columns", "[systolic]") {
  // 70 rows x 50 cols used of 128x128, T = 100, one buffer: load 70 cycles (0..69), wavefronts enter at
  // 70..169, each stays 70 + 50 - 1 = 119 cycles: the last leaves at 169 + 119 = 288.
  SystolicArray array(ArrayShape{128, 128, Dataflow::weight_stationary}, 1);
  array.enqueue_fold(70, 50, 100, 7);
  CHECK(array.next_event_cycle() == 70);  // load ends
  CHECK(array.advance_to(170).empty());
  CHECK(array.stationary_load_cycles() == 70);
  CHECK(array.wavefronts() == 0);     // the first wavefront leaves at 70 + 119 = 189
  CHECK(array.busy_cycles() == 100);  // cycles 70..169
  const Completions done = array.advance_to(1000);
  REQUIRE(done.size() == 1);
  CHECK(done[0] == SystolicArray::Completion{7, 288});
  CHECK(array.idle());
  CHECK(array.busy_cycles() == 100 + 119 - 1);  // first entry (70) .. last exit (288)
  CHECK(array.macs() == 70ull * 50 * 100);
  CHECK(array.wavefronts() == 100);
}

TEST_CASE("systolic: wavefronts leave one per cycle after the fill", "[systolic]") {
  // 4x4 array, full fold, T = 10: load 0..3, entries 4..13, each stays 7 cycles: they have left at 11..20.
  SystolicArray array(ArrayShape{4, 4, Dataflow::weight_stationary}, 1);
  array.enqueue_fold(4, 4, 10, 1);
  array.advance_to(10);
  CHECK(array.wavefronts() == 0);
  CHECK(array.busy_cycles() == 6);  // cycles 4..9
  array.advance_to(11);
  CHECK(array.wavefronts() == 1);
  CHECK(array.macs() == 16);
  array.advance_to(15);
  CHECK(array.wavefronts() == 5);
  const Completions done = array.advance_to(40);
  CHECK(done == Completions{{1, 20}});  // = 2*4 + 4 + 10 - 2 (SCALE-Sim)
  CHECK(array.busy_cycles() == 16);    // cycles 4..19
  CHECK(array.utilisation() == Approx(160.0 / (16.0 * 16.0)));
}

TEST_CASE("systolic: double-buffered back-to-back folds = first load + sum(T) + fill/drain", "[systolic]") {
  // 128x128 WS, M=1024 K=512 N=256: 4 x 2 = 8 full folds, T = 1024 >= 128 rows of the next load, so every
  // load hides under the previous fold's stream: 128 + 8 * 1024 + (128 + 128 - 2) = 8574.
  const ArrayShape shape{128, 128, Dataflow::weight_stationary};
  for (const Charging charging : {Charging::used_extent, Charging::full_array}) {
    CHECK(stepped_gemm_cycles(shape, 2, charging, {1024, 512, 256}) == 128 + 8 * 1024 + (128 + 128 - 2));
  }
  // Single buffer: SCALE-Sim's 8 * (2*128 + 128 + 1024 - 2) = 11248.
  CHECK(stepped_gemm_cycles(shape, 1, Charging::full_array, {1024, 512, 256}) == 8 * (256 + 128 + 1024 - 2));
  // Short streams (T = 50 < 128-row loads): each later fold waits for its load: 128 + 7 * 128 + 50 + 254.
  CHECK(stepped_gemm_cycles(shape, 2, Charging::full_array, {50, 512, 256}) == 128 + 7 * 128 + 50 + 254);
  // Three buffers do not help when the single load port is the limit.
  CHECK(stepped_gemm_cycles(shape, 3, Charging::full_array, {50, 512, 256}) == 128 + 7 * 128 + 50 + 254);
}

TEST_CASE("systolic: double-buffered completions follow the fold-level recurrence", "[systolic]") {
  const ArrayShape shape{128, 128, Dataflow::weight_stationary};
  for (const Gemm& g : kGemms) {
    INFO("M=" << g.M << " K=" << g.K << " N=" << g.N);
    const std::vector<Fold> folds = gemm_folds(shape, g.M, g.K, g.N);
    SystolicArray array(shape, 2, Charging::used_extent);
    for (std::size_t i = 0; i < folds.size(); ++i) array.enqueue_fold(folds[i].used_rows, folds[i].used_cols, folds[i].t, i);
    Completions done = run_to_idle(array);
    std::sort(done.begin(), done.end());  // by tag (partial folds may finish before a larger earlier one)
    const std::vector<std::uint64_t> expected = double_buffered_completions(folds);
    REQUIRE(done.size() == expected.size());
    for (std::size_t i = 0; i < done.size(); ++i) CHECK(done[i] == SystolicArray::Completion{i, expected[i]});
    // Double buffering never loses against one buffer.
    CHECK(stepped_gemm_cycles(shape, 2, Charging::used_extent, g) <= stepped_gemm_cycles(shape, 1, Charging::used_extent, g));
  }
}

TEST_CASE("systolic: a long double-buffered stream saturates the array", "[systolic]") {
  // 64 full folds of T = 2048: macs / (R*C*busy) = 64*2048 / (64*2048 + 255 - 1) -> > 0.99.
  SystolicArray array(ArrayShape{128, 128, Dataflow::weight_stationary}, 2);
  for (std::uint64_t i = 0; i < 64; ++i) array.enqueue_fold(128, 128, 2048, i);
  CHECK(array.queued_folds() == 63);
  run_to_idle(array);
  CHECK(array.busy_cycles() == 64 * 2048 + 255 - 1);
  CHECK(array.macs() == 64ull * 2048 * 128 * 128);
  CHECK(array.stationary_load_cycles() == 64 * 128);
  CHECK(array.utilisation() > 0.99);
  CHECK(array.utilisation() <= 1.0);
}

TEST_CASE("systolic: stepping one cycle at a time equals jumping between events", "[systolic][determinism]") {
  const ArrayShape shape{16, 24, Dataflow::weight_stationary};
  for (const std::uint32_t buffers : {1u, 2u, 3u}) {
    for (const Charging charging : {Charging::used_extent, Charging::full_array}) {
      for (const std::uint32_t seed : {1u, 2u, 3u}) {
        INFO("buffers " << buffers << " charging " << static_cast<int>(charging) << " seed " << seed);
        const std::vector<TimedFold> stream = random_fold_stream(seed, shape);
        const RunResult stepped = run_stream(shape, buffers, charging, stream, true);
        const RunResult jumped = run_stream(shape, buffers, charging, stream, false);
        REQUIRE(stepped.done.size() == stream.size());
        CHECK(stepped.done == jumped.done);
        CHECK(stepped.busy == jumped.busy);
        CHECK(stepped.macs == jumped.macs);
        CHECK(stepped.loads == jumped.loads);
        CHECK(stepped.wavefronts == jumped.wavefronts);
        CHECK(stepped.samples == jumped.samples);
        std::uint64_t expected_macs = 0;
        for (const TimedFold& f : stream) expected_macs += std::uint64_t{f.fold.used_rows} * f.fold.used_cols * f.fold.t;
        CHECK(stepped.macs == expected_macs);
        // Determinism: the same input gives the same completions.
        CHECK(run_stream(shape, buffers, charging, stream, false).done == jumped.done);
      }
    }
  }
}

TEST_CASE("systolic: bad dataflow string names the value and the choices", "[systolic][errors]") {
  CHECK(parse_dataflow("weight_stationary") == Dataflow::weight_stationary);
  CHECK(parse_dataflow("output_stationary") == Dataflow::output_stationary);
  CHECK(parse_dataflow("input_stationary") == Dataflow::input_stationary);
  try {
    parse_dataflow("row_stationary");
    FAIL("no error");
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    CHECK(what.find("'row_stationary'") != std::string::npos);
    CHECK(what.find("weight_stationary, output_stationary, input_stationary") != std::string::npos);
  }
}

TEST_CASE("systolic: bad folds, shapes and time travel are rejected", "[systolic][errors]") {
  SystolicArray array(ArrayShape{8, 8, Dataflow::weight_stationary}, 2);
  CHECK_THROWS_AS(array.enqueue_fold(9, 8, 4, 0), ConfigError);
  CHECK_THROWS_AS(array.enqueue_fold(8, 0, 4, 0), ConfigError);
  CHECK_THROWS_AS(array.enqueue_fold(8, 8, 0, 0), ConfigError);
  CHECK(array.idle());
  CHECK(array.next_event_cycle() == std::numeric_limits<std::uint64_t>::max());
  array.advance_to(5);
  CHECK_THROWS_AS(array.advance_to(4), InternalError);
  CHECK_THROWS_AS(SystolicArray(ArrayShape{0, 8, Dataflow::weight_stationary}, 1), ConfigError);
  CHECK_THROWS_AS(SystolicArray(ArrayShape{8, 8, Dataflow::weight_stationary}, 0), ConfigError);
  CHECK_THROWS_AS(fold_plan(ArrayShape{}, 0, 1, 1), ConfigError);
}

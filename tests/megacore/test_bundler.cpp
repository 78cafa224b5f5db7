// The VLIW bundler (arch/megacore/bundler.*): list scheduling and iterative modulo scheduling, checked by an
// independent schedule checker on seeded random DAGs / loops, plus hand-computed MII cases and error cases.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "arch/megacore/bundler.hpp"
#include "sim/error.hpp"

using namespace tilesim;
using namespace tilesim::megacore;

namespace {

SchedOp op(SlotKind slot, std::uint32_t latency, std::vector<Dep> deps = {}, std::string label = {}) {
  SchedOp o;
  o.slot = slot;
  o.latency = latency;
  o.deps = std::move(deps);
  o.label = std::move(label);
  return o;
}

SchedOp unit_op(SlotKind slot, std::uint32_t latency, std::int32_t unit, std::uint32_t unit_cycles,
                std::vector<Dep> deps = {}, std::string label = {}) {
  SchedOp o = op(slot, latency, std::move(deps), std::move(label));
  o.unit = unit;
  o.unit_cycles = unit_cycles;
  return o;
}

std::int64_t dep_latency(const std::vector<SchedOp>& ops, const Dep& d) {
  return d.latency >= 0 ? d.latency : static_cast<std::int64_t>(ops[d.op].latency);
}

// Independent checker. ii = 0: a flat schedule (bundles indexed by cycle); ii > 0: a modulo schedule
// (every resource row taken modulo ii, kernel bundles = ops by cycle % ii). Returns "" or the first problem.
std::string check_schedule(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units,
                           const std::vector<std::uint32_t>& cycle_of, const std::vector<Bundle>& bundles,
                           std::uint32_t ii) {
  if (cycle_of.size() != ops.size()) return "cycle_of has the wrong size";
  // Every op appears in exactly one bundle, the one of its cycle.
  std::vector<int> seen(ops.size(), 0);
  for (std::size_t b = 0; b < bundles.size(); ++b) {
    std::array<std::uint32_t, kSlotKinds> used{};
    for (const std::uint32_t i : bundles[b].ops) {
      if (i >= ops.size()) return "bundle names a missing op";
      ++seen[i];
      const std::uint32_t expected_bundle = ii == 0 ? cycle_of[i] : cycle_of[i] % ii;
      if (expected_bundle != b) return "op " + std::to_string(i) + " is in the wrong bundle";
      if (++used[static_cast<std::size_t>(ops[i].slot)] > slots.per_bundle[static_cast<std::size_t>(ops[i].slot)])
        return "bundle " + std::to_string(b) + " overfills slot kind " + slot_kind_name(ops[i].slot);
    }
  }
  for (std::size_t i = 0; i < ops.size(); ++i)
    if (seen[i] != 1) return "op " + std::to_string(i) + " appears " + std::to_string(seen[i]) + " times";
  // Dependences: issue(consumer) >= issue(producer) + latency - distance * II.
  for (std::size_t i = 0; i < ops.size(); ++i)
    for (const Dep& d : ops[i].deps) {
      const std::int64_t need = static_cast<std::int64_t>(cycle_of[d.op]) + dep_latency(ops, d) -
                                static_cast<std::int64_t>(d.distance) * ii;
      if (static_cast<std::int64_t>(cycle_of[i]) < need)
        return "op " + std::to_string(i) + " issues before its dependence on op " + std::to_string(d.op);
    }
  // Unit reservations never overlap (modulo II for loops).
  for (std::uint32_t u = 0; u < units; ++u) {
    std::vector<std::pair<std::uint64_t, std::size_t>> cells;  // (cycle or row, op)
    for (std::size_t i = 0; i < ops.size(); ++i)
      if (ops[i].unit == static_cast<std::int32_t>(u))
        for (std::uint32_t j = 0; j < ops[i].unit_cycles; ++j)
          cells.emplace_back(ii == 0 ? cycle_of[i] + j : (cycle_of[i] + j) % ii, i);
    std::sort(cells.begin(), cells.end());
    for (std::size_t c = 1; c < cells.size(); ++c)
      if (cells[c].first == cells[c - 1].first)
        return "unit " + std::to_string(u) + " reserved twice at " + std::to_string(cells[c].first);
  }
  return "";
}

// A random straight-line block: deps only on earlier ops (a DAG), distance 0.
struct RandomBlock {
  std::vector<SchedOp> ops;
  SlotCounts slots;
  std::uint32_t units = 0;
};

RandomBlock random_block(std::uint32_t seed, bool loop) {
  std::mt19937 rng(seed);
  RandomBlock b;
  for (auto& s : b.slots.per_bundle) s = 1 + rng() % 3;
  b.units = rng() % 4;
  const std::size_t n = 1 + rng() % (loop ? 24 : 40);
  for (std::size_t i = 0; i < n; ++i) {
    SchedOp o;
    o.slot = static_cast<SlotKind>(rng() % kSlotKinds);
    o.latency = rng() % 6;  // 0 allowed: a dependant may share the bundle
    if (b.units > 0 && rng() % 3 == 0) {
      o.unit = static_cast<std::int32_t>(rng() % b.units);
      o.unit_cycles = 1 + rng() % 5;
    }
    const std::size_t deps = i == 0 ? 0 : rng() % 4;
    for (std::size_t d = 0; d < deps; ++d) {
      Dep dep;
      dep.op = static_cast<std::uint32_t>(rng() % i);
      if (rng() % 4 == 0) dep.latency = static_cast<std::int32_t>(rng() % 7);
      o.deps.push_back(dep);
    }
    if (loop && rng() % 3 == 0) {  // loop-carried dependence: any direction, 1..3 iterations back
      Dep dep;
      dep.op = static_cast<std::uint32_t>(rng() % n);
      dep.distance = 1 + rng() % 3;
      if (rng() % 2 == 0) dep.latency = static_cast<std::int32_t>(rng() % 9);
      o.deps.push_back(dep);
    }
    o.label = "o" + std::to_string(i);
    b.ops.push_back(o);
  }
  return b;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

}  // namespace

TEST_CASE("bundler: list schedules of 250 random DAGs respect slots, units and dependences", "[bundler]") {
  for (std::uint32_t seed = 1; seed <= 250; ++seed) {
    const RandomBlock b = random_block(seed, false);
    INFO("seed " << seed << ", " << b.ops.size() << " ops");
    const Schedule s = list_schedule(b.ops, b.slots, b.units);
    CHECK(check_schedule(b.ops, b.slots, b.units, s.cycle_of, s.bundles, 0) == "");
    // length = max(issue + max(1, latency, unit cycles)) and the bundles end at the last issue.
    std::uint32_t length = 0, last = 0;
    for (std::size_t i = 0; i < b.ops.size(); ++i) {
      std::uint32_t span = std::max<std::uint32_t>(1, b.ops[i].latency);
      if (b.ops[i].unit >= 0) span = std::max(span, b.ops[i].unit_cycles);
      length = std::max(length, s.cycle_of[i] + span);
      last = std::max(last, s.cycle_of[i]);
    }
    CHECK(s.length == length);
    CHECK(s.bundles.size() == last + 1);
    // Greedy: a list scheduler never leaves a bundle empty when an op could have issued there, so the first
    // bundle is never empty.
    CHECK_FALSE(s.bundles.front().ops.empty());
  }
}

TEST_CASE("bundler: list schedule of a dependence chain = sum of latencies", "[bundler]") {
  const std::vector<std::uint32_t> latencies = {3, 1, 4, 1, 5, 9, 2, 6};
  std::vector<SchedOp> ops;
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < latencies.size(); ++i) {
    ops.push_back(op(i % 2 ? SlotKind::vector : SlotKind::scalar, latencies[i],
                     i == 0 ? std::vector<Dep>{} : std::vector<Dep>{Dep{static_cast<std::uint32_t>(i - 1)}}));
    sum += latencies[i];
  }
  const Schedule s = list_schedule(ops, SlotCounts{});
  CHECK(s.length == sum);  // 31
  CHECK(s.cycle_of == std::vector<std::uint32_t>{0, 3, 4, 8, 9, 14, 23, 25});
  // An explicit edge latency overrides the producer's.
  ops[1].deps[0].latency = 0;
  CHECK(list_schedule(ops, SlotCounts{}).cycle_of[1] == 0);
}

TEST_CASE("bundler: independent ops pack ceil(n / slots) bundles, the critical path goes first", "[bundler]") {
  std::vector<SchedOp> ops(7, op(SlotKind::vector, 1));
  const Schedule s = list_schedule(ops, SlotCounts{});  // 2 vector slots
  CHECK(s.bundles.size() == 4);
  CHECK(s.length == 4);
  // One scalar slot: a 3-op chain (heights 3, 2, 1) and two lone ops of latency 1. The chain head has the
  // greatest height and issues first, so the block takes 3 cycles, not 4.
  SlotCounts one;
  one.per_bundle.fill(1);
  std::vector<SchedOp> block = {op(SlotKind::scalar, 1, {}, "lone0"), op(SlotKind::scalar, 1, {}, "lone1"),
                                op(SlotKind::scalar, 1, {}, "head"), op(SlotKind::scalar, 1, {Dep{2}}, "mid"),
                                op(SlotKind::scalar, 1, {Dep{3}}, "tail")};
  const Schedule c = list_schedule(block, one);
  CHECK(c.cycle_of[2] == 0);
  CHECK(c.length == 5);  // 5 ops through one slot
  block[3].latency = 3;  // head -> mid (1) -> tail (3): critical path 5; lone ops fill the gaps
  const Schedule d = list_schedule(block, one);
  CHECK(d.length == 5);
  CHECK(d.cycle_of[4] == 4);
}

TEST_CASE("bundler: MXU unit reservations serialise pushes in list schedules", "[bundler]") {
  // Three 8-row pushes on MXU 0 and one on MXU 1: MXU 0 is busy 24 cycles.
  std::vector<SchedOp> ops = {unit_op(SlotKind::mxu_push, 1, 0, 8), unit_op(SlotKind::mxu_push, 1, 0, 8),
                              unit_op(SlotKind::mxu_push, 1, 1, 8), unit_op(SlotKind::mxu_push, 1, 0, 8)};
  const Schedule s = list_schedule(ops, SlotCounts{}, 2);
  CHECK(check_schedule(ops, SlotCounts{}, 2, s.cycle_of, s.bundles, 0) == "");
  CHECK(s.length == 24);
  CHECK(s.cycle_of == std::vector<std::uint32_t>{0, 8, 1, 16});  // one mxu_push slot per bundle
}

TEST_CASE("bundler: modulo schedules of 250 random loops are valid modulo II", "[bundler]") {
  int at_mii = 0;
  for (std::uint32_t seed = 1; seed <= 250; ++seed) {
    const RandomBlock b = random_block(1000 + seed, true);
    INFO("seed " << 1000 + seed << ", " << b.ops.size() << " ops");
    const ModuloSchedule m = modulo_schedule(b.ops, b.slots, b.units, 512);
    CHECK(m.res_mii == resource_mii(b.ops, b.slots, b.units));
    CHECK(m.rec_mii == recurrence_mii(b.ops));
    CHECK(m.ii >= std::max({m.res_mii, m.rec_mii, 1u}));
    REQUIRE(m.kernel.size() == m.ii);
    CHECK(check_schedule(b.ops, b.slots, b.units, m.cycle_of, m.kernel, m.ii) == "");
    CHECK(*std::min_element(m.cycle_of.begin(), m.cycle_of.end()) == 0);
    CHECK(m.stages == *std::max_element(m.cycle_of.begin(), m.cycle_of.end()) / m.ii + 1);
    at_mii += m.ii == std::max({m.res_mii, m.rec_mii, 1u});
  }
  // Iterative modulo scheduling reaches the MII on nearly all loops (Rau reports ~96% on his corpus).
  CHECK(at_mii >= 225);
}

TEST_CASE("bundler: a resource-bound loop reaches II = ResMII", "[bundler]") {
  // 4 vector ops, 2 vector slots: ResMII = 2, reached.
  std::vector<SchedOp> four = {op(SlotKind::vector, 2), op(SlotKind::vector, 2, {Dep{0}}), op(SlotKind::vector, 2),
                               op(SlotKind::vector, 2, {Dep{2}})};
  const ModuloSchedule a = modulo_schedule(four, SlotCounts{}, 0, 64);
  CHECK(a.res_mii == 2);
  CHECK(a.rec_mii == 0);
  CHECK(a.ii == 2);
  CHECK(a.stages == 2);  // the dependants issue 2 cycles after their producers
  // An MXU push holding MXU 0 for 8 cycles: II 8. Two pushes on MXU 0: 16; one on each MXU: 8.
  const std::vector<SchedOp> one_push = {op(SlotKind::vector_load, 2), unit_op(SlotKind::mxu_push, 1, 0, 8, {Dep{0}})};
  CHECK(modulo_schedule(one_push, SlotCounts{}, 2, 64).ii == 8);
  std::vector<SchedOp> two_pushes = {unit_op(SlotKind::mxu_push, 1, 0, 8), unit_op(SlotKind::mxu_push, 1, 0, 8)};
  CHECK(modulo_schedule(two_pushes, SlotCounts{}, 2, 64).ii == 16);
  two_pushes[1].unit = 1;
  CHECK(modulo_schedule(two_pushes, SlotCounts{}, 2, 64).ii == 8);
}

TEST_CASE("bundler: a recurrence-bound loop reaches II = RecMII", "[bundler]") {
  // An accumulator: acc += x, latency 4, carried one iteration: RecMII = 4.
  const std::vector<SchedOp> acc = {op(SlotKind::vector_load, 3), op(SlotKind::vector, 4, {Dep{0}, Dep{1, 1}})};
  const ModuloSchedule a = modulo_schedule(acc, SlotCounts{}, 0, 64);
  CHECK(a.rec_mii == 4);
  CHECK(a.res_mii == 1);
  CHECK(a.ii == 4);
  // a -> b (latency 3), b -> a carried 2 iterations (latency 2): RecMII = ceil((3 + 2) / 2) = 3.
  const std::vector<SchedOp> pair = {op(SlotKind::scalar, 3, {Dep{1, 2}}), op(SlotKind::scalar, 2, {Dep{0}})};
  const ModuloSchedule p = modulo_schedule(pair, SlotCounts{}, 0, 64);
  CHECK(p.rec_mii == 3);
  CHECK(p.ii == 3);
  // Two recurrences; the tighter one binds: ceil(7/1) = 7 vs ceil(6/2) = 3.
  const std::vector<SchedOp> two = {op(SlotKind::scalar, 7, {Dep{0, 1}}), op(SlotKind::scalar, 6, {Dep{1, 2}})};
  CHECK(recurrence_mii(two) == 7);
  CHECK(modulo_schedule(two, SlotCounts{}, 0, 64).ii == 7);
}

TEST_CASE("bundler: a TPU-like matmul inner loop is MXU-bound and software-pipelined", "[bundler]") {
  // load x -> push (MXU 0, 8 cycles) -> pop (latency 8 after push, ~fill) -> add -> store; i += 1 carried.
  const std::vector<SchedOp> body = {
      op(SlotKind::vector_load, 3, {}, "vld"),
      unit_op(SlotKind::mxu_push, 8, 0, 8, {Dep{0}}, "push"),
      unit_op(SlotKind::mxu_pop, 2, 1, 8, {Dep{1}}, "pop"),
      op(SlotKind::vector, 2, {Dep{2}}, "add"),
      op(SlotKind::vector_store, 1, {Dep{3}}, "vst"),
      op(SlotKind::scalar, 1, {Dep{5, 1}}, "i++"),
  };
  const ModuloSchedule m = modulo_schedule(body, SlotCounts{}, 2, 64);
  CHECK(m.ii == 8);
  CHECK(m.res_mii == 8);
  CHECK(m.rec_mii == 1);
  // Heights order vld, push, pop, add, vst: issue at 0, 3 (vld latency), 11 (push latency), 13, 15; i++ at 0.
  // Two stages: iteration i+1's load and push overlap iteration i's pop, add and store.
  CHECK(m.cycle_of == std::vector<std::uint32_t>{0, 3, 11, 13, 15, 0});
  CHECK(m.stages == 2);
  CHECK(check_schedule(body, SlotCounts{}, 2, m.cycle_of, m.kernel, m.ii) == "");
  const std::vector<std::string> lines = format_bundles(body, m.kernel);
  REQUIRE(lines.size() == 8);
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  CHECK(all.find("mxu_push[push]") != std::string::npos);
  CHECK(all.find("scalar[i++]") != std::string::npos);
}

TEST_CASE("bundler: modulo and list schedules are deterministic", "[bundler][determinism]") {
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    const RandomBlock b = random_block(5000 + seed, true);
    const ModuloSchedule m1 = modulo_schedule(b.ops, b.slots, b.units, 512);
    const ModuloSchedule m2 = modulo_schedule(b.ops, b.slots, b.units, 512);
    CHECK(m1.cycle_of == m2.cycle_of);
    CHECK(m1.ii == m2.ii);
    CHECK(format_bundles(b.ops, m1.kernel) == format_bundles(b.ops, m2.kernel));
    const RandomBlock d = random_block(6000 + seed, false);
    CHECK(list_schedule(d.ops, d.slots, d.units).cycle_of == list_schedule(d.ops, d.slots, d.units).cycle_of);
  }
}

TEST_CASE("bundler: format_bundles prints one line per bundle", "[bundler]") {
  const std::vector<SchedOp> ops = {op(SlotKind::vector, 1, {}, "add.3"), op(SlotKind::mxu_push, 1, {}, ""),
                                    op(SlotKind::scalar, 1, {Dep{0, 0, 2}}, "s")};
  const Schedule s = list_schedule(ops, SlotCounts{});
  CHECK(format_bundles(ops, s.bundles) ==
        std::vector<std::string>{"c0: vector[add.3] mxu_push[op1]", "c1: nop", "c2: scalar[s]"});
}

TEST_CASE("bundler: bad input gives clear errors", "[bundler][errors]") {
  const SlotCounts slots;
  CHECK(error_of([&] { list_schedule({op(SlotKind::scalar, 1, {Dep{5}})}, slots); })
            .find("depends on op 5, which does not exist") != std::string::npos);
  CHECK(error_of([&] {
          list_schedule({op(SlotKind::scalar, 1, {Dep{1}}, "a"), op(SlotKind::scalar, 1, {Dep{0}}, "b")}, slots);
        }).find("dependence cycle with distance 0") != std::string::npos);
  CHECK(error_of([&] { modulo_schedule({op(SlotKind::scalar, 1, {Dep{0}}, "self")}, slots, 0, 8); })
            .find("'self'") != std::string::npos);
  SlotCounts no_dma = slots;
  no_dma.per_bundle[static_cast<std::size_t>(SlotKind::dma)] = 0;
  CHECK(error_of([&] { list_schedule({op(SlotKind::dma, 1, {}, "copy")}, no_dma); })
            .find("needs a 'dma' slot but the bundle has 0") != std::string::npos);
  CHECK(error_of([&] { list_schedule({unit_op(SlotKind::mxu_push, 1, 2, 8)}, slots, 2); })
            .find("uses unit 2 but there are 2 units") != std::string::npos);
  CHECK(error_of([&] { list_schedule({op(SlotKind::scalar, 1, {Dep{0, 1}})}, slots); })
            .find("loop-carried dependence") != std::string::npos);
  CHECK(error_of([&] { modulo_schedule({unit_op(SlotKind::mxu_push, 1, 0, 16)}, slots, 1, 8); })
            .find("MII = 16") != std::string::npos);
  CHECK(error_of([&] { modulo_schedule({}, slots, 0, 8); }).find("no ops") != std::string::npos);
  CHECK(error_of([&] { parse_slot_kind("tensor"); }).find("'tensor' (choices: scalar, vector") != std::string::npos);
  CHECK(parse_slot_kind("mxu_pop") == SlotKind::mxu_pop);
}

// The VLIW bundler: list scheduling of straight-line blocks and iterative modulo scheduling of loops
// (Rau 1994). See bundler.hpp and docs/megacore_units.md.
#include "arch/megacore/bundler.hpp"

#include <algorithm>
#include <limits>

#include "sim/error.hpp"

namespace tilesim::megacore {

namespace {

const char* const kSlotNames[kSlotKinds] = {"scalar",   "vector",  "vector_load", "vector_store",
                                            "mxu_push", "mxu_pop", "dma",         "misc"};

std::string op_name(const std::vector<SchedOp>& ops, std::size_t i) {
  return ops[i].label.empty() ? cat("op", i) : cat("op ", i, " '", ops[i].label, "'");
}

std::size_t slot_index(SlotKind kind) { return static_cast<std::size_t>(kind); }

/// A dependence edge producer -> consumer with its resolved latency.
struct Edge {
  std::uint32_t from, to;
  std::int64_t latency;
  std::int64_t distance;
};

/// Validated dependence graph of a block or loop body.
struct Graph {
  std::vector<Edge> edges;
  std::vector<std::vector<std::size_t>> preds, succs;  // edge indices per op
  std::vector<std::uint32_t> topo;                      // topological order over distance-0 edges
};

// Checks every op and dependence (clear ConfigErrors) and builds the graph. `context` names the caller.
Graph build_graph(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units,
                  bool allow_loop_carried, const char* context) {
  const std::size_t n = ops.size();
  Graph g;
  g.preds.resize(n);
  g.succs.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const SchedOp& op = ops[i];
    if (slot_index(op.slot) >= kSlotKinds)
      throw ConfigError(cat(context, ": ", op_name(ops, i), " has an invalid slot kind ", slot_index(op.slot)));
    if (slots.of(op.slot) == 0)
      throw ConfigError(cat(context, ": ", op_name(ops, i), " needs a '", slot_kind_name(op.slot),
                            "' slot but the bundle has 0 of them"));
    if (op.unit < -1 || (op.unit >= 0 && static_cast<std::uint32_t>(op.unit) >= units))
      throw ConfigError(cat(context, ": ", op_name(ops, i), " uses unit ", op.unit, " but there are ", units,
                            " units (valid: -1 for none, 0..", static_cast<std::int64_t>(units) - 1, ")"));
    if (op.unit >= 0 && op.unit_cycles == 0)
      throw ConfigError(cat(context, ": ", op_name(ops, i), " reserves unit ", op.unit, " for 0 cycles (must be >= 1)"));
    for (const Dep& d : op.deps) {
      if (d.op >= n)
        throw ConfigError(cat(context, ": ", op_name(ops, i), " depends on op ", d.op, ", which does not exist (",
                              n, " ops)"));
      if (d.latency < -1)
        throw ConfigError(cat(context, ": ", op_name(ops, i), " has a dependence latency of ", d.latency,
                              " (must be >= 0, or -1 for the producer's latency)"));
      if (d.distance > 0 && !allow_loop_carried)
        throw ConfigError(cat(context, ": ", op_name(ops, i), " has a loop-carried dependence (distance ",
                              d.distance, ") on op ", d.op, "; a straight-line block allows distance 0 only"));
      const std::int64_t latency = d.latency >= 0 ? d.latency : static_cast<std::int64_t>(ops[d.op].latency);
      g.preds[i].push_back(g.edges.size());
      g.succs[d.op].push_back(g.edges.size());
      g.edges.push_back({d.op, static_cast<std::uint32_t>(i), latency, static_cast<std::int64_t>(d.distance)});
    }
  }
  // Kahn's algorithm over distance-0 edges; ops left over lie on (or behind) a zero-distance cycle.
  std::vector<std::size_t> indegree(n, 0);
  for (const Edge& e : g.edges)
    if (e.distance == 0) ++indegree[e.to];
  std::vector<std::uint32_t> ready;
  for (std::size_t i = n; i-- > 0;)
    if (indegree[i] == 0) ready.push_back(static_cast<std::uint32_t>(i));
  while (!ready.empty()) {
    const std::uint32_t i = ready.back();
    ready.pop_back();
    g.topo.push_back(i);
    for (std::size_t e : g.succs[i]) {
      const Edge& edge = g.edges[e];
      if (edge.distance == 0 && --indegree[edge.to] == 0) ready.push_back(edge.to);
    }
  }
  if (g.topo.size() != n) {
    std::size_t stuck = 0;
    while (indegree[stuck] == 0) ++stuck;
    throw ConfigError(cat(context, ": dependence cycle with distance 0 through ", op_name(ops, stuck),
                          " (an op cannot depend on itself within one iteration)"));
  }
  return g;
}

std::uint32_t issue_span(const SchedOp& op) {
  // Cycles the op's effects occupy from issue: its latency, its unit reservation, and at least its bundle.
  std::uint32_t span = std::max<std::uint32_t>(op.latency, 1);
  if (op.unit >= 0) span = std::max(span, op.unit_cycles);
  return span;
}

std::vector<Bundle> bundles_of(const std::vector<std::uint32_t>& cycle_of, std::size_t count, std::uint32_t modulo) {
  std::vector<Bundle> bundles(count);
  for (std::uint32_t i = 0; i < cycle_of.size(); ++i)
    bundles[modulo == 0 ? cycle_of[i] : cycle_of[i] % modulo].ops.push_back(i);
  return bundles;
}

// True if some dependence cycle has a positive sum of (latency - ii * distance): Bellman-Ford longest paths
// from a virtual source joined to every op; still relaxing after n rounds means a positive cycle.
bool has_positive_cycle(std::size_t n, const std::vector<Edge>& edges, std::int64_t ii) {
  std::vector<std::int64_t> longest(n, 0);
  for (std::size_t round = 0; round <= n; ++round) {
    bool changed = false;
    for (const Edge& e : edges) {
      const std::int64_t via = longest[e.from] + e.latency - ii * e.distance;
      if (via > longest[e.to]) {
        longest[e.to] = via;
        changed = true;
      }
    }
    if (!changed) return false;
  }
  return true;
}

std::uint32_t rec_mii_of(std::size_t n, const std::vector<Edge>& edges) {
  // Smallest II >= 0 with no cycle of positive sum(latency - II * distance); monotone in II.
  std::int64_t hi = 1;
  for (const Edge& e : edges) hi += std::max<std::int64_t>(e.latency, 0);
  if (!has_positive_cycle(n, edges, 0)) return 0;
  std::int64_t lo = 0;  // infeasible
  while (hi - lo > 1) {
    const std::int64_t mid = lo + (hi - lo) / 2;
    if (has_positive_cycle(n, edges, mid)) lo = mid;
    else hi = mid;
  }
  return static_cast<std::uint32_t>(hi);
}

std::uint32_t res_mii_of(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units) {
  std::array<std::uint64_t, kSlotKinds> per_kind{};
  std::vector<std::uint64_t> per_unit(units, 0);
  for (const SchedOp& op : ops) {
    ++per_kind[slot_index(op.slot)];
    if (op.unit >= 0) per_unit[static_cast<std::size_t>(op.unit)] += op.unit_cycles;
  }
  std::uint64_t mii = 0;
  for (std::size_t k = 0; k < kSlotKinds; ++k)
    if (per_kind[k] > 0) mii = std::max(mii, (per_kind[k] + slots.per_bundle[k] - 1) / slots.per_bundle[k]);
  for (std::uint64_t cycles : per_unit) mii = std::max(mii, cycles);
  return static_cast<std::uint32_t>(mii);
}

// ---------------------------------------------------------------------------------------------------------
// Iterative modulo scheduling at one II.

class ModuloScheduler {
 public:
  ModuloScheduler(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units, const Graph& graph,
                  std::uint32_t ii)
      : ops_(ops), slots_(slots), graph_(graph), ii_(ii), n_(ops.size()),
        time_(n_, kUnscheduled), last_time_(n_, kUnscheduled),
        slot_rows_(static_cast<std::size_t>(ii) * kSlotKinds), unit_rows_(static_cast<std::size_t>(ii) * units, kFree),
        units_(units) {}

  /// Rau's IterativeSchedule with a budget of placements; true if every op got a time.
  bool run(std::size_t budget) {
    compute_heights();
    std::size_t unscheduled = n_;
    while (unscheduled > 0 && budget > 0) {
      const std::uint32_t op = highest_priority_unscheduled();
      const std::int64_t estart = earliest_start(op);
      std::int64_t t = -1;
      for (std::int64_t c = estart; c < estart + ii_; ++c)
        if (resources_free(op, c)) {
          t = c;
          break;
        }
      if (t < 0) {
        // No conflict-free time: force one and evict (Rau: Estart, or one past its previous time so the
        // search does not repeat itself).
        t = (last_time_[op] == kUnscheduled || estart > last_time_[op]) ? estart : last_time_[op] + 1;
        unscheduled += evict_resource_conflicts(op, t);
      }
      place(op, t);
      --unscheduled;
      unscheduled += evict_violated_successors(op);
      --budget;
    }
    return unscheduled == 0;
  }

  const std::vector<std::int64_t>& times() const { return time_; }

 private:
  static constexpr std::int64_t kUnscheduled = -1;
  static constexpr std::int64_t kFree = -1;

  std::size_t row(std::int64_t t) const { return static_cast<std::size_t>(t % ii_); }

  void compute_heights() {
    // HeightR: longest path to the loop end with edge weights latency - II * distance (no positive cycles
    // at II >= RecMII, so n rounds of relaxation converge).
    height_.assign(n_, 0);
    for (std::size_t i = 0; i < n_; ++i) height_[i] = ops_[i].latency;
    for (std::size_t round = 0; round < n_; ++round) {
      bool changed = false;
      for (const Edge& e : graph_.edges) {
        const std::int64_t via = height_[e.to] + e.latency - static_cast<std::int64_t>(ii_) * e.distance;
        if (via > height_[e.from]) height_[e.from] = via, changed = true;
      }
      if (!changed) break;
    }
  }

  std::uint32_t highest_priority_unscheduled() const {
    std::uint32_t best = 0;
    bool found = false;
    for (std::uint32_t i = 0; i < n_; ++i)
      if (time_[i] == kUnscheduled && (!found || height_[i] > height_[best])) best = i, found = true;
    return best;
  }

  std::int64_t earliest_start(std::uint32_t op) const {
    std::int64_t estart = 0;
    for (std::size_t e : graph_.preds[op]) {
      const Edge& edge = graph_.edges[e];
      if (edge.from == op || time_[edge.from] == kUnscheduled) continue;
      estart = std::max(estart, time_[edge.from] + edge.latency - static_cast<std::int64_t>(ii_) * edge.distance);
    }
    return estart;
  }

  bool resources_free(std::uint32_t op, std::int64_t t) const {
    const SchedOp& o = ops_[op];
    const std::size_t k = slot_index(o.slot);
    if (slot_rows_[row(t) * kSlotKinds + k].size() >= slots_.per_bundle[k]) return false;
    if (o.unit >= 0)
      for (std::uint32_t j = 0; j < o.unit_cycles; ++j)
        if (unit_rows_[row(t + j) * units_ + static_cast<std::size_t>(o.unit)] != kFree) return false;
    return true;
  }

  void unplace(std::uint32_t op) {
    const SchedOp& o = ops_[op];
    const std::int64_t t = time_[op];
    auto& slot_row = slot_rows_[row(t) * kSlotKinds + slot_index(o.slot)];
    slot_row.erase(std::find(slot_row.begin(), slot_row.end(), op));
    if (o.unit >= 0)
      for (std::uint32_t j = 0; j < o.unit_cycles; ++j)
        unit_rows_[row(t + j) * units_ + static_cast<std::size_t>(o.unit)] = kFree;
    time_[op] = kUnscheduled;
  }

  void place(std::uint32_t op, std::int64_t t) {
    const SchedOp& o = ops_[op];
    slot_rows_[row(t) * kSlotKinds + slot_index(o.slot)].push_back(op);
    if (o.unit >= 0)
      for (std::uint32_t j = 0; j < o.unit_cycles; ++j) {
        std::int64_t& cell = unit_rows_[row(t + j) * units_ + static_cast<std::size_t>(o.unit)];
        if (cell != kFree) panic("modulo scheduler: unit ", o.unit, " row ", row(t + j), " double-booked");
        cell = op;
      }
    time_[op] = t;
    last_time_[op] = t;
  }

  // Evicts the ops whose slot or unit reservations collide with `op` at time t; returns how many.
  std::size_t evict_resource_conflicts(std::uint32_t op, std::int64_t t) {
    const SchedOp& o = ops_[op];
    std::size_t evicted = 0;
    const auto& slot_row = slot_rows_[row(t) * kSlotKinds + slot_index(o.slot)];
    if (slot_row.size() >= slots_.per_bundle[slot_index(o.slot)]) {
      unplace(slot_row.front());  // the longest-placed occupant of the slot row
      ++evicted;
    }
    if (o.unit >= 0)
      for (std::uint32_t j = 0; j < o.unit_cycles; ++j) {
        const std::int64_t holder = unit_rows_[row(t + j) * units_ + static_cast<std::size_t>(o.unit)];
        if (holder != kFree) {
          unplace(static_cast<std::uint32_t>(holder));
          ++evicted;
        }
      }
    return evicted;
  }

  // Evicts scheduled successors whose dependence on `op` the new time violates; returns how many.
  std::size_t evict_violated_successors(std::uint32_t op) {
    std::size_t evicted = 0;
    for (std::size_t e : graph_.succs[op]) {
      const Edge& edge = graph_.edges[e];
      if (edge.to == op || time_[edge.to] == kUnscheduled) continue;
      if (time_[edge.to] < time_[op] + edge.latency - static_cast<std::int64_t>(ii_) * edge.distance) {
        unplace(edge.to);
        ++evicted;
      }
    }
    return evicted;
  }

  const std::vector<SchedOp>& ops_;
  const SlotCounts& slots_;
  const Graph& graph_;
  const std::uint32_t ii_;
  const std::size_t n_;
  std::vector<std::int64_t> time_, last_time_, height_;
  std::vector<std::vector<std::uint32_t>> slot_rows_;  // [row][kind] -> ops in that modulo row
  std::vector<std::int64_t> unit_rows_;                 // [row][unit] -> op holding it, or kFree
  const std::uint32_t units_;
};

// Placements allowed per op before an II is given up (Rau suggests a small multiple of the op count).
constexpr std::size_t kBudgetRatio = 6;

// Independent re-check of a finished modulo schedule (an internal invariant: a bug if it fails).
void verify_modulo(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units, const Graph& g,
                   const std::vector<std::uint32_t>& cycle_of, std::uint32_t ii) {
  for (const Edge& e : g.edges)
    if (static_cast<std::int64_t>(cycle_of[e.to]) <
        static_cast<std::int64_t>(cycle_of[e.from]) + e.latency - static_cast<std::int64_t>(ii) * e.distance)
      panic("modulo schedule violates the dependence op", e.from, " -> op", e.to);
  std::vector<std::uint32_t> used(static_cast<std::size_t>(ii) * kSlotKinds, 0);
  std::vector<std::uint32_t> unit_use(static_cast<std::size_t>(ii) * units, 0);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const std::size_t k = slot_index(ops[i].slot);
    if (++used[(cycle_of[i] % ii) * kSlotKinds + k] > slots.per_bundle[k])
      panic("modulo schedule overfills '", slot_kind_name(ops[i].slot), "' slots");
    if (ops[i].unit >= 0)
      for (std::uint32_t j = 0; j < ops[i].unit_cycles; ++j)
        if (++unit_use[((cycle_of[i] + j) % ii) * units + static_cast<std::size_t>(ops[i].unit)] > 1)
          panic("modulo schedule double-books unit ", ops[i].unit);
  }
}

}  // namespace

const char* slot_kind_name(SlotKind kind) {
  const std::size_t i = slot_index(kind);
  return i < kSlotKinds ? kSlotNames[i] : "?";
}

SlotKind parse_slot_kind(const std::string& text) {
  for (std::size_t i = 0; i < kSlotKinds; ++i)
    if (text == kSlotNames[i]) return static_cast<SlotKind>(i);
  std::string choices;
  for (std::size_t i = 0; i < kSlotKinds; ++i) choices += cat(i ? ", " : "", kSlotNames[i]);
  throw ConfigError(cat("slot kind: unknown value '", text, "' (choices: ", choices, ")"));
}

Schedule list_schedule(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units) {
  const Graph g = build_graph(ops, slots, units, /*allow_loop_carried=*/false, "list_schedule");
  const std::size_t n = ops.size();
  Schedule s;
  s.cycle_of.assign(n, 0);
  if (n == 0) return s;

  // Height: longest latency path from the op's issue to the end of the block (reverse topological order).
  std::vector<std::int64_t> height(n, 0);
  for (std::size_t idx = n; idx-- > 0;) {
    const std::uint32_t i = g.topo[idx];
    height[i] = ops[i].latency;
    for (std::size_t e : g.succs[i]) height[i] = std::max(height[i], g.edges[e].latency + height[g.edges[e].to]);
  }

  std::vector<std::size_t> preds_left(n, 0);
  for (const Edge& e : g.edges) ++preds_left[e.to];
  std::vector<std::int64_t> earliest(n, 0);
  std::vector<std::uint32_t> ready;  // all predecessors issued
  for (std::uint32_t i = 0; i < n; ++i)
    if (preds_left[i] == 0) ready.push_back(i);
  std::vector<std::int64_t> unit_free_at(units, 0);
  std::size_t issued = 0;
  for (std::int64_t cycle = 0; issued < n;) {
    std::array<std::uint32_t, kSlotKinds> used{};
    bool placed_any = true;
    while (placed_any) {  // repeat: a latency-0 dependant may issue in the same bundle
      placed_any = false;
      std::sort(ready.begin(), ready.end(), [&](std::uint32_t a, std::uint32_t b) {
        return height[a] != height[b] ? height[a] > height[b] : a < b;
      });
      std::vector<std::uint32_t> still_ready;
      std::vector<std::uint32_t> newly_ready;
      for (const std::uint32_t i : ready) {
        const SchedOp& op = ops[i];
        const std::size_t k = slot_index(op.slot);
        const bool fits = earliest[i] <= cycle && used[k] < slots.per_bundle[k] &&
                          (op.unit < 0 || unit_free_at[static_cast<std::size_t>(op.unit)] <= cycle);
        if (!fits) {
          still_ready.push_back(i);
          continue;
        }
        ++used[k];
        if (op.unit >= 0) unit_free_at[static_cast<std::size_t>(op.unit)] = cycle + op.unit_cycles;
        s.cycle_of[i] = static_cast<std::uint32_t>(cycle);
        ++issued;
        placed_any = true;
        for (std::size_t e : g.succs[i]) {
          const Edge& edge = g.edges[e];
          earliest[edge.to] = std::max(earliest[edge.to], cycle + edge.latency);
          if (--preds_left[edge.to] == 0) newly_ready.push_back(edge.to);
        }
      }
      ready = std::move(still_ready);
      ready.insert(ready.end(), newly_ready.begin(), newly_ready.end());
    }
    // Next cycle where something may issue: skip cycles where every ready op waits on a latency or unit.
    std::int64_t next = std::numeric_limits<std::int64_t>::max();
    for (const std::uint32_t i : ready) {
      std::int64_t at = std::max(earliest[i], cycle + 1);
      if (ops[i].unit >= 0) at = std::max(at, unit_free_at[static_cast<std::size_t>(ops[i].unit)]);
      next = std::min(next, at);
    }
    if (issued < n && next == std::numeric_limits<std::int64_t>::max())
      panic("list_schedule: ", n - issued, " ops can never issue");
    cycle = next;
  }

  std::uint32_t last_issue = 0;
  for (std::size_t i = 0; i < n; ++i) {
    last_issue = std::max(last_issue, s.cycle_of[i]);
    s.length = std::max(s.length, s.cycle_of[i] + issue_span(ops[i]));
  }
  s.bundles = bundles_of(s.cycle_of, last_issue + 1, 0);
  return s;
}

std::uint32_t resource_mii(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units) {
  build_graph(ops, slots, units, /*allow_loop_carried=*/true, "resource_mii");
  return res_mii_of(ops, slots, units);
}

std::uint32_t recurrence_mii(const std::vector<SchedOp>& ops) {
  SlotCounts any;
  any.per_bundle.fill(1);
  std::uint32_t units = 0;
  for (const SchedOp& op : ops) units = std::max<std::uint32_t>(units, static_cast<std::uint32_t>(op.unit + 1));
  const Graph g = build_graph(ops, any, units, /*allow_loop_carried=*/true, "recurrence_mii");
  return rec_mii_of(ops.size(), g.edges);
}

ModuloSchedule modulo_schedule(const std::vector<SchedOp>& ops, const SlotCounts& slots, std::uint32_t units,
                               std::uint32_t max_ii) {
  const Graph g = build_graph(ops, slots, units, /*allow_loop_carried=*/true, "modulo_schedule");
  if (ops.empty()) throw ConfigError("modulo_schedule: the loop body has no ops");
  ModuloSchedule m;
  m.res_mii = res_mii_of(ops, slots, units);
  m.rec_mii = rec_mii_of(ops.size(), g.edges);
  const std::uint32_t mii = std::max({m.res_mii, m.rec_mii, 1u});
  if (mii > max_ii)
    throw ConfigError(cat("modulo_schedule: MII = ", mii, " (ResMII ", m.res_mii, ", RecMII ", m.rec_mii,
                          ") exceeds max_ii = ", max_ii));
  for (std::uint32_t ii = mii; ii <= max_ii; ++ii) {
    ModuloScheduler scheduler(ops, slots, units, g, ii);
    if (!scheduler.run(kBudgetRatio * ops.size())) continue;
    const std::vector<std::int64_t>& t = scheduler.times();
    const std::int64_t first = *std::min_element(t.begin(), t.end());
    m.ii = ii;
    m.cycle_of.resize(ops.size());
    std::uint32_t last = 0;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      m.cycle_of[i] = static_cast<std::uint32_t>(t[i] - first);
      last = std::max(last, m.cycle_of[i]);
    }
    m.stages = last / ii + 1;
    m.kernel = bundles_of(m.cycle_of, ii, ii);
    verify_modulo(ops, slots, units, g, m.cycle_of, ii);
    return m;
  }
  throw ConfigError(cat("modulo_schedule: no schedule found with II <= max_ii = ", max_ii, " (MII = ", mii,
                        ", ResMII ", m.res_mii, ", RecMII ", m.rec_mii, ")"));
}

std::vector<std::string> format_bundles(const std::vector<SchedOp>& ops, const std::vector<Bundle>& bundles) {
  std::vector<std::string> lines;
  lines.reserve(bundles.size());
  for (std::size_t c = 0; c < bundles.size(); ++c) {
    std::string line = cat("c", c, ":");
    if (bundles[c].ops.empty()) line += " nop";
    for (const std::uint32_t i : bundles[c].ops) {
      if (i >= ops.size()) panic("format_bundles: bundle ", c, " names op ", i, " of ", ops.size());
      line += cat(" ", slot_kind_name(ops[i].slot), "[", ops[i].label.empty() ? cat("op", i) : ops[i].label, "]");
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace tilesim::megacore

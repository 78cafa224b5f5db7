#include "arch/megacore/megacore_lowering.hpp"

#include <algorithm>
#include <functional>
#include <unordered_set>

#include "isa/dtype.hpp"
#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim::megacore {

using isa::OpId;

const char* mop_kind_name(MopKind k) {
  switch (k) {
    case MopKind::scalar: return "scalar";
    case MopKind::dma_in: return "dma_in";
    case MopKind::dma_out: return "dma_out";
    case MopKind::sem_wait: return "sem_wait";
    case MopKind::mxu_push: return "mxu_push";
    case MopKind::mxu_pop: return "mxu_pop";
    case MopKind::vector: return "vector";
    case MopKind::xlu: return "xlu";
    case MopKind::eup: return "eup";
    case MopKind::misc: return "misc";
  }
  return "?";
}

std::uint64_t tile_vregs(const MegacoreParams& p, const std::vector<std::int64_t>& shape, isa::DType dtype) {
  if (shape.empty()) return 1;
  const int bits = std::max(1, isa::bits(dtype));
  const std::int64_t pack = std::max(1, 32 / std::min(32, bits));  // rows packed per sublane
  // A 1-D tile of n elements is laid out as [ceil(n / lanes), lanes] (XLA's TPU layout of vectors).
  const std::int64_t cols = shape.size() >= 2 ? shape.back() : std::min<std::int64_t>(shape.back(), p.lanes);
  const std::int64_t rows = shape.size() >= 2 ? shape[shape.size() - 2] : (shape.back() + p.lanes - 1) / p.lanes;
  std::int64_t outer = 1;
  for (std::size_t d = 0; d + 2 < shape.size(); ++d) outer *= shape[d];
  const std::int64_t rows_per_vreg = static_cast<std::int64_t>(p.sublanes) * pack;
  const std::int64_t v = outer * ((rows + rows_per_vreg - 1) / rows_per_vreg) * ((cols + p.lanes - 1) / p.lanes);
  return static_cast<std::uint64_t>(std::max<std::int64_t>(1, v));
}

namespace {

std::uint32_t cdiv32(std::uint64_t a, std::uint64_t b) { return static_cast<std::uint32_t>((a + b - 1) / b); }

bool is_view(OpId id) { return id == OpId::reshape || id == OpId::move; }

bool is_transcendental(OpId id) {
  switch (id) {
    case OpId::exp: case OpId::exp2: case OpId::log: case OpId::log2: case OpId::sqrt: case OpId::rsqrt:
    case OpId::tanh: case OpId::sigmoid: case OpId::silu: case OpId::gelu: case OpId::recip: case OpId::div:
    case OpId::pow:
      return true;
    default:
      return false;
  }
}

SchedOp sched(SlotKind slot, std::uint32_t latency, std::int32_t unit, std::uint32_t unit_cycles, std::string label) {
  SchedOp s;
  s.slot = slot;
  s.latency = std::max<std::uint32_t>(1, latency);
  s.unit = unit;
  s.unit_cycles = std::max<std::uint32_t>(1, unit_cycles);
  s.label = std::move(label);
  return s;
}

}  // namespace

/// Lowers one kernel: op plans, segments, VMEM layout.
class KernelLowerer {
 public:
  KernelLowerer(const MegacoreParams& p, std::uint64_t vmem, const core::KernelLaunch& launch, MegacoreLoweredKernel& out)
      : p_(p), units_{p.mxus}, vmem_(vmem), launch_(launch), k_(*launch.kernel), out_(out) {}

  void run() {
    if (!k_.roles.empty() || !k_.channels.empty())
      throw ConfigError(cat("kernel ", k_.name, ": roles and channels (warp specialisation) are not lowered for the "
                            "megacore yet; run the kernel without roles (e.g. workload gemm instead of gemm_ws)"));
    make_plans(k_.body, nullptr);
    layout_vmem();  // before scheduling: a kernel that does not fit fails fast
    plan_block(k_.body, nullptr);
  }

 private:
  // ---- shapes ----
  std::vector<std::int64_t> shape_of(isa::ValueId v) const {
    const isa::Type& t = k_.type_of(v);
    std::vector<std::int64_t> s;
    for (const isa::Expr& e : t.shape) {
      auto x = isa::eval_expr(e, launch_.symbols);
      if (!x) throw ConfigError(cat("kernel ", k_.name, ": shape ", isa::expr_to_string(e), " of a tile cannot be evaluated"));
      s.push_back(*x);
    }
    return s;
  }
  bool is_tile(isa::ValueId v) const { return k_.type_of(v).is_tile(); }
  std::uint64_t vregs(isa::ValueId v) const { return tile_vregs(p_, shape_of(v), k_.type_of(v).dtype); }
  std::uint64_t vmem_bytes_of(isa::ValueId v) const { return vregs(v) * p_.vreg_bytes(); }

  [[noreturn]] void unsupported(const isa::Op& op, const std::string& why) const {
    throw ConfigError(cat("kernel ", k_.name, " line ", op.loc.line, ":", op.loc.col, ": ", op.info().name,
                          " is not lowered for the megacore: ", why));
  }

  // ---- op plans ----
  Mop vector_mop(const std::string& label, std::uint64_t loads, std::uint64_t alu, std::uint64_t stores,
                 MopKind kind = MopKind::vector) {
    Mop m;
    m.kind = kind;
    const std::uint64_t ld = cdiv32(loads, p_.slots.of(SlotKind::vector_load));
    const std::uint64_t st = cdiv32(stores, p_.slots.of(SlotKind::vector_store));
    std::uint64_t cyc = std::max(ld, st), lat_extra = p_.vpu_latency;
    std::int32_t unit = static_cast<std::int32_t>(units_.vpu());
    if (kind == MopKind::eup) {
      cyc = std::max<std::uint64_t>(cyc, cdiv32(alu, p_.eup_vregs_per_cycle));
      lat_extra = p_.eup_latency;
      unit = static_cast<std::int32_t>(units_.eup());
    } else if (kind == MopKind::xlu) {
      cyc = std::max<std::uint64_t>(cyc, cdiv32(alu * p_.xlu_cycles_per_vreg, p_.xlu_units));
      lat_extra = p_.xlu_latency;
      unit = static_cast<std::int32_t>(units_.xlu());
    } else {
      cyc = std::max<std::uint64_t>(cyc, cdiv32(alu, p_.slots.of(SlotKind::vector)));
    }
    cyc = std::max<std::uint64_t>(1, cyc);
    m.sched = sched(SlotKind::vector, static_cast<std::uint32_t>(cyc + lat_extra - 1), unit,
                    static_cast<std::uint32_t>(cyc), label);
    return m;
  }

  OpPlan plan_mma(const isa::Op& op, const std::string& label) {
    OpPlan plan;
    const auto a = shape_of(op.operands.at(0)), b = shape_of(op.operands.at(1));
    if (a.size() != 2 || b.size() != 2) unsupported(op, "only rank-2 mma operands are lowered");
    const std::uint64_t M = static_cast<std::uint64_t>(a[0]), K = static_cast<std::uint64_t>(a[1]),
                        N = static_cast<std::uint64_t>(b[1]);
    const int bits = isa::bits(k_.type_of(op.operands[0]).dtype);
    const std::uint64_t rate = bits <= 8 ? p_.mxu_8bit_rate : 1;
    const std::uint64_t Keff = (K + rate - 1) / rate;
    plan.flops = 2.0 * static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K);
    const FoldPlan fp = fold_plan(p_.array, M, Keff, N);
    plan.folds = gemm_folds(p_.array, M, Keff, N);
    const SystolicArray probe(p_.array, p_.weight_buffers, Charging::full_array);
    std::vector<std::int32_t> last_acc_of_part;
    for (std::uint32_t f = 0; f < plan.folds.size(); ++f) {
      const Fold& fold = plan.folds[f];
      const std::uint32_t row = static_cast<std::uint32_t>(f % fp.row_folds);
      const std::uint32_t col = static_cast<std::uint32_t>(f / fp.row_folds);
      const std::uint32_t mxu = next_mxu_++ % p_.mxus;
      const std::uint64_t load = probe.load_cycles_of(fold.used_rows);
      const std::uint64_t wl = probe.wavefront_latency_of(fold.used_rows, fold.used_cols);
      const std::uint64_t fold_cycles = load + fold.t + wl - 1;  // on an idle array (the completion formula)
      const std::uint64_t hold = p_.weight_buffers >= 2 ? std::max<std::uint64_t>(fold.t, load) : fold_cycles;
      // Output block of the fold (M-extent x N-extent) and whether it accumulates over row folds.
      std::uint64_t out_rows = 0, out_cols = 0;
      std::int32_t part = 0;
      switch (p_.array.dataflow) {
        case Dataflow::weight_stationary: out_rows = fold.t; out_cols = fold.used_cols; part = static_cast<std::int32_t>(col); break;
        case Dataflow::output_stationary: out_rows = fold.used_rows; out_cols = fold.used_cols; part = static_cast<std::int32_t>(f); break;
        case Dataflow::input_stationary: out_rows = fold.used_cols; out_cols = fold.t; part = static_cast<std::int32_t>(col); break;
      }
      (void)row;
      const std::uint64_t result_vregs = tile_vregs(p_, {static_cast<std::int64_t>(out_rows), static_cast<std::int64_t>(out_cols)},
                                                    isa::DType::f32);
      Mop push;
      push.kind = MopKind::mxu_push;
      push.fold = f;
      push.mxu = mxu;
      push.reads = 0b011;
      push.sched = sched(SlotKind::mxu_push, static_cast<std::uint32_t>(p_.mxu_push_latency + fold_cycles),
                         static_cast<std::int32_t>(units_.mxu(mxu)), static_cast<std::uint32_t>(hold),
                         cat(label, ".push", f, "@mxu", mxu));
      const std::int32_t push_i = static_cast<std::int32_t>(plan.mops.size());
      plan.mops.push_back(push);
      Mop pop;
      pop.kind = MopKind::mxu_pop;
      pop.fold = f;
      pop.mxu = mxu;
      const std::uint32_t pops = cdiv32(result_vregs, p_.slots.of(SlotKind::mxu_pop));
      pop.sched = sched(SlotKind::mxu_pop, p_.mxu_pop_latency + pops, static_cast<std::int32_t>(units_.pop()), pops,
                        cat(label, ".pop", f));
      pop.after = push_i;
      pop.after_latency = plan.mops[static_cast<std::size_t>(push_i)].sched.latency;
      const std::int32_t pop_i = static_cast<std::int32_t>(plan.mops.size());
      plan.mops.push_back(pop);
      // Accumulate into C: load the C block, add the popped vregs, store it back.
      Mop acc = vector_mop(cat(label, ".acc", f), result_vregs, result_vregs, result_vregs);
      acc.reads = 0b100;
      acc.result = true;
      acc.part = part;
      acc.after = pop_i;
      acc.after_latency = plan.mops[static_cast<std::size_t>(pop_i)].sched.latency;
      if (static_cast<std::size_t>(part) >= last_acc_of_part.size()) last_acc_of_part.resize(static_cast<std::size_t>(part) + 1, -1);
      acc.chain = last_acc_of_part[static_cast<std::size_t>(part)];
      last_acc_of_part[static_cast<std::size_t>(part)] = static_cast<std::int32_t>(plan.mops.size());
      plan.mops.push_back(acc);
    }
    return plan;
  }

  OpPlan plan_op(const isa::Op& op) {
    OpPlan plan;
    const std::string label = cat(op.info().name, "@", op.loc.line);
    const bool tile_result = !op.results.empty() && is_tile(op.results[0]);
    switch (op.opcode) {
      case OpId::mma: return plan_mma(op, label);
      case OpId::mma_scaled: unsupported(op, "block-scaled MXU formats are not modelled");
      case OpId::atomic_add: unsupported(op, "atomics to global memory (no DMA reduction) are not modelled");
      case OpId::put: case OpId::get: case OpId::release: unsupported(op, "channels are not lowered yet");
      case OpId::cluster_load: unsupported(op, "a megacore has no cluster network");
      case OpId::for_: case OpId::if_: case OpId::yield: return plan;
      case OpId::copy_async: {
        Mop m;
        m.kind = MopKind::dma_in;
        m.sched = sched(SlotKind::dma, 1, -1, 1, label);
        m.result = true;
        plan.mops.push_back(m);
        plan.vmem_bytes = vmem_bytes_of(op.results.at(0));  // one buffer (pipelined copies take `stages`)
        return plan;
      }
      case OpId::load: {
        Mop d;
        d.kind = MopKind::dma_in;
        d.sched = sched(SlotKind::dma, 1, -1, 1, label + ".dma");
        plan.mops.push_back(d);
        Mop w;
        w.kind = MopKind::sem_wait;
        w.sched = sched(SlotKind::misc, 1, -1, 1, label + ".wait");
        w.after = 0;
        w.after_latency = 1;
        w.result = true;  // the tile lives in its VMEM landing buffer once the DMA is done
        plan.mops.push_back(w);
        plan.vmem_bytes = vmem_bytes_of(op.results.at(0));  // the DMA's landing buffer
        return plan;
      }
      case OpId::store: {  // every tile value lives in VMEM: the DMA reads it from its buffer
        Mop d;
        d.kind = MopKind::dma_out;
        d.reads = 0b1;
        d.sched = sched(SlotKind::dma, 1, -1, 1, label);
        plan.mops.push_back(d);
        return plan;
      }
      case OpId::wait: {
        Mop w;
        w.kind = MopKind::sem_wait;
        w.reads = ~0u;
        w.sched = sched(SlotKind::misc, 1, -1, 1, label);
        plan.mops.push_back(w);
        return plan;
      }
      case OpId::barrier: case OpId::fence: {
        Mop m;
        m.kind = MopKind::misc;
        m.sched = sched(SlotKind::misc, 1, -1, 1, label);
        plan.mops.push_back(m);
        return plan;
      }
      default: break;
    }
    if (is_view(op.opcode)) return plan;  // reshape / move: a different view of the same VMEM buffer
    if (!tile_result) {                    // index arithmetic, program ids, scalar compare/select/cast
      Mop m;
      m.kind = MopKind::scalar;
      m.reads = ~0u;
      m.result = true;
      m.sched = sched(SlotKind::scalar, p_.scalar_latency, -1, 1, label);
      plan.mops.push_back(m);
      return plan;
    }
    // Tile ops on the vector side.
    std::uint64_t loads = 0;
    for (isa::ValueId v : op.operands)
      if (is_tile(v)) loads += vregs(v);
    const std::uint64_t out = vregs(op.results[0]);
    std::uint64_t alu = out;
    MopKind kind = is_transcendental(op.opcode) ? MopKind::eup : MopKind::vector;
    if (op.opcode == OpId::transpose) kind = MopKind::xlu;
    if (op.opcode == OpId::reduce_sum || op.opcode == OpId::reduce_max || op.opcode == OpId::reduce_min) {
      // Combine vregs element-wise, then a rotate-and-combine tree across lanes (last axis) or sublanes.
      const auto in_shape = shape_of(op.operands.at(0));
      const isa::Attr* ax = op.attr("axis");
      std::int64_t axis = ax ? ax->i : static_cast<std::int64_t>(in_shape.size()) - 1;
      if (axis < 0) axis += static_cast<std::int64_t>(in_shape.size());
      const bool lanes = axis == static_cast<std::int64_t>(in_shape.size()) - 1;
      std::uint32_t steps = 0;
      for (std::uint32_t w = lanes ? p_.lanes : p_.sublanes; w > 1; w /= 2) ++steps;
      alu = vregs(op.operands[0]) + out * steps;
    }
    if (op.opcode == OpId::iota || op.opcode == OpId::full || op.opcode == OpId::zeros) loads = 0;
    Mop m = vector_mop(label, loads, alu, out, kind);
    m.reads = ~0u;
    m.result = true;
    plan.mops.push_back(m);
    plan.vmem_bytes = vmem_bytes_of(op.results[0]);
    return plan;
  }

  // ---- blocks and segments ----
  static bool has_control(const isa::Block& b) {
    for (const isa::Op& op : b.ops)
      if (op.opcode == OpId::for_ || op.opcode == OpId::if_) return true;
    return false;
  }

  std::int64_t loop_stages(const isa::Op& loop) const {
    const isa::Attr* st = loop.attr("stages");
    return st && st->kind == isa::Attr::Kind::integer && st->i > 1 ? st->i : 1;
  }

  /// copy_async ops of a loop body whose coordinates depend only on the induction variable and invariants.
  std::vector<const isa::Op*> pipelinable_copies(const isa::Op& loop) const {
    const isa::Block& body = loop.regions.at(0);
    std::unordered_map<isa::ValueId, const isa::Op*> def;
    for (const isa::Op& op : body.ops)
      for (isa::ValueId v : op.results) def[v] = &op;
    std::unordered_set<isa::ValueId> carried(body.args.begin() + 1, body.args.end());
    std::unordered_map<isa::ValueId, bool> memo;
    std::function<bool(isa::ValueId)> computable = [&](isa::ValueId v) -> bool {
      if (carried.count(v)) return false;
      auto d = def.find(v);
      if (d == def.end()) return true;
      auto m = memo.find(v);
      if (m != memo.end()) return m->second;
      const isa::Op& op = *d->second;
      const isa::OpClass cls = op.info().cls;
      bool ok = op.regions.empty() && (cls == isa::OpClass::control || cls == isa::OpClass::map) &&
                !op.results.empty() && k_.type_of(op.results[0]).is_scalar_like();
      for (isa::ValueId o : op.operands) ok = ok && computable(o);
      memo[v] = ok;
      return ok;
    };
    std::vector<const isa::Op*> out;
    for (const isa::Op& op : body.ops) {
      if (op.opcode != OpId::copy_async || !op.after.empty()) continue;
      bool ok = true;
      for (isa::ValueId o : op.operands) ok = ok && computable(o);
      if (ok) out.push_back(&op);
    }
    return out;
  }

  /// Op plans of every op (in program order: MXU assignment rotates in that order) and the pipelined copies.
  void make_plans(const isa::Block& b, const isa::Op* loop) {
    for (const isa::Op& op : b.ops)
      if (op.opcode != OpId::for_ && op.opcode != OpId::if_) out_.plans_[&op] = plan_op(op);
    if (loop && !has_control(b)) {
      const auto copies = pipelinable_copies(*loop);
      if (loop_stages(*loop) > 1 && !copies.empty()) out_.pipelined_[loop] = copies;
    }
    for (const isa::Op& op : b.ops)
      for (const isa::Block& r : op.regions) make_plans(r, op.opcode == OpId::for_ ? &op : nullptr);
  }

  void plan_block(const isa::Block& b, const isa::Op* loop) {
    BlockPlan bp;
    if (loop && !has_control(b)) {
      std::vector<const isa::Op*> ops;
      for (const isa::Op& op : b.ops) ops.push_back(&op);
      bp.loop_segment = build_segment(ops, loop, loop_stages(*loop));
    } else {
      std::vector<const isa::Op*> run;
      auto flush = [&] {
        if (run.empty()) return;
        BlockPlan::Item it;
        it.segment = build_segment(run, nullptr, 1);
        bp.items.push_back(it);
        run.clear();
      };
      for (const isa::Op& op : b.ops) {
        if (op.opcode == OpId::for_ || op.opcode == OpId::if_) {
          flush();
          BlockPlan::Item it;
          it.control = &op;
          bp.items.push_back(it);
          for (const isa::Block& r : op.regions) plan_block(r, op.opcode == OpId::for_ ? &op : nullptr);
        } else {
          run.push_back(&op);
        }
      }
      flush();
    }
    out_.blocks_[&b] = std::move(bp);
  }

  bool pipelined(const isa::Op* loop, const isa::Op& copy) const {
    if (!loop) return false;
    auto it = out_.pipelined_.find(loop);
    return it != out_.pipelined_.end() && std::find(it->second.begin(), it->second.end(), &copy) != it->second.end();
  }

  std::int32_t build_segment(const std::vector<const isa::Op*>& ops, const isa::Op* loop, std::int64_t stages) {
    Segment seg;
    seg.modulo = loop != nullptr;
    seg.pipeline = stages;
    std::unordered_map<isa::ValueId, std::uint32_t> producer;  // value -> op index in the segment
    std::unordered_map<isa::ValueId, isa::ValueId> view_of;    // view result -> its source
    std::unordered_map<isa::ValueId, std::uint32_t> guard;     // copy tile -> index of the wait op's mop
    std::unordered_map<isa::ValueId, std::uint32_t> dma_of;    // token / tile -> the copy's op index
    for (std::uint32_t i = 0; i < ops.size(); ++i) {
      seg.ops.push_back(ops[i]);
      seg.first.push_back(static_cast<std::uint32_t>(seg.sched.size()));
      for (const Mop& m : out_.plans_.at(ops[i]).mops) seg.sched.push_back(m.sched);
    }
    auto root = [&](isa::ValueId v) {
      for (auto it = view_of.find(v); it != view_of.end(); it = view_of.find(v)) v = it->second;
      return v;
    };
    // Loop-carried: body arg k+1 <- yield operand k.
    std::unordered_map<isa::ValueId, isa::ValueId> carried_from;
    if (loop) {
      const isa::Block& body = loop->regions.at(0);
      for (const isa::Op* op : ops)
        if (op->opcode == OpId::yield)
          for (std::size_t k = 0; k < op->operands.size() && k + 1 < body.args.size(); ++k)
            carried_from[body.args[k + 1]] = op->operands[k];
    }
    // The copy-tile readers per copy op (for the buffer-reuse dependence).
    std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> readers_of_copy;  // copy op index -> mop indices
    auto add_deps = [&](std::uint32_t i, const Mop& cm, std::uint32_t cm_index, isa::ValueId v, std::uint32_t distance) {
      v = root(v);
      auto p = producer.find(v);
      if (p == producer.end()) return;
      const std::uint32_t pi = p->second;
      const isa::Op& pop = *ops[pi];
      const OpPlan& pp = out_.plans_.at(&pop);
      if (pop.opcode == OpId::copy_async) {
        const std::uint32_t depth = pipelined(loop, pop) ? static_cast<std::uint32_t>(stages - 1) : 0;
        auto g = guard.find(v);
        if (g != guard.end() && distance == 0) {
          seg.sched[cm_index].deps.push_back(Dep{g->second, 0, 1});
        } else {
          seg.sched[cm_index].deps.push_back(Dep{seg.first[pi], distance + depth, 1});
        }
        if (cm.kind != MopKind::sem_wait) readers_of_copy[pi].push_back(cm_index);
        return;
      }
      const bool match_parts = cm.part >= 0 && ops[i]->opcode == OpId::mma && pop.opcode == OpId::mma;
      for (std::uint32_t r = 0; r < pp.mops.size(); ++r) {
        const Mop& pm = pp.mops[r];
        if (!pm.result) continue;
        if (match_parts && pm.part >= 0 && pm.part != cm.part) continue;
        seg.sched[cm_index].deps.push_back(Dep{seg.first[pi] + r, distance, -1});
      }
    };
    for (std::uint32_t i = 0; i < ops.size(); ++i) {
      const isa::Op& op = *ops[i];
      const OpPlan& plan = out_.plans_.at(&op);
      for (std::uint32_t m = 0; m < plan.mops.size(); ++m) {
        const Mop& mop = plan.mops[m];
        const std::uint32_t idx = seg.first[i] + m;
        if (mop.after >= 0) seg.sched[idx].deps.push_back(Dep{seg.first[i] + static_cast<std::uint32_t>(mop.after), 0,
                                                              static_cast<std::int32_t>(mop.after_latency)});
        if (mop.chain >= 0) seg.sched[idx].deps.push_back(Dep{seg.first[i] + static_cast<std::uint32_t>(mop.chain), 0, -1});
        std::vector<isa::ValueId> reads;
        for (std::size_t o = 0; o < op.operands.size() && o < 32; ++o)
          if (mop.reads & (1u << o)) reads.push_back(op.operands[o]);
        if (mop.reads == ~0u || mop.kind == MopKind::dma_in || mop.kind == MopKind::dma_out)
          for (isa::ValueId t : op.after) reads.push_back(t);
        for (isa::ValueId v : reads) {
          add_deps(i, mop, idx, v, 0);
          auto c = carried_from.find(v);
          if (c != carried_from.end()) add_deps(i, mop, idx, c->second, 1);
        }
      }
      for (isa::ValueId r : op.results) producer[r] = i;
      if (is_view(op.opcode) && !op.operands.empty()) view_of[op.results.at(0)] = op.operands[0];
      if (op.opcode == OpId::wait)
        for (isa::ValueId t : op.operands) {
          auto p = producer.find(t);
          if (p != producer.end() && ops[p->second]->opcode == OpId::copy_async)
            guard[ops[p->second]->results.at(0)] = seg.first[i];
        }
    }
    // Buffer reuse: a copy in a loop overwrites the buffer the previous iteration's readers read.
    if (loop)
      for (const auto& [ci, readers] : readers_of_copy)
        for (std::uint32_t r : readers) seg.sched[seg.first[ci]].deps.push_back(Dep{r, 1, -1});
    (void)dma_of;

    const std::uint32_t units = units_.count();
    if (seg.modulo) {
      const ModuloSchedule ms = modulo_schedule(seg.sched, p_.slots, units, p_.max_ii);
      seg.ii = ms.ii;
      seg.res_mii = ms.res_mii;
      seg.rec_mii = ms.rec_mii;
      seg.stages = ms.stages;
      seg.cycle_of = ms.cycle_of;
      auto lines = format_bundles(seg.sched, ms.kernel);
      for (std::size_t l = 0; l < lines.size() && l < 64; ++l) seg.bundles.push_back(lines[l]);
    } else {
      const Schedule s = list_schedule(seg.sched, p_.slots, units);
      seg.cycle_of = s.cycle_of;
      auto lines = format_bundles(seg.sched, s.bundles);
      for (std::size_t l = 0; l < lines.size() && l < 64; ++l) seg.bundles.push_back(lines[l]);
    }
    std::uint32_t len = 0;
    for (std::size_t m = 0; m < seg.sched.size(); ++m) {
      const SchedOp& s = seg.sched[m];
      len = std::max(len, seg.cycle_of[m] + std::max(s.latency, s.unit >= 0 ? s.unit_cycles : 1u));
    }
    seg.length = len;
    out_.segments_.push_back(std::move(seg));
    return static_cast<std::int32_t>(out_.segments_.size() - 1);
  }

  // ---- VMEM ----
  void layout_vmem() {
    std::uint64_t offset = 0;
    std::function<void(const isa::Block&, const isa::Op*)> walk = [&](const isa::Block& b, const isa::Op* loop) {
      for (const isa::Op& op : b.ops) {
        std::uint64_t bytes = 0;
        if (op.opcode != OpId::for_ && op.opcode != OpId::if_) {
          const std::uint64_t copies =
              op.opcode == OpId::copy_async && pipelined(loop, op) ? static_cast<std::uint64_t>(loop_stages(*loop)) : 1;
          bytes = out_.plans_.at(&op).vmem_bytes * copies;
        }
        if (bytes) {
          out_.vmem_offset_[&op] = offset;
          offset += (bytes + 511) / 512 * 512;
        }
        for (const isa::Block& r : op.regions) walk(r, op.opcode == OpId::for_ ? &op : nullptr);
      }
    };
    walk(k_.body, nullptr);
    out_.footprint_.scratch_bytes = offset;
    out_.footprint_.threads = 1;
    out_.footprint_.registers_per_thread = 0;
    out_.footprint_.registers = 0;
    if (offset > vmem_)
      throw ConfigError(cat("kernel ", k_.name, " does not fit the megacore's VMEM: one grid step needs ", offset,
                            " B, ", offset - vmem_, " B more than memory.scratch.size (", vmem_,
                            " B); use smaller blocks"));
  }

  const MegacoreParams& p_;
  UnitIndex units_;
  std::uint64_t vmem_;
  const core::KernelLaunch& launch_;
  const isa::Kernel& k_;
  MegacoreLoweredKernel& out_;
  std::uint32_t next_mxu_ = 0;
};

const OpPlan& MegacoreLoweredKernel::plan(const isa::Op& op) const {
  auto it = plans_.find(&op);
  if (it == plans_.end()) panic("megacore lowering: no plan for an op at line ", op.loc.line);
  return it->second;
}

const BlockPlan& MegacoreLoweredKernel::block(const isa::Block& b) const {
  auto it = blocks_.find(&b);
  if (it == blocks_.end()) panic("megacore lowering: no plan for a block");
  return it->second;
}

const std::vector<const isa::Op*>& MegacoreLoweredKernel::pipelined_copies(const isa::Op& loop) const {
  static const std::vector<const isa::Op*> kNone;
  auto it = pipelined_.find(&loop);
  return it == pipelined_.end() ? kNone : it->second;
}

std::uint64_t MegacoreLoweredKernel::vmem_offset(const isa::Op& op) const {
  auto it = vmem_offset_.find(&op);
  return it == vmem_offset_.end() ? 0 : it->second;
}

std::vector<std::string> MegacoreLoweredKernel::describe() const {
  std::vector<std::string> out;
  out.push_back(cat("VMEM per grid step: ", footprint_.scratch_bytes, " B"));
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = segments_[i];
    if (s.modulo)
      out.push_back(cat("segment ", i, ": loop body, ", s.sched.size(), " VLIW ops, II ", s.ii, " (ResMII ", s.res_mii,
                        ", RecMII ", s.rec_mii, "), ", s.stages, " stages, copies pipelined ", s.pipeline, " deep"));
    else
      out.push_back(cat("segment ", i, ": straight line, ", s.sched.size(), " VLIW ops, ", s.length, " cycles"));
  }
  for (const auto& n : notes_) out.push_back(n);
  return out;
}

MegacoreLowering::MegacoreLowering(MegacoreParams params, std::uint64_t vmem_bytes, std::string config_key)
    : p_(std::move(params)), vmem_bytes_(vmem_bytes), key_(std::move(config_key)) {}

std::shared_ptr<const core::LoweredKernel> MegacoreLowering::lower(const core::KernelLaunch& launch) const {
  auto out = std::make_shared<MegacoreLoweredKernel>();
  KernelLowerer(p_, vmem_bytes_, launch, *out).run();
  return out;
}

}  // namespace tilesim::megacore

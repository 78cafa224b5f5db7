#include "arch/megacore/megacore.hpp"

#include "arch/megacore/dma_commands.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "arch/simt/op_semantics.hpp"
#include "isa/dtype.hpp"
#include "sim/error.hpp"
#include "sim/simulator.hpp"
#include "sim/text_util.hpp"

namespace tilesim::megacore {

using isa::OpId;

// Activity entries (activity_layout()).
enum ActivityUnit : std::size_t { kActMxu, kActPop, kActVpu, kActXlu, kActEup, kActScalar, kActDma, kActUnits };

struct Megacore::Instance {
  std::uint64_t time = 0;  // static cycle within the program's stream
  std::uint64_t seq = 0;
  const Mop* mop = nullptr;
  const isa::Op* op = nullptr;
  bool early = false;       // a prologue DMA that may issue under the previous grid step
  bool done_early = false;  // ... and did
  double flops = 0;
  std::vector<CopyCommand> cmds;       // dma_in / dma_out
  std::uint64_t group = 0;             // dma_in / dma_out: its DMA group
  std::vector<std::uint64_t> waits;    // sem_wait: DMA groups that must be done
  std::vector<std::uint64_t> reuse;    // dma_in: folds that read the buffer's previous contents
  std::uint64_t tag = 0;               // mxu_push / mxu_pop: the fold
  Fold fold;
};

struct Megacore::Program {
  core::ProgramLaunch msg;
  const core::KernelLaunch* launch = nullptr;
  const MegacoreLoweredKernel* lowered = nullptr;
  std::uint32_t slot = 0;
  std::uint64_t base = 0;  // VMEM address of the program's buffers
  std::vector<Instance> stream;
  std::size_t next = 0;
  std::uint64_t static_end = 0;  // static length of the stream (last result)
  bool started = false, stream_done = false;
  Time shift = 0;  // real cycle = static cycle + shift
  Time started_at = 0;
  std::uint32_t dmas_in_flight = 0;
  std::size_t last_dma_in = ~std::size_t{0};  // stream index of its last input DMA
  bool prologue_issued = false;               // its prologue DMAs went out under the previous grid step
  core::ProgramActivity activity;
};

const char* Megacore::stall_name(Stall s) {
  switch (s) {
    case Stall::issued: return "issued";
    case Stall::dma_wait: return "dma_wait";
    case Stall::dma_issue: return "dma_issue";
    case Stall::mxu_busy: return "mxu_busy";
    case Stall::mxu_result: return "mxu_result";
    case Stall::vmem_reuse: return "vmem_reuse";
    case Stall::count_: break;
  }
  return "?";
}

namespace {

const char* stall_description(Megacore::Stall s) {
  switch (s) {
    case Megacore::Stall::issued: return "cycles the static bundle stream advanced";
    case Megacore::Stall::dma_wait: return "whole-core stall: a semaphore wait on a DMA that has not completed";
    case Megacore::Stall::dma_issue: return "whole-core stall: earlier DMA descriptors still queued for the DMA engine";
    case Megacore::Stall::mxu_busy: return "whole-core stall: an MXU push found the MXU's fold queue full";
    case Megacore::Stall::mxu_result: return "whole-core stall: an MXU pop waited for its fold's results";
    case Megacore::Stall::vmem_reuse: return "whole-core stall: a DMA waited for the MXU to finish reading its VMEM buffer";
    default: return "";
  }
}

std::vector<std::int64_t> eval_shape(const isa::Kernel& k, const isa::Type& t, const isa::SymbolValues& sym) {
  std::vector<std::int64_t> s;
  for (const isa::Expr& e : t.shape) {
    auto v = isa::eval_expr(e, sym);
    if (!v) throw Error(cat("kernel ", k.name, ": shape ", isa::expr_to_string(e), " cannot be evaluated"));
    s.push_back(*v);
  }
  return s;
}

/// Expands one program into its static stream (see megacore.hpp), computing scalars (and values).
class Expander {
 public:
  Expander(Megacore::Program& p, std::uint64_t& next_group, std::uint64_t& next_tag, HbmLayout layout)
      : p_(p), k_(*p.launch->kernel), low_(*p.lowered), next_group_(next_group), next_tag_(next_tag), layout_(layout) {
    ctx_.launch = p.launch;
    ctx_.coord = p.msg.coord;
    ctx_.carry_values = p.launch->carries_values();
    env_.resize(k_.values.size());
  }

  void run() {
    // Scalar parameters are known from the start.
    for (const isa::Param& prm : k_.params) {
      auto it = p_.launch->scalar_args.find(prm.value);
      if (it != p_.launch->scalar_args.end()) env_[static_cast<std::size_t>(prm.value)].value = simt::RtValue::scalar_of(it->second);
    }
    p_.static_end = walk_block(k_.body, 0);
  }

 private:
  struct Slot {
    simt::RtValue value;
    std::int64_t buffer = -1;  // VMEM buffer filled by a DMA (copy tiles and their views)
    std::uint64_t group = 0;   // DMA group (tokens and copy tiles)
    std::uint64_t vmem_addr = 0;  // where a tile value lives in VMEM
  };
  struct Prefetched {
    Slot tile, token;
  };

  Slot& slot(isa::ValueId v) { return env_.at(static_cast<std::size_t>(v)); }

  std::int64_t known_int(isa::ValueId v, const isa::Op& op) {
    const simt::RtValue& r = slot(v).value;
    if (r.kind != simt::RtValue::Kind::scalar || !r.known)
      throw Error(cat("kernel ", k_.name, " line ", op.loc.line, ": a control-flow scalar is not known "
                      "(data-dependent control flow needs workload.values=true)"));
    return static_cast<std::int64_t>(std::llround(r.scalar));
  }

  Megacore::Instance& add(std::uint64_t time, const Mop* mop, const isa::Op* op) {
    Megacore::Instance in;
    in.time = time;
    in.seq = p_.stream.size();
    in.mop = mop;
    in.op = op;
    p_.stream.push_back(std::move(in));
    return p_.stream.back();
  }

  std::int64_t buffer_of(const isa::Op* op, std::int64_t stage) {
    auto key = std::make_pair(op, stage);
    auto it = buffer_ids_.find(key);
    if (it != buffer_ids_.end()) return it->second;
    const auto id = static_cast<std::int64_t>(readers_.size());
    readers_.emplace_back();
    buffer_ids_[key] = id;
    return id;
  }

  std::vector<const simt::RtValue*> operands(const isa::Op& op,
                                             const std::unordered_map<isa::ValueId, simt::RtValue>* local = nullptr) {
    std::vector<const simt::RtValue*> in;
    for (isa::ValueId v : op.operands) {
      if (local) {
        auto it = local->find(v);
        if (it != local->end()) {
          in.push_back(&it->second);
          continue;
        }
      }
      in.push_back(&slot(v).value);
    }
    return in;
  }

  /// A copy_async of `stage` buffer issued at `time`: its DMA instance and result slots.
  Prefetched emit_copy(const isa::Op& op, const std::vector<const simt::RtValue*>& in, std::uint64_t time,
                       std::int64_t stage) {
    const OpPlan& plan = low_.plan(op);
    const isa::Type& rt = k_.type_of(op.results.at(0));
    const auto shape = eval_shape(k_, rt, p_.launch->symbols);
    const std::uint32_t eb = static_cast<std::uint32_t>(std::max(1, isa::bits(rt.dtype) / 8));
    const std::uint64_t tile_bytes = plan.vmem_bytes;  // one stage's buffer (the lowering's layout)
    const std::int64_t buf = buffer_of(&op, stage);
    Megacore::Instance& in_dma = add(time, &plan.mops.at(0), &op);
    in_dma.cmds = tile_commands(p_.launch->global(op.operands.at(0)), simt::tile_coords(k_, op, in), shape, eb,
                                p_.base + low_.vmem_offset(op) + static_cast<std::uint64_t>(stage) * tile_bytes,
                                CopyDirection::to_scratch, layout_);
    in_dma.group = next_group_++;
    in_dma.reuse = std::move(readers_[static_cast<std::size_t>(buf)]);
    readers_[static_cast<std::size_t>(buf)].clear();
    std::vector<simt::RtValue> out = simt::evaluate_op(k_, op, in, ctx_);
    Prefetched r;
    r.tile.value = out.at(0);
    r.tile.buffer = buf;
    r.tile.group = in_dma.group;
    r.tile.vmem_addr = p_.base + low_.vmem_offset(op) + static_cast<std::uint64_t>(stage) * tile_bytes;
    r.token.group = in_dma.group;
    return r;
  }

  void bind_results(const isa::Op& op, const Prefetched& r) {
    slot(op.results.at(0)) = r.tile;
    if (op.results.size() > 1) slot(op.results[1]) = r.token;
  }

  /// One tile op of a segment at `base`.
  void emit_op(const Segment& seg, std::uint32_t i, std::uint64_t base) {
    const isa::Op& op = *seg.ops[i];
    if (op.opcode == OpId::yield) return;
    const OpPlan& plan = low_.plan(op);
    auto time_of = [&](std::size_t m) { return base + seg.cycle_of.at(seg.first[i] + m); };
    std::vector<const simt::RtValue*> in = operands(op);
    if (op.opcode == OpId::copy_async) {
      bind_results(op, emit_copy(op, in, time_of(0), 0));
      return;
    }
    std::vector<simt::RtValue> out = simt::evaluate_op(k_, op, in, ctx_);
    for (std::size_t r = 0; r < out.size() && r < op.results.size(); ++r) {
      Slot s;
      s.value = out[r];
      slot(op.results[r]) = s;
    }
    if ((op.opcode == OpId::reshape || op.opcode == OpId::move) && !op.operands.empty()) {
      slot(op.results[0]).buffer = slot(op.operands[0]).buffer;
      slot(op.results[0]).group = slot(op.operands[0]).group;
      slot(op.results[0]).vmem_addr = slot(op.operands[0]).vmem_addr;
    } else if (op.opcode == OpId::mma) {
      slot(op.results[0]).vmem_addr = slot(op.operands.at(2)).vmem_addr;  // accumulates in place
    } else if (plan.vmem_bytes && !op.results.empty()) {
      slot(op.results[0]).vmem_addr = p_.base + low_.vmem_offset(op);
    }
    std::vector<std::uint64_t> tags(plan.folds.size(), 0);
    std::uint64_t own_group = 0;
    bool first_push = true;
    for (std::size_t m = 0; m < plan.mops.size(); ++m) {
      const Mop& mop = plan.mops[m];
      Megacore::Instance& x = add(time_of(m), &mop, &op);
      switch (mop.kind) {
        case MopKind::mxu_push: {
          x.tag = tags[mop.fold] = next_tag_++;
          x.fold = plan.folds[mop.fold];
          if (first_push) x.flops = plan.flops;
          first_push = false;
          for (std::size_t o = 0; o < 2 && o < op.operands.size(); ++o) {
            const std::int64_t b = slot(op.operands[o]).buffer;
            if (b >= 0) readers_[static_cast<std::size_t>(b)].push_back(x.tag);
          }
          break;
        }
        case MopKind::mxu_pop:
          x.tag = tags[mop.fold];
          x.fold = plan.folds[mop.fold];
          break;
        case MopKind::sem_wait:
          if (op.opcode == OpId::wait) {
            for (isa::ValueId t : op.operands)
              if (slot(t).group) x.waits.push_back(slot(t).group);
          } else {
            x.waits.push_back(own_group);
          }
          break;
        case MopKind::dma_in: {  // `load`: global -> VMEM landing buffer
          const isa::Type& rt = k_.type_of(op.results.at(0));
          const auto shape = eval_shape(k_, rt, p_.launch->symbols);
          x.cmds = tile_commands(p_.launch->global(op.operands.at(0)), simt::tile_coords(k_, op, in), shape,
                                 static_cast<std::uint32_t>(std::max(1, isa::bits(rt.dtype) / 8)),
                                 p_.base + low_.vmem_offset(op), CopyDirection::to_scratch, layout_);
          x.group = own_group = next_group_++;
          break;
        }
        case MopKind::dma_out: {  // `store`: VMEM staging buffer -> global
          const isa::Type& vt = k_.type_of(op.operands.at(0));
          const auto shape = eval_shape(k_, vt, p_.launch->symbols);
          const core::GlobalBinding& g = p_.launch->global(op.operands.at(1));
          x.cmds = tile_commands(g, simt::tile_coords(k_, op, in), shape, g.element_bytes(),
                                 slot(op.operands.at(0)).vmem_addr, CopyDirection::from_scratch, layout_);
          x.group = next_group_++;
          break;
        }
        default: break;
      }
    }
  }

  std::uint64_t walk_segment(const Segment& seg, std::uint64_t t) {
    for (std::uint32_t i = 0; i < seg.ops.size(); ++i) emit_op(seg, i, t);
    return t + seg.length;
  }

  /// Prefetch of the pipelined copies of iteration `j` of `loop` (its coordinates from the induction
  /// variable and invariants only), issued at `time`.
  void prefetch(const isa::Op& loop, const isa::Op& copy, std::int64_t j, std::int64_t lo, std::int64_t step,
                std::int64_t stages, std::uint64_t time) {
    const isa::Block& body = loop.regions.at(0);
    std::unordered_map<isa::ValueId, simt::RtValue> local;
    local[body.args.at(0)] = simt::RtValue::scalar_of(static_cast<double>(lo + j * step));
    std::unordered_set<isa::ValueId> carried(body.args.begin() + 1, body.args.end());
    for (const isa::Op& op : body.ops) {
      if (&op == &copy) break;
      if (op.results.empty() || !k_.type_of(op.results[0]).is_scalar_like() || !op.regions.empty()) continue;
      bool ok = true;
      for (isa::ValueId o : op.operands) ok = ok && !carried.count(o);
      if (!ok) continue;
      std::vector<simt::RtValue> out = simt::evaluate_op(k_, op, operands(op, &local), ctx_);
      for (std::size_t r = 0; r < out.size(); ++r) local[op.results[r]] = out[r];
    }
    prefetched_[{&copy, j}] = emit_copy(copy, operands(copy, &local), time, j % stages);
  }

  std::uint64_t walk_modulo(const isa::Op& loop, const Segment& seg, std::uint64_t t) {
    const std::int64_t lo = known_int(loop.operands.at(0), loop), hi = known_int(loop.operands.at(1), loop),
                       step = known_int(loop.operands.at(2), loop);
    if (step <= 0) throw Error(cat("kernel ", k_.name, " line ", loop.loc.line, ": for with step ", step));
    const isa::Block& body = loop.regions.at(0);
    std::vector<Slot> carried;
    for (std::size_t i = 3; i < loop.operands.size(); ++i) carried.push_back(slot(loop.operands[i]));
    const std::int64_t n = hi > lo ? (hi - lo + step - 1) / step : 0;
    if (n == 0) {
      for (std::size_t i = 0; i < carried.size() && i < loop.results.size(); ++i) slot(loop.results[i]) = carried[i];
      return t;
    }
    const auto& piped = low_.pipelined_copies(loop);
    const std::int64_t S = piped.empty() ? 1 : seg.pipeline;
    std::uint64_t t0 = t;
    for (std::int64_t j = 0; j < S - 1 && j < n; ++j)
      for (const isa::Op* c : piped) prefetch(loop, *c, j, lo, step, S, t0++);
    const isa::Op* yield = !body.ops.empty() && body.ops.back().opcode == OpId::yield ? &body.ops.back() : nullptr;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t base = t0 + static_cast<std::uint64_t>(i) * seg.ii;
      Slot iv;
      iv.value = simt::RtValue::scalar_of(static_cast<double>(lo + i * step));
      slot(body.args.at(0)) = iv;
      for (std::size_t a = 0; a < carried.size() && a + 1 < body.args.size(); ++a) slot(body.args[a + 1]) = carried[a];
      for (std::uint32_t o = 0; o < seg.ops.size(); ++o) {
        const isa::Op& op = *seg.ops[o];
        if (std::find(piped.begin(), piped.end(), &op) != piped.end()) {
          auto it = prefetched_.find({&op, i});
          if (it == prefetched_.end()) panic("megacore: pipelined copy of iteration ", i, " was not issued");
          bind_results(op, it->second);
          prefetched_.erase(it);
          if (i + S - 1 < n) prefetch(loop, op, i + S - 1, lo, step, S, base + seg.cycle_of.at(seg.first[o]));
          continue;
        }
        emit_op(seg, o, base);
      }
      if (yield)
        for (std::size_t a = 0; a < yield->operands.size() && a < carried.size(); ++a) carried[a] = slot(yield->operands[a]);
    }
    for (std::size_t i = 0; i < carried.size() && i < loop.results.size(); ++i) slot(loop.results[i]) = carried[i];
    return t0 + static_cast<std::uint64_t>(n - 1) * seg.ii + seg.length;
  }

  std::uint64_t walk_block(const isa::Block& b, std::uint64_t t) {
    const BlockPlan& bp = low_.block(b);
    for (const BlockPlan::Item& item : bp.items) {
      if (item.segment >= 0) {
        t = walk_segment(low_.segment(item.segment), t);
        continue;
      }
      const isa::Op& op = *item.control;
      if (op.opcode == OpId::for_) {
        const isa::Block& body = op.regions.at(0);
        const BlockPlan& inner = low_.block(body);
        if (inner.loop_segment >= 0) {
          t = walk_modulo(op, low_.segment(inner.loop_segment), t);
          continue;
        }
        const std::int64_t lo = known_int(op.operands.at(0), op), hi = known_int(op.operands.at(1), op),
                           step = known_int(op.operands.at(2), op);
        if (step <= 0) throw Error(cat("kernel ", k_.name, " line ", op.loc.line, ": for with step ", step));
        std::vector<Slot> carried;
        for (std::size_t i = 3; i < op.operands.size(); ++i) carried.push_back(slot(op.operands[i]));
        const isa::Op* yield = !body.ops.empty() && body.ops.back().opcode == OpId::yield ? &body.ops.back() : nullptr;
        for (std::int64_t iv = lo; iv < hi; iv += step) {
          Slot s;
          s.value = simt::RtValue::scalar_of(static_cast<double>(iv));
          slot(body.args.at(0)) = s;
          for (std::size_t a = 0; a < carried.size() && a + 1 < body.args.size(); ++a) slot(body.args[a + 1]) = carried[a];
          t = walk_block(body, t) + 1;  // + the loop branch
          if (yield)
            for (std::size_t a = 0; a < yield->operands.size() && a < carried.size(); ++a) carried[a] = slot(yield->operands[a]);
        }
        for (std::size_t i = 0; i < carried.size() && i < op.results.size(); ++i) slot(op.results[i]) = carried[i];
      } else {  // if
        const bool cond = known_int(op.operands.at(0), op) != 0;
        const std::size_t region = cond ? 0 : 1;
        t += 1;  // the branch
        if (region < op.regions.size()) {
          const isa::Block& r = op.regions[region];
          t = walk_block(r, t);
          if (!r.ops.empty() && r.ops.back().opcode == OpId::yield)
            for (std::size_t a = 0; a < r.ops.back().operands.size() && a < op.results.size(); ++a)
              slot(op.results[a]) = slot(r.ops.back().operands[a]);
        }
      }
    }
    return t;
  }

  Megacore::Program& p_;
  const isa::Kernel& k_;
  const MegacoreLoweredKernel& low_;
  std::uint64_t& next_group_;
  std::uint64_t& next_tag_;
  const HbmLayout layout_;
  simt::ProgramContext ctx_;
  std::vector<Slot> env_;
  std::map<std::pair<const isa::Op*, std::int64_t>, std::int64_t> buffer_ids_;
  std::vector<std::vector<std::uint64_t>> readers_;
  std::map<std::pair<const isa::Op*, std::int64_t>, Prefetched> prefetched_;
};

}  // namespace

// ---- the component ---------------------------------------------------------------------------------

Megacore::Megacore(const ComponentContext& ctx, std::uint32_t index, MegacoreParams params, MegacoreEnvironment env)
    : core::Core(ctx, index),
      p_(std::move(params)),
      env_(std::move(env)),
      units_{p_.mxus},
      st_programs_(stats().counter("programs", "", "grid steps (programs) run")),
      st_bundles_(stats().counter("bundles", "cycles", "static bundle cycles of the programs' streams")),
      st_ops_(stats().counter("ops", "", "VLIW ops issued")),
      st_folds_(stats().counter("mxu_folds", "", "MXU folds pushed")),
      st_flops_(stats().counter("flops", "FLOP", "matrix FLOPs (2 M N K per mma, unpadded)")),
      st_dma_commands_(stats().counter("dma_commands", "", "DMA descriptors sent to the DMA engine")),
      st_dma_bytes_in_(stats().counter("dma_bytes_in", "B", "bytes DMA'd from HBM into VMEM")),
      st_dma_bytes_out_(stats().counter("dma_bytes_out", "B", "bytes DMA'd from VMEM to HBM")),
      st_early_dmas_(stats().counter("early_dmas", "", "prologue DMAs of a grid step issued under the previous step")),
      st_vpu_busy_(stats().counter("vpu_busy", "cycles", "cycles the vector unit was reserved by vector ops")),
      st_mxu_busy_(stats().counter("mxu_busy", "cycles", "MXU cycles with a wavefront in the array, summed over MXUs")),
      st_macs_(stats().counter("mxu_macs", "", "MACs done by the MXUs (padding excluded by the array model)")),
      st_program_cycles_(stats().distribution("program_cycles", "cycles", "cycles from a program's first issue to its end")),
      st_fold_cycles_(stats().distribution("mxu_fold_cycles", "cycles",
                                           "cycles from an MXU push's issue to its fold's last output leaving the array")) {
  for (int s = 0; s < static_cast<int>(Stall::count_); ++s) {
    const auto st = static_cast<Stall>(s);
    st_stall_.push_back(&stats().counter(std::string("stall_") + stall_name(st), "cycles", stall_description(st)));
  }
  for (std::uint32_t k = 0; k < p_.mxus; ++k) arrays_.emplace_back(p_.array, p_.weight_buffers, Charging::full_array);
  slot_used_.assign(p_.resident_programs, false);
  if (!env_.launches) panic(name(), ": a megacore needs the run's launch list");
}

Megacore::~Megacore() = default;

core::CoreResources Megacore::resources() const {
  core::CoreResources r;
  r.registers = 1ull << 40;  // vregs are not a per-program resource (the compiler allocates them)
  r.register_granule = 1;
  r.scratch_bytes = env_.vmem_bytes;
  r.scratch_granule = 512;
  r.scratch_reserved_per_program = 0;
  r.threads = 1u << 30;
  r.program_slots = p_.resident_programs;
  r.warp_size = 1;
  return r;
}

core::ActivityLayout Megacore::activity_layout(const MegacoreParams& p) {
  core::ActivityLayout l;
  l.units = {{"mxu", static_cast<double>(p.mxus)}, {"mxu_pop", 1.0}, {"vpu", 1.0}, {"xlu", 1.0}, {"eup", 1.0},
             {"scalar", static_cast<double>(p.slots.of(SlotKind::scalar))}, {"dma (of HBM peak)", 1.0}};
  for (int s = 0; s < static_cast<int>(Stall::count_); ++s) l.stalls.push_back(stall_name(static_cast<Stall>(s)));
  l.slots_per_cycle = 1;
  l.memory_stalls = {"dma_wait", "dma_issue"};
  return l;
}

CoreSidePorts Megacore::core_side() { return core_side_ports(*this); }

void Megacore::init() {
  trace_ = sim().trace();
  if (!trace_) return;
  track_programs_ = trace_->track("megacore", name() + " grid steps");
  track_stalls_ = trace_->track("megacore", name() + " stalls");
  track_vpu_ = trace_->track("megacore", name() + " vector/xlu/eup");
  track_dma_ = trace_->track("megacore", name() + " dma");
  for (std::uint32_t k = 0; k < p_.mxus; ++k) track_mxu_.push_back(trace_->track("megacore", cat(name(), " mxu", k)));
}

bool Megacore::busy() const { return !programs_.empty() || !dma_queue_.empty(); }

std::string Megacore::waiting_on() const {
  std::string s = cat(programs_.size(), " programs resident, ", dma_queue_.size(), " DMA descriptors queued, ",
                      group_remaining_.size(), " DMAs in flight");
  if (blocked_.active) s += cat("; stalled (", stall_name(blocked_.reason), ") since cycle ", blocked_.nominal);
  for (const auto& p : programs_)
    if (!p->stream_done && p->next < p->stream.size()) {
      const Instance& in = p->stream[p->next];
      s += cat("; next op ", in.mop->sched.label, " (", mop_kind_name(in.mop->kind), ") at static cycle ", in.time);
      break;
    }
  return s;
}

std::uint64_t Megacore::vmem_base(std::uint32_t slot) const {
  const auto& l = env_.launches->front();
  const std::uint64_t per = (l.lowered->vmem_bytes() + 511) / 512 * 512;
  return per * slot;
}

Megacore::Program* Megacore::current() {
  for (auto& p : programs_)
    if (!p->stream_done) return p.get();
  return nullptr;
}

void Megacore::accept(const core::ProgramLaunch& msg, Time now) {
  const MegacoreLaunch& L = env_.launches->at(msg.launch);
  auto p = std::make_unique<Program>();
  p->msg = msg;
  p->launch = L.launch.get();
  p->lowered = L.lowered.get();
  std::uint32_t slot = 0;
  while (slot < slot_used_.size() && slot_used_[slot]) ++slot;
  if (slot >= slot_used_.size()) panic(name(), ": no program slot for a program the dispatcher sent");
  slot_used_[slot] = true;
  p->slot = slot;
  p->base = vmem_base(slot);
  p->activity.busy.assign(kActUnits, 0.0);
  p->activity.stalls.assign(static_cast<std::size_t>(Stall::count_), 0.0);
  expand(*p);
  Program* running = current();
  Program& ref = *p;
  programs_.push_back(std::move(p));
  // Under a running step, the prologue DMAs go out once that step has issued its own last input DMA.
  if (running && running->next > running->last_dma_in) issue_prologue(ref, now);
}

void Megacore::issue_prologue(Program& p, Time now) {
  if (!p_.prefetch_next_program || p.prologue_issued || p.started) return;
  p.prologue_issued = true;
  for (Instance& in : p.stream)
    if (in.early) {
      queue_dma(p, in, now);
      in.done_early = true;
      ++st_early_dmas_;
    }
}

void Megacore::expand(Program& p) {
  Expander(p, next_group_, next_tag_, {p_.hbm_tile_rows, p_.hbm_tile_cols}).run();
  std::stable_sort(p.stream.begin(), p.stream.end(), [](const Instance& a, const Instance& b) {
    return a.time != b.time ? a.time < b.time : a.seq < b.seq;
  });
  // Prologue DMAs: the input DMAs before the program's first semaphore wait (their addresses are scalars and
  // their buffers are fresh, so nothing in the program orders them later).
  std::uint64_t limit = ~0ull;
  for (const Instance& in : p.stream)
    if (in.mop->kind == MopKind::sem_wait) {
      limit = in.time;
      break;
    }
  for (Instance& in : p.stream)
    if (in.mop->kind == MopKind::dma_in && in.time < limit && in.reuse.empty()) in.early = true;
  for (std::size_t i = 0; i < p.stream.size(); ++i)
    if (p.stream[i].mop->kind == MopKind::dma_in) p.last_dma_in = i;
}

void Megacore::queue_dma(Program& p, Instance& in, Time now) {
  ++p.dmas_in_flight;
  group_program_[in.group] = &p;
  if (in.cmds.empty()) {  // nothing of the tile lies inside the tensor
    groups_done_.insert(in.group);
    --p.dmas_in_flight;
    return;
  }
  group_remaining_[in.group] = static_cast<std::uint32_t>(in.cmds.size());
  double bytes = 0;
  for (CopyCommand c : in.cmds) {
    c.id = next_cmd_id_++;
    cmd_group_[c.id] = in.group;
    bytes += static_cast<double>(c.bytes());
    (c.direction == CopyDirection::to_scratch ? st_dma_bytes_in_ : st_dma_bytes_out_) += c.bytes();
    dma_queue_.push_back({c, &p});
  }
  if (env_.hbm_bytes_per_cycle > 0) p.activity.busy[kActDma] += bytes / env_.hbm_bytes_per_cycle;
  if (trace_ && trace_->in_window(clock().tick_of(Cycle(now))))
    trace_->async_begin(track_dma_, in.mop->sched.label, in.group, clock().tick_of(Cycle(now)), {{"bytes", bytes}});
}

void Megacore::drain_dma_queue(Time now) {
  if (dma_queue_.empty() || last_dma_sent_ == now || !copy_cmd.can_send()) return;
  CopyCommand c = dma_queue_.front().cmd;
  c.issued = clock().now_tick();
  copy_cmd.send(c);
  dma_queue_.pop_front();
  last_dma_sent_ = now;
  ++st_dma_commands_;
}

void Megacore::advance_arrays(Time now) {
  auto collect = [&](const std::vector<SystolicArray::Completion>& done) {
    for (const auto& c : done) {
      folds_done_.insert(c.first);
      auto it = push_issued_.find(c.first);
      if (it != push_issued_.end()) {
        st_fold_cycles_.sample(static_cast<double>(c.second - it->second));
        push_issued_.erase(it);
      }
    }
    if (!done.empty()) progressed_ = true;
  };
  while (!pending_push_.empty() && pending_push_.front().at <= now) {
    const PendingPush& pp = pending_push_.front();
    SystolicArray& a = arrays_[pp.mxu];
    if (pp.at > a.now()) collect(a.advance_to(pp.at));
    a.enqueue_fold(pp.fold.used_rows, pp.fold.used_cols, pp.fold.t, pp.tag);
    pending_push_.pop_front();
  }
  for (SystolicArray& a : arrays_)
    if (now > a.now()) collect(a.advance_to(now));
}

Megacore::Stall Megacore::check(const Instance& in, Time now, Time& wake) const {
  auto mxu_wake = [&]() {
    Time w = ~0ull;
    for (const SystolicArray& a : arrays_) w = std::min<Time>(w, a.next_event_cycle());
    if (!pending_push_.empty()) w = std::min(w, pending_push_.front().at);
    return w == ~0ull ? now + 1 : std::max(w, now + 1);
  };
  switch (in.mop->kind) {
    case MopKind::sem_wait:
      for (std::uint64_t g : in.waits)
        if (!groups_done_.count(g)) {
          wake = 0;
          return Stall::dma_wait;
        }
      return Stall::issued;
    case MopKind::dma_in:
      for (std::uint64_t t : in.reuse)
        if (!folds_done_.count(t)) {
          wake = mxu_wake();
          return Stall::vmem_reuse;
        }
      [[fallthrough]];
    case MopKind::dma_out:
      if (!dma_queue_.empty()) {
        wake = now + 1;
        return Stall::dma_issue;
      }
      return Stall::issued;
    case MopKind::mxu_push: {
      std::size_t queued = arrays_[in.mop->mxu].queued_folds();
      for (const PendingPush& pp : pending_push_) queued += pp.mxu == in.mop->mxu ? 1 : 0;
      if (queued >= p_.mxu_queue) {
        wake = mxu_wake();
        return Stall::mxu_busy;
      }
      return Stall::issued;
    }
    case MopKind::mxu_pop:
      if (!folds_done_.count(in.tag)) {
        wake = mxu_wake();
        return Stall::mxu_result;
      }
      return Stall::issued;
    default:
      return Stall::issued;
  }
}

void Megacore::charge(Program& p, Stall s, Time cycles) {
  if (cycles == 0) return;
  p.activity.stalls[static_cast<std::size_t>(s)] += static_cast<double>(cycles);
  *st_stall_[static_cast<std::size_t>(s)] += cycles;
}

void Megacore::execute(Program& p, Instance& in, Time now) {
  const Mop& m = *in.mop;
  ++st_ops_;
  p.activity.instructions += 1;
  const Tick t0 = clock().tick_of(Cycle(now));
  const bool traced = trace_ && trace_->in_window(t0);
  switch (m.kind) {
    case MopKind::mxu_push: {
      const Time at = now + p_.mxu_push_latency;
      push_issued_[in.tag] = now;
      if (at <= arrays_[m.mxu].now())
        arrays_[m.mxu].enqueue_fold(in.fold.used_rows, in.fold.used_cols, in.fold.t, in.tag);
      else
        pending_push_.push_back({at, m.mxu, in.fold, in.tag});
      p.activity.busy[kActMxu] += static_cast<double>(m.sched.unit_cycles);
      p.activity.flops += in.flops;
      st_flops_ += in.flops;
      ++st_folds_;
      if (traced)
        trace_->slice(track_mxu_[m.mxu], m.sched.label, t0, clock().tick_of(Cycle(now + m.sched.unit_cycles)),
                      {{"t", static_cast<double>(in.fold.t)}, {"rows", static_cast<double>(in.fold.used_rows)},
                       {"cols", static_cast<double>(in.fold.used_cols)}});
      break;
    }
    case MopKind::mxu_pop: p.activity.busy[kActPop] += m.sched.unit_cycles; break;
    case MopKind::vector:
    case MopKind::xlu:
    case MopKind::eup: {
      const std::size_t a = m.kind == MopKind::vector ? kActVpu : (m.kind == MopKind::xlu ? kActXlu : kActEup);
      p.activity.busy[a] += m.sched.unit_cycles;
      if (m.kind == MopKind::vector) st_vpu_busy_ += m.sched.unit_cycles;
      if (traced)
        trace_->slice(track_vpu_, m.sched.label, t0, clock().tick_of(Cycle(now + m.sched.unit_cycles)));
      break;
    }
    case MopKind::scalar: p.activity.busy[kActScalar] += 1; break;
    case MopKind::dma_in:
    case MopKind::dma_out: queue_dma(p, in, now); break;
    default: break;
  }
}

Megacore::Time Megacore::run_stream(Time now) {
  for (;;) {
    Program* P = current();
    if (!P) return 0;
    if (!P->started) {
      P->started = true;
      P->shift = now;
      P->started_at = now;
    }
    while (P->next < P->stream.size()) {
      Instance& in = P->stream[P->next];
      if (in.done_early) {
        ++P->next;
        continue;
      }
      const Time nominal = in.time + P->shift;
      if (nominal > now) return nominal;
      Time wake = 0;
      const Stall s = check(in, now, wake);
      if (s != Stall::issued) {
        if (!blocked_.active) {
          blocked_ = Blocked{true, s, nominal, nominal};
        } else if (blocked_.reason != s) {
          charge(*P, blocked_.reason, now - blocked_.since);
          blocked_.since = now;
          blocked_.reason = s;
        }
        return wake;
      }
      if (blocked_.active) {
        charge(*P, blocked_.reason, now - blocked_.since);
        if (trace_ && trace_->in_window(clock().tick_of(Cycle(blocked_.nominal))))
          trace_->slice(track_stalls_, stall_name(blocked_.reason), clock().tick_of(Cycle(blocked_.nominal)),
                        clock().tick_of(Cycle(now)));
        P->shift += now - blocked_.nominal;
        blocked_.active = false;
      } else if (nominal < now) {
        panic(name(), ": op ", in.mop->sched.label, " passed its issue cycle without a stall");
      }
      execute(*P, in, now);
      if (P->next == P->last_dma_in)  // the step's inputs are all requested: the next step's prologue may go
        for (auto& q : programs_)
          if (q.get() != P && !q->started) {
            issue_prologue(*q, now);
            break;
          }
      ++P->next;
      progressed_ = true;
    }
    const Time end = P->static_end + P->shift;
    if (end > now) return end;
    P->stream_done = true;
    charge(*P, Stall::issued, P->static_end);
    st_bundles_ += P->static_end;
    progressed_ = true;
  }
}

void Megacore::finish_programs(Time now) {
  for (std::size_t i = 0; i < programs_.size();) {
    Program& p = *programs_[i];
    if (!p.stream_done || p.dmas_in_flight > 0) {
      ++i;
      continue;
    }
    st_program_cycles_.sample(static_cast<double>(now - p.started_at));
    ++st_programs_;
    if (trace_) {
      const Tick b = clock().tick_of(Cycle(p.started_at)), e = clock().tick_of(Cycle(now));
      if (trace_->in_window(b) || trace_->in_window(e))
        trace_->slice(track_programs_, cat(p.launch->name, " (", p.msg.coord[0], ",", p.msg.coord[1], ",", p.msg.coord[2], ")"),
                      b, e, {{"program", static_cast<double>(p.msg.program)}});
    }
    done.send(core::ProgramDone{index(), p.msg.launch, p.msg.program, std::move(p.activity)}, Priority::response);
    slot_used_[p.slot] = false;
    programs_.erase(programs_.begin() + static_cast<std::ptrdiff_t>(i));
    progressed_ = true;
  }
}

bool Megacore::tick(Cycle cycle) {
  const Time now = cycle.value;
  progressed_ = false;
  while (copy_done.ready()) {
    const CopyDone d = copy_done.pop();
    auto it = cmd_group_.find(d.id);
    if (it == cmd_group_.end()) panic(name(), ": completion of unknown DMA command ", d.id);
    const std::uint64_t g = it->second;
    cmd_group_.erase(it);
    if (--group_remaining_[g] == 0) {
      group_remaining_.erase(g);
      groups_done_.insert(g);
      auto gp = group_program_.find(g);
      --gp->second->dmas_in_flight;
      group_program_.erase(gp);
      if (trace_ && trace_->in_window(clock().tick_of(cycle))) trace_->async_end(track_dma_, "dma", g, clock().tick_of(cycle));
    }
    progressed_ = true;
  }
  while (launch.ready()) accept(launch.pop(), now);
  advance_arrays(now);
  drain_dma_queue(now);
  Time wake = run_stream(now);
  drain_dma_queue(now);
  finish_programs(now);
  if (!dma_queue_.empty()) wake = wake ? std::min(wake, now + 1) : now + 1;
  if (!pending_push_.empty()) wake = wake ? std::min(wake, pending_push_.front().at) : pending_push_.front().at;
  if (wake > now) wake_at(Cycle(wake));
  if (progressed_) note_progress();
  return false;
}

void Megacore::finish() {
  std::uint64_t busy = 0, macs = 0;
  for (const SystolicArray& a : arrays_) {
    busy += a.busy_cycles();
    macs += a.macs();
  }
  st_mxu_busy_ += busy;
  st_macs_ += macs;
}

std::vector<std::string> Megacore::report_lines(const std::vector<StatValue>& totals) const {
  auto get = [&](const std::string& n) { return stat_value(totals, n); };
  const double bundles = get("bundles");
  std::string stalls;
  for (int s = 1; s < static_cast<int>(Stall::count_); ++s) {
    const double c = get(std::string("stall_") + stall_name(static_cast<Stall>(s)));
    if (c > 0) stalls += cat(" ", stall_name(static_cast<Stall>(s)), " ", format_number(c, 6));
  }
  std::vector<std::string> out{
      cat(format_number(get("programs"), 6), " grid steps, ", format_number(bundles, 8), " bundle cycles, ",
          format_number(get("mxu_folds"), 8), " MXU folds, ", format_number(get("early_dmas"), 6),
          " prologue DMAs issued under the previous step"),
      cat("whole-core stall cycles:", stalls.empty() ? std::string(" none") : stalls)};
  // The lowering (the same for every core): VMEM, segments with their schedules.
  if (index() == 0)
    for (const MegacoreLaunch& l : *env_.launches)
      for (const std::string& line : l.lowered->describe()) out.push_back(cat(l.launch->name, ": ", line));
  return out;
}

}  // namespace tilesim::megacore

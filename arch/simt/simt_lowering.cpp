#include "arch/simt/simt_lowering.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_set>

#include "isa/verifier.hpp"
#include "sim/error.hpp"

namespace tilesim::simt {

using isa::DType;
using isa::MemSpace;
using isa::OpId;

std::vector<std::string> SimtLoweredKernel::describe() const {
  std::vector<std::string> out;
  for (const GroupSpec& g : groups_)
    out.push_back(cat(g.role.empty() ? std::string("body") : cat("role ", g.role, "[", g.instance, "]"), ": ",
                      g.warps, " warps from warp ", g.first_warp, ", ", g.registers_per_thread, " registers/thread"));
  for (const auto& n : notes_) out.push_back(n);
  return out;
}

void SimtLoweredKernel::add_note(const std::string& note) {
  if (std::find(notes_.begin(), notes_.end(), note) == notes_.end()) notes_.push_back(note);
}

std::int32_t SimtLoweredKernel::channel_index(isa::ValueId v) const {
  auto it = channel_of_.find(v);
  if (it == channel_of_.end()) panic("lowered kernel: value ", v, " is not a channel");
  return it->second;
}

const OpLowering& SimtLoweredKernel::op(const isa::Op& op) const {
  auto it = ops_.find(&op);
  if (it == ops_.end()) panic("lowered kernel: op '", op.info().name, "' at line ", op.loc.line, " was not lowered");
  return it->second;
}

SimtLowering::SimtLowering(SimtParams params, const tensor::TensorUnit& tensor, std::string config_key)
    : p_(std::move(params)), tensor_(tensor), key_(std::move(config_key)) {}

namespace {

std::int64_t cdiv(std::int64_t a, std::int64_t b) { return b <= 0 ? 0 : (a + b - 1) / b; }
std::uint32_t u32(std::int64_t v) { return static_cast<std::uint32_t>(std::max<std::int64_t>(0, v)); }

/// Per-element instruction recipe of a float map op, in the f32 domain: MUFU ops plus FP32 ops, as a tile
/// compiler (Triton) lowers them: exp/log are a multiply by log2(e) (ln 2) around MUFU.EX2 (LG2); IEEE
/// div/sqrt/rcp need a Newton step and a fix-up after the MUFU approximation.
struct Recipe {
  int fp32 = 1;
  int sfu = 0;
};

Recipe float_recipe(const isa::Op& op) {
  switch (op.opcode) {
    case OpId::div: return {4, 1};
    case OpId::pow: return {2, 2};
    case OpId::recip: return {2, 1};
    case OpId::exp: return {1, 1};
    case OpId::exp2: return {1, 1};
    case OpId::log: return {1, 1};
    case OpId::log2: return {1, 1};
    case OpId::sqrt: return {2, 1};
    case OpId::rsqrt: return {1, 1};
    case OpId::tanh: return {0, 1};
    case OpId::sigmoid: return {2, 2};
    case OpId::silu: return {3, 2};
    case OpId::gelu: {
      const isa::Attr* a = op.attr("approx");
      return (a && a->word == "tanh") ? Recipe{6, 1} : Recipe{10, 1};
    }
    default: return {1, 0};
  }
}

bool is_16bit_float(DType t) { return t == DType::f16 || t == DType::bf16; }
std::uint32_t storage_bytes(DType t) { return isa::bits(t) < 8 ? 1u : static_cast<std::uint32_t>(isa::bits(t) / 8); }

struct TileInfo {
  DType dtype = DType::f32;
  std::vector<std::int64_t> shape;
  std::int64_t elements = 1;
  std::int64_t bytes = 0;
  MemSpace space = MemSpace::reg;
  bool is_tile = false;
};

/// State of lowering one role (or the body) for one group size.
class GroupLowerer {
 public:
  GroupLowerer(const isa::Kernel& k, const isa::SymbolValues& sym, const SimtParams& p,
               const tensor::TensorUnit& tu, SimtLoweredKernel& out, std::uint32_t warps,
               std::unordered_map<isa::ValueId, const isa::Op*>& defs)
      : k_(k), sym_(sym), p_(p), tu_(tu), out_(out), warps_(warps), threads_(32 * warps), defs_(defs) {}

  void lower_block(const isa::Block& b) {
    for (const isa::Op& op : b.ops) {
      lower_op(op);
      for (const isa::Block& r : op.regions) lower_block(r);
    }
  }

  /// Value-level facts other passes need.
  bool in_scratch(isa::ValueId v) const { return scratch_view_.count(v) != 0; }

 private:
  TileInfo info(isa::ValueId v) const {
    TileInfo t;
    const isa::Type& ty = k_.type_of(v);
    t.dtype = ty.dtype;
    if (ty.kind == isa::TypeKind::tile || ty.kind == isa::TypeKind::channel || ty.kind == isa::TypeKind::global) {
      t.is_tile = ty.kind == isa::TypeKind::tile;
      for (const auto& d : ty.shape) {
        std::string err;
        auto e = isa::eval_expr(d, sym_, &err);
        if (!e) throw ConfigError(cat("kernel ", k_.name, ": shape ", isa::expr_to_string(d), " of %", k_.value(v).name,
                                      " cannot be evaluated: ", err.empty() ? "unbound symbol" : err));
        t.shape.push_back(*e);
      }
      t.elements = 1;
      for (auto d : t.shape) t.elements *= d;
      t.bytes = t.elements * storage_bytes(t.dtype);
      t.space = ty.space;
      if (scratch_view_.count(v)) t.space = MemSpace::scratch;
    }
    return t;
  }

  std::uint32_t per_thread(std::int64_t elements) const { return u32(cdiv(elements, threads_)); }

  /// Vector width (bytes) of a row-major access to a tile whose rows are `row_bytes` long.
  std::uint32_t vector_for(std::int64_t row_bytes) const {
    std::uint32_t v = p_.vector_bytes;
    while (v > 1 && row_bytes % v != 0) v /= 2;
    return v;
  }
  std::uint32_t mem_instructions(const TileInfo& t) const {
    const std::int64_t row_bytes = t.shape.empty() ? t.bytes : t.shape.back() * storage_bytes(t.dtype);
    return u32(std::max<std::int64_t>(1, cdiv(t.bytes, static_cast<std::int64_t>(vector_for(row_bytes)) * threads_)));
  }

  MicroStep compute(Unit u, std::int64_t count, bool elementwise = true) const {
    MicroStep s;
    s.kind = MicroKind::compute;
    s.unit = u;
    s.count = u32(std::max<std::int64_t>(1, count));
    s.latency = p_.unit(u).latency;
    s.interval = p_.unit(u).interval;
    s.elementwise = elementwise;
    s.streams = elementwise;
    return s;
  }
  MicroStep memory(MicroKind kind, std::uint32_t count, std::uint32_t shared_bytes = 0) const {
    MicroStep s;
    s.kind = kind;
    s.unit = Unit::lsu;
    s.count = std::max<std::uint32_t>(1, count);
    s.latency = p_.unit(Unit::lsu).latency;
    s.interval = p_.unit(Unit::lsu).interval;
    s.shared_bytes = shared_bytes;
    return s;
  }
  MicroStep sync(MicroKind kind, bool group_wide = false) const {
    MicroStep s;
    s.kind = kind;
    s.unit = Unit::uniform;
    s.latency = 1;
    s.interval = 1;
    s.group_wide = group_wide;
    return s;
  }

  void add_shared_moves(OpLowering& l, MicroKind kind, std::int64_t bytes) const {
    const std::uint32_t per_inst = p_.vector_bytes * 32;
    l.steps.push_back(memory(kind, u32(cdiv(bytes, static_cast<std::int64_t>(per_inst) * warps_)), per_inst));
  }

  /// Map ops (element-wise) on a result of `t`.
  void lower_map(const isa::Op& op, const TileInfo& t, OpLowering& l) const {
    const std::int64_t e = per_thread(t.elements);
    // The operand dtype decides the pipe (a compare's result is i1; its inputs are what is computed on).
    DType dt = t.dtype;
    if (!op.operands.empty()) {
      const isa::Type& ty0 = k_.type_of(op.operands[op.opcode == OpId::select ? 1 : 0]);
      dt = ty0.dtype;
    }
    if (op.opcode == OpId::cast) {
      const DType from = dt, to = t.dtype;
      if (from == DType::f64 || to == DType::f64) {
        // F2F.F64.* / F2F.*.F64 / I2F.F64 / F2I.*.F64: the CUDA C++ Programming Guide's throughput table
        // gives "type conversions from and to 64-bit types" 16 results/clk/SM on CC 7.x, 8.0 and 9.0, the
        // MUFU rate (4 lanes per sub-partition in the presets): modelled on the quarter-rate pipe.
        l.steps.push_back(compute(Unit::sfu, e));
      } else if (isa::is_float(from) && isa::is_float(to)) {
        const bool pack = isa::bits(from) < 32 || isa::bits(to) < 32;
        l.steps.push_back(compute(Unit::fp32, pack ? cdiv(e, 2) : e));
      } else if (isa::is_bool(from) || isa::is_bool(to)) {
        l.steps.push_back(compute(Unit::int32, e));
      } else if (isa::is_int(from) && isa::is_int(to)) {
        l.steps.push_back(compute(Unit::int32, e));
      } else {
        l.steps.push_back(compute(Unit::sfu, e));  // I2F / F2I run at quarter rate (MUFU-class)
      }
      return;
    }
    if (isa::is_int(dt) || isa::is_bool(dt)) {
      l.steps.push_back(compute(Unit::int32, op.opcode == OpId::div ? 20 * e : e));
      return;
    }
    const Recipe r = float_recipe(op);
    if (dt == DType::f64) {
      if (op.opcode == OpId::select) {
        l.steps.push_back(compute(Unit::fp32, 2 * e));  // FSEL of the two 32-bit halves
        return;
      }
      // DADD/DMUL/DFMA/DSETP/DMNMX run on the FP64 pipe; div/sqrt/rsqrt/recip start from a MUFU seed
      // (MUFU.RCP64H/RSQ64H) refined by FP64 Newton steps. The f32 recipe's instruction counts are kept
      // with the FP32 work on the FP64 pipe. ⚠ CUDA's f64 exp/log/tanh/... are longer software sequences
      // (polynomials of a dozen and more DFMAs), so their cost here is a lower bound.
      const int before = r.sfu > 0 ? (r.fp32 + 1) / 2 : r.fp32;
      if (before > 0) l.steps.push_back(compute(Unit::fp64, e * before));
      if (r.sfu > 0) l.steps.push_back(compute(Unit::sfu, e * r.sfu));
      if (r.fp32 - before > 0) l.steps.push_back(compute(Unit::fp64, e * (r.fp32 - before)));
      return;
    }
    if (is_16bit_float(dt) && r.sfu == 0) {
      l.steps.push_back(compute(Unit::fp16, cdiv(e * r.fp32, 2)));
      return;
    }
    if (is_16bit_float(dt)) l.steps.push_back(compute(Unit::fp32, cdiv(e, 2)));  // widen to f32
    const int before = r.sfu > 0 ? (r.fp32 + 1) / 2 : r.fp32;
    if (before > 0) l.steps.push_back(compute(Unit::fp32, e * before));
    if (r.sfu > 0) l.steps.push_back(compute(Unit::sfu, e * r.sfu));
    if (r.fp32 - before > 0) l.steps.push_back(compute(Unit::fp32, e * (r.fp32 - before)));
    if (is_16bit_float(dt)) l.steps.push_back(compute(Unit::fp32, cdiv(e, 2)));  // narrow back
  }

  void lower_reduce(const isa::Op& op, OpLowering& l) const {
    const TileInfo in = info(op.operands.at(0));
    const int axis = static_cast<int>(op.attr("axis")->i);
    const std::int64_t len = in.shape.at(static_cast<std::size_t>(axis));
    const std::int64_t out_elems = len > 0 ? in.elements / len : 0;
    const Unit u = in.dtype == DType::f64 ? Unit::fp64 : isa::is_float(in.dtype) ? Unit::fp32 : Unit::int32;
    MicroStep serial = compute(u, per_thread(in.elements), false);
    serial.streams = true;  // folds its inputs in as they arrive
    l.steps.push_back(serial);
    // Threads sharing one output element.
    std::int64_t sharing;
    const bool last_axis = axis == static_cast<int>(in.shape.size()) - 1;
    if (mma_layout_.count(op.operands[0]) && last_axis) {
      sharing = 4;  // mma accumulator fragments: a row lives in the 4 threads of a quad
    } else if (last_axis) {
      const std::int64_t row_bytes = len * storage_bytes(in.dtype);
      sharing = std::min<std::int64_t>(threads_, cdiv(row_bytes, vector_for(row_bytes)));
    } else {
      sharing = std::clamp<std::int64_t>(out_elems > 0 ? threads_ / std::max<std::int64_t>(1, out_elems) : 1, 1,
                                         threads_);
    }
    if (sharing <= 1) return;
    const std::int64_t outs = std::max<std::int64_t>(1, cdiv(out_elems * sharing, threads_));
    const std::int64_t in_warp = std::min<std::int64_t>(sharing, 32);
    const int rounds = static_cast<int>(std::ceil(std::log2(static_cast<double>(in_warp))));
    const std::int64_t shuffles_per_partial = storage_bytes(in.dtype) > 4 ? 2 : 1;  // SHFL moves 32 bits
    for (int r = 0; r < rounds; ++r) {
      MicroStep shfl = compute(Unit::lsu, outs * shuffles_per_partial, false);
      shfl.latency = p_.shuffle_latency;
      l.steps.push_back(shfl);
      l.steps.push_back(compute(u, outs, false));
    }
    if (sharing > 32) {  // partials of several warps meet in scratch
      const std::int64_t partials = sharing / 32;
      const std::uint32_t partial_bytes = 32 * (in.dtype == DType::f64 ? 8u : 4u);  // f32 partials, f64 for f64
      l.steps.push_back(memory(MicroKind::shared_store, u32(outs), partial_bytes));
      l.steps.push_back(sync(MicroKind::group_barrier));
      l.steps.push_back(memory(MicroKind::shared_load, u32(outs * partials), partial_bytes));
      l.steps.push_back(compute(u, outs * partials, false));
    }
  }

  void lower_mma(const isa::Op& op, OpLowering& l) {
    const TileInfo a = info(op.operands.at(0)), b = info(op.operands.at(1));
    const TileInfo c = info(op.operands.at(op.opcode == OpId::mma_scaled ? 4 : 2));
    const isa::ValueId bv = op.operands.at(op.opcode == OpId::mma_scaled ? 2 : 1);
    const TileInfo bb = op.opcode == OpId::mma_scaled ? info(bv) : b;
    tensor::MmaRequest r;
    r.m = a.shape.at(0);
    r.k = a.shape.at(1);
    r.n = bb.shape.at(1);
    r.a = a.dtype;
    r.b = bb.dtype;
    r.acc = c.dtype;
    r.a_in_registers = a.space != MemSpace::scratch;
    r.b_in_registers = bb.space != MemSpace::scratch;
    r.warps = warps_;
    tensor::MmaPlan plan = tu_.plan(r);
    // A tile smaller than one instruction per warp is computed by one warp (the others skip it), as a
    // compiler would rather than spread partial instructions over idle warps.
    bool one_warp = false;
    if (plan.scope == tensor::MmaScope::warp && warps_ > 1 &&
        cdiv(r.m, plan.inst_m) * cdiv(r.n, plan.inst_n) < static_cast<std::int64_t>(warps_)) {
      r.warps = 1;
      plan = tu_.plan(r);
      one_warp = true;
    }
    l.flops = 2.0 * static_cast<double>(r.m) * static_cast<double>(r.n) * static_cast<double>(r.k);
    l.instruction = cat(plan.instruction, " x", plan.instructions_per_warp, "/warp");
    l.reads_scratch = !r.a_in_registers || !r.b_in_registers;
    if (plan.scope == tensor::MmaScope::warpgroup) {
      if (r.b_in_registers) {  // wgmma reads B from scratch only: stage it there first
        add_shared_moves(l, MicroKind::shared_store, bb.bytes);
        l.steps.push_back(sync(MicroKind::group_barrier));
      }
      MicroStep s;
      s.kind = MicroKind::wgmma;
      s.unit = Unit::tensor;
      s.count = u32(static_cast<std::int64_t>(plan.instructions_per_warp));
      s.latency = static_cast<std::uint32_t>(std::ceil(plan.latency));
      s.interval = plan.interval;
      const std::int64_t ksteps = std::max<std::int64_t>(1, cdiv(r.k, plan.inst_k));
      s.chains = u32(std::max<std::int64_t>(1, static_cast<std::int64_t>(plan.instructions_per_warp) / ksteps));
      s.accumulate_in_pipe = plan.accumulate_in_pipe;
      l.steps.push_back(s);
    } else {
      l.operand_loads_a = u32(static_cast<std::int64_t>(plan.operand_loads_a));
      l.operand_loads_b = u32(static_cast<std::int64_t>(plan.operand_loads_per_warp - plan.operand_loads_a));
      if (plan.operand_loads_per_warp > 0) {
        MicroStep ld = memory(MicroKind::shared_load, u32(static_cast<std::int64_t>(plan.operand_loads_per_warp)),
                              plan.operand_load_bytes);
        ld.elementwise = true;
        ld.leader_only = one_warp;
        ld.group_wide = one_warp;  // the other warps see the leader's results
        l.steps.push_back(ld);
      }
      MicroStep s;
      s.leader_only = one_warp;
      s.group_wide = one_warp;
      s.kind = MicroKind::mma_sync;
      s.unit = Unit::tensor;
      s.count = u32(static_cast<std::int64_t>(plan.instructions_per_warp));
      s.latency = static_cast<std::uint32_t>(std::ceil(plan.latency));
      s.interval = plan.interval;
      s.elementwise = true;
      s.streams = true;
      l.steps.push_back(s);
    }
    mma_layout_.insert(op.results.at(0));
    out_.add_note(cat("mma line ", op.loc.line, " (", warps_, " warps): ", l.instruction));
  }

  const isa::Op* def_of(isa::ValueId v) const {
    auto it = defs_.find(v);
    return it == defs_.end() ? nullptr : it->second;
  }

  void lower_op(const isa::Op& op) {
    OpLowering l;
    const isa::OpcodeInfo& inf = op.info();
    const bool scalar_result = !op.results.empty() && k_.type_of(op.results[0]).is_scalar_like();
    switch (op.opcode) {
      case OpId::for_:
      case OpId::if_:
      case OpId::yield:
      case OpId::constant:
        break;  // structure (the walker charges loop overhead) and immediates
      case OpId::program_id:
      case OpId::num_programs:
      case OpId::cluster_rank:
      case OpId::role_instance:
      case OpId::rem:
      case OpId::cdiv:
        l.steps.push_back(compute(Unit::uniform, 1, false));
        break;
      case OpId::mma:
      case OpId::mma_scaled:
        lower_mma(op, l);
        break;
      case OpId::reduce_sum:
      case OpId::reduce_max:
      case OpId::reduce_min:
        if (scalar_result && k_.type_of(op.operands[0]).is_scalar_like())
          l.steps.push_back(compute(Unit::uniform, 1, false));
        else if (info(op.operands[0]).elements > 1)
          lower_reduce(op, l);
        // else: a one-element tile's reduction is its element, a register the compiler renames (no steps:
        // the result is the operand's)
        break;
      case OpId::transpose: {
        const TileInfo x = info(op.operands[0]);
        if (x.space == MemSpace::scratch) {
          scratch_view_.insert(op.results[0]);  // read through a transposed descriptor / ldmatrix.trans
        } else {
          add_shared_moves(l, MicroKind::shared_store, x.bytes);
          l.steps.push_back(sync(MicroKind::group_barrier));
          add_shared_moves(l, MicroKind::shared_load, x.bytes);
        }
        break;
      }
      case OpId::reshape:
      case OpId::subtile:
      case OpId::broadcast:
        if (!op.operands.empty() && in_scratch(op.operands[0])) scratch_view_.insert(op.results[0]);
        if (!op.operands.empty() && mma_layout_.count(op.operands[0])) mma_layout_.insert(op.results[0]);
        break;
      case OpId::slice:
      case OpId::concat:
        l.steps.push_back(compute(Unit::int32, per_thread(info(op.results[0]).elements)));
        break;
      case OpId::gather:
        if (!op.operands.empty() && in_scratch(op.operands[0])) {
          // A gather from a scratch tile is a shared-memory load at computed addresses (LDS): it takes the
          // scratchpad's path and latency, one element per thread per warp instruction.
          const TileInfo t = info(op.results[0]);
          l.steps.push_back(memory(MicroKind::shared_load, per_thread(t.elements),
                                   u32(32 * std::max<std::int64_t>(1, t.bytes / std::max<std::int64_t>(1, t.elements)))));
          break;
        }
        [[fallthrough]];
      case OpId::scatter: {
        MicroStep s = compute(Unit::lsu, per_thread(info(op.results[0]).elements), false);
        s.latency = p_.shuffle_latency;
        l.steps.push_back(s);
        break;
      }
      case OpId::iota:
      case OpId::full:
      case OpId::zeros: {
        const TileInfo t = info(op.results[0]);
        if (t.space == MemSpace::scratch)
          add_shared_moves(l, MicroKind::shared_store, t.bytes);
        else if (t.space == MemSpace::reg || op.opcode != OpId::zeros)
          l.steps.push_back(compute(Unit::int32, cdiv(per_thread(t.elements) * storage_bytes(t.dtype), 4)));
        // zeros @acc: free (the first MMA overwrites instead of accumulating)
        if (t.space == MemSpace::acc) mma_layout_.insert(op.results[0]);
        break;
      }
      case OpId::move: {
        const TileInfo x = info(op.operands[0]);
        const MemSpace to = op.attr("space")->space;
        if (x.space == MemSpace::scratch && to != MemSpace::scratch) add_shared_moves(l, MicroKind::shared_load, x.bytes);
        if (x.space != MemSpace::scratch && to == MemSpace::scratch) add_shared_moves(l, MicroKind::shared_store, x.bytes);
        if (to == MemSpace::scratch) scratch_view_.insert(op.results[0]);
        if (mma_layout_.count(op.operands[0])) mma_layout_.insert(op.results[0]);
        break;
      }
      case OpId::load: {
        const TileInfo t = info(op.results[0]);
        l.steps.push_back(memory(MicroKind::global_load, mem_instructions(t)));
        if (t.space == MemSpace::scratch) add_shared_moves(l, MicroKind::shared_store, t.bytes);
        break;
      }
      case OpId::store: {
        const TileInfo x = info(op.operands[0]);
        if (x.space == MemSpace::scratch) {
          if (p_.async_copy == AsyncCopyEngine::tma) {
            MicroStep s = sync(MicroKind::tma_store, true);
            s.leader_only = true;
            l.steps.push_back(s);
          } else {
            add_shared_moves(l, MicroKind::shared_load, x.bytes);
            l.steps.push_back(memory(MicroKind::global_store, mem_instructions(x)));
          }
        } else {
          MicroStep st = memory(MicroKind::global_store, mem_instructions(x));
          st.streams = true;  // stores elements as they are computed
          l.steps.push_back(st);
        }
        break;
      }
      case OpId::atomic_add: {
        const TileInfo x = info(op.operands[0]);
        l.steps.push_back(memory(MicroKind::global_atomic, u32(cdiv(x.bytes, 4 * threads_))));
        break;
      }
      case OpId::copy_async: {
        const TileInfo t = info(op.results[0]);
        auto ch = put_channel_.find(op.results[0]);
        if (ch != put_channel_.end()) {
          l.acquire_channel = ch->second;
          l.steps.push_back(sync(MicroKind::channel_acquire));
        }
        if (p_.async_copy == AsyncCopyEngine::tma) {
          MicroStep s = sync(MicroKind::tma_load, true);
          s.leader_only = true;
          l.steps.push_back(s);
        } else {
          MicroStep s = memory(MicroKind::cp_async, mem_instructions(t));
          s.group_wide = true;
          l.steps.push_back(s);
        }
        break;
      }
      case OpId::cluster_load: {
        const TileInfo t = info(op.results[0]);
        l.steps.push_back(memory(MicroKind::remote_load, mem_instructions(t)));
        l.reads_scratch = true;
        break;
      }
      case OpId::wait:
        l.steps.push_back(sync(MicroKind::wait));
        break;
      case OpId::barrier: {
        const isa::Attr* s = op.attr("scope");
        const std::string scope = s ? s->word : "program";
        if (scope == "device")
          throw ConfigError(cat("kernel ", k_.name, " line ", op.loc.line,
                                ": barrier scope=device is not supported by the SIMT model (split the kernel)"));
        l.steps.push_back(sync(scope == "cluster" ? MicroKind::cluster_barrier : MicroKind::barrier));
        break;
      }
      case OpId::fence: {
        MicroStep s = compute(Unit::uniform, 1, false);
        s.latency = p_.mbarrier_latency;
        l.steps.push_back(s);
        break;
      }
      case OpId::put: {
        const std::int32_t ch = out_.channel_index(op.operands[0]);
        const isa::Op* d = def_of(op.operands[1]);
        if (!(d && d->opcode == OpId::copy_async)) {  // a computed tile is stored into the stage
          l.acquire_channel = ch;
          l.steps.push_back(sync(MicroKind::channel_acquire));
          add_shared_moves(l, MicroKind::shared_store, info(op.operands[1]).bytes);
        }
        l.steps.push_back(sync(MicroKind::channel_put, true));
        break;
      }
      case OpId::get:
        l.steps.push_back(sync(MicroKind::channel_get));
        scratch_view_.insert(op.results[0]);
        break;
      case OpId::release:
        l.steps.push_back(sync(MicroKind::channel_release, true));
        break;
      default:
        if (inf.cls == isa::OpClass::map) {
          if (scalar_result) {
            l.steps.push_back(compute(Unit::uniform, 1, false));
          } else {
            const TileInfo t = info(op.results[0]);
            lower_map(op, t, l);
            for (isa::ValueId v : op.operands)
              if (mma_layout_.count(v) && info(v).elements == t.elements) mma_layout_.insert(op.results[0]);
          }
        } else {
          panic("SIMT lowering: no rule for opcode '", inf.name, "'");
        }
    }
    // Scratch operands feeding an op make it one of their readers (buffer reuse waits for readers).
    for (isa::ValueId v : op.operands)
      if (in_scratch(v) || (k_.type_of(v).kind == isa::TypeKind::tile && k_.type_of(v).space == MemSpace::scratch))
        l.reads_scratch = true;
    for (isa::ValueId v : op.results)
      if (k_.type_of(v).kind == isa::TypeKind::tile && k_.type_of(v).space == MemSpace::scratch)
        scratch_view_.insert(v);
    out_.set_op(&op, std::move(l));
  }

 public:
  /// Tiles put into channels: their copy acquires the stage first.
  void note_put(isa::ValueId payload, std::int32_t channel) { put_channel_[payload] = channel; }
  std::unordered_set<isa::ValueId> mma_layout_;

 private:
  const isa::Kernel& k_;
  const isa::SymbolValues& sym_;
  const SimtParams& p_;
  const tensor::TensorUnit& tu_;
  SimtLoweredKernel& out_;
  std::uint32_t warps_;
  std::int64_t threads_;
  std::unordered_map<isa::ValueId, const isa::Op*>& defs_;
  std::unordered_set<isa::ValueId> scratch_view_;
  std::unordered_map<isa::ValueId, std::int32_t> put_channel_;
};

// ---- register estimate --------------------------------------------------------------------------------

/// Largest number of registers per thread the live register/accumulator tiles of `body` need, for a
/// group of `threads` threads (loop-carried values and values used inside a loop stay live through it).
std::uint32_t peak_tile_registers(const isa::Kernel& k, const isa::Block& body, const isa::SymbolValues& sym,
                                  std::int64_t threads, const std::function<bool(isa::ValueId)>& in_scratch) {
  struct Range {
    int def = -1, last = -1;
  };
  std::unordered_map<isa::ValueId, Range> ranges;
  struct Loop {
    int start, end;
  };
  // Pass 1: positions of ops and region extents.
  int pos = 0;
  std::unordered_map<const isa::Op*, std::pair<int, int>> extent;
  std::function<void(const isa::Block&)> number = [&](const isa::Block& b) {
    for (const isa::Op& op : b.ops) {
      const int start = pos++;
      for (const isa::Block& r : op.regions) number(r);
      extent[&op] = {start, pos - 1};
    }
  };
  number(body);
  // Pass 2: def and last use of every value.
  std::vector<Loop> loops;
  auto use = [&](isa::ValueId v, int at) {
    auto it = ranges.find(v);
    if (it == ranges.end()) return;  // parameters, channels, values of other roles
    int last = at;
    for (const Loop& l : loops)
      if (it->second.def < l.start) last = std::max(last, l.end);
    it->second.last = std::max(it->second.last, last);
  };
  std::function<void(const isa::Block&)> walk = [&](const isa::Block& b) {
    for (const isa::Op& op : b.ops) {
      const auto [start, end] = extent[&op];
      for (isa::ValueId v : op.operands) use(v, start);
      for (isa::ValueId v : op.after) use(v, start);
      const bool loop = op.opcode == isa::OpId::for_;
      for (const isa::Block& r : op.regions) {
        // A loop-carried value lives from the loop's start to its last use in the body; the value
        // yielded for the next iteration lives from its definition to the loop's end (its use by yield) ...
        for (isa::ValueId a : r.args) ranges[a] = {start + 1, start + 1};
        if (loop) loops.push_back({start, end});
        walk(r);
        if (loop) loops.pop_back();
      }
      // ... and a for/if's results are its yielded values, in the same registers: they take over at the
      // yield (the region's last op), where the yielded values die.
      for (isa::ValueId v : op.results) ranges.emplace(v, Range{end, end});
    }
  };
  walk(body);
  std::vector<std::int64_t> delta(static_cast<std::size_t>(pos) + 2, 0);
  for (const auto& [v, r] : ranges) {
    const isa::Type& t = k.type_of(v);
    if (t.kind != isa::TypeKind::tile || t.space == isa::MemSpace::scratch || in_scratch(v)) continue;
    std::int64_t elems = 1;
    for (const auto& d : t.shape) {
      auto e = isa::eval_expr(d, sym);
      elems *= e ? *e : 1;
    }
    const std::int64_t bytes = elems * std::max(1, isa::bits(t.dtype) / 8);
    const std::int64_t regs = cdiv(bytes, 4 * threads);
    // Half-open [def, last use): an op's result may take the registers of an operand it reads for the last
    // time (in-place accumulation); a value nothing uses still occupies its registers at its definition.
    delta[static_cast<std::size_t>(r.def)] += regs;
    delta[static_cast<std::size_t>(std::max(r.def + 1, r.last))] -= regs;
  }
  std::int64_t cur = 0, peak = 0;
  for (auto d : delta) {
    cur += d;
    peak = std::max(peak, cur);
  }
  return u32(peak);
}

std::uint32_t hint_int(const isa::Attrs& hints, const char* name, std::uint32_t def) {
  const isa::Attr* a = isa::find_attr(hints, name);
  return a && a->kind == isa::Attr::Kind::integer ? static_cast<std::uint32_t>(a->i) : def;
}

void collect_channel_use(const isa::Block& b, std::unordered_map<isa::ValueId, std::int32_t>& channel_of,
                         std::vector<std::pair<isa::ValueId, std::int32_t>>& puts, std::vector<std::int32_t>& gets) {
  for (const isa::Op& op : b.ops) {
    if (op.opcode == OpId::put) puts.push_back({op.operands.at(1), channel_of.at(op.operands.at(0))});
    if (op.opcode == OpId::get) gets.push_back(channel_of.at(op.operands.at(0)));
    for (const isa::Block& r : op.regions) collect_channel_use(r, channel_of, puts, gets);
  }
}

void collect_defs(const isa::Block& b, std::unordered_map<isa::ValueId, const isa::Op*>& defs) {
  for (const isa::Op& op : b.ops) {
    for (isa::ValueId v : op.results) defs[v] = &op;
    for (const isa::Block& r : op.regions) collect_defs(r, defs);
  }
}

}  // namespace

std::shared_ptr<const core::LoweredKernel> SimtLowering::lower(const core::KernelLaunch& launch) const {
  const isa::Kernel& k = *launch.kernel;
  auto out = std::make_shared<SimtLoweredKernel>();
  const isa::SymbolValues& sym = launch.symbols;

  // Channels and their scratch stages.
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < k.channels.size(); ++i) {
    const isa::Channel& c = k.channels[i];
    ChannelSpec spec;
    spec.stages = c.stages;
    std::int64_t elems = 1;
    for (const auto& d : k.type_of(c.value).shape) {
      auto e = isa::eval_expr(d, sym);
      if (!e) throw ConfigError(cat("kernel ", k.name, ": channel shape cannot be evaluated"));
      elems *= *e;
    }
    spec.tile_bytes = elems * storage_bytes(k.type_of(c.value).dtype);
    spec.scratch_offset = offset;
    offset += static_cast<std::uint64_t>(spec.tile_bytes * spec.stages + 127) / 128 * 128;
    out->channel_of_[c.value] = static_cast<std::int32_t>(i);
    out->channels_.push_back(spec);
  }
  out->channel_bytes_ = offset;

  std::unordered_map<isa::ValueId, const isa::Op*> defs;
  collect_defs(k.body, defs);
  for (const isa::Role& r : k.roles) collect_defs(r.body, defs);

  // Groups.
  std::uint32_t warp = 0;
  const std::uint32_t kernel_warps = k.resources.warps ? static_cast<std::uint32_t>(*k.resources.warps) : 0;
  std::uint64_t registers = 0;
  std::uint32_t max_regs = 0;
  // Lower one role (or the body) once; its instances share the lowering and the register estimate.
  auto lower_role = [&](const isa::Block& body, std::uint32_t warps, const isa::Attrs* hints) {
    GroupLowerer gl(k, sym, p_, tensor_, *out, warps, defs);
    std::vector<std::pair<isa::ValueId, std::int32_t>> puts;
    std::vector<std::int32_t> gets;
    collect_channel_use(body, out->channel_of_, puts, gets);
    for (const auto& [payload, ch] : puts) gl.note_put(payload, ch);  // their copies acquire the stage first
    gl.lower_block(body);
    std::uint32_t regs = hints ? hint_int(*hints, "registers", 0) : 0;
    if (!regs && k.resources.registers) regs = static_cast<std::uint32_t>(*k.resources.registers);
    if (!regs) {
      regs = p_.base_registers +
             peak_tile_registers(k, body, sym, 32 * warps, [&](isa::ValueId v) { return gl.in_scratch(v); });
      regs = std::min(regs, p_.max_registers_per_thread);  // beyond this the real kernel spills
    }
    if (regs > p_.max_registers_per_thread)
      throw ConfigError(cat("kernel ", k.name, ": ", regs, " registers per thread exceed core.sm.max_registers_per_thread = ",
                            p_.max_registers_per_thread));
    return regs;
  };
  auto add_group = [&](GroupSpec g) {
    g.first_warp = warp;
    warp += g.warps;
    const std::uint64_t per_warp = (static_cast<std::uint64_t>(g.registers_per_thread) * 32 + p_.register_granule - 1) /
                                   p_.register_granule * p_.register_granule;
    registers += per_warp * g.warps;
    max_regs = std::max(max_regs, g.registers_per_thread);
    out->groups_.push_back(g);
  };
  if (k.roles.empty()) {
    GroupSpec g;
    g.warps = kernel_warps ? kernel_warps : kDefaultGroupWarps;
    g.body = &k.body;
    g.registers_per_thread = lower_role(k.body, g.warps, nullptr);
    add_group(g);
  } else {
    for (std::size_t ri = 0; ri < k.roles.size(); ++ri) {
      const isa::Role& r = k.roles[ri];
      const std::uint32_t role_warps = hint_int(r.hints, "warps", kDefaultGroupWarps);
      const std::uint32_t regs = lower_role(r.body, role_warps, &r.hints);
      for (std::int64_t inst = 0; inst < r.count; ++inst) {
        GroupSpec g;
        g.role = r.name;
        g.role_index = static_cast<std::int32_t>(ri);
        g.instance = inst;
        g.warps = role_warps;
        g.body = &r.body;
        g.registers_per_thread = regs;
        add_group(g);
      }
      std::vector<std::pair<isa::ValueId, std::int32_t>> puts;
      std::vector<std::int32_t> gets;
      collect_channel_use(r.body, out->channel_of_, puts, gets);
      std::unordered_set<std::int32_t> got(gets.begin(), gets.end());
      for (std::int32_t ch : got) out->channels_[static_cast<std::size_t>(ch)].consumers += static_cast<std::uint32_t>(r.count);
      for (const auto& pc : puts) out->channels_[static_cast<std::size_t>(pc.second)].producer_role = static_cast<std::int32_t>(ri);
    }
  }
  out->warps_ = warp;
  if (warp * 32 > p_.max_threads || warp > p_.max_warps)
    throw ConfigError(cat("kernel ", k.name, ": a program has ", warp, " warps; an SM holds at most ", p_.max_warps));

  // Scratch: the declared amount, else what the verifier counts.
  std::uint64_t scratch = 0;
  if (k.resources.scratch_bytes) {
    auto s = isa::eval_expr(*k.resources.scratch_bytes, sym);
    if (!s) throw ConfigError(cat("kernel ", k.name, ": resources(scratch=...) cannot be evaluated"));
    scratch = static_cast<std::uint64_t>(*s);
  } else {
    auto total = isa::scratch_usage(k).total_bytes();
    scratch = total ? static_cast<std::uint64_t>(*total) : 0;
  }
  scratch = std::max(scratch, offset);

  core::ProgramFootprint& f = out->footprint_;
  f.threads = warp * 32;
  f.registers_per_thread = max_regs;
  f.registers = registers;
  f.scratch_bytes = scratch;
  return out;
}

}  // namespace tilesim::simt

#include "arch/simt/program.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_set>

#include "sim/error.hpp"

namespace tilesim::simt {

using isa::OpId;

namespace {
/// Scratch tiles whose MMA fragments a warp group keeps in registers at most (the A and B of one MMA).
constexpr std::size_t kFragmentBuffers = 2;
}  // namespace

ReaderList::~ReaderList() {
  for (MicroOp* m : readers_) pool_.release(m);
}

void ReaderList::add(MicroOp* m) {
  // Drop readers that already completed: only outstanding reads can delay a reuse.
  readers_.erase(std::remove_if(readers_.begin(), readers_.end(),
                                [&](MicroOp* r) {
                                  if (completion_time(*r) == kPending) return false;
                                  pool_.release(r);
                                  return true;
                                }),
                 readers_.end());
  pool_.add_ref(m);
  readers_.push_back(m);
}

Time completion_time(const MicroOp& m) {
  if (m.warps_done < m.warps) return kPending;
  Time t = 0;
  for (Time x : m.last) {
    if (x == kPending) return kPending;
    t = std::max(t, x);
  }
  return t;
}

ProgramState::~ProgramState() {
  groups.clear();
  for (auto& ch : channels)
    for (auto& st : ch.stages) {
      for (MicroOp* m : st.full_deps) pool->release(m);
      for (MicroOp* m : st.empty_deps) pool->release(m);
    }
}

std::uint32_t ProgramState::consumer_slot(std::uint32_t channel, std::uint32_t group) const {
  const auto& c = consumers.at(channel);
  for (std::uint32_t i = 0; i < c.size(); ++i)
    if (c[i] == group) return i;
  panic("group ", group, " does not consume channel ", channel);
}

// ---- GroupRunner ---------------------------------------------------------------------------------------

GroupRunner::GroupRunner(ProgramState& prog, const GroupSpec& spec, std::uint32_t index, MicroOpPool& pool)
    : prog_(prog), spec_(spec), index_(index), pool_(pool) {
  const isa::Kernel& k = *prog.launch->kernel;
  ctx_.launch = prog.launch;
  ctx_.coord = prog.msg.coord;
  ctx_.cluster_rank = prog.msg.cluster_rank;
  ctx_.role_instance = spec.instance;
  ctx_.carry_values = prog.launch->carries_values();
  env_.resize(k.values.size());
  for (const isa::Param& p : k.params) {
    const isa::Type& t = k.type_of(p.value);
    if (t.is_scalar_like()) env_[static_cast<std::size_t>(p.value)].value = RtValue::scalar_of(prog.launch->scalar_args.at(p.value));
  }
  const std::size_t nch = k.channels.size();
  puts_.assign(nch, 0);
  gets_.assign(nch, 0);
  releases_.assign(nch, 0);
  gotten_.resize(nch);
  acquires_.assign(nch, 0);
  Frame f;
  f.block = spec.body;
  stack_.push_back(f);
}

GroupRunner::~GroupRunner() {
  for (MicroOp* m : queue_) pool_.release(m);
  for (Slot& s : env_)
    if (s.rec) pool_.release(s.rec);
  for (auto& [key, pc] : prefetched_) {
    if (pc.tile.rec) pool_.release(pc.tile.rec);
    if (pc.token.rec) pool_.release(pc.token.rec);
  }
}

void GroupRunner::push(MicroOp* m) {
  queue_.push_back(m);
  ++emitted_;
}

void GroupRunner::retire(std::uint64_t oldest_pos) {
  while (!queue_.empty() && base_ < oldest_pos) {
    pool_.release(queue_.front());
    queue_.pop_front();
    ++base_;
  }
}

const RtValue& GroupRunner::value(isa::ValueId v) const { return env_.at(static_cast<std::size_t>(v)).value; }

void GroupRunner::bind(isa::ValueId v, const Slot& s) {
  Slot& d = slot(v);
  if (s.rec) pool_.add_ref(s.rec);
  if (d.rec) pool_.release(d.rec);
  d = s;
}

void GroupRunner::bind_value(isa::ValueId v, RtValue value, MicroOp* rec) {
  Slot s;
  s.value = std::move(value);
  s.rec = rec;
  bind(v, s);
}

std::int64_t GroupRunner::known_int(isa::ValueId v, const isa::Op& op) const {
  const RtValue& x = value(v);
  if (!x.known || x.kind != RtValue::Kind::scalar)
    throw Error(cat("kernel ", prog_.launch->kernel->name, " line ", op.loc.line, ":", op.loc.col, ": ", op.info().name,
                    " depends on tile data; run with values carried (workload.values=true) to simulate it"));
  return static_cast<std::int64_t>(x.scalar);
}

bool GroupRunner::expand(std::uint64_t oldest_pos, std::size_t lookahead) {
  blocked_ = false;
  bool any = false;
  while (!exited_ && end_seq() < oldest_pos + lookahead) {
    if (!step_one()) break;
    any = true;
  }
  return any;
}

bool GroupRunner::step_one() {
  if (stack_.empty()) {
    MicroOp* m = pool_.make(MicroKind::exit, spec_.warps, false);
    push(m);
    exited_ = true;
    return true;
  }
  Frame& f = stack_.back();
  if (f.next >= f.block->ops.size()) {
    if (f.owner) return finish_region({});  // a region without values may omit its yield
    stack_.pop_back();                       // end of the program body
    return true;
  }
  const isa::Op& op = f.block->ops[f.next];
  switch (op.opcode) {
    case OpId::for_:
      ++f.next;
      enter_loop(op);
      return true;
    case OpId::if_: {
      ++f.next;
      const bool cond = known_int(op.operands.at(0), op) != 0;
      emit_loop_overhead(op);  // the branch
      const std::size_t region = cond ? 0 : 1;
      if (region < op.regions.size()) {
        Frame r;
        r.block = &op.regions[region];
        r.owner = &op;
        stack_.push_back(r);
      }
      return true;
    }
    case OpId::yield: {
      std::vector<Slot> ys;
      for (isa::ValueId v : op.operands) ys.push_back(slot(v));
      return finish_region(ys);
    }
    case OpId::get: {
      const std::int32_t ch = prog_.lowered->channel_index(op.operands.at(0));
      ChannelRuntime& c = prog_.channels[static_cast<std::size_t>(ch)];
      const std::int64_t item = gets_[static_cast<std::size_t>(ch)];
      if (item >= c.first_item + static_cast<std::int64_t>(c.items.size())) {
        blocked_ = true;  // the producer has not reached this item's put yet

        return false;
      }
      ++f.next;
      process(op);
      return true;
    }
    default:
      ++f.next;
      process(op);
      return true;
  }
}

bool GroupRunner::finish_region(const std::vector<Slot>& ys) {
  // Hold the yielded producers while region arguments (which they may be) are rebound.
  for (const Slot& y : ys)
    if (y.rec) pool_.add_ref(y.rec);
  struct Unhold {
    GroupRunner& g;
    const std::vector<Slot>& ys;
    ~Unhold() {
      for (const Slot& y : ys)
        if (y.rec) g.pool_.release(y.rec);
    }
  } unhold{*this, ys};
  Frame& f = stack_.back();
  const isa::Op& owner = *f.owner;
  if (f.loop) {
    emit_loop_overhead(owner);
    const std::int64_t total = f.trip + (f.hi - f.iv + f.step - 1) / f.step;  // iterations in all
    if (f.stages > 1 && f.trip + f.stages - 1 < total) prefetch_iteration(f, f.trip + f.stages - 1);
    f.iv += f.step;
    ++f.trip;
    if (f.iv < f.hi) {
      f.next = 0;
      const isa::Block& body = owner.regions[0];
      bind_value(body.args.at(0), RtValue::scalar_of(static_cast<double>(f.iv)), nullptr);
      for (std::size_t i = 0; i < ys.size(); ++i) bind(body.args.at(i + 1), ys[i]);
      return true;
    }
  }
  stack_.pop_back();
  for (std::size_t i = 0; i < ys.size() && i < owner.results.size(); ++i) bind(owner.results[i], ys[i]);
  return true;
}

void GroupRunner::emit_loop_overhead(const isa::Op& op) {
  MicroStep s;
  s.kind = MicroKind::compute;
  s.unit = Unit::uniform;
  s.count = 2;  // induction update and compare-and-branch
  s.latency = 1;
  emit_step(op, s, {});
}

void GroupRunner::enter_loop(const isa::Op& op) {
  const std::int64_t lo = known_int(op.operands.at(0), op);
  const std::int64_t hi = known_int(op.operands.at(1), op);
  const std::int64_t step = known_int(op.operands.at(2), op);
  if (step <= 0)
    throw Error(cat("kernel ", prog_.launch->kernel->name, " line ", op.loc.line, ": for with step ", step,
                    " (must be positive)"));
  std::vector<Slot> inits;
  for (std::size_t i = 3; i < op.operands.size(); ++i) inits.push_back(slot(op.operands[i]));
  if (lo >= hi) {
    for (std::size_t i = 0; i < inits.size() && i < op.results.size(); ++i) bind(op.results[i], inits[i]);
    return;
  }
  Frame f;
  f.block = &op.regions.at(0);
  f.owner = &op;
  f.loop = true;
  f.iv = lo;
  f.hi = hi;
  f.step = step;
  const isa::Attr* st = op.attr("stages");
  f.stages = st && st->kind == isa::Attr::Kind::integer && st->i > 1 ? st->i : 1;
  const isa::Block& body = op.regions[0];
  bind_value(body.args.at(0), RtValue::scalar_of(static_cast<double>(lo)), nullptr);
  for (std::size_t i = 0; i < inits.size(); ++i) bind(body.args.at(i + 1), inits[i]);
  stack_.push_back(f);
  if (f.stages > 1) {
    const std::int64_t total = (hi - lo + step - 1) / step;
    for (std::int64_t j = 0; j < f.stages - 1 && j < total; ++j) prefetch_iteration(stack_.back(), j);
  }
}

const GroupRunner::Prefetch& GroupRunner::prefetch_info(const isa::Op& loop) {
  auto it = prefetch_.find(&loop);
  if (it != prefetch_.end()) return it->second;
  Prefetch info;
  const isa::Block& body = loop.regions.at(0);
  std::unordered_map<isa::ValueId, const isa::Op*> def;
  for (const isa::Op& op : body.ops)
    for (isa::ValueId v : op.results) def[v] = &op;
  std::unordered_set<isa::ValueId> carried(body.args.begin() + 1, body.args.end());
  std::unordered_map<isa::ValueId, bool> memo;
  std::unordered_set<const isa::Op*> needed;
  std::function<bool(isa::ValueId)> computable = [&](isa::ValueId v) -> bool {
    if (carried.count(v)) return false;
    auto d = def.find(v);
    if (d == def.end()) return true;  // loop invariant or the induction variable
    auto m = memo.find(v);
    if (m != memo.end()) return m->second;
    const isa::Op& op = *d->second;
    const isa::OpClass cls = op.info().cls;
    bool ok = op.regions.empty() && (cls == isa::OpClass::control || cls == isa::OpClass::map) &&
              !op.results.empty() && prog_.launch->kernel->type_of(op.results[0]).is_scalar_like();
    for (isa::ValueId o : op.operands) ok = ok && computable(o);
    memo[v] = ok;
    if (ok) needed.insert(&op);
    return ok;
  };
  for (const isa::Op& op : body.ops) {
    if (op.opcode != OpId::copy_async || !op.after.empty()) continue;
    bool ok = true;
    for (isa::ValueId o : op.operands) ok = ok && computable(o);
    if (!ok) continue;
    info.copies.push_back(&op);
    needed.insert(&op);
  }
  for (const isa::Op& op : body.ops)
    if (needed.count(&op)) info.slice.push_back(&op);
  return prefetch_.emplace(&loop, std::move(info)).first->second;
}

void GroupRunner::prefetch_iteration(const Frame& f, std::int64_t iteration) {
  const Prefetch& info = prefetch_info(*f.owner);
  if (info.copies.empty()) return;
  const isa::Kernel& k = *prog_.launch->kernel;
  const isa::Block& body = f.owner->regions[0];
  std::unordered_map<isa::ValueId, RtValue> local;
  local[body.args.at(0)] = RtValue::scalar_of(static_cast<double>(f.iv + (iteration - f.trip) * f.step));
  auto val = [&](isa::ValueId v) -> const RtValue* {
    auto it = local.find(v);
    return it != local.end() ? &it->second : &value(v);
  };
  const std::int64_t saved = pipeline_stages_;
  for (const isa::Op* op : info.slice) {
    std::vector<const RtValue*> in;
    for (isa::ValueId v : op->operands) in.push_back(val(v));
    if (op->opcode != OpId::copy_async) {
      std::vector<RtValue> out = evaluate_op(k, *op, in, ctx_);
      for (std::size_t i = 0; i < out.size(); ++i) local[op->results[i]] = out[i];
      continue;
    }
    // Emit the copy now; its results wait in prefetched_ until the iteration reaches it.
    std::vector<RtValue> out = evaluate_op(k, *op, in, ctx_);
    pipeline_stages_ = f.stages;
    MicroOp* last = nullptr;
    Slot tile;
    emit_copy(*op, in, last, tile);
    PrefetchedCopy pc;
    pc.tile = tile;
    pc.tile.value = out.at(0);
    pc.tile.rec = last;
    if (last) pool_.add_ref(last);
    pc.token.rec = last;
    if (last) pool_.add_ref(last);
    prefetched_[{op, iteration}] = pc;
  }
  pipeline_stages_ = saved;
}

std::uint64_t GroupRunner::scratch_for(const isa::Op& op, std::int64_t bytes, std::vector<MicroOp*>& reuse_waits,
                                       std::shared_ptr<ReaderList>& readers, std::int64_t stages) {
  Buffers& b = buffers_[&op];
  if (b.ring.empty()) {
    b.bytes = bytes;
    b.offset = (prog_.scratch_bump + 127) / 128 * 128;
    prog_.scratch_bump = b.offset + static_cast<std::uint64_t>(bytes * stages);
    b.ring.resize(static_cast<std::size_t>(stages));
  }
  const std::size_t idx = static_cast<std::size_t>(b.uses % static_cast<std::int64_t>(b.ring.size()));
  ++b.uses;
  if (b.ring[idx])
    for (MicroOp* r : b.ring[idx]->readers()) {
      pool_.add_ref(r);  // the list goes away below; the caller releases these
      reuse_waits.push_back(r);
    }
  b.ring[idx] = std::make_shared<ReaderList>(pool_);
  readers = b.ring[idx];
  const std::uint64_t off = b.offset + idx * static_cast<std::uint64_t>(b.bytes);
  return prog_.scratch_bytes ? off % prog_.scratch_bytes : off;
}

MicroOp* GroupRunner::emit_step(const isa::Op& op, const MicroStep& s, std::vector<MicroOp*> srcs) {
  MicroOp* m = pool_.make(s.kind, spec_.warps, s.group_wide);
  m->unit = s.unit;
  m->count = s.count;
  m->latency = s.latency;
  m->interval = s.interval;
  m->elementwise = s.elementwise;
  m->streams = s.streams;
  m->leader_only = s.leader_only;
  m->shared_bytes = s.shared_bytes;
  m->chains = s.chains;
  m->accumulate_in_pipe = s.accumulate_in_pipe;
  m->op = &op;
  for (MicroOp* x : srcs) pool_.add_ref(x);
  m->srcs = std::move(srcs);
  push(m);
  return m;
}

namespace {
std::vector<std::int64_t> eval_shape(const isa::Kernel& k, const isa::Type& t, const isa::SymbolValues& sym) {
  std::vector<std::int64_t> s;
  for (const auto& d : t.shape) s.push_back(isa::eval_expr(d, sym).value_or(1));
  return s;
}
std::int64_t shape_bytes(const std::vector<std::int64_t>& s, isa::DType d) {
  std::int64_t n = 1;
  for (auto x : s) n *= x;
  return n * std::max(1, isa::bits(d) / 8);
}
}  // namespace

std::int64_t GroupRunner::loop_stages() const {
  std::int64_t s = 1;
  for (const Frame& f : stack_)
    if (f.loop) s *= f.stages;
  return s;
}

std::int64_t GroupRunner::current_trip(const isa::Op& op) const {
  for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
    if (it->loop) {
      for (const isa::Op& o : it->block->ops)
        if (&o == &op) return it->trip;
      return -1;
    }
  return -1;
}

void GroupRunner::emit_copy(const isa::Op& op, const std::vector<const RtValue*>& in, MicroOp*& last, Slot& tile) {
  const isa::Kernel& k = *prog_.launch->kernel;
  const OpLowering& l = prog_.lowered->op(op);
  const isa::Type& rt = k.type_of(op.results.at(0));
  auto access = std::make_unique<GlobalAccess>();
  access->tensor = &prog_.launch->global(op.operands.at(0));
  access->coord = tile_coords(k, op, in);
  access->tile_shape = eval_shape(k, rt, prog_.launch->symbols);
  access->elem_bytes = static_cast<std::uint32_t>(std::max(1, isa::bits(rt.dtype) / 8));
  if (const isa::Attr* mc = op.attr("multicast"); mc && mc->word != "none") {
    access->multicast_axis = static_cast<std::int8_t>(mc->word == "cluster" ? 3 : mc->word.back() - '0');
    access->multicast_seq = multicast_copies_++;
  }
  const std::int64_t bytes = shape_bytes(access->tile_shape, rt.dtype);
  std::vector<MicroOp*> srcs;
  std::vector<MicroOp*> held;  // references taken by scratch_for, dropped once the micro-ops hold their own
  for (isa::ValueId v : op.after)
    if (slot(v).rec) srcs.push_back(slot(v).rec);
  if (l.acquire_channel >= 0) {
    const auto ch = static_cast<std::size_t>(l.acquire_channel);
    const ChannelSpec& cs = prog_.lowered->channels()[ch];
    const std::int64_t item = acquires_[ch]++;
    access->scratch_offset = cs.scratch_offset + static_cast<std::uint64_t>((item % cs.stages) * cs.tile_bytes);
    tile.scratch_offset = access->scratch_offset;
    tile.readers = std::make_shared<ReaderList>(pool_);
  } else {
    std::shared_ptr<ReaderList> readers;
    access->scratch_offset = scratch_for(op, bytes, held, readers, std::max<std::int64_t>(1, pipeline_stages_));
    srcs.insert(srcs.end(), held.begin(), held.end());
    tile.scratch_offset = access->scratch_offset;
    tile.readers = readers;
  }
  for (const MicroStep& s : l.steps) {
    MicroOp* m = emit_step(op, s, srcs);
    if (s.kind == MicroKind::channel_acquire) {
      m->channel = l.acquire_channel;
      m->item = acquires_[static_cast<std::size_t>(l.acquire_channel)] - 1;
    }
    if (s.kind == MicroKind::tma_load || s.kind == MicroKind::cp_async) m->access = std::move(access);
    srcs = {m};
    last = m;
  }
  for (MicroOp* h : held) pool_.release(h);
}

void GroupRunner::process(const isa::Op& op) {
  const isa::Kernel& k = *prog_.launch->kernel;
  std::vector<const RtValue*> in;
  in.reserve(op.operands.size());
  for (isa::ValueId v : op.operands) in.push_back(&value(v));

  if (op.opcode == OpId::copy_async) {
    const std::int64_t trip = current_trip(op);
    auto it = prefetched_.find({&op, trip});
    if (it != prefetched_.end()) {  // issued ahead by the pipeliner
      bind(op.results.at(0), it->second.tile);
      bind(op.results.at(1), it->second.token);
      if (it->second.tile.rec) pool_.release(it->second.tile.rec);
      if (it->second.token.rec) pool_.release(it->second.token.rec);
      prefetched_.erase(it);
      return;
    }
    std::vector<RtValue> out = evaluate_op(k, op, in, ctx_);
    pipeline_stages_ = loop_stages();
    MicroOp* last = nullptr;
    Slot tile;
    emit_copy(op, in, last, tile);
    pipeline_stages_ = 1;
    tile.value = out.at(0);
    tile.rec = last;
    bind(op.results.at(0), tile);
    bind_value(op.results.at(1), RtValue{}, last);
    return;
  }

  // ---- values ----
  std::vector<RtValue> out(op.results.size());
  std::int32_t ch = -1;
  if (op.opcode == OpId::put || op.opcode == OpId::get || op.opcode == OpId::release)
    ch = prog_.lowered->channel_index(op.operands.at(0));
  if (op.opcode == OpId::put) {
    ChannelRuntime& c = prog_.channels[static_cast<std::size_t>(ch)];
    c.items.push_back(*in.at(1));
  } else if (op.opcode == OpId::get) {
    ChannelRuntime& c = prog_.channels[static_cast<std::size_t>(ch)];
    const std::int64_t item = gets_[static_cast<std::size_t>(ch)];
    out.at(0) = c.items.at(static_cast<std::size_t>(item - c.first_item));
    const std::uint32_t cs = prog_.consumer_slot(static_cast<std::uint32_t>(ch), index_);
    c.taken.at(cs) = item + 1;
    // Items every consumer has taken leave the front end's queue.
    std::int64_t min_taken = *std::min_element(c.taken.begin(), c.taken.end());
    while (c.first_item < min_taken && !c.items.empty()) {
      c.items.pop_front();
      ++c.first_item;
    }
  } else if (op.opcode == OpId::cluster_load) {
    if (ctx_.carry_values)
      throw Error(cat("kernel ", k.name, " line ", op.loc.line, ": cluster_load with values carried is not modelled yet"));
    out.at(0) = RtValue::opaque_tile();
  } else if (op.opcode != OpId::release) {
    out = evaluate_op(k, op, in, ctx_);
  }

  // ---- timing ----
  const OpLowering& l = prog_.lowered->op(op);
  if (l.steps.empty()) {
    // Views and immediates: the result is its operand's (same producer, same scratch buffer).
    for (std::size_t i = 0; i < op.results.size(); ++i) {
      Slot s;
      if (!op.operands.empty()) s = slot(op.operands[0]);
      s.value = out[i];
      if (op.operands.empty()) {
        s.rec = nullptr;
        s.readers.reset();
      }
      bind(op.results[i], s);
    }
    return;
  }
  std::vector<MicroOp*> srcs;
  std::vector<MicroOp*> held;
  std::uint32_t skip = 0;
  const bool is_wgmma = l.steps.back().kind == MicroKind::wgmma;
  // A put publishes a stage whose asynchronous copies are still landing (an mbarrier with expected
  // transaction bytes): the producer does not wait for them; the consumers' get does (the stage's full_deps).
  const bool is_put = op.opcode == OpId::put;
  auto async_copy = [](const MicroOp* m) { return m->kind == MicroKind::tma_load || m->kind == MicroKind::cp_async; };
  for (std::size_t i = 0; i < op.operands.size(); ++i) {
    const Slot& s = slot(op.operands[i]);
    if (!s.rec) continue;
    // wgmma accumulates into the previous wgmma's registers in order inside the tensor pipe: no wait.
    if (is_wgmma && i == 2 && s.rec->kind == MicroKind::wgmma) skip |= 1u << srcs.size();
    if (is_put && async_copy(s.rec) && srcs.size() < 32) skip |= 1u << srcs.size();
    srcs.push_back(s.rec);
  }
  for (isa::ValueId v : op.after) {
    if (!slot(v).rec) continue;
    if (is_put && async_copy(slot(v).rec) && srcs.size() < 32) skip |= 1u << srcs.size();
    srcs.push_back(slot(v).rec);
  }
  if (op.opcode == OpId::release) {
    auto& q = gotten_.at(static_cast<std::size_t>(ch));
    if (q.empty())
      throw Error(cat("kernel ", k.name, " line ", op.loc.line, ": release without a matching get"));
    for (MicroOp* r : q.front()->readers()) {
      pool_.add_ref(r);  // the reader list goes away with the item; released after emission
      held.push_back(r);
      srcs.push_back(r);
    }
    q.pop_front();
  }
  if (l.acquire_channel >= 0) ++acquires_[static_cast<std::size_t>(l.acquire_channel)];  // a computed put

  std::unique_ptr<GlobalAccess> access;
  if (op.opcode == OpId::load || op.opcode == OpId::store || op.opcode == OpId::atomic_add) {
    access = std::make_unique<GlobalAccess>();
    const bool is_load = op.opcode == OpId::load;
    const isa::ValueId buf = op.operands.at(is_load ? 0 : 1);
    const isa::Type& tt = is_load ? k.type_of(op.results.at(0)) : k.type_of(op.operands.at(0));
    access->tensor = &prog_.launch->global(buf);
    access->coord = tile_coords(k, op, in);
    access->tile_shape = eval_shape(k, tt, prog_.launch->symbols);
    access->elem_bytes = static_cast<std::uint32_t>(std::max(1, isa::bits(tt.dtype) / 8));
    access->add = op.opcode == OpId::atomic_add;
    if (!is_load) access->scratch_offset = slot(op.operands.at(0)).scratch_offset;
  }

  // Warp-level MMA loads its scratch operands into registers with ldmatrix; an operand whose fragments
  // the group still holds (the same buffer contents as a recent MMA: a loop-invariant tile, LRU over
  // kFragmentBuffers tiles) is not reloaded, as a compiler hoists loop-invariant loads.
  std::vector<MicroStep> steps = l.steps;
  if (steps.size() == 2 && steps[0].kind == MicroKind::shared_load && steps[1].kind == MicroKind::mma_sync) {
    std::uint32_t loads = 0;
    for (std::size_t i = 0; i < 2 && i < op.operands.size(); ++i) {
      const Slot& sl = slot(op.operands[i]);
      if (!sl.readers) continue;  // a register operand
      auto hit = std::find(fragments_.begin(), fragments_.end(), sl.readers);
      if (hit == fragments_.end()) {
        loads += i == 0 ? l.operand_loads_a : l.operand_loads_b;
      } else {
        fragments_.erase(hit);
      }
      fragments_.push_back(sl.readers);  // most recently used last
      if (fragments_.size() > kFragmentBuffers) fragments_.pop_front();
    }
    if (loads == 0)
      steps.erase(steps.begin());
    else
      steps[0].count = loads;
  }
  MicroOp* last = nullptr;
  for (std::size_t si = 0; si < steps.size(); ++si) {
    const MicroStep& s = steps[si];
    MicroOp* m = emit_step(op, s, si == 0 ? srcs : std::vector<MicroOp*>{last});
    if (si == 0) m->skip_src_mask = skip;
    m->flops = s.kind == MicroKind::wgmma || s.kind == MicroKind::mma_sync ? l.flops : 0;
    switch (s.kind) {
      case MicroKind::global_load:
      case MicroKind::global_store:
      case MicroKind::global_atomic:
      case MicroKind::tma_store:
        if (access) {
          auto a = std::make_unique<GlobalAccess>(*access);
          m->access = std::move(a);
        }
        break;
      case MicroKind::channel_acquire:
        m->channel = l.acquire_channel;
        m->item = acquires_[static_cast<std::size_t>(l.acquire_channel)] - 1;
        break;
      case MicroKind::channel_put:
        m->channel = ch;
        m->item = puts_[static_cast<std::size_t>(ch)]++;
        break;
      case MicroKind::channel_get:
        m->channel = ch;
        m->item = gets_[static_cast<std::size_t>(ch)]++;
        break;
      case MicroKind::channel_release:
        m->channel = ch;
        m->item = releases_[static_cast<std::size_t>(ch)]++;
        break;
      case MicroKind::remote_load:
        m->peer_rank = static_cast<std::uint32_t>(known_int(op.operands.at(1), op));
        m->shared_offset = slot(op.operands.at(0)).scratch_offset;
        break;
      case MicroKind::shared_load:
      case MicroKind::shared_store:
        m->shared_offset = op.operands.empty() ? 0 : slot(op.operands[0]).scratch_offset;
        break;
      default:
        break;
    }
    last = m;
  }
  for (MicroOp* h : held) pool_.release(h);
  if (l.reads_scratch)
    for (isa::ValueId v : op.operands) {
      Slot& s = slot(v);
      if (s.readers) s.readers->add(last);
    }

  for (std::size_t i = 0; i < op.results.size(); ++i) {
    Slot s;
    s.value = out[i];
    s.rec = last;
    const isa::Type& t = k.type_of(op.results[i]);
    if (op.opcode == OpId::get && i == 0) {
      const ChannelSpec& cs = prog_.lowered->channels()[static_cast<std::size_t>(ch)];
      s.scratch_offset = cs.scratch_offset + static_cast<std::uint64_t>((last->item % cs.stages) * cs.tile_bytes);
      s.readers = std::make_shared<ReaderList>(pool_);
      gotten_.at(static_cast<std::size_t>(ch)).push_back(s.readers);
    } else if (t.kind == isa::TypeKind::tile && t.space == isa::MemSpace::scratch) {
      std::vector<MicroOp*> unused;  // a computed scratch tile is written by this op's own instructions
      s.scratch_offset = scratch_for(op, shape_bytes(eval_shape(k, t, prog_.launch->symbols), t.dtype), unused,
                                     s.readers, loop_stages());
      for (MicroOp* u : unused) pool_.release(u);
    }
    bind(op.results[i], s);
  }
}

}  // namespace tilesim::simt

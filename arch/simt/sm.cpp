#include "arch/simt/sm.hpp"

#include <algorithm>
#include <cmath>

#include "sim/clock_domain.hpp"
#include "sim/text_util.hpp"

namespace tilesim::simt {

namespace {
const char* stall_name(int s) {
  static const char* const names[] = {"issued", "idle",   "front_end", "dependency", "memory",
                                      "tensor", "barrier", "channel",  "pipe",       "lsu"};
  return names[s];
}
const char* stall_description(int s) {
  static const char* const d[] = {
      "sub-partition cycles that dispatched an instruction",
      "sub-partition cycles without a resident warp",
      "cycles whose best warp waited for its front end (instruction buffer empty)",
      "cycles whose best warp waited for a fixed-latency result",
      "cycles whose best warp waited for memory (loads, stores, copies)",
      "cycles whose best warp waited for a tensor (MMA) result",
      "cycles whose best warp waited at a barrier",
      "cycles whose best warp waited on a channel stage (full/empty)",
      "cycles whose best warp waited for a busy pipe",
      "cycles whose best warp waited for room in the load/store queue",
  };
  return d[s];
}
constexpr std::size_t kLsuQueue = 64;     // warp-instruction requests queued between issue and the L1
constexpr std::size_t kCopyQueue = 64;

Time ceil_time(double t) { return static_cast<Time>(std::ceil(t - 1e-9)); }
}  // namespace

Sm::Sm(const ComponentContext& ctx, std::uint32_t index, SimtParams params, SmEnvironment env)
    : Core(ctx, index),
      p_(std::move(params)),
      env_(std::move(env)),
      st_programs_(stats().counter("programs", "", "programs (CTAs) completed")),
      st_released_(stats().counter("programs_released_draining", "",
                                   "programs whose resources were handed back while their stores drained")),
      st_instructions_(stats().counter("warp_instructions", "", "warp instructions issued")),
      st_wgmma_instructions_(stats().counter("wgmma_instructions", "", "warp-group MMA instructions executed by the tensor pipe")),
      st_wgmma_busy_(stats().counter("tensor_pipe_busy", "cycles", "cycles the SM's warp-group tensor pipe was busy")),
      st_tensor_flops_(stats().counter("tensor_flops", "FLOP", "MMA floating-point operations")),
      st_requests_(stats().counter("global_requests", "", "global memory requests (one per line touched per warp instruction)")),
      st_request_bytes_(stats().counter("global_request_bytes", "B", "bytes of the sectors those requests cover")),
      st_shared_requests_(stats().counter("shared_requests", "", "scratch (shared memory) accesses")),
      st_copies_(stats().counter("copy_commands", "", "copy-engine commands (TMA boxes, cp.async pieces)")),
      st_copy_bytes_(stats().counter("copy_bytes", "B", "bytes moved by copy commands")),
      st_micro_ops_(stats().counter("micro_ops", "", "micro-ops (instruction bundles) expanded by the front ends")),
      st_program_cycles_(stats().distribution("program_cycles", "cycles", "program residency, arrival to completion")) {
  for (int u = 0; u < kUnitCount; ++u) {
    const std::string n = unit_name(static_cast<Unit>(u));
    st_unit_instructions_[u] = &stats().counter("inst_" + n, "", std::string("warp instructions on the ") + n + " pipes");
    st_unit_busy_[u] = &stats().counter("busy_" + n, "cycles", std::string("busy cycles of the ") + n + " pipes, summed over sub-partitions");
  }
  for (int s = 0; s < static_cast<int>(Stall::count_); ++s)
    st_stall_[s] = &stats().counter(std::string("stall_") + stall_name(s), "SP-cycles", stall_description(s));
  warps_.resize(p_.max_warps);
  sps_.resize(p_.sub_partitions);
  pause_spans_.resize(p_.sub_partitions);
  quarter_free_.assign(p_.sub_partitions, 0.0);
  if (!env_.launches) panic(name(), ": an SM needs the run's launch list");
}

Sm::~Sm() {
  for (auto& e : lsu_) pool_.release(e.op);
  for (auto& e : copies_) pool_.release(e.op);
  for (auto& [id, o] : outstanding_) pool_.release(o.op);
  for (auto& [id, o] : copy_outstanding_) pool_.release(o.op);
  for (auto& r : wgmma_runs_) pool_.release(r.op);
  programs_.clear();
}

core::CoreResources Sm::resources() const {
  core::CoreResources r;
  r.registers = p_.registers;
  r.register_granule = p_.register_granule;
  r.scratch_bytes = env_.scratch_bytes;
  r.scratch_granule = 128;
  r.scratch_reserved_per_program = p_.scratch_reserved_per_program;
  r.threads = p_.max_threads;
  r.program_slots = p_.program_slots;
  return r;
}

core::ActivityLayout Sm::activity_layout(const SimtParams& p) {
  core::ActivityLayout l;
  for (int u = 0; u < kUnitCount; ++u)
    l.units.push_back({unit_name(static_cast<Unit>(u)), static_cast<double>(p.sub_partitions)});
  l.units.push_back({"tensor pipe (wgmma)", 1.0});
  for (int s = 0; s < static_cast<int>(Stall::count_); ++s) l.stalls.push_back(stall_name(s));
  l.slots_per_cycle = p.sub_partitions;
  l.memory_stalls = {"memory", "channel", "lsu"};
  return l;
}

CoreSidePorts Sm::core_side() { return core_side_ports(*this); }

void Sm::init() {
  trace_ = sim().trace();
  if (!trace_) return;
  track_programs_ = trace_->track("gpu", name() + " programs");
  track_tensor_ = trace_->track("gpu", name() + " tensor pipe");
  track_counters_ = trace_->track("gpu", name());
}

void Sm::trace_warps(Time now) {
  if (trace_ && trace_->in_window(clock().tick_of(Cycle(now))))
    trace_->counter(track_counters_, "resident warps", clock().tick_of(Cycle(now)), active_warps_);
}

bool Sm::busy() const { return !programs_.empty() || in_flight_ > 0; }

std::string Sm::waiting_on() const {
  std::string s = cat(programs_.size(), " programs, ", active_warps_, " warps, ", in_flight_, " requests in flight");
  for (const auto& w : warps_) {
    if (!w.active) continue;
    const MicroOp* m = w.group->at(w.pos);
    s += cat("; warp ", &w - warps_.data(), " (", w.group->spec().role.empty() ? "body" : w.group->spec().role, ") at ",
             m ? micro_kind_name(m->kind) : (w.group->blocked() ? "front end blocked on a channel" : "front end"));
    if (m && m->op) s += cat(" from line ", m->op->loc.line);
    if (m)
      for (const MicroOp* src : m->srcs) {
        const Time t = src->last[src->slot(w.lane)];
        s += cat(", needs ", src == m ? "itself: " : "", micro_kind_name(src->kind), src->op ? cat(" (line ", src->op->loc.line, ")") : std::string(),
                 t == kPending ? std::string(" pending") : cat(" ready at ", t),
                 cat(" [", src->warps_done, "/", src->warps, " warps issued]"));
      }
    break;
  }
  return s;
}

// ---- programs ----------------------------------------------------------------------------------------

void Sm::start_program(const core::ProgramLaunch& msg, Time now) {
  const SimtLaunch& L = env_.launches->at(msg.launch);
  auto p = std::make_unique<ProgramState>();
  p->msg = msg;
  p->launch = L.launch.get();
  p->lowered = L.lowered.get();
  p->pool = &pool_;
  p->started = now;
  p->activity.busy.assign(kUnitCount + 1, 0.0);
  p->activity.stalls.assign(static_cast<std::size_t>(Stall::count_), 0.0);
  // Scratch: first fit.
  const std::uint64_t need = (p->lowered->scratch_bytes() + 127) / 128 * 128;
  std::sort(scratch_used_.begin(), scratch_used_.end());
  std::uint64_t base = 0;
  for (const auto& [b, n] : scratch_used_) {
    if (base + need <= b) break;
    base = std::max(base, b + n);
  }
  if (base + need > env_.scratch_bytes)
    panic(name(), ": no scratch for a program the dispatcher sent (", need, " B needed)");
  scratch_used_.push_back({base, need});
  p->scratch_base = base;
  p->scratch_bytes = need;
  p->scratch_bump = p->lowered->channel_scratch_bytes();
  // Channels.
  for (const ChannelSpec& cs : p->lowered->channels()) {
    ChannelRuntime c;
    c.spec = cs;
    c.stages.resize(static_cast<std::size_t>(cs.stages));
    p->channels.push_back(std::move(c));
  }
  p->consumers.resize(p->channels.size());
  // Groups and warps.
  const auto& specs = p->lowered->groups();
  for (std::uint32_t g = 0; g < specs.size(); ++g)
    p->groups.push_back(std::make_unique<GroupRunner>(*p, specs[g], g, pool_));
  // Which groups consume which channel: the groups of roles that get from it.
  for (std::uint32_t g = 0; g < specs.size(); ++g) {
    std::function<void(const isa::Block&)> scan = [&](const isa::Block& b) {
      for (const isa::Op& op : b.ops) {
        if (op.opcode == isa::OpId::get) {
          const auto ch = static_cast<std::size_t>(p->lowered->channel_index(op.operands[0]));
          auto& v = p->consumers[ch];
          if (std::find(v.begin(), v.end(), g) == v.end()) v.push_back(g);
        }
        for (const isa::Block& r : op.regions) scan(r);
      }
    };
    scan(*specs[g].body);
  }
  for (std::size_t ch = 0; ch < p->channels.size(); ++ch) p->channels[ch].taken.assign(p->consumers[ch].size(), 0);
  std::uint32_t slot = 0;
  const Time start = now + static_cast<Time>(p_.program_launch_cycles);
  for (std::uint32_t g = 0; g < specs.size(); ++g) {
    for (std::uint32_t lane = 0; lane < specs[g].warps; ++lane) {
      while (slot < warps_.size() && warps_[slot].active) ++slot;
      if (slot >= warps_.size()) panic(name(), ": no warp slot for a program the dispatcher sent");
      Warp& w = warps_[slot];
      w = Warp{};
      w.active = true;
      w.prog = p.get();
      w.group = p->groups[g].get();
      w.lane = lane;
      w.sp = slot % p_.sub_partitions;
      w.next_issue = start;
      w.age = next_age_++;
      sps_[w.sp].warps.push_back(slot);
      ++p->live_warps;
      ++active_warps_;
    }
  }
  for (auto& sp : sps_)
    std::sort(sp.warps.begin(), sp.warps.end(), [&](std::uint32_t a, std::uint32_t b) { return warps_[a].age < warps_[b].age; });
  programs_.push_back(std::move(p));
  trace_warps(now);
}

void Sm::finish_program(ProgramState& p) {
  const Time now = clock().now().value;
  st_program_cycles_.sample(static_cast<double>(now - p.started));
  ++st_programs_;
  if (trace_) {
    const Tick b = clock().tick_of(Cycle(p.started)), e = clock().tick_of(Cycle(now));
    if (trace_->in_window(b) || trace_->in_window(e))
      trace_->slice(track_programs_,
                    cat(p.launch->name, " (", p.msg.coord[0], ",", p.msg.coord[1], ",", p.msg.coord[2], ")"), b, e,
                    {{"program", static_cast<double>(p.msg.program)}, {"warps", static_cast<double>(p.lowered->warps())}});
    trace_warps(now);
  }
  for (auto& sp : sps_)
    if (sp.reason_prog == &p) sp.reason_prog = nullptr;
  core::ProgramDone d{index(), p.msg.launch, p.msg.program, std::move(p.activity)};
  d.releases = !p.released;
  done.send(std::move(d), Priority::response);
  if (!p.released) free_resources(p);
  programs_.erase(std::find_if(programs_.begin(), programs_.end(), [&](const auto& x) { return x.get() == &p; }));
  note_progress();
}

void Sm::free_resources(ProgramState& p) {
  for (auto it = scratch_used_.begin(); it != scratch_used_.end(); ++it)
    if (it->first == p.scratch_base) {
      scratch_used_.erase(it);
      break;
    }
  program_barriers_.erase(&p);
  for (auto& g : p.groups) group_barriers_.erase(g.get());
}

void Sm::release_program(ProgramState& p) {
  // Every warp has exited and only stores of register data are in flight: they need neither the
  // program's registers nor its scratch, so the dispatcher may place the next program now. The program
  // completes (and its kernel can end) when they are acknowledged.
  p.released = true;
  ++st_released_;
  core::ProgramDone d{index(), p.msg.launch, p.msg.program, {}};
  d.completes = false;
  done.send(std::move(d), Priority::response);
  free_resources(p);
  progressed_ = true;
}

void Sm::exit_warp(std::uint32_t slot, Time now) {
  Warp& w = warps_[slot];
  ProgramState& p = *w.prog;
  auto& list = sps_[w.sp].warps;
  list.erase(std::find(list.begin(), list.end(), slot));
  if (sps_[w.sp].last_issued == slot) sps_[w.sp].last_issued = ~0u;
  w.active = false;
  --active_warps_;
  --p.live_warps;
  ++p.exited_warps;
  // A program barrier waiting only for warps that have now exited releases.
  auto b = program_barriers_.find(&p);
  if (b != program_barriers_.end() && b->second.arrived > 0 && b->second.arrived >= p.live_warps) {
    for (std::uint32_t x : b->second.waiters) warps_[x].next_issue = now + p_.barrier_latency, warps_[x].waiting_barrier = false;
    b->second = BarrierState{};
  }
}

// ---- responses ---------------------------------------------------------------------------------------

void Sm::note_group_wide_done(MicroOp& m, Time now) {
  const bool issued_all = m.leader_only ? m.issued[0] >= m.count : m.warps_done >= m.warps;
  if (issued_all && m.pending[0] == 0 && m.last[0] == kPending) {
    m.last[0] = now + p_.mbarrier_latency;
    if (m.first[0] == kPending) m.first[0] = m.last[0];
  }
}

void Sm::complete_request(const Outstanding& o, Time now) {
  MicroOp& m = *o.op;
  const std::size_t s = m.slot(o.lane);
  if (m.pending[s] == 0) panic(name(), ": response for a micro-op with nothing pending");
  --m.pending[s];
  --o.prog->outstanding;
  if (m.kind == MicroKind::global_store) --o.prog->outstanding_stores;
  --in_flight_;
  // A load's data is usable once written back to the register file.
  const bool load = m.kind == MicroKind::global_load || m.kind == MicroKind::shared_load ||
                    m.kind == MicroKind::remote_load || m.kind == MicroKind::global_atomic;
  const Time ready = load ? now + p_.load_use_latency : now;
  if (m.first[s] == kPending) m.first[s] = ready;
  if (m.group_wide) {
    note_group_wide_done(m, ready);
  } else if (m.pending[s] == 0 && m.issued[o.lane] >= m.count) {
    m.last[s] = ready;
  }
  pool_.release(o.op);
  progressed_ = true;
}

void Sm::handle_responses(Time now) {
  auto take = [&](InPort<MemResponse>& port) {
    while (port.ready()) {
      const MemResponse r = port.pop();
      auto it = outstanding_.find(r.req.id);
      if (it == outstanding_.end()) panic(name(), ": response to unknown request ", r.req.id, " on ", port.name());
      const Outstanding o = it->second;
      outstanding_.erase(it);
      complete_request(o, now);
    }
  };
  take(cache_resp);
  take(scratch_resp);
  take(remote_resp);
  while (copy_done.ready()) {
    const CopyDone d = copy_done.pop();
    auto it = copy_outstanding_.find(d.id);
    if (it == copy_outstanding_.end()) panic(name(), ": completion of unknown copy ", d.id);
    const Outstanding o = it->second;
    copy_outstanding_.erase(it);
    complete_request(o, now);
  }
}

// ---- front ends --------------------------------------------------------------------------------------

std::uint64_t Sm::oldest_pos(const GroupRunner& g) const {
  std::uint64_t m = ~0ull;
  for (const auto& w : warps_)
    if (w.active && w.group == &g) m = std::min(m, w.pos);
  return m == ~0ull ? g.end_seq() : m;
}

void Sm::run_front_ends() {
  for (auto& p : programs_)
    for (auto& g : p->groups) {
      if (g->exited()) continue;
      const std::uint64_t before = g->micro_ops_emitted();
      if (g->expand(oldest_pos(*g), p_.lookahead)) {
        st_micro_ops_ += g->micro_ops_emitted() - before;
        progressed_ = true;
      }
    }
}

// ---- issue -------------------------------------------------------------------------------------------

void Sm::skip_leader_only(Warp& w) {
  while (true) {
    MicroOp* m = w.group->at(w.pos);
    if (!m || !m->leader_only || w.lane == 0) return;
    ++m->warps_done;  // the other warps of the group step over it
    ++w.pos;
  }
}

bool Sm::stage_free(const ProgramState& p, const MicroOp& m, Time now, Time& at) const {
  const ChannelRuntime& c = p.channels.at(static_cast<std::size_t>(m.channel));
  const auto S = static_cast<std::int64_t>(c.stages.size());
  if (m.item < S) {
    at = now;
    return true;
  }
  const ChannelRuntime::Stage& st = c.stages[static_cast<std::size_t>(m.item % S)];
  // Each warp of the producer group waits for the stage (the empty mbarrier's phase), but the group's put
  // is one arrive, published by whichever of its warps issues it first: a warp that gets here after a
  // sibling's put of this item (or of later ones) finds the stage holding item m.item or a later item of
  // the same stage, so item m.item - S was freed already — the phase it waits for has completed.
  if (st.item > m.item - S) {
    at = now;
    return true;
  }
  if (st.item != m.item - S || st.releases < c.spec.consumers) return false;
  Time t = now;
  for (const MicroOp* d : st.empty_deps) {
    const Time x = completion_time(*d);
    if (x == kPending) return false;
    t = std::max(t, x + p_.mbarrier_latency);
  }
  at = t;
  return true;
}

bool Sm::stage_full(const ProgramState& p, const MicroOp& m, Time now, Time& at) const {
  const ChannelRuntime& c = p.channels.at(static_cast<std::size_t>(m.channel));
  const ChannelRuntime::Stage& st = c.stages[static_cast<std::size_t>(m.item % static_cast<std::int64_t>(c.stages.size()))];
  if (st.item != m.item || !st.full_pending) return false;
  Time t = now;
  for (const MicroOp* d : st.full_deps) {
    const Time x = completion_time(*d);
    if (x == kPending) return false;
    t = std::max(t, x + p_.mbarrier_latency);
  }
  at = t;
  return true;
}

Time Sm::earliest_issue(std::uint32_t slot, Time now, Stall& why) {
  Warp& w = warps_[slot];
  if (w.waiting_barrier) {
    why = Stall::barrier;
    return kPending;
  }
  skip_leader_only(w);
  MicroOp* m = w.group->at(w.pos);
  if (!m) {
    why = Stall::front_end;
    return kPending;
  }
  Time t = std::max(now, w.next_issue);
  why = Stall::dependency;
  const std::uint32_t j = m->issued[w.lane];
  for (std::size_t i = 0; i < m->srcs.size(); ++i) {
    if (m->skip_src_mask & (1u << i)) continue;
    const MicroOp& s = *m->srcs[i];
    const Time r = m->streams ? s.ready_for(w.lane, j, m->count) : s.last[s.slot(w.lane)];
    if (r == kPending) {
      const bool tensor = s.kind == MicroKind::wgmma || s.kind == MicroKind::mma_sync;
      const bool mem = s.kind == MicroKind::global_load || s.kind == MicroKind::tma_load || s.kind == MicroKind::cp_async ||
                       s.kind == MicroKind::shared_load || s.kind == MicroKind::remote_load ||
                       s.kind == MicroKind::global_store || s.kind == MicroKind::tma_store ||
                       s.kind == MicroKind::global_atomic;
      why = tensor ? Stall::tensor : mem ? Stall::memory : Stall::dependency;
      return kPending;
    }
    if (r > t) {
      t = r;
      why = (s.kind == MicroKind::wgmma || s.kind == MicroKind::mma_sync) ? Stall::tensor : Stall::dependency;
    }
  }
  SubPartition& sp = sps_[w.sp];
  switch (m->kind) {
    case MicroKind::compute:
    case MicroKind::mma_sync: {
      const Time u = ceil_time(sp.unit_free[static_cast<int>(m->unit)]);
      if (u > t) {
        t = u;
        why = Stall::pipe;
      }
      break;
    }
    case MicroKind::global_load:
    case MicroKind::global_store:
    case MicroKind::global_atomic:
    case MicroKind::shared_load:
    case MicroKind::shared_store:
    case MicroKind::remote_load:
    case MicroKind::cp_async: {
      if (lsu_.size() >= kLsuQueue) {
        why = Stall::lsu;
        return kPending;
      }
      const Time u = ceil_time(sp.unit_free[static_cast<int>(Unit::lsu)]);
      if (u > t) {
        t = u;
        why = Stall::pipe;
      }
      break;
    }
    case MicroKind::tma_load:
    case MicroKind::tma_store:
      if (copies_.size() >= kCopyQueue) {
        why = Stall::lsu;
        return kPending;
      }
      break;
    case MicroKind::channel_acquire: {
      Time at = 0;
      if (!stage_free(*w.prog, *m, now, at)) {
        why = Stall::channel;
        return kPending;
      }
      if (at > t) t = at, why = Stall::channel;
      break;
    }
    case MicroKind::channel_get: {
      Time at = 0;
      if (!stage_full(*w.prog, *m, now, at)) {
        why = Stall::channel;
        return kPending;
      }
      if (at > t) t = at, why = Stall::channel;
      break;
    }
    case MicroKind::cluster_barrier:
      throw SimulationError(cat(name(), ": cluster-scope barriers are not modelled yet (kernel ",
                                w.prog->launch->kernel->name, ")"));
    default:
      break;
  }
  return t;
}

void Sm::pass(Warp& w, MicroOp& m, Time now) {
  ++w.pos;
  ++m.warps_done;
  if (m.warps_done == m.warps) {
    // Every warp issued it: its dependency links are no longer needed (this also keeps chains short).
    for (MicroOp* s : m.srcs) pool_.release(s);
    m.srcs.clear();
    m.skip_src_mask = 0;
  }
}

void Sm::arrive_barrier(Warp& w, std::uint32_t slot, BarrierState& b, std::uint32_t expected, Time now) {
  ++b.arrived;
  if (b.arrived >= expected) {
    for (std::uint32_t x : b.waiters) {
      warps_[x].next_issue = now + p_.barrier_latency;
      warps_[x].waiting_barrier = false;
    }
    w.next_issue = now + p_.barrier_latency;
    b = BarrierState{};
  } else {
    b.waiters.push_back(slot);
    w.waiting_barrier = true;
  }
}

double Sm::quarter_end_around_pauses(std::uint32_t s, double& start, double busy) const {
  double t = start, left = busy;
  bool started = false;
  for (const auto& [b, e] : pause_spans_[s]) {
    if (e <= t) continue;
    if (b >= t + left) break;
    if (b > t) {  // work up to the span
      left -= b - t;
      started = true;
    } else if (!started) {
      start = e;  // the quarter cannot begin inside a span
    }
    t = e;
  }
  return t + left;
}

void Sm::publish_wgmma_times(const WgmmaRun& r) {
  MicroOp& m = *r.op;
  const Time first = ceil_time(*std::max_element(r.start.begin(), r.start.end()) + r.first_offset);
  const Time last = ceil_time(*std::max_element(r.end.begin(), r.end.end()) + r.last_offset);
  for (std::uint32_t l = r.wg * 4; l < r.wg * 4 + 4 && l < m.warps; ++l) {
    m.first[m.slot(l)] = first;
    m.last[m.slot(l)] = last;
  }
}

void Sm::pause_wgmma(std::uint32_t s, double a, double b, Time now) {
  const double past = static_cast<double>(now);
  auto& spans = pause_spans_[s];
  spans.erase(std::remove_if(spans.begin(), spans.end(), [&](const auto& x) { return x.second <= past; }),
              spans.end());
  // The parts of [a, b) this sub-partition's spans do not cover yet; then merge [a, b) in.
  std::vector<std::pair<double, double>> fresh;
  double x = a;
  for (const auto& sp : spans) {
    if (sp.second <= x || sp.first >= b) continue;
    if (sp.first > x) fresh.emplace_back(x, sp.first);
    x = std::max(x, sp.second);
  }
  if (x < b) fresh.emplace_back(x, b);
  if (fresh.empty()) return;
  std::pair<double, double> add{a, b};
  std::vector<std::pair<double, double>> merged;
  for (const auto& sp : spans) {
    if (sp.second < add.first || sp.first > add.second) merged.push_back(sp);
    else add = {std::min(add.first, sp.first), std::max(add.second, sp.second)};
  }
  merged.push_back(add);
  std::sort(merged.begin(), merged.end());
  spans.swap(merged);
  // Every newly covered piece pauses this sub-partition's quarters that run at or after it.
  for (const auto& [px, py] : fresh) {
    const double len = py - px;
    for (WgmmaRun& r : wgmma_runs_) {
      if (r.end[s] <= px) continue;
      if (r.start[s] >= px) r.start[s] += len;
      r.end[s] += len;
      publish_wgmma_times(r);
    }
    if (quarter_free_[s] > px) quarter_free_[s] += len;
    wgmma_free_ = std::max(wgmma_free_, quarter_free_[s]);
  }
}

void Sm::enqueue_wgmma(Warp& w, MicroOp& m, Time now) {
  // The warp group (4 consecutive warps of the group) starts when its last warp issued everything.
  const std::uint32_t wg = w.lane / 4;
  for (std::uint32_t l = wg * 4; l < wg * 4 + 4 && l < m.warps; ++l)
    if (m.issued[l] < m.count) return;
  // Accumulators live in registers: an instruction that accumulates into a result still being written
  // back waits for it. With `chains` independent accumulators interleaved, consecutive instructions of one
  // chain are `chains` apart, so the spacing is max(interval, latency / chains).
  // Accumulators in the tensor pipe (tensor memory) chain at the interval instead.
  const double spacing =
      m.accumulate_in_pipe
          ? m.interval
          : std::max(m.interval, static_cast<double>(m.latency) / std::max<std::uint32_t>(1, m.chains));
  double chained = static_cast<double>(now);  // the earliest start the accumulator chain allows
  for (std::size_t i = 0; i < m.srcs.size(); ++i) {
    const MicroOp& s = *m.srcs[i];
    if (!(m.skip_src_mask & (1u << i)) || s.kind != MicroKind::wgmma) continue;
    const Time prev = s.last[s.slot(wg * 4)];
    if (prev == kPending) continue;
    // In the pipe: the producer's last instruction leaves the pipe `latency - interval` before its result.
    chained = std::max(chained, s.accumulate_in_pipe
                                    ? static_cast<double>(prev) - s.latency + s.interval
                                    : static_cast<double>(prev) - (m.chains - 1) * spacing);
  }
  double start = std::max(chained, wgmma_free_);
  const double busy = m.count * m.interval;
  Time last = ceil_time(start + (m.count - 1) * spacing + m.latency);
  if (p_.wgmma_paused_by == WgmmaPause::none) {
    wgmma_free_ = start + busy;
    const Time first = ceil_time(start + m.latency);
    for (std::uint32_t l = wg * 4; l < wg * 4 + 4 && l < m.warps; ++l) {
      m.first[m.slot(l)] = first;
      m.last[m.slot(l)] = last;
    }
  } else {
    // Per sub-partition quarters, each from its own tensor core's free time (wgmma_free_ is then only the
    // latest quarter's end).
    while (!wgmma_runs_.empty() &&
           *std::max_element(wgmma_runs_.front().end.begin(), wgmma_runs_.front().end.end()) <=
               static_cast<double>(now)) {
      pool_.release(wgmma_runs_.front().op);
      wgmma_runs_.pop_front();
    }
    WgmmaRun r;
    r.op = &m;
    r.wg = wg;
    r.first_offset = m.latency;
    r.last_offset = (m.count - 1) * spacing + m.latency - busy;
    for (std::uint32_t q = 0; q < sps_.size(); ++q) {
      double qs = std::max(chained, quarter_free_[q]);
      const double qe = quarter_end_around_pauses(q, qs, busy);
      r.start.push_back(qs);
      r.end.push_back(qe);
      quarter_free_[q] = qe;
      wgmma_free_ = std::max(wgmma_free_, qe);
    }
    start = *std::min_element(r.start.begin(), r.start.end());
    pool_.add_ref(&m);
    wgmma_runs_.push_back(std::move(r));
    publish_wgmma_times(wgmma_runs_.back());
    last = m.last[m.slot(wg * 4)];
  }
  if (trace_) {
    const Tick b = clock().tick_of(Cycle(static_cast<std::uint64_t>(start)));
    if (trace_->in_window(b))
      trace_->slice(track_tensor_, m.op ? cat("wgmma (line ", m.op->loc.line, ")") : std::string("wgmma"), b,
                    clock().tick_of(Cycle(last)),
                    {{"instructions", static_cast<double>(m.count)}, {"warp group", static_cast<double>(wg)}});
  }
  st_wgmma_instructions_ += m.count;
  st_wgmma_busy_ += static_cast<std::uint64_t>(std::llround(busy));
  const double flops = m.flops / std::max<std::uint32_t>(1, m.warps / 4);
  st_tensor_flops_ += static_cast<std::uint64_t>(flops);
  w.prog->activity.busy[kUnitCount] += busy;
  w.prog->activity.flops += flops;
}

void Sm::issue(std::uint32_t slot, Time now) {
  Warp& w = warps_[slot];
  MicroOp& m = *w.group->at(w.pos);
  SubPartition& sp = sps_[w.sp];
  const std::uint32_t lane = w.lane;
  const std::uint32_t done_before = m.issued[lane];
  const std::uint32_t chunk = std::min(p_.issue_chunk, m.count - done_before);
  const std::size_t s = m.slot(lane);
  progressed_ = true;
  sp.dispatch_free = now + 1;
  w.next_issue = now + 1;
  auto count_instructions = [&](Unit u, std::uint32_t n) {
    st_instructions_ += n;
    *st_unit_instructions_[static_cast<int>(u)] += n;
    w.prog->activity.instructions += n;
  };

  switch (m.kind) {
    case MicroKind::compute:
    case MicroKind::mma_sync: {
      const double step = std::max(1.0, m.interval);
      const int u = static_cast<int>(m.unit);
      const double unit_start = std::max(sp.unit_free[u], static_cast<double>(now));
      sp.unit_free[u] = unit_start + chunk * m.interval;
      if (p_.wgmma_paused_by == WgmmaPause::sfu && m.unit == Unit::sfu) pause_wgmma(w.sp, unit_start, sp.unit_free[u], now);
      // Uniform-datapath instructions (loop counters, addresses) read the uniform register file, not the
      // vector register file that holds the wgmma accumulators: they do not pause it.
      if (p_.wgmma_paused_by == WgmmaPause::issue && m.unit != Unit::uniform)
        pause_wgmma(w.sp, static_cast<double>(now), static_cast<double>(now + chunk), now);
      *st_unit_busy_[u] += static_cast<std::uint64_t>(std::llround(chunk * m.interval));
      w.prog->activity.busy[static_cast<std::size_t>(u)] += chunk * m.interval;
      const Time last_issue = now + static_cast<Time>(std::ceil((chunk - 1) * step));
      if (done_before == 0) m.first[s] = now + m.latency;
      m.issued[lane] += chunk;
      if (m.issued[lane] >= m.count) m.last[s] = last_issue + m.latency;
      sp.dispatch_free = now + chunk;
      w.next_issue = last_issue + 1;
      count_instructions(m.unit, chunk);
      if (m.kind == MicroKind::mma_sync) {
        const double flops = m.flops / (m.leader_only ? 1 : m.warps) / m.count * chunk;
        st_tensor_flops_ += static_cast<std::uint64_t>(flops);
        w.prog->activity.flops += flops;
      }
      break;
    }
    case MicroKind::wgmma:
      m.issued[lane] += chunk;
      sp.dispatch_free = now + chunk;
      w.next_issue = now + chunk;
      count_instructions(Unit::tensor, chunk);
      if (m.issued[lane] >= m.count) enqueue_wgmma(w, m, now);
      break;
    case MicroKind::global_load:
    case MicroKind::global_store:
    case MicroKind::global_atomic:
    case MicroKind::shared_load:
    case MicroKind::shared_store:
    case MicroKind::remote_load:
    case MicroKind::cp_async: {
      const int u = static_cast<int>(Unit::lsu);
      sp.unit_free[u] = std::max(sp.unit_free[u], static_cast<double>(now)) + chunk * m.interval;
      *st_unit_busy_[u] += static_cast<std::uint64_t>(std::llround(chunk * m.interval));
      w.prog->activity.busy[static_cast<std::size_t>(u)] += chunk * m.interval;
      issue_memory(w, m, done_before, chunk, now);
      m.issued[lane] += chunk;
      sp.dispatch_free = now + chunk;
      if (p_.wgmma_paused_by == WgmmaPause::issue) pause_wgmma(w.sp, static_cast<double>(now), static_cast<double>(now + chunk), now);
      w.next_issue = now + chunk;
      count_instructions(Unit::lsu, chunk);
      if (m.group_wide) {
        // completion when every warp issued and every piece landed (checked in pass()/responses)
      } else if (m.issued[lane] >= m.count && m.pending[s] == 0 && m.last[s] == kPending) {
        m.last[s] = now + m.latency;  // nothing to wait for (e.g. a fully out-of-bounds tile)
        if (m.first[s] == kPending) m.first[s] = m.last[s];
      }
      break;
    }
    case MicroKind::tma_load:
    case MicroKind::tma_store:
      issue_copy(w, m, now);
      m.issued[lane] = m.count;
      count_instructions(Unit::uniform, 1);
      note_group_wide_done(m, now);
      break;
    case MicroKind::wait:
    case MicroKind::channel_acquire:
    case MicroKind::channel_get:
      m.issued[lane] = m.count;
      if (m.last[s] == kPending || !m.group_wide) m.first[s] = m.last[s] = now + 1;
      count_instructions(Unit::uniform, 1);
      break;
    case MicroKind::channel_put: {
      m.issued[lane] = m.count;
      count_instructions(Unit::uniform, 1);
      if (m.warps_done == 0) {  // the first warp to arrive publishes the stage (non-blocking arrive)
        ChannelRuntime& c = w.prog->channels.at(static_cast<std::size_t>(m.channel));
        ChannelRuntime::Stage& st = c.stages[static_cast<std::size_t>(m.item % static_cast<std::int64_t>(c.stages.size()))];
        for (MicroOp* d : st.full_deps) pool_.release(d);
        for (MicroOp* d : st.empty_deps) pool_.release(d);
        st.full_deps.clear();
        st.empty_deps.clear();
        st.item = m.item;
        st.full_pending = true;
        st.releases = 0;
        for (MicroOp* d : m.srcs) {
          pool_.add_ref(d);
          st.full_deps.push_back(d);
        }
        m.first[0] = m.last[0] = now + 1;
      }
      break;
    }
    case MicroKind::channel_release: {
      m.issued[lane] = m.count;
      count_instructions(Unit::uniform, 1);
      if (m.warps_done + 1 == m.warps) {  // the group's last warp: one release of the stage
        ChannelRuntime& c = w.prog->channels.at(static_cast<std::size_t>(m.channel));
        ChannelRuntime::Stage& st = c.stages[static_cast<std::size_t>(m.item % static_cast<std::int64_t>(c.stages.size()))];
        if (st.item != m.item) panic(name(), ": release of channel item ", m.item, " but the stage holds ", st.item);
        ++st.releases;
        for (MicroOp* d : m.srcs) {
          pool_.add_ref(d);
          st.empty_deps.push_back(d);
        }
        m.first[0] = m.last[0] = now + 1;
      }
      break;
    }
    case MicroKind::barrier: {
      m.issued[lane] = m.count;
      count_instructions(Unit::uniform, 1);
      m.first[s] = m.last[s] = now + p_.barrier_latency;
      pass(w, m, now);
      arrive_barrier(w, slot, program_barriers_[w.prog], w.prog->live_warps, now);
      return;
    }
    case MicroKind::group_barrier: {
      m.issued[lane] = m.count;
      count_instructions(Unit::uniform, 1);
      m.first[s] = m.last[s] = now + p_.barrier_latency;
      pass(w, m, now);
      arrive_barrier(w, slot, group_barriers_[w.group], w.group->spec().warps, now);
      return;
    }
    case MicroKind::exit: {
      m.issued[lane] = m.count;
      m.first[s] = m.last[s] = now;
      pass(w, m, now);
      exit_warp(slot, now);
      return;
    }
    case MicroKind::cluster_barrier:
      panic(name(), ": cluster barrier reached issue");
  }
  if (m.issued[lane] >= m.count) {
    pass(w, m, now);
    if (m.group_wide) note_group_wide_done(m, now);
  }
}

// ---- memory ------------------------------------------------------------------------------------------

namespace {

/// Contiguous byte runs of a tile in global memory: calls f(address, bytes, tile byte offset) for the
/// in-bounds part of vectors [v0, v1) of the tile (vectors of `vec` bytes in row-major order).
template <class F>
void for_each_run(const GlobalAccess& a, std::uint64_t v0, std::uint64_t v1, std::uint32_t vec, F&& f) {
  const core::GlobalBinding& t = *a.tensor;
  const std::size_t rank = a.tile_shape.size();
  const std::int64_t cols = rank ? a.tile_shape.back() : 1;
  const std::uint64_t row_bytes = static_cast<std::uint64_t>(cols) * a.elem_bytes;
  const std::uint64_t vpr = std::max<std::uint64_t>(1, row_bytes / vec);  // vectors per row
  std::uint64_t v = v0;
  while (v < v1) {
    const std::uint64_t row = v / vpr;
    const std::uint64_t in_row = v % vpr;
    const std::uint64_t n = std::min(v1 - v, vpr - in_row);
    // Global coordinates of this row (leading dims of the tile, row-major).
    std::uint64_t rem = row;
    std::int64_t elem = 0;
    bool inside = true;
    for (std::size_t d = rank - 1; d-- > 0;) {
      const std::int64_t local = static_cast<std::int64_t>(rem % static_cast<std::uint64_t>(a.tile_shape[d]));
      rem /= static_cast<std::uint64_t>(a.tile_shape[d]);
      const std::int64_t g = a.coord[d] * a.tile_shape[d] + local;
      if (g >= t.shape[d]) inside = false;
      elem += g * t.strides[d];
    }
    if (inside && rank > 0) {
      const std::int64_t c0 = a.coord[rank - 1] * cols + static_cast<std::int64_t>(in_row * vec / a.elem_bytes);
      std::int64_t c1 = c0 + static_cast<std::int64_t>(n * vec / a.elem_bytes);
      c1 = std::min<std::int64_t>(c1, t.shape[rank - 1]);
      if (c1 > c0) {
        const std::uint64_t addr = t.base + static_cast<std::uint64_t>(elem + c0 * t.strides[rank - 1]) * a.elem_bytes;
        f(addr, static_cast<std::uint64_t>(c1 - c0) * a.elem_bytes, row * row_bytes + in_row * vec);
      }
    }
    v += n;
  }
}

std::uint32_t vector_width(const GlobalAccess& a, std::uint32_t max_vec) {
  const std::uint64_t row_bytes = static_cast<std::uint64_t>(a.tile_shape.empty() ? 1 : a.tile_shape.back()) * a.elem_bytes;
  std::uint32_t v = max_vec;
  while (v > 1 && row_bytes % v != 0) v /= 2;
  return v;
}

}  // namespace

void Sm::issue_memory(Warp& w, MicroOp& m, std::uint32_t first, std::uint32_t n, Time now) {
  ProgramState& p = *w.prog;
  const std::size_t s = m.slot(w.lane);
  const std::uint32_t gw = w.group->spec().warps;
  auto enqueue = [&](Target target, MemRequest req, std::uint32_t lane_bytes) {
    LsuEntry e;
    e.target = target;
    e.req = req;
    e.lane_bytes = lane_bytes;
    e.op = &m;
    e.lane = w.lane;
    e.prog = &p;
    pool_.add_ref(&m);
    ++m.pending[s];
    ++p.outstanding;
    if (m.kind == MicroKind::global_store) ++p.outstanding_stores;
    ++in_flight_;
    lsu_.push_back(std::move(e));
  };
  for (std::uint32_t i = first; i < first + n; ++i) {
    const std::uint64_t inst = static_cast<std::uint64_t>(i) * gw + w.lane;  // instruction slot within the op
    switch (m.kind) {
      case MicroKind::shared_load:
      case MicroKind::shared_store: {
        MemRequest r;
        const std::uint64_t off = (m.shared_offset + inst * m.shared_bytes) % std::max<std::uint64_t>(1, p.scratch_bytes);
        r.addr = p.scratch_base + off;
        r.bytes = m.shared_bytes;
        r.op = m.kind == MicroKind::shared_store ? MemOp::write : MemOp::read;
        enqueue(Target::scratch, r, 0);
        ++st_shared_requests_;
        break;
      }
      case MicroKind::remote_load: {
        MemRequest r;
        const std::uint32_t peer = p.msg.cluster_cores.empty() ? index() : p.msg.cluster_cores.at(m.peer_rank);
        const std::uint64_t off = (m.shared_offset + inst * 512) % std::max<std::uint64_t>(1, p.scratch_bytes);
        r.addr = peer * env_.cluster_window_bytes + p.scratch_base + off;
        r.bytes = 512;
        r.op = MemOp::read;
        enqueue(peer == index() ? Target::scratch : Target::remote, r, 0);
        break;
      }
      case MicroKind::cp_async: {
        // One 16-byte piece per thread: the copy engine carries the pieces of this warp instruction.
        const GlobalAccess& a = *m.access;
        const std::uint32_t vec = vector_width(a, p_.vector_bytes);
        const std::uint64_t v0 = inst * 32, v1 = v0 + 32;
        for_each_run(a, v0, v1, vec, [&](std::uint64_t addr, std::uint64_t bytes, std::uint64_t tile_off) {
          CopyEntry c;
          c.cmd.direction = CopyDirection::to_scratch;
          c.cmd.global_addr = addr;
          c.cmd.scratch_addr = static_cast<std::uint32_t>(p.scratch_base + (a.scratch_offset + tile_off) % std::max<std::uint64_t>(1, p.scratch_bytes));
          c.cmd.rows = 1;
          c.cmd.row_bytes = static_cast<std::uint32_t>(bytes);
          c.cmd.pitch = bytes;
          c.op = &m;
          c.prog = &p;
          pool_.add_ref(&m);
          ++m.pending[s];
          ++p.outstanding;
          ++in_flight_;
          copies_.push_back(c);
        });
        break;
      }
      default: {  // global load / store / atomic: coalesce into lines
        const GlobalAccess& a = *m.access;
        const std::uint32_t vec = vector_width(a, p_.vector_bytes);
        const std::uint64_t v0 = inst * 32, v1 = v0 + 32;
        line_scratch_.clear();
        for_each_run(a, v0, v1, vec, [&](std::uint64_t addr, std::uint64_t bytes, std::uint64_t) {
          std::uint64_t x = addr;
          const std::uint64_t end = addr + bytes;
          while (x < end) {
            const std::uint64_t line = x / env_.line_bytes;
            const std::uint64_t line_end = std::min(end, (line + 1) * env_.line_bytes);
            const std::uint64_t s0 = (x % env_.line_bytes) / env_.sector_bytes;
            const std::uint64_t s1 = ((line_end - 1) % env_.line_bytes) / env_.sector_bytes;
            std::uint64_t mask = 0;
            for (std::uint64_t q = s0; q <= s1; ++q) mask |= 1ull << q;
            bool merged = false;
            for (auto& lm : line_scratch_)
              if (lm.first == line) {
                lm.second |= mask;
                merged = true;
              }
            if (!merged) line_scratch_.push_back({line, mask});
            x = line_end;
          }
        });
        for (const auto& [line, mask] : line_scratch_) {
          std::uint64_t lo = 0;
          while (!(mask & (1ull << lo))) ++lo;
          std::uint64_t hi = 63;
          while (!(mask & (1ull << hi))) --hi;
          MemRequest r;
          r.addr = line * env_.line_bytes + lo * env_.sector_bytes;
          r.bytes = static_cast<std::uint32_t>((hi - lo + 1) * env_.sector_bytes);
          r.op = m.kind == MicroKind::global_load ? MemOp::read : m.kind == MicroKind::global_atomic ? MemOp::atomic : MemOp::write;
          enqueue(Target::cache, r, 0);
          ++st_requests_;
          st_request_bytes_ += r.bytes;
        }
        break;
      }
    }
  }
  (void)now;
}

CopyMulticast Sm::multicast_share(const ProgramState& p, int axis) const {
  CopyMulticast share;
  const std::vector<std::uint32_t>& cores = p.msg.cluster_cores;
  if (cores.size() <= 1) return share;
  if (axis == 3) {  // the whole cluster
    share.cores = cores;
    share.slice = p.msg.cluster_rank;
    return share;
  }
  // Ranks are numbered axis 0 fastest; the sharers differ from this rank only in their coordinate on `axis`.
  const std::array<std::int64_t, 3>& shape = p.launch->cluster;
  std::int64_t stride = 1;
  for (int d = 0; d < axis; ++d) stride *= shape[static_cast<std::size_t>(d)];
  const std::int64_t rank = p.msg.cluster_rank;
  const std::int64_t extent = shape[static_cast<std::size_t>(axis)];
  const std::int64_t coord = rank / stride % extent;
  const std::int64_t first = rank - coord * stride;
  for (std::int64_t i = 0; i < extent; ++i) share.cores.push_back(cores.at(static_cast<std::size_t>(first + i * stride)));
  share.slice = static_cast<std::uint32_t>(coord);
  return share;
}

void Sm::issue_copy(Warp& w, MicroOp& m, Time now) {
  ProgramState& p = *w.prog;
  const GlobalAccess& a = *m.access;
  const core::GlobalBinding& t = *a.tensor;
  const std::size_t rank = a.tile_shape.size();
  const std::int64_t cols = rank ? a.tile_shape.back() : 1;
  const std::int64_t rows_in_tile = rank >= 2 ? a.tile_shape[rank - 2] : 1;
  std::int64_t outer = 1;
  for (std::size_t d = 0; d + 2 < rank; ++d) outer *= a.tile_shape[d];
  const std::int64_t c0 = rank ? a.coord[rank - 1] * cols : 0;
  const std::int64_t c1 = rank ? std::min<std::int64_t>(c0 + cols, t.shape[rank - 1]) : 1;
  const std::uint64_t tile_row_bytes = static_cast<std::uint64_t>(cols) * a.elem_bytes;
  // TMA multicast: every sharing rank issues the same boxes; each fetches its share for all of them.
  CopyMulticast share;
  if (a.multicast_axis >= 0 && m.kind == MicroKind::tma_load) share = multicast_share(p, a.multicast_axis);
  const bool multicast = share.cores.size() > 1;
  std::uint32_t box = 0;
  for (std::int64_t o = 0; o < outer && c1 > c0; ++o) {
    // Global coordinates of the outer dims.
    std::int64_t rem = o, elem = 0;
    bool inside = true;
    for (std::size_t d = rank >= 2 ? rank - 2 : 0; d-- > 0;) {
      const std::int64_t local = rem % a.tile_shape[d];
      rem /= a.tile_shape[d];
      const std::int64_t g = a.coord[d] * a.tile_shape[d] + local;
      if (g >= t.shape[d]) inside = false;
      elem += g * t.strides[d];
    }
    if (!inside) continue;
    const std::int64_t r0 = rank >= 2 ? a.coord[rank - 2] * rows_in_tile : 0;
    const std::int64_t r1 = rank >= 2 ? std::min<std::int64_t>(r0 + rows_in_tile, t.shape[rank - 2]) : 1;
    for (std::int64_t r = r0; r < r1; r += p_.tma_box_rows) {
      const std::int64_t nrows = std::min<std::int64_t>(p_.tma_box_rows, r1 - r);
      CopyEntry c;
      c.cmd.direction = m.kind == MicroKind::tma_load ? CopyDirection::to_scratch : CopyDirection::from_scratch;
      const std::int64_t row_elem = rank >= 2 ? r * t.strides[rank - 2] : 0;
      c.cmd.global_addr = t.base + static_cast<std::uint64_t>(elem + row_elem + c0 * (rank ? t.strides[rank - 1] : 1)) * a.elem_bytes;
      const std::uint64_t tile_off = static_cast<std::uint64_t>(o * rows_in_tile + (r - r0)) * tile_row_bytes;
      c.cmd.scratch_addr = static_cast<std::uint32_t>(p.scratch_base + (a.scratch_offset + tile_off) % std::max<std::uint64_t>(1, p.scratch_bytes));
      c.cmd.rows = static_cast<std::uint32_t>(nrows);
      c.cmd.row_bytes = static_cast<std::uint32_t>((c1 - c0) * a.elem_bytes);
      c.cmd.pitch = rank >= 2 ? static_cast<std::uint64_t>(t.strides[rank - 2]) * a.elem_bytes : c.cmd.row_bytes;
      if (multicast) {
        if (p.msg.launch >= (1u << 20) || p.msg.cluster >= (std::int64_t{1} << 40) || w.group->index() >= (1u << 12) ||
            a.multicast_seq >= (std::uint64_t{1} << 36) || box >= (1u << 16))
          throw SimulationError(cat(name(), ": kernel ", p.launch->name, ": too many launches, clusters, warp groups, "
                                    "multicast copies or boxes per copy to name each multicast box (limits 2^20, 2^40, "
                                    "2^12, 2^36, 2^16)"));
        c.cmd.multicast.key.cluster = std::uint64_t{p.msg.launch} << 40 | static_cast<std::uint64_t>(p.msg.cluster);
        c.cmd.multicast.key.box = std::uint64_t{w.group->index()} << 52 | a.multicast_seq << 16 | box;
        c.cmd.multicast.cores = share.cores;
        c.cmd.multicast.slice = share.slice;
      }
      ++box;
      c.op = &m;
      c.prog = &p;
      pool_.add_ref(&m);
      ++m.pending[0];
      ++p.outstanding;
      ++in_flight_;
      copies_.push_back(c);
    }
  }
  (void)now;
}

void Sm::drain_lsu(Time now) {
  std::uint32_t sent = 0;
  while (!lsu_.empty() && sent < p_.requests_per_cycle && outstanding_.size() < p_.max_outstanding_requests) {
    LsuEntry& e = lsu_.front();
    OutPort<MemRequest>* mem_port = nullptr;
    OutPort<ScratchRequest>* scratch_port = nullptr;
    if (e.target == Target::cache) mem_port = &cache_req;
    if (e.target == Target::scratch) scratch_port = &scratch_req;
    if (e.target == Target::remote) scratch_port = &remote_req;
    if (mem_port ? !mem_port->can_send() : !scratch_port->can_send()) break;
    e.req.id = next_id_++;
    e.req.source = index();
    e.req.issued = clock().now_tick();
    outstanding_[e.req.id] = Outstanding{e.op, e.lane, e.prog};
    if (mem_port) {
      mem_port->send(e.req, Priority::request);
    } else {
      ScratchRequest sr;
      sr.req = e.req;
      sr.lane_bytes = e.lane_bytes;
      scratch_port->send(std::move(sr), Priority::request);
    }
    lsu_.pop_front();
    ++sent;
    progressed_ = true;
  }
  (void)now;
}

void Sm::drain_copies(Time now) {
  while (!copies_.empty() && copy_cmd.can_send()) {
    CopyEntry& c = copies_.front();
    c.cmd.id = next_id_++;
    c.cmd.issued = clock().now_tick();
    copy_outstanding_[c.cmd.id] = Outstanding{c.op, 0, c.prog};
    ++st_copies_;
    st_copy_bytes_ += c.cmd.bytes();
    copy_cmd.send(c.cmd, Priority::request);
    copies_.pop_front();
    progressed_ = true;
  }
  (void)now;
}

// ---- the cycle ---------------------------------------------------------------------------------------

void Sm::charge_stalls(Time now) {
  for (auto& sp : sps_) {
    if (now > sp.reason_since) {
      *st_stall_[static_cast<int>(sp.reason)] += now - sp.reason_since;
      if (sp.reason_prog) sp.reason_prog->activity.stalls[static_cast<std::size_t>(sp.reason)] += static_cast<double>(now - sp.reason_since);
    }
    sp.reason_since = now;
  }
}

bool Sm::tick(Cycle c) {
  const Time now = c.value;
  charge_stalls(now);
  progressed_ = false;
  while (launch.ready()) {
    start_program(launch.pop(), now);
    progressed_ = true;
  }
  handle_responses(now);
  run_front_ends();

  Time next = kPending;
  for (std::size_t spi = 0; spi < sps_.size(); ++spi) {
    SubPartition& sp = sps_[spi];
    if (sp.warps.empty()) {
      sp.reason = Stall::idle;
      sp.reason_prog = nullptr;
      continue;
    }
    if (sp.dispatch_free > now) {
      sp.reason = Stall::issued;
      next = std::min(next, sp.dispatch_free);
      continue;
    }
    // Pick a warp: GTO tries the last issued one first, then oldest first; LRR rotates.
    std::uint32_t chosen = ~0u, best_slot = ~0u;
    Stall best_why = Stall::idle;
    Time best_t = kPending;
    const std::size_t n = sp.warps.size();
    auto consider = [&](std::uint32_t slot) {
      Stall why = Stall::dependency;
      const Time t = earliest_issue(slot, now, why);
      if (t == now && chosen == ~0u) chosen = slot;
      if (best_slot == ~0u || t < best_t) {  // the warp closest to issuing names the reason
        best_t = t;
        best_why = why;
        best_slot = slot;
      }
      return t == now;
    };
    if (p_.scheduler == SchedulerPolicy::gto) {
      if (sp.last_issued != ~0u && warps_[sp.last_issued].active && warps_[sp.last_issued].sp == spi)
        consider(sp.last_issued);
      for (std::size_t i = 0; i < n && chosen == ~0u; ++i) consider(sp.warps[i]);
    } else {
      for (std::size_t i = 0; i < n && chosen == ~0u; ++i) consider(sp.warps[(sp.rr + 1 + i) % n]);
    }
    if (chosen != ~0u) {
      if (p_.scheduler == SchedulerPolicy::lrr) {
        auto it = std::find(sp.warps.begin(), sp.warps.end(), chosen);
        sp.rr = static_cast<std::uint32_t>(it - sp.warps.begin());
      }
      sp.last_issued = chosen;
      sp.reason_prog = warps_[chosen].prog;
      issue(chosen, now);
      sp.reason = Stall::issued;
      next = std::min(next, std::max(now + 1, sp.dispatch_free));
    } else {
      sp.reason = best_why;
      sp.reason_prog = best_slot != ~0u ? warps_[best_slot].prog : nullptr;
      if (best_t != kPending) next = std::min(next, best_t);
    }
  }

  drain_lsu(now);
  drain_copies(now);
  // Retire micro-ops every warp has passed; finish programs that exited and drained.
  for (auto& p : programs_)
    for (auto& g : p->groups) g->retire(oldest_pos(*g));
  finished_.clear();
  for (auto& p : programs_) {
    if (p->live_warps != 0) continue;
    if (p->outstanding == 0) finished_.push_back(p.get());
    else if (!p->released && p->outstanding == p->outstanding_stores) release_program(*p);
  }
  for (ProgramState* p : finished_) finish_program(*p);
  if (!finished_.empty()) progressed_ = true;

  if (progressed_) note_progress();
  // Work next cycle: more issue, queued requests that could leave, front ends with room.
  if (progressed_ || (!lsu_.empty() && outstanding_.size() < p_.max_outstanding_requests) || !copies_.empty())
    return true;
  if (next != kPending && next > now) {
    if (next == now + 1) return true;
    wake_at(Cycle(next));
  }
  return false;  // responses, completions and new programs wake us
}

void Sm::finish() { charge_stalls(clock().now().value); }

std::vector<std::string> Sm::report_lines(const std::vector<StatValue>& totals) const {
  auto get = [&](const std::string& n) { return stat_value(totals, n); };
  const double cycles = get("cycles");
  if (cycles <= 0 || get("programs") == 0) return {};
  std::vector<std::string> out;
  // The tensor figure is the warp-group pipe's when wgmma ran, else the sub-partitions' tensor cores'
  // (mma.sync / wmma), which the warp-group pipe counter does not see.
  const bool warp_group = get("wgmma_instructions") > 0;
  const double tensor_busy = warp_group ? get("tensor_pipe_busy") / cycles
                                        : get(cat("busy_", unit_name(Unit::tensor))) / (cycles * p_.sub_partitions);
  out.push_back(cat(format_number(get("programs"), 6), " programs, ", format_number(get("warp_instructions"), 6),
                    " warp instructions, ", warp_group ? "warp-group tensor pipe " : "tensor cores ",
                    format_number(100.0 * tensor_busy, 3), "% busy, issue slots ",
                    format_number(100.0 * get("stall_issued") / (cycles * p_.sub_partitions), 3), "% used"));
  std::string units = "pipe utilisation:";
  for (int u = 0; u < kUnitCount; ++u) {
    const double busy = get(std::string("busy_") + unit_name(static_cast<Unit>(u)));
    if (busy > 0) units += cat(" ", unit_name(static_cast<Unit>(u)), " ", format_number(100.0 * busy / (cycles * p_.sub_partitions), 3), "%");
  }
  out.push_back(units);
  std::vector<std::pair<double, int>> stalls;
  for (int s = 2; s < static_cast<int>(Stall::count_); ++s) stalls.push_back({get(std::string("stall_") + stall_name(s)), s});
  std::sort(stalls.rbegin(), stalls.rend());
  std::string top = "top stalls:";
  for (int i = 0; i < 3 && i < static_cast<int>(stalls.size()); ++i)
    if (stalls[i].first > 0)
      top += cat(" ", stall_name(stalls[i].second), " ", format_number(100.0 * stalls[i].first / (cycles * p_.sub_partitions), 3), "%");
  out.push_back(top);
  return out;
}

}  // namespace tilesim::simt

// The functional interpreter (see interpreter.hpp for the execution model).
//
// Structure: an Interpreter binds the arguments and precomputes per-kernel facts (grid, channel
// consumers, groups of programs that must run together); each group of programs runs as a set of tasks
// (one per role instance per program) under a round-robin scheduler. A task is an explicit stack of
// frames (block, program counter, loop state), so it can stop at a blocking op and resume there later
// without threads.
#include "isa/interpreter.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <sstream>

#include "isa/interp_internal.hpp"
#include "isa/verifier.hpp"
#include "sim/error.hpp"

namespace tilesim::isa {

TileValue& Buffers::tensor(const std::string& name) {
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw ConfigError(cat("no buffer called '", name, "'"));
  return it->second;
}

const TileValue& Buffers::tensor(const std::string& name) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw ConfigError(cat("no buffer called '", name, "'"));
  return it->second;
}

namespace {

// ---- runtime values ---------------------------------------------------------------------------------

/// The value an SSA name holds while a task runs.
struct RtValue {
  enum class Kind : uint8_t { unset, index, scalar, tile, token, global, channel };
  Kind kind = Kind::unset;
  DType dtype = DType::f32;  // scalar
  int64_t i = 0;             // index value; channel number
  double f = 0.0;            // scalar value (exactly representable in dtype)
  std::shared_ptr<const TileValue> tile;
  TileValue* global = nullptr;

  static RtValue index_of(int64_t v) {
    RtValue r;
    r.kind = Kind::index;
    r.i = v;
    return r;
  }
  static RtValue scalar_of(DType d, double v) {
    RtValue r;
    r.kind = Kind::scalar;
    r.dtype = d;
    r.f = round_to(d, v);
    return r;
  }
  static RtValue tile_of(TileValue t) {
    RtValue r;
    r.kind = Kind::tile;
    r.tile = std::make_shared<const TileValue>(std::move(t));
    return r;
  }
  static RtValue token() {
    RtValue r;
    r.kind = Kind::token;
    return r;
  }
};

/// An integer of `type` (index, or a scalar integer dtype: saturating like cast).
RtValue int_value(const Type& type, int64_t v) {
  if (type.kind == TypeKind::index) return RtValue::index_of(v);
  return RtValue::scalar_of(type.dtype, static_cast<double>(v));
}

// ---- tasks, channels, barriers ---------------------------------------------------------------------

struct Frame {
  const Block* block = nullptr;
  size_t pc = 0;
  const Op* owner = nullptr;  // the for/if whose region this is; nullptr for a role/kernel body
  int64_t induction = 0, hi = 0, step = 0;  // for loops
};

struct Task {
  int program = 0;       // index into Group::programs
  int role = -1;         // index into Kernel::roles; -1 for a kernel without roles
  int64_t instance = 0;  // role instance
  std::vector<RtValue> values;
  std::vector<Frame> frames;
  bool done = false;
  const Op* blocked_at = nullptr;  // set while blocked
  std::string blocked_why;
  int64_t barrier_generation = -1;  // generation awaited at a barrier; -1 when not at one
};

struct ChannelState {
  int64_t stages = 1;
  std::deque<std::shared_ptr<const TileValue>> items;  // items[0] is item number `first`
  int64_t first = 0;     // items before this one were released by every consumer instance
  int64_t produced = 0;  // items put so far
  std::vector<int64_t> next_get;      // per consumer slot
  std::vector<int64_t> next_release;  // per consumer slot
};

struct BarrierState {
  int64_t participants = 0;
  int64_t arrived = 0;
  int64_t generation = 0;
};

struct ProgramState {
  std::array<int64_t, 3> coord{};
  int64_t cluster_id = 0;    // linear cluster index
  int64_t cluster_rank = 0;  // rank inside the cluster
  std::vector<ChannelState> channels;
  BarrierState barrier;  // scope=program
};

struct Group {
  std::vector<ProgramState> programs;
  std::vector<Task> tasks;
  std::map<int64_t, BarrierState> cluster_barriers;  // scope=cluster, by cluster id
  BarrierState device_barrier;                       // scope=device (the group is then the whole grid)
};

/// A consumer of a channel: one instance of a role that gets from it.
struct ConsumerSlot {
  int role = 0;
  int64_t instance = 0;
};

std::string coord_text(const std::array<int64_t, 3>& c, int rank) {
  std::string s = "(";
  for (int d = 0; d < rank; ++d) s += (d ? ", " : "") + std::to_string(c[static_cast<size_t>(d)]);
  return s + ")";
}

/// Whether an integral value is in the range of an integer dtype (i1: 0 or 1), without saturating.
bool fits_integer_dtype(DType d, double v) {
  switch (d) {
    case DType::i1: return v == 0.0 || v == 1.0;
    case DType::i8: return v >= -128.0 && v <= 127.0;
    case DType::i32: return v >= -2147483648.0 && v <= 2147483647.0;
    default: return true;
  }
}

bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

// ---- the interpreter ----------------------------------------------------------------------------------

class Interpreter {
 public:
  Interpreter(const Kernel& kernel, Buffers& buffers, const SymbolValues& scalars, const InterpreterOptions& options)
      : k_(kernel), buffers_(buffers), options_(options) {
    source_name_ = options.source_name.empty() ? "<kernel @" + kernel.name + ">" : options.source_name;
    if (options_.verify) verify_first();
    bind_arguments(scalars);
    find_channel_consumers();
    evaluate_launch();
  }

  RunSummary run() {
    summary_.programs = 0;
    for (const std::vector<int64_t>& group : groups_) run_group(group);
    return summary_;
  }

 private:
  // ---- errors ---------------------------------------------------------------------------------------

  [[noreturn]] void fail_at(SourceLoc loc, const std::string& message, const std::string& hint = "") const {
    Diagnostic d;
    d.loc = loc;
    d.message = message;
    d.hint = hint;
    throw InputError(format_diagnostic(source_name_, options_.source_text, d));
  }

  std::string task_text(const Group& g, const Task& t) const {
    std::string s = "program " + coord_text(g.programs[static_cast<size_t>(t.program)].coord, grid_rank_);
    if (t.role >= 0)
      s += ", role " + k_.roles[static_cast<size_t>(t.role)].name + " instance " + std::to_string(t.instance);
    return s;
  }

  [[noreturn]] void fail_in(const Group& g, const Task& t, const Op& op, const std::string& message) const {
    fail_at(op.loc, "'" + std::string(op.info().name) + "': " + message + " (in " + task_text(g, t) + ")");
  }

  std::string value_name(ValueId v) const { return "%" + k_.value(v).name; }

  // ---- setup ----------------------------------------------------------------------------------------

  void verify_first() {
    const VerifyReport report = verify_kernel(k_);
    if (report.ok()) return;
    std::string text;
    for (const Diagnostic& d : report.diagnostics) {
      if (d.severity != Severity::error) continue;
      if (!text.empty()) text += '\n';
      text += format_diagnostic(source_name_, options_.source_text, d);
    }
    throw InputError(text);
  }

  void bind_arguments(const SymbolValues& scalars) {
    initial_values_.assign(k_.values.size(), RtValue{});
    std::set<std::string> scalar_params, tensor_params;
    // Integer scalars first: tensor shapes are expressions over them.
    for (const Param& p : k_.params) {
      const ValueInfo& v = k_.value(p.value);
      if (v.type.kind == TypeKind::global) {
        tensor_params.insert(v.name);
        continue;
      }
      scalar_params.insert(v.name);
      double value = 0.0;
      if (auto it = scalars.find(v.name); it != scalars.end()) {
        value = static_cast<double>(it->second);
      } else if (auto jt = buffers_.scalars.find(v.name); jt != buffers_.scalars.end()) {
        value = jt->second;
      } else {
        fail_at(p.loc, "scalar parameter " + v.name + " (" + type_to_string(v.type) + ") has no value",
                "pass it in the scalars (integers) or in Buffers::scalars");
      }
      if (v.type.kind == TypeKind::index || (v.type.kind == TypeKind::scalar && !is_float(v.type.dtype))) {
        if (!std::isfinite(value) || value != std::trunc(value))
          fail_at(p.loc, "scalar parameter " + v.name + " (" + type_to_string(v.type) + ") needs an integer, got " +
                             cat(value));
        if (v.type.kind == TypeKind::scalar && !fits_integer_dtype(v.type.dtype, value))
          fail_at(p.loc, "scalar parameter " + v.name + " = " + cat(value) + " does not fit " +
                             dtype_name(v.type.dtype));
        const auto as_int = static_cast<int64_t>(value);
        symbols_[v.name] = as_int;
        initial_values_[static_cast<size_t>(p.value)] = int_value(v.type, as_int);
      } else {
        initial_values_[static_cast<size_t>(p.value)] = RtValue::scalar_of(v.type.dtype, value);
      }
    }
    for (const auto& [name, value] : scalars)
      if (!scalar_params.count(name))
        fail_at(k_.loc, "'" + name + "' is not a scalar parameter of kernel @" + k_.name, params_hint());
    for (const auto& [name, value] : buffers_.scalars)
      if (!scalar_params.count(name))
        fail_at(k_.loc, "'" + name + "' is not a scalar parameter of kernel @" + k_.name, params_hint());
    for (const auto& [name, tensor] : buffers_.tensors)
      if (!tensor_params.count(name))
        fail_at(k_.loc, "buffer '" + name + "' is not a tensor parameter of kernel @" + k_.name, params_hint());
    for (const Param& p : k_.params) {
      const ValueInfo& v = k_.value(p.value);
      if (v.type.kind != TypeKind::global) continue;
      auto it = buffers_.tensors.find(v.name);
      if (it == buffers_.tensors.end())
        fail_at(p.loc, "tensor parameter %" + v.name + " (" + type_to_string(v.type) + ") has no buffer");
      const Shape want = param_shape(k_, v.name, symbols_);
      TileValue& t = it->second;
      if (t.dtype() != v.type.dtype || t.shape() != want)
        fail_at(p.loc, "buffer for %" + v.name + " is " + t.type_string() + " but the parameter needs " +
                           dtype_name(v.type.dtype) + "[" + shape_string(want) + "]");
      RtValue g;
      g.kind = RtValue::Kind::global;
      g.global = &t;
      initial_values_[static_cast<size_t>(p.value)] = g;
    }
    for (size_t c = 0; c < k_.channels.size(); ++c) {
      RtValue ch;
      ch.kind = RtValue::Kind::channel;
      ch.i = static_cast<int64_t>(c);
      initial_values_[static_cast<size_t>(k_.channels[c].value)] = ch;
      channel_of_value_[k_.channels[c].value] = static_cast<int>(c);
    }
  }

  std::string params_hint() const {
    std::string s;
    for (const Param& p : k_.params) s += (s.empty() ? "" : ", ") + k_.value(p.value).name;
    return "the kernel's parameters are: " + (s.empty() ? std::string("(none)") : s);
  }

  void find_channel_consumers() {
    consumers_.assign(k_.channels.size(), {});
    for (size_t r = 0; r < k_.roles.size(); ++r) {
      std::set<int> gets;
      std::function<void(const Block&)> walk = [&](const Block& b) {
        for (const Op& op : b.ops) {
          if (op.opcode == OpId::get && !op.operands.empty()) {
            auto it = channel_of_value_.find(op.operands[0]);
            if (it != channel_of_value_.end()) gets.insert(it->second);
          }
          if (op.opcode == OpId::barrier) {
            if (const Attr* s = op.attr("scope"); s && s->word == "device") has_device_barrier_ = true;
          }
          for (const Block& region : op.regions) walk(region);
        }
      };
      walk(k_.roles[r].body);
      for (int c : gets)
        for (int64_t i = 0; i < k_.roles[r].count; ++i)
          consumers_[static_cast<size_t>(c)].push_back({static_cast<int>(r), i});
    }
    std::function<void(const Block&)> walk_body = [&](const Block& b) {
      for (const Op& op : b.ops) {
        if (op.opcode == OpId::barrier)
          if (const Attr* s = op.attr("scope"); s && s->word == "device") has_device_barrier_ = true;
        for (const Block& region : op.regions) walk_body(region);
      }
    };
    walk_body(k_.body);
  }

  int64_t eval_kernel_expr(const Expr& e, SourceLoc loc, const std::string& what) const {
    std::string error;
    auto v = eval_expr(e, symbols_, &error);
    if (!v) fail_at(loc, "cannot evaluate " + what + " " + expr_to_string(e) + ": " + error);
    return *v;
  }

  void evaluate_launch() {
    grid_ = {1, 1, 1};
    grid_rank_ = std::max<int>(1, static_cast<int>(k_.grid.size()));
    for (size_t d = 0; d < k_.grid.size(); ++d) {
      grid_[d] = eval_kernel_expr(k_.grid[d], k_.loc, "grid dim " + std::to_string(d));
      if (grid_[d] < 0) fail_at(k_.loc, "grid dim " + std::to_string(d) + " is negative (" + std::to_string(grid_[d]) + ")");
    }
    cluster_ = {1, 1, 1};
    for (size_t d = 0; d < k_.cluster.size(); ++d) {
      cluster_[d] = eval_kernel_expr(k_.cluster[d], k_.loc, "cluster dim " + std::to_string(d));
      if (cluster_[d] < 1) fail_at(k_.loc, "cluster dim " + std::to_string(d) + " must be positive");
      if (grid_[d] % cluster_[d] != 0)
        fail_at(k_.loc, "grid dim " + std::to_string(d) + " (" + std::to_string(grid_[d]) +
                            ") is not a multiple of the cluster dim (" + std::to_string(cluster_[d]) + ")");
    }
    int64_t total = 1;
    for (int64_t g : grid_)
      if (mul_overflows(total, g, &total)) fail_at(k_.loc, "the grid has more than 2^63 programs");
    // Program linear ids, grouped: whole grid (device barrier), per cluster, or one by one.
    const bool clustered = !k_.cluster.empty();
    if (has_device_barrier_) {
      groups_.emplace_back();
      for (int64_t p = 0; p < total; ++p) groups_.back().push_back(p);
    } else if (clustered) {
      const int64_t cluster_size = cluster_[0] * cluster_[1] * cluster_[2];
      std::map<int64_t, std::vector<std::pair<int64_t, int64_t>>> by_cluster;  // cluster -> (rank, program)
      for (int64_t p = 0; p < total; ++p) {
        const auto c = coord_of(p);
        by_cluster[cluster_id(c)].push_back({cluster_rank(c), p});
      }
      std::vector<std::pair<int64_t, std::vector<int64_t>>> ordered;  // first program, members by rank
      for (auto& [id, members] : by_cluster) {
        std::sort(members.begin(), members.end());
        std::vector<int64_t> programs;
        int64_t first = total;
        for (auto& [rank, p] : members) {
          programs.push_back(p);
          first = std::min(first, p);
        }
        if (static_cast<int64_t>(programs.size()) != cluster_size) panic("cluster of the wrong size");
        ordered.push_back({first, programs});
      }
      std::sort(ordered.begin(), ordered.end());
      for (auto& [first, programs] : ordered) groups_.push_back(programs);
    } else {
      groups_.reserve(static_cast<size_t>(total));
      for (int64_t p = 0; p < total; ++p) groups_.push_back({p});
    }
  }

  std::array<int64_t, 3> coord_of(int64_t linear) const {
    return {linear % grid_[0], (linear / grid_[0]) % grid_[1], linear / (grid_[0] * grid_[1])};
  }
  int64_t cluster_id(const std::array<int64_t, 3>& c) const {
    const int64_t cx = grid_[0] / cluster_[0], cy = grid_[1] / cluster_[1];
    return c[0] / cluster_[0] + cx * (c[1] / cluster_[1] + cy * (c[2] / cluster_[2]));
  }
  int64_t cluster_rank(const std::array<int64_t, 3>& c) const {
    return c[0] % cluster_[0] + cluster_[0] * (c[1] % cluster_[1] + cluster_[1] * (c[2] % cluster_[2]));
  }

  // ---- groups and the scheduler ---------------------------------------------------------------------

  void run_group(const std::vector<int64_t>& members) {
    Group g;
    for (int64_t p : members) {
      ProgramState ps;
      ps.coord = coord_of(p);
      ps.cluster_id = cluster_id(ps.coord);
      ps.cluster_rank = cluster_rank(ps.coord);
      for (size_t c = 0; c < k_.channels.size(); ++c) {
        ChannelState ch;
        ch.stages = k_.channels[c].stages;
        ch.next_get.assign(consumers_[c].size(), 0);
        ch.next_release.assign(consumers_[c].size(), 0);
        ps.channels.push_back(std::move(ch));
      }
      const int program_index = static_cast<int>(g.programs.size());
      g.programs.push_back(std::move(ps));
      auto add_task = [&](int role, int64_t instance, const Block& body) {
        Task t;
        t.program = program_index;
        t.role = role;
        t.instance = instance;
        t.values = initial_values_;
        t.frames.push_back(Frame{&body, 0, nullptr, 0, 0, 0});
        g.tasks.push_back(std::move(t));
      };
      if (k_.roles.empty()) {
        add_task(-1, 0, k_.body);
      } else {
        for (size_t r = 0; r < k_.roles.size(); ++r)
          for (int64_t i = 0; i < k_.roles[r].count; ++i) add_task(static_cast<int>(r), i, k_.roles[r].body);
      }
    }
    for (const Task& t : g.tasks) {
      ProgramState& ps = g.programs[static_cast<size_t>(t.program)];
      ps.barrier.participants++;
      g.cluster_barriers[ps.cluster_id].participants++;
      g.device_barrier.participants++;
    }
    summary_.programs += static_cast<int64_t>(g.programs.size());
    summary_.tasks += static_cast<int64_t>(g.tasks.size());

    size_t unfinished = g.tasks.size();
    while (unfinished > 0) {
      bool progress = false;
      for (Task& t : g.tasks) {
        if (t.done) continue;
        if (run_task(g, t)) progress = true;
        if (t.done) {
          --unfinished;
        } else {
          ++summary_.task_switches;
        }
      }
      if (!progress) report_deadlock(g);
    }
  }

  [[noreturn]] void report_deadlock(const Group& g) const {
    std::string lines;
    const Task* first = nullptr;
    for (const Task& t : g.tasks) {
      lines += "\n  " + task_text(g, t) + ": ";
      if (t.done) {
        lines += "finished";
        continue;
      }
      if (!first) first = &t;
      const SourceLoc loc = t.blocked_at ? t.blocked_at->loc : SourceLoc{};
      lines += "blocked at " + std::to_string(loc.line) + ":" + std::to_string(loc.col) + " on '" +
               std::string(t.blocked_at ? t.blocked_at->info().name : "?") + "': " + t.blocked_why;
    }
    fail_at(first && first->blocked_at ? first->blocked_at->loc : k_.loc,
            "deadlock: every unfinished task is blocked" + lines,
            "a channel needs a consumer for every item put and a release for every get beyond its stages; "
            "every task of a barrier's scope must reach it");
  }

  /// Runs `t` until it blocks or finishes. Returns whether it made progress.
  bool run_task(Group& g, Task& t) {
    bool progress = false;
    while (!t.frames.empty()) {
      Frame& f = t.frames.back();
      if (f.pc >= f.block->ops.size()) {  // a region without a trailing yield
        finish_region(g, t, {});
        progress = true;
        continue;
      }
      const Op& op = f.block->ops[f.pc];
      if (!step(g, t, op)) {
        t.blocked_at = &op;
        return progress;
      }
      t.blocked_at = nullptr;
      t.blocked_why.clear();
      ++summary_.ops_executed;
      ++summary_.op_counts[static_cast<size_t>(op.opcode)];
      progress = true;
    }
    t.done = true;
    return true;
  }

  /// Executes `op` (the op at the top frame's pc). Returns false if it blocked (nothing changed then).
  bool step(Group& g, Task& t, const Op& op) {
    try {
      switch (op.opcode) {
        case OpId::for_: begin_for(g, t, op); return true;
        case OpId::if_: begin_if(g, t, op); return true;
        case OpId::yield: {
          std::vector<RtValue> values;
          values.reserve(op.operands.size());
          for (ValueId v : op.operands) values.push_back(in(g, t, op, v));
          finish_region(g, t, std::move(values));
          return true;
        }
        default: break;
      }
      check_after(g, t, op);
      if (!execute(g, t, op)) return false;
      t.frames.back().pc++;
      return true;
    } catch (const SemanticError& e) {
      fail_in(g, t, op, e.what());
    }
  }

  // ---- regions --------------------------------------------------------------------------------------

  void begin_for(Group& g, Task& t, const Op& op) {
    const int64_t lo = as_int(g, t, op, in(g, t, op, op.operands[0]), "the lower bound");
    const int64_t hi = as_int(g, t, op, in(g, t, op, op.operands[1]), "the upper bound");
    const int64_t step = as_int(g, t, op, in(g, t, op, op.operands[2]), "the step");
    if (step <= 0) fail_in(g, t, op, "the step must be positive, got " + std::to_string(step));
    std::vector<RtValue> inits;
    for (size_t i = 3; i < op.operands.size(); ++i) inits.push_back(in(g, t, op, op.operands[i]));
    if (lo >= hi) {
      for (size_t i = 0; i < op.results.size() && i < inits.size(); ++i) out(t, op.results[i], inits[i]);
      t.frames.back().pc++;
      return;
    }
    const Block& body = op.regions.at(0);
    Frame f{&body, 0, &op, lo, hi, step};
    t.values[static_cast<size_t>(body.args.at(0))] = int_value(k_.type_of(body.args[0]), lo);
    for (size_t i = 0; i < inits.size(); ++i) t.values[static_cast<size_t>(body.args.at(i + 1))] = inits[i];
    t.frames.push_back(f);
  }

  void begin_if(Group& g, Task& t, const Op& op) {
    const RtValue& c = in(g, t, op, op.operands.at(0));
    if (c.kind != RtValue::Kind::scalar) fail_in(g, t, op, "the condition is not a scalar");
    const bool taken = c.f != 0.0;
    if (!taken && op.regions.size() < 2) {
      t.frames.back().pc++;
      return;
    }
    t.frames.push_back(Frame{&op.regions[taken ? 0 : 1], 0, &op, 0, 0, 0});
  }

  /// The top frame's region is done, passing `yields` on.
  void finish_region(Group& g, Task& t, std::vector<RtValue> yields) {
    Frame& f = t.frames.back();
    if (!f.owner) {
      t.frames.pop_back();
      return;
    }
    const Op& owner = *f.owner;
    if (owner.opcode == OpId::for_) {
      int64_t next = 0;
      const bool overflow = __builtin_add_overflow(f.induction, f.step, &next);
      if (!overflow && next < f.hi) {
        f.induction = next;
        f.pc = 0;
        const Block& body = *f.block;
        t.values[static_cast<size_t>(body.args[0])] = int_value(k_.type_of(body.args[0]), next);
        for (size_t i = 0; i < yields.size(); ++i) t.values[static_cast<size_t>(body.args.at(i + 1))] = std::move(yields[i]);
        ++summary_.ops_executed;  // the loop back-edge counts as the for op once per iteration
        ++summary_.op_counts[static_cast<size_t>(OpId::for_)];
        return;
      }
    }
    t.frames.pop_back();
    for (size_t i = 0; i < owner.results.size() && i < yields.size(); ++i) out(t, owner.results[i], std::move(yields[i]));
    t.frames.back().pc++;
    (void)g;
  }

  // ---- operand access -------------------------------------------------------------------------------

  const RtValue& in(const Group& g, const Task& t, const Op& op, ValueId v) const {
    const RtValue& r = t.values.at(static_cast<size_t>(v));
    if (r.kind == RtValue::Kind::unset)
      fail_in(g, t, op, "value " + value_name(v) + " is used before it is defined");
    return r;
  }

  void out(Task& t, ValueId v, RtValue r) { t.values[static_cast<size_t>(v)] = std::move(r); }

  int64_t as_int(const Group& g, const Task& t, const Op& op, const RtValue& v, const std::string& what) const {
    if (v.kind == RtValue::Kind::index) return v.i;
    if (v.kind == RtValue::Kind::scalar && !is_float(v.dtype)) return static_cast<int64_t>(v.f);
    fail_in(g, t, op, what + " is not an integer scalar");
  }

  TileValue as_tile(const RtValue& v) const {
    if (v.kind == RtValue::Kind::tile) return *v.tile;
    if (v.kind == RtValue::Kind::scalar) return TileValue::scalar(v.dtype, v.f);
    panic("interpreter: operand is neither a tile nor a scalar");
  }

  /// The value of a tile/scalar result of type `type` from a tile computed for it.
  RtValue from_tile(TileValue t, const Type& type) const {
    if (type.kind == TypeKind::tile) return RtValue::tile_of(std::move(t));
    if (t.size() != 1) panic("interpreter: scalar result from ", t.type_string());
    RtValue r;
    r.kind = RtValue::Kind::scalar;
    r.dtype = t.dtype();
    r.f = t.at(0);
    return r;
  }

  const Shape& tile_shape(const Group& g, const Task& t, const Op& op, ValueId v) {
    if (shape_cache_.size() != k_.values.size()) shape_cache_.assign(k_.values.size(), std::nullopt);
    auto& cached = shape_cache_[static_cast<size_t>(v)];
    if (!cached) cached = eval_shape(g, t, op, k_.type_of(v).shape, "the shape of " + value_name(v));
    return *cached;
  }

  Shape eval_shape(const Group& g, const Task& t, const Op& op, const std::vector<Expr>& exprs, const std::string& what) const {
    Shape s;
    for (const Expr& e : exprs) {
      std::string error;
      auto v = eval_expr(e, symbols_, &error);
      if (!v) fail_in(g, t, op, "cannot evaluate " + what + " (" + expr_to_string(e) + "): " + error);
      s.push_back(*v);
    }
    return s;
  }

  Shape attr_ints(const Group& g, const Task& t, const Op& op, std::string_view name) const {
    const Attr* a = op.attr(name);
    if (!a) fail_in(g, t, op, "missing attribute " + std::string(name));
    return eval_shape(g, t, op, a->exprs, "attribute " + std::string(name));
  }

  void check_after(const Group& g, const Task& t, const Op& op) const {
    for (ValueId v : op.after)
      if (in(g, t, op, v).kind != RtValue::Kind::token)
        fail_in(g, t, op, "after(" + value_name(v) + ") names something that is not a token");
  }

  void set_token_result(Task& t, const Op& op) {
    if (!op.results.empty() && yields_token(op.opcode)) out(t, op.results.back(), RtValue::token());
  }

  // ---- op semantics ---------------------------------------------------------------------------------

  bool execute(Group& g, Task& t, const Op& op) {
    const OpcodeInfo& info = op.info();
    switch (info.cls) {
      case OpClass::dense: exec_dense(g, t, op); return true;
      case OpClass::map: exec_map(g, t, op); return true;
      case OpClass::reduce: exec_reduce(g, t, op); return true;
      case OpClass::transform: exec_transform(g, t, op); return true;
      case OpClass::sync: return exec_sync(g, t, op);
      case OpClass::control: exec_control(g, t, op); return true;
    }
    panic("interpreter: unhandled op class");
  }

  void exec_dense(Group& g, Task& t, const Op& op) {
    if (op.opcode == OpId::mma) {
      const RtValue& a = in(g, t, op, op.operands[0]);
      const RtValue& b = in(g, t, op, op.operands[1]);
      const RtValue& c = in(g, t, op, op.operands[2]);
      if (a.tile->dtype() == DType::f32)
        out(t, op.results[0], RtValue::tile_of(interp::mma_f32_operands(*c.tile, *a.tile, *b.tile, options_.mma)));
      else
        out(t, op.results[0], RtValue::tile_of(mma(*c.tile, *a.tile, *b.tile, options_.mma)));
      return;
    }
    // mma_scaled a, sa, b, sb, c
    const Attr* block_attr = op.attr("block");
    out(t, op.results[0],
        RtValue::tile_of(interp::mma_block_scaled(*in(g, t, op, op.operands[4]).tile, *in(g, t, op, op.operands[0]).tile,
                                                  *in(g, t, op, op.operands[1]).tile, *in(g, t, op, op.operands[2]).tile,
                                                  *in(g, t, op, op.operands[3]).tile, block_attr ? block_attr->i : 0,
                                                  options_.mma)));
  }

  static std::optional<UnaryOp> unary_of(const Op& op) {
    switch (op.opcode) {
      case OpId::neg: return UnaryOp::neg;
      case OpId::abs: return UnaryOp::abs;
      case OpId::relu: return UnaryOp::relu;
      case OpId::recip: return UnaryOp::recip;
      case OpId::exp: return UnaryOp::exp;
      case OpId::exp2: return UnaryOp::exp2;
      case OpId::log: return UnaryOp::log;
      case OpId::log2: return UnaryOp::log2;
      case OpId::sqrt: return UnaryOp::sqrt;
      case OpId::rsqrt: return UnaryOp::rsqrt;
      case OpId::tanh: return UnaryOp::tanh;
      case OpId::sigmoid: return UnaryOp::sigmoid;
      case OpId::silu: return UnaryOp::silu;
      case OpId::gelu: {
        const Attr* approx = op.attr("approx");
        return approx && approx->word == "tanh" ? UnaryOp::gelu_tanh : UnaryOp::gelu_erf;
      }
      default: return std::nullopt;
    }
  }

  static std::optional<BinaryOp> binary_of(OpId id) {
    switch (id) {
      case OpId::add: return BinaryOp::add;
      case OpId::sub: return BinaryOp::sub;
      case OpId::mul: return BinaryOp::mul;
      case OpId::div: return BinaryOp::div;
      case OpId::max: return BinaryOp::max;
      case OpId::min: return BinaryOp::min;
      case OpId::pow: return BinaryOp::pow;
      default: return std::nullopt;
    }
  }

  static std::optional<CompareOp> compare_of(OpId id) {
    switch (id) {
      case OpId::cmp_lt: return CompareOp::lt;
      case OpId::cmp_le: return CompareOp::le;
      case OpId::cmp_gt: return CompareOp::gt;
      case OpId::cmp_ge: return CompareOp::ge;
      case OpId::cmp_eq: return CompareOp::eq;
      case OpId::cmp_ne: return CompareOp::ne;
      default: return std::nullopt;
    }
  }

  void exec_map(Group& g, Task& t, const Op& op) {
    std::vector<const RtValue*> args;
    bool any_index = false;
    for (ValueId v : op.operands) {
      args.push_back(&in(g, t, op, v));
      any_index |= args.back()->kind == RtValue::Kind::index;
    }
    const Type& result_type = k_.type_of(op.results[0]);
    if (op.opcode == OpId::cast && args[0]->kind == RtValue::Kind::index) {
      out(t, op.results[0], RtValue::scalar_of(result_type.dtype, static_cast<double>(args[0]->i)));
      return;
    }
    if (any_index) {
      out(t, op.results[0], exec_index_map(g, t, op, args, result_type));
      return;
    }
    std::vector<TileValue> x;
    x.reserve(args.size());
    for (const RtValue* a : args) x.push_back(as_tile(*a));
    TileValue r(DType::f32, Shape{});
    if (auto u = unary_of(op)) {
      r = unary(*u, x[0]);
    } else if (auto b = binary_of(op.opcode)) {
      r = binary(*b, x[0], x[1]);
    } else if (auto c = compare_of(op.opcode)) {
      r = compare(*c, x[0], x[1]);
    } else if (op.opcode == OpId::fma) {
      r = fma(x[0], x[1], x[2]);
    } else if (op.opcode == OpId::select) {
      r = select(x[0], x[1], x[2]);
    } else if (op.opcode == OpId::cast) {
      r = cast(x[0], op.attr("to")->dtype);
    } else {
      panic("interpreter: unhandled map op ", op.info().name);
    }
    out(t, op.results[0], from_tile(std::move(r), result_type));
  }

  /// Scalar integer arithmetic where an operand is an index (64-bit, overflow-checked).
  RtValue exec_index_map(const Group& g, const Task& t, const Op& op, const std::vector<const RtValue*>& args,
                         const Type& result_type) const {
    auto arg = [&](size_t i) { return as_int(g, t, op, *args[i], "operand " + std::to_string(i)); };
    auto overflow = [&]() -> int64_t { fail_in(g, t, op, "index arithmetic overflows 64 bits"); };
    if (auto c = compare_of(op.opcode)) {
      const int64_t a = arg(0), b = arg(1);
      bool r = false;
      switch (*c) {
        case CompareOp::lt: r = a < b; break;
        case CompareOp::le: r = a <= b; break;
        case CompareOp::gt: r = a > b; break;
        case CompareOp::ge: r = a >= b; break;
        case CompareOp::eq: r = a == b; break;
        case CompareOp::ne: r = a != b; break;
      }
      return RtValue::scalar_of(DType::i1, r ? 1.0 : 0.0);
    }
    int64_t r = 0;
    switch (op.opcode) {
      case OpId::add: if (__builtin_add_overflow(arg(0), arg(1), &r)) overflow(); break;
      case OpId::sub: if (__builtin_sub_overflow(arg(0), arg(1), &r)) overflow(); break;
      case OpId::mul: if (__builtin_mul_overflow(arg(0), arg(1), &r)) overflow(); break;
      case OpId::div: {
        const int64_t a = arg(0), b = arg(1);
        if (b == 0) fail_in(g, t, op, "integer division by zero (" + std::to_string(a) + " / 0)");
        if (a == INT64_MIN && b == -1) overflow();
        r = a / b;
        break;
      }
      case OpId::max: r = std::max(arg(0), arg(1)); break;
      case OpId::min: r = std::min(arg(0), arg(1)); break;
      case OpId::neg: if (__builtin_sub_overflow(int64_t{0}, arg(0), &r)) overflow(); break;
      case OpId::abs: {
        const int64_t a = arg(0);
        if (a == INT64_MIN) overflow();
        r = a < 0 ? -a : a;
        break;
      }
      case OpId::relu: r = std::max<int64_t>(arg(0), 0); break;
      case OpId::select: {
        if (args[0]->kind != RtValue::Kind::scalar) fail_in(g, t, op, "the condition is not a scalar");
        r = args[0]->f != 0.0 ? arg(1) : arg(2);
        break;
      }
      case OpId::fma: {
        int64_t p = 0;
        if (__builtin_mul_overflow(arg(0), arg(1), &p) || __builtin_add_overflow(p, arg(2), &r)) overflow();
        break;
      }
      default: fail_in(g, t, op, "not defined on index scalars");
    }
    return int_value(result_type, r);
  }

  void exec_reduce(Group& g, Task& t, const Op& op) {
    const RtValue& x = in(g, t, op, op.operands[0]);
    const ReduceOp kind = op.opcode == OpId::reduce_sum ? ReduceOp::sum
                          : op.opcode == OpId::reduce_max ? ReduceOp::max
                                                          : ReduceOp::min;
    const Attr* axis = op.attr("axis");
    const Attr* keep = op.attr("keepdims");
    out(t, op.results[0],
        from_tile(reduce(kind, *x.tile, static_cast<int>(axis ? axis->i : 0), keep && keep->b), k_.type_of(op.results[0])));
  }

  void exec_transform(Group& g, Task& t, const Op& op) {
    const Type& result_type = k_.type_of(op.results[0]);
    auto x = [&](size_t i) -> const RtValue& { return in(g, t, op, op.operands.at(i)); };
    auto axis_attr = [&]() {
      const Attr* a = op.attr("axis");
      return static_cast<int>(a ? a->i : 0);
    };
    switch (op.opcode) {
      case OpId::transpose: {
        const TileValue& v = *x(0).tile;
        std::vector<int> perm;
        if (op.attr("perm")) {
          for (int64_t p : attr_ints(g, t, op, "perm")) perm.push_back(static_cast<int>(p));
        } else {
          for (int d = v.rank() - 1; d >= 0; --d) perm.push_back(d);
        }
        out(t, op.results[0], RtValue::tile_of(transpose(v, perm)));
        return;
      }
      case OpId::broadcast:
        out(t, op.results[0], RtValue::tile_of(broadcast_to(as_tile(x(0)), attr_ints(g, t, op, "shape"))));
        return;
      case OpId::reshape:
        out(t, op.results[0], RtValue::tile_of(reshape(*x(0).tile, attr_ints(g, t, op, "shape"))));
        return;
      case OpId::slice:
        out(t, op.results[0],
            RtValue::tile_of(slice(*x(0).tile, attr_ints(g, t, op, "offsets"), attr_ints(g, t, op, "sizes"))));
        return;
      case OpId::subtile: {
        const TileValue& v = *x(0).tile;
        const Shape block = attr_ints(g, t, op, "shape");
        std::vector<int64_t> starts;
        for (size_t d = 0; d < block.size(); ++d) {
          const int64_t i = as_int(g, t, op, x(d + 1), "block coordinate " + std::to_string(d));
          const int64_t blocks = block[d] > 0 ? v.dim(static_cast<int>(d)) / block[d] : 0;
          if (i < 0 || i >= blocks)
            fail_in(g, t, op, "block coordinate " + std::to_string(i) + " is outside 0.." + std::to_string(blocks - 1) +
                                  " in dim " + std::to_string(d) + " of " + v.type_string() + " split into " +
                                  shape_string(block) + " blocks");
          starts.push_back(i * block[d]);
        }
        out(t, op.results[0], RtValue::tile_of(slice(v, starts, block)));
        return;
      }
      case OpId::concat: {
        std::vector<TileValue> parts;
        for (size_t i = 0; i < op.operands.size(); ++i) parts.push_back(*x(i).tile);
        out(t, op.results[0], RtValue::tile_of(concat(parts, axis_attr())));
        return;
      }
      case OpId::gather:
        out(t, op.results[0], RtValue::tile_of(gather(*x(0).tile, *x(1).tile, axis_attr())));
        return;
      case OpId::scatter:
        out(t, op.results[0], RtValue::tile_of(scatter(*x(0).tile, *x(1).tile, *x(2).tile, axis_attr())));
        return;
      case OpId::iota:
        out(t, op.results[0], RtValue::tile_of(iota(result_type.dtype, tile_shape(g, t, op, op.results[0]), axis_attr())));
        return;
      case OpId::full: {
        const Attr* v = op.attr("value");
        out(t, op.results[0],
            RtValue::tile_of(full(result_type.dtype, tile_shape(g, t, op, op.results[0]), v ? v->as_number() : 0.0)));
        return;
      }
      case OpId::zeros:
        out(t, op.results[0], RtValue::tile_of(TileValue(result_type.dtype, tile_shape(g, t, op, op.results[0]))));
        return;
      case OpId::move: out(t, op.results[0], x(0)); return;
      default: panic("interpreter: unhandled transform ", op.info().name);
    }
  }

  // ---- global memory --------------------------------------------------------------------------------

  /// The element box a tile access covers: base[d] = index[d] * tile[d].
  struct Box {
    Shape base;
    bool any_inside = true;
  };

  Box access_box(const Group& g, const Task& t, const Op& op, const TileValue& tensor, const Shape& tile,
                 size_t first_index, ValueId buffer) const {
    Box box;
    if (tile.size() != static_cast<size_t>(tensor.rank()))
      fail_in(g, t, op, "tile rank " + std::to_string(tile.size()) + " does not match " + tensor.type_string());
    for (size_t d = 0; d < tile.size(); ++d) {
      const int64_t i = as_int(g, t, op, in(g, t, op, op.operands.at(first_index + d)), "tile coordinate " + std::to_string(d));
      int64_t base = 0;
      if (mul_overflows(i, tile[d], &base))
        fail_in(g, t, op, "tile coordinate " + std::to_string(i) + " times the tile extent overflows");
      box.base.push_back(base);
      if (base >= tensor.dim(static_cast<int>(d)) || base + tile[d] <= 0) box.any_inside = false;
    }
    if (!box.any_inside && options_.check_bounds) {
      std::string where;
      for (size_t d = 0; d < tile.size(); ++d)
        where += (d ? ", " : "") + std::to_string(box.base[d]) + ".." + std::to_string(box.base[d] + tile[d] - 1);
      fail_in(g, t, op, "the " + shape_string(tile) + " tile at elements [" + where + "] lies entirely outside " +
                            value_name(buffer) + " (" + tensor.type_string() + ")");
    }
    return box;
  }

  /// Calls fn(tile_position, tensor_position) for every element of the box inside the tensor.
  template <class Fn>
  static void for_each_inside(const TileValue& tensor, const Shape& tile, const Box& box, Fn fn) {
    if (!box.any_inside) return;
    const int rank = static_cast<int>(tile.size());
    const Shape tstrides = row_major_strides(tile);
    const Shape gstrides = row_major_strides(tensor.shape());
    // Inner dim: the contiguous in-bounds range.
    const int last = rank - 1;
    const int64_t lo = std::max<int64_t>(0, -box.base[static_cast<size_t>(last)]);
    const int64_t hi = std::min<int64_t>(tile[static_cast<size_t>(last)], tensor.dim(last) - box.base[static_cast<size_t>(last)]);
    if (lo >= hi) return;
    Index outer(static_cast<size_t>(std::max(0, last)), 0);
    while (true) {
      bool inside = true;
      int64_t tpos = 0, gpos = 0;
      for (int d = 0; d < last; ++d) {
        const int64_t gi = box.base[static_cast<size_t>(d)] + outer[static_cast<size_t>(d)];
        if (gi < 0 || gi >= tensor.dim(d)) inside = false;
        tpos += outer[static_cast<size_t>(d)] * tstrides[static_cast<size_t>(d)];
        gpos += gi * gstrides[static_cast<size_t>(d)];
      }
      if (inside) {
        const int64_t g0 = gpos + box.base[static_cast<size_t>(last)];
        for (int64_t j = lo; j < hi; ++j) fn(tpos + j, g0 + j);
      }
      int d = last - 1;
      for (; d >= 0; --d) {
        if (++outer[static_cast<size_t>(d)] < tile[static_cast<size_t>(d)]) break;
        outer[static_cast<size_t>(d)] = 0;
      }
      if (d < 0) break;
    }
  }

  TileValue read_tile(const Group& g, const Task& t, const Op& op, size_t buffer_operand, ValueId result) {
    const RtValue& buf = in(g, t, op, op.operands[buffer_operand]);
    const TileValue& tensor = *buf.global;
    const Shape& tile = tile_shape(g, t, op, result);
    const Box box = access_box(g, t, op, tensor, tile, buffer_operand + 1, op.operands[buffer_operand]);
    std::vector<double> values(static_cast<size_t>(element_count(tile)), 0.0);
    const std::vector<double>& src = tensor.values();
    for_each_inside(tensor, tile, box, [&](int64_t ti, int64_t gi) { values[static_cast<size_t>(ti)] = src[static_cast<size_t>(gi)]; });
    return TileValue(tensor.dtype(), tile, values, Overflow::ieee);
  }

  void write_tile(const Group& g, const Task& t, const Op& op, bool accumulate) {
    const TileValue& x = *in(g, t, op, op.operands[0]).tile;
    const RtValue& buf = in(g, t, op, op.operands[1]);
    TileValue& tensor = *buf.global;
    const Box box = access_box(g, t, op, tensor, x.shape(), 2, op.operands[1]);
    const DType d = tensor.dtype();
    const std::vector<double>& dst = tensor.values();
    for_each_inside(tensor, x.shape(), box, [&](int64_t ti, int64_t gi) {
      const double v = x.values()[static_cast<size_t>(ti)];
      if (!accumulate) {
        tensor.set(gi, v, Overflow::ieee);
      } else if (d == DType::i32) {
        const auto sum = static_cast<int64_t>(dst[static_cast<size_t>(gi)]) + static_cast<int64_t>(v);
        tensor.set(gi, static_cast<double>(static_cast<int32_t>(static_cast<uint32_t>(sum))));  // wraps
      } else {
        tensor.set(gi, add_in(d, dst[static_cast<size_t>(gi)], v));
      }
    });
  }

  // ---- sync / communicate ---------------------------------------------------------------------------

  int consumer_slot(const Group& g, const Task& t, const Op& op, int channel) const {
    const auto& slots = consumers_[static_cast<size_t>(channel)];
    for (size_t s = 0; s < slots.size(); ++s)
      if (slots[s].role == t.role && slots[s].instance == t.instance) return static_cast<int>(s);
    fail_in(g, t, op, "this role does not get from the channel, so it cannot take or release its items");
  }

  std::string channel_status(const ChannelState& ch, int channel) const {
    std::string s = std::to_string(ch.produced) + " put, " + std::to_string(ch.produced - ch.first) + " of " +
                    std::to_string(ch.stages) + " stages in use";
    const auto& slots = consumers_[static_cast<size_t>(channel)];
    for (size_t i = 0; i < slots.size(); ++i)
      s += "; " + k_.roles[static_cast<size_t>(slots[i].role)].name + " instance " + std::to_string(slots[i].instance) +
           " got " + std::to_string(ch.next_get[i]) + ", released " + std::to_string(ch.next_release[i]);
    return s;
  }

  bool block(Task& t, std::string why) {
    t.blocked_why = std::move(why);
    return false;
  }

  BarrierState& barrier_for(Group& g, const Task& t, const Op& op) {
    const Attr* scope = op.attr("scope");
    const std::string s = scope ? scope->word : "program";
    ProgramState& ps = g.programs[static_cast<size_t>(t.program)];
    if (s == "cluster") return g.cluster_barriers[ps.cluster_id];
    if (s == "device") return g.device_barrier;
    return ps.barrier;
  }

  bool exec_sync(Group& g, Task& t, const Op& op) {
    switch (op.opcode) {
      case OpId::load:
      case OpId::copy_async:
        out(t, op.results[0], RtValue::tile_of(read_tile(g, t, op, 0, op.results[0])));
        set_token_result(t, op);
        return true;
      case OpId::store:
      case OpId::atomic_add:
        write_tile(g, t, op, op.opcode == OpId::atomic_add);
        set_token_result(t, op);
        return true;
      case OpId::wait:
        for (ValueId v : op.operands)
          if (in(g, t, op, v).kind != RtValue::Kind::token) fail_in(g, t, op, value_name(v) + " is not a token");
        set_token_result(t, op);
        return true;
      case OpId::fence:  // memory is coherent in program order: nothing to make visible
        set_token_result(t, op);
        return true;
      case OpId::barrier: {
        BarrierState& b = barrier_for(g, t, op);
        if (t.barrier_generation < 0) {
          if (++b.arrived == b.participants) {
            b.arrived = 0;
            ++b.generation;
            set_token_result(t, op);
            return true;
          }
          t.barrier_generation = b.generation;
        } else if (b.generation != t.barrier_generation) {
          t.barrier_generation = -1;
          set_token_result(t, op);
          return true;
        }
        return block(t, "waiting at the barrier: " + std::to_string(b.arrived) + " of " +
                            std::to_string(b.participants) + " tasks arrived");
      }
      case OpId::put: {
        const int c = static_cast<int>(in(g, t, op, op.operands[0]).i);
        ChannelState& ch = g.programs[static_cast<size_t>(t.program)].channels[static_cast<size_t>(c)];
        if (ch.produced - ch.first >= ch.stages)
          return block(t, "channel " + value_name(op.operands[0]) + " is full (" + channel_status(ch, c) + ")");
        ch.items.push_back(in(g, t, op, op.operands[1]).tile);
        ++ch.produced;
        set_token_result(t, op);
        return true;
      }
      case OpId::get: {
        const int c = static_cast<int>(in(g, t, op, op.operands[0]).i);
        ChannelState& ch = g.programs[static_cast<size_t>(t.program)].channels[static_cast<size_t>(c)];
        const int slot = consumer_slot(g, t, op, c);
        int64_t& next = ch.next_get[static_cast<size_t>(slot)];
        if (next >= ch.produced)
          return block(t, "channel " + value_name(op.operands[0]) + " has no new item (" + channel_status(ch, c) + ")");
        RtValue v;
        v.kind = RtValue::Kind::tile;
        v.tile = ch.items.at(static_cast<size_t>(next - ch.first));
        ++next;
        out(t, op.results[0], std::move(v));
        set_token_result(t, op);
        return true;
      }
      case OpId::release: {
        const int c = static_cast<int>(in(g, t, op, op.operands[0]).i);
        ChannelState& ch = g.programs[static_cast<size_t>(t.program)].channels[static_cast<size_t>(c)];
        const int slot = consumer_slot(g, t, op, c);
        int64_t& rel = ch.next_release[static_cast<size_t>(slot)];
        if (rel >= ch.next_get[static_cast<size_t>(slot)])
          fail_in(g, t, op, "release of " + value_name(op.operands[0]) + " without an item taken by get and not yet released");
        ++rel;
        int64_t all_released = ch.produced;
        for (int64_t r : ch.next_release) all_released = std::min(all_released, r);
        while (ch.first < all_released) {
          ch.items.pop_front();
          ++ch.first;
        }
        set_token_result(t, op);
        return true;
      }
      case OpId::cluster_load: return exec_cluster_load(g, t, op);
      default: panic("interpreter: unhandled sync op ", op.info().name);
    }
  }

  bool exec_cluster_load(Group& g, Task& t, const Op& op) {
    const ValueId x = op.operands[0];
    const int64_t rank = as_int(g, t, op, in(g, t, op, op.operands[1]), "the rank");
    const int64_t size = cluster_[0] * cluster_[1] * cluster_[2];
    if (rank < 0 || rank >= size)
      fail_in(g, t, op, "cluster rank " + std::to_string(rank) + " is outside 0.." + std::to_string(size - 1));
    const ProgramState& me = g.programs[static_cast<size_t>(t.program)];
    const Task* peer = nullptr;
    for (const Task& other : g.tasks) {
      const ProgramState& ps = g.programs[static_cast<size_t>(other.program)];
      if (ps.cluster_id == me.cluster_id && ps.cluster_rank == rank && other.role == t.role &&
          other.instance == t.instance)
        peer = &other;
    }
    if (!peer) panic("interpreter: no task at cluster rank ", rank);
    const RtValue& v = peer->values[static_cast<size_t>(x)];
    if (v.kind == RtValue::Kind::unset) {
      if (peer->done)
        fail_in(g, t, op, "the program at cluster rank " + std::to_string(rank) + " finished without defining " + value_name(x));
      return block(t, "waiting for the program at cluster rank " + std::to_string(rank) + " to define " + value_name(x));
    }
    out(t, op.results[0], v);
    set_token_result(t, op);
    return true;
  }

  // ---- control --------------------------------------------------------------------------------------

  void exec_control(Group& g, Task& t, const Op& op) {
    const ProgramState& ps = g.programs[static_cast<size_t>(t.program)];
    const Type& result_type = k_.type_of(op.results.at(0));
    auto axis = [&]() {
      const Attr* a = op.attr("axis");
      return static_cast<size_t>(a ? a->i : 0);
    };
    switch (op.opcode) {
      case OpId::program_id: out(t, op.results[0], RtValue::index_of(ps.coord.at(axis()))); return;
      case OpId::num_programs: out(t, op.results[0], RtValue::index_of(grid_.at(axis()))); return;
      case OpId::cluster_rank: out(t, op.results[0], RtValue::index_of(ps.cluster_rank)); return;
      case OpId::role_instance: out(t, op.results[0], RtValue::index_of(t.instance)); return;
      case OpId::constant: {
        const Attr* v = op.attr("value");
        if (result_type.kind == TypeKind::index) {
          if (!v || v->kind != Attr::Kind::integer) fail_in(g, t, op, "an index constant needs an integer value");
          out(t, op.results[0], RtValue::index_of(v->i));
        } else {
          out(t, op.results[0], RtValue::scalar_of(result_type.dtype, v ? v->as_number() : 0.0));
        }
        return;
      }
      case OpId::rem:
      case OpId::cdiv: {
        const int64_t a = as_int(g, t, op, in(g, t, op, op.operands[0]), "the first operand");
        const int64_t b = as_int(g, t, op, in(g, t, op, op.operands[1]), "the second operand");
        int64_t r = 0;
        if (op.opcode == OpId::rem) {
          if (b == 0) fail_in(g, t, op, "remainder by zero (" + std::to_string(a) + " rem 0)");
          r = (a == INT64_MIN && b == -1) ? 0 : a % b;
        } else {
          if (a < 0 || b <= 0)
            fail_in(g, t, op, "cdiv needs a >= 0 and b > 0, got cdiv(" + std::to_string(a) + ", " + std::to_string(b) + ")");
          r = a / b + (a % b != 0 ? 1 : 0);
        }
        out(t, op.results[0], int_value(result_type, r));
        return;
      }
      default: panic("interpreter: unhandled control op ", op.info().name);
    }
  }

  const Kernel& k_;
  Buffers& buffers_;
  const InterpreterOptions& options_;
  std::string source_name_;
  SymbolValues symbols_;
  std::vector<RtValue> initial_values_;
  std::map<ValueId, int> channel_of_value_;
  std::vector<std::vector<ConsumerSlot>> consumers_;  // per channel
  bool has_device_barrier_ = false;
  std::array<int64_t, 3> grid_{1, 1, 1};
  int grid_rank_ = 1;
  std::array<int64_t, 3> cluster_{1, 1, 1};
  std::vector<std::vector<int64_t>> groups_;
  std::vector<std::optional<Shape>> shape_cache_;
  RunSummary summary_;
};

}  // namespace

RunSummary run_kernel(const Kernel& kernel, Buffers& buffers, const SymbolValues& scalars,
                      const InterpreterOptions& options) {
  Interpreter interpreter(kernel, buffers, scalars, options);
  return interpreter.run();
}

RunSummary run_kernel(const Module& module, const std::string& kernel_name, Buffers& buffers,
                      const SymbolValues& scalars, const InterpreterOptions& options) {
  const Kernel* kernel = module.find_kernel(kernel_name);
  if (!kernel) {
    std::string names;
    for (const Kernel& k : module.kernels) names += (names.empty() ? "@" : ", @") + k.name;
    throw InputError(module.source_name + ":1:1: error: no kernel @" + kernel_name + " in the module (kernels: " +
                     (names.empty() ? std::string("none") : names) + ")");
  }
  InterpreterOptions with_source = options;
  with_source.source_name = module.source_name;
  with_source.source_text = module.source_text;
  return run_kernel(*kernel, buffers, scalars, with_source);
}

Shape param_shape(const Kernel& kernel, const std::string& param_name, const SymbolValues& scalars) {
  for (const Param& p : kernel.params) {
    const ValueInfo& v = kernel.value(p.value);
    if (v.name != param_name) continue;
    if (v.type.kind != TypeKind::global)
      throw InputError(cat("<kernel @", kernel.name, ">:", p.loc.line, ":", p.loc.col, ": error: parameter ",
                           param_name, " is not a tensor"));
    Shape shape;
    for (const Expr& e : v.type.shape) {
      std::string error;
      auto d = eval_expr(e, scalars, &error);
      if (!d || *d < 0)
        throw InputError(cat("<kernel @", kernel.name, ">:", p.loc.line, ":", p.loc.col, ": error: cannot size %",
                             param_name, ": dim ", expr_to_string(e), d ? " is negative" : ": " + error));
      shape.push_back(*d);
    }
    return shape;
  }
  throw InputError(cat("<kernel @", kernel.name, ">:", kernel.loc.line, ":", kernel.loc.col,
                       ": error: kernel @", kernel.name, " has no parameter %", param_name));
}

Buffers zero_buffers(const Kernel& kernel, const SymbolValues& scalars) {
  Buffers b;
  for (const Param& p : kernel.params) {
    const ValueInfo& v = kernel.value(p.value);
    if (v.type.kind == TypeKind::global) b.tensors.emplace(v.name, TileValue(v.type.dtype, param_shape(kernel, v.name, scalars)));
  }
  return b;
}

}  // namespace tilesim::isa

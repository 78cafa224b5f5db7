// Whole-kernel verification: structure/types, tokens, roles/channels, resources.
#include "isa/verifier.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "sim/error.hpp"

namespace tilesim::isa {

size_t VerifyReport::error_count() const {
  return static_cast<size_t>(std::count_if(diagnostics.begin(), diagnostics.end(),
                                           [](const Diagnostic& d) { return d.severity == Severity::error; }));
}

size_t VerifyReport::warning_count() const { return diagnostics.size() - error_count(); }

std::string VerifyReport::format(const Module& module) const {
  std::string out;
  for (const Diagnostic& d : diagnostics) {
    if (!out.empty()) out += '\n';
    out += format_diagnostic(module.source_name, module.source_text, d);
  }
  return out;
}

std::optional<int64_t> ScratchUsage::total_bytes() const {
  int64_t total = 0;
  for (const ScratchItem& item : items) {
    if (!item.bytes_each) return std::nullopt;
    int64_t b = 0;
    if (__builtin_mul_overflow(*item.bytes_each, item.copies, &b) || __builtin_add_overflow(total, b, &total))
      return std::nullopt;
  }
  return total;
}

ScratchUsage scratch_usage(const Kernel& k) {
  ScratchUsage usage;
  for (const Channel& c : k.channels) {
    Type tile = k.type_of(c.value);
    if (tile.space != MemSpace::scratch) continue;
    tile.kind = TypeKind::tile;
    usage.items.push_back({"channel %" + k.value(c.value).name, c.loc, type_bytes(tile), c.stages});
  }
  // Tiles put into a channel are written straight into its stage.
  std::set<ValueId> put_payloads;
  std::function<void(const Block&)> find_puts = [&](const Block& b) {
    for (const Op& op : b.ops) {
      if (op.opcode == OpId::put && op.operands.size() == 2) put_payloads.insert(op.operands[1]);
      for (const Block& r : op.regions) find_puts(r);
    }
  };
  find_puts(k.body);
  for (const Role& r : k.roles) find_puts(r.body);
  std::function<void(const Block&, int64_t)> walk = [&](const Block& b, int64_t copies) {
    for (const Op& op : b.ops) {
      if (op.opcode == OpId::for_) {
        int64_t stages = 1;
        if (const Attr* s = op.attr("stages"); s && s->kind == Attr::Kind::integer && s->i > 0) stages = s->i;
        int64_t inner = copies;
        if (__builtin_mul_overflow(copies, stages, &inner)) inner = INT64_MAX;
        for (const Block& r : op.regions) walk(r, inner);
        continue;
      }
      if (op.opcode == OpId::if_) {
        for (const Block& r : op.regions) walk(r, copies);
        continue;
      }
      // get: a channel stage (counted with the channel); subtile: a view of another tile
      if (op.opcode == OpId::get || op.opcode == OpId::subtile) continue;
      for (ValueId v : op.results) {
        if (put_payloads.count(v)) continue;  // lives in the channel stage it is put into
        if (v < 0 || static_cast<size_t>(v) >= k.values.size()) continue;
        const Type& t = k.type_of(v);
        if (t.kind == TypeKind::tile && t.space == MemSpace::scratch)
          usage.items.push_back({"%" + k.value(v).name, op.loc, type_bytes(t), copies});
      }
    }
  };
  walk(k.body, 1);
  for (const Role& r : k.roles) walk(r.body, r.count);
  return usage;
}

namespace {

std::string loc_text(SourceLoc l) { return std::to_string(l.line) + ":" + std::to_string(l.col); }

class KernelVerifier {
 public:
  explicit KernelVerifier(const Kernel& k) : k_(k), defined_(k.values.size(), 0), visible_(k.values.size(), 0) {}

  std::vector<Diagnostic> run() {
    check_header();
    for (const Param& p : k_.params) define(p.value, p.loc);
    for (const Channel& c : k_.channels) define(c.value, c.loc);
    if (!k_.roles.empty() && !k_.body.ops.empty())
      error(k_.body.ops.front().loc, "kernel @" + k_.name + " has roles, so every op must be inside a role");
    structure_block(k_.body, Region::none);
    for (const Role& r : k_.roles) structure_block(r.body, Region::none);
    if (structure_ok_) {
      // The semantic checks assume well-formed IR; skipping them after structural errors avoids cascades.
      check_tokens();
      check_roles_and_channels();
      check_resources();
    }
    return std::move(diags_);
  }

 private:
  enum class Region { none, for_body, if_branch };

  void error(SourceLoc loc, std::string msg, std::string hint = "") {
    diags_.push_back({Severity::error, loc, std::move(msg), std::move(hint)});
  }
  void warning(SourceLoc loc, std::string msg, std::string hint = "") {
    diags_.push_back({Severity::warning, loc, std::move(msg), std::move(hint)});
  }
  void structural(SourceLoc loc, std::string msg, std::string hint = "") {
    structure_ok_ = false;
    error(loc, std::move(msg), std::move(hint));
  }

  bool valid(ValueId v) const { return v >= 0 && static_cast<size_t>(v) < k_.values.size(); }

  std::string name(ValueId v) const {
    if (!valid(v)) return "<invalid value " + std::to_string(v) + ">";
    const ValueInfo& info = k_.value(v);
    if (info.name.empty()) return "%<unnamed " + std::to_string(v) + ">";
    return (info.def == ValueDef::param && info.type.is_scalar_like() ? "" : "%") + info.name;
  }

  // ---- header and expressions ----
  void check_expr(const Expr& e, SourceLoc loc, const std::string& what) {
    if (e.kind == Expr::Kind::symbol) {
      if (!k_.is_symbol(e.symbol))
        structural(loc, what + " uses '" + e.symbol + "', which is not an integer scalar parameter of @" + k_.name);
      return;
    }
    if ((e.kind == Expr::Kind::neg && e.args.size() != 1) ||
        (e.kind != Expr::Kind::constant && e.kind != Expr::Kind::neg && e.args.size() != 2)) {
      structural(loc, what + " has a malformed expression");
      return;
    }
    for (const Expr& a : e.args) check_expr(a, loc, what);
  }

  void check_shape(const std::vector<Expr>& shape, SourceLoc loc, const std::string& what) {
    if (shape.empty() || static_cast<int>(shape.size()) > 4)
      structural(loc, what + " must have rank 1..4, has rank " + std::to_string(shape.size()));
    for (const Expr& d : shape) {
      check_expr(d, loc, what);
      if (auto v = const_value(d); v && *v <= 0)
        structural(loc, what + " has a non-positive dim " + std::to_string(*v));
    }
  }

  void check_type(const Type& t, SourceLoc loc, const std::string& what) {
    if (t.kind == TypeKind::tile || t.kind == TypeKind::global || t.kind == TypeKind::channel)
      check_shape(t.shape, loc, what);
    if (t.kind == TypeKind::tile && t.space == MemSpace::global)
      structural(loc, what + " is a tile in @global; tiles live in @reg, @scratch or @acc");
    if (t.kind == TypeKind::none) structural(loc, what + " has no type");
  }

  void check_header() {
    if (k_.grid.size() > 3) structural(k_.loc, "grid has at most 3 dims, got " + std::to_string(k_.grid.size()));
    if (k_.cluster.size() > 3) structural(k_.loc, "cluster has at most 3 dims, got " + std::to_string(k_.cluster.size()));
    for (const Expr& e : k_.grid) {
      check_expr(e, k_.loc, "grid");
      if (auto v = const_value(e); v && *v <= 0) error(k_.loc, "grid dims must be positive, got " + std::to_string(*v));
    }
    for (const Expr& e : k_.cluster) {
      check_expr(e, k_.loc, "cluster");
      if (auto v = const_value(e); v && *v <= 0) error(k_.loc, "cluster dims must be positive, got " + std::to_string(*v));
    }
    if (k_.resources.scratch_bytes) check_expr(*k_.resources.scratch_bytes, k_.loc, "resources(scratch=...)");
    if (k_.resources.warps && *k_.resources.warps <= 0) error(k_.loc, "resources(warps=...) must be positive");
    if (k_.resources.registers && *k_.resources.registers <= 0) error(k_.loc, "resources(registers=...) must be positive");
    for (const Param& p : k_.params) {
      if (!valid(p.value)) {
        structural(p.loc, "parameter refers to an invalid value");
        continue;
      }
      const ValueInfo& v = k_.value(p.value);
      if (v.def != ValueDef::param) structural(p.loc, "parameter " + name(p.value) + " is not marked as a parameter");
      if (v.type.kind != TypeKind::global && !v.type.is_scalar_like())
        structural(p.loc, "parameter " + name(p.value) + " must be a global tensor or a scalar, got " + type_to_string(v.type));
      check_type(v.type, p.loc, "parameter " + name(p.value));
    }
    for (const Channel& c : k_.channels) {
      if (!valid(c.value) || k_.type_of(c.value).kind != TypeKind::channel) {
        structural(c.loc, "channel declaration refers to a value that is not a channel");
        continue;
      }
      check_type(k_.type_of(c.value), c.loc, "channel " + name(c.value));
      if (c.stages < 1) error(c.loc, "channel " + name(c.value) + " needs at least 1 stage");
    }
    std::set<std::string> role_names;
    for (const Role& r : k_.roles) {
      if (!role_names.insert(r.name).second) error(r.loc, "role '" + r.name + "' is declared twice");
      if (r.count < 1) error(r.loc, "role '" + r.name + "' count must be >= 1");
      for (const NamedAttr& h : r.hints) {
        if (h.name != "warps" && h.name != "registers") error(r.loc, "unknown role hint '" + h.name + "'");
        else if (h.value.kind != Attr::Kind::integer || h.value.i <= 0)
          error(r.loc, "role hint '" + h.name + "' must be a positive integer");
      }
    }
  }

  // ---- structure ----
  void define(ValueId v, SourceLoc loc) {
    if (!valid(v)) {
      structural(loc, "definition of an invalid value id " + std::to_string(v));
      return;
    }
    if (defined_[static_cast<size_t>(v)]) {
      structural(loc, name(v) + " is defined twice (also at " + loc_text(k_.value(v).loc) + ")");
      return;
    }
    defined_[static_cast<size_t>(v)] = 1;
    visible_[static_cast<size_t>(v)] = 1;
  }

  bool use(ValueId v, SourceLoc loc) {
    if (!valid(v)) {
      structural(loc, "use of an invalid value id " + std::to_string(v));
      return false;
    }
    if (!visible_[static_cast<size_t>(v)]) {
      if (!defined_[static_cast<size_t>(v)])
        structural(loc, name(v) + " is used before it is defined");
      else
        structural(loc, name(v) + " (defined at " + loc_text(k_.value(v).loc) + ") is not visible here",
                   "values leave a region only through yield, and a role only through channels");
      return false;
    }
    return true;
  }

  void hide(const std::vector<ValueId>& ids) {
    for (ValueId v : ids)
      if (valid(v)) visible_[static_cast<size_t>(v)] = 0;
  }

  void structure_block(const Block& b, Region region) {
    std::vector<ValueId> local;
    for (size_t i = 0; i < b.ops.size(); ++i) {
      const Op& op = b.ops[i];
      if (static_cast<size_t>(op.opcode) >= static_cast<size_t>(kOpcodeCount)) {
        structural(op.loc, "invalid opcode id " + std::to_string(static_cast<int>(op.opcode)));
        continue;
      }
      bool uses_ok = true;
      for (ValueId v : op.operands) uses_ok &= use(v, op.loc);
      for (ValueId v : op.after) uses_ok &= use(v, op.loc);
      if (op.opcode == OpId::yield) {
        if (region == Region::none) structural(op.loc, "'yield' outside a for/if region");
        else if (i + 1 != b.ops.size()) structural(op.loc, "'yield' must be the last op of its region");
      }
      if (uses_ok) {
        if (op.opcode == OpId::for_) structure_for(op);
        else if (op.opcode == OpId::if_) structure_if(op);
        else structure_generic(op);
      }
      for (ValueId v : op.results) {
        define(v, op.loc);
        local.push_back(v);
        if (valid(v)) def_op_[v] = &op;
      }
    }
    hide(local);
  }

  void structure_generic(const Op& op) {
    const OpcodeInfo& info = op.info();
    if (!op.regions.empty()) structural(op.loc, "'" + std::string(info.name) + "' has no regions");
    if (!op.after.empty() && info.token == TokenPolicy::none)
      structural(op.loc, "'" + std::string(info.name) + "' does not take after(...)");
    for (ValueId t : op.after)
      if (k_.type_of(t).kind != TypeKind::token)
        structural(op.loc, "after(...) takes tokens; " + name(t) + " is " + type_to_string(k_.type_of(t)));
    for (const NamedAttr& a : op.attrs)
      if (a.value.kind == Attr::Kind::exprs)
        for (const Expr& e : a.value.exprs) check_expr(e, op.loc, "attribute '" + a.name + "'");
    if (op.opcode == OpId::yield) return;  // checked by the enclosing for/if
    std::vector<Type> operand_types;
    for (ValueId v : op.operands) operand_types.push_back(k_.type_of(v));
    const bool written_rule = info.rule == TypeRule::explicit_type || info.rule == TypeRule::load ||
                              info.rule == TypeRule::copy_async;
    std::optional<Type> written;
    if (written_rule && !op.results.empty() && valid(op.results[0])) {
      written = k_.type_of(op.results[0]);
      check_type(*written, op.loc, "the result of '" + std::string(info.name) + "'");
    }
    InferResult r = infer_result_types(op.opcode, operand_types, op.attrs, written);
    if (!r.ok()) {
      structural(op.loc, r.error, r.hint);
      return;
    }
    if (r.types.size() != op.results.size()) {
      structural(op.loc, "'" + std::string(info.name) + "' must have " + std::to_string(r.types.size()) +
                             " result(s), has " + std::to_string(op.results.size()));
      return;
    }
    for (size_t i = 0; i < r.types.size(); ++i) {
      if (!valid(op.results[i])) continue;
      const Type& have = k_.type_of(op.results[i]);
      if (have != r.types[i])
        structural(op.loc, "result " + name(op.results[i]) + " of '" + std::string(info.name) + "' has type " +
                               type_to_string(have) + " but the op produces " + type_to_string(r.types[i]));
    }
  }

  const Op* final_yield(const Block& b) const {
    return !b.ops.empty() && b.ops.back().opcode == OpId::yield ? &b.ops.back() : nullptr;
  }

  void check_yield(const Block& region, const std::vector<Type>& types, SourceLoc loc, const std::string& what) {
    const Op* y = final_yield(region);
    const size_t n = y ? y->operands.size() : 0;
    if (n != types.size()) {
      structural(y ? y->loc : loc, what + " yields " + std::to_string(n) + " value(s) but " +
                                       std::to_string(types.size()) + " are expected");
      return;
    }
    for (size_t i = 0; i < n; ++i)
      if (valid(y->operands[i]) && k_.type_of(y->operands[i]) != types[i])
        structural(y->loc, "yield value " + name(y->operands[i]) + " is " + type_to_string(k_.type_of(y->operands[i])) +
                               " but " + type_to_string(types[i]) + " is expected");
  }

  void structure_for(const Op& op) {
    if (op.operands.size() < 3 || op.regions.size() != 1) {
      structural(op.loc, "'for' needs lo, hi, step and exactly one body region");
      return;
    }
    for (size_t i = 0; i < 3; ++i)
      if (!k_.type_of(op.operands[i]).is_int_scalar())
        structural(op.loc, "for bounds must be integer scalars, " + name(op.operands[i]) + " is " +
                               type_to_string(k_.type_of(op.operands[i])));
    if (std::string e = check_attrs(OpId::for_, op.attrs); !e.empty()) structural(op.loc, e);
    if (const Attr* s = op.attr("stages"); s && s->kind == Attr::Kind::integer && s->i < 1)
      structural(op.loc, "stages must be >= 1");
    const Block& body = op.regions[0];
    const size_t n_iter = op.operands.size() - 3;
    if (body.args.size() != 1 + n_iter) {
      structural(op.loc, "for body must have 1 + " + std::to_string(n_iter) + " arguments, has " +
                             std::to_string(body.args.size()));
      return;
    }
    std::vector<Type> iter_types;
    for (size_t i = 0; i < n_iter; ++i) iter_types.push_back(k_.type_of(op.operands[3 + i]));
    for (ValueId a : body.args) define(a, op.loc);
    if (valid(body.args[0]) && !k_.type_of(body.args[0]).is_int_scalar())
      structural(op.loc, "the induction variable must be an integer scalar");
    for (size_t i = 0; i < n_iter; ++i)
      if (valid(body.args[1 + i]) && k_.type_of(body.args[1 + i]) != iter_types[i])
        structural(op.loc, "iter argument " + name(body.args[1 + i]) + " must have its initial value's type " +
                               type_to_string(iter_types[i]));
    structure_block(body, Region::for_body);
    hide(body.args);
    check_yield(body, iter_types, op.loc, "the loop body");
    if (op.results.size() != n_iter) {
      structural(op.loc, "'for' carries " + std::to_string(n_iter) + " value(s) but has " +
                             std::to_string(op.results.size()) + " result(s)");
      return;
    }
    for (size_t i = 0; i < n_iter; ++i)
      if (valid(op.results[i]) && k_.type_of(op.results[i]) != iter_types[i])
        structural(op.loc, "for result " + name(op.results[i]) + " must have type " + type_to_string(iter_types[i]));
  }

  void structure_if(const Op& op) {
    if (op.operands.size() != 1 || op.regions.empty() || op.regions.size() > 2) {
      structural(op.loc, "'if' needs one condition and one or two regions");
      return;
    }
    const Type& c = k_.type_of(op.operands[0]);
    if (!(c.kind == TypeKind::scalar && c.dtype == DType::i1))
      structural(op.loc, "the if condition must be an i1 scalar, got " + type_to_string(c));
    for (const Block& r : op.regions) {
      if (!r.args.empty()) structural(op.loc, "if branches take no arguments");
      structure_block(r, Region::if_branch);
    }
    std::vector<Type> types;
    for (ValueId v : op.results)
      if (valid(v)) types.push_back(k_.type_of(v));
    if (types.size() != op.results.size()) return;
    if (!types.empty() && op.regions.size() < 2) structural(op.loc, "an if with results needs an else-branch");
    for (size_t i = 0; i < op.regions.size(); ++i)
      check_yield(op.regions[i], types, op.loc, i == 0 ? "the then-branch" : "the else-branch");
  }

  // ---- tokens ----
  struct LoopCarry {
    std::map<size_t, size_t> tile_to_token;  // iter position of a copy_async tile -> of its token
  };

  void close_over(ValueId token, std::set<ValueId>& into) const {
    std::vector<ValueId> work{token};
    while (!work.empty()) {
      const ValueId t = work.back();
      work.pop_back();
      if (!into.insert(t).second) continue;
      auto it = implies_.find(t);
      if (it != implies_.end()) work.insert(work.end(), it->second.begin(), it->second.end());
    }
  }

  /// Whether `tile` (a pending async result) is ordered for `op`: its token was waited on (directly or
  /// transitively), or the op is a memory op that lists the token in after(...).
  bool ordered(ValueId tile, const Op& op, const std::set<ValueId>& waited) const {
    const ValueId token = pending_.at(tile);
    if (waited.count(token)) return true;
    std::set<ValueId> after;
    for (ValueId t : op.after) close_over(t, after);
    return after.count(token) > 0;
  }

  void report_unordered(const Op& op, ValueId tile) {
    const ValueId token = pending_.at(tile);
    error(op.loc, "'" + std::string(op.info().name) + "' reads " + name(tile) + " before its copy_async token " +
                      name(token) + " is waited on",
          "add `wait " + name(token) + "` before this op" +
              (op.info().token != TokenPolicy::none ? ", or after(" + name(token) + ")" : ""));
  }

  void tokens_block(const Block& b, std::set<ValueId> waited, const LoopCarry* carry) {
    for (const Op& op : b.ops) {
      for (ValueId v : op.operands)
        if (k_.type_of(v).kind == TypeKind::token) consumed_.insert(v);
      for (ValueId v : op.after) consumed_.insert(v);
      if (op.opcode == OpId::yield) {
        tokens_yield(op, waited, carry);
        continue;
      }
      if (op.opcode == OpId::for_) {
        tokens_for(op, waited);
        continue;
      }
      if (op.opcode == OpId::if_) {
        for (ValueId v : op.operands)
          if (pending_.count(v) && !ordered(v, op, waited)) report_unordered(op, v);
        for (const Block& r : op.regions) tokens_block(r, waited, nullptr);
        continue;
      }
      if (op.opcode == OpId::subtile && !op.operands.empty() && pending_.count(op.operands[0]) &&
          !ordered(op.operands[0], op, waited) && !op.results.empty()) {
        // a view reads nothing: it inherits the guard of the tile it views
        pending_[op.results[0]] = pending_.at(op.operands[0]);
        continue;
      }
      for (ValueId v : op.operands)
        if (pending_.count(v) && !ordered(v, op, waited)) report_unordered(op, v);
      if (op.opcode == OpId::wait)
        for (ValueId t : op.operands) close_over(t, waited);
      if (op.info().token != TokenPolicy::none && !op.results.empty()) {
        const ValueId token = op.results.back();
        auto& implied = implies_[token];
        implied.insert(implied.end(), op.after.begin(), op.after.end());
        if (op.opcode == OpId::wait) implied.insert(implied.end(), op.operands.begin(), op.operands.end());
      }
      if (op.opcode == OpId::copy_async && op.results.size() == 2) {
        pending_[op.results[0]] = op.results[1];
        async_ops_.push_back(&op);
      }
    }
  }

  void tokens_yield(const Op& y, const std::set<ValueId>& waited, const LoopCarry* carry) {
    for (size_t p = 0; p < y.operands.size(); ++p) {
      const ValueId v = y.operands[p];
      if (!pending_.count(v) || ordered(v, y, waited)) continue;
      // A loop may carry an unwaited async tile to the next iteration together with its token.
      bool carried = false;
      if (carry) {
        auto it = carry->tile_to_token.find(p);
        carried = it != carry->tile_to_token.end() && it->second < y.operands.size() &&
                  y.operands[it->second] == pending_.at(v);
      }
      if (!carried)
        error(y.loc, "yield passes " + name(v) + " on before its copy_async token " + name(pending_.at(v)) +
                         " is waited on",
              carry ? "wait on it first, or yield the token too so the next iteration can wait"
                    : "wait on it before the end of the branch");
    }
  }

  void tokens_for(const Op& op, const std::set<ValueId>& waited) {
    const Block& body = op.regions[0];
    const size_t n_iter = op.operands.size() - 3;
    LoopCarry carry;
    // From the initial values: iter p is a pending tile whose token is iter q.
    for (size_t p = 0; p < n_iter; ++p) {
      const ValueId init = op.operands[3 + p];
      if (!pending_.count(init)) continue;
      bool mapped = false;
      for (size_t q = 0; q < n_iter; ++q)
        if (op.operands[3 + q] == pending_.at(init)) {
          carry.tile_to_token[p] = q;
          mapped = true;
        }
      if (!mapped && !ordered(init, op, waited)) report_unordered(op, init);
    }
    // From the yield: iter p yields a copy_async tile made in the body whose token is yielded at q.
    if (const Op* y = final_yield(body)) {
      for (size_t p = 0; p < y->operands.size() && p < n_iter; ++p) {
        auto def = def_op_.find(y->operands[p]);
        if (def == def_op_.end() || def->second->opcode != OpId::copy_async || def->second->results.size() != 2 ||
            def->second->results[0] != y->operands[p])
          continue;
        for (size_t q = 0; q < y->operands.size(); ++q)
          if (y->operands[q] == def->second->results[1]) carry.tile_to_token[p] = q;
      }
    }
    for (const auto& [p, q] : carry.tile_to_token) {
      pending_[body.args[1 + p]] = body.args[1 + q];
      if (p < op.results.size() && q < op.results.size()) pending_[op.results[p]] = op.results[q];
    }
    tokens_block(body, waited, &carry);
  }

  void check_tokens() {
    tokens_block(k_.body, {}, nullptr);
    for (const Role& r : k_.roles) tokens_block(r.body, {}, nullptr);
    for (const Op* op : async_ops_) {
      const ValueId token = op->results[1];
      if (!consumed_.count(token))
        error(op->loc, "the token of this copy_async (" + name(op->results[0]) + ") is never waited on",
              "copy_async is asynchronous: `wait` on its token (or order a memory op after(...) it) before the "
              "tile is read");
    }
  }

  // ---- roles and channels ----
  void check_roles_and_channels() {
    struct Use {
      std::set<size_t> put_roles, get_roles, release_roles;
      SourceLoc first_put, first_get;
    };
    std::map<ValueId, Use> uses;
    std::function<void(const Block&, size_t)> walk = [&](const Block& b, size_t role) {
      for (const Op& op : b.ops) {
        if (op.opcode == OpId::put || op.opcode == OpId::get || op.opcode == OpId::release) {
          const ValueId ch = op.operands.at(0);
          if (k_.roles.empty()) {
            error(op.loc, "'" + std::string(op.info().name) + "' on channel " + name(ch) + " in a kernel without roles",
                  "split the body into roles: `role producer { ... }` and `role consumer { ... }`");
          } else {
            Use& u = uses[ch];
            if (op.opcode == OpId::put) {
              if (u.put_roles.empty()) u.first_put = op.loc;
              u.put_roles.insert(role);
            } else if (op.opcode == OpId::get) {
              if (u.get_roles.empty()) u.first_get = op.loc;
              u.get_roles.insert(role);
            } else {
              u.release_roles.insert(role);
              release_locs_[{ch, role}] = op.loc;
            }
          }
        }
        for (const Block& r : op.regions) walk(r, role);
      }
    };
    walk(k_.body, 0);
    for (size_t i = 0; i < k_.roles.size(); ++i) walk(k_.roles[i].body, i);
    if (k_.roles.empty()) return;
    for (const Channel& c : k_.channels) {
      auto it = uses.find(c.value);
      if (it == uses.end()) {
        warning(c.loc, "channel " + name(c.value) + " is never used");
        continue;
      }
      const Use& u = it->second;
      auto role_list = [&](const std::set<size_t>& roles) {
        std::string s;
        for (size_t r : roles) s += (s.empty() ? "'" : ", '") + k_.roles[r].name + "'";
        return s;
      };
      if (u.put_roles.empty())
        error(c.loc, "channel " + name(c.value) + " has no producer: no role puts to it",
              "add `put " + name(c.value) + ", %tile` in the producer role");
      else if (u.put_roles.size() > 1)
        error(u.first_put, "channel " + name(c.value) + " has more than one producer role (" + role_list(u.put_roles) + ")",
              "a channel has exactly one producer role; use one channel per producer");
      if (u.get_roles.empty())
        error(c.loc, "channel " + name(c.value) + " has no consumer: no role gets from it",
              "add `%x = get " + name(c.value) + "` in a consumer role");
      for (size_t r : u.put_roles)
        if (u.get_roles.count(r))
          error(u.first_get, "role '" + k_.roles[r].name + "' both puts to and gets from channel " + name(c.value),
                "producer and consumer must be different roles");
      for (size_t r : u.release_roles)
        if (!u.get_roles.count(r))
          error(release_locs_[{c.value, r}], "role '" + k_.roles[r].name + "' releases channel " + name(c.value) +
                                                 " but never gets from it");
    }
  }

  // ---- resources ----
  void check_resources() {
    // warps: the roles' hints must fit the kernel's declaration
    if (k_.resources.warps && !k_.roles.empty()) {
      int64_t sum = 0;
      for (const Role& r : k_.roles)
        if (const Attr* w = find_attr(r.hints, "warps"); w && w->kind == Attr::Kind::integer) sum += w->i * r.count;
      if (sum > *k_.resources.warps)
        error(k_.loc, "the roles ask for " + std::to_string(sum) + " warps but the kernel declares resources(warps=" +
                          std::to_string(*k_.resources.warps) + ")");
    }
    if (!k_.resources.scratch_bytes) return;
    const ScratchUsage usage = scratch_usage(k_);
    const auto declared = const_value(*k_.resources.scratch_bytes);
    if (!declared) {
      warning(k_.loc, "cannot check the scratch budget: resources(scratch=" + expr_to_string(*k_.resources.scratch_bytes) +
                          ") depends on parameters");
      return;
    }
    for (const ScratchItem& item : usage.items) {
      if (!item.bytes_each) {
        warning(item.loc, "cannot check the scratch budget: " + item.what + " has a symbolic shape",
                "use constant tile shapes to let the verifier total the scratch");
        return;
      }
    }
    const auto total = usage.total_bytes();
    if (!total) {
      error(k_.loc, "scratch use overflows a 64-bit byte count");
      return;
    }
    if (*total > *declared) {
      std::vector<ScratchItem> items = usage.items;
      std::stable_sort(items.begin(), items.end(), [](const ScratchItem& a, const ScratchItem& b) {
        return *a.bytes_each * a.copies > *b.bytes_each * b.copies;
      });
      std::ostringstream what;
      for (size_t i = 0; i < items.size() && i < 4; ++i) {
        what << (i ? ", " : "") << items[i].what << " " << *items[i].bytes_each << " B";
        if (items[i].copies > 1) what << " x" << items[i].copies;
        what << " (" << loc_text(items[i].loc) << ")";
      }
      if (items.size() > 4) what << ", ...";
      error(k_.loc, "kernel @" + k_.name + " allocates " + std::to_string(*total) + " bytes of scratch but declares " +
                        std::to_string(*declared) + " (short by " + std::to_string(*total - *declared) + " bytes): " +
                        what.str(),
            "raise resources(scratch=...) to at least " + std::to_string(*total) + " or use fewer/smaller stages");
    }
  }

  const Kernel& k_;
  std::vector<Diagnostic> diags_;
  bool structure_ok_ = true;
  std::vector<char> defined_;
  std::vector<char> visible_;
  std::map<ValueId, const Op*> def_op_;
  // tokens
  std::map<ValueId, ValueId> pending_;                // async tile -> the token that guards it
  std::map<ValueId, std::vector<ValueId>> implies_;   // token -> tokens complete when it is
  std::set<ValueId> consumed_;
  std::vector<const Op*> async_ops_;
  std::map<std::pair<ValueId, size_t>, SourceLoc> release_locs_;
};

}  // namespace

VerifyReport verify_kernel(const Kernel& kernel) {
  VerifyReport report;
  report.diagnostics = KernelVerifier(kernel).run();
  std::stable_sort(report.diagnostics.begin(), report.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.loc.line != b.loc.line ? a.loc.line < b.loc.line : a.loc.col < b.loc.col;
  });
  return report;
}

VerifyReport verify(const Module& module) {
  VerifyReport report;
  for (const Kernel& k : module.kernels) {
    VerifyReport r = verify_kernel(k);
    report.diagnostics.insert(report.diagnostics.end(), r.diagnostics.begin(), r.diagnostics.end());
  }
  return report;
}

void verify_or_throw(const Module& module) {
  VerifyReport report = verify(module);
  if (report.ok()) return;
  VerifyReport errors;
  for (const Diagnostic& d : report.diagnostics)
    if (d.severity == Severity::error) errors.diagnostics.push_back(d);
  throw InputError(errors.format(module));
}

}  // namespace tilesim::isa

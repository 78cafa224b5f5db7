#include "workloads/template.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include "isa/verifier.hpp"
#include "sim/error.hpp"

namespace tilesim::workloads {

using namespace isa;

Expr bake_expr(const Expr& e, const SymbolValues& values) {
  if (e.kind == Expr::Kind::symbol) {
    auto it = values.find(e.symbol);
    return it == values.end() ? e : Expr::constant_of(it->second);
  }
  if (e.kind == Expr::Kind::constant) return e;
  Expr out = e;
  for (Expr& a : out.args) a = bake_expr(a, values);
  if (out.is_constant())
    if (auto v = const_value(out)) return Expr::constant_of(*v);
  return out;
}

namespace {

[[noreturn]] void fail_at(const Module& m, SourceLoc loc, const std::string& message) {
  Diagnostic d;
  d.loc = loc;
  d.message = message;
  throw InputError(format_diagnostic(m.source_name, m.source_text, d));
}

void bake_all(std::vector<Expr>& exprs, const SymbolValues& values) {
  for (Expr& e : exprs) e = bake_expr(e, values);
}

void instantiate_block(Block& b, Kernel& k, const TemplateArgs& args, std::set<std::string>& replaced) {
  for (Op& op : b.ops) {
    for (NamedAttr& a : op.attrs) {
      if (a.value.kind == Attr::Kind::exprs) bake_all(a.value.exprs, args.bake);
      if (a.value.kind == Attr::Kind::dtype)
        if (auto it = args.dtypes.find(a.value.dtype); it != args.dtypes.end()) a.value.dtype = it->second;
      if (a.name == "stages" && op.opcode == OpId::for_ && args.loop_stages) a.value = Attr::integer_of(*args.loop_stages);
    }
    if (!op.results.empty()) {
      const std::string& name = k.value(op.results[0]).name;
      if (auto it = args.replace.find(name); it != args.replace.end()) {
        op.opcode = it->second.opcode;
        for (const NamedAttr& extra : it->second.extra_attrs) {
          bool found = false;
          for (NamedAttr& a : op.attrs)
            if (a.name == extra.name) {
              a.value = extra.value;
              found = true;
            }
          if (!found) op.attrs.push_back(extra);
        }
        replaced.insert(name);
      }
    }
    for (Block& r : op.regions) instantiate_block(r, k, args, replaced);
  }
}

/// Each named role takes its new instance count; a declared resources(warps=...) moves by the warps
/// that adds or removes, so the declaration keeps bounding what the roles ask for.
void set_role_counts(const Module& tmpl, Kernel& k, const std::map<std::string, int64_t>& counts) {
  for (const auto& [name, count] : counts) {
    auto role = std::find_if(k.roles.begin(), k.roles.end(), [&](const Role& r) { return r.name == name; });
    if (role == k.roles.end()) fail_at(tmpl, k.loc, "kernel @" + k.name + " has no role '" + name + "' to set the count of");
    if (count <= 0)
      fail_at(tmpl, role->loc, "role '" + name + "' needs a positive instance count, not " + std::to_string(count));
    const Attr* w = find_attr(role->hints, "warps");
    const int64_t warps = w && w->kind == Attr::Kind::integer ? w->i : 0;  // as the verifier's sum counts them
    if (k.resources.warps) *k.resources.warps += (count - role->count) * warps;
    role->count = count;
  }
}

}  // namespace

Module instantiate(const Module& tmpl, const TemplateArgs& args) {
  const Kernel* source = tmpl.find_kernel(args.kernel);
  if (!source) fail_at(tmpl, SourceLoc{1, 1}, "the template has no kernel @" + args.kernel);
  Module m;
  m.source_name = tmpl.source_name;
  m.source_text = tmpl.source_text;
  m.kernels.push_back(*source);
  Kernel& k = m.kernels.back();

  for (ValueInfo& v : k.values) {
    bake_all(v.type.shape, args.bake);
    if (auto it = args.dtypes.find(v.type.dtype); it != args.dtypes.end() && v.type.kind != TypeKind::index &&
                                                  v.type.kind != TypeKind::token && v.type.kind != TypeKind::none)
      v.type.dtype = it->second;
  }
  bake_all(k.grid, args.bake);
  bake_all(k.cluster, args.bake);
  if (k.resources.scratch_bytes) *k.resources.scratch_bytes = bake_expr(*k.resources.scratch_bytes, args.bake);
  if (args.channel_stages)
    for (Channel& c : k.channels) c.stages = *args.channel_stages;
  set_role_counts(tmpl, k, args.role_counts);

  std::set<std::string> replaced;
  instantiate_block(k.body, k, args, replaced);
  for (Role& r : k.roles) instantiate_block(r.body, k, args, replaced);
  for (const auto& [name, rep] : args.replace)
    if (!replaced.count(name))
      fail_at(tmpl, k.loc, "kernel @" + k.name + " has no op defining %" + name + " to replace");

  if (!k.resources.scratch_bytes) {
    const ScratchUsage usage = scratch_usage(k);
    if (auto total = usage.total_bytes(); total && *total > 0) k.resources.scratch_bytes = Expr::constant_of(*total);
  }
  verify_or_throw(m);
  return m;
}

}  // namespace tilesim::workloads

// Canonical `.tile` printer.
#include "isa/text_printer.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>

namespace tilesim::isa {

std::string format_real(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

namespace {

class Printer {
 public:
  explicit Printer(const Kernel& k) : k_(k) { collect_uses(); }

  std::string value(ValueId id) const {
    const ValueInfo& v = k_.value(id);
    if (v.name.empty()) return "%_" + std::to_string(id);  // unnamed but used: only from hand-built IR
    if (v.def == ValueDef::param && v.type.is_scalar_like()) return v.name;
    return "%" + v.name;
  }

  std::string attr_value(const Attr& a) const {
    switch (a.kind) {
      case Attr::Kind::integer: return std::to_string(a.i);
      case Attr::Kind::real: return format_real(a.f);
      case Attr::Kind::boolean: return a.b ? "true" : "false";
      case Attr::Kind::dtype: return dtype_name(a.dtype);
      case Attr::Kind::space: return mem_space_name(a.space);
      case Attr::Kind::word: return a.word;
      case Attr::Kind::exprs: {
        std::string s = "[";
        for (size_t i = 0; i < a.exprs.size(); ++i) s += (i ? ", " : "") + expr_to_string(a.exprs[i]);
        return s + "]";
      }
    }
    return "?";
  }

  /// Attributes in table order, skipping the positional one.
  std::string attrs(const Op& op) const {
    std::string s;
    for (const AttrSpec& spec : op.info().attrs) {
      if (spec.name == op.info().positional_attr) continue;
      if (const Attr* a = op.attr(spec.name)) s += " " + std::string(spec.name) + "=" + attr_value(*a);
    }
    return s;
  }

  void block(std::ostringstream& os, const Block& b, int indent) const {
    for (const Op& op : b.ops) this->op(os, op, indent);
  }

  void op(std::ostringstream& os, const Op& op, int indent) const {
    const std::string pad(static_cast<size_t>(indent) * 2, ' ');
    const OpcodeInfo& info = op.info();
    os << pad;
    // results; an unused trailing token is left unnamed
    std::vector<ValueId> shown = op.results;
    if (info.token != TokenPolicy::none && !shown.empty() && k_.type_of(shown.back()).kind == TypeKind::token &&
        !used_.count(shown.back()))
      shown.pop_back();
    for (size_t i = 0; i < shown.size(); ++i) os << (i ? ", " : "") << value(shown[i]);
    if (!shown.empty()) os << " = ";
    os << info.name;
    if (op.opcode == OpId::for_) {
      const Block& body = op.regions.at(0);
      os << ' ' << value(body.args.at(0)) << " = " << value(op.operands.at(0)) << " to " << value(op.operands.at(1))
         << " step " << value(op.operands.at(2)) << attrs(op);
      if (op.operands.size() > 3) {
        os << " iter(";
        for (size_t i = 3; i < op.operands.size(); ++i)
          os << (i > 3 ? ", " : "") << value(body.args.at(i - 2)) << " = " << value(op.operands[i]);
        os << ')';
      }
      os << " {\n";
      block(os, body, indent + 1);
      os << pad << "}\n";
      return;
    }
    if (op.opcode == OpId::if_) {
      os << ' ' << value(op.operands.at(0)) << " {\n";
      block(os, op.regions.at(0), indent + 1);
      os << pad << '}';
      if (op.regions.size() > 1) {
        os << " else {\n";
        block(os, op.regions[1], indent + 1);
        os << pad << '}';
      }
      os << '\n';
      return;
    }
    if (!info.positional_attr.empty())
      if (const Attr* a = op.attr(info.positional_attr)) os << ' ' << attr_value(*a);
    // operands, the indexed one as %buf[i, j]
    const int idx = info.indexed_operand;
    for (size_t i = 0; i < op.operands.size(); ++i) {
      if (idx >= 0 && i > static_cast<size_t>(idx)) break;
      os << (i ? ", " : " ") << value(op.operands[i]);
      if (idx >= 0 && i == static_cast<size_t>(idx)) {
        os << '[';
        for (size_t j = i + 1; j < op.operands.size(); ++j) os << (j > i + 1 ? ", " : "") << value(op.operands[j]);
        os << ']';
      }
    }
    os << attrs(op);
    if (!op.after.empty()) {
      os << " after(";
      for (size_t i = 0; i < op.after.size(); ++i) os << (i ? ", " : "") << value(op.after[i]);
      os << ')';
    }
    const bool type_written = info.rule == TypeRule::explicit_type || info.rule == TypeRule::load ||
                              info.rule == TypeRule::copy_async;
    if (type_written && !op.results.empty()) os << " : " << type_to_string(k_.type_of(op.results[0]));
    os << '\n';
  }

  std::string kernel() const {
    std::ostringstream os;
    os << "kernel @" << k_.name << '(';
    for (size_t i = 0; i < k_.params.size(); ++i) {
      const ValueId v = k_.params[i].value;
      os << (i ? ", " : "") << value(v) << ": " << type_to_string(k_.type_of(v));
    }
    os << ')';
    auto list = [&](const char* what, const std::vector<Expr>& es) {
      if (es.empty()) return;
      os << "\n    " << what << '(';
      for (size_t i = 0; i < es.size(); ++i) os << (i ? ", " : "") << expr_to_string(es[i]);
      os << ')';
    };
    list("grid", k_.grid);
    list("cluster", k_.cluster);
    const Resources& r = k_.resources;
    if (r.scratch_bytes || r.warps || r.registers) {
      std::vector<std::string> parts;
      if (r.scratch_bytes) parts.push_back("scratch=" + expr_to_string(*r.scratch_bytes));
      if (r.warps) parts.push_back("warps=" + std::to_string(*r.warps));
      if (r.registers) parts.push_back("registers=" + std::to_string(*r.registers));
      os << "\n    resources(";
      for (size_t i = 0; i < parts.size(); ++i) os << (i ? ", " : "") << parts[i];
      os << ')';
    }
    os << " {\n";
    for (const Channel& c : k_.channels) {
      Type tile = k_.type_of(c.value);
      tile.kind = TypeKind::tile;
      os << "  channel " << value(c.value) << ": stages=" << c.stages << " of " << type_to_string(tile) << '\n';
    }
    for (const Role& role : k_.roles) {
      os << "  role " << role.name;
      if (role.count != 1) os << " x" << role.count;
      for (const NamedAttr& h : role.hints) os << ' ' << h.name << '=' << attr_value(h.value);
      os << " {\n";
      block(os, role.body, 2);
      os << "  }\n";
    }
    block(os, k_.body, 1);
    os << "}\n";
    return os.str();
  }

 private:
  void collect_uses() {
    auto walk = [&](const Block& b, auto&& self) -> void {
      for (const Op& op : b.ops) {
        for (ValueId v : op.operands) used_.insert(v);
        for (ValueId v : op.after) used_.insert(v);
        for (const Block& r : op.regions) self(r, self);
      }
    };
    walk(k_.body, walk);
    for (const Role& r : k_.roles) walk(r.body, walk);
  }

  const Kernel& k_;
  std::set<ValueId> used_;
};

}  // namespace

std::string print_kernel(const Kernel& kernel) { return Printer(kernel).kernel(); }

std::string print_module(const Module& module) {
  std::string out;
  for (size_t i = 0; i < module.kernels.size(); ++i) {
    if (i) out += '\n';
    out += print_kernel(module.kernels[i]);
  }
  return out;
}

std::string print_op(const Kernel& kernel, const Op& op, int indent) {
  std::ostringstream os;
  Printer(kernel).op(os, op, indent);
  return os.str();
}

}  // namespace tilesim::isa

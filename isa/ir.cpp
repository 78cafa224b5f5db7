// IR helpers: diagnostics, kernel-constant expressions, types, attributes, the type rules of the opcode
// table, and the Builder.
#include "isa/ir.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "isa/tile_value.hpp"
#include "sim/error.hpp"

namespace tilesim::isa {

// ---- diagnostics ------------------------------------------------------------------------------------

namespace {

/// The text of 1-based line `line` (without the newline), or nullopt.
std::optional<std::string> source_line(const std::string& text, int line) {
  if (line <= 0) return std::nullopt;
  size_t start = 0;
  for (int l = 1; l < line; ++l) {
    const size_t nl = text.find('\n', start);
    if (nl == std::string::npos) return std::nullopt;
    start = nl + 1;
  }
  if (start > text.size()) return std::nullopt;
  size_t end = text.find('\n', start);
  if (end == std::string::npos) end = text.size();
  if (start == text.size() && line > 1 && text.empty()) return std::nullopt;
  return text.substr(start, end - start);
}

}  // namespace

std::string format_diagnostic(const std::string& source_name, const std::string& source_text,
                              const Diagnostic& d) {
  std::ostringstream os;
  os << source_name << ':' << d.loc.line << ':' << d.loc.col << ": "
     << (d.severity == Severity::error ? "error" : "warning") << ": " << d.message << '\n';
  if (auto line = source_line(source_text, d.loc.line)) {
    // Echo a window of at most kWindow bytes around the column; bytes that would garble a terminal
    // (control characters, non-ASCII) are shown as '?', so the caret stays under the right byte.
    constexpr int kWindow = 120;
    int col = std::max(1, d.loc.col);
    std::string text = *line;
    if (col > static_cast<int>(text.size()) + 1) col = static_cast<int>(text.size()) + 1;
    int first = 0;
    if (col > kWindow / 2 && static_cast<int>(text.size()) > kWindow) first = col - kWindow / 2;
    std::string shown = text.substr(static_cast<size_t>(first), kWindow);
    std::string caret_pad;
    for (int i = 0; i < col - 1 - first; ++i)
      caret_pad += (static_cast<size_t>(i) < shown.size() && shown[static_cast<size_t>(i)] == '\t') ? '\t' : ' ';
    for (char& c : shown) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u >= 0x7f) c = '?';
    }
    if (!shown.empty() && shown.back() == '\r') shown.pop_back();
    const std::string number = std::to_string(d.loc.line);
    const std::string gutter(number.size(), ' ');
    os << ' ' << number << " | " << (first > 0 ? "..." : "") << shown << '\n';
    os << ' ' << gutter << " | " << (first > 0 ? "   " : "") << caret_pad << "^\n";
  }
  if (!d.hint.empty()) os << "hint: " << d.hint << '\n';
  std::string out = os.str();
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// ---- expressions ------------------------------------------------------------------------------------

Expr Expr::constant_of(int64_t v) {
  Expr e;
  e.kind = Kind::constant;
  e.value = v;
  return e;
}

Expr Expr::symbol_of(std::string name) {
  Expr e;
  e.kind = Kind::symbol;
  e.symbol = std::move(name);
  return e;
}

Expr Expr::binary(Kind k, Expr a, Expr b) {
  Expr e;
  e.kind = k;
  e.args.push_back(std::move(a));
  e.args.push_back(std::move(b));
  return e;
}

Expr Expr::negate(Expr a) {
  Expr e;
  e.kind = Kind::neg;
  e.args.push_back(std::move(a));
  return e;
}

bool Expr::is_constant() const {
  if (kind == Kind::symbol) return false;
  return std::all_of(args.begin(), args.end(), [](const Expr& a) { return a.is_constant(); });
}

bool Expr::operator==(const Expr& o) const {
  return kind == o.kind && value == o.value && symbol == o.symbol && args == o.args;
}

std::optional<int64_t> eval_expr(const Expr& e, const SymbolValues& symbols, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<int64_t> {
    if (error && error->empty()) *error = why;
    return std::nullopt;
  };
  switch (e.kind) {
    case Expr::Kind::constant: return e.value;
    case Expr::Kind::symbol: {
      auto it = symbols.find(e.symbol);
      if (it == symbols.end()) return std::nullopt;
      return it->second;
    }
    case Expr::Kind::neg: {
      auto a = eval_expr(e.args.at(0), symbols, error);
      if (!a) return std::nullopt;
      if (*a == INT64_MIN) return fail("integer overflow in '" + expr_to_string(e) + "'");
      return -*a;
    }
    default: break;
  }
  auto a = eval_expr(e.args.at(0), symbols, error);
  auto b = eval_expr(e.args.at(1), symbols, error);
  if (!a || !b) return std::nullopt;
  int64_t r = 0;
  const std::string text = "'" + expr_to_string(e) + "'";
  switch (e.kind) {
    case Expr::Kind::add:
      if (__builtin_add_overflow(*a, *b, &r)) return fail("integer overflow in " + text);
      return r;
    case Expr::Kind::sub:
      if (__builtin_sub_overflow(*a, *b, &r)) return fail("integer overflow in " + text);
      return r;
    case Expr::Kind::mul:
      if (__builtin_mul_overflow(*a, *b, &r)) return fail("integer overflow in " + text);
      return r;
    case Expr::Kind::div:
    case Expr::Kind::cdiv: {
      if (*b == 0) return fail("division by zero in " + text);
      if (*a == INT64_MIN && *b == -1) return fail("integer overflow in " + text);
      int64_t q = *a / *b;
      const int64_t rem = *a % *b;
      // floor division for `/`, ceiling division for cdiv (both exact for any signs)
      if (rem != 0) {
        const bool negative = (rem < 0) != (*b < 0);
        if (e.kind == Expr::Kind::div && negative) q -= 1;
        if (e.kind == Expr::Kind::cdiv && !negative) q += 1;
      }
      return q;
    }
    case Expr::Kind::min: return std::min(*a, *b);
    case Expr::Kind::max: return std::max(*a, *b);
    default: break;
  }
  panic("eval_expr: unhandled expression kind");
}

std::optional<int64_t> const_value(const Expr& e) {
  if (!e.is_constant()) return std::nullopt;
  static const SymbolValues kNone;
  return eval_expr(e, kNone);
}

namespace {

int precedence(Expr::Kind k) {
  switch (k) {
    case Expr::Kind::add:
    case Expr::Kind::sub: return 1;
    case Expr::Kind::mul:
    case Expr::Kind::div: return 2;
    case Expr::Kind::neg: return 3;
    default: return 4;  // atoms and calls
  }
}

void print_expr(std::ostringstream& os, const Expr& e) {
  auto operand = [&](const Expr& a, bool need_parens) {
    if (need_parens) os << '(';
    print_expr(os, a);
    if (need_parens) os << ')';
  };
  switch (e.kind) {
    case Expr::Kind::constant: os << e.value; return;
    case Expr::Kind::symbol: os << e.symbol; return;
    case Expr::Kind::neg:
      os << '-';
      // `--x` parses back as neg(neg(x)); parentheses only around binary operands
      operand(e.args[0], precedence(e.args[0].kind) < 3);
      return;
    case Expr::Kind::cdiv:
    case Expr::Kind::min:
    case Expr::Kind::max:
      os << (e.kind == Expr::Kind::cdiv ? "cdiv(" : e.kind == Expr::Kind::min ? "min(" : "max(");
      print_expr(os, e.args[0]);
      os << ", ";
      print_expr(os, e.args[1]);
      os << ')';
      return;
    default: break;
  }
  const int p = precedence(e.kind);
  const char* sym = e.kind == Expr::Kind::add ? " + " : e.kind == Expr::Kind::sub ? " - "
                    : e.kind == Expr::Kind::mul ? " * " : " / ";
  // A negative literal prints as `-5`, which parses back as neg(5) with the same precedence.
  operand(e.args[0], precedence(e.args[0].kind) < p);
  os << sym;
  operand(e.args[1], precedence(e.args[1].kind) <= p);
}

}  // namespace

std::string expr_to_string(const Expr& e) {
  std::ostringstream os;
  print_expr(os, e);
  return os.str();
}

bool dims_equal(const Expr& a, const Expr& b) {
  auto ca = const_value(a);
  auto cb = const_value(b);
  if (ca && cb) return *ca == *cb;
  return a == b;
}

// ---- types --------------------------------------------------------------------------------------------

const char* mem_space_name(MemSpace s) {
  switch (s) {
    case MemSpace::reg: return "reg";
    case MemSpace::scratch: return "scratch";
    case MemSpace::acc: return "acc";
    case MemSpace::global: return "global";
  }
  return "?";
}

std::optional<MemSpace> parse_mem_space(std::string_view name) {
  if (name == "reg") return MemSpace::reg;
  if (name == "scratch") return MemSpace::scratch;
  if (name == "acc") return MemSpace::acc;
  if (name == "global") return MemSpace::global;
  return std::nullopt;
}

Type Type::scalar_of(DType d) {
  Type t;
  t.kind = TypeKind::scalar;
  t.dtype = d;
  return t;
}

Type Type::index_type() {
  Type t;
  t.kind = TypeKind::index;
  t.dtype = DType::i32;
  return t;
}

Type Type::token_type() {
  Type t;
  t.kind = TypeKind::token;
  return t;
}

Type Type::tile_of(DType d, std::vector<Expr> shape, MemSpace space) {
  Type t;
  t.kind = TypeKind::tile;
  t.dtype = d;
  t.shape = std::move(shape);
  t.space = space;
  return t;
}

Type Type::tile_of(DType d, const std::vector<int64_t>& shape, MemSpace space) {
  std::vector<Expr> dims;
  for (int64_t v : shape) dims.push_back(Expr::constant_of(v));
  return tile_of(d, std::move(dims), space);
}

Type Type::global_of(DType d, std::vector<Expr> shape) {
  Type t;
  t.kind = TypeKind::global;
  t.dtype = d;
  t.shape = std::move(shape);
  t.space = MemSpace::global;
  return t;
}

bool Type::is_int_scalar() const {
  return kind == TypeKind::index || (kind == TypeKind::scalar && (dtype == DType::i32 || dtype == DType::i8));
}

bool Type::operator==(const Type& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case TypeKind::none:
    case TypeKind::index:
    case TypeKind::token: return true;
    case TypeKind::scalar: return dtype == o.dtype;
    default: break;
  }
  if (dtype != o.dtype || space != o.space || shape.size() != o.shape.size()) return false;
  for (size_t i = 0; i < shape.size(); ++i)
    if (!dims_equal(shape[i], o.shape[i])) return false;
  return true;
}

namespace {
std::string shape_to_string(const std::vector<Expr>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += expr_to_string(shape[i]);
  }
  return s + "]";
}
}  // namespace

std::string type_to_string(const Type& t) {
  switch (t.kind) {
    case TypeKind::none: return "<none>";
    case TypeKind::scalar: return dtype_name(t.dtype);
    case TypeKind::index: return "index";
    case TypeKind::token: return "!token";
    case TypeKind::tile:
      return std::string("tile<") + dtype_name(t.dtype) + ">" + shape_to_string(t.shape) + " @" +
             mem_space_name(t.space);
    case TypeKind::global: return std::string("global<") + dtype_name(t.dtype) + ">" + shape_to_string(t.shape);
    case TypeKind::channel:
      return std::string("channel<") + dtype_name(t.dtype) + ">" + shape_to_string(t.shape) + " @" +
             mem_space_name(t.space);
  }
  return "?";
}

std::optional<int64_t> type_elements(const Type& t) {
  int64_t n = 1;
  for (const Expr& d : t.shape) {
    auto v = const_value(d);
    if (!v || *v < 0) return std::nullopt;
    if (__builtin_mul_overflow(n, *v, &n)) return std::nullopt;
  }
  return n;
}

std::optional<int64_t> type_bytes(const Type& t) {
  auto n = type_elements(t);
  if (!n) return std::nullopt;
  const int64_t b = bits(t.dtype);
  int64_t total_bits = 0;
  if (__builtin_mul_overflow(*n, b, &total_bits)) return std::nullopt;
  return (total_bits + 7) / 8;
}

// ---- attributes ---------------------------------------------------------------------------------------

Attr Attr::integer_of(int64_t v) {
  Attr a;
  a.kind = Kind::integer;
  a.i = v;
  return a;
}
Attr Attr::real_of(double v) {
  Attr a;
  a.kind = Kind::real;
  a.f = v;
  return a;
}
Attr Attr::boolean_of(bool v) {
  Attr a;
  a.kind = Kind::boolean;
  a.b = v;
  return a;
}
Attr Attr::dtype_of(DType d) {
  Attr a;
  a.kind = Kind::dtype;
  a.dtype = d;
  return a;
}
Attr Attr::space_of(MemSpace s) {
  Attr a;
  a.kind = Kind::space;
  a.space = s;
  return a;
}
Attr Attr::word_of(std::string w) {
  Attr a;
  a.kind = Kind::word;
  a.word = std::move(w);
  return a;
}
Attr Attr::exprs_of(std::vector<Expr> e) {
  Attr a;
  a.kind = Kind::exprs;
  a.exprs = std::move(e);
  return a;
}
Attr Attr::ints_of(const std::vector<int64_t>& v) {
  std::vector<Expr> e;
  for (int64_t x : v) e.push_back(Expr::constant_of(x));
  return exprs_of(std::move(e));
}

double Attr::as_number() const {
  switch (kind) {
    case Kind::integer: return static_cast<double>(i);
    case Kind::real: return f;
    case Kind::boolean: return b ? 1.0 : 0.0;
    default: return 0.0;
  }
}

bool Attr::operator==(const Attr& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::integer: return i == o.i;
    case Kind::real: return (std::isnan(f) && std::isnan(o.f)) || f == o.f;
    case Kind::boolean: return b == o.b;
    case Kind::dtype: return dtype == o.dtype;
    case Kind::space: return space == o.space;
    case Kind::word: return word == o.word;
    case Kind::exprs: return exprs == o.exprs;
  }
  return false;
}

const Attr* find_attr(const Attrs& attrs, std::string_view name) {
  for (const auto& a : attrs)
    if (a.name == name) return &a.value;
  return nullptr;
}

// ---- kernel / module ----------------------------------------------------------------------------------

ValueId Kernel::find_value(std::string_view name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name) return static_cast<ValueId>(i);
  return kNoValue;
}

bool Kernel::is_symbol(std::string_view name) const {
  for (const Param& p : params) {
    const ValueInfo& v = value(p.value);
    if (v.name == name) return v.type.is_int_scalar();
  }
  return false;
}

const Kernel* Module::find_kernel(std::string_view name) const {
  for (const Kernel& k : kernels)
    if (k.name == name) return &k;
  return nullptr;
}

// ---- attribute checks ---------------------------------------------------------------------------------

std::string check_attrs(OpId op, const Attrs& attrs) {
  const OpcodeInfo& info = opcode_info(op);
  std::set<std::string_view> seen;
  for (const NamedAttr& a : attrs) {
    const AttrSpec* spec = find_attr_spec(op, a.name);
    if (!spec) {
      std::string known;
      for (const auto& s : info.attrs) known += (known.empty() ? "" : ", ") + std::string(s.name);
      return "'" + std::string(info.name) + "' has no attribute '" + a.name + "'" +
             (known.empty() ? " (it takes none)" : " (known: " + known + ")");
    }
    if (!seen.insert(spec->name).second) return "attribute '" + a.name + "' given twice";
    const Attr& v = a.value;
    bool ok = false;
    switch (spec->kind) {
      case AttrKind::integer: ok = v.kind == Attr::Kind::integer; break;
      case AttrKind::number:
        ok = v.kind == Attr::Kind::integer || v.kind == Attr::Kind::real || v.kind == Attr::Kind::boolean;
        break;
      case AttrKind::boolean: ok = v.kind == Attr::Kind::boolean; break;
      case AttrKind::dtype: ok = v.kind == Attr::Kind::dtype; break;
      case AttrKind::space: ok = v.kind == Attr::Kind::space && v.space != MemSpace::global; break;
      case AttrKind::word:
        ok = v.kind == Attr::Kind::word &&
             std::find(spec->choices.begin(), spec->choices.end(), v.word) != spec->choices.end();
        break;
      case AttrKind::exprs: ok = v.kind == Attr::Kind::exprs; break;
    }
    if (!ok) {
      std::string want = attr_kind_name(spec->kind);
      if (spec->kind == AttrKind::word) {
        want = "one of";
        for (auto c : spec->choices) want += " " + std::string(c);
      } else if (spec->kind == AttrKind::space) {
        want = "reg, scratch or acc";
      }
      return "attribute '" + a.name + "' of '" + std::string(info.name) + "' must be " + want;
    }
  }
  for (const auto& spec : info.attrs)
    if (spec.required && !seen.count(spec.name))
      return "'" + std::string(info.name) + "' needs attribute '" + std::string(spec.name) + "'";
  return "";
}

// ---- type rules ---------------------------------------------------------------------------------------

namespace {

struct RuleError {
  std::string message;
  std::string hint;
};

/// Thrown inside the rule functions; caught by infer_result_types (never escapes it).
[[noreturn]] void rule_fail(std::string message, std::string hint = "") {
  throw RuleError{std::move(message), std::move(hint)};
}

std::string ts(const Type& t) { return type_to_string(t); }

std::string nth(size_t i) {
  static const char* names[] = {"first", "second", "third", "fourth", "fifth", "sixth"};
  return i < 6 ? names[i] : "operand " + std::to_string(i + 1);
}

bool is_numeric(DType d) { return d != DType::i1; }

int64_t attr_int(const Attrs& attrs, std::string_view name, int64_t fallback) {
  const Attr* a = find_attr(attrs, name);
  return a && a->kind == Attr::Kind::integer ? a->i : fallback;
}

bool attr_bool(const Attrs& attrs, std::string_view name) {
  const Attr* a = find_attr(attrs, name);
  return a && a->kind == Attr::Kind::boolean && a->b;
}

void require_on_chip_tile(const Type& t, std::string_view op, size_t index) {
  if (t.kind != TypeKind::tile)
    rule_fail("the " + nth(index) + " operand of '" + std::string(op) + "' must be a tile, got " + ts(t));
}

/// numpy broadcast of two shapes (trailing alignment); symbolic dims must match exactly unless one is 1.
std::vector<Expr> broadcast_two(const std::vector<Expr>& a, const std::vector<Expr>& b, std::string_view op) {
  const size_t n = std::max(a.size(), b.size());
  std::vector<Expr> out(n);
  for (size_t i = 0; i < n; ++i) {
    const Expr* da = i < n - a.size() ? nullptr : &a[i - (n - a.size())];
    const Expr* db = i < n - b.size() ? nullptr : &b[i - (n - b.size())];
    auto is_one = [](const Expr* d) { return d && const_value(*d) == std::optional<int64_t>(1); };
    if (!da) out[i] = *db;
    else if (!db) out[i] = *da;
    else if (dims_equal(*da, *db)) out[i] = *da;
    else if (is_one(da)) out[i] = *db;
    else if (is_one(db)) out[i] = *da;
    else
      rule_fail("'" + std::string(op) + "' cannot broadcast shapes " + shape_to_string(a) + " and " +
                    shape_to_string(b) + ": dim " + std::to_string(i) + " is " + expr_to_string(*da) + " vs " +
                    expr_to_string(*db),
                "broadcasting aligns trailing dims; each pair must be equal or one of them 1");
  }
  return out;
}

/// Shared rule of map ops: operands are tiles (any on-chip space) or scalars; returns the broadcast
/// result type with element dtype `dtype` (nullopt: the operands' common dtype).
Type map_result(const std::vector<Type>& ops, std::string_view name, std::optional<DType> result_dtype,
                size_t first_same_dtype = 0) {
  bool any_tile = false;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Type& t = ops[i];
    if (t.kind == TypeKind::tile) any_tile = true;
    else if (!t.is_scalar_like())
      rule_fail("the " + nth(i) + " operand of '" + std::string(name) + "' must be a tile or a scalar, got " +
                    ts(t),
                t.kind == TypeKind::global ? "load the tile from global memory first" : "");
  }
  // The operands from first_same_dtype on share one dtype (select's condition is separate).
  if (!any_tile) {
    bool any_index = false;
    for (size_t i = first_same_dtype; i < ops.size(); ++i) any_index |= ops[i].kind == TypeKind::index;
    if (any_index) {
      for (size_t i = first_same_dtype; i < ops.size(); ++i)
        if (!ops[i].is_int_scalar())
          rule_fail("'" + std::string(name) + "' mixes index with " + ts(ops[i]),
                    "index mixes only with integer scalars; cast the other operand");
      if (result_dtype) return Type::scalar_of(*result_dtype);
      return Type::index_type();
    }
    const DType d = ops[first_same_dtype].dtype;
    for (size_t i = first_same_dtype + 1; i < ops.size(); ++i)
      if (ops[i].dtype != d)
        rule_fail("operands of '" + std::string(name) + "' have different dtypes: " + ts(ops[first_same_dtype]) +
                      " and " + ts(ops[i]),
                  "the ISA inserts no implicit casts; use cast");
    return Type::scalar_of(result_dtype.value_or(d));
  }
  std::optional<DType> common;
  std::vector<Expr> shape;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Type& t = ops[i];
    if (t.kind == TypeKind::index)
      rule_fail("'" + std::string(name) + "' cannot combine an index scalar with tiles",
                "cast the index to the tile's dtype first");
    if (i >= first_same_dtype) {
      if (!common) common = t.dtype;
      else if (*common != t.dtype)
        rule_fail("operands of '" + std::string(name) + "' have different dtypes: " + dtype_name(*common) +
                      " and " + dtype_name(t.dtype),
                  "the ISA inserts no implicit casts; use cast");
    }
    if (t.kind == TypeKind::tile) shape = broadcast_two(shape, t.shape, name);
  }
  return Type::tile_of(result_dtype.value_or(*common), shape, MemSpace::reg);
}

void require_float(const Type& t, std::string_view name) {
  if (t.kind == TypeKind::index || !is_float(t.dtype))
    rule_fail("'" + std::string(name) + "' needs a float dtype, got " +
                  (t.kind == TypeKind::index ? std::string("index") : std::string(dtype_name(t.dtype))),
              t.kind == TypeKind::index ? "cast the index to f32 first" : "cast to f32 first");
}

bool mma_dtypes_ok(DType a, DType b, DType c) {
  auto f8f6f4 = [](DType d) { return d == DType::f8e4m3 || d == DType::f8e5m2 || d == DType::f4e2m1; };
  if (f8f6f4(a) && f8f6f4(b)) return c == DType::f32 || c == DType::f16;
  if (a != b) return false;
  switch (a) {
    case DType::f16: return c == DType::f32 || c == DType::f16;
    case DType::bf16:
    case DType::tf32:
    case DType::f32: return c == DType::f32;
    case DType::i8: return c == DType::i32;
    case DType::f64: return c == DType::f64;
    default: return false;
  }
}

std::vector<Type> rule_mma(const std::vector<Type>& o) {
  for (size_t i = 0; i < 3; ++i) {
    require_on_chip_tile(o[i], "mma", i);
    if (o[i].rank() != 2) rule_fail("'mma' operands must be rank 2, the " + nth(i) + " is " + ts(o[i]));
  }
  const Type &a = o[0], &b = o[1], &c = o[2];
  for (size_t i = 0; i < 2; ++i)
    if (o[i].space != MemSpace::reg && o[i].space != MemSpace::scratch)
      rule_fail("the " + nth(i) + " operand of 'mma' must be in @reg or @scratch, got @" +
                std::string(mem_space_name(o[i].space)));
  if (c.space != MemSpace::acc && c.space != MemSpace::reg)
    rule_fail("the accumulator of 'mma' must be in @acc or @reg, got @" + std::string(mem_space_name(c.space)),
              "create it with `zeros : tile<f32>[M, N] @acc`");
  if (!dims_equal(a.shape[1], b.shape[0]))
    rule_fail("'mma' shapes do not chain: a is " + shape_to_string(a.shape) + " (K = " +
              expr_to_string(a.shape[1]) + ") but b is " + shape_to_string(b.shape) + " (K = " +
              expr_to_string(b.shape[0]) + ")");
  if (!dims_equal(a.shape[0], c.shape[0]) || !dims_equal(b.shape[1], c.shape[1]))
    rule_fail("'mma' accumulator is " + shape_to_string(c.shape) + " but a.b is [" + expr_to_string(a.shape[0]) +
              ", " + expr_to_string(b.shape[1]) + "]");
  if (!mma_dtypes_ok(a.dtype, b.dtype, c.dtype))
    rule_fail(std::string("'mma' does not support ") + dtype_name(a.dtype) + " x " + dtype_name(b.dtype) +
                  " accumulating in " + dtype_name(c.dtype),
              "supported: f16->f32|f16, bf16->f32, tf32->f32, f32->f32, f64->f64, f8/f4 (any mix)->f32|f16, i8->i32");
  return {c};
}

std::vector<Type> rule_mma_scaled(const std::vector<Type>& o, const Attrs& attrs) {
  for (size_t i = 0; i < 5; ++i) {
    require_on_chip_tile(o[i], "mma_scaled", i);
    if (o[i].rank() != 2) rule_fail("'mma_scaled' operands must be rank 2, the " + nth(i) + " is " + ts(o[i]));
  }
  const Type &a = o[0], &sa = o[1], &b = o[2], &sb = o[3], &c = o[4];
  const int64_t block = attr_int(attrs, "block", 0);
  if (block != 16 && block != 32) rule_fail("'mma_scaled' block must be 16 or 32, got " + std::to_string(block));
  auto low_precision = [](DType d) { return d == DType::f8e4m3 || d == DType::f8e5m2 || d == DType::f4e2m1; };
  if (!low_precision(a.dtype) || !low_precision(b.dtype))
    rule_fail("'mma_scaled' inputs must be f8e4m3, f8e5m2 or f4e2m1, got " + std::string(dtype_name(a.dtype)) +
              " and " + dtype_name(b.dtype));
  if (sa.dtype != DType::f8e4m3 || sb.dtype != DType::f8e4m3)
    rule_fail("'mma_scaled' scales must be f8e4m3, got " + std::string(dtype_name(sa.dtype)) + " and " +
              dtype_name(sb.dtype));
  if (c.dtype != DType::f32) rule_fail("'mma_scaled' accumulates in f32, got " + std::string(dtype_name(c.dtype)));
  if (c.space != MemSpace::acc && c.space != MemSpace::reg)
    rule_fail("the accumulator of 'mma_scaled' must be in @acc or @reg");
  if (!dims_equal(a.shape[1], b.shape[0]) || !dims_equal(a.shape[0], c.shape[0]) ||
      !dims_equal(b.shape[1], c.shape[1]))
    rule_fail("'mma_scaled' shapes do not chain: a " + shape_to_string(a.shape) + ", b " +
              shape_to_string(b.shape) + ", c " + shape_to_string(c.shape));
  auto k = const_value(a.shape[1]);
  if (k) {
    if (*k % block != 0)
      rule_fail("'mma_scaled' K = " + std::to_string(*k) + " is not a multiple of block " + std::to_string(block));
    const Expr kb = Expr::constant_of(*k / block);
    if (!dims_equal(sa.shape[0], a.shape[0]) || !dims_equal(sa.shape[1], kb))
      rule_fail("'mma_scaled' scale of a must be [" + expr_to_string(a.shape[0]) + ", " + std::to_string(*k / block) +
                "], got " + shape_to_string(sa.shape));
    if (!dims_equal(sb.shape[0], kb) || !dims_equal(sb.shape[1], b.shape[1]))
      rule_fail("'mma_scaled' scale of b must be [" + std::to_string(*k / block) + ", " +
                expr_to_string(b.shape[1]) + "], got " + shape_to_string(sb.shape));
  }
  return {c};
}

int checked_axis(const Attrs& attrs, int rank, std::string_view name, int64_t fallback = 0) {
  const int64_t axis = attr_int(attrs, "axis", fallback);
  if (axis < 0 || axis >= rank)
    rule_fail("'" + std::string(name) + "' axis " + std::to_string(axis) + " is out of range for rank " +
              std::to_string(rank), "axes are 0-based: 0.." + std::to_string(rank - 1));
  return static_cast<int>(axis);
}

void check_tile_shape(const std::vector<Expr>& shape, std::string_view what) {
  if (shape.empty() || static_cast<int>(shape.size()) > kMaxTileRank)
    rule_fail(std::string(what) + " must have rank 1.." + std::to_string(kMaxTileRank) + ", got rank " +
              std::to_string(shape.size()));
  for (const Expr& d : shape) {
    auto v = const_value(d);
    if (v && *v <= 0) rule_fail(std::string(what) + " has a non-positive dim " + std::to_string(*v));
  }
}

std::vector<Type> rule_reduce(const std::vector<Type>& o, const Attrs& attrs, std::string_view name) {
  require_on_chip_tile(o[0], name, 0);
  if (!is_numeric(o[0].dtype)) rule_fail("'" + std::string(name) + "' needs a numeric dtype, got i1");
  const int axis = checked_axis(attrs, o[0].rank(), name);
  const bool keepdims = attr_bool(attrs, "keepdims");
  std::vector<Expr> shape = o[0].shape;
  if (keepdims) shape[static_cast<size_t>(axis)] = Expr::constant_of(1);
  else shape.erase(shape.begin() + axis);
  if (shape.empty()) return {Type::scalar_of(o[0].dtype)};
  return {Type::tile_of(o[0].dtype, shape, MemSpace::reg)};
}

std::vector<int64_t> constant_ints(const std::vector<Expr>& es, std::string_view what) {
  std::vector<int64_t> out;
  for (const Expr& e : es) {
    auto v = const_value(e);
    if (!v) rule_fail(std::string(what) + " must be constant integers, got " + expr_to_string(e));
    out.push_back(*v);
  }
  return out;
}

std::vector<Type> rule_transpose(const std::vector<Type>& o, const Attrs& attrs) {
  require_on_chip_tile(o[0], "transpose", 0);
  const int rank = o[0].rank();
  std::vector<int64_t> perm;
  if (const Attr* p = find_attr(attrs, "perm")) {
    perm = constant_ints(p->exprs, "transpose perm");
  } else {
    for (int i = rank - 1; i >= 0; --i) perm.push_back(i);
  }
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool is_perm = static_cast<int>(perm.size()) == rank;
  for (size_t i = 0; is_perm && i < sorted.size(); ++i) is_perm = sorted[i] == static_cast<int64_t>(i);
  if (!is_perm)
    rule_fail("transpose perm must be a permutation of 0.." + std::to_string(rank - 1) + " for rank " +
              std::to_string(rank));
  std::vector<Expr> shape;
  for (int64_t p : perm) shape.push_back(o[0].shape[static_cast<size_t>(p)]);
  return {Type::tile_of(o[0].dtype, shape, MemSpace::reg)};
}

std::vector<Type> rule_broadcast(const std::vector<Type>& o, const Attrs& attrs) {
  const Type& x = o[0];
  if (x.kind != TypeKind::tile && x.kind != TypeKind::scalar)
    rule_fail("'broadcast' needs a tile or a scalar, got " + ts(x));
  const std::vector<Expr>& target = find_attr(attrs, "shape")->exprs;
  check_tile_shape(target, "broadcast shape");
  if (x.rank() > static_cast<int>(target.size()))
    rule_fail("'broadcast' cannot lower rank " + std::to_string(x.rank()) + " to " + std::to_string(target.size()));
  const size_t lead = target.size() - x.shape.size();
  for (size_t i = 0; i < x.shape.size(); ++i) {
    const Expr& d = x.shape[i];
    if (!dims_equal(d, target[lead + i]) && const_value(d) != std::optional<int64_t>(1))
      rule_fail("'broadcast' cannot stretch " + shape_to_string(x.shape) + " to " + shape_to_string(target) +
                ": dim " + std::to_string(i) + " is " + expr_to_string(d) + ", not 1 or " +
                expr_to_string(target[lead + i]));
  }
  return {Type::tile_of(x.dtype, target, MemSpace::reg)};
}

std::vector<Type> rule_reshape(const std::vector<Type>& o, const Attrs& attrs) {
  require_on_chip_tile(o[0], "reshape", 0);
  const std::vector<Expr>& target = find_attr(attrs, "shape")->exprs;
  check_tile_shape(target, "reshape shape");
  Type result = Type::tile_of(o[0].dtype, target, MemSpace::reg);
  auto n_in = type_elements(o[0]);
  auto n_out = type_elements(result);
  if (n_in && n_out && *n_in != *n_out)
    rule_fail("'reshape' changes the element count: " + shape_to_string(o[0].shape) + " has " +
              std::to_string(*n_in) + " elements, " + shape_to_string(target) + " has " + std::to_string(*n_out));
  return {result};
}

std::vector<Type> rule_slice(const std::vector<Type>& o, const Attrs& attrs) {
  require_on_chip_tile(o[0], "slice", 0);
  const auto& offsets = find_attr(attrs, "offsets")->exprs;
  const auto& sizes = find_attr(attrs, "sizes")->exprs;
  const size_t rank = o[0].shape.size();
  if (offsets.size() != rank || sizes.size() != rank)
    rule_fail("'slice' needs one offset and one size per dim (rank " + std::to_string(rank) + ")");
  check_tile_shape(sizes, "slice sizes");
  for (size_t i = 0; i < rank; ++i) {
    auto off = const_value(offsets[i]);
    auto size = const_value(sizes[i]);
    auto dim = const_value(o[0].shape[i]);
    if (off && *off < 0) rule_fail("'slice' offset " + std::to_string(*off) + " is negative");
    if (off && size && dim && *off + *size > *dim)
      rule_fail("'slice' dim " + std::to_string(i) + " reads " + std::to_string(*off) + ".." +
                std::to_string(*off + *size - 1) + " of a dim of " + std::to_string(*dim));
  }
  return {Type::tile_of(o[0].dtype, sizes, MemSpace::reg)};
}

std::vector<Type> rule_subtile(const std::vector<Type>& o, const Attrs& attrs) {
  require_on_chip_tile(o[0], "subtile", 0);
  const Type& x = o[0];
  const size_t n_idx = o.size() - 1;
  if (static_cast<int>(n_idx) != x.rank())
    rule_fail("'subtile' indexes a rank-" + std::to_string(x.rank()) + " tile with " + std::to_string(n_idx) +
              " block coordinate" + (n_idx == 1 ? "" : "s"));
  for (size_t i = 1; i < o.size(); ++i)
    if (!o[i].is_int_scalar()) rule_fail("block coordinates of 'subtile' must be index or i32 scalars, got " + ts(o[i]));
  const std::vector<Expr>& shape = find_attr(attrs, "shape")->exprs;
  check_tile_shape(shape, "subtile shape");
  if (shape.size() != x.shape.size())
    rule_fail("'subtile' shape " + shape_to_string(shape) + " must have the rank of " + ts(x));
  for (size_t d = 0; d < shape.size(); ++d) {
    auto whole = const_value(x.shape[d]);
    auto part = const_value(shape[d]);
    if (whole && part && *whole % *part != 0)
      rule_fail("'subtile' block dim " + std::to_string(*part) + " does not divide dim " + std::to_string(d) + " (" +
                std::to_string(*whole) + ") of " + ts(x));
  }
  return {Type::tile_of(x.dtype, shape, x.space)};
}

std::vector<Type> rule_concat(const std::vector<Type>& o, const Attrs& attrs) {
  for (size_t i = 0; i < o.size(); ++i) require_on_chip_tile(o[i], "concat", i);
  const int axis = checked_axis(attrs, o[0].rank(), "concat");
  std::vector<Expr> shape = o[0].shape;
  for (size_t i = 1; i < o.size(); ++i) {
    if (o[i].dtype != o[0].dtype || o[i].rank() != o[0].rank())
      rule_fail("'concat' parts must share dtype and rank: " + ts(o[0]) + " vs " + ts(o[i]));
    for (int d = 0; d < o[0].rank(); ++d) {
      if (d == axis) continue;
      if (!dims_equal(o[i].shape[static_cast<size_t>(d)], o[0].shape[static_cast<size_t>(d)]))
        rule_fail("'concat' parts differ in dim " + std::to_string(d) + ": " + shape_to_string(o[0].shape) +
                  " vs " + shape_to_string(o[i].shape));
    }
    Expr& acc = shape[static_cast<size_t>(axis)];
    const Expr& add = o[i].shape[static_cast<size_t>(axis)];
    auto ca = const_value(acc);
    auto cb = const_value(add);
    if (ca && cb) acc = Expr::constant_of(*ca + *cb);
    else acc = Expr::binary(Expr::Kind::add, acc, add);
  }
  return {Type::tile_of(o[0].dtype, shape, MemSpace::reg)};
}

void check_index_tile(const Type& x, const Type& idx, int axis, std::string_view name) {
  if (idx.dtype != DType::i32 && idx.dtype != DType::i8)
    rule_fail("'" + std::string(name) + "' indices must be i32 or i8, got " + dtype_name(idx.dtype));
  if (idx.rank() != x.rank())
    rule_fail("'" + std::string(name) + "' indices must have the rank of x (" + std::to_string(x.rank()) + ")");
  for (int d = 0; d < x.rank(); ++d)
    if (d != axis && !dims_equal(idx.shape[static_cast<size_t>(d)], x.shape[static_cast<size_t>(d)]))
      rule_fail("'" + std::string(name) + "' indices " + shape_to_string(idx.shape) + " must match x " +
                shape_to_string(x.shape) + " except along axis " + std::to_string(axis));
}

std::vector<Type> rule_gather(const std::vector<Type>& o, const Attrs& attrs) {
  require_on_chip_tile(o[0], "gather", 0);
  require_on_chip_tile(o[1], "gather", 1);
  const int axis = checked_axis(attrs, o[0].rank(), "gather");
  check_index_tile(o[0], o[1], axis, "gather");
  return {Type::tile_of(o[0].dtype, o[1].shape, MemSpace::reg)};
}

std::vector<Type> rule_scatter(const std::vector<Type>& o, const Attrs& attrs) {
  for (size_t i = 0; i < 3; ++i) require_on_chip_tile(o[i], "scatter", i);
  const int axis = checked_axis(attrs, o[0].rank(), "scatter");
  check_index_tile(o[0], o[1], axis, "scatter");
  if (o[2].dtype != o[0].dtype) rule_fail("'scatter' updates must have x's dtype " + std::string(dtype_name(o[0].dtype)));
  if (o[2].rank() != o[1].rank())
    rule_fail("'scatter' updates must have the indices' shape " + shape_to_string(o[1].shape));
  for (size_t d = 0; d < o[1].shape.size(); ++d)
    if (!dims_equal(o[2].shape[d], o[1].shape[d]))
      rule_fail("'scatter' updates must have the indices' shape " + shape_to_string(o[1].shape));
  return {Type::tile_of(o[0].dtype, o[0].shape, MemSpace::reg)};
}

std::vector<Type> rule_explicit(OpId op, const Attrs& attrs, const std::optional<Type>& written) {
  const OpcodeInfo& info = opcode_info(op);
  const bool wants_scalar = op == OpId::constant;
  if (!written)
    rule_fail("'" + std::string(info.name) + "' needs its result type after ':'",
              wants_scalar ? "e.g. `" + std::string(info.example) + "`" : "e.g. `" + std::string(info.example) + "`");
  const Type& t = *written;
  if (wants_scalar) {
    if (!t.is_scalar_like()) rule_fail("'const' makes a scalar; got type " + ts(t));
    const Attr* v = find_attr(attrs, "value");
    if (v) {
      const bool int_type = t.is_int_scalar();
      if (t.kind == TypeKind::scalar && t.dtype == DType::i1) {
        if (v->kind == Attr::Kind::real || (v->kind == Attr::Kind::integer && v->i != 0 && v->i != 1))
          rule_fail("an i1 constant must be true, false, 0 or 1");
      } else if (int_type && v->kind == Attr::Kind::real) {
        rule_fail("constant " + std::to_string(v->f) + " is not an integer but the type is " + ts(t));
      } else if (!int_type && v->kind == Attr::Kind::boolean) {
        rule_fail("a boolean constant needs type i1, got " + ts(t));
      }
    }
    return {t};
  }
  if (t.kind != TypeKind::tile) rule_fail("'" + std::string(info.name) + "' makes a tile; got type " + ts(t));
  if (op == OpId::iota) {
    if (t.dtype == DType::i1) rule_fail("'iota' cannot make an i1 tile");
    checked_axis(attrs, t.rank(), "iota");
  }
  if (op == OpId::full) {
    const Attr* v = find_attr(attrs, "value");
    if (v && v->kind == Attr::Kind::boolean && t.dtype != DType::i1)
      rule_fail("'full' with a boolean value needs an i1 tile, got " + ts(t));
  }
  return {t};
}

/// Global tensor + tile coordinates: operand `buf_index` is the tensor, the rest after it are indices.
const Type& check_indexed(const std::vector<Type>& o, size_t buf_index, std::string_view name) {
  const Type& buf = o[buf_index];
  if (buf.kind != TypeKind::global)
    rule_fail("'" + std::string(name) + "' needs a global tensor, got " + ts(buf),
              buf.kind == TypeKind::tile ? "tiles are already on chip; use the value directly" : "");
  const size_t n_idx = o.size() - buf_index - 1;
  if (static_cast<int>(n_idx) != buf.rank())
    rule_fail("'" + std::string(name) + "' indexes a rank-" + std::to_string(buf.rank()) + " tensor with " +
              std::to_string(n_idx) + " coordinate" + (n_idx == 1 ? "" : "s"),
              "write one tile coordinate per dim: %A[%i, %j]");
  for (size_t i = buf_index + 1; i < o.size(); ++i)
    if (!o[i].is_int_scalar())
      rule_fail("tile coordinates of '" + std::string(name) + "' must be index or i32 scalars, got " + ts(o[i]));
  return buf;
}

std::vector<Type> rule_load(OpId op, const std::vector<Type>& o, const std::optional<Type>& written) {
  const bool async = op == OpId::copy_async;
  const char* name = async ? "copy_async" : "load";
  const Type& buf = check_indexed(o, 0, name);
  if (!written)
    rule_fail(std::string("'") + name + "' needs the tile type after ':'",
              std::string("e.g. `: tile<") + dtype_name(buf.dtype) + ">[128, 64] @" + (async ? "scratch" : "reg") + "`");
  const Type& t = *written;
  if (t.kind != TypeKind::tile) rule_fail(std::string("'") + name + "' produces a tile; got type " + ts(t));
  if (t.dtype != buf.dtype)
    rule_fail(std::string("'") + name + "' tile dtype " + dtype_name(t.dtype) + " differs from the tensor's " +
                  dtype_name(buf.dtype),
              "load in the tensor's dtype and cast afterwards");
  if (t.rank() != buf.rank())
    rule_fail(std::string("'") + name + "' tile rank " + std::to_string(t.rank()) + " differs from the tensor's " +
              std::to_string(buf.rank()));
  if (async && t.space != MemSpace::scratch)
    rule_fail("'copy_async' copies into @scratch, got @" + std::string(mem_space_name(t.space)));
  if (!async && t.space != MemSpace::reg && t.space != MemSpace::scratch)
    rule_fail("'load' produces a tile in @reg or @scratch, got @" + std::string(mem_space_name(t.space)),
              "load into @reg or @scratch, then move to @acc");
  return {t, Type::token_type()};
}

std::vector<Type> rule_store(OpId op, const std::vector<Type>& o) {
  const char* name = op == OpId::store ? "store" : "atomic_add";
  require_on_chip_tile(o[0], name, 0);
  const Type& buf = check_indexed(o, 1, name);
  if (o[0].dtype != buf.dtype)
    rule_fail(std::string("'") + name + "' of a " + dtype_name(o[0].dtype) + " tile into a " + dtype_name(buf.dtype) +
                  " tensor",
              "cast the tile first");
  if (o[0].rank() != buf.rank())
    rule_fail(std::string("'") + name + "' tile rank " + std::to_string(o[0].rank()) + " differs from the tensor's " +
              std::to_string(buf.rank()));
  if (op == OpId::atomic_add && !(buf.dtype == DType::f32 || buf.dtype == DType::f64 || buf.dtype == DType::f16 ||
                                  buf.dtype == DType::bf16 || buf.dtype == DType::i32))
    rule_fail(std::string("'atomic_add' supports f32, f64, f16, bf16 and i32, got ") + dtype_name(buf.dtype));
  return {Type::token_type()};
}

Type channel_tile(const Type& ch) { return Type::tile_of(ch.dtype, ch.shape, ch.space); }

std::vector<Type> rule_channel_op(OpId op, const std::vector<Type>& o) {
  if (o[0].kind != TypeKind::channel)
    rule_fail("the first operand of '" + std::string(opcode_info(op).name) + "' must be a channel, got " + ts(o[0]));
  if (op == OpId::put) {
    require_on_chip_tile(o[1], "put", 1);
    if (o[1].dtype != o[0].dtype || o[1].rank() != o[0].rank())
      rule_fail("'put' of " + ts(o[1]) + " into a channel of " + ts(channel_tile(o[0])));
    for (size_t d = 0; d < o[0].shape.size(); ++d)
      if (!dims_equal(o[1].shape[d], o[0].shape[d]))
        rule_fail("'put' of " + ts(o[1]) + " into a channel of " + ts(channel_tile(o[0])));
    return {Type::token_type()};
  }
  if (op == OpId::get) return {channel_tile(o[0]), Type::token_type()};
  return {Type::token_type()};  // release
}

std::vector<Type> rule_int_binary(const std::vector<Type>& o, std::string_view name) {
  for (size_t i = 0; i < 2; ++i)
    if (!o[i].is_int_scalar())
      rule_fail("the " + nth(i) + " operand of '" + std::string(name) + "' must be an integer scalar, got " + ts(o[i]));
  if (o[0].kind == TypeKind::index || o[1].kind == TypeKind::index) return {Type::index_type()};
  if (o[0].dtype != o[1].dtype)
    rule_fail("operands of '" + std::string(name) + "' have different dtypes: " + ts(o[0]) + " and " + ts(o[1]));
  return {o[0]};
}

std::vector<Type> apply_rule(OpId op, const std::vector<Type>& o, const Attrs& attrs,
                             const std::optional<Type>& written) {
  const OpcodeInfo& info = opcode_info(op);
  const std::string_view name = info.name;
  switch (info.rule) {
    case TypeRule::mma: return rule_mma(o);
    case TypeRule::mma_scaled: return rule_mma_scaled(o, attrs);
    case TypeRule::map_unary: {
      Type r = map_result(o, name, std::nullopt);
      if (r.kind != TypeKind::index && !is_numeric(r.dtype)) rule_fail("'" + std::string(name) + "' needs a numeric dtype, got i1");
      return {r};
    }
    case TypeRule::map_unary_float: {
      Type r = map_result(o, name, std::nullopt);
      require_float(r, name);
      return {r};
    }
    case TypeRule::map_binary:
    case TypeRule::map_ternary: {
      Type r = map_result(o, name, std::nullopt);
      if (r.kind != TypeKind::index && !is_numeric(r.dtype)) rule_fail("'" + std::string(name) + "' needs a numeric dtype, got i1");
      return {r};
    }
    case TypeRule::map_binary_float: {
      Type r = map_result(o, name, std::nullopt);
      require_float(r, name);
      return {r};
    }
    case TypeRule::compare: return {map_result(o, name, DType::i1)};
    case TypeRule::select: {
      const Type& cond = o[0];
      if (!((cond.kind == TypeKind::tile || cond.kind == TypeKind::scalar) && cond.dtype == DType::i1))
        rule_fail("the condition of 'select' must be i1, got " + ts(cond), "make it with a cmp.* op");
      return {map_result(o, name, std::nullopt, 1)};
    }
    case TypeRule::cast: {
      const DType to = find_attr(attrs, "to")->dtype;
      Type r = map_result(o, name, std::nullopt);
      if (r.kind == TypeKind::index) return {Type::scalar_of(to)};
      r.dtype = to;
      return {r};
    }
    case TypeRule::reduce: return rule_reduce(o, attrs, name);
    case TypeRule::transpose: return rule_transpose(o, attrs);
    case TypeRule::broadcast: return rule_broadcast(o, attrs);
    case TypeRule::reshape: return rule_reshape(o, attrs);
    case TypeRule::slice: return rule_slice(o, attrs);
    case TypeRule::subtile: return rule_subtile(o, attrs);
    case TypeRule::concat: return rule_concat(o, attrs);
    case TypeRule::gather: return rule_gather(o, attrs);
    case TypeRule::scatter: return rule_scatter(o, attrs);
    case TypeRule::explicit_type: return rule_explicit(op, attrs, written);
    case TypeRule::move: {
      require_on_chip_tile(o[0], "move", 0);
      Type r = o[0];
      r.space = find_attr(attrs, "space")->space;
      return {r};
    }
    case TypeRule::load:
    case TypeRule::copy_async: return rule_load(op, o, written);
    case TypeRule::store:
    case TypeRule::atomic_add: return rule_store(op, o);
    case TypeRule::wait:
      for (size_t i = 0; i < o.size(); ++i)
        if (o[i].kind != TypeKind::token)
          rule_fail("'wait' takes tokens; the " + nth(i) + " operand is " + ts(o[i]),
                    "memory ops return their token as the last result: %x, %t = load ...");
      return {Type::token_type()};
    case TypeRule::barrier:
    case TypeRule::fence: return {Type::token_type()};
    case TypeRule::put:
    case TypeRule::get:
    case TypeRule::release: return rule_channel_op(op, o);
    case TypeRule::cluster_load: {
      require_on_chip_tile(o[0], "cluster_load", 0);
      if (o[0].space != MemSpace::scratch)
        rule_fail("'cluster_load' reads a peer's @scratch tile, got @" + std::string(mem_space_name(o[0].space)));
      if (!o[1].is_int_scalar()) rule_fail("'cluster_load' rank must be an integer scalar, got " + ts(o[1]));
      Type r = o[0];
      r.space = MemSpace::reg;
      return {r, Type::token_type()};
    }
    case TypeRule::index_scalar: {
      if (op == OpId::program_id || op == OpId::num_programs) {
        const int64_t axis = attr_int(attrs, "axis", 0);
        if (axis < 0 || axis > 2) rule_fail("grid axis must be 0, 1 or 2, got " + std::to_string(axis));
      }
      return {Type::index_type()};
    }
    case TypeRule::scalar_int_binary: return rule_int_binary(o, name);
    case TypeRule::yield: return {};
    case TypeRule::for_:
    case TypeRule::if_: break;
  }
  panic("infer_result_types called for '", name, "', which has structural typing");
}

}  // namespace

InferResult infer_result_types(OpId op, const std::vector<Type>& operands, const Attrs& attrs,
                               const std::optional<Type>& written) {
  InferResult result;
  const OpcodeInfo& info = opcode_info(op);
  if (info.rule == TypeRule::for_ || info.rule == TypeRule::if_) {
    result.error = "'" + std::string(info.name) + "' is typed by its regions, not by infer_result_types";
    return result;
  }
  const int n = static_cast<int>(operands.size());
  if (n < info.min_operands || (info.max_operands >= 0 && n > info.max_operands)) {
    std::string want = info.max_operands == info.min_operands ? std::to_string(info.min_operands)
                       : info.max_operands < 0 ? "at least " + std::to_string(info.min_operands)
                       : std::to_string(info.min_operands) + ".." + std::to_string(info.max_operands);
    result.error = "'" + std::string(info.name) + "' takes " + want + " operand" + (want == "1" ? "" : "s") +
                   ", got " + std::to_string(n);
    result.hint = "usage: " + std::string(info.example);
    return result;
  }
  for (const Type& t : operands) {
    if (t.kind == TypeKind::none) {
      result.error = "operand of '" + std::string(info.name) + "' has no type";
      return result;
    }
  }
  result.error = check_attrs(op, attrs);
  if (!result.ok()) return result;
  try {
    result.types = apply_rule(op, operands, attrs, written);
  } catch (const RuleError& e) {
    result.error = e.message;
    result.hint = e.hint;
    return result;
  }
  const bool written_is_rule_input = info.rule == TypeRule::explicit_type || info.rule == TypeRule::load ||
                                     info.rule == TypeRule::copy_async;
  if (written && !written_is_rule_input) {
    if (result.types.empty() || result.types[0] != *written) {
      result.error = "result type written as " + type_to_string(*written) + " but '" + std::string(info.name) +
                     "' produces " + (result.types.empty() ? std::string("no value") : type_to_string(result.types[0]));
      result.hint = "drop the ': type' (it is inferred) or fix it";
      result.types.clear();
    }
  }
  return result;
}

// ---- cost hints ---------------------------------------------------------------------------------------

namespace {

std::optional<int64_t> elements_with(const Type& t, const SymbolValues& symbols) {
  if (t.kind == TypeKind::scalar || t.kind == TypeKind::index) return 1;
  int64_t n = 1;
  for (const Expr& d : t.shape) {
    auto v = eval_expr(d, symbols);
    if (!v || *v < 0 || __builtin_mul_overflow(n, *v, &n)) return std::nullopt;
  }
  return n;
}

std::optional<double> bytes_with(const Type& t, const SymbolValues& symbols) {
  auto n = elements_with(t, symbols);
  if (!n) return std::nullopt;
  const int b = t.kind == TypeKind::index ? 64 : bits(t.dtype);
  return std::ceil(static_cast<double>(*n) * b / 8.0);
}

}  // namespace

std::optional<OpWork> op_work(const Kernel& kernel, const Op& op, const SymbolValues& symbols) {
  OpWork w;
  const CostHint& hint = op.info().cost;
  auto type_of = [&](ValueId v) -> const Type& { return kernel.type_of(v); };
  auto result_type = [&]() -> const Type& { return type_of(op.results.at(0)); };
  switch (hint.kind) {
    case CostKind::none:
    case CostKind::sync:
    case CostKind::structure: return w;
    case CostKind::scalar: w.alu_ops = 1; return w;
    case CostKind::mma_flops: {
      const Type& a = type_of(op.operands.at(0));
      const Type& c = type_of(op.operands.back());
      auto m = eval_expr(c.shape.at(0), symbols);
      auto n = eval_expr(c.shape.at(1), symbols);
      auto k = eval_expr(a.shape.at(1), symbols);
      if (!m || !n || !k) return std::nullopt;
      w.flops = 2.0 * static_cast<double>(*m) * static_cast<double>(*n) * static_cast<double>(*k);
      return w;
    }
    case CostKind::alu:
    case CostKind::sfu: {
      auto n = elements_with(result_type(), symbols);
      if (!n) return std::nullopt;
      (hint.kind == CostKind::alu ? w.alu_ops : w.sfu_ops) = static_cast<double>(hint.ops_per_element) * static_cast<double>(*n);
      return w;
    }
    case CostKind::reduction: {
      auto n = elements_with(type_of(op.operands.at(0)), symbols);
      if (!n) return std::nullopt;
      w.reduce_ops = static_cast<double>(*n);
      return w;
    }
    case CostKind::data_movement: {
      std::optional<double> bytes = 0.0;
      switch (op.opcode) {
        case OpId::reshape:
        case OpId::subtile: break;  // views
        case OpId::scatter: bytes = bytes_with(type_of(op.operands.at(2)), symbols); break;
        case OpId::put: {
          const Type& x = type_of(op.operands.at(1));
          if (x.space != type_of(op.operands.at(0)).space) bytes = bytes_with(x, symbols);
          break;
        }
        default: bytes = bytes_with(result_type(), symbols);
      }
      if (!bytes) return std::nullopt;
      w.onchip_bytes = *bytes;
      return w;
    }
    case CostKind::global_memory: {
      std::optional<double> bytes;
      switch (op.opcode) {
        case OpId::store: bytes = bytes_with(type_of(op.operands.at(0)), symbols); break;
        case OpId::atomic_add: {
          bytes = bytes_with(type_of(op.operands.at(0)), symbols);
          if (bytes) *bytes *= 2;  // read-modify-write
          break;
        }
        default: bytes = bytes_with(result_type(), symbols);
      }
      if (!bytes) return std::nullopt;
      w.global_bytes = *bytes;
      return w;
    }
  }
  return w;
}

// ---- builder ----------------------------------------------------------------------------------------

Builder::Builder(Module& module, std::string kernel_name) : module_(module), kernel_index_(module.kernels.size()) {
  module_.kernels.emplace_back();
  module_.kernels.back().name = std::move(kernel_name);
}

Kernel& Builder::kernel() { return module_.kernels.at(kernel_index_); }

void Builder::fail(const std::string& message, const std::string& hint) const {
  Diagnostic d{Severity::error, loc_, message, hint};
  throw InputError(format_diagnostic(module_.source_name, module_.source_text, d));
}

std::string Builder::fresh_name(const std::string& hint) {
  const std::string base = hint.empty() ? "v" : hint;
  if (!hint.empty() && !names_.count(base)) return base;
  for (size_t i = kernel().values.size();; ++i) {
    std::string candidate = base + std::to_string(i);
    if (!names_.count(candidate)) return candidate;
  }
}

ValueId Builder::new_value(const std::string& name, Type type, ValueDef def) {
  Kernel& k = kernel();
  if (names_.count(name)) fail("value name '" + name + "' is already used in kernel @" + k.name);
  const auto id = static_cast<ValueId>(k.values.size());
  k.values.push_back(ValueInfo{name, std::move(type), def, loc_});
  names_.emplace(name, id);
  return id;
}

const Type& Builder::type_of(Value v) const {
  const Kernel& k = module_.kernels.at(kernel_index_);
  if (v.id < 0 || static_cast<size_t>(v.id) >= k.values.size()) fail("invalid value handle");
  return k.values[static_cast<size_t>(v.id)].type;
}

Value Builder::param_global(const std::string& name, DType dtype, std::vector<Expr> shape) {
  if (!frames_.empty() || !kernel().body.ops.empty()) fail("parameters must be declared before the body");
  const ValueId id = new_value(name, Type::global_of(dtype, std::move(shape)), ValueDef::param);
  kernel().params.push_back(Param{id, loc_});
  return Value{id};
}

Value Builder::param_scalar(const std::string& name, Type type) {
  if (!type.is_scalar_like()) fail("scalar parameter '" + name + "' needs a scalar type, got " + type_to_string(type));
  if (!frames_.empty() || !kernel().body.ops.empty()) fail("parameters must be declared before the body");
  const ValueId id = new_value(name, std::move(type), ValueDef::param);
  kernel().params.push_back(Param{id, loc_});
  return Value{id};
}

void Builder::set_grid(std::vector<Expr> grid) { kernel().grid = std::move(grid); }
void Builder::set_cluster(std::vector<Expr> cluster) { kernel().cluster = std::move(cluster); }
void Builder::set_resources(Resources r) { kernel().resources = std::move(r); }

Value Builder::channel(const std::string& name, int64_t stages, Type tile_type) {
  if (tile_type.kind != TypeKind::tile) fail("channel '" + name + "' must carry a tile type");
  if (stages < 1) fail("channel '" + name + "' needs at least 1 stage, got " + std::to_string(stages));
  tile_type.kind = TypeKind::channel;
  const ValueId id = new_value(name, std::move(tile_type), ValueDef::channel);
  kernel().channels.push_back(Channel{id, stages, loc_});
  return Value{id};
}

Block& Builder::current_block() {
  Kernel& k = kernel();
  Block* block = &k.body;
  size_t first = 0;
  if (!frames_.empty() && frames_[0].kind == Frame::Kind::role) {
    block = &k.roles.back().body;
    first = 1;
  }
  for (size_t i = first; i < frames_.size(); ++i) {
    Op& op = block->ops.at(frames_[i].op_index);
    block = &op.regions.at(frames_[i].kind == Frame::Kind::if_else ? 1 : 0);
  }
  return *block;
}

Block& Builder::parent_block_of_top() {
  Frame top = frames_.back();
  frames_.pop_back();
  Block& b = current_block();
  frames_.push_back(top);
  return b;
}

std::vector<Value> Builder::op_results(std::string_view opcode, const std::vector<Value>& operands,
                                       const Attrs& attrs, const std::optional<Type>& written,
                                       const std::vector<Value>& after, const std::string& name) {
  auto id = find_opcode(opcode);
  if (!id) {
    auto similar = similar_opcode_names(opcode);
    fail("unknown opcode '" + std::string(opcode) + "'", similar.empty() ? "" : "did you mean '" + similar[0] + "'?");
  }
  const OpcodeInfo& info = opcode_info(*id);
  if (info.rule == TypeRule::for_ || info.rule == TypeRule::if_ || info.rule == TypeRule::yield)
    fail("'" + std::string(info.name) + "' is structured: use begin_for/end_for or begin_if/end_if");
  if (!frames_.empty() || kernel().roles.empty()) {
    // fine: inside a role/region, or a kernel without roles
  } else {
    fail("kernel @" + kernel().name + " has roles: ops must go inside a role");
  }
  std::vector<Type> operand_types;
  for (Value v : operands) operand_types.push_back(type_of(v));
  for (Value t : after) {
    if (info.token == TokenPolicy::none) fail("'" + std::string(info.name) + "' does not take after(...)");
    if (type_of(t).kind != TypeKind::token) fail("after(...) takes tokens, got " + type_to_string(type_of(t)));
  }
  InferResult r = infer_result_types(*id, operand_types, attrs, written);
  if (!r.ok()) fail(r.error, r.hint);
  Op op;
  op.opcode = *id;
  op.loc = loc_;
  op.attrs = attrs;
  for (Value v : operands) op.operands.push_back(v.id);
  for (Value v : after) op.after.push_back(v.id);
  std::vector<Value> out;
  for (size_t i = 0; i < r.types.size(); ++i) {
    const bool is_token = r.types[i].kind == TypeKind::token;
    const std::string n = i == 0 && !name.empty() ? fresh_name(name) : fresh_name(is_token ? "t" : "v");
    const ValueId vid = new_value(n, r.types[i], ValueDef::op_result);
    op.results.push_back(vid);
    out.push_back(Value{vid});
  }
  current_block().ops.push_back(std::move(op));
  return out;
}

Value Builder::op(std::string_view opcode, const std::vector<Value>& operands, const Attrs& attrs,
                  const std::optional<Type>& written, const std::vector<Value>& after, const std::string& name) {
  auto results = op_results(opcode, operands, attrs, written, after, name);
  return results.empty() ? Value{} : results[0];
}

Value Builder::const_index(int64_t v, const std::string& name) {
  return op("const", {}, {{"value", Attr::integer_of(v)}}, Type::index_type(), {}, name);
}

Value Builder::const_scalar(DType d, double v, const std::string& name) {
  Attr value = is_float(d) ? Attr::real_of(v) : d == DType::i1 ? Attr::boolean_of(v != 0.0)
                                                                : Attr::integer_of(static_cast<int64_t>(v));
  return op("const", {}, {{"value", value}}, Type::scalar_of(d), {}, name);
}

Value Builder::program_id(int axis, const std::string& name) {
  return op("program_id", {}, {{"axis", Attr::integer_of(axis)}}, std::nullopt, {}, name);
}

Value Builder::zeros(Type tile_type, const std::string& name) { return op("zeros", {}, {}, tile_type, {}, name); }

Value Builder::full(Type tile_type, double value, const std::string& name) {
  return op("full", {}, {{"value", Attr::real_of(value)}}, tile_type, {}, name);
}

Builder::WithToken Builder::load(Value buffer, const std::vector<Value>& tile_index, Type tile_type,
                                 const std::vector<Value>& after, const std::string& name) {
  std::vector<Value> operands{buffer};
  operands.insert(operands.end(), tile_index.begin(), tile_index.end());
  auto r = op_results("load", operands, {}, tile_type, after, name);
  return {r.at(0), r.at(1)};
}

Builder::WithToken Builder::copy_async(Value buffer, const std::vector<Value>& tile_index, Type tile_type,
                                       const std::vector<Value>& after, const std::string& name) {
  std::vector<Value> operands{buffer};
  operands.insert(operands.end(), tile_index.begin(), tile_index.end());
  auto r = op_results("copy_async", operands, {}, tile_type, after, name);
  return {r.at(0), r.at(1)};
}

Value Builder::store(Value tile, Value buffer, const std::vector<Value>& tile_index, const std::vector<Value>& after) {
  std::vector<Value> operands{tile, buffer};
  operands.insert(operands.end(), tile_index.begin(), tile_index.end());
  return op("store", operands, {}, std::nullopt, after);
}

Value Builder::wait(const std::vector<Value>& tokens) { return op("wait", tokens); }

Value Builder::mma(Value a, Value b, Value acc, const std::string& name) {
  return op("mma", {a, b, acc}, {}, std::nullopt, {}, name);
}

Value Builder::binary(std::string_view opcode, Value a, Value b, const std::string& name) {
  return op(opcode, {a, b}, {}, std::nullopt, {}, name);
}

Value Builder::unary(std::string_view opcode, Value x, const std::string& name) {
  return op(opcode, {x}, {}, std::nullopt, {}, name);
}

Value Builder::cast(Value x, DType to, const std::string& name) {
  return op("cast", {x}, {{"to", Attr::dtype_of(to)}}, std::nullopt, {}, name);
}

Value Builder::reduce(std::string_view kind, Value x, int axis, bool keepdims, const std::string& name) {
  return op("reduce." + std::string(kind), {x},
            {{"axis", Attr::integer_of(axis)}, {"keepdims", Attr::boolean_of(keepdims)}}, std::nullopt, {}, name);
}

Builder::ForHandle Builder::begin_for(Value lo, Value hi, Value step, const std::vector<Value>& inits,
                                      std::optional<int64_t> stages, const std::string& induction_name,
                                      const std::vector<std::string>& iter_names) {
  for (Value v : {lo, hi, step})
    if (!type_of(v).is_int_scalar())
      fail("for bounds must be integer scalars, got " + type_to_string(type_of(v)));
  if (stages && *stages < 1) fail("for stages must be >= 1, got " + std::to_string(*stages));
  if (frames_.empty() && !kernel().roles.empty()) fail("kernel @" + kernel().name + " has roles: ops must go inside a role");
  Op op;
  op.opcode = OpId::for_;
  op.loc = loc_;
  op.operands = {lo.id, hi.id, step.id};
  for (Value v : inits) {
    type_of(v);
    op.operands.push_back(v.id);
  }
  if (stages) op.attrs.push_back({"stages", Attr::integer_of(*stages)});
  op.regions.emplace_back();
  ForHandle handle;
  const Type iv_type = type_of(lo).kind == TypeKind::index || type_of(hi).kind == TypeKind::index ||
                               type_of(step).kind == TypeKind::index
                           ? Type::index_type()
                           : type_of(lo);
  handle.induction = Value{new_value(fresh_name(induction_name.empty() ? "i" : induction_name), iv_type,
                                     ValueDef::region_arg)};
  op.regions[0].args.push_back(handle.induction.id);
  for (size_t i = 0; i < inits.size(); ++i) {
    const std::string hint = i < iter_names.size() ? iter_names[i] : "iter";
    Value arg{new_value(fresh_name(hint), type_of(inits[i]), ValueDef::region_arg)};
    op.regions[0].args.push_back(arg.id);
    handle.iter_args.push_back(arg);
  }
  Block& block = current_block();
  block.ops.push_back(std::move(op));
  frames_.push_back(Frame{Frame::Kind::for_body, block.ops.size() - 1});
  return handle;
}

void Builder::append_yield(const std::vector<Value>& yields) {
  if (yields.empty()) return;
  Op y;
  y.opcode = OpId::yield;
  y.loc = loc_;
  for (Value v : yields) {
    type_of(v);
    y.operands.push_back(v.id);
  }
  current_block().ops.push_back(std::move(y));
}

std::vector<Value> Builder::end_for(const std::vector<Value>& yields) {
  if (frames_.empty() || frames_.back().kind != Frame::Kind::for_body) fail("end_for without begin_for");
  append_yield(yields);
  Op& op = parent_block_of_top().ops.at(frames_.back().op_index);
  const size_t n_iter = op.operands.size() - 3;
  if (yields.size() != n_iter)
    fail("the loop carries " + std::to_string(n_iter) + " value(s) but end_for yields " + std::to_string(yields.size()));
  std::vector<Value> results;
  for (size_t i = 0; i < n_iter; ++i) {
    const Type& init = kernel().values[static_cast<size_t>(op.operands[3 + i])].type;
    if (type_of(yields[i]) != init)
      fail("yield " + std::to_string(i) + " has type " + type_to_string(type_of(yields[i])) + " but the iter value is " +
           type_to_string(init));
  }
  // new_value grows Kernel::values only, so `op` (inside a block) stays valid
  for (size_t i = 0; i < n_iter; ++i) {
    const Type t = kernel().values[static_cast<size_t>(op.operands[3 + i])].type;
    op.results.push_back(new_value(fresh_name("r"), t, ValueDef::op_result));
  }
  std::vector<ValueId> result_ids = op.results;
  for (ValueId id : result_ids) results.push_back(Value{id});
  frames_.pop_back();
  return results;
}

void Builder::begin_if(Value cond) {
  const Type& t = type_of(cond);
  if (!(t.kind == TypeKind::scalar && t.dtype == DType::i1)) fail("if condition must be an i1 scalar, got " + type_to_string(t));
  if (frames_.empty() && !kernel().roles.empty()) fail("kernel @" + kernel().name + " has roles: ops must go inside a role");
  Op op;
  op.opcode = OpId::if_;
  op.loc = loc_;
  op.operands = {cond.id};
  op.regions.emplace_back();
  Block& block = current_block();
  block.ops.push_back(std::move(op));
  frames_.push_back(Frame{Frame::Kind::if_then, block.ops.size() - 1});
}

void Builder::begin_else(const std::vector<Value>& yields) {
  if (frames_.empty() || frames_.back().kind != Frame::Kind::if_then) fail("begin_else without begin_if");
  append_yield(yields);
  Op& op = parent_block_of_top().ops.at(frames_.back().op_index);
  op.regions.emplace_back();
  frames_.back().kind = Frame::Kind::if_else;
}

std::vector<Value> Builder::end_if(const std::vector<Value>& yields) {
  if (frames_.empty() || (frames_.back().kind != Frame::Kind::if_then && frames_.back().kind != Frame::Kind::if_else))
    fail("end_if without begin_if");
  append_yield(yields);
  Op& op = parent_block_of_top().ops.at(frames_.back().op_index);
  // Result types come from the then-branch's yield.
  std::vector<Type> types;
  const Block& then_block = op.regions.at(0);
  if (!then_block.ops.empty() && then_block.ops.back().opcode == OpId::yield)
    for (ValueId v : then_block.ops.back().operands) types.push_back(kernel().values[static_cast<size_t>(v)].type);
  if (!types.empty() && op.regions.size() < 2) fail("an if with results needs an else branch");
  std::vector<ValueId> ids;
  for (const Type& t : types) ids.push_back(new_value(fresh_name("r"), t, ValueDef::op_result));
  parent_block_of_top().ops.at(frames_.back().op_index).results = ids;
  frames_.pop_back();
  std::vector<Value> out;
  for (ValueId id : ids) out.push_back(Value{id});
  return out;
}

void Builder::begin_role(const std::string& name, int64_t count, Attrs hints) {
  if (!frames_.empty()) fail("roles cannot nest or sit inside regions");
  if (!kernel().body.ops.empty()) fail("kernel @" + kernel().name + " already has ops outside roles");
  if (count < 1) fail("role count must be >= 1, got " + std::to_string(count));
  Role r;
  r.name = name;
  r.count = count;
  r.hints = std::move(hints);
  r.loc = loc_;
  kernel().roles.push_back(std::move(r));
  frames_.push_back(Frame{Frame::Kind::role, 0});
}

void Builder::end_role() {
  if (frames_.size() != 1 || frames_.back().kind != Frame::Kind::role) fail("end_role without begin_role (or an open region)");
  frames_.pop_back();
}

}  // namespace tilesim::isa

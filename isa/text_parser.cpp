// Lexer and recursive-descent parser for `.tile` text. See docs/isa-grammar.md for the grammar.
#include "isa/text_parser.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "isa/tile_value.hpp"
#include "isa/verifier.hpp"
#include "sim/error.hpp"

namespace tilesim::isa {

namespace {

// ---- lexer --------------------------------------------------------------------------------------------

enum class Tok {
  eof, ident, value_name, at_name, integer, real,
  lparen, rparen, lbracket, rbracket, lbrace, rbrace, langle, rangle,
  comma, colon, equals, plus, minus, star, slash, bang, times,
};

const char* tok_description(Tok t) {
  switch (t) {
    case Tok::eof: return "end of file";
    case Tok::ident: return "identifier";
    case Tok::value_name: return "value name (%name)";
    case Tok::at_name: return "@name";
    case Tok::integer: return "integer";
    case Tok::real: return "number";
    case Tok::lparen: return "'('";
    case Tok::rparen: return "')'";
    case Tok::lbracket: return "'['";
    case Tok::rbracket: return "']'";
    case Tok::lbrace: return "'{'";
    case Tok::rbrace: return "'}'";
    case Tok::langle: return "'<'";
    case Tok::rangle: return "'>'";
    case Tok::comma: return "','";
    case Tok::colon: return "':'";
    case Tok::equals: return "'='";
    case Tok::plus: return "'+'";
    case Tok::minus: return "'-'";
    case Tok::star: return "'*'";
    case Tok::slash: return "'/'";
    case Tok::bang: return "'!'";
    case Tok::times: return "'×'";
  }
  return "?";
}

struct Token {
  Tok kind = Tok::eof;
  std::string_view text;  // for names: without the sigil
  int line = 1;
  int col = 1;
  int64_t ival = 0;
  double fval = 0.0;
};

/// Error reporting shared by lexer and parser.
class Reporter {
 public:
  Reporter(std::string_view text, std::string source_name) : text_(text), source_name_(std::move(source_name)) {}
  [[noreturn]] void fail(SourceLoc loc, const std::string& message, const std::string& hint = "") const {
    Diagnostic d{Severity::error, loc, message, hint};
    throw InputError(format_diagnostic(source_name_, std::string(text_), d));
  }
  const std::string& source_name() const { return source_name_; }

 private:
  std::string_view text_;
  std::string source_name_;
};

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c) || c == '.'; }

std::string printable_char(unsigned char c) {
  if (c >= 0x21 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02X", c);
  return std::string("byte ") + buf;
}

std::vector<Token> lex(std::string_view s, const Reporter& rep) {
  std::vector<Token> out;
  size_t i = 0;
  int line = 1;
  size_t line_start = 0;
  auto loc_at = [&](size_t pos) { return SourceLoc{line, static_cast<int>(pos - line_start) + 1}; };
  while (true) {
    // whitespace and comments
    while (i < s.size()) {
      const char c = s[i];
      if (c == '\n') {
        ++i;
        ++line;
        line_start = i;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
      } else if (c == '#' || (c == '/' && i + 1 < s.size() && s[i + 1] == '/')) {
        while (i < s.size() && s[i] != '\n') ++i;
      } else {
        break;
      }
    }
    Token t;
    const SourceLoc here = loc_at(i);
    t.line = here.line;
    t.col = here.col;
    if (i >= s.size()) {
      t.kind = Tok::eof;
      out.push_back(t);
      return out;
    }
    const char c = s[i];
    auto single = [&](Tok k) {
      t.kind = k;
      t.text = s.substr(i, 1);
      ++i;
    };
    if (is_name_start(c)) {
      const size_t start = i;
      while (i < s.size() && is_name_char(s[i])) ++i;
      t.kind = Tok::ident;
      t.text = s.substr(start, i - start);
    } else if (c == '%' || c == '@') {
      const size_t start = ++i;
      while (i < s.size() && is_name_char(s[i])) ++i;
      if (i == start)
        rep.fail(here, std::string("expected a name after '") + c + "'",
                 c == '%' ? "values are written %name, e.g. %acc" : "kernels are written @name");
      t.kind = c == '%' ? Tok::value_name : Tok::at_name;
      t.text = s.substr(start, i - start);
    } else if (is_digit(c)) {
      const size_t start = i;
      bool real = false;
      if (c == '0' && i + 1 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        i += 2;
        const size_t digits = i;
        uint64_t v = 0;
        while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) {
          const char h = s[i];
          const int d = is_digit(h) ? h - '0' : (h | 0x20) - 'a' + 10;
          if (v > (static_cast<uint64_t>(INT64_MAX) >> 4)) rep.fail(here, "integer literal is too large");
          v = v * 16 + static_cast<uint64_t>(d);
          ++i;
        }
        if (i == digits) rep.fail(here, "expected hex digits after '0x'");
        if (v > static_cast<uint64_t>(INT64_MAX)) rep.fail(here, "integer literal is too large");
        t.ival = static_cast<int64_t>(v);
      } else {
        while (i < s.size() && is_digit(s[i])) ++i;
        if (i + 1 < s.size() && s[i] == '.' && is_digit(s[i + 1])) {
          real = true;
          ++i;
          while (i < s.size() && is_digit(s[i])) ++i;
        }
        if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
          size_t j = i + 1;
          if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
          if (j < s.size() && is_digit(s[j])) {
            real = true;
            i = j;
            while (i < s.size() && is_digit(s[i])) ++i;
          }
        }
        const std::string literal(s.substr(start, i - start));
        if (literal.size() > 400) rep.fail(here, "number literal is too long");
        if (real) {
          errno = 0;
          const double v = std::strtod(literal.c_str(), nullptr);
          if (errno == ERANGE && std::isinf(v)) rep.fail(here, "number literal " + literal + " is out of range");
          t.fval = v;
        } else {
          int64_t v = 0;
          for (char d : literal) {
            if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d - '0', &v))
              rep.fail(here, "integer literal is too large (the limit is 2^63-1)");
          }
          t.ival = v;
        }
      }
      if (i < s.size() && is_name_char(s[i]))
        rep.fail(loc_at(i), "unexpected " + printable_char(static_cast<unsigned char>(s[i])) + " after a number");
      t.kind = real ? Tok::real : Tok::integer;
      t.text = s.substr(start, i - start);
    } else {
      switch (c) {
        case '(': single(Tok::lparen); break;
        case ')': single(Tok::rparen); break;
        case '[': single(Tok::lbracket); break;
        case ']': single(Tok::rbracket); break;
        case '{': single(Tok::lbrace); break;
        case '}': single(Tok::rbrace); break;
        case '<': single(Tok::langle); break;
        case '>': single(Tok::rangle); break;
        case ',': single(Tok::comma); break;
        case ':': single(Tok::colon); break;
        case '=': single(Tok::equals); break;
        case '+': single(Tok::plus); break;
        case '-': single(Tok::minus); break;
        case '*': single(Tok::star); break;
        case '/': single(Tok::slash); break;
        case '!': single(Tok::bang); break;
        default:
          // U+00D7 MULTIPLICATION SIGN, as in `role consumer ×2`
          if (static_cast<unsigned char>(c) == 0xC3 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x97) {
            t.kind = Tok::times;
            t.text = s.substr(i, 2);
            i += 2;
          } else {
            rep.fail(here, "unexpected " + printable_char(static_cast<unsigned char>(c)),
                     static_cast<unsigned char>(c) >= 0x80 ? "only ASCII is allowed outside comments" : "");
          }
      }
    }
    out.push_back(t);
  }
}

// ---- parser -------------------------------------------------------------------------------------------

const char* const kReserved[] = {"kernel", "grid", "cluster", "resources", "channel", "role", "for", "if",
                                 "else", "to", "step", "iter", "after", "tile", "global", "index", "true",
                                 "false", "of", "stages", "inf", "nan", "cdiv", "min", "max", "ceil"};

bool is_reserved(std::string_view s) {
  for (const char* r : kReserved)
    if (s == r) return true;
  return static_cast<bool>(parse_dtype(s));
}

class Parser {
 public:
  Parser(std::string_view text, std::string source_name) : text_(text), rep_(text, source_name) {
    toks_ = lex(text, rep_);
  }

  Module parse() {
    Module m;
    m.source_name = rep_.source_name();
    m.source_text = std::string(text_);
    while (peek().kind != Tok::eof) {
      const Token& t = peek();
      if (!(t.kind == Tok::ident && t.text == "kernel"))
        fail(t, "expected 'kernel', found " + describe(t), "a .tile file is a list of `kernel @name(...) { ... }`");
      m.kernels.emplace_back();
      parse_kernel(m.kernels.back());
      for (size_t i = 0; i + 1 < m.kernels.size(); ++i)
        if (m.kernels[i].name == m.kernels.back().name)
          rep_.fail(m.kernels.back().loc, "kernel @" + m.kernels.back().name + " is defined twice (first at " +
                                              loc_text(m.kernels[i].loc) + ")");
    }
    return m;
  }

 private:
  // ---- token stream ----
  const Token& peek(size_t k = 0) const {
    const size_t j = std::min(pos_ + k, toks_.size() - 1);
    return toks_[j];
  }
  Token next() {
    const Token t = peek();
    if (pos_ < toks_.size() - 1) ++pos_;
    last_line_ = t.line;
    return t;
  }
  bool at(Tok k) const { return peek().kind == k; }
  bool at_ident(std::string_view s) const { return peek().kind == Tok::ident && peek().text == s; }
  bool same_line() const { return peek().kind != Tok::eof && peek().line == last_line_; }
  static SourceLoc loc_of(const Token& t) { return SourceLoc{t.line, t.col}; }
  static std::string loc_text(SourceLoc l) { return std::to_string(l.line) + ":" + std::to_string(l.col); }

  std::string describe(const Token& t) const {
    switch (t.kind) {
      case Tok::eof: return "end of file";
      case Tok::ident: return "'" + std::string(t.text) + "'";
      case Tok::value_name: return "'%" + std::string(t.text) + "'";
      case Tok::at_name: return "'@" + std::string(t.text) + "'";
      case Tok::integer:
      case Tok::real: return "number " + std::string(t.text);
      default: return tok_description(t.kind);
    }
  }

  [[noreturn]] void fail(const Token& t, const std::string& message, const std::string& hint = "") const {
    rep_.fail(loc_of(t), message, hint);
  }

  Token expect(Tok k, const std::string& context) {
    if (!at(k)) fail(peek(), std::string("expected ") + tok_description(k) + " " + context + ", found " + describe(peek()));
    return next();
  }

  void expect_ident(std::string_view word, const std::string& context) {
    if (!at_ident(word)) fail(peek(), "expected '" + std::string(word) + "' " + context + ", found " + describe(peek()));
    next();
  }

  struct DepthGuard {
    DepthGuard(Parser& p, const Token& at) : p_(p) {
      if (++p_.depth_ > kMaxNestingDepth)
        p_.fail(at, "nesting is too deep (more than " + std::to_string(kMaxNestingDepth) + " levels)",
                "split the kernel or flatten the expression");
    }
    ~DepthGuard() { --p_.depth_; }
    Parser& p_;
  };

  // ---- values and scopes ----
  // A name is visible from its definition to the end of its scope (kernel, role, for body, if branch).
  // Names must not shadow a visible name; once a scope closes its names may be used again (each role
  // can have its own %pm).

  int open_scope(std::string kind) {
    scope_names_.emplace_back();
    scope_kind_.push_back(std::move(kind));
    return static_cast<int>(scope_kind_.size()) - 1;
  }

  void close_scope(int s) {
    for (const std::string& n : scope_names_[static_cast<size_t>(s)]) {
      auto it = names_.find(n);
      if (it == names_.end()) continue;
      hidden_names_[n] = it->second;
      names_.erase(it);
    }
    scope_names_[static_cast<size_t>(s)].clear();
  }

  ValueId define(const Token& name_tok, std::string name, Type type, ValueDef def) {
    if (!name.empty()) {
      auto it = names_.find(name);
      if (it != names_.end()) {
        const ValueInfo& prev = k_->value(it->second);
        fail(name_tok, "redefinition of " + sigil(it->second) + name + " (first defined at " + loc_text(prev.loc) + ")",
             "a name may not be reused while it is visible; pick a new name");
      }
    }
    const auto id = static_cast<ValueId>(k_->values.size());
    k_->values.push_back(ValueInfo{name, std::move(type), def, loc_of(name_tok)});
    value_scope_.push_back(current_scope_);
    if (!name.empty()) {
      scope_names_[static_cast<size_t>(current_scope_)].push_back(name);
      names_.emplace(std::move(name), id);
    }
    return id;
  }

  std::string sigil(ValueId id) const {
    const ValueInfo& v = k_->value(id);
    return v.def == ValueDef::param && v.type.is_scalar_like() ? "" : "%";
  }

  std::string suggest_value(std::string_view name, bool percent) const {
    std::string best;
    int best_d = std::max(1, static_cast<int>(name.size()) / 3) + 1;
    int checked = 0;
    for (const auto& [n, id] : names_) {
      if (++checked > 4096) break;  // bound the work on huge inputs
      const bool is_bare = sigil(id).empty();
      if (is_bare == percent) continue;
      const int d = edit_distance(name, n);
      if (d < best_d) {
        best_d = d;
        best = n;
      }
    }
    return best.empty() ? "" : "did you mean " + std::string(percent ? "%" : "") + best + "?";
  }

  /// A value use: %name, or a bare scalar-parameter name.
  ValueId use_value(const Token& t) {
    const bool percent = t.kind == Tok::value_name;
    const std::string name(t.text);
    auto it = names_.find(name);
    if (it == names_.end() && percent) {
      auto hidden = hidden_names_.find(name);
      if (hidden != hidden_names_.end()) {
        const int s = value_scope_[static_cast<size_t>(hidden->second)];
        const std::string& kind = scope_kind_[static_cast<size_t>(s)];
        fail(t, "%" + name + " (defined at " + loc_text(k_->value(hidden->second).loc) + " inside a " + kind +
                    ") is not visible here",
             kind == "role" ? "values cross roles only through channels" : "pass it out of the region with yield");
      }
    }
    if (it == names_.end() || sigil(it->second).empty() == percent) {
      if (!percent) {
        const std::string suggestion = suggest_value(name, false);
        fail(t, "unknown name '" + name + "'",
             it != names_.end() ? "write %" + name
                                : suggestion.empty() ? "bare names refer to scalar kernel parameters" : suggestion);
      }
      if (it != names_.end()) fail(t, "'" + name + "' is a scalar parameter: write it without '%'");
      fail(t, "unknown value %" + name, suggest_value(name, true));
    }
    return it->second;
  }

  // ---- expressions ----
  /// Outermost entry resets the node budget: an expression's tree (and so every recursive walk over it)
  /// stays small whatever the input.
  Expr parse_expr() {
    if (expr_depth_ == 0) expr_nodes_ = 0;
    ++expr_depth_;
    struct Leave {
      int& d;
      ~Leave() { --d; }
    } leave{expr_depth_};
    return parse_sum();
  }

  void count_expr_node(const Token& at) {
    if (++expr_nodes_ > kMaxExprNodes) fail(at, "expression is too large (more than " + std::to_string(kMaxExprNodes) + " terms)");
  }

  Expr parse_sum() {
    Expr e = parse_product();
    while (at(Tok::plus) || at(Tok::minus)) {
      const Token op_tok = next();
      const Tok op = op_tok.kind;
      count_expr_node(op_tok);
      e = Expr::binary(op == Tok::plus ? Expr::Kind::add : Expr::Kind::sub, std::move(e), parse_product());
    }
    return e;
  }

  Expr parse_product() {
    Expr e = parse_unary();
    while (at(Tok::star) || at(Tok::slash)) {
      const Token op_tok = next();
      const Tok op = op_tok.kind;
      count_expr_node(op_tok);
      e = Expr::binary(op == Tok::star ? Expr::Kind::mul : Expr::Kind::div, std::move(e), parse_unary());
    }
    return e;
  }

  Expr parse_unary() {
    if (at(Tok::minus)) {
      DepthGuard guard(*this, peek());
      count_expr_node(next());
      return Expr::negate(parse_unary());
    }
    return parse_primary();
  }

  Expr parse_primary() {
    const Token t = peek();
    if (t.kind == Tok::integer) {
      next();
      return Expr::constant_of(t.ival);
    }
    if (t.kind == Tok::lparen) {
      DepthGuard guard(*this, t);
      next();
      Expr e = parse_expr();
      expect(Tok::rparen, "to close '('");
      return e;
    }
    if (t.kind == Tok::ident) {
      next();
      if (t.text == "cdiv" || t.text == "min" || t.text == "max") {
        DepthGuard guard(*this, t);
        count_expr_node(t);
        expect(Tok::lparen, "after '" + std::string(t.text) + "'");
        Expr a = parse_expr();
        expect(Tok::comma, "between the arguments of " + std::string(t.text));
        Expr b = parse_expr();
        expect(Tok::rparen, "to close " + std::string(t.text) + "(");
        const Expr::Kind k = t.text == "cdiv" ? Expr::Kind::cdiv : t.text == "min" ? Expr::Kind::min : Expr::Kind::max;
        return Expr::binary(k, std::move(a), std::move(b));
      }
      if (t.text == "ceil") {
        // ceil(a / b) is sugar for cdiv(a, b)
        DepthGuard guard(*this, t);
        expect(Tok::lparen, "after 'ceil'");
        Expr e = parse_expr();
        expect(Tok::rparen, "to close ceil(");
        if (e.kind != Expr::Kind::div) fail(t, "ceil(...) takes a division, e.g. ceil(M / 128)");
        e.kind = Expr::Kind::cdiv;
        return e;
      }
      if (is_reserved(t.text)) fail(t, "'" + std::string(t.text) + "' cannot appear in an expression");
      check_symbol(t);
      return Expr::symbol_of(std::string(t.text));
    }
    if (t.kind == Tok::real) fail(t, "expressions are integer-only; found " + describe(t));
    if (t.kind == Tok::value_name)
      fail(t, "shapes and grid sizes use kernel constants, not SSA values; found " + describe(t),
           "use a scalar parameter name like M, without '%'");
    fail(t, "expected an integer expression, found " + describe(t));
  }

  void check_symbol(const Token& t) {
    if (defer_symbols_) {
      deferred_symbols_.push_back(t);
      return;
    }
    auto it = names_.find(std::string(t.text));
    if (it == names_.end() || k_->value(it->second).def != ValueDef::param || !sigil(it->second).empty())
      fail(t, "unknown kernel constant '" + std::string(t.text) + "'",
           "shapes may use integer scalar parameters of the kernel, e.g. `M: i32`");
    if (!k_->value(it->second).type.is_int_scalar())
      fail(t, "'" + std::string(t.text) + "' is " + type_to_string(k_->value(it->second).type) +
                  "; shapes need an integer parameter (i32 or index)");
  }

  std::vector<Expr> parse_shape(const std::string& context) {
    expect(Tok::lbracket, context);
    std::vector<Expr> dims;
    if (at(Tok::rbracket)) fail(peek(), "a shape needs at least one dim");
    while (true) {
      const Token start = peek();
      dims.push_back(parse_expr());
      if (auto v = const_value(dims.back()); v && *v <= 0)
        fail(start, "dims must be positive, got " + std::to_string(*v));
      if (static_cast<int>(dims.size()) > kMaxTileRank)
        fail(start, "rank is limited to " + std::to_string(kMaxTileRank));
      if (at(Tok::comma)) {
        next();
        continue;
      }
      expect(Tok::rbracket, "to close the shape");
      return dims;
    }
  }

  // ---- types ----
  DType parse_dtype_tok(const std::string& context) {
    const Token t = peek();
    if (t.kind == Tok::ident) {
      if (auto d = parse_dtype(t.text)) {
        next();
        return *d;
      }
    }
    fail(t, "expected a dtype " + context + ", found " + describe(t),
         "dtypes: f32 f64 tf32 f16 bf16 f8e4m3 f8e5m2 f4e2m1 i8 i32 i1");
  }

  Type parse_type() {
    const Token t = peek();
    if (t.kind == Tok::bang) {
      next();
      if (!at_ident("token")) fail(peek(), "expected 'token' after '!'");
      next();
      return Type::token_type();
    }
    if (t.kind != Tok::ident) fail(t, "expected a type, found " + describe(t));
    if (t.text == "index") {
      next();
      return Type::index_type();
    }
    if (t.text == "tile" || t.text == "global") {
      next();
      expect(Tok::langle, "after '" + std::string(t.text) + "'");
      const DType d = parse_dtype_tok("in the " + std::string(t.text) + " type");
      expect(Tok::rangle, "after the dtype");
      std::vector<Expr> shape = parse_shape("(the " + std::string(t.text) + "'s shape)");
      if (t.text == "global") return Type::global_of(d, std::move(shape));
      MemSpace space = MemSpace::reg;
      if (at(Tok::at_name)) {
        const Token s = next();
        auto sp = parse_mem_space(s.text);
        if (!sp || *sp == MemSpace::global)
          fail(s, "unknown tile space '@" + std::string(s.text) + "'", "tile spaces: @reg, @scratch, @acc");
        space = *sp;
      }
      return Type::tile_of(d, std::move(shape), space);
    }
    if (auto d = parse_dtype(t.text)) {
      next();
      return Type::scalar_of(*d);
    }
    fail(t, "expected a type, found " + describe(t), "types: index, f32, i32, i1, ..., tile<dtype>[dims] @space, !token");
  }

  // ---- attributes ----
  Attr parse_attr_value(const AttrSpec& spec, const std::string& op_name) {
    const Token t = peek();
    auto bad = [&](const std::string& want) -> Attr {
      fail(t, "attribute '" + std::string(spec.name) + "' of '" + op_name + "' must be " + want + ", found " + describe(t));
    };
    switch (spec.kind) {
      case AttrKind::integer: {
        bool negative = false;
        if (at(Tok::minus)) {
          next();
          negative = true;
        }
        if (!at(Tok::integer)) return bad("an integer");
        const int64_t v = next().ival;
        return Attr::integer_of(negative ? -v : v);
      }
      case AttrKind::number: {
        bool negative = false;
        if (at(Tok::minus)) {
          next();
          negative = true;
        }
        const Token n = peek();
        if (n.kind == Tok::integer) {
          next();
          return Attr::integer_of(negative ? -n.ival : n.ival);
        }
        if (n.kind == Tok::real) {
          next();
          return Attr::real_of(negative ? -n.fval : n.fval);
        }
        if (n.kind == Tok::ident && (n.text == "inf" || n.text == "nan")) {
          next();
          const double v = n.text == "inf" ? HUGE_VAL : std::nan("");
          return Attr::real_of(negative ? -v : v);
        }
        if (!negative && n.kind == Tok::ident && (n.text == "true" || n.text == "false")) {
          next();
          return Attr::boolean_of(n.text == "true");
        }
        return bad("a number (or true/false)");
      }
      case AttrKind::boolean:
        if (at_ident("true") || at_ident("false")) return Attr::boolean_of(next().text == "true");
        return bad("true or false");
      case AttrKind::dtype: return Attr::dtype_of(parse_dtype_tok("for attribute '" + std::string(spec.name) + "'"));
      case AttrKind::space: {
        if (at(Tok::ident) || at(Tok::at_name)) {
          auto sp = parse_mem_space(t.text);
          if (sp && *sp != MemSpace::global) {
            next();
            return Attr::space_of(*sp);
          }
        }
        return bad("reg, scratch or acc");
      }
      case AttrKind::word: {
        if (at(Tok::ident))
          for (auto c : spec.choices)
            if (c == t.text) return Attr::word_of(std::string(next().text));
        std::string want = "one of";
        for (auto c : spec.choices) want += " " + std::string(c);
        return bad(want);
      }
      case AttrKind::exprs: {
        if (!at(Tok::lbracket)) return bad("a list like [128, 64]");
        next();
        std::vector<Expr> list;
        if (!at(Tok::rbracket)) {
          while (true) {
            list.push_back(parse_expr());
            if (list.size() > 16) fail(t, "attribute list is too long");
            if (!at(Tok::comma)) break;
            next();
          }
        }
        expect(Tok::rbracket, "to close the list");
        return Attr::exprs_of(std::move(list));
      }
    }
    return bad("a value");
  }

  /// `name=value`; the spec decides how the value is read.
  void parse_named_attr(OpId op, Attrs& attrs) {
    const Token name = next();
    const OpcodeInfo& info = opcode_info(op);
    const AttrSpec* spec = find_attr_spec(op, name.text);
    if (!spec) {
      std::string known, close;
      for (const auto& s : info.attrs) {
        known += (known.empty() ? "" : ", ") + std::string(s.name);
        if (close.empty() && edit_distance(name.text, s.name) <= 2) close = std::string(s.name);
      }
      fail(name, "'" + std::string(info.name) + "' has no attribute '" + std::string(name.text) + "'",
           !close.empty() ? "did you mean '" + close + "'?"
                          : known.empty() ? std::string(info.name) + " takes no attributes" : "attributes: " + known);
    }
    if (find_attr(attrs, spec->name)) fail(name, "attribute '" + std::string(spec->name) + "' given twice");
    expect(Tok::equals, "after the attribute name");
    attrs.push_back({std::string(spec->name), parse_attr_value(*spec, std::string(info.name))});
  }

  // ---- kernel ----
  void parse_kernel(Kernel& k) {
    k_ = &k;
    names_.clear();
    hidden_names_.clear();
    value_scope_.clear();
    scope_names_.clear();
    scope_kind_.clear();
    current_scope_ = open_scope("kernel");
    const Token kw = next();  // 'kernel'
    k.loc = loc_of(kw);
    const Token name = expect(Tok::at_name, "for the kernel name (kernel @name(...))");
    k.name = std::string(name.text);
    expect(Tok::lparen, "to open the parameter list");
    defer_symbols_ = true;
    if (!at(Tok::rparen)) {
      while (true) {
        parse_param(k);
        if (at(Tok::comma)) {
          next();
          continue;
        }
        break;
      }
    }
    expect(Tok::rparen, "to close the parameter list");
    // Header clauses (grid, cluster, resources) may use any scalar parameter.
    defer_symbols_ = false;
    for (const Token& t : deferred_symbols_) check_symbol(t);
    deferred_symbols_.clear();
    parse_clauses(k);
    expect(Tok::lbrace, "to open the kernel body");
    parse_kernel_body(k);
    expect(Tok::rbrace, "to close the kernel body");
  }

  void parse_param(Kernel& k) {
    const Token t = peek();
    if (t.kind == Tok::value_name) {
      next();
      expect(Tok::colon, "after the parameter name");
      const Token ty = peek();
      if (!at_ident("global"))
        fail(ty, "%-parameters are global tensors: expected 'global<dtype>[dims]', found " + describe(ty),
             "scalar parameters are written without '%': `M: i32`");
      Type type = parse_type();
      k.params.push_back(Param{define(t, std::string(t.text), std::move(type), ValueDef::param), loc_of(t)});
      return;
    }
    if (t.kind == Tok::ident) {
      next();
      if (is_reserved(t.text)) fail(t, "'" + std::string(t.text) + "' is a reserved word and cannot name a parameter");
      expect(Tok::colon, "after the parameter name");
      const Token ty = peek();
      Type type = parse_type();
      if (!type.is_scalar_like())
        fail(ty, "scalar parameter '" + std::string(t.text) + "' needs a scalar type (i32, f32, index, ...), got " +
                     type_to_string(type),
             type.kind == TypeKind::global ? "global tensors are written with '%': `%A: global<bf16>[M, K]`" : "");
      k.params.push_back(Param{define(t, std::string(t.text), std::move(type), ValueDef::param), loc_of(t)});
      return;
    }
    fail(t, "expected a parameter (`%A: global<bf16>[M, K]` or `M: i32`), found " + describe(t));
  }

  std::vector<Expr> parse_expr_list(const std::string& what) {
    expect(Tok::lparen, "after '" + what + "'");
    std::vector<Expr> list;
    while (true) {
      list.push_back(parse_expr());
      if (list.size() > 3) fail(peek(), what + " has at most 3 dims");
      if (!at(Tok::comma)) break;
      next();
    }
    expect(Tok::rparen, "to close " + what + "(...)");
    return list;
  }

  void parse_clauses(Kernel& k) {
    bool seen_grid = false, seen_cluster = false, seen_resources = false;
    while (at(Tok::ident)) {
      const Token t = peek();
      auto once = [&](bool& seen) {
        if (seen) fail(t, "'" + std::string(t.text) + "' given twice");
        seen = true;
        next();
      };
      if (t.text == "grid") {
        once(seen_grid);
        k.grid = parse_expr_list("grid");
      } else if (t.text == "cluster") {
        once(seen_cluster);
        k.cluster = parse_expr_list("cluster");
      } else if (t.text == "resources") {
        once(seen_resources);
        parse_resources(k.resources);
      } else {
        const char* clauses[] = {"grid", "cluster", "resources"};
        std::string hint;
        for (const char* c : clauses)
          if (edit_distance(t.text, c) <= 2) hint = std::string("did you mean '") + c + "'?";
        fail(t, "unknown kernel clause '" + std::string(t.text) + "'", hint.empty() ? "clauses: grid(...), cluster(...), resources(...)" : hint);
      }
    }
  }

  int64_t parse_positive_int(const std::string& what) {
    const Token t = peek();
    if (!at(Tok::integer)) fail(t, what + " must be a positive integer, found " + describe(t));
    next();
    if (t.ival <= 0) fail(t, what + " must be positive, got " + std::to_string(t.ival));
    return t.ival;
  }

  void parse_resources(Resources& r) {
    expect(Tok::lparen, "after 'resources'");
    while (true) {
      const Token key = expect(Tok::ident, "(a resource: scratch, warps or registers)");
      expect(Tok::equals, "after '" + std::string(key.text) + "'");
      if (key.text == "scratch") {
        if (r.scratch_bytes) fail(key, "'scratch' given twice");
        const Token at_tok = peek();
        Expr e = parse_expr();
        if (auto v = const_value(e); v && *v < 0) fail(at_tok, "scratch bytes must be >= 0");
        r.scratch_bytes = std::move(e);
      } else if (key.text == "warps") {
        if (r.warps) fail(key, "'warps' given twice");
        r.warps = parse_positive_int("warps");
      } else if (key.text == "registers") {
        if (r.registers) fail(key, "'registers' given twice");
        r.registers = parse_positive_int("registers");
      } else {
        std::string hint = "resources: scratch=<bytes>, warps=<n>, registers=<per thread>";
        for (const char* c : {"scratch", "warps", "registers"})
          if (edit_distance(key.text, c) <= 2) hint = std::string("did you mean '") + c + "'?";
        fail(key, "unknown resource '" + std::string(key.text) + "'", hint);
      }
      if (!at(Tok::comma)) break;
      next();
    }
    expect(Tok::rparen, "to close resources(...)");
  }

  void parse_kernel_body(Kernel& k) {
    while (at_ident("channel")) parse_channel(k);
    if (at_ident("role")) {
      while (at_ident("role")) parse_role(k);
      if (at_ident("channel")) fail(peek(), "channels are declared before the roles");
      if (!at(Tok::rbrace))
        fail(peek(), "expected another role or '}', found " + describe(peek()),
             "in a kernel with roles every op belongs to a role");
      return;
    }
    parse_ops_until_brace(k.body, /*in_region=*/false);
  }

  void parse_channel(Kernel& k) {
    const Token kw = next();
    const Token name = expect(Tok::value_name, "for the channel name (channel %name: stages=N of tile<...>[...])");
    expect(Tok::colon, "after the channel name");
    expect_ident("stages", "in the channel declaration");
    expect(Tok::equals, "after 'stages'");
    const int64_t stages = parse_positive_int("channel stages");
    expect_ident("of", "before the channel's tile type");
    const Token ty = peek();
    Type t = parse_type();
    if (t.kind != TypeKind::tile) fail(ty, "a channel carries tiles; got " + type_to_string(t));
    t.kind = TypeKind::channel;
    const ValueId id = define(name, std::string(name.text), std::move(t), ValueDef::channel);
    k.channels.push_back(Channel{id, stages, loc_of(kw)});
  }

  void parse_role(Kernel& k) {
    const Token kw = next();
    const Token name = expect(Tok::ident, "for the role name (role producer { ... })");
    Role role;
    role.name = std::string(name.text);
    role.loc = loc_of(kw);
    for (const Role& r : k.roles)
      if (r.name == role.name) fail(name, "role '" + role.name + "' is declared twice (first at " + loc_text(r.loc) + ")");
    // count: x2, x 2 or ×2
    if (at(Tok::times)) {
      next();
      role.count = parse_positive_int("role count");
    } else if (at(Tok::ident) && peek().text.size() > 1 && peek().text[0] == 'x' &&
               std::all_of(peek().text.begin() + 1, peek().text.end(), is_digit)) {
      const Token c = next();
      int64_t v = 0;
      for (char d : c.text.substr(1))
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d - '0', &v)) fail(c, "role count is too large");
      if (v <= 0) fail(c, "role count must be positive");
      role.count = v;
    } else if (at_ident("x") && peek(1).kind == Tok::integer) {
      next();
      role.count = parse_positive_int("role count");
    }
    while (at(Tok::ident) && peek(1).kind == Tok::equals) {
      const Token key = next();
      next();
      if (key.text != "warps" && key.text != "registers")
        fail(key, "unknown role hint '" + std::string(key.text) + "'", "role hints: warps=<n>, registers=<n>");
      if (find_attr(role.hints, key.text)) fail(key, "'" + std::string(key.text) + "' given twice");
      role.hints.push_back({std::string(key.text), Attr::integer_of(parse_positive_int(std::string(key.text)))});
    }
    expect(Tok::lbrace, "to open the role body");
    const int saved_scope = current_scope_;
    current_scope_ = open_scope("role");
    k.roles.push_back(std::move(role));
    parse_ops_until_brace(k.roles.back().body, false);
    close_scope(current_scope_);
    current_scope_ = saved_scope;
    expect(Tok::rbrace, "to close the role body");
  }

  /// Parse ops until the closing '}' (not consumed).
  void parse_ops_until_brace(Block& block, bool in_region) {
    while (!at(Tok::rbrace)) {
      if (at(Tok::eof)) fail(peek(), "expected '}' before the end of the file");
      parse_op(block, in_region);
      if (!block.ops.empty() && block.ops.back().opcode == OpId::yield && !at(Tok::rbrace))
        fail(peek(), "'yield' must be the last op of its region");
      if (same_line() && !at(Tok::rbrace))
        fail(peek(), "expected a new line after the op, found " + describe(peek()), "write one op per line");
    }
  }

  // ---- ops ----
  bool at_operand_start() const {
    const Token& t = peek();
    if (t.kind == Tok::value_name) return true;
    if (t.kind != Tok::ident) return false;
    if (peek(1).kind == Tok::equals) return false;  // an attribute
    if (t.text == "after" && peek(1).kind == Tok::lparen) return false;
    return true;
  }

  struct OperandItem {
    Token tok;
    bool indexed = false;
  };

  void parse_op(Block& block, bool in_region) {
    const Token first = peek();
    std::vector<Token> result_names;
    if (first.kind == Tok::value_name && (peek(1).kind == Tok::equals || peek(1).kind == Tok::comma)) {
      while (true) {
        result_names.push_back(expect(Tok::value_name, "for a result name"));
        if (at(Tok::comma)) {
          next();
          continue;
        }
        break;
      }
      expect(Tok::equals, "after the result names");
      if (!same_line()) fail(peek(), "expected the opcode on the same line as '='");
    }
    const Token op_tok = peek();
    if (op_tok.kind != Tok::ident) {
      if (op_tok.kind == Tok::value_name)
        fail(op_tok, "expected an op, found " + describe(op_tok), "an op reads `%result = opcode operands...`");
      fail(op_tok, "expected an op, found " + describe(op_tok));
    }
    if (op_tok.text == "else") fail(op_tok, "'else' must follow the then-branch's '}' on the same line");
    if (op_tok.text == "channel") fail(op_tok, "channels are declared at the top of the kernel body");
    if (op_tok.text == "role") fail(op_tok, "roles are declared at the top level of the kernel body, after channels");
    auto id = find_opcode(op_tok.text);
    if (!id) {
      auto similar = similar_opcode_names(op_tok.text);
      std::string hint;
      if (!similar.empty()) {
        hint = "did you mean '" + similar[0] + "'";
        for (size_t i = 1; i < similar.size(); ++i) hint += (i + 1 == similar.size() ? " or '" : ", '") + similar[i] + "'";
        hint += "?";
      }
      fail(op_tok, "unknown opcode '" + std::string(op_tok.text) + "'", hint);
    }
    next();
    if (*id == OpId::for_) return parse_for(block, result_names, op_tok);
    if (*id == OpId::if_) return parse_if(block, result_names, op_tok);
    if (*id == OpId::yield && !in_region)
      fail(op_tok, "'yield' outside a for/if region", "yield ends the body of a for or an if");
    parse_generic_op(block, *id, result_names, op_tok);
  }

  void parse_generic_op(Block& block, OpId id, const std::vector<Token>& result_names, const Token& op_tok) {
    const OpcodeInfo& info = opcode_info(id);
    const std::string op_name(info.name);
    Op op;
    op.opcode = id;
    op.loc = loc_of(op_tok);
    if (!info.positional_attr.empty()) {
      if (!same_line()) fail(peek(), "'" + op_name + "' needs its " + std::string(info.positional_attr) + " here", "e.g. `" + info.example + "`");
      const AttrSpec* spec = find_attr_spec(id, info.positional_attr);
      op.attrs.push_back({std::string(spec->name), parse_attr_value(*spec, op_name)});
    }
    // operands
    std::vector<OperandItem> items;
    std::vector<Token> operand_tokens;  // one per flattened operand, for error locations
    if (same_line() && at_operand_start()) {
      while (true) {
        const Token t = peek();
        if (t.kind != Tok::value_name && t.kind != Tok::ident) fail(t, "expected an operand, found " + describe(t));
        next();
        OperandItem item{t, false};
        op.operands.push_back(use_value(t));
        operand_tokens.push_back(t);
        if (at(Tok::lbracket) && same_line()) {
          item.indexed = true;
          next();
          while (true) {
            const Token it = peek();
            if (it.kind != Tok::value_name && it.kind != Tok::ident)
              fail(it, "expected a tile coordinate (%i or a scalar parameter), found " + describe(it),
                   it.kind == Tok::integer ? "make constants with `%c = const 0 : index`" : "");
            next();
            op.operands.push_back(use_value(it));
            operand_tokens.push_back(it);
            if (!at(Tok::comma)) break;
            next();
          }
          expect(Tok::rbracket, "to close the tile coordinates");
        }
        items.push_back(item);
        if (items.size() > 256) fail(t, "too many operands");
        if (!at(Tok::comma)) break;
        next();
      }
    } else if (same_line() && (at(Tok::integer) || at(Tok::real) || at(Tok::minus))) {
      fail(peek(), "operands are values, not literals", "make constants with `%c = const 1.0 : f32`");
    }
    // the indexed operand (%buf[...]) must sit exactly where the table says
    for (size_t i = 0; i < items.size(); ++i) {
      const bool want = static_cast<int>(i) == info.indexed_operand;
      if (items[i].indexed && !want)
        fail(items[i].tok, "'" + op_name + "' does not index this operand", "usage: " + info.example);
      if (!items[i].indexed && want)
        fail(items[i].tok, "'" + op_name + "' needs tile coordinates here: " +
                               (items[i].tok.kind == Tok::value_name ? "%" : "") + std::string(items[i].tok.text) + "[%i, %j]",
             "usage: " + info.example);
    }
    if (info.indexed_operand >= 0 && static_cast<int>(items.size()) <= info.indexed_operand)
      fail(op_tok, "'" + op_name + "' needs a global tensor with tile coordinates", "usage: " + info.example);
    // attributes
    while (same_line() && at(Tok::ident) && peek(1).kind == Tok::equals) parse_named_attr(id, op.attrs);
    // after(...)
    if (same_line() && at_ident("after")) {
      const Token a = next();
      if (info.token == TokenPolicy::none)
        fail(a, "'" + op_name + "' does not take after(...)", "only memory and sync ops are token-ordered");
      expect(Tok::lparen, "after 'after'");
      while (true) {
        const Token t = expect(Tok::value_name, "(a token) in after(...)");
        const ValueId v = use_value(t);
        if (k_->type_of(v).kind != TypeKind::token)
          fail(t, "after(...) takes tokens; %" + std::string(t.text) + " is " + type_to_string(k_->type_of(v)),
               "memory ops return their token as the last result: %x, %t = load ...");
        op.after.push_back(v);
        if (op.after.size() > 256) fail(t, "too many tokens");
        if (!at(Tok::comma)) break;
        next();
      }
      expect(Tok::rparen, "to close after(...)");
    }
    std::optional<Type> written;
    Token type_tok = peek();
    if (same_line() && at(Tok::colon)) {
      next();
      type_tok = peek();
      written = parse_type();
    }
    if (same_line() && at_ident("after"))
      fail(peek(), "after(...) goes before the ': type'", "usage: " + info.example);
    // types
    std::vector<Type> operand_types;
    for (ValueId v : op.operands) operand_types.push_back(k_->type_of(v));
    InferResult r = infer_result_types(id, operand_types, op.attrs, written);
    if (!r.ok()) fail(op_tok, r.error, r.hint);
    // results: all named, or all but an unused trailing token
    const size_t n = result_names.size();
    const size_t want = r.types.size();
    const bool token_last = want > 0 && r.types.back().kind == TypeKind::token;
    if (!(n == want || (token_last && n + 1 == want))) {
      std::string what = want == 0 ? "no values" : std::to_string(want) + (want == 1 ? " value" : " values");
      if (token_last) what += " (the last a !token, which may be left unnamed)";
      fail(n ? result_names[0] : op_tok,
           "'" + op_name + "' produces " + what + " but " + std::to_string(n) + (n == 1 ? " name is" : " names are") + " given",
           "usage: " + info.example);
    }
    for (size_t i = 0; i < want; ++i) {
      if (i < n) op.results.push_back(define(result_names[i], std::string(result_names[i].text), r.types[i], ValueDef::op_result));
      else op.results.push_back(define(op_tok, "", r.types[i], ValueDef::op_result));
    }
    block.ops.push_back(std::move(op));
  }

  ValueId parse_scalar_operand(const std::string& what) {
    const Token t = peek();
    if (t.kind != Tok::value_name && t.kind != Tok::ident)
      fail(t, "expected " + what + " (a value or scalar parameter), found " + describe(t),
           t.kind == Tok::integer ? "make constants with `%c = const 0 : index`" : "");
    next();
    const ValueId v = use_value(t);
    if (!k_->type_of(v).is_int_scalar())
      fail(t, what + " must be an integer scalar (index or i32), got " + type_to_string(k_->type_of(v)));
    return v;
  }

  void parse_for(Block& block, const std::vector<Token>& result_names, const Token& op_tok) {
    DepthGuard guard(*this, op_tok);
    Op op;
    op.opcode = OpId::for_;
    op.loc = loc_of(op_tok);
    const Token iv = expect(Tok::value_name, "for the induction variable (for %i = %lo to %hi step %s)");
    expect(Tok::equals, "after the induction variable");
    const ValueId lo = parse_scalar_operand("the lower bound");
    expect_ident("to", "between the loop bounds");
    const ValueId hi = parse_scalar_operand("the upper bound");
    expect_ident("step", "after the upper bound");
    const ValueId step = parse_scalar_operand("the step");
    op.operands = {lo, hi, step};
    while (at(Tok::ident) && peek(1).kind == Tok::equals) parse_named_attr(OpId::for_, op.attrs);
    if (const std::string err = check_attrs(OpId::for_, op.attrs); !err.empty()) fail(op_tok, err);
    if (const Attr* s = op.attr("stages"); s && s->i < 1) fail(op_tok, "stages must be >= 1, got " + std::to_string(s->i));
    std::vector<Token> iter_names;
    if (at_ident("iter")) {
      next();
      expect(Tok::lparen, "after 'iter'");
      while (true) {
        iter_names.push_back(expect(Tok::value_name, "for a loop-carried value (iter(%acc = %init))"));
        expect(Tok::equals, "after the loop-carried value's name");
        const Token init = peek();
        if (init.kind != Tok::value_name && init.kind != Tok::ident) fail(init, "expected the initial value, found " + describe(init));
        next();
        op.operands.push_back(use_value(init));
        if (iter_names.size() > 256) fail(init, "too many loop-carried values");
        if (!at(Tok::comma)) break;
        next();
      }
      expect(Tok::rparen, "to close iter(...)");
    }
    if (!same_line() && at(Tok::lbrace)) fail(peek(), "'{' must be on the same line as the for");
    expect(Tok::lbrace, "to open the loop body");
    const auto& types = k_->values;
    const bool any_index = types[static_cast<size_t>(lo)].type.kind == TypeKind::index ||
                           types[static_cast<size_t>(hi)].type.kind == TypeKind::index ||
                           types[static_cast<size_t>(step)].type.kind == TypeKind::index;
    const Type iv_type = any_index ? Type::index_type() : types[static_cast<size_t>(lo)].type;
    const int saved = current_scope_;
    current_scope_ = open_scope("for body");
    op.regions.emplace_back();
    op.regions[0].args.push_back(define(iv, std::string(iv.text), iv_type, ValueDef::region_arg));
    for (size_t i = 0; i < iter_names.size(); ++i) {
      const Type t = k_->type_of(op.operands[3 + i]);
      op.regions[0].args.push_back(define(iter_names[i], std::string(iter_names[i].text), t, ValueDef::region_arg));
    }
    parse_ops_until_brace(op.regions[0], true);
    close_scope(current_scope_);
    current_scope_ = saved;
    const Token close = expect(Tok::rbrace, "to close the loop body");
    // the body yields the next iter values
    std::vector<Type> iter_types;
    for (size_t i = 0; i < iter_names.size(); ++i) iter_types.push_back(k_->type_of(op.operands[3 + i]));
    check_region_yield(op.regions[0], iter_types, close, "the loop body", "the loop carries");
    if (result_names.size() != iter_names.size())
      fail(result_names.empty() ? op_tok : result_names[0],
           "the for carries " + std::to_string(iter_names.size()) + " value(s) but " + std::to_string(result_names.size()) +
               " result name(s) are given",
           "one result per iter(...) value: %a, %b = for ... iter(%x = %x0, %y = %y0)");
    for (size_t i = 0; i < result_names.size(); ++i)
      op.results.push_back(define(result_names[i], std::string(result_names[i].text), iter_types[i], ValueDef::op_result));
    block.ops.push_back(std::move(op));
  }

  /// The region's final yield must carry exactly `types` (no yield means none).
  void check_region_yield(const Block& region, const std::vector<Type>& types, const Token& close,
                          const std::string& where, const std::string& carries) {
    const Op* y = !region.ops.empty() && region.ops.back().opcode == OpId::yield ? &region.ops.back() : nullptr;
    const size_t n = y ? y->operands.size() : 0;
    if (n != types.size()) {
      if (!y) fail(close, where + " must end with `yield` of " + std::to_string(types.size()) + " value(s)");
      rep_.fail(y->loc, "yield passes " + std::to_string(n) + " value(s) but " + carries + " " + std::to_string(types.size()));
    }
    for (size_t i = 0; i < n; ++i) {
      const Type& t = k_->type_of(y->operands[i]);
      if (t != types[i])
        rep_.fail(y->loc, "yield value " + std::to_string(i) + " is " + type_to_string(t) + " but " + carries + " " +
                              type_to_string(types[i]));
    }
  }

  void parse_if(Block& block, const std::vector<Token>& result_names, const Token& op_tok) {
    DepthGuard guard(*this, op_tok);
    Op op;
    op.opcode = OpId::if_;
    op.loc = loc_of(op_tok);
    const Token c = peek();
    if (c.kind != Tok::value_name && c.kind != Tok::ident) fail(c, "expected the condition (an i1 value), found " + describe(c));
    next();
    const ValueId cond = use_value(c);
    const Type& ct = k_->type_of(cond);
    if (!(ct.kind == TypeKind::scalar && ct.dtype == DType::i1))
      fail(c, "the if condition must be an i1 scalar, got " + type_to_string(ct), "make one with cmp.*");
    op.operands = {cond};
    if (!same_line() && at(Tok::lbrace)) fail(peek(), "'{' must be on the same line as the if");
    expect(Tok::lbrace, "to open the then-branch");
    Token close = parse_branch(op);
    std::vector<Type> types;
    if (const Block& then_block = op.regions[0]; !then_block.ops.empty() && then_block.ops.back().opcode == OpId::yield)
      for (ValueId v : then_block.ops.back().operands) types.push_back(k_->type_of(v));
    if (same_line() && at_ident("else")) {
      next();
      expect(Tok::lbrace, "to open the else-branch");
      close = parse_branch(op);
      check_region_yield(op.regions[1], types, close, "the else-branch", "the then-branch yields");
    } else if (!types.empty()) {
      fail(close, "an if that yields values needs an else-branch");
    }
    if (result_names.size() != types.size())
      fail(result_names.empty() ? op_tok : result_names[0],
           "the if yields " + std::to_string(types.size()) + " value(s) but " + std::to_string(result_names.size()) +
               " result name(s) are given");
    for (size_t i = 0; i < result_names.size(); ++i)
      op.results.push_back(define(result_names[i], std::string(result_names[i].text), types[i], ValueDef::op_result));
    block.ops.push_back(std::move(op));
  }

  Token parse_branch(Op& op) {
    const int saved = current_scope_;
    current_scope_ = open_scope("if branch");
    op.regions.emplace_back();
    parse_ops_until_brace(op.regions.back(), true);
    close_scope(current_scope_);
    current_scope_ = saved;
    return expect(Tok::rbrace, "to close the branch");
  }

  std::string_view text_;
  Reporter rep_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int last_line_ = 0;
  int depth_ = 0;

  Kernel* k_ = nullptr;
  std::unordered_map<std::string, ValueId> names_;
  std::unordered_map<std::string, ValueId> hidden_names_;  // names of closed scopes, for messages
  std::vector<int> value_scope_;
  std::vector<std::vector<std::string>> scope_names_;
  std::vector<std::string> scope_kind_;
  int current_scope_ = 0;
  bool defer_symbols_ = false;
  int expr_depth_ = 0;
  int expr_nodes_ = 0;
  static constexpr int kMaxExprNodes = 256;
  std::vector<Token> deferred_symbols_;
};

}  // namespace

Module parse_module(std::string_view text, const std::string& source_name) {
  Parser p(text, source_name);
  return p.parse();
}

Module parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ":0:0: error: cannot open the file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_module(ss.str(), path);
}

Module load_tile_file(const std::string& path) {
  Module m = parse_file(path);
  verify_or_throw(m);
  return m;
}

}  // namespace tilesim::isa

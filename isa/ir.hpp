// The tile ISA's IR: plain, copyable structs (Module > Kernel > Block > Op) plus a Builder.
//
// Values are SSA: every value (kernel parameter, channel, op result, region argument) is one entry of
// Kernel::values and is referred to by its ValueId. Ops keep operand/result ids, token dependencies
// (`after(...)`), attributes and nested regions (for/if bodies); every op and value carries the source
// location it came from. The `.tile` text (text_parser / text_printer) is the serialised form.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "isa/dtype.hpp"
#include "isa/opcodes.hpp"

namespace tilesim::isa {

// ---- source locations and diagnostics --------------------------------------------------------------

/// 1-based line and column (bytes); line 0 = unknown (e.g. built without a location).
struct SourceLoc {
  int line = 0;
  int col = 0;
};

enum class Severity { error, warning };

struct Diagnostic {
  Severity severity = Severity::error;
  SourceLoc loc;
  std::string message;
  std::string hint;  // optional "did you mean ..." / "add ..." advice
};

/// `file:line:col: error: message`, then (when the source text is known and the line exists) the source
/// line and a caret line under the column, then `hint: ...` if any.
std::string format_diagnostic(const std::string& source_name, const std::string& source_text,
                              const Diagnostic& d);

// ---- kernel-constant expressions (shapes, grid, resources) -----------------------------------------

/// An integer expression over literals and integer scalar parameters (symbols).
struct Expr {
  enum class Kind { constant, symbol, add, sub, mul, div, cdiv, min, max, neg };
  Kind kind = Kind::constant;
  int64_t value = 0;          // constant
  std::string symbol;         // symbol: the scalar parameter's name
  std::vector<Expr> args;     // operands (2 for binary kinds, 1 for neg)

  static Expr constant_of(int64_t v);
  static Expr symbol_of(std::string name);
  static Expr binary(Kind k, Expr a, Expr b);
  static Expr negate(Expr a);

  bool is_constant() const;  // no symbols anywhere
  bool operator==(const Expr& o) const;
  bool operator!=(const Expr& o) const { return !(*this == o); }
};

using SymbolValues = std::map<std::string, int64_t>;

/// Evaluate with the given symbol values. nullopt if a symbol is unbound, or on division by zero or
/// 64-bit overflow (then `error`, if given, says which).
std::optional<int64_t> eval_expr(const Expr& e, const SymbolValues& symbols, std::string* error = nullptr);
/// Constant value if the expression has no symbols (and evaluates without error).
std::optional<int64_t> const_value(const Expr& e);
/// Canonical text (minimal parentheses): `cdiv(M, 128)`, `2 * K + 1`.
std::string expr_to_string(const Expr& e);
/// Same constant value, or structurally equal.
bool dims_equal(const Expr& a, const Expr& b);

// ---- types -----------------------------------------------------------------------------------------

enum class MemSpace { reg, scratch, acc, global };
const char* mem_space_name(MemSpace s);
std::optional<MemSpace> parse_mem_space(std::string_view name);

enum class TypeKind {
  none,     // unset
  scalar,   // one element of `dtype` (i32, f32, i1, bf16, ...)
  index,    // integer for indices, tile coordinates and loop counters (64-bit); mixes freely with i32
  tile,     // dtype[shape] in a space (reg, scratch, acc)
  global,   // a global-memory tensor parameter: dtype[shape]
  token,    // !token: completion of a memory operation
  channel,  // a producer/consumer channel carrying tiles of dtype[shape] @space
};

struct Type {
  TypeKind kind = TypeKind::none;
  DType dtype = DType::f32;
  std::vector<Expr> shape;   // tile, global, channel
  MemSpace space = MemSpace::reg;  // tile, channel (global: MemSpace::global)

  static Type scalar_of(DType d);
  static Type index_type();
  static Type token_type();
  static Type tile_of(DType d, std::vector<Expr> shape, MemSpace space = MemSpace::reg);
  static Type tile_of(DType d, const std::vector<int64_t>& shape, MemSpace space = MemSpace::reg);
  static Type global_of(DType d, std::vector<Expr> shape);

  bool is_tile() const { return kind == TypeKind::tile; }
  bool is_scalar_like() const { return kind == TypeKind::scalar || kind == TypeKind::index; }
  bool is_int_scalar() const;  // index, or scalar i8/i32
  int rank() const { return static_cast<int>(shape.size()); }
  bool operator==(const Type& o) const;  // dims compared with dims_equal
  bool operator!=(const Type& o) const { return !(*this == o); }
};

/// `tile<bf16>[128, 64] @scratch`, `global<f32>[M, N]`, `index`, `f32`, `!token`,
/// `channel<bf16>[128, 64] @scratch`.
std::string type_to_string(const Type& t);
/// Bytes of a tile/global when its shape is constant (sub-byte dtypes round up); nullopt if symbolic.
std::optional<int64_t> type_bytes(const Type& t);
std::optional<int64_t> type_elements(const Type& t);

// ---- attributes ------------------------------------------------------------------------------------

struct Attr {
  enum class Kind { integer, real, boolean, dtype, space, word, exprs };
  Kind kind = Kind::integer;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  DType dtype = DType::f32;
  MemSpace space = MemSpace::reg;
  std::string word;
  std::vector<Expr> exprs;

  static Attr integer_of(int64_t v);
  static Attr real_of(double v);
  static Attr boolean_of(bool v);
  static Attr dtype_of(DType d);
  static Attr space_of(MemSpace s);
  static Attr word_of(std::string w);
  static Attr exprs_of(std::vector<Expr> e);
  static Attr ints_of(const std::vector<int64_t>& v);

  /// Numeric value of integer/real/boolean attributes.
  double as_number() const;
  bool operator==(const Attr& o) const;
};

struct NamedAttr {
  std::string name;
  Attr value;
};
using Attrs = std::vector<NamedAttr>;

const Attr* find_attr(const Attrs& attrs, std::string_view name);

// ---- IR ----------------------------------------------------------------------------------------------

using ValueId = int32_t;
constexpr ValueId kNoValue = -1;

enum class ValueDef { param, channel, op_result, region_arg };

struct ValueInfo {
  std::string name;  // without sigil; never shadows a visible name (the Builder makes kernel-unique ones);
                     // empty only for unnamed, unused tokens
  Type type;
  ValueDef def = ValueDef::op_result;
  SourceLoc loc;
};

struct Op;

/// A straight-line list of ops with arguments (for: induction variable then iter args; if: none).
struct Block {
  std::vector<ValueId> args;
  std::vector<Op> ops;
};

struct Op {
  OpId opcode = OpId::add;
  std::vector<ValueId> operands;  // for: lo, hi, step, inits...; if: cond
  std::vector<ValueId> results;   // memory ops: data results then the token
  std::vector<ValueId> after;     // tokens this op must follow
  Attrs attrs;
  std::vector<Block> regions;     // for: body; if: then [, else]
  SourceLoc loc;

  const OpcodeInfo& info() const { return opcode_info(opcode); }
  const Attr* attr(std::string_view name) const { return find_attr(attrs, name); }
};

/// A kernel parameter: a global tensor (`%A: global<bf16>[M, K]`) or a scalar (`M: i32`).
struct Param {
  ValueId value = kNoValue;
  SourceLoc loc;
};

/// `channel %c: stages=3 of tile<bf16>[128, 64] @scratch` — a multi-stage producer/consumer queue.
struct Channel {
  ValueId value = kNoValue;  // its type: TypeKind::channel with the carried tile's dtype/shape/space
  int64_t stages = 1;
  SourceLoc loc;
};

/// `role consumer x2 warps=4 { ... }` — an async role (warp group / VLIW slot stream) and its body.
struct Role {
  std::string name;
  int64_t count = 1;
  Attrs hints;  // warps, registers
  Block body;
  SourceLoc loc;
};

struct Resources {
  std::optional<Expr> scratch_bytes;
  std::optional<int64_t> warps;
  std::optional<int64_t> registers;
};

struct Kernel {
  std::string name;
  SourceLoc loc;
  std::vector<Param> params;
  std::vector<Expr> grid;      // empty: a single program
  std::vector<Expr> cluster;   // empty: no clusters
  Resources resources;
  std::vector<Channel> channels;
  std::vector<Role> roles;     // non-empty: the body is split into roles and `body` is empty
  Block body;
  std::vector<ValueInfo> values;

  const ValueInfo& value(ValueId id) const { return values.at(static_cast<size_t>(id)); }
  const Type& type_of(ValueId id) const { return value(id).type; }
  /// Id of the first value with this name (without sigil), or kNoValue. Names of values in sibling
  /// regions/roles may repeat; parameters and channels are unique.
  ValueId find_value(std::string_view name) const;
  /// Scalar integer parameters: the symbols shapes may use.
  bool is_symbol(std::string_view name) const;
};

struct Module {
  std::string source_name = "<memory>";  // file name in diagnostics
  std::string source_text;               // for caret lines in diagnostics (may be empty)
  std::vector<Kernel> kernels;

  const Kernel* find_kernel(std::string_view name) const;
};

// ---- type rules (the opcode table's TypeRule, applied) -----------------------------------------------

/// Result types for `op` given its operand types and attributes, or an error message (no location).
/// `written` is the type given in the text after `:` (needed for TypeRule::explicit_type, load, ...;
/// for other rules it is checked against the inferred type when present). for/if are not handled here.
/// The trailing token result of memory ops is included.
struct InferResult {
  std::vector<Type> types;
  std::string error;  // non-empty: the op is ill-typed
  std::string hint;
  bool ok() const { return error.empty(); }
};
InferResult infer_result_types(OpId op, const std::vector<Type>& operands, const Attrs& attrs,
                               const std::optional<Type>& written);

/// Check that attributes are known, of the right kind and that required ones are present.
/// Returns an error message or "".
std::string check_attrs(OpId op, const Attrs& attrs);

// ---- cost hints, evaluated ---------------------------------------------------------------------------

/// The work one execution of an op does, from its CostHint and its (evaluated) shapes.
struct OpWork {
  double flops = 0;         // mma: 2*M*N*K
  double alu_ops = 0;       // element operations on the vector/ALU pipe (and scalar ops)
  double sfu_ops = 0;       // transcendental element operations
  double reduce_ops = 0;    // input elements combined by reductions
  double onchip_bytes = 0;  // bytes moved between on-chip spaces / shuffled
  double global_bytes = 0;  // bytes moved to or from global memory (or a peer core)
};

/// Evaluate an op's cost hint with the given symbol values. nullopt if a shape cannot be evaluated
/// (an unbound symbol). for/if count nothing themselves (their bodies are separate ops).
std::optional<OpWork> op_work(const Kernel& kernel, const Op& op, const SymbolValues& symbols);

// ---- builder ----------------------------------------------------------------------------------------

/// A handle on a value of the kernel being built.
struct Value {
  ValueId id = kNoValue;
  bool valid() const { return id != kNoValue; }
};

/// Builds a kernel op by op, type-checking each op with the opcode table's rules as it goes. Errors
/// throw tilesim::InputError formatted as `<source>:line:col: error: ...` at the current location
/// (set_loc), so a DSL can report its own line numbers. Run verify() on the module when done.
///
///   Module m;
///   Builder b(m, "add_kernel");
///   Value x = b.param_global("X", DType::f32, {Expr::symbol_of("N")});
///   ...
///   Value t = b.op("add", {x, y});
///
/// Regions: begin_for/end_for, begin_if/begin_else/end_if, begin_role/end_role nest like braces.
class Builder {
 public:
  /// Appends a new kernel to `module` and builds into it. `module` must outlive the builder and get
  /// no other kernels appended while the builder is alive.
  Builder(Module& module, std::string kernel_name);

  Kernel& kernel();
  void set_loc(SourceLoc loc) { loc_ = loc; }

  // kernel header
  Value param_global(const std::string& name, DType dtype, std::vector<Expr> shape);
  Value param_scalar(const std::string& name, Type type);  // scalar or index
  void set_grid(std::vector<Expr> grid);
  void set_cluster(std::vector<Expr> cluster);
  void set_resources(Resources r);
  Value channel(const std::string& name, int64_t stages, Type tile_type);

  /// Generic op: type-checks and appends; returns all results (memory ops: the token last).
  /// `written` supplies the result type for ops whose type is not inferable (load, zeros, const, ...).
  /// `name` names the first result (a fresh name is made otherwise: names must be unique).
  std::vector<Value> op_results(std::string_view opcode, const std::vector<Value>& operands,
                                const Attrs& attrs = {}, const std::optional<Type>& written = {},
                                const std::vector<Value>& after = {}, const std::string& name = "");
  /// As op_results, returning the first result (or an invalid Value for ops without results).
  Value op(std::string_view opcode, const std::vector<Value>& operands, const Attrs& attrs = {},
           const std::optional<Type>& written = {}, const std::vector<Value>& after = {},
           const std::string& name = "");

  // typed helpers for the common ops
  struct WithToken {
    Value value;
    Value token;
  };
  Value const_index(int64_t v, const std::string& name = "");
  Value const_scalar(DType d, double v, const std::string& name = "");
  Value program_id(int axis, const std::string& name = "");
  Value zeros(Type tile_type, const std::string& name = "");
  Value full(Type tile_type, double value, const std::string& name = "");
  WithToken load(Value buffer, const std::vector<Value>& tile_index, Type tile_type,
                 const std::vector<Value>& after = {}, const std::string& name = "");
  WithToken copy_async(Value buffer, const std::vector<Value>& tile_index, Type tile_type,
                       const std::vector<Value>& after = {}, const std::string& name = "");
  Value store(Value tile, Value buffer, const std::vector<Value>& tile_index,
              const std::vector<Value>& after = {});
  Value wait(const std::vector<Value>& tokens);
  Value mma(Value a, Value b, Value acc, const std::string& name = "");
  Value binary(std::string_view opcode, Value a, Value b, const std::string& name = "");
  Value unary(std::string_view opcode, Value x, const std::string& name = "");
  Value cast(Value x, DType to, const std::string& name = "");
  Value reduce(std::string_view kind, Value x, int axis, bool keepdims, const std::string& name = "");

  // structured control flow
  struct ForHandle {
    Value induction;
    std::vector<Value> iter_args;
  };
  ForHandle begin_for(Value lo, Value hi, Value step, const std::vector<Value>& inits = {},
                      std::optional<int64_t> stages = {}, const std::string& induction_name = "",
                      const std::vector<std::string>& iter_names = {});
  /// Closes the innermost for with `yield yields` and returns the loop's results.
  std::vector<Value> end_for(const std::vector<Value>& yields = {});
  void begin_if(Value cond);
  /// Closes the then-branch (yielding `yields`) and opens the else-branch.
  void begin_else(const std::vector<Value>& yields = {});
  /// Closes the if (yielding `yields` from the open branch) and returns its results, typed by the
  /// then-branch's yields.
  std::vector<Value> end_if(const std::vector<Value>& yields = {});

  void begin_role(const std::string& name, int64_t count = 1, Attrs hints = {});
  void end_role();

  /// A name not yet used in the kernel, derived from `hint`.
  std::string fresh_name(const std::string& hint);

 private:
  struct Frame {
    enum class Kind { role, for_body, if_then, if_else } kind;
    size_t op_index;  // index of the for/if op in its parent block (unused for roles)
  };
  [[noreturn]] void fail(const std::string& message, const std::string& hint = "") const;
  Block& current_block();
  Block& parent_block_of_top();
  ValueId new_value(const std::string& name, Type type, ValueDef def);
  const Type& type_of(Value v) const;
  void append_yield(const std::vector<Value>& yields);

  Module& module_;
  size_t kernel_index_;
  SourceLoc loc_;
  std::vector<Frame> frames_;
  std::map<std::string, ValueId, std::less<>> names_;
};

}  // namespace tilesim::isa

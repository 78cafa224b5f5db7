// The tile ISA's single opcode table.
//
// Every instruction of the ISA is one row of the table in opcodes.cpp: its text name, class, operand and
// result signature, the type rule the IR layer applies (ir.cpp: infer_result_types), its attributes, the
// token policy of memory operations, a one-line semantics statement and a cost-model hint. The
// functional interpreter dispatches on OpId (the "semantics hook"); core models read OpClass and the
// CostHint; the parser, printer, verifier and docs/isa.md (isa_reference_markdown) are all driven from
// the same rows. Adding an instruction means adding one OpId and one row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tilesim::isa {

/// Opcode id = semantics hook id. Declaration order is the table order (checked by a test).
enum class OpId : uint16_t {
  // dense compute
  mma, mma_scaled,
  // map
  add, sub, mul, div, max, min, pow, fma,
  neg, abs, relu, recip, exp, exp2, log, log2, sqrt, rsqrt, tanh, sigmoid, silu, gelu,
  cast, select, cmp_lt, cmp_le, cmp_gt, cmp_ge, cmp_eq, cmp_ne,
  // reduce
  reduce_sum, reduce_max, reduce_min,
  // transform
  transpose, broadcast, reshape, slice, subtile, concat, gather, scatter, iota, full, zeros, move,
  // sync / communicate
  load, store, copy_async, wait, barrier, fence, atomic_add, put, get, release, cluster_load,
  // control
  program_id, num_programs, cluster_rank, role_instance, constant, rem, cdiv, for_, if_, yield,
  count_  // number of opcodes; not an opcode
};

constexpr int kOpcodeCount = static_cast<int>(OpId::count_);

/// The five classes of accelerator work, plus control (DESIGN.md §5).
enum class OpClass { dense, map, reduce, transform, sync, control };
const char* op_class_name(OpClass c);

/// How the IR layer computes (or checks) an op's result types; see ir.cpp.
enum class TypeRule {
  mma,              // A[M,K] . B[K,N] + C[M,N] -> C's type
  mma_scaled,       // A, scaleA, B, scaleB, C -> C's type
  map_unary,        // numeric tile/scalar -> same type (tiles land in @reg)
  map_unary_float,  // as map_unary, float dtypes only
  map_binary,       // numpy broadcast of two operands of one dtype
  map_binary_float, // as map_binary, float dtypes only
  map_ternary,      // fma: broadcast of three operands of one dtype
  compare,          // broadcast of two operands of one dtype -> i1
  select,           // i1 condition, two values of one dtype, broadcast over all three
  cast,             // same shape, dtype from attribute `to`
  reduce,           // drop (or keep as 1) dim `axis`
  transpose, broadcast, reshape, slice, subtile, concat, gather, scatter,
  explicit_type,    // result type written in the text (`: type`), checked by a per-op rule
  move,             // same tile, space from attribute `space`
  load, store, copy_async, wait, barrier, fence, atomic_add, put, get, release, cluster_load,
  index_scalar,     // -> index (program_id, num_programs, cluster_rank, role_instance)
  scalar_int_binary,  // rem, cdiv on integer scalars
  for_, if_, yield,
};

/// Kinds of attribute values.
enum class AttrKind {
  integer,  // 64-bit signed integer
  number,   // integer, real (incl. inf/nan) or boolean literal
  boolean,  // true / false
  dtype,    // a DType name
  space,    // reg | scratch | acc
  word,     // one of AttrSpec::choices
  exprs,    // [expr, ...] of kernel-constant expressions
};
const char* attr_kind_name(AttrKind k);

struct AttrSpec {
  std::string_view name;
  AttrKind kind;
  bool required;
  std::string_view default_text;  // shown in docs; empty if required or "absent"
  std::vector<std::string_view> choices;  // for AttrKind::word
  std::string_view doc;
};

/// How the verifier treats a memory op's token that nothing consumes (see docs/isa.md, "Tokens").
enum class TokenPolicy {
  none,        // the op yields no token
  drained,     // may be left unconsumed: the program drains outstanding memory ops at exit
  must_wait,   // must be consumed (wait/after/yield/put); its data result may only be used once ordered
};

/// Cost-model hint kinds. Formulas use the result/operand shapes; see CostHint::formula.
enum class CostKind {
  none,
  mma_flops,        // 2*M*N*K multiply-add flops
  alu,              // ops_per_element * elements on the vector/ALU pipe
  sfu,              // ops_per_element * elements on the special-function pipe (transcendentals)
  reduction,        // elements of the input combined
  data_movement,    // bytes moved on chip (register/scratch shuffles)
  global_memory,    // bytes moved between global memory and the core
  sync,             // a synchronisation point; no data
  scalar,           // one scalar instruction
  structure,        // control structure; cost is its body's
};
const char* cost_kind_name(CostKind k);

struct CostHint {
  CostKind kind = CostKind::none;
  int ops_per_element = 0;
  std::string_view formula;  // human-readable, e.g. "flops = 2*M*N*K"
};

struct OpcodeInfo {
  OpId id;
  std::string_view name;        // text spelling, e.g. "cmp.lt", "reduce.sum"
  OpClass cls;
  std::string_view operands;    // operand signature for docs, e.g. "a: tile, b: tile, c: tile"
  std::string_view results;     // result signature for docs
  int min_operands;             // value operands (indices included)
  int max_operands;             // -1: unbounded
  int indexed_operand;          // operand printed as %buf[i, j, ...] (the rest are its indices); -1: none
  int results_fixed;            // number of results not counting the trailing token; -1: variadic
  TypeRule rule;
  std::string_view positional_attr;  // attribute written right after the opcode (e.g. `const 0 : index`)
  std::vector<AttrSpec> attrs;
  TokenPolicy token;            // != none: the op yields a trailing !token result and accepts after(...)
  std::string_view semantics;   // one-line statement of what it computes
  CostHint cost;
  std::string example;          // one line of .tile text
};

/// All rows, in OpId order.
const std::vector<OpcodeInfo>& opcode_table();
const OpcodeInfo& opcode_info(OpId id);
/// Look an opcode up by its text spelling.
std::optional<OpId> find_opcode(std::string_view name);
/// Up to `max` opcode names closest to `name` by edit distance (for did-you-mean hints); empty if none
/// is close.
std::vector<std::string> similar_opcode_names(std::string_view name, int max = 3);
/// Edit (Levenshtein) distance; inputs longer than 64 bytes compare as far apart.
int edit_distance(std::string_view a, std::string_view b);
/// The attribute spec of `op` called `name`, or nullptr.
const AttrSpec* find_attr_spec(OpId op, std::string_view name);
inline bool yields_token(OpId op) { return opcode_info(op).token != TokenPolicy::none; }

/// The generated ISA reference (docs/isa.md), produced from the table.
std::string isa_reference_markdown();

}  // namespace tilesim::isa

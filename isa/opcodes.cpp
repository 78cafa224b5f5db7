// The opcode table (one row per instruction) and the ISA reference generated from it.
#include "isa/opcodes.hpp"

#include <algorithm>
#include <sstream>
#include <unordered_map>

#include "sim/error.hpp"

namespace tilesim::isa {

namespace {

using K = AttrKind;
using R = TypeRule;
using T = TokenPolicy;
using C = CostKind;

// Shared attribute specs.
const AttrSpec kAxisReq{"axis", K::integer, true, "", {}, "axis to operate along (0-based)"};
const AttrSpec kKeepdims{"keepdims", K::boolean, true, "",
                         {}, "true: the reduced axis stays with extent 1; false: it is dropped"};
const AttrSpec kScope{"scope", K::word, false, "program", {"program", "cluster", "device"},
                      "which programs the operation orders/synchronises"};

OpcodeInfo map_unary(OpId id, std::string_view name, R rule, C cost_kind, std::string_view semantics) {
  const bool sfu = cost_kind == C::sfu;
  return {id, name, OpClass::map, "x: tile|scalar", "tile @reg | scalar", 1, 1, -1, 1, rule, "", {},
          T::none, semantics,
          {cost_kind, 1, sfu ? "sfu_ops = elements" : "alu_ops = elements"},
          "%y = " + std::string(name) + " %x"};
}

OpcodeInfo map_binary(OpId id, std::string_view name, R rule, std::string_view semantics) {
  return {id, name, OpClass::map, "a: tile|scalar, b: tile|scalar", "tile @reg | scalar", 2, 2, -1, 1,
          rule, "", {}, T::none, semantics, {C::alu, 1, "alu_ops = elements"},
          "%y = " + std::string(name) + " %a, %b"};
}

OpcodeInfo compare(OpId id, std::string_view name, std::string_view semantics) {
  return {id, name, OpClass::map, "a: tile|scalar, b: tile|scalar", "i1 tile @reg | i1 scalar", 2, 2, -1,
          1, R::compare, "", {}, T::none, semantics, {C::alu, 1, "alu_ops = elements"},
          "%m = " + std::string(name) + " %a, %b"};
}

OpcodeInfo reduce(OpId id, std::string_view name, std::string_view semantics) {
  return {id, name, OpClass::reduce, "x: tile", "tile @reg (scalar when a rank-1 tile loses its axis)", 1,
          1, -1, 1, R::reduce, "", {kAxisReq, kKeepdims}, T::none, semantics,
          {C::reduction, 1, "combines = input elements"},
          "%s = " + std::string(name) + " %x axis=1 keepdims=true"};
}

std::vector<OpcodeInfo> build_table() {
  std::vector<OpcodeInfo> t;
  // ---- dense -------------------------------------------------------------------------------------
  t.push_back({OpId::mma, "mma", OpClass::dense, "a: tile[M,K] @reg|scratch, b: tile[K,N] @reg|scratch, "
               "c: tile[M,N] @acc|reg", "tile[M,N] (c's type)", 3, 3, -1, 1, R::mma, "", {}, T::none,
               "c + a.b; operand/accumulator dtypes: f16->f32|f16, bf16->f32, tf32->f32, f32->f32, "
               "f8e4m3/f8e5m2/f4e2m1 (any mix)->f32|f16, i8->i32, f64->f64",
               {C::mma_flops, 2, "flops = 2*M*N*K"}, "%c1 = mma %a, %b, %c0"});
  t.push_back({OpId::mma_scaled, "mma_scaled", OpClass::dense,
               "a: tile[M,K], sa: tile[M,K/block], b: tile[K,N], sb: tile[K/block,N], c: tile[M,N] @acc|reg",
               "tile[M,N] (c's type)", 5, 5, -1, 1, R::mma_scaled, "",
               {{"block", K::integer, true, "", {}, "elements of K sharing one scale (16 or 32)"}}, T::none,
               "c + (a*sa).(b*sb) with one scale per `block` consecutive K elements; a, b in f8e4m3, f8e5m2 "
               "or f4e2m1; scales f8e4m3 (NVFP4-style); accumulator f32",
               {C::mma_flops, 2, "flops = 2*M*N*K"}, "%c1 = mma_scaled %a, %sa, %b, %sb, %c0 block=16"});
  // ---- map ---------------------------------------------------------------------------------------
  t.push_back(map_binary(OpId::add, "add", R::map_binary, "a + b (also scalar arithmetic)"));
  t.push_back(map_binary(OpId::sub, "sub", R::map_binary, "a - b"));
  t.push_back(map_binary(OpId::mul, "mul", R::map_binary, "a * b"));
  t.push_back(map_binary(OpId::div, "div", R::map_binary,
                         "a / b; integers truncate toward zero, a zero integer divisor is an error"));
  t.push_back(map_binary(OpId::max, "max", R::map_binary, "maximum; a NaN loses to a number (maxNum)"));
  t.push_back(map_binary(OpId::min, "min", R::map_binary, "minimum; a NaN loses to a number (minNum)"));
  t.push_back(map_binary(OpId::pow, "pow", R::map_binary_float, "a to the power b (floats)"));
  t.push_back({OpId::fma, "fma", OpClass::map, "a, b, c: tile|scalar", "tile @reg | scalar", 3, 3, -1, 1,
               R::map_ternary, "", {}, T::none, "a * b + c rounded once",
               {C::alu, 1, "alu_ops = elements"}, "%y = fma %a, %b, %c"});
  t.push_back(map_unary(OpId::neg, "neg", R::map_unary, C::alu, "-x"));
  t.push_back(map_unary(OpId::abs, "abs", R::map_unary, C::alu, "|x|"));
  t.push_back(map_unary(OpId::relu, "relu", R::map_unary, C::alu, "x > 0 ? x : 0"));
  t.push_back(map_unary(OpId::recip, "recip", R::map_unary_float, C::sfu, "1 / x"));
  t.push_back(map_unary(OpId::exp, "exp", R::map_unary_float, C::sfu, "e^x"));
  t.push_back(map_unary(OpId::exp2, "exp2", R::map_unary_float, C::sfu, "2^x"));
  t.push_back(map_unary(OpId::log, "log", R::map_unary_float, C::sfu, "natural logarithm"));
  t.push_back(map_unary(OpId::log2, "log2", R::map_unary_float, C::sfu, "base-2 logarithm"));
  t.push_back(map_unary(OpId::sqrt, "sqrt", R::map_unary_float, C::sfu, "square root"));
  t.push_back(map_unary(OpId::rsqrt, "rsqrt", R::map_unary_float, C::sfu, "1 / sqrt(x)"));
  t.push_back(map_unary(OpId::tanh, "tanh", R::map_unary_float, C::sfu, "hyperbolic tangent"));
  t.push_back(map_unary(OpId::sigmoid, "sigmoid", R::map_unary_float, C::sfu, "1 / (1 + e^-x)"));
  t.push_back(map_unary(OpId::silu, "silu", R::map_unary_float, C::sfu, "x * sigmoid(x)"));
  {
    OpcodeInfo gelu = map_unary(OpId::gelu, "gelu", R::map_unary_float, C::sfu,
                                "GELU: erf form, or the tanh approximation with approx=tanh");
    gelu.attrs = {{"approx", K::word, false, "erf", {"erf", "tanh"}, "exact erf form or tanh approximation"}};
    gelu.example = "%y = gelu %x approx=tanh";
    t.push_back(gelu);
  }
  t.push_back({OpId::cast, "cast", OpClass::map, "x: tile|scalar", "same shape, dtype `to`", 1, 1, -1, 1,
               R::cast, "", {{"to", K::dtype, true, "", {}, "result dtype"}}, T::none,
               "convert each element to `to` (RNE; the dtype's default overflow policy)",
               {C::alu, 1, "alu_ops = elements"}, "%h = cast %acc to=bf16"});
  t.push_back({OpId::select, "select", OpClass::map, "cond: i1 tile|scalar, a, b: tile|scalar",
               "tile @reg | scalar", 3, 3, -1, 1, R::select, "", {}, T::none, "cond ? a : b",
               {C::alu, 1, "alu_ops = elements"}, "%y = select %mask, %x, %zero"});
  t.push_back(compare(OpId::cmp_lt, "cmp.lt", "a < b (false if either is NaN)"));
  t.push_back(compare(OpId::cmp_le, "cmp.le", "a <= b"));
  t.push_back(compare(OpId::cmp_gt, "cmp.gt", "a > b"));
  t.push_back(compare(OpId::cmp_ge, "cmp.ge", "a >= b"));
  t.push_back(compare(OpId::cmp_eq, "cmp.eq", "a == b"));
  t.push_back(compare(OpId::cmp_ne, "cmp.ne", "a != b (true if either is NaN)"));
  // ---- reduce ------------------------------------------------------------------------------------
  t.push_back(reduce(OpId::reduce_sum, "reduce.sum", "sum along `axis` (floats accumulate in f32, f64 in f64, in order)"));
  t.push_back(reduce(OpId::reduce_max, "reduce.max", "maximum along `axis` (NaNs ignored unless all NaN)"));
  t.push_back(reduce(OpId::reduce_min, "reduce.min", "minimum along `axis` (NaNs ignored unless all NaN)"));
  // ---- transform ---------------------------------------------------------------------------------
  t.push_back({OpId::transpose, "transpose", OpClass::transform, "x: tile", "tile @reg, permuted shape", 1,
               1, -1, 1, R::transpose, "",
               {{"perm", K::exprs, false, "reversed axes", {}, "out.shape[d] = x.shape[perm[d]]"}}, T::none,
               "permute axes", {C::data_movement, 0, "bytes = tile bytes"}, "%bt = transpose %b"});
  t.push_back({OpId::broadcast, "broadcast", OpClass::transform, "x: tile|scalar", "tile @reg of `shape`",
               1, 1, -1, 1, R::broadcast, "", {{"shape", K::exprs, true, "", {}, "target shape"}}, T::none,
               "numpy broadcast_to", {C::data_movement, 0, "bytes = result bytes"},
               "%m2 = broadcast %m shape=[128, 64]"});
  t.push_back({OpId::reshape, "reshape", OpClass::transform, "x: tile", "tile @reg of `shape`", 1, 1, -1, 1,
               R::reshape, "", {{"shape", K::exprs, true, "", {}, "new shape, same element count"}},
               T::none, "same elements in row-major order", {C::data_movement, 0, "bytes = 0 (a view)"},
               "%r = reshape %x shape=[64, 256]"});
  t.push_back({OpId::slice, "slice", OpClass::transform, "x: tile", "tile @reg of `sizes`", 1, 1, -1, 1,
               R::slice, "",
               {{"offsets", K::exprs, true, "", {}, "first element in each dim"},
                {"sizes", K::exprs, true, "", {}, "extent in each dim"}},
               T::none, "the box offsets .. offsets+sizes-1", {C::data_movement, 0, "bytes = result bytes"},
               "%s = slice %x offsets=[0, 64] sizes=[128, 64]"});
  t.push_back({OpId::subtile, "subtile", OpClass::transform, "x: tile[i, j, ...] (block coordinates)",
               "a view of x (same space) of `shape`", 1, -1, 0, 1, R::subtile, "",
               {{"shape", K::exprs, true, "", {}, "block shape; each dim divides x's"}}, T::none,
               "block (i, j, ...) of x viewed as a grid of `shape` blocks: elements [i*S0, (i+1)*S0) x ...; a "
               "view, so it stays in x's space (e.g. one consumer's half of a shared scratch stage)",
               {C::data_movement, 0, "bytes = 0 (a view)"}, "%ah = subtile %a[%half, %c0] shape=[64, 64]"});
  t.push_back({OpId::concat, "concat", OpClass::transform, "parts: tile, tile, ...", "tile @reg", 2, -1, -1,
               1, R::concat, "", {kAxisReq}, T::none, "join along `axis`",
               {C::data_movement, 0, "bytes = result bytes"}, "%y = concat %a, %b axis=1"});
  t.push_back({OpId::gather, "gather", OpClass::transform, "x: tile, indices: i8|i32 tile",
               "tile @reg of indices' shape", 2, 2, -1, 1, R::gather, "", {kAxisReq}, T::none,
               "numpy take_along_axis", {C::data_movement, 0, "bytes = result bytes"},
               "%y = gather %x, %idx axis=1"});
  t.push_back({OpId::scatter, "scatter", OpClass::transform, "x: tile, indices: i8|i32 tile, updates: tile",
               "tile @reg (x's shape)", 3, 3, -1, 1, R::scatter, "", {kAxisReq}, T::none,
               "numpy put_along_axis on a copy of x (last duplicate wins)",
               {C::data_movement, 0, "bytes = updates bytes"}, "%y = scatter %x, %idx, %upd axis=0"});
  t.push_back({OpId::iota, "iota", OpClass::transform, "(none)", "written tile type", 0, 0, -1, 1,
               R::explicit_type, "",
               {{"axis", K::integer, false, "0", {}, "each element is its index along this axis"}}, T::none,
               "element = its index along `axis`", {C::alu, 1, "alu_ops = elements"},
               "%i = iota axis=1 : tile<i32>[128, 64] @reg"});
  t.push_back({OpId::full, "full", OpClass::transform, "(none)", "written tile type", 0, 0, -1, 1,
               R::explicit_type, "value", {{"value", K::number, true, "", {}, "fill value (positional)"}},
               T::none, "every element = value rounded to the dtype", {C::alu, 1, "alu_ops = elements"},
               "%m0 = full -inf : tile<f32>[128, 1] @reg"});
  t.push_back({OpId::zeros, "zeros", OpClass::transform, "(none)", "written tile type", 0, 0, -1, 1,
               R::explicit_type, "", {}, T::none, "every element = 0", {C::alu, 1, "alu_ops = elements"},
               "%c0 = zeros : tile<f32>[128, 128] @acc"});
  t.push_back({OpId::move, "move", OpClass::transform, "x: tile", "x's tile in `space`", 1, 1, -1, 1,
               R::move, "", {{"space", K::space, true, "", {}, "destination space: reg, scratch or acc"}},
               T::none, "the same tile held in another on-chip space (e.g. TMEM->registers)",
               {C::data_movement, 0, "bytes = tile bytes"}, "%r = move %acc space=reg"});
  // ---- sync / communicate ------------------------------------------------------------------------
  t.push_back({OpId::load, "load", OpClass::sync, "buf: global[i, j, ...] (tile coordinates)",
               "written tile type @reg|scratch, !token", 1, -1, 0, 1, R::load, "", {}, T::drained,
               "read the tile at tile coordinates (i, j, ...) = elements [i*T0, (i+1)*T0) x ...; "
               "elements outside the tensor read as 0",
               {C::global_memory, 0, "bytes = tile bytes (read)"},
               "%x, %tx = load %X[%i, %j] : tile<f32>[128, 128] @reg"});
  t.push_back({OpId::store, "store", OpClass::sync, "x: tile, buf: global[i, j, ...]", "!token", 2, -1, 1, 0,
               R::store, "", {}, T::drained,
               "write x at tile coordinates (i, j, ...); elements outside the tensor are dropped",
               {C::global_memory, 0, "bytes = tile bytes (written)"}, "%ts = store %y, %Y[%i, %j]"});
  t.push_back({OpId::copy_async, "copy_async", OpClass::sync, "buf: global[i, j, ...]",
               "written tile type @scratch, !token", 1, -1, 0, 1, R::copy_async, "",
               {{"multicast", K::word, false, "none", {"none", "cluster", "axis0", "axis1", "axis2"},
                 "programs of the cluster that copy this same tile, fetched once for all of them (TMA "
                 "multicast): cluster = every program of the cluster, axisD = the programs whose cluster "
                 "coordinates differ only along axis D. Each fetches a share and delivers it to every "
                 "sharer's scratch; values are those of a plain copy"}},
               T::must_wait,
               "bulk asynchronous copy (TMA/DMA) of a tile into scratch; the tile may be read only after "
               "its token is waited on (wait, or after(...) of a memory op)",
               {C::global_memory, 0, "bytes = tile bytes (read)"},
               "%a, %ta = copy_async %A[%m, %k] : tile<bf16>[128, 64] @scratch"});
  t.push_back({OpId::wait, "wait", OpClass::sync, "tokens: !token, ...", "!token", 1, -1, -1, 0, R::wait, "",
               {}, T::drained, "block until every operand token's operation has completed",
               {C::sync, 0, "no data"}, "wait %ta, %tb"});
  t.push_back({OpId::barrier, "barrier", OpClass::sync, "(none)", "!token", 0, 0, -1, 0, R::barrier, "",
               {kScope}, T::drained,
               "all roles/threads of the program (or cluster) arrive and wait; orders memory ops before it "
               "against those after it", {C::sync, 0, "no data"}, "barrier scope=program"});
  t.push_back({OpId::fence, "fence", OpClass::sync, "(none)", "!token", 0, 0, -1, 0, R::fence, "", {kScope},
               T::drained, "make this program's earlier memory writes visible at `scope` before later ones",
               {C::sync, 0, "no data"}, "%tf = fence scope=device after(%ts)"});
  t.push_back({OpId::atomic_add, "atomic_add", OpClass::sync, "x: tile, buf: global[i, j, ...]", "!token", 2,
               -1, 1, 0, R::atomic_add, "", {}, T::drained,
               "buf tile (i, j, ...) += x element-wise, atomically per element (split-K reductions)",
               {C::global_memory, 0, "bytes = 2 * tile bytes (read-modify-write)"},
               "atomic_add %part, %C[%m, %n]"});
  t.push_back({OpId::put, "put", OpClass::sync, "ch: channel, x: tile", "!token", 2, 2, -1, 0, R::put, "", {},
               T::drained,
               "producer: wait for a free stage of ch, place x in it, arrive (after(...) delays the arrive "
               "until those tokens complete, e.g. a copy_async filling x)",
               {C::data_movement, 0, "bytes = 0 when x already lives in the stage, else tile bytes"},
               "put %ch_a, %a after(%ta)"});
  t.push_back({OpId::get, "get", OpClass::sync, "ch: channel", "the channel's tile, !token", 1, 1, -1, 1,
               R::get, "", {}, T::drained,
               "consumer: wait until the next stage of ch is full and take its tile (every consumer role "
               "instance sees every item)", {C::sync, 0, "no data"}, "%a, %tg = get %ch_a"});
  t.push_back({OpId::release, "release", OpClass::sync, "ch: channel", "!token", 1, 1, -1, 0, R::release, "",
               {}, T::drained,
               "consumer: done with the oldest stage taken by get; the stage is free once every consumer "
               "released it", {C::sync, 0, "no data"}, "release %ch_a"});
  t.push_back({OpId::cluster_load, "cluster_load", OpClass::sync, "x: tile @scratch, rank: index",
               "x's tile @reg, !token", 2, 2, -1, 1, R::cluster_load, "", {}, T::drained,
               "read the value x has in the program of cluster rank `rank` (distributed shared memory)",
               {C::global_memory, 0, "bytes = tile bytes (cross-core)"},
               "%peer, %tp = cluster_load %x_s, %r"});
  // ---- control -----------------------------------------------------------------------------------
  t.push_back({OpId::program_id, "program_id", OpClass::control, "(none)", "index", 0, 0, -1, 1,
               R::index_scalar, "axis", {{"axis", K::integer, true, "", {}, "grid axis 0..2 (positional)"}},
               T::none, "this program's coordinate along grid axis `axis`", {C::scalar, 1, "1 scalar op"},
               "%pm = program_id 0"});
  t.push_back({OpId::num_programs, "num_programs", OpClass::control, "(none)", "index", 0, 0, -1, 1,
               R::index_scalar, "axis", {{"axis", K::integer, true, "", {}, "grid axis 0..2 (positional)"}},
               T::none, "the grid's extent along `axis`", {C::scalar, 1, "1 scalar op"},
               "%np = num_programs 0"});
  t.push_back({OpId::cluster_rank, "cluster_rank", OpClass::control, "(none)", "index", 0, 0, -1, 1,
               R::index_scalar, "", {}, T::none, "this program's rank within its cluster (0 without clusters)",
               {C::scalar, 1, "1 scalar op"}, "%r = cluster_rank"});
  t.push_back({OpId::role_instance, "role_instance", OpClass::control, "(none)", "index", 0, 0, -1, 1,
               R::index_scalar, "", {}, T::none,
               "which instance of its role (0..count-1) runs this code, e.g. 0 or 1 in `role consumer x2`",
               {C::scalar, 1, "1 scalar op"}, "%half = role_instance"});
  t.push_back({OpId::constant, "const", OpClass::control, "(none)", "written scalar type", 0, 0, -1, 1,
               R::explicit_type, "value", {{"value", K::number, true, "", {}, "the constant (positional)"}},
               T::none, "a scalar constant", {C::scalar, 1, "1 scalar op"}, "%c64 = const 64 : index"});
  t.push_back({OpId::rem, "rem", OpClass::control, "a, b: integer scalars", "integer scalar", 2, 2, -1, 1,
               R::scalar_int_binary, "", {}, T::none,
               "remainder of truncating division (sign of a); zero divisor is an error",
               {C::scalar, 1, "1 scalar op"}, "%r = rem %i, %c4"});
  t.push_back({OpId::cdiv, "cdiv", OpClass::control, "a, b: integer scalars", "integer scalar", 2, 2, -1, 1,
               R::scalar_int_binary, "", {}, T::none, "ceil(a / b) for a >= 0, b > 0",
               {C::scalar, 1, "1 scalar op"}, "%kt = cdiv K, %c64"});
  t.push_back({OpId::for_, "for", OpClass::control, "lo, hi, step: integer scalars, inits...",
               "final iter values", 3, -1, -1, -1, R::for_, "",
               {{"stages", K::integer, false, "absent", {},
                 "software-pipelining hint: the core may keep this many iterations' memory ops in flight"}},
               T::none,
               "for i = lo; i < hi; i += step, carrying iter values (body ends with yield of the next ones)",
               {C::structure, 0, "trip count * body"},
               "%acc = for %k = %c0 to %kt step %c1 stages=3 iter(%c = %c0) { ... yield %c2 }"});
  t.push_back({OpId::if_, "if", OpClass::control, "cond: i1 scalar", "yielded values", 1, 1, -1, -1, R::if_,
               "", {}, T::none, "run the then-region if cond, else the else-region; results are the yields",
               {C::structure, 0, "taken branch"}, "%y = if %p { yield %a } else { yield %b }"});
  t.push_back({OpId::yield, "yield", OpClass::control, "values...", "(none)", 0, -1, -1, 0, R::yield, "", {},
               T::none, "ends a for/if region and passes its values on", {C::none, 0, "free"},
               "yield %acc2"});
  return t;
}

}  // namespace

const char* op_class_name(OpClass c) {
  switch (c) {
    case OpClass::dense: return "dense";
    case OpClass::map: return "map";
    case OpClass::reduce: return "reduce";
    case OpClass::transform: return "transform";
    case OpClass::sync: return "sync";
    case OpClass::control: return "control";
  }
  return "?";
}

const char* attr_kind_name(AttrKind k) {
  switch (k) {
    case AttrKind::integer: return "integer";
    case AttrKind::number: return "number";
    case AttrKind::boolean: return "boolean";
    case AttrKind::dtype: return "dtype";
    case AttrKind::space: return "space";
    case AttrKind::word: return "word";
    case AttrKind::exprs: return "expression list";
  }
  return "?";
}

const char* cost_kind_name(CostKind k) {
  switch (k) {
    case CostKind::none: return "none";
    case CostKind::mma_flops: return "mma_flops";
    case CostKind::alu: return "alu";
    case CostKind::sfu: return "sfu";
    case CostKind::reduction: return "reduction";
    case CostKind::data_movement: return "data_movement";
    case CostKind::global_memory: return "global_memory";
    case CostKind::sync: return "sync";
    case CostKind::scalar: return "scalar";
    case CostKind::structure: return "structure";
  }
  return "?";
}

const std::vector<OpcodeInfo>& opcode_table() {
  // Immutable after first use (function-local static: built once, thread-safe).
  static const std::vector<OpcodeInfo> table = build_table();
  return table;
}

const OpcodeInfo& opcode_info(OpId id) {
  const auto& t = opcode_table();
  const auto index = static_cast<size_t>(id);
  if (index >= t.size()) panic("opcode id ", index, " out of range");
  return t[index];
}

std::optional<OpId> find_opcode(std::string_view name) {
  static const std::unordered_map<std::string_view, OpId> by_name = [] {
    std::unordered_map<std::string_view, OpId> m;
    for (const auto& row : opcode_table()) m.emplace(row.name, row.id);
    return m;
  }();
  auto it = by_name.find(name);
  if (it == by_name.end()) return std::nullopt;
  return it->second;
}

int edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and adjacent transpositions cost 1.
  constexpr size_t kMaxLen = 64;
  if (a.size() > kMaxLen || b.size() > kMaxLen) return 1 << 20;
  const size_t w = b.size() + 1;
  std::vector<int> d((a.size() + 1) * w);
  for (size_t i = 0; i <= a.size(); ++i) d[i * w] = static_cast<int>(i);
  for (size_t j = 0; j <= b.size(); ++j) d[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      int v = std::min({d[(i - 1) * w + j] + 1, d[i * w + j - 1] + 1, d[(i - 1) * w + j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = std::min(v, d[(i - 2) * w + j - 2] + 1);
      d[i * w + j] = v;
    }
  }
  return d[a.size() * w + b.size()];
}

std::vector<std::string> similar_opcode_names(std::string_view name, int max) {
  // Close enough to suggest: at most a third of the name's length wrong (at least 1, at most 3); only
  // the closest candidates are returned.
  const int limit = std::clamp(static_cast<int>(name.size()) / 3, 1, 3);
  int best = limit + 1;
  std::vector<std::string> out;
  for (const auto& row : opcode_table()) {
    const int d = edit_distance(name, row.name);
    if (d < best) {
      best = d;
      out.clear();
    }
    if (d == best && static_cast<int>(out.size()) < max) out.emplace_back(row.name);
  }
  return out;
}

const AttrSpec* find_attr_spec(OpId op, std::string_view name) {
  for (const auto& spec : opcode_info(op).attrs)
    if (spec.name == name) return &spec;
  return nullptr;
}

namespace {

const char* token_policy_text(TokenPolicy p) {
  switch (p) {
    case TokenPolicy::none: return "";
    case TokenPolicy::drained: return "yes (may stay unconsumed)";
    case TokenPolicy::must_wait: return "yes (must be waited)";
  }
  return "?";
}

std::string escape_pipes(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else out += c;
  }
  return out;
}

}  // namespace

std::string isa_reference_markdown() {
  std::ostringstream md;
  md << "# tilesim tile ISA reference\n\n"
        "<!-- GENERATED from the opcode table in isa/opcodes.cpp by isa_reference_markdown().\n"
        "     Do not edit by hand: run `build/isa/tilesim-gen-isa-doc docs/isa.md` (a test checks it). -->\n\n"
        "The text syntax (`.tile` files) is described in [isa-grammar.md](isa-grammar.md). This page lists "
        "every instruction: one row of the opcode table each. A kernel runs as a grid of programs; each "
        "program executes the kernel body on tiles. Memory spaces: `global` (HBM tensors, kernel "
        "parameters), `scratch` (SMEM/VMEM), `acc` (accumulator storage: registers, TMEM, MXU result "
        "buffers), `reg` (tile values held by the core).\n\n";
  md << "## Conventions\n\n"
        "- **Types.** Operands of one map op share a dtype; there are no implicit casts (use `cast`). "
        "Scalars of type `index` and `i32` mix freely in scalar arithmetic (the result is `index`). "
        "Scalar operands of tile map ops broadcast.\n"
        "- **Broadcasting** follows numpy: shapes align at the trailing dim; a dim of 1 or a missing "
        "leading dim stretches.\n"
        "- **Spaces.** Results of map, reduce and transform ops live in `@reg`. Their operands may be in "
        "`reg`, `scratch` or `acc`, never `global` (use `load`). `mma` reads a and b from `reg` or "
        "`scratch` and accumulates in `acc` or `reg`.\n"
        "- **Tokens.** Every memory/sync op (the *token* column) yields a `!token` as its last result and "
        "accepts `after(%t, ...)`: it may not start before those tokens' operations complete. Ordering "
        "between memory ops exists only where a token says so. In the text the token result may be left "
        "unnamed when nothing uses it. Tokens of `copy_async` must be consumed (by `wait`, `after(...)`, "
        "or carried out of a loop with `yield`) and its tile may be read only once ordered after its "
        "token: the verifier reports both as errors. Other tokens may stay unconsumed: a program drains "
        "its outstanding memory operations when it exits, so a final `store` needs no wait.\n"
        "- **Tile coordinates.** `load`/`store`/`copy_async`/`atomic_add` index a global tensor in units "
        "of the tile's shape: `%A[%i, %k]` with a 128x64 tile covers rows 128i..128i+127 and columns "
        "64k..64k+63. Out-of-bounds elements read as 0 and are not written.\n"
        "- **Roles and channels.** A channel has exactly one producer role (the role that `put`s) and at "
        "least one consumer role (roles that `get`); values never cross roles except through channels.\n"
        "- **Cost hints** are for timing models: `mma_flops` (2*M*N*K), `alu`/`sfu` (ops per element on "
        "the vector / special-function pipe), `reduction`, `data_movement` (on-chip bytes), "
        "`global_memory` (bytes to/from global), `sync`, `scalar`, `structure` (cost of the body).\n\n";

  const OpClass classes[] = {OpClass::dense, OpClass::map, OpClass::reduce, OpClass::transform,
                             OpClass::sync, OpClass::control};
  const char* titles[] = {"Dense compute", "Map (element-wise)", "Reduce", "Transform",
                          "Sync and communication", "Control"};
  md << "## Summary\n\n| opcode | class | token | cost |\n|---|---|---|---|\n";
  for (const auto& row : opcode_table()) {
    md << "| `" << row.name << "` | " << op_class_name(row.cls) << " | " << token_policy_text(row.token)
       << " | " << cost_kind_name(row.cost.kind) << ": " << escape_pipes(row.cost.formula) << " |\n";
  }
  md << "\n";
  for (size_t c = 0; c < std::size(classes); ++c) {
    md << "## " << titles[c] << "\n\n";
    for (const auto& row : opcode_table()) {
      if (row.cls != classes[c]) continue;
      md << "### `" << row.name << "`\n\n";
      md << row.semantics << ".\n\n";
      md << "- operands: " << row.operands << "\n";
      md << "- results: " << row.results;
      if (row.token != TokenPolicy::none) md << " (token " << token_policy_text(row.token) << ")";
      md << "\n";
      if (!row.attrs.empty()) {
        md << "- attributes:\n";
        for (const auto& a : row.attrs) {
          md << "  - `" << a.name << "` (" << attr_kind_name(a.kind);
          if (!a.choices.empty()) {
            md << ": ";
            for (size_t i = 0; i < a.choices.size(); ++i) md << (i ? " | " : "") << a.choices[i];
          }
          md << ", " << (a.required ? "required" : "optional");
          if (!a.required && !a.default_text.empty()) md << ", default " << a.default_text;
          if (a.name == row.positional_attr) md << ", positional";
          md << "): " << a.doc << "\n";
        }
      }
      md << "- cost: " << cost_kind_name(row.cost.kind) << " — " << row.cost.formula << "\n";
      md << "- example: `" << row.example << "`\n\n";
    }
  }
  return md.str();
}

}  // namespace tilesim::isa

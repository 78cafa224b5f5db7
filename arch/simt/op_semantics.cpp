#include "arch/simt/op_semantics.hpp"

#include <cmath>

#include "isa/interp_internal.hpp"
#include "isa/tile_kernels.hpp"
#include "sim/error.hpp"

namespace tilesim::simt {

using isa::DType;
using isa::OpId;
using isa::TileValue;

namespace {

[[noreturn]] void fail(const isa::Kernel& k, const isa::Op& op, const std::string& what) {
  throw Error(cat("kernel ", k.name, " line ", op.loc.line, ":", op.loc.col, ": ", op.info().name, ": ", what));
}

std::int64_t eval_int(const isa::Kernel& k, const isa::Op& op, const isa::Expr& e, const ProgramContext& ctx) {
  auto v = isa::eval_expr(e, ctx.launch->symbols);
  if (!v) fail(k, op, "expression " + isa::expr_to_string(e) + " cannot be evaluated");
  return *v;
}

std::vector<std::int64_t> eval_ints(const isa::Kernel& k, const isa::Op& op, const std::vector<isa::Expr>& es,
                                    const ProgramContext& ctx) {
  std::vector<std::int64_t> out;
  for (const auto& e : es) out.push_back(eval_int(k, op, e, ctx));
  return out;
}

std::vector<std::int64_t> shape_of(const isa::Kernel& k, const isa::Op& op, const isa::Type& t, const ProgramContext& ctx) {
  return eval_ints(k, op, t.shape, ctx);
}

bool is_index(const isa::Type& t) { return t.kind == isa::TypeKind::index; }

/// A scalar operand as a rank-0 tile of `dtype`, or a tile operand as is.
TileValue as_tile(const isa::Kernel& k, const isa::Op& op, const RtValue& v, DType dtype) {
  if (v.kind == RtValue::Kind::tile) {
    if (!v.tile) fail(k, op, "tile operand has no value (the run does not carry values)");
    return *v.tile;
  }
  if (!v.known) fail(k, op, "scalar operand is not known");
  return TileValue::scalar(dtype, v.scalar);
}

/// Result of a tile kernel as an RtValue of the result type: scalar results come back as scalars.
RtValue result_of(const isa::Type& t, TileValue v) {
  if (t.is_scalar_like()) return RtValue::scalar_of(v.at(0));
  return RtValue::tile_of(std::move(v));
}

std::optional<isa::UnaryOp> unary_of(const isa::Op& op) {
  switch (op.opcode) {
    case OpId::neg: return isa::UnaryOp::neg;
    case OpId::abs: return isa::UnaryOp::abs;
    case OpId::relu: return isa::UnaryOp::relu;
    case OpId::recip: return isa::UnaryOp::recip;
    case OpId::exp: return isa::UnaryOp::exp;
    case OpId::exp2: return isa::UnaryOp::exp2;
    case OpId::log: return isa::UnaryOp::log;
    case OpId::log2: return isa::UnaryOp::log2;
    case OpId::sqrt: return isa::UnaryOp::sqrt;
    case OpId::rsqrt: return isa::UnaryOp::rsqrt;
    case OpId::tanh: return isa::UnaryOp::tanh;
    case OpId::sigmoid: return isa::UnaryOp::sigmoid;
    case OpId::silu: return isa::UnaryOp::silu;
    case OpId::gelu: {
      const isa::Attr* a = op.attr("approx");
      return a && a->word == "tanh" ? isa::UnaryOp::gelu_tanh : isa::UnaryOp::gelu_erf;
    }
    default: return std::nullopt;
  }
}

std::optional<isa::BinaryOp> binary_of(OpId id) {
  switch (id) {
    case OpId::add: return isa::BinaryOp::add;
    case OpId::sub: return isa::BinaryOp::sub;
    case OpId::mul: return isa::BinaryOp::mul;
    case OpId::div: return isa::BinaryOp::div;
    case OpId::max: return isa::BinaryOp::max;
    case OpId::min: return isa::BinaryOp::min;
    case OpId::pow: return isa::BinaryOp::pow;
    default: return std::nullopt;
  }
}

std::optional<isa::CompareOp> compare_of(OpId id) {
  switch (id) {
    case OpId::cmp_lt: return isa::CompareOp::lt;
    case OpId::cmp_le: return isa::CompareOp::le;
    case OpId::cmp_gt: return isa::CompareOp::gt;
    case OpId::cmp_ge: return isa::CompareOp::ge;
    case OpId::cmp_eq: return isa::CompareOp::eq;
    case OpId::cmp_ne: return isa::CompareOp::ne;
    default: return std::nullopt;
  }
}

/// Scalar arithmetic where an operand is `index`: exact 64-bit integers (the result is index).
std::optional<RtValue> index_arith(const isa::Kernel& k, const isa::Op& op, const std::vector<const RtValue*>& in) {
  for (const RtValue* v : in)
    if (!v->known) return RtValue::unknown_scalar();
  auto iv = [&](std::size_t i) { return static_cast<std::int64_t>(in.at(i)->scalar); };
  switch (op.opcode) {
    case OpId::add: return RtValue::scalar_of(static_cast<double>(iv(0) + iv(1)));
    case OpId::sub: return RtValue::scalar_of(static_cast<double>(iv(0) - iv(1)));
    case OpId::mul: return RtValue::scalar_of(static_cast<double>(iv(0) * iv(1)));
    case OpId::div:
      if (iv(1) == 0) fail(k, op, "integer division by zero");
      return RtValue::scalar_of(static_cast<double>(iv(0) / iv(1)));
    case OpId::rem:
      if (iv(1) == 0) fail(k, op, "remainder by zero");
      return RtValue::scalar_of(static_cast<double>(iv(0) % iv(1)));
    case OpId::cdiv:
      if (iv(1) <= 0) fail(k, op, "cdiv by a non-positive divisor");
      return RtValue::scalar_of(static_cast<double>((iv(0) + iv(1) - 1) / iv(1)));
    case OpId::max: return RtValue::scalar_of(static_cast<double>(std::max(iv(0), iv(1))));
    case OpId::min: return RtValue::scalar_of(static_cast<double>(std::min(iv(0), iv(1))));
    case OpId::neg: return RtValue::scalar_of(static_cast<double>(-iv(0)));
    case OpId::abs: return RtValue::scalar_of(static_cast<double>(std::llabs(iv(0))));
    case OpId::cmp_lt: return RtValue::scalar_of(iv(0) < iv(1));
    case OpId::cmp_le: return RtValue::scalar_of(iv(0) <= iv(1));
    case OpId::cmp_gt: return RtValue::scalar_of(iv(0) > iv(1));
    case OpId::cmp_ge: return RtValue::scalar_of(iv(0) >= iv(1));
    case OpId::cmp_eq: return RtValue::scalar_of(iv(0) == iv(1));
    case OpId::cmp_ne: return RtValue::scalar_of(iv(0) != iv(1));
    case OpId::select: return RtValue::scalar_of(in[0]->scalar != 0 ? in[1]->scalar : in[2]->scalar);
    default: return std::nullopt;
  }
}

}  // namespace

std::vector<std::int64_t> tile_coords(const isa::Kernel& k, const isa::Op& op, const std::vector<const RtValue*>& operands) {
  const int buf = op.info().indexed_operand;
  std::vector<std::int64_t> c;
  for (std::size_t i = static_cast<std::size_t>(buf) + 1; i < operands.size(); ++i) {
    if (!operands[i]->known)
      fail(k, op, "a tile index depends on tile data; carry values to simulate this kernel");
    c.push_back(static_cast<std::int64_t>(operands[i]->scalar));
  }
  return c;
}

std::vector<RtValue> evaluate_op(const isa::Kernel& k, const isa::Op& op, const std::vector<const RtValue*>& in,
                                 const ProgramContext& ctx) {
  const std::size_t n_data = op.info().token != isa::TokenPolicy::none ? op.results.size() - 1 : op.results.size();
  std::vector<RtValue> out(op.results.size());
  auto rtype = [&](std::size_t i) -> const isa::Type& { return k.type_of(op.results.at(i)); };
  const bool scalar_result = n_data > 0 && rtype(0).is_scalar_like();

  // ---- scalars (always) ----
  switch (op.opcode) {
    case OpId::program_id: out[0] = RtValue::scalar_of(static_cast<double>(ctx.coord.at(static_cast<std::size_t>(op.attr("axis")->i)))); return out;
    case OpId::num_programs: out[0] = RtValue::scalar_of(static_cast<double>(ctx.launch->grid.at(static_cast<std::size_t>(op.attr("axis")->i)))); return out;
    case OpId::cluster_rank: out[0] = RtValue::scalar_of(ctx.cluster_rank); return out;
    case OpId::role_instance: out[0] = RtValue::scalar_of(static_cast<double>(ctx.role_instance)); return out;
    case OpId::constant: {
      const isa::Attr* v = op.attr("value");
      const double x = v->as_number();
      out[0] = is_index(rtype(0)) ? RtValue::scalar_of(x) : RtValue::scalar_of(isa::round_to(rtype(0).dtype, x));
      return out;
    }
    default: break;
  }
  if (scalar_result && op.info().cls != isa::OpClass::reduce) {
    bool any_index = false;
    for (isa::ValueId v : op.operands) any_index |= is_index(k.type_of(v));
    if (any_index || op.opcode == OpId::rem || op.opcode == OpId::cdiv) {
      if (auto r = index_arith(k, op, in)) {
        out[0] = *r;
        if (!is_index(rtype(0)) && out[0].known) out[0].scalar = isa::round_to(rtype(0).dtype, out[0].scalar);
        return out;
      }
      if (op.opcode == OpId::cast) {
        out[0] = in[0]->known ? RtValue::scalar_of(is_index(rtype(0)) ? std::trunc(in[0]->scalar)
                                                                       : isa::round_to(rtype(0).dtype, in[0]->scalar))
                              : RtValue::unknown_scalar();
        return out;
      }
    }
    for (const RtValue* v : in)
      if (!v->known) {
        out[0] = RtValue::unknown_scalar();
        return out;
      }
    // i32 / f32 / i1 scalars: rank-0 tiles, fall through to the tile kernels.
  }

  // ---- tiles ----
  bool opaque_input = false;
  for (const RtValue* v : in) opaque_input |= v->kind == RtValue::Kind::tile && !v->tile;
  if ((!scalar_result || opaque_input) && !ctx.carry_values) {
    for (std::size_t i = 0; i < n_data; ++i)
      out[i] = rtype(i).is_scalar_like() ? RtValue::unknown_scalar() : RtValue::opaque_tile();
    return out;
  }
  auto operand_dtype = [&](std::size_t i) { return k.type_of(op.operands.at(i)).dtype; };
  auto tile_in = [&](std::size_t i) { return as_tile(k, op, *in.at(i), operand_dtype(i)); };
  const DType res_dtype = n_data > 0 ? rtype(0).dtype : DType::f32;

  try {
    if (auto u = unary_of(op)) {
      out[0] = result_of(rtype(0), isa::unary(*u, tile_in(0)));
      return out;
    }
    if (auto b = binary_of(op.opcode)) {
      out[0] = result_of(rtype(0), isa::binary(*b, tile_in(0), tile_in(1)));
      return out;
    }
    if (auto c = compare_of(op.opcode)) {
      out[0] = result_of(rtype(0), isa::compare(*c, tile_in(0), tile_in(1)));
      return out;
    }
    switch (op.opcode) {
      case OpId::fma: out[0] = result_of(rtype(0), isa::fma(tile_in(0), tile_in(1), tile_in(2))); return out;
      case OpId::select: out[0] = result_of(rtype(0), isa::select(tile_in(0), tile_in(1), tile_in(2))); return out;
      case OpId::cast: out[0] = result_of(rtype(0), isa::cast(tile_in(0), res_dtype)); return out;
      case OpId::mma: {
        const TileValue a = tile_in(0), b = tile_in(1), c = tile_in(2);
        const bool f32_operands = a.dtype() == DType::f32 || b.dtype() == DType::f32;
        out[0] = RtValue::tile_of(f32_operands ? isa::interp::mma_f32_operands(c, a, b, ctx.launch->mma)
                                               : isa::mma(c, a, b, ctx.launch->mma));
        return out;
      }
      case OpId::mma_scaled: {
        const isa::Attr* blk = op.attr("block");
        out[0] = RtValue::tile_of(isa::interp::mma_block_scaled(tile_in(4), tile_in(0), tile_in(1), tile_in(2),
                                                                tile_in(3), blk ? blk->i : 32, ctx.launch->mma));
        return out;
      }
      case OpId::reduce_sum:
      case OpId::reduce_max:
      case OpId::reduce_min: {
        const isa::ReduceOp r = op.opcode == OpId::reduce_sum ? isa::ReduceOp::sum
                                : op.opcode == OpId::reduce_max ? isa::ReduceOp::max
                                                                : isa::ReduceOp::min;
        const isa::Attr* kd = op.attr("keepdims");
        out[0] = result_of(rtype(0), isa::reduce(r, tile_in(0), static_cast<int>(op.attr("axis")->i), kd && kd->b));
        return out;
      }
      case OpId::transpose: {
        if (const isa::Attr* p = op.attr("perm")) {
          std::vector<int> perm;
          for (auto v : eval_ints(k, op, p->exprs, ctx)) perm.push_back(static_cast<int>(v));
          out[0] = RtValue::tile_of(isa::transpose(tile_in(0), perm));
        } else {
          TileValue x = tile_in(0);
          std::vector<int> perm;
          for (int d = x.rank() - 1; d >= 0; --d) perm.push_back(d);
          out[0] = RtValue::tile_of(isa::transpose(x, perm));
        }
        return out;
      }
      case OpId::broadcast:
        out[0] = RtValue::tile_of(isa::broadcast_to(tile_in(0), eval_ints(k, op, op.attr("shape")->exprs, ctx)));
        return out;
      case OpId::reshape:
        out[0] = RtValue::tile_of(isa::reshape(tile_in(0), eval_ints(k, op, op.attr("shape")->exprs, ctx)));
        return out;
      case OpId::slice:
        out[0] = RtValue::tile_of(isa::slice(tile_in(0), eval_ints(k, op, op.attr("offsets")->exprs, ctx),
                                             eval_ints(k, op, op.attr("sizes")->exprs, ctx)));
        return out;
      case OpId::subtile: {
        const auto shape = eval_ints(k, op, op.attr("shape")->exprs, ctx);
        const auto block = tile_coords(k, op, in);
        std::vector<std::int64_t> starts;
        for (std::size_t d = 0; d < shape.size(); ++d) starts.push_back(block.at(d) * shape[d]);
        out[0] = RtValue::tile_of(isa::slice(tile_in(0), starts, shape));
        return out;
      }
      case OpId::concat: {
        std::vector<TileValue> parts;
        for (std::size_t i = 0; i < in.size(); ++i) parts.push_back(tile_in(i));
        out[0] = RtValue::tile_of(isa::concat(parts, static_cast<int>(op.attr("axis")->i)));
        return out;
      }
      case OpId::gather:
        out[0] = RtValue::tile_of(isa::gather(tile_in(0), tile_in(1), static_cast<int>(op.attr("axis")->i)));
        return out;
      case OpId::scatter:
        out[0] = RtValue::tile_of(isa::scatter(tile_in(0), tile_in(1), tile_in(2), static_cast<int>(op.attr("axis")->i)));
        return out;
      case OpId::iota: {
        const isa::Attr* a = op.attr("axis");
        out[0] = RtValue::tile_of(isa::iota(res_dtype, shape_of(k, op, rtype(0), ctx), a ? static_cast<int>(a->i) : 0));
        return out;
      }
      case OpId::full:
        out[0] = RtValue::tile_of(isa::full(res_dtype, shape_of(k, op, rtype(0), ctx), op.attr("value")->as_number()));
        return out;
      case OpId::zeros:
        out[0] = RtValue::tile_of(TileValue(res_dtype, shape_of(k, op, rtype(0), ctx)));
        return out;
      case OpId::move: out[0] = *in[0]; return out;
      case OpId::load:
      case OpId::copy_async: {
        const isa::ValueId buf = op.operands.at(0);
        out[0] = RtValue::tile_of(core::load_tile(ctx.launch->values->tensor(buf), tile_coords(k, op, in),
                                                  shape_of(k, op, rtype(0), ctx), res_dtype));
        return out;
      }
      case OpId::store:
      case OpId::atomic_add: {
        const isa::ValueId buf = op.operands.at(1);
        const TileValue x = tile_in(0);
        core::store_tile(ctx.launch->values->tensor(buf), tile_coords(k, op, in), x, op.opcode == OpId::atomic_add);
        return out;
      }
      case OpId::wait:
      case OpId::barrier:
      case OpId::fence:
      case OpId::release:
        return out;
      default:
        fail(k, op, "values are not modelled for this op in the SIMT model");
    }
  } catch (const isa::SemanticError& e) {
    fail(k, op, e.what());
  }
}

}  // namespace tilesim::simt

// Python bindings of the tile ISA: the IR Builder (what the DSL in python/tilesim/dsl.py drives), the
// `.tile` parser/printer/verifier, and the exact dtype conversions (so Python tests can check numerics).
//
// Conventions at the boundary:
//  - values are their integer ValueId; types are `Type` objects; dtypes, memory spaces and opcodes are
//    their `.tile` spellings ("bf16", "scratch", "reduce.sum");
//  - kernel-constant expressions (shapes, grid, resources) are nested tuples: an int is a constant, a str a
//    scalar parameter, ("add" | "sub" | "mul" | "div" | "cdiv" | "min" | "max", a, b) or ("neg", a);
//  - attributes are a dict; each value is converted to the kind the opcode table declares for that name.
#include "python/isa_bindings.hpp"
#include "python/numpy_buffers.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <memory>

#include "isa/dtype.hpp"
#include "isa/interpreter.hpp"
#include "isa/ir.hpp"
#include "isa/opcodes.hpp"
#include "isa/text_parser.hpp"
#include "isa/text_printer.hpp"
#include "isa/verifier.hpp"
#include "sim/error.hpp"

namespace py = pybind11;

namespace tilesim {

// ---- numpy <-> interpreter buffers ----------------------------------------------------------------------

void split_scalars(const isa::Kernel& k, const py::dict& scalars, isa::SymbolValues& ints,
                   std::map<std::string, double>& floats) {
  for (auto item : scalars) {
    const auto name = item.first.cast<std::string>();
    const isa::ValueId id = k.find_value(name);
    if (id == isa::kNoValue || k.value(id).def != isa::ValueDef::param || !k.type_of(id).is_scalar_like())
      throw ConfigError("kernel @" + k.name + " has no scalar parameter '" + name + "'");
    const isa::Type& t = k.type_of(id);
    const bool integral = t.kind == isa::TypeKind::index || isa::is_int(t.dtype) || isa::is_bool(t.dtype);
    if (integral) {
      if (py::isinstance<py::float_>(item.second))
        throw ConfigError("scalar parameter '" + name + "' of kernel @" + k.name + " is " + isa::type_to_string(t) +
                          ": give an integer, got " + py::repr(item.second).cast<std::string>());
      ints[name] = item.second.cast<int64_t>();
    } else {
      floats[name] = item.second.cast<double>();
    }
  }
}

isa::Buffers buffers_from_py(const isa::Kernel& k, const isa::SymbolValues& ints, const py::dict& arrays) {
  for (auto item : arrays) {
    const auto name = item.first.cast<std::string>();
    const isa::ValueId id = k.find_value(name);
    if (id == isa::kNoValue || k.value(id).def != isa::ValueDef::param || k.type_of(id).kind != isa::TypeKind::global)
      throw ConfigError("kernel @" + k.name + " has no tensor parameter '" + name + "'");
  }
  isa::Buffers b;
  for (const isa::Param& p : k.params) {
    const isa::ValueInfo& v = k.value(p.value);
    if (v.type.kind != isa::TypeKind::global) continue;
    const isa::Shape shape = isa::param_shape(k, v.name, ints);
    if (!arrays.contains(v.name)) {
      b.tensors.emplace(v.name, isa::TileValue(v.type.dtype, shape));
      continue;
    }
    auto a = arrays[py::str(v.name)].cast<py::array_t<double, py::array::c_style | py::array::forcecast>>();
    isa::Shape got(a.shape(), a.shape() + a.ndim());
    if (got != shape)
      throw ConfigError("tensor '" + v.name + "' of kernel @" + k.name + " must have shape " + isa::shape_string(shape) +
                        " (" + isa::type_to_string(v.type) + "), got " + isa::shape_string(got));
    std::vector<double> values(a.data(), a.data() + a.size());
    b.tensors.emplace(v.name, isa::TileValue(v.type.dtype, shape, values));
  }
  return b;
}

py::dict buffers_to_py(const isa::Buffers& b) {
  py::dict out;
  for (const auto& [name, t] : b.tensors) {
    py::array_t<double> a(std::vector<py::ssize_t>(t.shape().begin(), t.shape().end()));
    std::copy(t.values().begin(), t.values().end(), a.mutable_data());
    out[py::str(name)] = a;
  }
  return out;
}

isa::InterpreterOptions interpreter_options(const py::dict& options) {
  isa::InterpreterOptions o;
  for (auto item : options) {
    const auto key = item.first.cast<std::string>();
    if (key == "acc_mantissa_bits") o.mma.acc_mantissa_bits = item.second.cast<int>();
    else if (key == "acc_block_k") o.mma.acc_block_k = item.second.cast<int>();
    else if (key == "int_satfinite") o.mma.int_satfinite = item.second.cast<bool>();
    else if (key == "check_bounds") o.check_bounds = item.second.cast<bool>();
    else if (key == "verify") o.verify = item.second.cast<bool>();
    else
      throw ConfigError("unknown interpreter option '" + key +
                        "' (acc_mantissa_bits, acc_block_k, int_satfinite, check_bounds, verify)");
  }
  return o;
}

py::dict interpreter_options_to_py(const isa::InterpreterOptions& o) {
  py::dict d;
  d["acc_mantissa_bits"] = o.mma.acc_mantissa_bits;
  d["acc_block_k"] = o.mma.acc_block_k;
  d["int_satfinite"] = o.mma.int_satfinite;
  d["check_bounds"] = o.check_bounds;
  d["verify"] = o.verify;
  return d;
}


namespace {

using isa::Attr;
using isa::Attrs;
using isa::DType;
using isa::Expr;
using isa::MemSpace;
using isa::Module;
using isa::Type;
using isa::TypeKind;

// ---- names <-> enums -----------------------------------------------------------------------------------

DType dtype_from(const std::string& name) {
  if (auto d = isa::parse_dtype(name)) return *d;
  std::string all;
  for (DType d : isa::all_dtypes()) all += std::string(all.empty() ? "" : ", ") + isa::dtype_name(d);
  throw py::value_error("unknown dtype '" + name + "' (one of " + all + ")");
}

MemSpace space_from(const std::string& name) {
  if (name == "global") return MemSpace::global;
  if (auto s = isa::parse_mem_space(name)) return *s;
  throw py::value_error("unknown memory space '" + name + "' (reg, scratch, acc)");
}

isa::Overflow overflow_from(const std::string& name) {
  if (name == "ieee") return isa::Overflow::ieee;
  if (name == "satfinite") return isa::Overflow::satfinite;
  throw py::value_error("unknown overflow policy '" + name + "' (ieee, satfinite)");
}

const char* type_kind_name(TypeKind k) {
  switch (k) {
    case TypeKind::none: return "none";
    case TypeKind::scalar: return "scalar";
    case TypeKind::index: return "index";
    case TypeKind::tile: return "tile";
    case TypeKind::global: return "global";
    case TypeKind::token: return "token";
    case TypeKind::channel: return "channel";
  }
  return "none";
}

const char* value_def_name(isa::ValueDef d) {
  switch (d) {
    case isa::ValueDef::param: return "param";
    case isa::ValueDef::channel: return "channel";
    case isa::ValueDef::op_result: return "op_result";
    case isa::ValueDef::region_arg: return "region_arg";
  }
  return "op_result";
}

// ---- expressions as nested tuples ------------------------------------------------------------------------

struct ExprKindName {
  Expr::Kind kind;
  const char* name;
};
constexpr ExprKindName kExprKinds[] = {
    {Expr::Kind::add, "add"}, {Expr::Kind::sub, "sub"},   {Expr::Kind::mul, "mul"}, {Expr::Kind::div, "div"},
    {Expr::Kind::cdiv, "cdiv"}, {Expr::Kind::min, "min"}, {Expr::Kind::max, "max"}, {Expr::Kind::neg, "neg"},
};

Expr expr_from_py(py::handle h) {
  if (py::isinstance<py::bool_>(h)) throw py::type_error("a kernel-constant expression cannot be a bool");
  if (py::isinstance<py::int_>(h)) return Expr::constant_of(h.cast<int64_t>());
  if (py::isinstance<py::str>(h)) return Expr::symbol_of(h.cast<std::string>());
  if (py::isinstance<py::tuple>(h) || py::isinstance<py::list>(h)) {
    auto seq = h.cast<py::sequence>();
    if (seq.size() < 2 || !py::isinstance<py::str>(seq[0]))
      throw py::type_error("an expression tuple is (kind, operand[, operand]), got " + py::repr(h).cast<std::string>());
    const auto kind = seq[0].cast<std::string>();
    for (const ExprKindName& k : kExprKinds) {
      if (kind != k.name) continue;
      const size_t want = k.kind == Expr::Kind::neg ? 2 : 3;
      if (seq.size() != want)
        throw py::type_error("expression '" + kind + "' takes " + std::to_string(want - 1) + " operand(s)");
      if (k.kind == Expr::Kind::neg) return Expr::negate(expr_from_py(seq[1]));
      return Expr::binary(k.kind, expr_from_py(seq[1]), expr_from_py(seq[2]));
    }
    throw py::value_error("unknown expression kind '" + kind + "' (add, sub, mul, div, cdiv, min, max, neg)");
  }
  throw py::type_error("expected an int, a parameter name or an expression tuple, got " +
                       py::repr(h).cast<std::string>());
}

std::vector<Expr> exprs_from_py(py::handle h) {
  std::vector<Expr> out;
  for (py::handle item : h.cast<py::sequence>()) out.push_back(expr_from_py(item));
  return out;
}

py::object expr_to_py(const Expr& e) {
  if (e.kind == Expr::Kind::constant) return py::int_(e.value);
  if (e.kind == Expr::Kind::symbol) return py::str(e.symbol);
  for (const ExprKindName& k : kExprKinds) {
    if (k.kind != e.kind) continue;
    if (e.kind == Expr::Kind::neg) return py::make_tuple(k.name, expr_to_py(e.args.at(0)));
    return py::make_tuple(k.name, expr_to_py(e.args.at(0)), expr_to_py(e.args.at(1)));
  }
  throw py::value_error("unknown expression kind");
}

py::list exprs_to_py(const std::vector<Expr>& es) {
  py::list out;
  for (const Expr& e : es) out.append(expr_to_py(e));
  return out;
}

// ---- attributes ------------------------------------------------------------------------------------------

Attr attr_from_py(const std::string& opcode_name, isa::OpId op, const std::string& name, py::handle v) {
  const isa::AttrSpec* spec = isa::find_attr_spec(op, name);
  auto wrong = [&](const char* want) {
    return py::type_error("attribute '" + name + "' of '" + opcode_name + "' must be " + want + ", got " +
                          py::repr(v).cast<std::string>());
  };
  const bool is_bool = py::isinstance<py::bool_>(v);
  const bool is_int = !is_bool && py::isinstance<py::int_>(v);
  const bool is_real = py::isinstance<py::float_>(v);
  const bool is_str = py::isinstance<py::str>(v);
  if (!spec) {
    // Unknown to the table: keep the Python kind; the Builder's attribute check reports the name.
    if (is_bool) return Attr::boolean_of(v.cast<bool>());
    if (is_int) return Attr::integer_of(v.cast<int64_t>());
    if (is_real) return Attr::real_of(v.cast<double>());
    if (is_str) return Attr::word_of(v.cast<std::string>());
    return Attr::exprs_of(exprs_from_py(v));
  }
  switch (spec->kind) {
    case isa::AttrKind::integer:
      if (!is_int) throw wrong("an int");
      return Attr::integer_of(v.cast<int64_t>());
    case isa::AttrKind::number:
      if (is_bool) return Attr::boolean_of(v.cast<bool>());
      if (is_int) return Attr::integer_of(v.cast<int64_t>());
      if (is_real) return Attr::real_of(v.cast<double>());
      throw wrong("a number");
    case isa::AttrKind::boolean:
      if (!is_bool) throw wrong("a bool");
      return Attr::boolean_of(v.cast<bool>());
    case isa::AttrKind::dtype:
      if (!is_str) throw wrong("a dtype name");
      return Attr::dtype_of(dtype_from(v.cast<std::string>()));
    case isa::AttrKind::space:
      if (!is_str) throw wrong("a memory space name");
      return Attr::space_of(space_from(v.cast<std::string>()));
    case isa::AttrKind::word:
      if (!is_str) throw wrong("a word");
      return Attr::word_of(v.cast<std::string>());
    case isa::AttrKind::exprs:
      if (is_str || is_int || is_real || is_bool) throw wrong("a list of expressions");
      return Attr::exprs_of(exprs_from_py(v));
  }
  throw wrong("a value");
}

isa::OpId opcode_from(const std::string& name) {
  if (auto id = isa::find_opcode(name)) return *id;
  auto similar = isa::similar_opcode_names(name);
  throw py::value_error("unknown opcode '" + name + "'" +
                        (similar.empty() ? std::string() : " (did you mean '" + similar[0] + "'?)"));
}

Attrs attrs_from_py(const std::string& opcode_name, const py::dict& d) {
  const isa::OpId op = opcode_from(opcode_name);
  Attrs out;
  for (auto item : d) {
    const auto name = item.first.cast<std::string>();
    out.push_back({name, attr_from_py(opcode_name, op, name, item.second)});
  }
  return out;
}

// ---- modules and the builder -----------------------------------------------------------------------------

using ModulePtr = std::shared_ptr<Module>;

isa::Kernel& kernel_named(Module& m, const std::string& name) {
  for (isa::Kernel& k : m.kernels)
    if (k.name == name) return k;
  throw py::key_error("module has no kernel @" + name);
}

std::vector<isa::Value> values_from(const std::vector<isa::ValueId>& ids) {
  std::vector<isa::Value> out;
  for (isa::ValueId id : ids) out.push_back(isa::Value{id});
  return out;
}

std::vector<isa::ValueId> ids_of(const std::vector<isa::Value>& values) {
  std::vector<isa::ValueId> out;
  for (isa::Value v : values) out.push_back(v.id);
  return out;
}

/// The Builder keeps a reference to its module: the box keeps the module alive as long as the builder.
struct BuilderBox {
  ModulePtr module;
  std::unique_ptr<isa::Builder> builder;

  BuilderBox(ModulePtr m, const std::string& kernel_name)
      : module(std::move(m)), builder(std::make_unique<isa::Builder>(*module, kernel_name)) {}
  isa::Builder& b() { return *builder; }
  const isa::Kernel& kernel() { return builder->kernel(); }
  void check_id(isa::ValueId id) const {
    if (id < 0 || static_cast<size_t>(id) >= builder->kernel().values.size())
      throw py::index_error("no value with id " + std::to_string(id) + " in kernel @" + builder->kernel().name);
  }
};

py::dict diagnostic_to_py(const Module& m, const isa::Diagnostic& d) {
  py::dict out;
  out["severity"] = d.severity == isa::Severity::error ? "error" : "warning";
  out["line"] = d.loc.line;
  out["col"] = d.loc.col;
  out["message"] = d.message;
  out["hint"] = d.hint;
  out["formatted"] = isa::format_diagnostic(m.source_name, m.source_text, d);
  return out;
}

// ---- dtype conversions over numpy arrays -----------------------------------------------------------------

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using BitsArray = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>;

template <class Out, class In, class F>
py::array_t<Out> map_array(const py::array_t<In, py::array::c_style | py::array::forcecast>& in, F f) {
  py::array_t<Out> out(std::vector<py::ssize_t>(in.shape(), in.shape() + in.ndim()));
  const In* src = in.data();
  Out* dst = out.mutable_data();
  const py::ssize_t n = in.size();
  for (py::ssize_t i = 0; i < n; ++i) dst[i] = f(src[i]);
  return out;
}

void bind_dtypes(py::module_& m) {
  m.def(
      "dtypes",
      [] {
        std::vector<std::string> out;
        for (DType d : isa::all_dtypes()) out.emplace_back(isa::dtype_name(d));
        return out;
      },
      "Every dtype of the tile ISA, by its .tile spelling.");
  m.def(
      "dtype_info",
      [](const std::string& name) {
        const DType d = dtype_from(name);
        py::dict out;
        out["name"] = isa::dtype_name(d);
        out["bits"] = isa::bits(d);
        out["is_float"] = isa::is_float(d);
        out["is_int"] = isa::is_int(d);
        out["is_bool"] = isa::is_bool(d);
        out["max_finite"] = isa::max_finite(d);
        out["min_subnormal"] = isa::min_subnormal(d);
        out["default_overflow"] = isa::default_overflow(d) == isa::Overflow::ieee ? "ieee" : "satfinite";
        return out;
      },
      py::arg("dtype"), "Bits, range and default overflow policy of a dtype.");
  m.def(
      "round_to",
      [](const std::string& dtype, const DoubleArray& x, std::optional<std::string> overflow) {
        const DType d = dtype_from(dtype);
        if (!overflow) return map_array<double>(x, [d](double v) { return isa::round_to(d, v); });
        const isa::Overflow o = overflow_from(*overflow);
        return map_array<double>(x, [d, o](double v) { return isa::round_to(d, v, o); });
      },
      py::arg("dtype"), py::arg("x"), py::arg("overflow") = py::none(),
      "Each element rounded to the nearest value of dtype (the simulator's conversion), as float64.");
  m.def(
      "encode",
      [](const std::string& dtype, const DoubleArray& x, std::optional<std::string> overflow) {
        const DType d = dtype_from(dtype);
        const isa::Overflow o = overflow ? overflow_from(*overflow) : isa::default_overflow(d);
        if (isa::bits(d) > 32)
          return py::array(map_array<uint64_t>(x, [d, o](double v) { return isa::encode(d, v, o); }));
        return py::array(
            map_array<uint32_t>(x, [d, o](double v) { return static_cast<uint32_t>(isa::encode(d, v, o)); }));
      },
      py::arg("dtype"), py::arg("x"), py::arg("overflow") = py::none(),
      "Bit patterns of each element converted to dtype: uint32 (in the low bits), uint64 for f64.");
  m.def(
      "decode",
      [](const std::string& dtype, const BitsArray& bits) {
        const DType d = dtype_from(dtype);
        return map_array<double>(bits, [d](uint64_t b) { return isa::decode(d, b); });
      },
      py::arg("dtype"), py::arg("bits"), "The float64 values a dtype's bit patterns stand for.");
  m.def(
      "round_tf32",
      [](const DoubleArray& x, const std::string& rounding) {
        if (rounding == "rz") return map_array<double>(x, [](double v) { return isa::round_to(DType::tf32, v); });
        if (rounding == "rna") return map_array<double>(x, [](double v) { return isa::round_tf32_rna(v); });
        if (rounding == "rne") return map_array<double>(x, [](double v) { return isa::round_tf32_rne(v); });
        throw py::value_error("unknown tf32 rounding '" + rounding + "' (rz, rna, rne)");
      },
      py::arg("x"), py::arg("rounding") = "rz",
      "tf32 rounding: 'rz' (tensor-core operand truncation, the default), 'rna', 'rne'.");
}

// ---- IR types ------------------------------------------------------------------------------------------

void bind_types(py::module_& m) {
  py::class_<Type>(m, "Type", "A tile-ISA type: scalar, index, tile, global tensor, token or channel.")
      .def_static("scalar", [](const std::string& d) { return Type::scalar_of(dtype_from(d)); }, py::arg("dtype"))
      .def_static("index", &Type::index_type)
      .def_static("token", &Type::token_type)
      .def_static(
          "tile",
          [](const std::string& d, py::handle shape, const std::string& space) {
            return Type::tile_of(dtype_from(d), exprs_from_py(shape), space_from(space));
          },
          py::arg("dtype"), py::arg("shape"), py::arg("space") = "reg")
      .def_static(
          "global_",
          [](const std::string& d, py::handle shape) { return Type::global_of(dtype_from(d), exprs_from_py(shape)); },
          py::arg("dtype"), py::arg("shape"))
      .def_property_readonly("kind", [](const Type& t) { return type_kind_name(t.kind); })
      .def_property_readonly("dtype", [](const Type& t) { return std::string(isa::dtype_name(t.dtype)); })
      .def_property_readonly("shape", [](const Type& t) { return exprs_to_py(t.shape); })
      .def_property_readonly("space", [](const Type& t) { return std::string(isa::mem_space_name(t.space)); })
      .def_property_readonly("rank", &Type::rank)
      .def("__eq__", [](const Type& a, const Type& b) { return a == b; })
      .def("__hash__", [](const Type& t) { return py::hash(py::str(isa::type_to_string(t))); })
      .def("__str__", [](const Type& t) { return isa::type_to_string(t); })
      .def("__repr__", [](const Type& t) { return "Type(" + isa::type_to_string(t) + ")"; });

  m.def(
      "expr_to_string", [](py::handle e) { return isa::expr_to_string(expr_from_py(e)); }, py::arg("expr"),
      "Canonical text of a kernel-constant expression: expr_to_string(('cdiv', 'M', 128)) == 'cdiv(M, 128)'.");
  m.def(
      "eval_expr",
      [](py::handle e, const std::map<std::string, int64_t>& symbols) {
        std::string error;
        auto v = isa::eval_expr(expr_from_py(e), symbols, &error);
        if (!v) throw Error("cannot evaluate " + isa::expr_to_string(expr_from_py(e)) + ": " + error);
        return *v;
      },
      py::arg("expr"), py::arg("symbols") = std::map<std::string, int64_t>{},
      "Evaluate a kernel-constant expression with the given parameter values.");
}

void bind_opcodes(py::module_& m) {
  m.def(
      "opcodes",
      [] {
        py::list out;
        for (const isa::OpcodeInfo& info : isa::opcode_table()) {
          py::dict d;
          d["name"] = std::string(info.name);
          d["class"] = isa::op_class_name(info.cls);
          d["token"] = info.token != isa::TokenPolicy::none;
          py::list attrs;
          for (const isa::AttrSpec& a : info.attrs) attrs.append(std::string(a.name));
          d["attrs"] = attrs;
          d["semantics"] = std::string(info.semantics);
          d["example"] = info.example;
          out.append(d);
        }
        return out;
      },
      "Every row of the opcode table: name, class, token, attrs, semantics, example.");
}

// ---- modules --------------------------------------------------------------------------------------------

py::list kernel_values_to_py(const isa::Kernel& k) {
  py::list out;
  for (const isa::ValueInfo& v : k.values) {
    py::dict d;
    d["name"] = v.name;
    d["type"] = v.type;
    d["def"] = value_def_name(v.def);
    d["line"] = v.loc.line;
    out.append(d);
  }
  return out;
}

void bind_module(py::module_& m) {
  py::class_<Module, ModulePtr>(m, "Module", "A tile-ISA module: one or more kernels.")
      .def(py::init([](const std::string& source_name, const std::string& source_text) {
             auto mod = std::make_shared<Module>();
             mod->source_name = source_name;
             mod->source_text = source_text;
             return mod;
           }),
           py::arg("source_name") = "<memory>", py::arg("source_text") = "")
      .def_readwrite("source_name", &Module::source_name)
      .def_readwrite("source_text", &Module::source_text)
      .def("kernel_names",
           [](const Module& mod) {
             std::vector<std::string> out;
             for (const isa::Kernel& k : mod.kernels) out.push_back(k.name);
             return out;
           })
      .def("print", [](const Module& mod) { return isa::print_module(mod); }, "The canonical .tile text.")
      .def("__str__", [](const Module& mod) { return isa::print_module(mod); })
      .def("copy", [](const Module& mod) { return std::make_shared<Module>(mod); })
      .def(
          "append",
          [](Module& mod, const Module& other) {
            for (const isa::Kernel& k : other.kernels)
              if (mod.find_kernel(k.name)) throw Error("module already has a kernel @" + k.name);
            for (const isa::Kernel& k : other.kernels) mod.kernels.push_back(k);
          },
          py::arg("other"), "Append copies of other's kernels (names must be new).")
      .def(
          "values", [](Module& mod, const std::string& kernel) { return kernel_values_to_py(kernel_named(mod, kernel)); },
          py::arg("kernel"), "Every value of a kernel by id: dicts with name, type, def, line.")
      .def(
          "set_value_name",
          [](Module& mod, const std::string& kernel, isa::ValueId id, const std::string& name) {
            isa::Kernel& k = kernel_named(mod, kernel);
            if (id < 0 || static_cast<size_t>(id) >= k.values.size())
              throw py::index_error("no value with id " + std::to_string(id) + " in kernel @" + kernel);
            k.values[static_cast<size_t>(id)].name = name;
          },
          py::arg("kernel"), py::arg("id"), py::arg("name"),
          "Rename a value (the caller keeps names unique; verify() checks).")
      .def(
          "params",
          [](Module& mod, const std::string& kernel) {
            const isa::Kernel& k = kernel_named(mod, kernel);
            py::list out;
            for (const isa::Param& p : k.params) out.append(py::make_tuple(k.value(p.value).name, k.type_of(p.value)));
            return out;
          },
          py::arg("kernel"), "Parameters of a kernel as (name, Type) pairs, in order.")
      .def(
          "grid", [](Module& mod, const std::string& kernel) { return exprs_to_py(kernel_named(mod, kernel).grid); },
          py::arg("kernel"), "The grid of a kernel as expressions (empty: one program).")
      .def(
          "set_kernel_loc",
          [](Module& mod, const std::string& kernel, int line, int col) {
            kernel_named(mod, kernel).loc = isa::SourceLoc{line, col};
          },
          py::arg("kernel"), py::arg("line"), py::arg("col") = 0,
          "Where the kernel is defined (for diagnostics about the whole kernel).")
      .def(
          "scratch_usage",
          [](Module& mod, const std::string& kernel) -> std::optional<int64_t> {
            return isa::scratch_usage(kernel_named(mod, kernel)).total_bytes();
          },
          py::arg("kernel"), "Bytes of scratch the kernel allocates (None when a shape is symbolic).")
      .def(
          "set_scratch",
          [](Module& mod, const std::string& kernel, py::handle bytes) {
            isa::Kernel& k = kernel_named(mod, kernel);
            if (bytes.is_none()) k.resources.scratch_bytes.reset();
            else k.resources.scratch_bytes = expr_from_py(bytes);
          },
          py::arg("kernel"), py::arg("bytes"), "Set (or with None clear) resources(scratch=...).")
      .def(
          "verify_report",
          [](const Module& mod) {
            py::list out;
            for (const isa::Diagnostic& d : isa::verify(mod).diagnostics) out.append(diagnostic_to_py(mod, d));
            return out;
          },
          "Every verifier diagnostic (errors and warnings) as dicts: severity, line, col, message, hint, "
          "formatted.")
      .def("verify", [](const Module& mod) { isa::verify_or_throw(mod); },
           "Raise tilesim.Error listing every verifier error (file:line:col, source line, caret).");

  m.def(
      "format_diagnostic",
      [](const std::string& source_name, const std::string& source_text, int line, int col, const std::string& message,
         const std::string& hint, const std::string& severity) {
        isa::Diagnostic d{severity == "warning" ? isa::Severity::warning : isa::Severity::error,
                          isa::SourceLoc{line, col}, message, hint};
        return isa::format_diagnostic(source_name, source_text, d);
      },
      py::arg("source_name"), py::arg("source_text"), py::arg("line"), py::arg("col"), py::arg("message"),
      py::arg("hint") = "", py::arg("severity") = "error",
      "`file:line:col: error: message`, the source line, a caret and the hint: the format of every tilesim "
      "input error (the DSL reports its own errors this way).");
  m.def(
      "parse_tile",
      [](const std::string& text, const std::string& name) { return std::make_shared<Module>(isa::parse_module(text, name)); },
      py::arg("text"), py::arg("name") = "<memory>",
      "Parse .tile text (errors raise tilesim.Error as file:line:col with a caret). Does not verify.");
  m.def(
      "load_tile_file", [](const std::string& path) { return std::make_shared<Module>(isa::load_tile_file(path)); },
      py::arg("path"), "Read, parse and verify a .tile file.");
  m.def(
      "print_module", [](const Module& mod) { return isa::print_module(mod); }, py::arg("module"),
      "The canonical .tile text of a module.");
  m.def(
      "verify", [](const Module& mod) { isa::verify_or_throw(mod); }, py::arg("module"),
      "Raise tilesim.Error listing every verifier error.");
}

// ---- the builder ----------------------------------------------------------------------------------------

void bind_builder(py::module_& m) {
  py::class_<BuilderBox>(m, "Builder",
                         "Builds one kernel into a Module op by op, type-checking as it goes (isa/ir.hpp). Values "
                         "are integer ids; errors raise tilesim.Error at the location given by set_loc.")
      .def(py::init<ModulePtr, std::string>(), py::arg("module"), py::arg("kernel_name"))
      .def_property_readonly("module", [](BuilderBox& b) { return b.module; })
      .def_property_readonly("kernel_name", [](BuilderBox& b) { return b.kernel().name; })
      .def(
          "set_loc", [](BuilderBox& b, int line, int col) { b.b().set_loc(isa::SourceLoc{line, col}); },
          py::arg("line"), py::arg("col") = 0)
      .def(
          "type_of",
          [](BuilderBox& b, isa::ValueId id) {
            b.check_id(id);
            return b.kernel().type_of(id);
          },
          py::arg("id"))
      .def(
          "name_of",
          [](BuilderBox& b, isa::ValueId id) {
            b.check_id(id);
            return b.kernel().value(id).name;
          },
          py::arg("id"))
      .def(
          "param_global",
          [](BuilderBox& b, const std::string& name, const std::string& dtype, py::handle shape) {
            return b.b().param_global(name, dtype_from(dtype), exprs_from_py(shape)).id;
          },
          py::arg("name"), py::arg("dtype"), py::arg("shape"))
      .def(
          "param_scalar",
          [](BuilderBox& b, const std::string& name, const Type& type) { return b.b().param_scalar(name, type).id; },
          py::arg("name"), py::arg("type"))
      .def(
          "set_grid", [](BuilderBox& b, py::handle grid) { b.b().set_grid(exprs_from_py(grid)); }, py::arg("grid"))
      .def(
          "set_cluster", [](BuilderBox& b, py::handle cluster) { b.b().set_cluster(exprs_from_py(cluster)); },
          py::arg("cluster"))
      .def(
          "set_resources",
          [](BuilderBox& b, py::handle scratch, std::optional<int64_t> warps, std::optional<int64_t> registers) {
            isa::Resources r;
            if (!scratch.is_none()) r.scratch_bytes = expr_from_py(scratch);
            r.warps = warps;
            r.registers = registers;
            b.b().set_resources(std::move(r));
          },
          py::arg("scratch") = py::none(), py::arg("warps") = py::none(), py::arg("registers") = py::none())
      .def(
          "channel",
          [](BuilderBox& b, const std::string& name, int64_t stages, const Type& tile_type) {
            return b.b().channel(name, stages, tile_type).id;
          },
          py::arg("name"), py::arg("stages"), py::arg("tile_type"))
      .def(
          "op",
          [](BuilderBox& b, const std::string& opcode, const std::vector<isa::ValueId>& operands, const py::dict& attrs,
             std::optional<Type> written, const std::vector<isa::ValueId>& after, const std::string& name) {
            for (isa::ValueId id : operands) b.check_id(id);
            for (isa::ValueId id : after) b.check_id(id);
            const Attrs a = attrs_from_py(opcode, attrs);
            return ids_of(b.b().op_results(opcode, values_from(operands), a, written, values_from(after), name));
          },
          py::arg("opcode"), py::arg("operands") = std::vector<isa::ValueId>{}, py::arg("attrs") = py::dict(),
          py::arg("written") = py::none(), py::arg("after") = std::vector<isa::ValueId>{}, py::arg("name") = "",
          "Append one op; returns its result ids (memory ops: the token last).")
      .def(
          "begin_for",
          [](BuilderBox& b, isa::ValueId lo, isa::ValueId hi, isa::ValueId step, const std::vector<isa::ValueId>& inits,
             std::optional<int64_t> stages, const std::string& induction_name,
             const std::vector<std::string>& iter_names) {
            for (isa::ValueId id : {lo, hi, step}) b.check_id(id);
            for (isa::ValueId id : inits) b.check_id(id);
            auto h = b.b().begin_for(isa::Value{lo}, isa::Value{hi}, isa::Value{step}, values_from(inits), stages,
                                     induction_name, iter_names);
            return py::make_tuple(h.induction.id, ids_of(h.iter_args));
          },
          py::arg("lo"), py::arg("hi"), py::arg("step"), py::arg("inits") = std::vector<isa::ValueId>{},
          py::arg("stages") = py::none(), py::arg("induction_name") = "",
          py::arg("iter_names") = std::vector<std::string>{},
          "Open a for region; returns (induction id, [iter arg ids]).")
      .def(
          "end_for",
          [](BuilderBox& b, const std::vector<isa::ValueId>& yields) {
            for (isa::ValueId id : yields) b.check_id(id);
            return ids_of(b.b().end_for(values_from(yields)));
          },
          py::arg("yields") = std::vector<isa::ValueId>{}, "Close the innermost for; returns the loop's result ids.")
      .def(
          "begin_if",
          [](BuilderBox& b, isa::ValueId cond) {
            b.check_id(cond);
            b.b().begin_if(isa::Value{cond});
          },
          py::arg("cond"))
      .def(
          "begin_else",
          [](BuilderBox& b, const std::vector<isa::ValueId>& yields) {
            for (isa::ValueId id : yields) b.check_id(id);
            b.b().begin_else(values_from(yields));
          },
          py::arg("yields") = std::vector<isa::ValueId>{})
      .def(
          "end_if",
          [](BuilderBox& b, const std::vector<isa::ValueId>& yields) {
            for (isa::ValueId id : yields) b.check_id(id);
            return ids_of(b.b().end_if(values_from(yields)));
          },
          py::arg("yields") = std::vector<isa::ValueId>{}, "Close the if; returns its result ids.")
      .def(
          "begin_role",
          [](BuilderBox& b, const std::string& name, int64_t count, const py::dict& hints) {
            Attrs h;  // in the caller's order, as the text shows them
            for (auto item : hints) {
              const auto k = item.first.cast<std::string>();
              if (k != "warps" && k != "registers")
                throw py::value_error("role hint '" + k + "' is not one of warps, registers");
              h.push_back({k, Attr::integer_of(item.second.cast<int64_t>())});
            }
            b.b().begin_role(name, count, std::move(h));
          },
          py::arg("name"), py::arg("count") = 1, py::arg("hints") = py::dict())
      .def("end_role", [](BuilderBox& b) { b.b().end_role(); })
      .def("fresh_name", [](BuilderBox& b, const std::string& hint) { return b.b().fresh_name(hint); },
           py::arg("hint"));
}

// ---- the functional interpreter -------------------------------------------------------------------------

void bind_interpreter(py::module_& m) {
  py::class_<isa::RunSummary>(m, "RunSummary", "What a functional run did.")
      .def_readonly("programs", &isa::RunSummary::programs)
      .def_readonly("tasks", &isa::RunSummary::tasks)
      .def_readonly("ops_executed", &isa::RunSummary::ops_executed)
      .def_readonly("task_switches", &isa::RunSummary::task_switches)
      .def_property_readonly("op_counts",
                             [](const isa::RunSummary& r) {
                               py::dict out;
                               for (const isa::OpcodeInfo& info : isa::opcode_table())
                                 if (r.count(info.id) > 0) out[py::str(std::string(info.name))] = r.count(info.id);
                               return out;
                             })
      .def("__repr__", [](const isa::RunSummary& r) {
        return "RunSummary(programs=" + std::to_string(r.programs) + ", tasks=" + std::to_string(r.tasks) +
               ", ops_executed=" + std::to_string(r.ops_executed) + ")";
      });

  m.def(
      "run_functional",
      [](const Module& mod, const std::string& kernel_name, const py::dict& buffers, const py::dict& scalars,
         const py::dict& options, bool summary) -> py::object {
        const isa::Kernel* found = mod.find_kernel(kernel_name);
        if (!found) throw py::key_error("module has no kernel @" + kernel_name);
        const isa::Kernel& k = *found;
        isa::SymbolValues ints;
        std::map<std::string, double> floats;
        split_scalars(k, scalars, ints, floats);
        isa::Buffers b = buffers_from_py(k, ints, buffers);
        b.scalars = floats;
        const isa::InterpreterOptions opts = interpreter_options(options);
        isa::RunSummary run;
        {
          py::gil_scoped_release release;  // C++ runs
          run = isa::run_kernel(mod, kernel_name, b, ints, opts);
        }
        py::dict out = buffers_to_py(b);
        if (!summary) return std::move(out);
        return py::make_tuple(out, run);
      },
      py::arg("module"), py::arg("kernel"), py::arg("buffers") = py::dict(), py::arg("scalars") = py::dict(),
      py::arg("options") = py::dict(), py::arg("summary") = false,
      "Run a kernel's whole grid in the functional interpreter.\n\n"
      "buffers: tensor parameter name -> numpy array of the parameter's shape (values are rounded to the "
      "parameter's dtype on entry; tensors not given start as zeros). scalars: scalar parameter name -> "
      "value (integers for the integer parameters). options: acc_mantissa_bits, acc_block_k, int_satfinite, "
      "check_bounds, verify. Returns every tensor after the run as float64 arrays of the exact values "
      "(and the RunSummary with summary=True). Errors raise tilesim.Error at the op's file:line:col.");
}

}  // namespace

void bind_isa(py::module_& m) {
  bind_dtypes(m);
  bind_types(m);
  bind_opcodes(m);
  bind_module(m);
  bind_builder(m);
  bind_interpreter(m);
}

}  // namespace tilesim

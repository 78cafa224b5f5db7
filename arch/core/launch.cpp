#include "arch/core/launch.hpp"

#include <cmath>

#include "isa/dtype.hpp"
#include "sim/error.hpp"

namespace tilesim::core {

std::uint32_t GlobalBinding::element_bytes() const {
  const int b = isa::bits(dtype);
  return b < 8 ? 1u : static_cast<std::uint32_t>(b / 8);
}

std::uint64_t GlobalBinding::bytes() const {
  std::uint64_t n = 1;
  for (auto d : shape) n *= static_cast<std::uint64_t>(d);
  return n * element_bytes();
}

isa::TileValue& FunctionalMemory::tensor(isa::ValueId param) {
  auto it = tensors_.find(param);
  if (it == tensors_.end()) panic("functional memory: no tensor for parameter value ", param);
  return it->second;
}

const isa::TileValue& FunctionalMemory::tensor(isa::ValueId param) const {
  auto it = tensors_.find(param);
  if (it == tensors_.end()) panic("functional memory: no tensor for parameter value ", param);
  return it->second;
}

void FunctionalMemory::set_tensor(isa::ValueId param, isa::TileValue value) {
  tensors_.erase(param);
  tensors_.emplace(param, std::move(value));
}

namespace {

// Visits every element of a tile placed at tile coordinates `coord`, calling f(tile linear index,
// tensor linear index or -1 when outside the tensor).
template <class F>
void for_each_tile_element(const isa::Shape& tensor_shape, const std::vector<std::int64_t>& coord,
                           const std::vector<std::int64_t>& tile_shape, F&& f) {
  const std::size_t rank = tile_shape.size();
  if (tensor_shape.size() != rank || coord.size() != rank)
    panic("tile access: rank mismatch (tensor rank ", tensor_shape.size(), ", tile rank ", rank, ", ", coord.size(),
          " coordinates)");
  const isa::Shape tensor_strides = isa::row_major_strides(tensor_shape);
  const std::int64_t count = isa::element_count(tile_shape);
  std::vector<std::int64_t> idx(rank, 0);
  for (std::int64_t i = 0; i < count; ++i) {
    std::int64_t lin = 0;
    bool inside = true;
    for (std::size_t d = 0; d < rank; ++d) {
      const std::int64_t g = coord[d] * tile_shape[d] + idx[d];
      if (g < 0 || g >= tensor_shape[d]) {
        inside = false;
        break;
      }
      lin += g * tensor_strides[d];
    }
    f(i, inside ? lin : -1);
    for (std::size_t d = rank; d-- > 0;) {  // row-major increment
      if (++idx[d] < tile_shape[d]) break;
      idx[d] = 0;
    }
  }
}

}  // namespace

isa::TileValue load_tile(const isa::TileValue& tensor, const std::vector<std::int64_t>& coord,
                         const std::vector<std::int64_t>& tile_shape, isa::DType tile_dtype) {
  isa::TileValue out(tile_dtype, tile_shape);
  for_each_tile_element(tensor.shape(), coord, tile_shape, [&](std::int64_t i, std::int64_t g) {
    if (g >= 0) out.set(i, tensor.at(g), isa::Overflow::ieee);
  });
  return out;
}

void store_tile(isa::TileValue& tensor, const std::vector<std::int64_t>& coord, const isa::TileValue& tile,
                bool add) {
  for_each_tile_element(tensor.shape(), coord, tile.shape(), [&](std::int64_t i, std::int64_t g) {
    if (g < 0) return;
    if (add && tensor.dtype() == isa::DType::i32) {  // integer atomics wrap modulo 2^32
      const auto sum = static_cast<std::int64_t>(tensor.at(g)) + static_cast<std::int64_t>(tile.at(i));
      tensor.set(g, static_cast<double>(static_cast<std::int32_t>(static_cast<std::uint32_t>(sum))));
    } else if (add)
      tensor.set(g, tensor.at(g) + tile.at(i));
    else
      tensor.set(g, tile.at(i), isa::Overflow::ieee);
  });
}

const GlobalBinding& KernelLaunch::global(isa::ValueId param) const {
  for (const auto& g : globals)
    if (g.param == param) return g;
  panic("kernel launch ", name, ": value ", param, " is not a global parameter");
}

namespace {

std::int64_t eval_or_throw(const isa::Expr& e, const isa::SymbolValues& symbols, const std::string& what) {
  std::string error;
  auto v = isa::eval_expr(e, symbols, &error);
  if (!v)
    throw ConfigError(cat(what, " = ", isa::expr_to_string(e), " cannot be evaluated: ",
                          error.empty() ? std::string("unbound symbol") : error));
  return *v;
}

}  // namespace

KernelLaunch bind_launch(std::shared_ptr<const isa::Module> module, const std::string& kernel_name,
                         const LaunchArgs& args, const std::string& scope_name) {
  if (!module) panic("bind_launch without a module");
  const isa::Kernel* k = module->find_kernel(kernel_name);
  if (!k) throw ConfigError(cat("kernel '", kernel_name, "' is not in ", module->source_name));
  KernelLaunch launch;
  launch.name = scope_name.empty() ? kernel_name : scope_name;
  launch.module = module;
  launch.kernel = k;
  launch.mma = args.mma;

  // Scalars first: shapes may mention any integer scalar parameter.
  for (const auto& p : k->params) {
    const isa::ValueInfo& v = k->value(p.value);
    if (!v.type.is_scalar_like()) continue;
    auto it = args.scalars.find(v.name);
    if (it == args.scalars.end())
      throw ConfigError(cat("kernel ", kernel_name, ": no value for scalar parameter '", v.name, "'"));
    launch.scalar_args[p.value] = it->second;
    if (v.type.is_int_scalar()) {
      if (it->second != std::floor(it->second))
        throw ConfigError(cat("kernel ", kernel_name, ": integer parameter '", v.name, "' = ", it->second,
                              " is not an integer"));
      launch.symbols[v.name] = static_cast<std::int64_t>(it->second);
    }
  }
  for (const auto& [name, value] : args.scalars)
    if (k->find_value(name) == isa::kNoValue)
      throw ConfigError(cat("kernel ", kernel_name, " has no parameter '", name, "'"));

  const std::string where = cat("kernel ", kernel_name);
  for (std::size_t a = 0; a < k->grid.size() && a < 3; ++a) {
    launch.grid[a] = eval_or_throw(k->grid[a], launch.symbols, cat(where, " grid[", a, "]"));
    if (launch.grid[a] <= 0)
      throw ConfigError(cat(where, ": grid[", a, "] = ", launch.grid[a], " (must be positive; check the sizes)"));
  }
  if (k->grid.size() > 3) throw ConfigError(cat(where, ": grids have at most 3 axes"));
  for (std::size_t a = 0; a < k->cluster.size() && a < 3; ++a) {
    launch.cluster[a] = eval_or_throw(k->cluster[a], launch.symbols, cat(where, " cluster[", a, "]"));
    if (launch.cluster[a] <= 0 || launch.grid[a] % launch.cluster[a] != 0)
      throw ConfigError(cat(where, ": cluster[", a, "] = ", launch.cluster[a], " does not divide grid[", a,
                            "] = ", launch.grid[a]));
  }

  std::uint64_t next = args.base_address;
  for (const auto& p : k->params) {
    const isa::ValueInfo& v = k->value(p.value);
    if (v.type.kind != isa::TypeKind::global) continue;
    GlobalBinding g;
    g.param = p.value;
    g.name = v.name;
    g.dtype = v.type.dtype;
    for (std::size_t d = 0; d < v.type.shape.size(); ++d) {
      g.shape.push_back(eval_or_throw(v.type.shape[d], launch.symbols, cat(where, " %", v.name, " dim ", d)));
      if (g.shape.back() < 0) throw ConfigError(cat(where, ": %", v.name, " has a negative dimension"));
    }
    g.strides = isa::row_major_strides(g.shape);
    g.base = next;
    const std::uint64_t align = args.alignment ? args.alignment : 1;
    next += (g.bytes() + align - 1) / align * align;
    launch.globals.push_back(g);
  }

  if (args.carry_values) {
    launch.values = std::make_shared<FunctionalMemory>();
    for (const auto& g : launch.globals) {
      auto it = args.inputs.find(g.name);
      if (it != args.inputs.end()) {
        if (it->second.shape() != g.shape || it->second.dtype() != g.dtype)
          throw ConfigError(cat(where, ": input for %", g.name, " is ", it->second.type_string(), ", expected ",
                                isa::dtype_name(g.dtype), "[", isa::shape_string(g.shape), "]"));
        launch.values->set_tensor(g.param, it->second);
      } else {
        launch.values->set_tensor(g.param, isa::TileValue(g.dtype, g.shape));
      }
    }
  } else if (!args.inputs.empty()) {
    throw ConfigError(cat(where, ": inputs given but the run does not carry values"));
  }
  return launch;
}

std::array<std::int64_t, 3> program_coord(const KernelLaunch& launch, std::int64_t index) {
  std::array<std::int64_t, 3> c{};
  c[0] = index % launch.grid[0];
  c[1] = (index / launch.grid[0]) % launch.grid[1];
  c[2] = index / (launch.grid[0] * launch.grid[1]);
  return c;
}

}  // namespace tilesim::core

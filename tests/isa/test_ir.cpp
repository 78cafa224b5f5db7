// IR: the opcode table (and docs/isa.md generated from it), expressions, types, type rules, Builder.
#include <catch2/catch.hpp>

#include <set>

#include "isa/ir.hpp"
#include "isa/opcodes.hpp"
#include "isa/text_parser.hpp"
#include "isa/text_printer.hpp"
#include "isa/verifier.hpp"
#include "sim/error.hpp"
#include "tile_test_files.hpp"

using namespace tilesim::isa;
using tilesim::InputError;

// ---- opcode table ----------------------------------------------------------------------------------------

TEST_CASE("opcode table: one row per OpId, in order, with unique names and complete docs", "[ir][opcodes]") {
  const auto& table = opcode_table();
  REQUIRE(table.size() == static_cast<size_t>(kOpcodeCount));
  std::set<std::string_view> names;
  for (size_t i = 0; i < table.size(); ++i) {
    const OpcodeInfo& row = table[i];
    INFO(row.name);
    CHECK(static_cast<size_t>(row.id) == i);
    CHECK(names.insert(row.name).second);
    CHECK(find_opcode(row.name) == std::optional<OpId>(row.id));
    CHECK_FALSE(row.semantics.empty());
    CHECK_FALSE(row.operands.empty());
    CHECK_FALSE(row.example.empty());
    CHECK(row.example.find(std::string(row.name)) != std::string::npos);
    CHECK((row.max_operands < 0 || row.max_operands >= row.min_operands));
    if (!row.positional_attr.empty()) CHECK(find_attr_spec(row.id, row.positional_attr) != nullptr);
    // every memory/sync op yields a token; no compute op does
    CHECK((row.token != TokenPolicy::none) == (row.cls == OpClass::sync));
  }
  CHECK_FALSE(find_opcode("nope"));
  CHECK(opcode_info(OpId::cmp_lt).name == "cmp.lt");
  CHECK(opcode_info(OpId::mma).cost.kind == CostKind::mma_flops);
  CHECK(opcode_info(OpId::copy_async).token == TokenPolicy::must_wait);
  CHECK(opcode_info(OpId::store).token == TokenPolicy::drained);
}

TEST_CASE("opcode table: did-you-mean suggestions", "[ir][opcodes]") {
  CHECK(similar_opcode_names("mmaa") == std::vector<std::string>{"mma"});
  CHECK(similar_opcode_names("copy_asnyc").at(0) == "copy_async");
  CHECK(similar_opcode_names("reduce.summ").at(0) == "reduce.sum");
  CHECK(similar_opcode_names("zzzzzzzz").empty());
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("cosnt", "const") == 1);  // a transposition is one edit
  CHECK(edit_distance(std::string(100, 'a'), "a") > 1000);  // long inputs are not compared
}

TEST_CASE("docs/isa.md is generated from the opcode table and up to date", "[ir][docs]") {
  const std::string generated = isa_reference_markdown();
  for (const auto& row : opcode_table()) CHECK_THAT(generated, Catch::Contains("### `" + std::string(row.name) + "`"));
  const std::string on_disk = testing::read_text(testing::repo_root() / "docs/isa.md");
  INFO("docs/isa.md is out of date with isa/opcodes.cpp; regenerate it with\n"
       "  cmake --build build --target tilesim-gen-isa-doc && build/isa/tilesim-gen-isa-doc docs/isa.md");
  CHECK(on_disk == generated);
}

TEST_CASE("docs/isa-grammar.md examples parse and verify", "[ir][docs]") {
  const std::string doc = testing::read_text(testing::repo_root() / "docs/isa-grammar.md");
  REQUIRE_FALSE(doc.empty());
  int blocks = 0;
  size_t pos = 0;
  while ((pos = doc.find("```tile\n", pos)) != std::string::npos) {
    const size_t start = pos + 8;
    const size_t end = doc.find("```", start);
    REQUIRE(end != std::string::npos);
    const std::string code = doc.substr(start, end - start);
    INFO(code);
    Module m;
    REQUIRE_NOTHROW(m = parse_module(code, "isa-grammar.md"));
    const VerifyReport r = verify(m);
    INFO(r.format(m));
    CHECK(r.ok());
    ++blocks;
    pos = end + 3;
  }
  CHECK(blocks >= 2);
}

// ---- expressions and types -------------------------------------------------------------------------------

TEST_CASE("expressions: evaluation, errors and constants", "[ir][expr]") {
  using K = Expr::Kind;
  const Expr m = Expr::symbol_of("M");
  const Expr e = Expr::binary(K::cdiv, m, Expr::constant_of(128));
  CHECK(eval_expr(e, {{"M", 1}}) == std::optional<int64_t>(1));
  CHECK(eval_expr(e, {{"M", 128}}) == std::optional<int64_t>(1));
  CHECK(eval_expr(e, {{"M", 129}}) == std::optional<int64_t>(2));
  CHECK_FALSE(eval_expr(e, {}));  // unbound symbol
  CHECK_FALSE(e.is_constant());
  CHECK(const_value(Expr::binary(K::div, Expr::constant_of(-7), Expr::constant_of(2))) == std::optional<int64_t>(-4));
  CHECK(const_value(Expr::binary(K::cdiv, Expr::constant_of(-7), Expr::constant_of(2))) == std::optional<int64_t>(-3));
  CHECK(const_value(Expr::binary(K::min, Expr::constant_of(3), Expr::constant_of(-2))) == std::optional<int64_t>(-2));
  std::string why;
  CHECK_FALSE(eval_expr(Expr::binary(K::div, m, Expr::constant_of(0)), {{"M", 4}}, &why));
  CHECK(why == "division by zero in 'M / 0'");
  why.clear();
  CHECK_FALSE(eval_expr(Expr::binary(K::mul, m, m), {{"M", int64_t(1) << 40}}, &why));
  CHECK(why == "integer overflow in 'M * M'");
  CHECK(dims_equal(Expr::binary(K::mul, Expr::constant_of(64), Expr::constant_of(2)), Expr::constant_of(128)));
  CHECK_FALSE(dims_equal(m, Expr::symbol_of("N")));
}

TEST_CASE("types: printing, sizes and equality", "[ir][types]") {
  const Type t = Type::tile_of(DType::bf16, std::vector<int64_t>{128, 64}, MemSpace::scratch);
  CHECK(type_to_string(t) == "tile<bf16>[128, 64] @scratch");
  CHECK(type_bytes(t) == std::optional<int64_t>(16384));
  CHECK(type_bytes(Type::tile_of(DType::f4e2m1, std::vector<int64_t>{3})) == std::optional<int64_t>(2));
  CHECK(type_bytes(Type::tile_of(DType::i1, std::vector<int64_t>{8})) == std::optional<int64_t>(8));
  CHECK_FALSE(type_bytes(Type::global_of(DType::f32, {Expr::symbol_of("N")})));
  CHECK(type_to_string(Type::index_type()) == "index");
  CHECK(type_to_string(Type::token_type()) == "!token");
  CHECK(t != Type::tile_of(DType::bf16, std::vector<int64_t>{128, 64}, MemSpace::reg));
  CHECK(Type::tile_of(DType::f32, {Expr::binary(Expr::Kind::mul, Expr::constant_of(2), Expr::constant_of(4))}) ==
        Type::tile_of(DType::f32, std::vector<int64_t>{8}));
}

// ---- type rules ------------------------------------------------------------------------------------------

namespace {

Type tile(DType d, std::vector<int64_t> shape, MemSpace s = MemSpace::reg) { return Type::tile_of(d, shape, s); }

InferResult infer(OpId op, std::vector<Type> operands, Attrs attrs = {}, std::optional<Type> written = {}) {
  return infer_result_types(op, operands, attrs, written);
}

std::string result_of(OpId op, std::vector<Type> operands, Attrs attrs = {}, std::optional<Type> written = {}) {
  const InferResult r = infer(op, std::move(operands), std::move(attrs), std::move(written));
  if (!r.ok()) return "error: " + r.error;
  std::string s;
  for (const Type& t : r.types) s += (s.empty() ? "" : ", ") + type_to_string(t);
  return s;
}

}  // namespace

TEST_CASE("type rules: mma dtype pairs, shapes and spaces", "[ir][rules]") {
  const auto a = [](DType d) { return tile(d, {128, 64}, MemSpace::scratch); };
  const auto b = [](DType d) { return tile(d, {64, 256}, MemSpace::scratch); };
  const auto c = [](DType d) { return tile(d, {128, 256}, MemSpace::acc); };
  CHECK(result_of(OpId::mma, {a(DType::bf16), b(DType::bf16), c(DType::f32)}) == "tile<f32>[128, 256] @acc");
  CHECK(infer(OpId::mma, {a(DType::f16), b(DType::f16), c(DType::f16)}).ok());
  CHECK(infer(OpId::mma, {a(DType::f8e4m3), b(DType::f8e5m2), c(DType::f32)}).ok());
  CHECK(infer(OpId::mma, {a(DType::f4e2m1), b(DType::f8e4m3), c(DType::f16)}).ok());
  CHECK(infer(OpId::mma, {a(DType::i8), b(DType::i8), c(DType::i32)}).ok());
  CHECK(infer(OpId::mma, {a(DType::tf32), b(DType::tf32), c(DType::f32)}).ok());
  CHECK_FALSE(infer(OpId::mma, {a(DType::i8), b(DType::i8), c(DType::f32)}).ok());
  CHECK_FALSE(infer(OpId::mma, {a(DType::bf16), b(DType::f16), c(DType::f32)}).ok());
  CHECK_FALSE(infer(OpId::mma, {a(DType::f32), b(DType::f32), c(DType::f16)}).ok());
  CHECK(result_of(OpId::mma, {a(DType::f64), b(DType::f64), c(DType::f64)}) == "tile<f64>[128, 256] @acc");  // DMMA
  CHECK_FALSE(infer(OpId::mma, {a(DType::f64), b(DType::f64), c(DType::f32)}).ok());
  CHECK_FALSE(infer(OpId::mma, {a(DType::f32), b(DType::f32), c(DType::f64)}).ok());
  CHECK_FALSE(infer(OpId::mma, {a(DType::f64), b(DType::f32), c(DType::f64)}).ok());
  CHECK(result_of(OpId::mma, {a(DType::bf16), tile(DType::bf16, {32, 256}), c(DType::f32)}) ==
        "error: 'mma' shapes do not chain: a is [128, 64] (K = 64) but b is [32, 256] (K = 32)");
  CHECK(result_of(OpId::mma, {a(DType::bf16), b(DType::bf16), tile(DType::f32, {128, 128}, MemSpace::acc)}) ==
        "error: 'mma' accumulator is [128, 128] but a.b is [128, 256]");
  CHECK_FALSE(infer(OpId::mma, {a(DType::bf16), b(DType::bf16), tile(DType::f32, {128, 256}, MemSpace::scratch)}).ok());
  // block-scaled
  const Attrs block16{{"block", Attr::integer_of(16)}};
  CHECK(infer(OpId::mma_scaled, {a(DType::f4e2m1), tile(DType::f8e4m3, {128, 4}), b(DType::f4e2m1),
                                 tile(DType::f8e4m3, {4, 256}), c(DType::f32)}, block16).ok());
  CHECK(result_of(OpId::mma_scaled, {a(DType::f4e2m1), tile(DType::f8e4m3, {128, 2}), b(DType::f4e2m1),
                                     tile(DType::f8e4m3, {4, 256}), c(DType::f32)}, block16) ==
        "error: 'mma_scaled' scale of a must be [128, 4], got [128, 2]");
  CHECK(result_of(OpId::mma_scaled, {a(DType::f4e2m1), tile(DType::f8e4m3, {128, 4}), b(DType::f4e2m1),
                                     tile(DType::f8e4m3, {4, 256}), c(DType::f32)}, {{"block", Attr::integer_of(24)}}) ==
        "error: 'mma_scaled' block must be 16 or 32, got 24");
}

TEST_CASE("type rules: map ops broadcast, check dtypes and mix scalars", "[ir][rules]") {
  const Type f = tile(DType::f32, {64, 128}, MemSpace::acc);
  CHECK(result_of(OpId::add, {f, tile(DType::f32, {64, 1})}) == "tile<f32>[64, 128] @reg");
  CHECK(result_of(OpId::add, {tile(DType::f32, {128}), tile(DType::f32, {64, 1})}) == "tile<f32>[64, 128] @reg");
  CHECK(result_of(OpId::mul, {f, Type::scalar_of(DType::f32)}) == "tile<f32>[64, 128] @reg");
  CHECK(result_of(OpId::fma, {f, f, tile(DType::f32, {1, 128})}) == "tile<f32>[64, 128] @reg");
  CHECK(result_of(OpId::cmp_ge, {f, Type::scalar_of(DType::f32)}) == "tile<i1>[64, 128] @reg");
  CHECK(result_of(OpId::select, {tile(DType::i1, {64, 1}), f, Type::scalar_of(DType::f32)}) == "tile<f32>[64, 128] @reg");
  CHECK(result_of(OpId::cast, {f}, {{"to", Attr::dtype_of(DType::bf16)}}) == "tile<bf16>[64, 128] @reg");
  CHECK(result_of(OpId::cast, {Type::index_type()}, {{"to", Attr::dtype_of(DType::f32)}}) == "f32");
  // scalar arithmetic: index and i32 mix to index
  CHECK(result_of(OpId::add, {Type::index_type(), Type::scalar_of(DType::i32)}) == "index");
  CHECK(result_of(OpId::mul, {Type::scalar_of(DType::i32), Type::scalar_of(DType::i32)}) == "i32");
  CHECK(result_of(OpId::rem, {Type::index_type(), Type::scalar_of(DType::i32)}) == "index");
  CHECK(result_of(OpId::cmp_lt, {Type::index_type(), Type::index_type()}) == "i1");
  CHECK_THAT(result_of(OpId::add, {Type::index_type(), Type::scalar_of(DType::f32)}), Catch::Contains("mixes index with f32"));
  CHECK_THAT(result_of(OpId::cdiv, {Type::scalar_of(DType::f32), Type::index_type()}), Catch::Contains("must be an integer scalar"));
  CHECK_THAT(result_of(OpId::add, {f, Type::index_type()}), Catch::Contains("cannot combine an index scalar with tiles"));
  CHECK_THAT(result_of(OpId::sqrt, {tile(DType::i8, {4})}), Catch::Contains("'sqrt' needs a float dtype, got i8"));
  CHECK_THAT(result_of(OpId::neg, {tile(DType::i1, {4})}), Catch::Contains("needs a numeric dtype"));
  CHECK_THAT(result_of(OpId::select, {f, f, f}), Catch::Contains("the condition of 'select' must be i1"));
  CHECK_THAT(result_of(OpId::add, {f, Type::global_of(DType::f32, {Expr::constant_of(4)})}),
             Catch::Contains("must be a tile or a scalar, got global<f32>[4]"));
  CHECK(result_of(OpId::relu, {tile(DType::i32, {4})}) == "tile<i32>[4] @reg");
}

TEST_CASE("type rules: reduce and transforms", "[ir][rules]") {
  const Type x = tile(DType::f32, {64, 128});
  const auto reduce_attrs = [](int axis, bool keep) {
    return Attrs{{"axis", Attr::integer_of(axis)}, {"keepdims", Attr::boolean_of(keep)}};
  };
  CHECK(result_of(OpId::reduce_sum, {x}, reduce_attrs(1, true)) == "tile<f32>[64, 1] @reg");
  CHECK(result_of(OpId::reduce_max, {x}, reduce_attrs(0, false)) == "tile<f32>[128] @reg");
  CHECK(result_of(OpId::reduce_min, {tile(DType::f16, {32})}, reduce_attrs(0, false)) == "f16");
  CHECK(result_of(OpId::reduce_sum, {x}, reduce_attrs(-1, false)) == "error: 'reduce.sum' axis -1 is out of range for rank 2");
  CHECK(result_of(OpId::transpose, {x}) == "tile<f32>[128, 64] @reg");
  CHECK(result_of(OpId::transpose, {tile(DType::f32, {2, 3, 4})}, {{"perm", Attr::ints_of({0, 2, 1})}}) ==
        "tile<f32>[2, 4, 3] @reg");
  CHECK_THAT(result_of(OpId::transpose, {x}, {{"perm", Attr::ints_of({0, 0})}}), Catch::Contains("must be a permutation"));
  CHECK(result_of(OpId::broadcast, {tile(DType::f32, {64, 1})}, {{"shape", Attr::ints_of({2, 64, 8})}}) ==
        "tile<f32>[2, 64, 8] @reg");
  CHECK_THAT(result_of(OpId::broadcast, {tile(DType::f32, {64, 2})}, {{"shape", Attr::ints_of({64, 8})}}),
             Catch::Contains("cannot stretch [64, 2] to [64, 8]"));
  CHECK(result_of(OpId::reshape, {x}, {{"shape", Attr::ints_of({128, 64})}}) == "tile<f32>[128, 64] @reg");
  CHECK_THAT(result_of(OpId::reshape, {x}, {{"shape", Attr::ints_of({128, 63})}}), Catch::Contains("changes the element count"));
  CHECK(result_of(OpId::slice, {x}, {{"offsets", Attr::ints_of({0, 64})}, {"sizes", Attr::ints_of({64, 64})}}) ==
        "tile<f32>[64, 64] @reg");
  CHECK_THAT(result_of(OpId::slice, {x}, {{"offsets", Attr::ints_of({0, 65})}, {"sizes", Attr::ints_of({64, 64})}}),
             Catch::Contains("dim 1 reads 65..128 of a dim of 128"));
  CHECK(result_of(OpId::subtile, {tile(DType::bf16, {128, 64}, MemSpace::scratch), Type::index_type(), Type::index_type()},
                  {{"shape", Attr::ints_of({64, 64})}}) == "tile<bf16>[64, 64] @scratch");
  CHECK_THAT(result_of(OpId::subtile, {x, Type::index_type(), Type::index_type()}, {{"shape", Attr::ints_of({48, 64})}}),
             Catch::Contains("block dim 48 does not divide dim 0 (64)"));
  CHECK(result_of(OpId::concat, {x, tile(DType::f32, {64, 32})}, {{"axis", Attr::integer_of(1)}}) == "tile<f32>[64, 160] @reg");
  CHECK_THAT(result_of(OpId::concat, {x, tile(DType::f32, {32, 32})}, {{"axis", Attr::integer_of(1)}}),
             Catch::Contains("parts differ in dim 0"));
  CHECK(result_of(OpId::gather, {x, tile(DType::i32, {64, 8})}, {{"axis", Attr::integer_of(1)}}) == "tile<f32>[64, 8] @reg");
  CHECK_THAT(result_of(OpId::gather, {x, tile(DType::f32, {64, 8})}, {{"axis", Attr::integer_of(1)}}),
             Catch::Contains("indices must be i32 or i8"));
  CHECK(result_of(OpId::scatter, {x, tile(DType::i32, {8, 128}), tile(DType::f32, {8, 128})}, {{"axis", Attr::integer_of(0)}}) ==
        "tile<f32>[64, 128] @reg");
  CHECK(result_of(OpId::move, {x}, {{"space", Attr::space_of(MemSpace::acc)}}) == "tile<f32>[64, 128] @acc");
  CHECK(result_of(OpId::iota, {}, {{"axis", Attr::integer_of(1)}}, tile(DType::i32, {4, 8})) == "tile<i32>[4, 8] @reg");
  CHECK_THAT(result_of(OpId::zeros, {}), Catch::Contains("'zeros' needs its result type after ':'"));
  CHECK_THAT(result_of(OpId::constant, {}, {{"value", Attr::real_of(1.5)}}, Type::index_type()),
             Catch::Contains("is not an integer but the type is index"));
}

TEST_CASE("type rules: memory, channel and cluster ops", "[ir][rules]") {
  const Type g = Type::global_of(DType::bf16, {Expr::symbol_of("M"), Expr::symbol_of("K")});
  const Type ix = Type::index_type();
  const Type t = tile(DType::bf16, {128, 64}, MemSpace::scratch);
  CHECK(result_of(OpId::copy_async, {g, ix, ix}, {}, t) == "tile<bf16>[128, 64] @scratch, !token");
  CHECK(result_of(OpId::load, {g, ix, Type::scalar_of(DType::i32)}, {}, tile(DType::bf16, {128, 64})) ==
        "tile<bf16>[128, 64] @reg, !token");
  CHECK_THAT(result_of(OpId::load, {g, ix, ix}, {}, tile(DType::f32, {128, 64})), Catch::Contains("differs from the tensor's bf16"));
  CHECK_THAT(result_of(OpId::load, {g, ix, Type::scalar_of(DType::f32)}, {}, t), Catch::Contains("must be index or i32"));
  CHECK(result_of(OpId::store, {t, g, ix, ix}) == "!token");
  CHECK_THAT(result_of(OpId::store, {tile(DType::f32, {128, 64}), g, ix, ix}), Catch::Contains("of a f32 tile into a bf16 tensor"));
  CHECK_THAT(result_of(OpId::atomic_add, {tile(DType::i8, {4}), Type::global_of(DType::i8, {Expr::constant_of(4)}), ix}),
             Catch::Contains("'atomic_add' supports f32, f64, f16, bf16 and i32"));
  CHECK(result_of(OpId::atomic_add, {tile(DType::f64, {4}), Type::global_of(DType::f64, {Expr::constant_of(4)}), ix}) ==
        "!token");  // red.global.add.f64 (atomicAdd on double, sm_60+)
  CHECK(result_of(OpId::wait, {Type::token_type(), Type::token_type()}) == "!token");
  Type ch = t;
  ch.kind = TypeKind::channel;
  CHECK(result_of(OpId::get, {ch}) == "tile<bf16>[128, 64] @scratch, !token");
  CHECK(result_of(OpId::put, {ch, tile(DType::bf16, {128, 64})}) == "!token");
  CHECK_THAT(result_of(OpId::put, {ch, tile(DType::bf16, {64, 64})}), Catch::Contains("'put' of tile<bf16>[64, 64] @reg"));
  CHECK(result_of(OpId::cluster_load, {t, ix}) == "tile<bf16>[128, 64] @reg, !token");
  CHECK_THAT(result_of(OpId::cluster_load, {tile(DType::f32, {4}), ix}), Catch::Contains("reads a peer's @scratch tile"));
  CHECK(result_of(OpId::program_id, {}, {{"axis", Attr::integer_of(2)}}) == "index");
  CHECK_THAT(result_of(OpId::program_id, {}, {{"axis", Attr::integer_of(3)}}), Catch::Contains("grid axis must be 0, 1 or 2"));
  CHECK_THAT(result_of(OpId::add, {ix}), Catch::Contains("'add' takes 2 operands, got 1"));
  CHECK_THAT(result_of(OpId::barrier, {}, {{"scope", Attr::word_of("galaxy")}}),
             Catch::Contains("attribute 'scope' of 'barrier' must be one of program cluster device"));
}

// ---- builder ---------------------------------------------------------------------------------------------

TEST_CASE("builder: builds the same kernel as the text", "[ir][builder]") {
  Module m;
  Builder b(m, "vector_add");
  const Expr n = Expr::symbol_of("N");
  const Value x = b.param_global("X", DType::f32, {n});
  const Value y = b.param_global("Y", DType::f32, {n});
  const Value z = b.param_global("Z", DType::f32, {n});
  b.param_scalar("N", Type::scalar_of(DType::i32));
  b.set_grid({Expr::binary(Expr::Kind::cdiv, n, Expr::constant_of(1024))});
  const Value i = b.program_id(0, "i");
  const Type t = Type::tile_of(DType::f32, std::vector<int64_t>{1024});
  const Value xv = b.load(x, {i}, t, {}, "x").value;
  const Value yv = b.load(y, {i}, t, {}, "y").value;
  const Value sum = b.binary("add", xv, yv, "z");
  b.store(sum, z, {i});
  CHECK(verify(m).diagnostics.empty());
  const Module parsed = parse_file((testing::repo_root() / "tests/isa/data/vector_add.tile").string());
  CHECK(print_module(m) == print_module(parsed));
}

TEST_CASE("builder: loops with iter args, if, roles and channels", "[ir][builder]") {
  Module m;
  Builder b(m, "ws");
  const Value a = b.param_global("A", DType::bf16, {Expr::constant_of(256), Expr::constant_of(64)});
  const Type stage = Type::tile_of(DType::bf16, std::vector<int64_t>{128, 64}, MemSpace::scratch);
  const Value ch = b.channel("ch", 2, stage);
  b.begin_role("producer");
  const Value c0 = b.const_index(0, "c0");
  const Value c1 = b.const_index(1, "c1");
  const Value c2 = b.const_index(2, "c2");
  const auto loop = b.begin_for(c0, c2, c1, {}, 2, "k");
  const auto copy = b.copy_async(a, {loop.induction, c0}, stage, {}, "a");
  b.op("put", {ch, copy.value}, {}, std::nullopt, {copy.token});
  CHECK(b.end_for().empty());
  b.end_role();
  b.begin_role("consumer", 2);
  const Value d0 = b.const_index(0, "d0");
  const Value d1 = b.const_index(1, "d1");
  const Value d2 = b.const_index(2, "d2");
  const Value zero = b.zeros(Type::tile_of(DType::f32, std::vector<int64_t>{128, 128}, MemSpace::acc), "zero");
  const Value bt = b.zeros(Type::tile_of(DType::bf16, std::vector<int64_t>{64, 128}), "bt");
  const auto acc_loop = b.begin_for(d0, d2, d1, {zero}, std::nullopt, "k", {"acc"});
  const Value got = b.op("get", {ch}, {}, std::nullopt, {}, "g");
  const Value next = b.mma(got, bt, acc_loop.iter_args[0], "acc2");
  b.op("release", {ch});
  const auto results = b.end_for({next});
  REQUIRE(results.size() == 1);
  const Value p = b.binary("cmp.lt", d0, d1, "p");
  b.begin_if(p);
  const Value r1 = b.cast(results[0], DType::bf16, "h1");
  b.begin_else({r1});
  const Value r2 = b.cast(results[0], DType::bf16, "h2");
  const auto chosen = b.end_if({r2});
  REQUIRE(chosen.size() == 1);
  CHECK(type_to_string(m.kernels[0].type_of(chosen[0].id)) == "tile<bf16>[128, 128] @reg");
  b.end_role();
  const VerifyReport r = verify(m);
  INFO(r.format(m));
  CHECK(r.diagnostics.empty());
  // the built IR prints as text that parses back to the same text
  const std::string text = print_module(m);
  CHECK(print_module(parse_module(text, "built.tile")) == text);
  CHECK_THAT(text, Catch::Contains("  role consumer x2 {\n"));
  CHECK_THAT(text, Catch::Contains("for %k = %c0 to %c2 step %c1 stages=2 {"));
}

TEST_CASE("builder: errors are input errors at the builder's location", "[ir][builder]") {
  Module m;
  m.source_name = "model.py";
  Builder b(m, "k");
  b.set_loc({12, 5});
  const Value x = b.zeros(Type::tile_of(DType::f32, std::vector<int64_t>{8}), "x");
  CHECK_THROWS_WITH(b.op("mmaa", {x}), Catch::StartsWith("model.py:12:5: error: unknown opcode 'mmaa'") &&
                                           Catch::Contains("hint: did you mean 'mma'?"));
  CHECK_THROWS_WITH(b.unary("exp", b.const_index(0)), Catch::StartsWith("model.py:12:5: error: 'exp' needs a float dtype"));
  // a taken name gets a suffix: names stay unique in the kernel
  const Value x2 = b.op("zeros", {}, {}, Type::tile_of(DType::f32, std::vector<int64_t>{8}), {}, "x");
  CHECK(m.kernels[0].value(x2.id).name != "x");
  CHECK(m.kernels[0].value(x2.id).name.rfind("x", 0) == 0);
  CHECK_THROWS_WITH(b.param_scalar("y", Type::index_type()), Catch::Contains("parameters must be declared before the body"));
  Module m2;
  Builder b2(m2, "k2");
  b2.param_scalar("M", Type::scalar_of(DType::i32));
  CHECK_THROWS_WITH(b2.param_scalar("M", Type::index_type()), Catch::Contains("value name 'M' is already used"));
  CHECK_THROWS_AS(b.end_for(), InputError);
  CHECK_THROWS_WITH(b.op("for", {}), Catch::Contains("use begin_for/end_for"));
  CHECK(b.fresh_name("x") != "x");
}

TEST_CASE("cost hints: op_work evaluates the table's formulas on concrete shapes", "[ir][cost]") {
  const Module m = parse_file((testing::repo_root() / "tests/isa/data/gemm_pipelined.tile").string());
  const Kernel& k = m.kernels[0];
  const SymbolValues sizes{{"M", 4096}, {"N", 4096}, {"K", 4096}};
  const Op& loop = k.body.ops.at(7);
  REQUIRE(loop.opcode == OpId::for_);
  const auto& body = loop.regions[0].ops;
  const auto copy = op_work(k, body.at(0), sizes);
  REQUIRE(copy);
  CHECK(copy->global_bytes == 128 * 64 * 2);
  const auto mma = op_work(k, body.at(3), sizes);
  REQUIRE(mma);
  CHECK(mma->flops == 2.0 * 128 * 128 * 64);
  const auto store = op_work(k, k.body.ops.at(8), sizes);
  REQUIRE(store);
  CHECK(store->global_bytes == 128 * 128 * 4);
  CHECK(op_work(k, loop, sizes)->flops == 0);  // the body's ops carry the cost

  const Module sm = parse_file((testing::repo_root() / "tests/isa/data/softmax_rows.tile").string());
  const Kernel& s = sm.kernels[0];
  // %x = load (symbolic C), %m = reduce.max, %xs = sub, %e = exp
  CHECK_FALSE(op_work(s, s.body.ops.at(2), {}));  // C unbound
  const SymbolValues c{{"R", 1000}, {"C", 512}};
  CHECK(op_work(s, s.body.ops.at(3), c)->reduce_ops == 32 * 512);
  CHECK(op_work(s, s.body.ops.at(4), c)->alu_ops == 32 * 512);
  CHECK(op_work(s, s.body.ops.at(5), c)->sfu_ops == 32 * 512);
}

// The microbenchmarks of ../shared/reference/SCHEMA.md: pchase, stream, bulk_copy, mma, alu, launch.
// Their functional results are exact (data movement, or arithmetic whose order the reference models), so
// every comparison is bit-for-bit.
#include <cmath>
#include <limits>
#include <regex>
#include <utility>
#include <vector>

#include "sim/error.hpp"
#include "workloads/support.hpp"

namespace tilesim::workloads {

namespace {

using namespace isa;

int64_t bytes_multiple(const ParamSet& p, const std::string& name, int64_t unit, int64_t lo, int64_t hi) {
  const int64_t v = int_in(p, name, lo, hi);
  if (v % unit != 0) config_fail(p, name + " = " + std::to_string(v) + " is not a multiple of " + std::to_string(unit) + " bytes");
  return v;
}

// ---- pchase --------------------------------------------------------------------------------------------

class PchaseWorkload final : public Workload {
 public:
  std::string name() const override { return "pchase"; }
  std::string description() const override {
    return "dependent-load latency: follow a ring of indices through global memory or scratch";
  }
  std::string template_file() const override { return "pchase.tile"; }
  std::vector<ParamSpec> params() const override {
    return {{"space", "global", "", "where the ring lives (tma and dsmem chases are not modelled)", {"global", "shared"}},
            {"footprint", "8MiB", "4KiB", "bytes of the ring (4-byte elements)", {}},
            {"stride", "64", "", "bytes between consecutive elements of the chase", {}},
            {"threads", "1", "2", "independent chases (one program each, starting at elements 0, 1, ...)", {}},
            {"steps", "0", "", "dependent loads per chase (0: one lap of the ring)", {}},
            {"order", "sequential", "",
             "sequential: each element points `stride` bytes on; random: the slots `stride` bytes apart form one "
             "random cycle (a seeded permutation, as random pointer-chase benchmarks build), so no two "
             "consecutive loads are neighbours",
             {"sequential", "random"}},
            label_param("level", "l2", "memory level the footprint targets",
                        {"l1", "smem", "l2", "l2_near", "l2_far", "l2_miss_near", "l2_miss_far", "dram", "dram_tlb",
                         "remote_sm", "cross_die"}),
            seed_param()};
  }

  struct Config {
    int64_t n = 0, stride = 0, threads = 0, steps = 0;
    bool random = false;
  };
  Config config(const ParamSet& p) const {
    Config c;
    c.n = bytes_multiple(p, "footprint", 4, 4, int64_t{1} << 33) / 4;
    c.stride = bytes_multiple(p, "stride", 4, 4, int64_t{1} << 33) / 4;
    c.threads = int_in(p, "threads", 1, c.n);
    c.steps = int_in(p, "steps", 0, kMaxI32);
    if (c.steps == 0) c.steps = std::max<int64_t>(1, c.n / std::max<int64_t>(1, std::min(c.stride, c.n)));
    if (c.n > std::numeric_limits<int32_t>::max()) config_fail(p, "footprint is too large for i32 indices");
    c.random = p.text("order") == "random";
    if (c.random && (c.stride > c.n || c.n % c.stride != 0))
      config_fail(p, "order=random needs a footprint that is a whole number of strides (footprint " +
                         std::to_string(c.n * 4) + " B, stride " + std::to_string(c.stride * 4) + " B)");
    return c;
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const Config c = config(p);
    TemplateArgs args;
    args.kernel = p.text("space") == "shared" ? "pchase_shared" : "pchase_global";
    args.bake = {{"N", c.n}};
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"N", c.n}, {"P", c.threads}, {"STEPS", c.steps}};
    b.shape = "footprint=" + std::to_string(c.n * 4) + "B stride=" + std::to_string(c.stride * 4) + "B steps=" +
              std::to_string(c.steps) + " space=" + p.text("space") + " order=" + p.text("order");
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    const Config c = config(b.params);
    Buffers buf = b.allocate();
    TileValue& next = buf.tensors.at("Next");
    if (!c.random) {
      for (int64_t i = 0; i < c.n; ++i) next.set(i, static_cast<double>((i + c.stride) % c.n));
      return buf;
    }
    // One cycle through all slots (Sattolo's shuffle); element `off` of slot s points to element `off` of
    // the slot after s, so every chase start 0 <= p < stride follows the same cycle at its own offset.
    const int64_t slots = c.n / c.stride;
    std::vector<int64_t> order(static_cast<std::size_t>(slots));
    for (int64_t i = 0; i < slots; ++i) order[static_cast<std::size_t>(i)] = i;
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    for (int64_t i = slots - 1; i > 0; --i)
      std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(rng.integer(0, i - 1))]);
    for (int64_t s = 0; s < slots; ++s) {
      const int64_t to = order[static_cast<std::size_t>(s)];
      for (int64_t off = 0; off < c.stride; ++off) next.set(s * c.stride + off, static_cast<double>(to * c.stride + off));
    }
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary& run,
                   double) const override {
    const Config c = config(b.params);
    const TileValue& next = inputs.tensor("Next");
    TileValue want(DType::i32, {c.threads});
    for (int64_t p = 0; p < c.threads; ++p) {
      int64_t pos = p;
      for (int64_t s = 0; s < c.steps; ++s) pos = static_cast<int64_t>(next.at(pos));
      want.set(p, static_cast<double>(pos));
    }
    Comparison cmp;
    cmp.add(compare_exact("End", results.tensor("End"), want));
    const int64_t loads = run.count(b.params.text("space") == "shared" ? OpId::gather : OpId::load);
    cmp.note(loads == c.threads * c.steps, "issued " + std::to_string(loads) + " dependent loads (" +
                                               std::to_string(c.threads) + " chases x " + std::to_string(c.steps) + ")");
    return cmp;
  }
};

// ---- stream --------------------------------------------------------------------------------------------

class StreamWorkload final : public Workload {
 public:
  std::string name() const override { return "stream"; }
  std::string description() const override { return "STREAM read/write/copy/scale/triad over f32 vectors"; }
  std::string template_file() const override { return "stream.tile"; }
  std::vector<ParamSpec> params() const override {
    return {{"op", "copy", "", "the STREAM kernel", {"read", "write", "copy", "scale", "triad"}},
            {"footprint", "256MiB", "60000", "bytes of all the vectors the op touches together", {}},
            {"vector", "4", "", "elements per access of one thread", {}},
            {"threads", "256", "32", "threads per program; a tile is threads x vector elements", {}},
            {"blocks", "0", "3", "programs (grid-stride loop); 0: one tile per program", {}},
            label_param("occupancy", "0", "resident programs per core the measurement used"),
            seed_param()};
  }

  static int arrays(const std::string& op) { return op == "read" || op == "write" ? 1 : op == "triad" ? 3 : 2; }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const std::string op = p.text("op");
    const int64_t footprint = int_in(p, "footprint", 4, int64_t{1} << 40);
    const int64_t n = footprint / (4 * arrays(op));
    if (n < 1 || n > kMaxI32)
      config_fail(p, "footprint " + std::to_string(footprint) + " gives " + std::to_string(n) +
                         " elements per vector (needs 1.." + std::to_string(kMaxI32) + ")");
    const int64_t block = int_in(p, "vector", 1, 64) * int_in(p, "threads", 1, 4096);
    int64_t blocks = int_in(p, "blocks", 0, kMaxI32);
    if (blocks == 0) blocks = (n + block - 1) / block;
    TemplateArgs args;
    args.kernel = "stream_" + op;
    args.bake = {{"BLOCK", block}};
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"N", n}, {"BLOCK", block}, {"NB", blocks}};
    if (op == "write") b.float_scalars["value"] = 2.5;
    if (op == "scale" || op == "triad") b.float_scalars["s"] = 3.0;
    b.shape = op + " N=" + std::to_string(n) + " f32 x " + std::to_string(arrays(op)) + " tile=" + std::to_string(block) +
              " programs=" + std::to_string(blocks);
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    Buffers buf = b.allocate();
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    for (auto& [name, t] : buf.tensors)
      if (name != "Sums") t = random_tensor(DType::f32, t.shape(), rng, -1.0, 1.0);
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary&,
                   double) const override {
    const std::string op = b.params.text("op");
    const int64_t n = b.scalars.at("N"), block = b.scalars.at("BLOCK"), programs = b.scalars.at("NB");
    Comparison cmp;
    if (op == "read") {
      // Program p sums its tiles p, p + NB, ...: each tile summed in f32 in order (padding adds 0), then
      // added to the running f32 total.
      const TileValue& a = inputs.tensor("A");
      TileValue want(DType::f32, {programs});
      for (int64_t p = 0; p < programs; ++p) {
        double total = 0;
        for (int64_t t = p; t * block < n; t += programs) {
          double part = 0;
          for (int64_t e = t * block; e < (t + 1) * block; ++e) {
            const double v = e < n ? a.at(e) : 0.0;
            part = e == t * block ? v : round_to(DType::f32, part + v);
          }
          total = round_to(DType::f32, total + part);
        }
        want.set(p, total);
      }
      cmp.add(compare_exact("Sums", results.tensor("Sums"), want));
      return cmp;
    }
    const std::string out = op == "triad" || op == "write" ? "A" : "B";
    TileValue want(DType::f32, {n});
    for (int64_t i = 0; i < n; ++i) {
      double v = 0;
      if (op == "write") v = 2.5;
      if (op == "copy") v = inputs.tensor("A").at(i);
      if (op == "scale") v = round_to(DType::f32, 3.0 * inputs.tensor("A").at(i));
      if (op == "triad") v = inputs.tensor("B").at(i) + round_to(DType::f32, 3.0 * inputs.tensor("C").at(i));
      want.set(i, round_to(DType::f32, v));
    }
    cmp.add(compare_exact(out, results.tensor(out), want));
    return cmp;
  }
};

// ---- bulk_copy -----------------------------------------------------------------------------------------

class BulkCopyWorkload final : public Workload {
 public:
  std::string name() const override { return "bulk_copy"; }
  std::string description() const override { return "copy-engine bandwidth: a byte buffer copied chunk by chunk through scratch"; }
  std::string template_file() const override { return "bulk_copy.tile"; }
  std::vector<ParamSpec> params() const override {
    return {{"engine", "tma", "", "copy mechanism", {"tma", "tma_2d", "cp_async"}},
            {"bytes_per_copy", "16KiB", "1KiB", "bytes of one copy", {}},
            {"stages", "4", "2", "copies kept in flight per program", {}},
            {"blocks", "132", "3", "programs (grid-stride loop over the chunks)", {}},
            {"footprint", "256MiB", "20KiB", "bytes copied in total", {}},
            seed_param()};
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const std::string engine = p.text("engine");
    const int64_t chunk = int_in(p, "bytes_per_copy", 1, int64_t{1} << 30);
    const int64_t total = int_in(p, "footprint", 1, std::numeric_limits<int32_t>::max());
    const int64_t blocks = int_in(p, "blocks", 1, kMaxI32);
    TemplateArgs args;
    args.kernel = "bulk_copy_" + engine;
    args.loop_stages = int_in(p, "stages", 1, 64);
    WorkloadBuild b = start_build_for(p, tmpl, args, engine, chunk, total);
    b.scalars["NB"] = blocks;
    b.shape = engine + " " + std::to_string(total) + " B in copies of " + std::to_string(chunk) + " B, " +
              std::to_string(blocks) + " programs";
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    Buffers buf = b.allocate();
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    TileValue& src = buf.tensors.at("Src");
    src = random_tensor(DType::i8, src.shape(), rng, -128.0, 127.0);
    return buf;
  }

  Comparison check(const WorkloadBuild&, const Buffers& inputs, const Buffers& results, const RunSummary&,
                   double) const override {
    Comparison cmp;
    cmp.add(compare_exact("Dst", results.tensor("Dst"), inputs.tensor("Src")));
    return cmp;
  }

 private:
  static WorkloadBuild start_build_for(const ParamSet& p, const Module& tmpl, TemplateArgs args, const std::string& engine,
                                       int64_t chunk, int64_t total) {
    if (engine == "tma_2d") {
      if (chunk % 128 != 0 || total % 128 != 0)
        config_fail(p, "tma_2d copies 128-byte rows: bytes_per_copy and footprint must be multiples of 128");
      args.bake = {{"ROWS", chunk / 128}};
      WorkloadBuild b = start_build(p, tmpl, args);
      b.scalars = {{"ROWS_TOTAL", total / 128}, {"ROWS", chunk / 128}};
      return b;
    }
    args.bake = {{"CHUNK", chunk}};
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"NBYTES", total}, {"CHUNK", chunk}};
    return b;
  }
};

// ---- mma ------------------------------------------------------------------------------------------------

class MmaWorkload final : public Workload {
 public:
  std::string name() const override { return "mma"; }
  std::string description() const override {
    return "tensor-instruction latency/throughput: a chain of dependent mma ops of the instruction's shape";
  }
  std::string template_file() const override { return "mma.tile"; }
  std::vector<ParamSpec> params() const override {
    std::vector<ParamSpec> p = {
        label_param("instr", "wgmma", "tensor instruction family", {"wmma", "mma_sync", "wgmma", "tcgen05"}),
        {"shape", "m64n256k16", "m64n64k16", "instruction shape m<M>n<N>k<K> (the tile sizes)", {}},
        {"dtype_in", "bf16", "", "operand dtype", {"bf16", "f16", "tf32", "f8e4m3", "f8e5m2", "f4e2m1", "i8", "f64"}},
        {"dtype_acc", "f32", "", "accumulator dtype", {"f32", "f16", "i32", "f64"}},
        {"operands", "SS", "", "where A and B come from: SS both scratch, RS A in registers", {"SS", "RS"}},
        label_param("cta_group", "1", "CTAs sharing one instruction (tcgen05)", {"1", "2"}),
        label_param("mode", "throughput", "what the measurement timed", {"latency", "throughput"}),
        {"inputs", "random", "", "operand values: random or zero", {"random", "zero"}},
        {"iters", "256", "4", "dependent mma ops per program", {}},
        {"blocks", "1", "2", "programs, each with its own chain", {}},
        seed_param(),
    };
    for (ParamSpec& s : mma_model_params()) p.push_back(s);
    return p;
  }

  struct Config {
    int64_t m = 0, n = 0, k = 0, iters = 0, blocks = 0;
    DType in = DType::bf16, acc = DType::f32;
  };
  Config config(const ParamSet& p) const {
    Config c;
    static const std::regex shape_re("m([0-9]+)n([0-9]+)k([0-9]+)");
    std::smatch match;
    const std::string shape = p.text("shape");
    if (!std::regex_match(shape, match, shape_re)) config_fail(p, "shape '" + shape + "' is not m<M>n<N>k<K>, e.g. m64n256k16");
    c.m = std::stoll(match[1]);
    c.n = std::stoll(match[2]);
    c.k = std::stoll(match[3]);
    if (c.m < 1 || c.n < 1 || c.k < 1 || c.m > 4096 || c.n > 4096 || c.k > 4096)
      config_fail(p, "shape '" + shape + "' needs extents in 1..4096");
    c.iters = int_in(p, "iters", 1, kMaxI32);
    c.blocks = int_in(p, "blocks", 1, kMaxI32);
    c.in = p.dtype("dtype_in");
    c.acc = p.dtype("dtype_acc");
    check_mma_dtypes(p, "dtype_in", "dtype_acc");
    return c;
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const Config c = config(p);
    TemplateArgs args;
    args.kernel = p.text("operands") == "RS" ? "mma_rs" : "mma_ss";
    args.dtypes = {{DType::bf16, c.in}, {DType::f32, c.acc}};
    args.bake = {{"MI", c.m}, {"NI", c.n}, {"KI", c.k}};
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"MI", c.m}, {"NI", c.n}, {"KI", c.k}, {"NB", c.blocks}, {"ITERS", c.iters}};
    b.interpreter.mma = mma_options(p);
    b.shape = p.text("shape") + " " + dtype_name(c.in) + "->" + dtype_name(c.acc) + " x" + std::to_string(c.iters) +
              " (" + p.text("operands") + ")";
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    const Config c = config(b.params);
    Buffers buf = b.allocate();
    if (b.params.text("inputs") == "zero") return buf;
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    const double range = c.in == DType::i8 ? 4.0 : 1.0;
    buf.tensors.at("A") = random_tensor(c.in, {c.m, c.k}, rng, -range, range);
    buf.tensors.at("B") = random_tensor(c.in, {c.k, c.n}, rng, -range, range);
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary& run,
                   double) const override {
    const Config c = config(b.params);
    const MmaOptions options = mma_options(b.params);
    const TileValue& a = inputs.tensor("A");
    const TileValue& bb = inputs.tensor("B");
    TileValue want(c.acc, {c.blocks, c.m, c.n});
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        auto product = [&](int64_t k) { return a.at(i * c.k + k) * bb.at(k * c.n + j); };
        double acc = 0;
        for (int64_t it = 0; it < c.iters; ++it) {
          if (c.acc == DType::f64) {
            // DMMA: one f64 fused multiply-add per k (f64 products are not exact in a double).
            for (int64_t k = 0; k < c.k; ++k) acc = fma_in(DType::f64, a.at(i * c.k + k), bb.at(k * c.n + j), acc);
          } else {
            acc = reference_accumulate(c.acc, options, acc, product, 0, c.k);
          }
        }
        for (int64_t p = 0; p < c.blocks; ++p) want.set((p * c.m + i) * c.n + j, acc);
      }
    }
    Comparison cmp;
    cmp.add(compare_exact("C", results.tensor("C"), want));
    cmp.note(run.count(OpId::mma) == c.iters * c.blocks,
             "issued " + std::to_string(run.count(OpId::mma)) + " mma ops (" + std::to_string(c.blocks) + " x " +
                 std::to_string(c.iters) + ")");
    return cmp;
  }
};

// ---- alu ---------------------------------------------------------------------------------------------------

class AluWorkload final : public Workload {
 public:
  std::string name() const override { return "alu"; }
  std::string description() const override { return "dependent arithmetic latency: a chain of fused multiply-adds"; }
  std::string template_file() const override { return "alu.tile"; }
  std::vector<ParamSpec> params() const override {
    return {{"op", "ffma", "", "ffma (f32), hfma (f16) or dfma (f64)", {"ffma", "hfma", "dfma"}},
            label_param("mode", "latency", "what the measurement timed", {"latency"}),
            {"iters", "1024", "64", "dependent fma ops", {}},
            {"threads", "32", "", "lanes of the tile (independent chains)", {}},
            seed_param()};
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    const std::string op = p.text("op");
    const DType d = op == "hfma" ? DType::f16 : op == "dfma" ? DType::f64 : DType::f32;
    const int64_t lanes = int_in(p, "threads", 1, 1 << 20);
    TemplateArgs args;
    args.kernel = "alu_chain";
    args.dtypes = {{DType::f32, d}};
    args.bake = {{"T", lanes}};
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"T", lanes}, {"ITERS", int_in(p, "iters", 0, kMaxI32)}};
    // x -> 0.75 x + 0.125 contracts towards 0.5, so the chain stays finite and keeps changing bits.
    b.float_scalars = {{"a", 0.75}, {"b", 0.125}};
    b.shape = p.text("op") + " x" + p.text("iters") + " on " + std::to_string(lanes) + " lanes";
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override {
    Buffers buf = b.allocate();
    Rng rng(static_cast<uint64_t>(b.params.integer("seed")));
    TileValue& x = buf.tensors.at("X");
    x = random_tensor(x.dtype(), x.shape(), rng, -1.0, 1.0);
    return buf;
  }

  Comparison check(const WorkloadBuild& b, const Buffers& inputs, const Buffers& results, const RunSummary& run,
                   double) const override {
    // fma rounds once: fma_in is the exact x*a + b rounded once to the dtype (std::fma for f64, where
    // x*a is not exact in a double).
    const TileValue& x = inputs.tensor("X");
    const DType d = x.dtype();
    const int64_t iters = b.scalars.at("ITERS");
    TileValue want(d, x.shape());
    for (int64_t i = 0; i < x.size(); ++i) {
      double v = x.at(i);
      for (int64_t it = 0; it < iters; ++it) v = fma_in(d, v, 0.75, 0.125);
      want.set(i, v);
    }
    Comparison cmp;
    cmp.add(compare_exact("Y", results.tensor("Y"), want));
    cmp.note(run.count(OpId::fma) == iters, "issued " + std::to_string(run.count(OpId::fma)) + " dependent fma ops");
    return cmp;
  }
};

// ---- launch ----------------------------------------------------------------------------------------------

class LaunchWorkload final : public Workload {
 public:
  std::string name() const override { return "launch"; }
  std::string description() const override { return "empty-kernel launch latency"; }
  std::string template_file() const override { return "launch.tile"; }
  std::vector<ParamSpec> params() const override {
    return {{"blocks", "1", "4", "programs of the empty grid", {}}, seed_param()};
  }

  WorkloadBuild build(const ParamSet& p, const Module& tmpl) const override {
    TemplateArgs args;
    args.kernel = "launch";
    WorkloadBuild b = start_build(p, tmpl, args);
    b.scalars = {{"NB", int_in(p, "blocks", 0, kMaxI32)}};
    b.shape = "blocks=" + p.text("blocks");
    return b;
  }

  Buffers make_inputs(const WorkloadBuild& b) const override { return b.allocate(); }

  Comparison check(const WorkloadBuild& b, const Buffers&, const Buffers&, const RunSummary& run, double) const override {
    Comparison cmp;
    const int64_t want = b.scalars.at("NB");
    cmp.note(run.programs == want && run.ops_executed == 0,
             "ran " + std::to_string(run.programs) + " empty programs (" + std::to_string(want) + " launched), " +
                 std::to_string(run.ops_executed) + " ops");
    return cmp;
  }
};

}  // namespace

std::vector<std::unique_ptr<Workload>> make_microbench_workloads() {
  std::vector<std::unique_ptr<Workload>> v;
  v.push_back(std::make_unique<PchaseWorkload>());
  v.push_back(std::make_unique<StreamWorkload>());
  v.push_back(std::make_unique<BulkCopyWorkload>());
  v.push_back(std::make_unique<MmaWorkload>());
  v.push_back(std::make_unique<AluWorkload>());
  v.push_back(std::make_unique<LaunchWorkload>());
  return v;
}

}  // namespace tilesim::workloads

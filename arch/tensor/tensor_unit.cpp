#include "arch/tensor/tensor_unit.hpp"

#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim::tensor {

ParamSchema tensor_unit_schema() {
  ParamSchema s;
  s.string("kind", "wgmma",
           "tensor unit kind: mma_sync (warp-level, Ampere), wgmma (warp-group, Hopper) or tcgen05 (Blackwell)")
      .real("rate_f16", 4096, "dense f16/bf16 tensor FLOP per clock per SM", 0)
      .real("rate_tf32", 2048, "dense tf32 tensor FLOP per clock per SM", 0)
      .real("rate_f8", 8192, "dense f8 (e4m3/e5m2) tensor FLOP per clock per SM (0: not supported)", 0)
      .real("rate_f4", 0, "dense f4 (e2m1) tensor FLOP per clock per SM (0: not supported)", 0)
      .real("rate_i8", 8192, "dense i8 tensor OPS per clock per SM (0: not supported)", 0)
      .real("rate_f64", 0,
            "dense f64 tensor FLOP per clock per SM (DMMA, mma.sync .f64; 0: not supported, as on Volta)", 0)
      .real("sync_rate_fraction", 1.0,
            "fraction of the dense rate warp-level mma.sync reaches on this SM (1 on Ampere; lower on Hopper, "
            "where only wgmma reaches the peak); not applied to f64, whose only tensor instruction is mma.sync",
            0, 1)
      .real("acc_f32_rate_fraction", 1.0,
            "fraction of the dense rate of a warp-level mma with an f32 accumulator, for every float input "
            "(f16/bf16, tf32, f8; not i8 or f64): GeForce parts halve it (Ada whitepaper, RTX 4090: 165.2 "
            "TFLOPS FP16 with FP32 accumulate, 330.3 with FP16; Turing likewise), data-center parts do not",
            0, 1)
      .integer("sync_m", 16, "mma.sync instruction M", 1)
      .integer("sync_n", 8, "mma.sync instruction N", 1)
      .integer("sync_k_bits", 256,
               "K depth of one mma.sync in operand bits, f64 aside (256: m16n8k16 f16, m16n8k32 i8 on sm_80+; 128: "
               "m16n8k8 f16, m8n8k16 i8 on sm_75, PTX ISA mma shapes)",
               8, 1024)
      .integer("sync_f64_m", 8,
               "mma.sync instruction M for f64 operands (DMMA: m8n8k4 on sm_80; sm_90 adds m16n8k4/k8/k16)", 1)
      .integer("sync_f64_n", 8, "mma.sync instruction N for f64 operands", 1)
      .real("sync_latency", 32, "latency of one mma.sync (cycles, issue to result)", 1)
      .real("sync_acc_f32_cycles", 0,
            "extra cycles of one mma.sync with an f32 accumulator, in its latency and in its tensor-pipe "
            "interval (Volta writes back twice the accumulator bytes of f16; 0 where f32 accumulation runs at "
            "the full rate)",
            0)
      .integer("ldmatrix_bytes", 512, "bytes one ldmatrix (x4) moves from scratch into a warp's registers", 1)
      .real("wgmma_min_latency", 13, "shortest wgmma latency (cycles): small shapes with A in registers", 1)
      .real("tcgen05_latency", 136,
            "tcgen05: a lone MMA's result is visible (commit, mbarrier) this many cycles after its math: "
            "SemiAnalysis's B200 single-MMA latencies 152 / 200 / 264 = 136 + the math cycles of m64n64k16 / "
            "m128n128k16 / m128n256k16",
            0)
      .real("tcgen05_smem_bytes_per_cycle", 128,
            "tcgen05: shared-memory operand bandwidth of the tensor cores (bytes per cycle per SM)", 1)
      .real("wgmma_smem_bytes_per_cycle", 128,
            "scratch operand bandwidth of the tensor cores (bytes per cycle per SM); wgmma operands read from "
            "scratch stream at this rate",
            1);
  return s;
}

std::unique_ptr<TensorUnit> make_tensor_unit(const TensorUnitContext& ctx, const std::string& kind) {
  return TensorUnitRegistry::instance().get(kind, "core.tensor.kind").make(ctx);
}

double section_rate(const ParamValues& p, isa::DType in) {
  switch (in) {
    case isa::DType::f16:
    case isa::DType::bf16: return p.real("rate_f16");
    case isa::DType::tf32:
    case isa::DType::f32: return p.real("rate_tf32");
    case isa::DType::f8e4m3:
    case isa::DType::f8e5m2: return p.real("rate_f8");
    case isa::DType::f4e2m1: return p.real("rate_f4");
    case isa::DType::i8: return p.real("rate_i8");
    case isa::DType::f64: return p.real("rate_f64");
    default: return 0;
  }
}

double required_rate(const ParamValues& p, isa::DType in) {
  const double rate = section_rate(p, in);
  if (rate <= 0)
    throw ConfigError(cat("core.tensor: no tensor rate for operand dtype ", isa::dtype_name(in),
                          " (set the matching core.tensor.rate_* parameter)"));
  return rate;
}

double element_bytes(isa::DType t) { return isa::bits(t == isa::DType::f32 ? isa::DType::tf32 : t) / 8.0; }

int instruction_k(isa::DType in) {
  const int b = isa::bits(in == isa::DType::f32 ? isa::DType::tf32 : in);
  return 256 / b;
}

}  // namespace tilesim::tensor

// Tensor units an SM plugs in by name (DESIGN.md §6): given one tile-ISA `mma` as a warp group of the SM
// executes it, a tensor unit says which hardware instructions it becomes and what each costs:
//   - mma_sync (Ampere, also legacy Hopper/Volta): every warp computes its own part of the tile with
//     warp-level mma.sync instructions on its sub-partition's tensor core; operands from scratch are first
//     loaded into registers with ldmatrix (shared loads);
//   - wgmma (Hopper): warp groups of 4 warps issue asynchronous wgmma.mma_async instructions that the SM's
//     tensor cores execute together, A from scratch (SS) or registers (RS), B from scratch, accumulators in
//     registers; results are waited for explicitly.
// Rates are per SM per clock by operand dtype (public dense peaks / (SMs x clock)); latencies come from
// microbenchmark papers (see the presets).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "isa/dtype.hpp"
#include "sim/params.hpp"
#include "sim/registry.hpp"

namespace tilesim::tensor {

/// One tile-ISA mma as executed by a group of warps.
struct MmaRequest {
  std::int64_t m = 0, n = 0, k = 0;
  isa::DType a = isa::DType::bf16, b = isa::DType::bf16, acc = isa::DType::f32;
  bool a_in_registers = false;  // A in registers (RS) rather than scratch (SS)
  bool b_in_registers = false;
  std::uint32_t warps = 4;      // warps of the group executing the op
};

/// Where the instructions run.
enum class MmaScope {
  warp,       // each warp on its own sub-partition's tensor core (mma.sync / wmma)
  warpgroup,  // 4 warps together on all the SM's tensor cores, asynchronously (wgmma)
};

struct MmaPlan {
  std::string instruction;             // e.g. "wgmma.m64n256k16.bf16", "mma.sync.m16n8k16.bf16"
  MmaScope scope = MmaScope::warp;
  int inst_m = 0, inst_n = 0, inst_k = 0;
  std::uint64_t instructions_per_warp = 0;  // tensor instructions each warp issues
  std::uint64_t operand_loads_per_warp = 0; // ldmatrix-style shared loads per warp (scratch operands)
  std::uint64_t operand_loads_a = 0;        // of which for A (the rest for B)
  std::uint32_t operand_load_bytes = 0;     // bytes one such load moves (per warp)
  double interval = 0;  // cycles the executing tensor pipe (sub-partition or SM) is busy per instruction
  double latency = 0;   // issue to result of one instruction, unloaded
  double flops_per_instruction = 0;
  // The accumulator lives in the tensor pipe (Blackwell tensor memory): an instruction accumulating into a
  // result of the previous one follows it at the interval, not after its latency; the latency is what a
  // reader of the result (commit, tcgen05.ld) waits.
  bool accumulate_in_pipe = false;
};

/// A tensor unit kind. Implementations register with RegisterTensorUnit.
class TensorUnit {
 public:
  virtual ~TensorUnit() = default;
  /// The plan for `r`. Throws ConfigError when the unit cannot run it (dtype without a rate, a group
  /// that is not whole warp groups, ...), saying what would.
  virtual MmaPlan plan(const MmaRequest& r) const = 0;
  /// Dense rate in FLOP (or OPS) per clock per SM for operand dtype `in`; 0 when unsupported.
  virtual double rate_per_sm(isa::DType in) const = 0;
};

/// The `core.tensor` section: every tensor unit kind reads the same parameters.
ParamSchema tensor_unit_schema();

struct TensorUnitContext {
  ParamValues params;          // the resolved core.tensor section
  std::uint32_t sub_partitions = 4;
};
using TensorUnitRegistry = Registry<TensorUnit, TensorUnitContext>;

template <class T>
struct RegisterTensorUnit {
  RegisterTensorUnit(const char* name, const char* description) {
    TensorUnitRegistry::instance().add({name, description, [name] { return ParamSchema(name); },
                                        [](const TensorUnitContext& ctx) -> std::unique_ptr<TensorUnit> {
                                          return std::make_unique<T>(ctx);
                                        }});
  }
};

/// Make the unit named by ctx.params' `kind` (ConfigError naming core.tensor.kind when unknown).
std::unique_ptr<TensorUnit> make_tensor_unit(const TensorUnitContext& ctx, const std::string& kind);

/// The per-SM dense rate for dtype `in` from the section's rate parameters (shared by all kinds).
double section_rate(const ParamValues& p, isa::DType in);
/// section_rate, or a ConfigError naming the rate parameter to set when the dtype has none.
double required_rate(const ParamValues& p, isa::DType in);
/// Bytes per element of an mma operand (f32 operands run as tf32).
double element_bytes(isa::DType t);
inline std::int64_t cdiv(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }
/// Instruction K for an operand dtype: 32 bytes of K per instruction (16 for 16-bit, 8 for tf32, 32 for
/// 8-bit, 64 for 4-bit, 4 for f64: DMMA m8n8k4), as PTX mma/wgmma shapes are.
int instruction_k(isa::DType in);

}  // namespace tilesim::tensor

// The functional interpreter: runs a kernel of the tile ISA over its whole grid on real buffers, with the
// exact numerics of tile_kernels.hpp. It is the correctness oracle for workloads and timing models.
//
// Execution model (what a kernel may rely on, and what it may not):
//  - Programs run one after another in a fixed order: program (x, y, z) has the linear id
//    x + gx * (y + gy * z) (axis 0 fastest) and programs run in ascending linear id. With clusters, the
//    programs of one cluster run together (as cooperative tasks, so scope=cluster barriers and
//    cluster_load work), clusters in ascending order of their first program's linear id and programs in
//    a cluster by cluster rank. A kernel containing a `barrier scope=device` runs its whole grid as one
//    group of cooperative tasks. Programs interact only through global memory and atomic_add; a kernel
//    whose result depends on the order of racing programs is the kernel's problem — the interpreter's
//    order is deterministic, so its result is reproducible, but a real machine may differ.
//  - Inside a program, every op runs in program order and completes before the next starts, so every
//    token is satisfied when it is produced: `wait` and `after(...)` only check that they name tokens
//    that were produced. copy_async reads global memory when it is issued.
//  - Roles: each instance of each role is a task; the scheduler runs tasks in a fixed round-robin order
//    (role declaration order, then instance), each until it blocks — on `put` to a channel whose stages
//    are all full, on `get` from a channel with no new item, at a `barrier` that not every task of its
//    scope has reached, or on `cluster_load` of a value the peer has not produced yet — or finishes.
//    When every unfinished task is blocked the run stops with a deadlock error naming each task, the op
//    it waits at and why.
//  - Channels: `put` appends an item; at most `stages` items are in flight (put but not yet released by
//    every consumer instance). Every instance of every consumer role gets every item in order; `release`
//    frees this instance's oldest gotten item, and a stage is free once all consumer instances released it.
//  - Global memory: load/store/copy_async/atomic_add address tensors in tile coordinates; elements
//    outside the tensor read as 0 and are not written (docs/isa-grammar.md). With
//    InterpreterOptions::check_bounds, an access whose tile lies entirely outside the tensor is an error
//    (a wrong coordinate rather than an edge tile).
//  - atomic_add adds element-wise in the tensor's dtype: f64/f32/f16/bf16 round the exact sum once (RNE),
//    i32 wraps modulo 2^32.
//  - mma follows tile_kernels' mma (InterpreterOptions::mma selects the accumulator model; f64 x f64 -> f64
//    is DMMA's chain of f64 fused multiply-adds, one rounding per step). f32 x f32 mma
//    (which tile_kernels does not take) is an fma chain: acc = round_f32(acc + a*b) per k, ascending,
//    with exact products (what an FFMA-based GEMM computes); mma_scaled multiplies each operand element
//    by its block scale first (exact) and accumulates the same way. Both honour the narrowed-accumulator
//    model of MmaOptions.
//  - Scalars: index values are 64-bit integers; add/sub/mul overflow, division or rem by zero and cdiv
//    of a negative number are errors. Scalar ops on dtype values use the tile kernels on rank-0 tiles.
//
// Errors: every runtime failure throws tilesim::InputError whose message starts with
// `file:line:col: error:` of the op (or of the parameter, for bad arguments), followed by the source line
// and a caret when the source text is known; the message names the program (and role) that failed.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "isa/ir.hpp"
#include "isa/tile_kernels.hpp"
#include "isa/tile_value.hpp"

namespace tilesim::isa {

/// The arguments of a kernel that are not integers: global tensors and non-integer scalars.
struct Buffers {
  /// Global tensor parameters by name (without '%'). Each must have the parameter's dtype and its shape
  /// evaluated with the integer scalars. The interpreter writes results into them in place.
  std::map<std::string, TileValue> tensors;
  /// Scalar parameters by name that are not in the SymbolValues passed to run_kernel, typically float
  /// scalars (`scale: f32`). Values are rounded to the parameter's dtype when the kernel starts.
  std::map<std::string, double> scalars;

  /// The tensor called `name`; throws tilesim::ConfigError naming it if there is none.
  TileValue& tensor(const std::string& name);
  const TileValue& tensor(const std::string& name) const;
};

struct InterpreterOptions {
  /// Accumulator model of mma / mma_scaled (full fp32 by default; see MmaOptions for the narrowed one).
  MmaOptions mma;
  /// Treat a global access whose tile lies entirely outside the tensor as an error.
  bool check_bounds = false;
  /// Run the verifier first and refuse a kernel with verifier errors.
  bool verify = true;
  /// Name and text of the source, for `file:line:col` and caret lines in errors. The Module overload of
  /// run_kernel fills them from the module; with the Kernel overload the name defaults to
  /// `<kernel @name>`.
  std::string source_name;
  std::string source_text;
};

/// What a run did (for tests and for timing models that carry values).
struct RunSummary {
  int64_t programs = 0;        // programs executed
  int64_t tasks = 0;           // role instances (or plain bodies) executed
  int64_t ops_executed = 0;    // op executions, for/if/yield included
  int64_t task_switches = 0;   // times the scheduler moved from one blocked task to another
  std::array<int64_t, kOpcodeCount> op_counts{};  // executions per opcode
  int64_t count(OpId op) const { return op_counts[static_cast<size_t>(op)]; }
};

/// Run every program of `kernel`'s grid. `scalars` holds the integer scalar parameters (i32, index, i8,
/// i1); every other scalar parameter comes from `buffers.scalars` (an integer parameter may also be
/// given there if it holds an integral value). Every parameter needs a value and every entry must name
/// a parameter of the kernel; otherwise InputError at the parameter (or the kernel) with what is wrong.
RunSummary run_kernel(const Kernel& kernel, Buffers& buffers, const SymbolValues& scalars,
                      const InterpreterOptions& options = {});

/// As above for the kernel called `kernel_name` in `module` (errors carry the module's source name and
/// text; an unknown kernel name is an InputError listing the module's kernels).
RunSummary run_kernel(const Module& module, const std::string& kernel_name, Buffers& buffers,
                      const SymbolValues& scalars, const InterpreterOptions& options = {});

/// The shape of a global tensor parameter with the given integer scalars, for allocating Buffers.
/// Throws InputError at the parameter if a dim cannot be evaluated or is negative.
Shape param_shape(const Kernel& kernel, const std::string& param_name, const SymbolValues& scalars);

/// Zero-filled tensors for every global parameter of `kernel` (shapes from param_shape).
Buffers zero_buffers(const Kernel& kernel, const SymbolValues& scalars);

}  // namespace tilesim::isa

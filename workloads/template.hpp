// Instantiating a `.tile` template for one parameter set, at the IR level (so errors keep pointing at
// the template's lines).
//
// A template is an ordinary, verifiable kernel whose tile sizes are scalar parameters and whose dtypes
// play fixed roles (each template's header comment says which dtype stands for what, e.g. in gemm.tile
// bf16 = dtype_in, f32 = dtype_acc, f16 = dtype_out). Instantiation:
//  - keeps only the selected kernel;
//  - bakes the given symbols (tile sizes) into every kernel expression — value types, grid, cluster,
//    resources and expression attributes (shape=, offsets=, ...) — folding constant subexpressions; the
//    parameters themselves stay (their values are passed as scalar arguments too);
//  - maps dtypes: every type and every dtype attribute (cast to=) whose dtype is a key of `dtypes` gets
//    the mapped dtype (all at once, from the template's dtypes, so bf16->f16 and f16->bf16 can swap);
//  - replaces the opcodes of the ops that define the named values (e.g. %y: relu -> gelu), adding the
//    given attributes;
//  - sets the `stages` hint of every for loop that has one, and the stages of every channel;
//  - sets the instance count of named roles (e.g. one consumer warp group instead of two), moving the
//    kernel's resources(warps=...) by the warps the change adds or removes;
//  - declares resources(scratch=...) as the scratch the instantiated kernel allocates (when the template
//    does not declare it), then verifies the module (tilesim::InputError listing the errors otherwise).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "isa/ir.hpp"

namespace tilesim::workloads {

struct OpReplacement {
  isa::OpId opcode;
  isa::Attrs extra_attrs;  // added to (or replacing same-named) attributes of the op
};

struct TemplateArgs {
  std::string kernel;                             // kernel to keep
  std::map<isa::DType, isa::DType> dtypes;        // template dtype -> instance dtype
  isa::SymbolValues bake;                         // symbols made constants in every kernel expression
  std::map<std::string, OpReplacement> replace;   // by the name (without %) of the op's first result
  std::optional<int64_t> loop_stages;             // new `stages` of every for loop that has the hint
  std::optional<int64_t> channel_stages;          // new stages of every channel
  std::map<std::string, int64_t> role_counts;     // role name -> new instance count (positive)
};

/// The instantiated, verified module (source name and text kept from `tmpl`). Throws InputError when
/// the kernel is missing, a named op to replace or a named role does not exist, or verification fails.
isa::Module instantiate(const isa::Module& tmpl, const TemplateArgs& args);

/// `e` with the symbols in `values` replaced by constants and constant subexpressions folded.
isa::Expr bake_expr(const isa::Expr& e, const isa::SymbolValues& values);

}  // namespace tilesim::workloads

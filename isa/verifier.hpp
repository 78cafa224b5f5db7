// The tile-ISA verifier: whole-kernel checks on parsed or built IR.
//
//  - structure and types (for IR from the Builder or edited by hand): every value defined once and visible
//    where used, operand counts, attributes and result types per the opcode table's rules, for/if region
//    shapes and yields, kernel constants in shapes;
//  - tokens: after(...) takes tokens only; a copy_async tile is read only once ordered after its token
//    (wait, after(...) on a memory op, or transitively through another waited token); copy_async tokens
//    must be consumed (error); other tokens may stay unconsumed (drained at program exit);
//  - roles/channels: channel ops only in kernels with roles; each channel has exactly one producer role
//    and at least one consumer role; a role never both puts and gets one channel; release only in a
//    consumer role; unused channels are a warning; roles' warps fit the kernel's;
//  - resources: scratch declared >= scratch allocated (tiles produced in @scratch, times the `stages` of
//    enclosing loops, plus channel stages), with what and by how much when short; a warning when shapes
//    are symbolic and the total cannot be known.
// Every diagnostic carries the line:col of the op (or declaration) it is about.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "isa/ir.hpp"

namespace tilesim::isa {

struct VerifyReport {
  std::vector<Diagnostic> diagnostics;  // sorted by location

  bool ok() const { return error_count() == 0; }
  size_t error_count() const;
  size_t warning_count() const;
  /// Every diagnostic formatted with file:line:col, source line and caret (see format_diagnostic).
  std::string format(const Module& module) const;
};

VerifyReport verify(const Module& module);
VerifyReport verify_kernel(const Kernel& kernel);

/// Throws tilesim::InputError listing every error (warnings are not reported) if verification fails.
void verify_or_throw(const Module& module);

/// One scratch allocation: a value produced in @scratch (or a channel's stages).
struct ScratchItem {
  std::string what;          // "%a" or "channel %c"
  SourceLoc loc;
  std::optional<int64_t> bytes_each;  // nullopt: symbolic shape
  int64_t copies = 1;        // product of enclosing loops' stages, or the channel's stages
};

struct ScratchUsage {
  std::vector<ScratchItem> items;
  /// Total bytes when every item's shape is concrete.
  std::optional<int64_t> total_bytes() const;
};

/// The scratch a kernel allocates (what the resources(scratch=...) declaration must cover).
ScratchUsage scratch_usage(const Kernel& kernel);

}  // namespace tilesim::isa

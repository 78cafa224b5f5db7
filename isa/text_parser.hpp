// The `.tile` text parser: a hand-written lexer and recursive-descent parser (grammar: docs/isa-grammar.md).
//
// Parsing resolves names (SSA, scoping), applies the opcode table's type rules (so result types may be
// omitted where they are inferable) and checks region structure; the deeper whole-kernel checks (tokens,
// roles/channels, resources) are the verifier's. Any input is safe: every rejection is a
// tilesim::InputError whose message is `file:line:col: error: <what>`, the source line, a caret line and
// (when obvious) a hint; nesting depth is bounded and the work is linear in the input.
#pragma once

#include <string>
#include <string_view>

#include "isa/ir.hpp"

namespace tilesim::isa {

/// Deepest nesting of regions (for/if bodies) and of parenthesised expressions the parser accepts.
constexpr int kMaxNestingDepth = 64;

/// Parse a whole module. `source_name` is used in error messages and kept in Module::source_name, the
/// text in Module::source_text. Throws tilesim::InputError.
Module parse_module(std::string_view text, const std::string& source_name = "<memory>");

/// Read and parse a `.tile` file (throws InputError if it cannot be read or parsed).
Module parse_file(const std::string& path);

/// Parse and run the verifier; throws InputError listing every verifier error (warnings are ignored).
Module load_tile_file(const std::string& path);

}  // namespace tilesim::isa

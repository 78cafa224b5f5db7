// libFuzzer entry point for the .tile parser (clang only; see tests/isa/CMakeLists.txt):
//   cmake --build build --target tile_parser_fuzzer
//   build/tests/isa/tile_parser_fuzzer -max_total_time=60 tests/isa/data
// Accepted inputs must print to text that parses back to the same text; rejections must be InputErrors.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "isa/text_parser.hpp"
#include "isa/text_printer.hpp"
#include "isa/verifier.hpp"
#include "sim/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  try {
    const tilesim::isa::Module m = tilesim::isa::parse_module(input, "fuzz.tile");
    const std::string p1 = tilesim::isa::print_module(m);
    const std::string p2 = tilesim::isa::print_module(tilesim::isa::parse_module(p1, "printed.tile"));
    if (p1 != p2) std::abort();
    (void)tilesim::isa::verify(m);
  } catch (const tilesim::InputError&) {
    // rejected: fine
  }
  return 0;
}

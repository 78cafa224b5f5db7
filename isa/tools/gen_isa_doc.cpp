// tilesim-gen-isa-doc: writes the ISA reference generated from the opcode table.
//   tilesim-gen-isa-doc            -> stdout
//   tilesim-gen-isa-doc docs/isa.md -> that file
#include <fstream>
#include <iostream>

#include "isa/opcodes.hpp"

int main(int argc, char** argv) {
  const std::string doc = tilesim::isa::isa_reference_markdown();
  if (argc < 2) {
    std::cout << doc;
    return 0;
  }
  if (argc > 2) {
    std::cerr << "usage: tilesim-gen-isa-doc [output.md]\n";
    return 2;
  }
  std::ofstream out(argv[1], std::ios::binary);
  out << doc;
  if (!out) {
    std::cerr << "tilesim-gen-isa-doc: cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}

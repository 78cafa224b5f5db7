// libsystemc.so ships a main() that calls sc_main(), so the symbol must exist for any program linking it.
// tilesim programs (CLI, tests, benchmarks, the Python module) have their own main() or none, and never
// reach this; if something does, it says so instead of running an empty model.
#include <cstdio>

extern "C" int sc_main(int, char*[]) {
  std::fprintf(stderr, "tilesim: sc_main is not an entry point; use the tilesim CLI or library\n");
  return 70;
}

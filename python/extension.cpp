// The importable module: `import _tilesim` with build/python on sys.path (the `tilesim` package wraps it).
#include "python/bindings.hpp"

PYBIND11_MODULE(_tilesim, m) { tilesim::bind_tilesim(m); }

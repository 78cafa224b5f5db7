// `tilesim script FILE.py`: run a Python file in an embedded interpreter that has the `_tilesim` module
// built in and the source tree's python/ folder on sys.path, so `import tilesim` works.
#pragma once

#include <string>
#include <vector>

namespace tilesim {
/// Returns the process exit code: 0, the script's SystemExit code, or 1 on an uncaught Python exception.
int run_python_script(const std::string& path, const std::vector<std::string>& args);
}

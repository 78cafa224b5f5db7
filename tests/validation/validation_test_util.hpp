// Helpers shared by the validation tests: temporary folders, running validate in-process (so the
// test-only fixture mappers are registered) and reading its validation.csv.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace validation_test {

/// A fresh folder under the build tree's temp area, named after the test.
std::filesystem::path fresh_dir(const std::string& name);

/// run_validate_command(args + {--tilesim TILESIM_BINARY, --jobs 2}) with stdout captured into `out`.
int validate(std::vector<std::string> args, std::string& out);

/// validation.csv rows by id (column name -> value).
std::map<std::string, std::map<std::string, std::string>> read_validation_csv(const std::filesystem::path& file);

std::string slurp(const std::filesystem::path& file);

}  // namespace validation_test

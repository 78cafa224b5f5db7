#include "validation_test_util.hpp"

#include <fstream>
#include <iostream>
#include <sstream>

#include "traces/csv_reader.hpp"
#include "validation/commands.hpp"

namespace validation_test {

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("tilesim_validation_test_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

int validate(std::vector<std::string> args, std::string& out) {
  args.insert(args.end(), {"--tilesim", TILESIM_BINARY, "--jobs", "2"});
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  int rc = -1;
  try {
    rc = tilesim::validation::run_validate_command(args);
  } catch (...) {
    std::cout.rdbuf(old);
    out = captured.str();
    throw;
  }
  std::cout.rdbuf(old);
  out = captured.str();
  return rc;
}

std::map<std::string, std::map<std::string, std::string>> read_validation_csv(const std::filesystem::path& file) {
  std::ifstream in(file);
  tilesim::traces::CsvReader reader(in, file.string());
  tilesim::traces::CsvRecord header, rec;
  reader.next(header);
  std::map<std::string, std::map<std::string, std::string>> rows;
  while (reader.next(rec)) {
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.fields.size() && i < rec.fields.size(); ++i)
      row[header.fields[i].text] = rec.fields[i].text;
    rows[row["id"]] = row;
  }
  return rows;
}

std::string slurp(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace validation_test

#include "traces/json_input.hpp"

#include <iterator>

#include "sim/error.hpp"
#include "traces/input_file.hpp"

namespace tilesim::traces {

std::string line_col_of(const std::string& text, std::size_t byte) {
  int line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return cat(line, ":", col);
}

nlohmann::json read_json_file(const std::string& path) {
  InputFile file(path);
  const std::string text((std::istreambuf_iterator<char>(file.stream())), std::istreambuf_iterator<char>());
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based and points just past the offending character.
    const std::size_t at = e.byte > 0 ? e.byte - 1 : 0;
    std::string what = e.what();
    const auto colon = what.find("syntax error");
    if (colon != std::string::npos) what = what.substr(colon);
    throw InputError(cat(path, ":", line_col_of(text, at), ": JSON ", what));
  }
}

const nlohmann::json& json_member(const nlohmann::json& object, const std::string& key, const std::string& file,
                                  const std::string& path) {
  if (!object.is_object()) throw InputError(cat(file, ": ", path.empty() ? "top level" : path, ": expected an object"));
  if (!object.contains(key))
    throw InputError(cat(file, ": ", path.empty() ? "" : path + ": ", "missing key '", key, "'"));
  return object[key];
}

double json_number(const nlohmann::json& object, const std::string& key, const std::string& file,
                   const std::string& path) {
  const auto& v = json_member(object, key, file, path);
  if (!v.is_number())
    throw InputError(cat(file, ": ", path.empty() ? "" : path + ".", key, ": expected a number, got ", v.dump()));
  return v.get<double>();
}

std::string json_string(const nlohmann::json& object, const std::string& key, const std::string& file,
                        const std::string& path) {
  const auto& v = json_member(object, key, file, path);
  if (!v.is_string())
    throw InputError(cat(file, ": ", path.empty() ? "" : path + ".", key, ": expected a string, got ", v.dump()));
  return v.get<std::string>();
}

}  // namespace tilesim::traces

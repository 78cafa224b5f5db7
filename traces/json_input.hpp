// Reading a whole JSON document (gzip or plain) with syntax errors reported as `file:line:col:`. For
// small documents (harness results, stats.json); large traces go through the SAX reader in kineto_json.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace tilesim::traces {

/// Parse `path`; InputError "file:line:col: JSON syntax error: ..." on malformed text.
nlohmann::json read_json_file(const std::string& path);

/// "line:col" (1-based) of byte offset `byte` in `text`.
std::string line_col_of(const std::string& text, std::size_t byte);

/// Typed member access with errors naming the file and the JSON path ("cases[3].value").
const nlohmann::json& json_member(const nlohmann::json& object, const std::string& key, const std::string& file,
                                  const std::string& path);
double json_number(const nlohmann::json& object, const std::string& key, const std::string& file,
                   const std::string& path);
std::string json_string(const nlohmann::json& object, const std::string& key, const std::string& file,
                        const std::string& path);

}  // namespace tilesim::traces

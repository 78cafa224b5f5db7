#include "validation/reference_csv.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <set>

#include "sim/error.hpp"
#include "sim/text_util.hpp"
#include "traces/csv_reader.hpp"
#include "traces/input_file.hpp"

namespace tilesim::validation {
namespace {

using traces::CsvField;
using traces::CsvHeader;
using traces::CsvReader;
using traces::CsvRecord;

double parse_number_field(const std::string& file, const CsvField& f, const std::string& column) {
  const std::string t(trim(f.text));
  errno = 0;
  char* end = nullptr;
  const double v = t.empty() ? 0 : std::strtod(t.c_str(), &end);
  if (t.empty() || errno != 0 || end != t.c_str() + t.size() || !std::isfinite(v))
    throw InputError(cat(traces::where(file, f), ": column '", column, "': '", f.text, "' is not a number"));
  return v;
}

}  // namespace

const std::vector<std::string>& required_reference_columns() {
  static const std::vector<std::string> columns = {"id", "preset", "workload", "params", "metric", "value", "unit"};
  return columns;
}

std::map<std::string, std::string> parse_params(const std::string& text, const std::string& where) {
  std::map<std::string, std::string> out;
  for (const auto& item : split(text, ';')) {
    const std::string kv(trim(item));
    if (kv.empty()) continue;
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(cat(where, ": params: '", kv, "' is not key=value (params are `key=value;key=value`)"));
    const std::string key(trim(kv.substr(0, eq)));
    const std::string value(trim(kv.substr(eq + 1)));
    if (!out.emplace(key, value).second) throw InputError(cat(where, ": params: key '", key, "' given twice"));
  }
  return out;
}

bool looks_like_reference_csv(const std::string& first_line) {
  std::set<std::string> names;
  for (const auto& n : split(first_line, ',')) names.insert(std::string(trim(n)));
  return names.count("id") && names.count("workload") && names.count("params");
}

std::vector<ReferenceRow> read_reference_csv(const std::string& path) {
  traces::InputFile file(path);
  return read_reference_csv(file.stream(), path);
}

std::vector<ReferenceRow> read_reference_csv(std::istream& in, const std::string& name) {
  CsvReader reader(in, name);
  CsvRecord rec;
  if (!reader.next(rec)) throw InputError(cat(name, ":1:1: reference CSV: the file is empty (expected a header row)"));
  const CsvHeader header(rec, name);
  std::map<std::string, std::size_t> col;
  for (const auto& c : required_reference_columns()) col[c] = header.require(c, "reference CSV");
  const auto optional = [&](const char* c) { return header.find(c); };
  const auto device = optional("device"), clock = optional("clock_mhz"), trust = optional("trust"),
             url = optional("source_url"), note = optional("note");

  std::vector<ReferenceRow> rows;
  std::map<std::string, int> first_line_of_id;
  while (reader.next(rec)) {
    if (rec.fields.size() != header.size())
      throw InputError(cat(name, ":", rec.line, ":1: row has ", rec.fields.size(), " fields, the header has ",
                           header.size()));
    const auto field = [&](std::size_t i) -> const CsvField& { return rec.fields[i]; };
    ReferenceRow row;
    row.file = name;
    row.line = rec.line;
    row.id = std::string(trim(field(col["id"]).text));
    if (row.id.empty()) throw InputError(cat(traces::where(name, field(col["id"])), ": column 'id' is empty"));
    const auto [it, fresh] = first_line_of_id.emplace(row.id, rec.line);
    if (!fresh)
      throw InputError(cat(traces::where(name, field(col["id"])), ": duplicate id '", row.id, "' (first at line ",
                           it->second, ")"));
    row.preset = std::string(trim(field(col["preset"]).text));
    row.workload = std::string(trim(field(col["workload"]).text));
    row.params_text = field(col["params"]).text;
    row.params = parse_params(row.params_text, traces::where(name, field(col["params"])));
    row.metric = std::string(trim(field(col["metric"]).text));
    row.value = parse_number_field(name, field(col["value"]), "value");
    row.unit = std::string(trim(field(col["unit"]).text));
    if (device) row.device = field(*device).text;
    if (clock && !std::string(trim(field(*clock).text)).empty())
      row.clock_mhz = parse_number_field(name, field(*clock), "clock_mhz");
    if (trust) row.trust = field(*trust).text;
    if (url) row.source_url = field(*url).text;
    if (note) row.note = field(*note).text;
    for (const char* c : {"preset", "workload", "metric", "unit"})
      if (std::string(trim(field(col[c]).text)).empty())
        throw InputError(cat(traces::where(name, field(col[c])), ": column '", c, "' is empty"));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace tilesim::validation

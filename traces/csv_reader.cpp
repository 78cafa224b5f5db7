#include "traces/csv_reader.hpp"

#include "sim/error.hpp"

namespace tilesim::traces {

CsvReader::CsvReader(std::istream& in, std::string file, std::vector<std::string> skip_prefixes,
                     int lines_already_read)
    : in_(in), file_(std::move(file)), skip_prefixes_(std::move(skip_prefixes)), line_(lines_already_read) {}

bool CsvReader::read_line(std::string& line) {
  if (!std::getline(in_, line)) return false;
  ++line_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

bool CsvReader::next_raw_line(std::string& line) { return read_line(line); }

bool CsvReader::next(CsvRecord& record) {
  std::string line;
  for (;;) {
    if (!read_line(line)) return false;
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    bool skip = false;
    for (const auto& p : skip_prefixes_) skip = skip || line.compare(0, p.size(), p) == 0;
    if (!skip) break;
  }
  record.fields.clear();
  record.line = line_;
  std::size_t pos = 0;
  for (;;) {  // one field per iteration
    CsvField field;
    field.line = line_;
    field.column = static_cast<int>(pos) + 1;
    if (pos < line.size() && line[pos] == '"') {
      const int open_line = line_, open_col = static_cast<int>(pos) + 1;
      ++pos;
      for (;;) {
        if (pos >= line.size()) {  // the quoted field continues on the next line
          std::string more;
          if (!read_line(more))
            throw InputError(cat(file_, ":", open_line, ":", open_col, ": unterminated quoted field"));
          field.text += '\n';
          line = std::move(more);
          pos = 0;
          continue;
        }
        if (line[pos] == '"') {
          if (pos + 1 < line.size() && line[pos + 1] == '"') {
            field.text += '"';
            pos += 2;
            continue;
          }
          ++pos;  // closing quote
          break;
        }
        field.text += line[pos++];
      }
      if (pos < line.size() && line[pos] != ',')
        throw InputError(cat(file_, ":", line_, ":", pos + 1, ": expected ',' or end of line after a closing quote"));
    } else {
      const std::size_t end = line.find(',', pos);
      field.text = line.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
      const std::size_t quote = field.text.find('"');
      if (quote != std::string::npos)
        throw InputError(cat(file_, ":", line_, ":", pos + quote + 1, ": a quote inside an unquoted field"));
      pos = end == std::string::npos ? line.size() : end;
    }
    record.fields.push_back(std::move(field));
    if (pos >= line.size()) return true;
    ++pos;  // the comma
  }
}

CsvHeader::CsvHeader(const CsvRecord& header, std::string file) : file_(std::move(file)), line_(header.line) {
  for (const auto& f : header.fields) names_.push_back(f.text);
}

std::optional<std::size_t> CsvHeader::find(const std::string& name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return i;
  return std::nullopt;
}

std::size_t CsvHeader::require(const std::string& name, const std::string& what) const {
  if (const auto i = find(name)) return *i;
  std::string list;
  for (const auto& n : names_) list += (list.empty() ? "" : ", ") + n;
  throw InputError(cat(file_, ":", line_, ":1: ", what, ": missing column '", name, "' (columns: ", list, ")"));
}

std::string where(const std::string& file, const CsvField& field) { return cat(file, ":", field.line, ":", field.column); }

}  // namespace tilesim::traces

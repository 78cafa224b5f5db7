// A streaming CSV reader (RFC 4180: comma-separated, fields optionally quoted, `""` inside quotes is a
// quote, quoted fields may span lines) that remembers where every field starts, so importers can report
// `file:line:col:` errors and look fields up by header name instead of by position.
#pragma once

#include <cstddef>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace tilesim::traces {

struct CsvField {
  std::string text;
  int line = 0;    // 1-based
  int column = 0;  // 1-based byte column of the field's first character
};

struct CsvRecord {
  std::vector<CsvField> fields;
  int line = 0;  // line of the record's first character
};

class CsvReader {
 public:
  /// `file` names the input in messages. Lines starting with one of `skip_prefixes` at a record boundary
  /// are skipped (e.g. `==PROF==` lines interleaved in ncu output); blank lines are skipped.
  /// `lines_already_read` continues the line numbering when the caller consumed a preamble itself.
  CsvReader(std::istream& in, std::string file, std::vector<std::string> skip_prefixes = {},
            int lines_already_read = 0);

  /// The next record; false at end of input. Throws InputError (`file:line:col: ...`) on an unterminated
  /// quoted field, a quote inside an unquoted field, or text after a closing quote.
  bool next(CsvRecord& record);

  /// The next raw line without CSV parsing (for preambles before a header); false at end of input.
  bool next_raw_line(std::string& line);

  const std::string& file() const { return file_; }
  int line() const { return line_; }  // number of the last line read

 private:
  bool read_line(std::string& line);
  std::istream& in_;
  std::string file_;
  std::vector<std::string> skip_prefixes_;
  int line_ = 0;
};

/// Column positions by header name.
class CsvHeader {
 public:
  CsvHeader() = default;
  CsvHeader(const CsvRecord& header, std::string file);
  std::optional<std::size_t> find(const std::string& name) const;
  /// The column's index; InputError "file:line:1: <what>: missing column 'name' (columns: ...)".
  std::size_t require(const std::string& name, const std::string& what) const;
  std::size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  int line() const { return line_; }

 private:
  std::vector<std::string> names_;
  std::string file_;
  int line_ = 0;
};

/// "file:line:col" of a field.
std::string where(const std::string& file, const CsvField& field);

}  // namespace tilesim::traces

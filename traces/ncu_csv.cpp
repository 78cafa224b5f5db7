#include "traces/ncu_csv.hpp"

#include <map>
#include <sstream>

#include "sim/error.hpp"
#include "traces/csv_reader.hpp"
#include "traces/input_file.hpp"

namespace tilesim::traces {
namespace {

// Columns that describe a launch in the raw form; every other column is a metric.
const char* const kLaunchColumns[] = {"ID", "Process ID", "Process Name", "Host Name", "Kernel Name", "Context",
                                      "Stream", "Block Size", "Grid Size", "Device", "CC", "Kernel Time",
                                      "Section Name", "Metric Name", "Metric Unit", "Metric Value", "Rule Name",
                                      "Rule Type", "Rule Description", "Estimated Speedup Type", "Estimated Speedup",
                                      "Function Name", "Demangled Name", "Mangled Name"};

bool is_launch_column(const std::string& name) {
  for (const char* c : kLaunchColumns)
    if (name == c) return true;
  return false;
}

const char* const kSkippedLinePrefixes[] = {"==PROF==", "==WARNING==", "==ERROR==", "==INFO=="};

void check_width(const std::string& file, const CsvRecord& rec, const CsvHeader& header) {
  if (rec.fields.size() != header.size())
    throw InputError(cat(file, ":", rec.line, ":1: row has ", rec.fields.size(), " fields, the header has ", header.size()));
}

long long launch_id(const std::string& file, const CsvField& f) {
  const auto v = parse_profiler_number(f.text);
  if (!v || *v < 0 || *v != static_cast<double>(static_cast<long long>(*v)))
    throw InputError(cat(where(file, f), ": column 'ID': '", f.text, "' is not a launch id (a non-negative integer)"));
  return static_cast<long long>(*v);
}

void fill_launch(MeasuredKernel& k, const CsvRecord& rec, const CsvHeader& h, const std::string& file) {
  k.name = rec.fields[h.require("Kernel Name", "Nsight Compute CSV")].text;
  if (const auto i = h.find("Device")) k.device = rec.fields[*i].text;
  const auto dim = [&](const char* column, std::optional<std::array<long long, 3>>& out) {
    const auto i = h.find(column);
    if (!i || rec.fields[*i].text.empty()) return;
    out = parse_dim3(rec.fields[*i].text);
    if (!out)
      throw InputError(cat(where(file, rec.fields[*i]), ": column '", column, "': '", rec.fields[*i].text,
                           "' is not a dimension like (256, 1, 1)"));
  };
  dim("Block Size", k.block);
  dim("Grid Size", k.grid);
}

/// Set duration_ns from a time metric when the kernel has none yet.
void take_duration(MeasuredKernel& k, const std::string& metric, const MetricValue& v) {
  if (k.duration_ns) return;
  if (metric == "gpu__time_duration.sum" || metric == "Duration" || metric == "gpu__time_duration") {
    if (const auto ns = duration_to_ns(v.value, v.unit)) k.duration_ns = *ns;
  }
}

MeasuredTrace read_details(CsvReader& reader, const CsvHeader& h, const std::string& file) {
  const std::size_t id_col = h.require("ID", "Nsight Compute CSV");
  h.require("Kernel Name", "Nsight Compute CSV");
  const std::size_t name_col = h.require("Metric Name", "Nsight Compute CSV (--page details)");
  const std::size_t unit_col = h.require("Metric Unit", "Nsight Compute CSV (--page details)");
  const std::size_t value_col = h.require("Metric Value", "Nsight Compute CSV (--page details)");
  MeasuredTrace trace;
  trace.file = file;
  trace.format = "ncu-details";
  std::map<long long, std::size_t> index_of_id;
  CsvRecord rec;
  while (reader.next(rec)) {
    check_width(file, rec, h);
    const long long id = launch_id(file, rec.fields[id_col]);
    auto [it, fresh] = index_of_id.emplace(id, trace.kernels.size());
    if (fresh) {
      trace.kernels.emplace_back();
      fill_launch(trace.kernels.back(), rec, h, file);
    }
    MeasuredKernel& k = trace.kernels[it->second];
    const std::string& metric = rec.fields[name_col].text;
    const auto value = parse_profiler_number(rec.fields[value_col].text);
    if (metric.empty() || !value) continue;  // "n/a" and text-valued metrics carry no number
    MetricValue mv{*value, rec.fields[unit_col].text};
    take_duration(k, metric, mv);
    k.metrics[metric] = mv;
  }
  return trace;
}

MeasuredTrace read_raw(CsvReader& reader, const CsvHeader& h, const std::string& file) {
  const std::size_t id_col = h.require("ID", "Nsight Compute CSV");
  h.require("Kernel Name", "Nsight Compute CSV");
  MeasuredTrace trace;
  trace.file = file;
  trace.format = "ncu-raw";
  CsvRecord units;
  if (!reader.next(units))
    throw InputError(cat(file, ":", reader.line() + 1, ":1: Nsight Compute CSV (--page raw): missing the units row after the header"));
  check_width(file, units, h);
  if (!units.fields[id_col].text.empty())
    throw InputError(cat(file, ":", units.line, ":1: Nsight Compute CSV (--page raw): expected the units row (empty "
                         "under \"ID\") after the header, got a launch row"));
  CsvRecord rec;
  while (reader.next(rec)) {
    check_width(file, rec, h);
    MeasuredKernel k;
    launch_id(file, rec.fields[id_col]);
    fill_launch(k, rec, h, file);
    for (std::size_t i = 0; i < h.size(); ++i) {
      const std::string& metric = h.names()[i];
      if (is_launch_column(metric)) continue;
      const auto value = parse_profiler_number(rec.fields[i].text);
      if (!value) continue;
      MetricValue mv{*value, units.fields[i].text};
      take_duration(k, metric, mv);
      k.metrics[metric] = mv;
    }
    trace.kernels.push_back(std::move(k));
  }
  return trace;
}

}  // namespace

bool is_ncu_header_line(const std::string& line) {
  return line.rfind("\"ID\",\"Process ID\"", 0) == 0 || line.rfind("ID,Process ID", 0) == 0;
}

MeasuredTrace read_ncu_csv(const std::string& path) {
  InputFile file(path);
  return read_ncu_csv(file.stream(), path);
}

MeasuredTrace read_ncu_csv(std::istream& in, const std::string& name) {
  // Skip the preamble (application output, ==PROF== lines) up to the header line, keeping ==ERROR== lines
  // so that a profile that produced no table says why.
  std::string line, errors;
  int header_line = 0;
  while (std::getline(in, line)) {
    ++header_line;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (is_ncu_header_line(line)) break;
    if (line.rfind("==ERROR==", 0) == 0) errors += "\n  " + line;
    line.clear();
  }
  if (!is_ncu_header_line(line))
    throw InputError(cat(name, ": no Nsight Compute CSV header (a line starting with \"ID\",\"Process ID\") in ",
                         header_line, " lines; is this `ncu --csv` output?", errors));
  std::istringstream header_text(line);
  CsvReader header_reader(header_text, name, {}, header_line - 1);
  CsvRecord header_rec;
  header_reader.next(header_rec);
  const CsvHeader header(header_rec, name);

  const std::vector<std::string> skip(std::begin(kSkippedLinePrefixes), std::end(kSkippedLinePrefixes));
  CsvReader reader(in, name, skip, header_line);
  MeasuredTrace trace = header.find("Metric Name") ? read_details(reader, header, name) : read_raw(reader, header, name);
  if (trace.kernels.empty())
    throw InputError(cat(name, ":", header_line, ":1: Nsight Compute CSV has a header but no kernel rows", errors));
  return trace;
}

}  // namespace tilesim::traces

#include "traces/kineto_json.hpp"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "sim/error.hpp"
#include "traces/input_file.hpp"
#include "traces/json_input.hpp"

namespace tilesim::traces {
namespace {

using json = nlohmann::json;

bool is_kernel_category(const std::string& cat) {
  std::string lower;
  for (char c : cat) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "kernel";
}

std::optional<std::array<long long, 3>> dims(const json& v) {
  if (!v.is_array() || v.empty() || v.size() > 3) return std::nullopt;
  std::array<long long, 3> out{1, 1, 1};
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number_integer()) return std::nullopt;
    out[i] = v[i].get<long long>();
  }
  return out;
}

std::string device_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  return v.dump();
}

/// SAX handler that keeps only the elements of the top-level arrays "traceEvents" and "deviceProperties"
/// (and the top-level object "otherData"), each built as a small DOM and handed over when complete.
class TraceSax : public json::json_sax_t {
 public:
  explicit TraceSax(MeasuredTrace& out) : out_(out) {}

  bool null() override { return value(json(nullptr)); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override { return value(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
  bool string(string_t& v) override { return value(json(v)); }
  bool binary(binary_t&) override { return value(json(nullptr)); }

  bool start_object(std::size_t) override { return open(json::object()); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    if (depth_ == 1) top_key_ = k;
    if (!stack_.empty()) pending_key_ = k;
    return true;
  }
  bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception& e) override {
    error_byte_ = byte;
    error_ = e.what();
    return false;
  }

  std::size_t error_byte() const { return error_byte_; }
  const std::string& error() const { return error_; }
  bool saw_trace_events() const { return saw_trace_events_; }
  const std::string& generator() const { return generator_; }

 private:
  /// Elements are collected at depth 2 of "traceEvents"/"deviceProperties", or "otherData" itself.
  bool collecting_here() const {
    if (depth_ == 2 && (top_key_ == "traceEvents" || top_key_ == "deviceProperties")) return in_array_at_depth1_;
    return depth_ == 1 && top_key_ == "otherData";
  }

  bool open(json container) {
    if (stack_.empty()) {
      if (depth_ == 1 && container.is_array() && (top_key_ == "traceEvents" || top_key_ == "deviceProperties")) {
        in_array_at_depth1_ = true;
        saw_trace_events_ = saw_trace_events_ || top_key_ == "traceEvents";
      } else if (collecting_here()) {
        element_ = std::move(container);
        stack_.push_back(&element_);
      }
    } else {
      json* parent = stack_.back();
      json* child = parent->is_array() ? &(parent->emplace_back(std::move(container)))
                                       : &((*parent)[pending_key_] = std::move(container));
      stack_.push_back(child);
    }
    ++depth_;
    return true;
  }

  bool close() {
    --depth_;
    if (!stack_.empty()) {
      stack_.pop_back();
      if (stack_.empty()) finish_element();
    } else if (depth_ == 1) {
      in_array_at_depth1_ = false;
    }
    return true;
  }

  bool value(json v) {
    if (stack_.empty()) return true;  // scalars outside collected elements are not needed
    json* parent = stack_.back();
    if (parent->is_array())
      parent->push_back(std::move(v));
    else
      (*parent)[pending_key_] = std::move(v);
    return true;
  }

  void finish_element() {
    if (top_key_ == "traceEvents") {
      take_event(element_, event_index_++);
    } else if (top_key_ == "deviceProperties") {
      if (element_.contains("id") && element_.contains("name") && element_["name"].is_string())
        out_.devices[device_text(element_["id"])] = element_["name"].get<std::string>();
    } else if (top_key_ == "otherData" && element_.contains("generator") && element_["generator"].is_string()) {
      generator_ = element_["generator"].get<std::string>();
    }
    element_ = json();
  }

  void take_event(const json& e, std::size_t index) {
    if (!e.is_object() || e.value("ph", "") != "X" || !e.contains("cat") || !e["cat"].is_string() ||
        !is_kernel_category(e["cat"].get<std::string>()))
      return;
    const std::string where = cat(out_.file, ": traceEvents[", index, "]");
    if (!e.contains("name") || !e["name"].is_string()) throw InputError(cat(where, ": kernel event without a string 'name'"));
    for (const char* k : {"ts", "dur"})
      if (!e.contains(k) || !e[k].is_number())
        throw InputError(cat(where, " (", e["name"].get<std::string>(), "): kernel event without a numeric '", k, "'"));
    MeasuredKernel k;
    k.name = e["name"].get<std::string>();
    k.start_ns = e["ts"].get<double>() * 1e3;  // Chrome trace times are microseconds
    k.duration_ns = e["dur"].get<double>() * 1e3;
    if (*k.duration_ns < 0) throw InputError(cat(where, " (", k.name, "): negative 'dur'"));
    if (e.contains("args") && e["args"].is_object()) {
      const json& a = e["args"];
      if (a.contains("device")) k.device = device_text(a["device"]);
      if (a.contains("grid")) k.grid = dims(a["grid"]);
      if (a.contains("block")) k.block = dims(a["block"]);
      for (const auto& [name, v] : a.items())
        if (v.is_number() && name != "device" && name != "stream" && name != "correlation" && name != "External id")
          k.metrics[name] = {v.get<double>(), ""};
    }
    out_.kernels.push_back(std::move(k));
  }

  MeasuredTrace& out_;
  int depth_ = 0;
  std::string top_key_;
  bool in_array_at_depth1_ = false;
  std::vector<json*> stack_;
  json element_;
  std::string pending_key_;
  std::size_t event_index_ = 0;
  std::size_t error_byte_ = 0;
  std::string error_;
  bool saw_trace_events_ = false;
  std::string generator_;
};

/// line:col of byte offset `byte` (1-based, as nlohmann reports it) by re-reading the file.
std::string position_in_file(const std::string& path, std::size_t byte) {
  InputFile file(path);
  int line = 1, col = 1;
  char c;
  for (std::size_t i = 1; i < byte && file.stream().get(c); ++i) {
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return cat(line, ":", col);
}

}  // namespace

MeasuredTrace read_kineto_json(const std::string& path) {
  MeasuredTrace trace;
  trace.file = path;
  trace.format = "kineto";
  InputFile file(path);
  TraceSax sax(trace);
  const bool ok = json::sax_parse(file.stream(), &sax);
  if (!ok) {
    std::string what = sax.error();
    const auto at = what.find("syntax error");
    if (at != std::string::npos) what = what.substr(at);
    throw InputError(cat(path, ":", position_in_file(path, sax.error_byte()), ": JSON ", what));
  }
  if (!sax.saw_trace_events()) throw InputError(cat(path, ": no \"traceEvents\" array (not a Chrome/Kineto trace)"));
  if (sax.generator() == "tilesim") trace.format = "tilesim-trace";
  std::stable_sort(trace.kernels.begin(), trace.kernels.end(),
                   [](const MeasuredKernel& a, const MeasuredKernel& b) { return *a.start_ns < *b.start_ns; });
  return trace;
}

}  // namespace tilesim::traces

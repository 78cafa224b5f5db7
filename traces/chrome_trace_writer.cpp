#include "traces/chrome_trace_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "sim/error.hpp"

namespace tilesim::traces {
namespace {

constexpr int kKernelPid = 0;  // the "GPU" process of kernel events, as Kineto puts kernels on pid = device
constexpr int kKernelTid = 0;  // "stream 0"

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

std::string number(double v) {
  if (!std::isfinite(v)) return "0";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

/// One side of a window: a time with a unit, or a cycle count of the given clock.
TracePs window_point(const std::string& text, double clock_hz, const std::string& what) {
  std::size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) ++digits;
  if (digits == 0) throw ConfigError(cat(what, ": '", text, "' is not a cycle count or a time (e.g. 1000 or 5us)"));
  const double value = std::stod(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  static const std::pair<const char*, double> kUnits[] = {{"ps", 1}, {"ns", 1e3}, {"us", 1e6}, {"ms", 1e9}, {"s", 1e12}};
  if (unit.empty()) {
    if (clock_hz <= 0) throw ConfigError(cat(what, ": a cycle count needs a clock; give a time instead (e.g. 5us)"));
    return static_cast<TracePs>(std::llround(value * 1e12 / clock_hz));
  }
  for (const auto& [u, scale] : kUnits)
    if (unit == u) return static_cast<TracePs>(std::llround(value * scale));
  throw ConfigError(cat(what, ": '", text, "' has unknown unit '", unit, "' (cycles as a plain number, or ps, ns, us, ms, s)"));
}

}  // namespace

TraceWindow parse_trace_window(const std::string& text, double clock_hz, const std::string& what) {
  TraceWindow w;
  if (text.empty()) return w;
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw ConfigError(cat(what, ": expected A:B (cycles or times, e.g. 1000:5000 or 2us:4us), got '", text, "'"));
  const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
  if (!a.empty()) w.begin = window_point(a, clock_hz, what);
  if (!b.empty()) w.end = window_point(b, clock_hz, what);
  if (w.end < w.begin) throw ConfigError(cat(what, ": the window ends before it begins ('", text, "')"));
  return w;
}

std::string chrome_us(TracePs ps) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%llu.%06llu", static_cast<unsigned long long>(ps / 1000000),
                static_cast<unsigned long long>(ps % 1000000));
  return buf;
}

ChromeTraceWriter::ChromeTraceWriter(std::string path, TraceWindow window)
    : path_(std::move(path)), partial_(path_ + ".partial"), window_(window) {
  out_.open(partial_, std::ios::binary | std::ios::trunc);
  if (!out_) throw ConfigError(cat("trace: cannot write '", partial_, "'"));
  out_ << "{\"displayTimeUnit\": \"ns\",\n\"traceEvents\": [\n";
  group_pid_["kernels"] = kKernelPid;
}

ChromeTraceWriter::~ChromeTraceWriter() {
  if (!finished_) {
    out_.close();
    std::error_code ec;
    std::filesystem::remove(partial_, ec);  // an unfinished run leaves no trace file behind
  }
}

int ChromeTraceWriter::track(const std::string& group, const std::string& name) {
  const auto key = std::make_pair(group, name);
  if (const auto it = track_ids_.find(key); it != track_ids_.end()) return it->second;
  auto [git, fresh] = group_pid_.emplace(group, static_cast<int>(group_pid_.size()));
  int tid = 1;  // thread ids are per process; 0 is left for the kernel stream
  for (std::size_t i = 0; i < tracks_.size(); ++i)
    if (tracks_[i].pid == git->second) tid = std::max(tid, tracks_[i].tid + 1);
  const int id = static_cast<int>(tracks_.size());
  tracks_.push_back({git->second, tid});
  track_names_.push_back(key);
  track_ids_.emplace(key, id);
  return id;
}

void ChromeTraceWriter::begin_event(const char* ph, const std::string& name, const char* cat, int pid, int tid, TracePs ts) {
  out_ << (events_++ ? ",\n" : "") << "{\"ph\": \"" << ph << "\", \"name\": " << quoted(name);
  if (cat) out_ << ", \"cat\": \"" << cat << "\"";
  out_ << ", \"pid\": " << pid << ", \"tid\": " << tid << ", \"ts\": " << chrome_us(ts);
}

void ChromeTraceWriter::end_event(const TraceArgs& args) {
  if (!args.empty()) {
    out_ << ", \"args\": {";
    for (std::size_t i = 0; i < args.size(); ++i) out_ << (i ? ", " : "") << quoted(args[i].first) << ": " << number(args[i].second);
    out_ << "}";
  }
  out_ << "}";
}

std::string ChromeTraceWriter::async_id(int track, std::uint64_t id) const { return cat("0x", std::hex, track, "_", id); }

void ChromeTraceWriter::slice(int track, const std::string& name, TracePs begin, TracePs end, const TraceArgs& args) {
  if (end < window_.begin || begin > window_.end) return;
  begin = std::max(begin, window_.begin);
  end = std::min(end, window_.end);
  const Track& t = tracks_.at(static_cast<std::size_t>(track));
  begin_event("X", name, nullptr, t.pid, t.tid, begin);
  out_ << ", \"dur\": " << chrome_us(end - begin);
  end_event(args);
}

void ChromeTraceWriter::async_begin(int track, const std::string& name, std::uint64_t id, TracePs ts, const TraceArgs& args) {
  if (!in_window(ts)) return;
  const Track& t = tracks_.at(static_cast<std::size_t>(track));
  const std::string aid = async_id(track, id);
  begin_event("b", name, "request", t.pid, t.tid, ts);
  out_ << ", \"id\": \"" << aid << "\"";
  end_event(args);
  open_[aid] = {track, name};
}

void ChromeTraceWriter::async_end(int track, const std::string& name, std::uint64_t id, TracePs ts) {
  const auto it = open_.find(async_id(track, id));
  if (it == open_.end()) return;  // begun outside the window
  const Track& t = tracks_.at(static_cast<std::size_t>(track));
  begin_event("e", name, "request", t.pid, t.tid, std::min(ts, window_.end));
  out_ << ", \"id\": \"" << it->first << "\"";
  end_event({});
  open_.erase(it);
}

void ChromeTraceWriter::counter(int track, const std::string& name, TracePs ts, double value) {
  if (!in_window(ts)) return;
  const Track& t = tracks_.at(static_cast<std::size_t>(track));
  begin_event("C", track_names_[static_cast<std::size_t>(track)].second + "." + name, nullptr, t.pid, t.tid, ts);
  end_event({{"value", value}});
}

void ChromeTraceWriter::kernel(const std::string& name, TracePs begin, TracePs end) {
  if (end < window_.begin || begin > window_.end) return;
  begin = std::max(begin, window_.begin);
  end = std::min(end, window_.end);
  begin_event("X", name, "kernel", kKernelPid, kKernelTid, begin);
  out_ << ", \"dur\": " << chrome_us(end - begin);
  end_event({{"device", 0}, {"stream", 0}});
}

void ChromeTraceWriter::finish(TracePs end_of_run) {
  if (finished_) return;
  const TracePs close_at = std::min(end_of_run, window_.end);
  for (const auto& [aid, open] : std::map<std::string, Open>(open_)) {
    const Track& t = tracks_.at(static_cast<std::size_t>(open.track));
    begin_event("e", open.name, "request", t.pid, t.tid, close_at);
    out_ << ", \"id\": \"" << aid << "\"";
    end_event({{"still_in_flight", 1}});
  }
  open_.clear();
  // Names of processes and threads (metadata events may come anywhere in the array).
  for (const auto& [group, pid] : group_pid_) {
    begin_event("M", "process_name", nullptr, pid, 0, 0);
    out_ << ", \"args\": {\"name\": " << quoted(pid == kKernelPid ? std::string("GPU 0 (tilesim)") : group) << "}}";
    begin_event("M", "process_sort_index", nullptr, pid, 0, 0);
    out_ << ", \"args\": {\"sort_index\": " << pid << "}}";
  }
  begin_event("M", "thread_name", nullptr, kKernelPid, kKernelTid, 0);
  out_ << ", \"args\": {\"name\": \"stream 0 (kernels)\"}}";
  for (std::size_t i = 0; i < tracks_.size(); ++i) {
    begin_event("M", "thread_name", nullptr, tracks_[i].pid, tracks_[i].tid, 0);
    out_ << ", \"args\": {\"name\": " << quoted(track_names_[i].second) << "}}";
  }
  out_ << "\n],\n\"otherData\": {\"generator\": \"tilesim\", \"time_unit_of_ts\": \"us\", \"window_begin_ps\": "
       << window_.begin << ", \"window_end_ps\": " << (window_.end == UINT64_MAX ? end_of_run : window_.end) << "}\n}\n";
  out_.close();
  if (!out_) throw ConfigError(cat("trace: writing '", partial_, "' failed"));
  std::error_code ec;
  std::filesystem::rename(partial_, path_, ec);
  if (ec) throw ConfigError(cat("trace: cannot move '", partial_, "' to '", path_, "': ", ec.message()));
  finished_ = true;
}

}  // namespace tilesim::traces

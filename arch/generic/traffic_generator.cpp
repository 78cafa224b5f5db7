#include "arch/generic/traffic_generator.hpp"

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/simulator.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<TrafficGenerator> kRegistration(
    "traffic_generator", "issues memory requests (sequential or random, bounded outstanding) and measures latency");
}

ParamSchema TrafficGenerator::param_schema() {
  ParamSchema s;
  s.integer("requests", 1000, "number of requests to issue", 0)
      .quantity("bytes", UnitKind::size, "64B", "bytes per request", 1, 1u << 30)
      .choice("pattern", "sequential", {"sequential", "random"}, "address pattern within the footprint")
      .quantity("footprint", UnitKind::size, "1MiB", "addresses wrap within this many bytes", 1)
      .integer("max_outstanding", 64, "requests in flight at most (1 = dependent chain, a latency probe)", 1)
      .integer("issue_interval", 1, "cycles between two issue slots at least", 1)
      .integer("issue_width", 1, "requests issued per issue slot at most (one port, several lanes)", 1, 1024)
      .real("write_fraction", 0.0, "fraction of requests that are writes", 0.0, 1.0)
      .string("kernel", "", "if set, the generator's activity is a kernel scope of this name in the stats")
      .quantity("start_delay", UnitKind::time, "0ns", "simulated time before the first request");
  return s;
}

TrafficGenerator::TrafficGenerator(const ComponentContext& ctx)
    : Component(ctx),
      total_(static_cast<std::uint64_t>(params().integer("requests"))),
      bytes_(static_cast<std::uint32_t>(params().bytes("bytes"))),
      random_(params().string("pattern") == "random"),
      footprint_(params().bytes("footprint")),
      max_outstanding_(static_cast<std::uint64_t>(params().integer("max_outstanding"))),
      interval_(static_cast<std::uint64_t>(params().integer("issue_interval"))),
      width_(static_cast<std::uint64_t>(params().integer("issue_width"))),
      write_fraction_(params().real("write_fraction")),
      kernel_(params().string("kernel")),
      start_delay_(params().ticks("start_delay")),
      rng_(seed()),
      st_issued_(stats().counter("requests_issued", "", "requests sent")),
      st_completed_(stats().counter("requests_completed", "", "responses received")),
      st_bytes_read_(stats().counter("bytes_read", "B", "bytes read")),
      st_bytes_written_(stats().counter("bytes_written", "B", "bytes written")),
      st_bytes_(stats().counter("bytes", "B", "bytes moved (read + written)")),
      st_span_ps_(stats().counter("span", "ps", "time from the first issue to the last response")),
      st_credit_stalls_(stats().counter("credit_stalls", "", "times the request link had no free credit")),
      st_latency_ns_(stats().distribution("latency_ns", "ns", "request round-trip latency")),
      st_latency_cycles_(stats().distribution("latency_cycles", "cycles", "request round-trip latency")) {
  stats().ratio("achieved_bandwidth", "B/s", "bytes / span", "bytes", "span", 1e12);
  if (bytes_ > footprint_)
    throw ConfigError(cat("components.", name(), ": bytes (", bytes_, ") exceeds footprint (", footprint_, ")"));
}

void TrafficGenerator::init() {
  trace_ = sim().trace();
  if (trace_) track_ = trace_->track("requesters", name());
  if (total_ > 0) wake_at(clock().cycle_at_or_after(start_delay_));
}

std::uint64_t TrafficGenerator::next_address() {
  const std::uint64_t slots = footprint_ / bytes_;
  if (random_) return (rng_() % slots) * bytes_;
  const std::uint64_t a = (cursor_ % slots) * bytes_;
  ++cursor_;
  return a;
}

bool TrafficGenerator::can_issue(Cycle now) const {
  return issued_ < total_ && outstanding_ < max_outstanding_ && now >= next_issue_;
}

bool TrafficGenerator::tick(Cycle now) {
  const Tick t = clock().now_tick();
  if (!started_) {
    started_ = true;
    if (!kernel_.empty()) sim().begin_kernel(kernel_);
  }
  while (resp_.ready()) {
    const MemResponse r = resp_.pop();
    const Tick lat = t - r.req.issued;
    st_latency_ns_.sample(static_cast<double>(lat) * 1e-3);
    st_latency_cycles_.sample(static_cast<double>(lat) * static_cast<double>(clock().frequency_hz()) * 1e-12);
    if (trace_) trace_->async_end(track_, r.req.is_write() ? "write" : "read", r.req.id, t);
    --outstanding_;
    ++completed_;
    ++st_completed_;
    note_progress();
    if (completed_ == total_) {
      st_span_ps_ += t - first_issue_;
      if (!kernel_.empty()) sim().end_kernel();
    }
  }
  blocked_on_credit_ = false;
  const std::uint64_t issued_before = issued_;
  for (std::uint64_t lane = 0; lane < width_ && can_issue(now); ++lane) {
    if (req_.can_send()) {
      MemRequest m;
      m.id = issued_;
      m.addr = next_address();
      m.bytes = bytes_;
      const bool write = write_fraction_ > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < write_fraction_;
      m.op = write ? MemOp::write : MemOp::read;
      m.issued = t;
      if (issued_ == 0) first_issue_ = t;
      req_.send(m);
      if (trace_ && trace_->in_window(t))
        trace_->async_begin(track_, write ? "write" : "read", m.id, t,
                            {{"addr", static_cast<double>(m.addr)}, {"bytes", static_cast<double>(m.bytes)}});
      ++issued_;
      ++outstanding_;
      ++st_issued_;
      (write ? st_bytes_written_ : st_bytes_read_) += bytes_;
      st_bytes_ += bytes_;
    } else {
      blocked_on_credit_ = true;  // woken when a credit frees
      ++st_credit_stalls_;
      break;
    }
  }
  if (issued_ != issued_before) next_issue_ = now + interval_;
  if (trace_ && outstanding_ != traced_outstanding_) {  // occupancy: requests in flight, sampled when it changes
    trace_->counter(track_, "in_flight", t, static_cast<double>(outstanding_));
    traced_outstanding_ = outstanding_;
  }
  if (blocked_on_credit_) return false;
  if (issued_ < total_ && outstanding_ < max_outstanding_) {
    if (next_issue_ == now + 1) return true;
    wake_at(next_issue_);
  }
  return false;  // otherwise a response arrival wakes us
}

bool TrafficGenerator::busy() const { return completed_ < total_; }

std::string TrafficGenerator::waiting_on() const {
  if (blocked_on_credit_) return cat("a free credit on its link ", req_.full_name(), " -> ", req_.peer_name());
  return cat(outstanding_, " responses on ", resp_.full_name(), " (", completed_, " of ", total_, " completed)");
}

double TrafficGenerator::progress_fraction() const {
  return total_ == 0 ? 1.0 : static_cast<double>(completed_) / static_cast<double>(total_);
}

std::vector<std::string> TrafficGenerator::report_lines(const std::vector<StatValue>& totals) const {
  auto get = [&](const std::string& n) { return stat_value(totals, n); };
  return {cat(format_number(get("requests_completed")), " requests of ", bytes_, " B (",
              random_ ? "random" : "sequential", ", up to ", max_outstanding_, " in flight)"),
          cat("latency: mean ", format_number(get("latency_ns.mean"), 4), " ns (", format_number(get("latency_cycles.mean"), 4),
              " cycles), min ", format_number(get("latency_ns.min"), 4), " ns, max ", format_number(get("latency_ns.max"), 4), " ns"),
          cat("achieved bandwidth: ", format_quantity(get("achieved_bandwidth"), UnitKind::bandwidth))};
}

}  // namespace tilesim

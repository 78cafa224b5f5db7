#include "arch/generic/fixed_latency_memory.hpp"

#include <algorithm>
#include <cmath>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/simulator.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace {
const RegisterComponent<FixedLatencyMemory> kRegistration(
    "fixed_latency_memory", "memory with a fixed latency behind one data bus of fixed bandwidth (FIFO service)");
}

ParamSchema FixedLatencyMemory::param_schema() {
  ParamSchema s;
  s.quantity("latency", UnitKind::time, "100ns", "access latency added after a request's data transfer")
      .quantity("bandwidth", UnitKind::bandwidth, "1TB/s", "data-bus bandwidth (the saturation peak)", 1)
      .integer("trace_interval", 256, "timeline only: cycles per bandwidth-counter sample", 1);
  return s;
}

FixedLatencyMemory::FixedLatencyMemory(const ComponentContext& ctx)
    : Component(ctx),
      latency_(params().ticks("latency")),
      bytes_per_second_(params().quantity("bandwidth")),
      counter_interval_(static_cast<Tick>(std::llround(static_cast<double>(params().integer("trace_interval")) * 1e12 /
                                                       static_cast<double>(clock().frequency_hz())))),
      st_reads_(stats().counter("reads", "", "read requests served")),
      st_writes_(stats().counter("writes", "", "write requests served")),
      st_bytes_(stats().counter("bytes", "B", "bytes transferred")),
      st_bus_busy_ps_(stats().counter("bus_busy", "ps", "time the data bus was transferring")) {}

void FixedLatencyMemory::init() {
  trace_ = sim().trace();
  if (trace_) track_ = trace_->track("memory", name());
}

void FixedLatencyMemory::trace_transfer(Tick start, Tick transfer, std::uint32_t bytes) {
  if (trace_->in_window(start)) trace_->slice(track_, "transfer", start, start + transfer, {{"bytes", static_cast<double>(bytes)}});
  const Tick bucket = start / counter_interval_ * counter_interval_;
  if (bucket != bucket_start_) {
    flush_bandwidth(bucket);
    bucket_start_ = bucket;
  }
  bucket_bytes_ += bytes;
}

void FixedLatencyMemory::flush_bandwidth(Tick next_bucket) {
  if (bucket_bytes_ == 0) return;
  trace_->counter(track_, "bandwidth_GBps", bucket_start_,
                  static_cast<double>(bucket_bytes_) * 1e3 / static_cast<double>(counter_interval_));
  // Counters are steps: drop to zero when the next busy interval is not the adjacent one.
  if (next_bucket != bucket_start_ + counter_interval_) trace_->counter(track_, "bandwidth_GBps", bucket_start_ + counter_interval_, 0);
  bucket_bytes_ = 0;
}

void FixedLatencyMemory::finish() {
  if (trace_) flush_bandwidth(0);
}

bool FixedLatencyMemory::tick(Cycle now) {
  const Tick t = clock().now_tick();
  while (req_.ready()) {
    const MemRequest r = req_.pop();
    // Transfer time in ps, carrying the fractional remainder so that the long-run rate is exact.
    const double exact = static_cast<double>(r.bytes) * 1e12 / bytes_per_second_ + bus_fraction_;
    const Tick transfer = static_cast<Tick>(std::floor(exact));
    bus_fraction_ = exact - static_cast<double>(transfer);
    const Tick start = std::max(t, bus_free_);
    bus_free_ = start + transfer;
    st_bus_busy_ps_ += transfer;
    if (trace_) trace_transfer(start, transfer, r.bytes);
    pending_.push_back({bus_free_ + latency_, MemResponse{r}});
    (r.is_write() ? st_writes_ : st_reads_) += 1;
    st_bytes_ += r.bytes;
  }
  while (!pending_.empty() && pending_.front().done <= t) {
    resp_.send(pending_.front().resp, Priority::response);
    pending_.pop_front();
    note_progress();
  }
  if (!pending_.empty()) wake_at(std::max(clock().cycle_at_or_after(pending_.front().done), now + 1));
  return false;  // new requests wake us on arrival
}

std::string FixedLatencyMemory::waiting_on() const {
  return cat("its access timer: ", pending_.size(), " responses pending, next at ",
             pending_.empty() ? 0 : pending_.front().done, " ps");
}

std::vector<std::string> FixedLatencyMemory::report_lines(const std::vector<StatValue>& totals) const {
  double bytes = 0, busy = 0;
  for (const auto& v : totals) {
    if (v.name == "bytes") bytes = v.value;
    if (v.name == "bus_busy") busy = v.value;
  }
  return {cat("served ", format_quantity(bytes, UnitKind::size), "; data bus busy ",
              format_quantity(busy * 1e-12, UnitKind::time), " (peak ",
              format_quantity(bytes_per_second_, UnitKind::bandwidth), ", latency ",
              format_quantity(static_cast<double>(latency_) * 1e-12, UnitKind::time), ")")};
}

}  // namespace tilesim

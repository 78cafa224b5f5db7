// A memory endpoint with a fixed access latency behind a single data bus of fixed bandwidth. Requests
// are served in arrival order: a request's data occupies the bus for bytes / bandwidth, and its response
// leaves `latency` after its transfer ends (at the next edge of this component's clock). Unloaded
// latency is therefore latency + bytes / bandwidth, and under load throughput saturates at `bandwidth`.
// It is the stand-in memory for the foundation demo and for testing requesters; the detailed hierarchy
// (caches, NoC, DRAM timing) lives in arch/memory.
#pragma once

#include <deque>

#include "arch/memory/request.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"
#include "traces/trace_sink.hpp"

namespace tilesim {

class FixedLatencyMemory final : public Component {
 public:
  static ParamSchema param_schema();
  explicit FixedLatencyMemory(const ComponentContext& ctx);

  void init() override;
  bool tick(Cycle now) override;
  void finish() override;
  bool busy() const override { return !pending_.empty(); }
  std::string waiting_on() const override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

 private:
  struct Pending {
    Tick done;  // response may leave at the first edge at or after this
    MemResponse resp;
  };

  InPort<MemRequest> req_{*this, "req", "MemRequest"};
  OutPort<MemResponse> resp_{*this, "resp", "MemResponse"};

  const Tick latency_;
  const double bytes_per_second_;
  Tick bus_free_ = 0;                 // when the data bus finishes its last transfer
  double bus_fraction_ = 0;           // sub-picosecond remainder of transfer times (keeps the peak exact)
  std::deque<Pending> pending_;       // done times are non-decreasing (FIFO service)

  // timeline (when the run writes one): bus transfers as slices, bus bandwidth per interval as a counter
  void trace_transfer(Tick start, Tick transfer, std::uint32_t bytes);
  void flush_bandwidth(Tick next_bucket);
  traces::TraceSink* trace_ = nullptr;
  int track_ = -1;
  const Tick counter_interval_;
  Tick bucket_start_ = 0;
  std::uint64_t bucket_bytes_ = 0;

  Counter& st_reads_;
  Counter& st_writes_;
  Counter& st_bytes_;
  Counter& st_bus_busy_ps_;
};

}  // namespace tilesim

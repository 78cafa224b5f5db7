// A request generator: issues `requests` memory requests of `bytes` each, sequential or random within a
// footprint, with at most `max_outstanding` in flight (1 = a dependent chain, i.e. a latency probe) and
// at least `issue_interval` cycles between issues. Used to drive memory models before core models run
// programs, and by the foundation demo.
#pragma once

#include <cstdint>
#include <random>

#include "arch/memory/request.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"
#include "traces/trace_sink.hpp"

namespace tilesim {

class TrafficGenerator final : public Component {
 public:
  static ParamSchema param_schema();
  explicit TrafficGenerator(const ComponentContext& ctx);

  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override;
  std::string waiting_on() const override;
  double progress_fraction() const override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

 private:
  std::uint64_t next_address();
  bool can_issue(Cycle now) const;

  OutPort<MemRequest> req_{*this, "req", "MemRequest"};
  InPort<MemResponse> resp_{*this, "resp", "MemResponse"};

  // spec
  const std::uint64_t total_;
  const std::uint32_t bytes_;
  const bool random_;
  const std::uint64_t footprint_;
  const std::uint64_t max_outstanding_;
  const std::uint64_t interval_;
  const std::uint64_t width_;
  const double write_fraction_;
  const std::string kernel_;
  const Tick start_delay_;

  // state
  std::mt19937_64 rng_;
  bool started_ = false;
  bool blocked_on_credit_ = false;
  std::uint64_t issued_ = 0, completed_ = 0, outstanding_ = 0;
  std::uint64_t cursor_ = 0;
  Cycle next_issue_{0};
  Tick first_issue_ = 0;

  // timeline (when the run writes one): each request as an async event, in-flight count as a counter
  traces::TraceSink* trace_ = nullptr;
  int track_ = -1;
  std::uint64_t traced_outstanding_ = UINT64_MAX;

  // stats
  Counter& st_issued_;
  Counter& st_completed_;
  Counter& st_bytes_read_;
  Counter& st_bytes_written_;
  Counter& st_bytes_;
  Counter& st_span_ps_;
  Counter& st_credit_stalls_;
  Distribution& st_latency_ns_;
  Distribution& st_latency_cycles_;
};

}  // namespace tilesim

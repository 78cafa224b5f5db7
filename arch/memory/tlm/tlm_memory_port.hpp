// `tlm_memory_port`: the memory-side boundary as a SystemC TLM-2.0 initiator. It has the same ports as
// `hbm_controller` (req: InPort<MemRequest>, resp: OutPort<MemResponse> carrying the request unchanged),
// so it can take the DRAM controller's place behind an L2 slice or a traffic generator, and forwards each
// request as a tlm::tlm_generic_payload (TLM_READ_COMMAND / TLM_WRITE_COMMAND, address = the request's
// address, length = streaming width = its bytes, no byte enables) through a
// tlm_utils::simple_initiator_socket to whatever TLM-2.0 target is bound to it.
//
// Timing semantics (loosely timed, blocking transport):
//  - arrival: the port's first clock edge at or after the request message arrives;
//  - the port calls b_transport(payload, delay) with delay = 0 at the arrival time, from its own
//    SC_THREAD, one transaction after another in arrival order; the target may annotate `delay` and may
//    also call wait() (both count);
//  - completion = the simulation time when b_transport returns + the annotated delay; the response leaves
//    at the port's first clock edge at or after completion, and strictly after the time b_transport
//    returned (a target that wait()s until exactly an edge gets the next one: that edge's ticking may
//    already be over);
//  - responses leave in order of completion time (ties: arrival order), so a target with a fixed delay
//    that never waits answers in arrival order with latency = link latencies + delay, rounded up to edges;
//  - a payload that returns with an error response status stops the simulation with an error naming the
//    address and the status.
// Data: requests carry no data, so the port writes a deterministic pattern (a hash of the byte address and
// the write's sequence number); with check_data it remembers the bytes it wrote and counts read bytes that
// come back different (data_mismatches): an end-to-end check that a target stores and returns data.
//
// Binding: a socket must be bound before the simulation starts (SystemC elaboration). With
// `target: builtin` the port creates and binds a fixed-latency, data-storing target itself (so it runs from
// its defaults); with `target: external` bind your own before Simulator::run():
//     auto& port = dynamic_cast<TlmMemoryPort&>(sim.component("mem"));
//     port.socket().bind(my_target.socket);
#pragma once

#include <cstdint>
#include <memory>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include <tlm>

#include "arch/memory/request.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"

namespace tilesim {

namespace tlm_boundary {
class InitiatorModule;
class FixedLatencyTarget;
}  // namespace tlm_boundary

class TlmMemoryPort final : public Component {
 public:
  static ParamSchema param_schema();
  explicit TlmMemoryPort(const ComponentContext& ctx);
  ~TlmMemoryPort() override;

  /// The initiator socket (32-bit bus width, base protocol). Bind a target to it before the run.
  tlm::tlm_initiator_socket<32>& socket();

  void init() override;
  bool tick(Cycle now) override;
  bool busy() const override { return in_flight_ > 0; }
  std::string waiting_on() const override;
  std::vector<std::string> report_lines(const std::vector<StatValue>& totals) const override;

 private:
  friend class tlm_boundary::InitiatorModule;
  struct Transaction {
    MemResponse resp;
    tlm::tlm_generic_payload payload;
    std::vector<unsigned char> data;
    std::uint64_t seq = 0;
    std::uint64_t write_seq = 0;
    Tick arrival = 0;
    Tick done = 0;
  };
  struct Due {
    Tick done;
    std::uint64_t seq;
    std::uint32_t slot;
    bool operator>(const Due& o) const { return done != o.done ? done > o.done : seq > o.seq; }
  };

  /// Called by the initiator thread when b_transport has returned for slot `slot` at `completion`.
  void transport_done(std::uint32_t slot, Tick completion);
  std::uint32_t allocate_slot();
  void fill_write_data(Transaction& t);
  void check_read_data(const Transaction& t);

  InPort<MemRequest> req_{*this, "req", "MemRequest"};
  OutPort<MemResponse> resp_{*this, "resp", "MemResponse"};

  const bool external_target_;
  const bool check_data_;
  std::unique_ptr<tlm_boundary::InitiatorModule> initiator_;
  std::unique_ptr<tlm_boundary::FixedLatencyTarget> builtin_target_;

  std::vector<std::unique_ptr<Transaction>> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  std::unordered_map<std::uint64_t, std::uint8_t> written_;  // check_data: last byte written per address
  std::uint64_t next_seq_ = 0;
  std::uint64_t writes_issued_ = 0;
  std::uint64_t in_flight_ = 0;
  bool response_blocked_ = false;

  Counter& st_reads_;
  Counter& st_writes_;
  Counter& st_bytes_;
  Counter& st_checked_;
  Counter& st_mismatches_;
  Distribution& st_latency_ns_;
  Distribution& st_target_delay_ns_;
};

}  // namespace tilesim

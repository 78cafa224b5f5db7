#include "arch/memory/tlm/tlm_memory_port.hpp"

#include <cctype>
#include <deque>

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "sim/clock_domain.hpp"
#include "sim/component_registry.hpp"
#include "sim/error.hpp"
#include "sim/simulator.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

namespace tlm_boundary {

/// SystemC object names may not contain '.', and must be unique: derive one from the component name.
std::string sc_name_for(const std::string& prefix, const std::string& component) {
  std::string out = prefix;
  for (const char c : component) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

/// Owns the socket and the thread that performs blocking transport, so that targets may call wait().
class InitiatorModule final : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(InitiatorModule);
  InitiatorModule(const sc_core::sc_module_name& name, TlmMemoryPort& owner)
      : sc_core::sc_module(name), socket("socket"), owner_(owner) {
    SC_THREAD(run);
  }

  tlm_utils::simple_initiator_socket<InitiatorModule> socket;

  void submit(std::uint32_t slot) {
    pending_.push_back(slot);
    kick_.notify(sc_core::SC_ZERO_TIME);
  }

 private:
  void run() {
    for (;;) {
      while (pending_.empty()) wait(kick_);
      const std::uint32_t slot = pending_.front();
      pending_.pop_front();
      sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
      socket->b_transport(owner_.slots_[slot]->payload, delay);
      owner_.transport_done(slot, static_cast<Tick>((sc_core::sc_time_stamp() + delay).value()));
    }
  }

  TlmMemoryPort& owner_;
  std::deque<std::uint32_t> pending_;
  sc_core::sc_event kick_;
};

/// The built-in target: a fixed annotated delay per transaction, and storage for the bytes written.
class FixedLatencyTarget final : public sc_core::sc_module {
 public:
  FixedLatencyTarget(const sc_core::sc_module_name& name, sc_core::sc_time latency)
      : sc_core::sc_module(name), socket("socket"), latency_(latency) {
    socket.register_b_transport(this, &FixedLatencyTarget::b_transport);
  }

  tlm_utils::simple_target_socket<FixedLatencyTarget> socket;

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    if (p.get_byte_enable_ptr() != nullptr) return p.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    if (p.get_streaming_width() < p.get_data_length()) return p.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    unsigned char* data = p.get_data_ptr();
    const std::uint64_t base = p.get_address();
    if (p.is_write()) {
      for (unsigned i = 0; i < p.get_data_length(); ++i) bytes_[base + i] = data[i];
    } else if (p.is_read()) {
      for (unsigned i = 0; i < p.get_data_length(); ++i) {
        const auto it = bytes_.find(base + i);
        data[i] = it == bytes_.end() ? 0 : it->second;
      }
    } else {
      return p.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    }
    delay += latency_;
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }

  sc_core::sc_time latency_;
  std::unordered_map<std::uint64_t, unsigned char> bytes_;
};

}  // namespace tlm_boundary

namespace {
const RegisterComponent<TlmMemoryPort> kRegistration(
    "tlm_memory_port", "memory boundary as a TLM-2.0 initiator socket (b_transport) to a built-in or bound target");

/// A byte that differs per address and per write, so stale or misplaced data shows.
std::uint8_t pattern_byte(std::uint64_t addr, std::uint64_t write_seq) {
  std::uint64_t x = addr * 0x9E3779B97F4A7C15ull ^ (write_seq + 1) * 0xC2B2AE3D27D4EB4Full;
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 32;
  return static_cast<std::uint8_t>(x);
}
}  // namespace

ParamSchema TlmMemoryPort::param_schema() {
  ParamSchema s;
  s.choice("target", "builtin", {"builtin", "external"},
           "builtin: create and bind a fixed-latency target that stores data; external: bind your own "
           "TLM-2.0 target to socket() before the run")
      .quantity("target_latency", UnitKind::time, "50ns", "the built-in target's annotated delay per transaction")
      .boolean("check_data", false, "remember written bytes and count read bytes that come back different");
  return s;
}

TlmMemoryPort::TlmMemoryPort(const ComponentContext& ctx)
    : Component(ctx),
      external_target_(params().string("target") == "external"),
      check_data_(params().boolean("check_data")),
      initiator_(std::make_unique<tlm_boundary::InitiatorModule>(
          tlm_boundary::sc_name_for("tlm_port_", name()).c_str(), *this)),
      st_reads_(stats().counter("reads", "", "read transactions (atomics included)")),
      st_writes_(stats().counter("writes", "", "write transactions")),
      st_bytes_(stats().counter("bytes", "B", "bytes transferred")),
      st_checked_(stats().counter("data_checked_bytes", "B", "read bytes compared with what was written")),
      st_mismatches_(stats().counter("data_mismatches", "B", "read bytes that differ from what was written")),
      st_latency_ns_(stats().distribution("latency_ns", "ns", "request arrival to response")),
      st_target_delay_ns_(stats().distribution("target_delay_ns", "ns", "arrival to completion: the annotated delay plus any wait() in b_transport")) {
  if (!external_target_) {
    builtin_target_ = std::make_unique<tlm_boundary::FixedLatencyTarget>(
        tlm_boundary::sc_name_for("tlm_target_", name()).c_str(),
        sc_core::sc_time::from_value(params().ticks("target_latency")));
    initiator_->socket.bind(builtin_target_->socket);
  }
}

TlmMemoryPort::~TlmMemoryPort() = default;

tlm::tlm_initiator_socket<32>& TlmMemoryPort::socket() { return initiator_->socket; }

void TlmMemoryPort::init() {
  if (initiator_->socket.get_base_port().bind_count() == 0)
    throw ConfigError(cat(params().path(), ".target: 'external', but no TLM-2.0 target is bound to the socket of ",
                          name(), "; bind one with socket().bind(...) before running, or use target: builtin"));
}

std::uint32_t TlmMemoryPort::allocate_slot() {
  if (free_slots_.empty()) {
    slots_.push_back(std::make_unique<Transaction>());
    return static_cast<std::uint32_t>(slots_.size() - 1);
  }
  const std::uint32_t s = free_slots_.back();
  free_slots_.pop_back();
  return s;
}

void TlmMemoryPort::fill_write_data(Transaction& t) {
  t.write_seq = writes_issued_++;
  const std::uint64_t base = t.resp.req.addr;
  for (std::size_t i = 0; i < t.data.size(); ++i) {
    t.data[i] = pattern_byte(base + i, t.write_seq);
    if (check_data_) written_[base + i] = t.data[i];
  }
}

void TlmMemoryPort::check_read_data(const Transaction& t) {
  const std::uint64_t base = t.resp.req.addr;
  for (std::size_t i = 0; i < t.data.size(); ++i) {
    const auto it = written_.find(base + i);
    if (it == written_.end()) continue;  // never written: any value is right
    ++st_checked_;
    if (t.data[i] != it->second) ++st_mismatches_;
  }
}

void TlmMemoryPort::transport_done(std::uint32_t slot, Tick completion) {
  Transaction& t = *slots_[slot];
  // Writes were recorded when handed over; reads are compared in the same (call) order.
  if (check_data_ && t.payload.is_read() && t.payload.is_response_ok()) check_read_data(t);
  t.done = completion;
  st_target_delay_ns_.sample(static_cast<double>(completion - t.arrival) * 1e-3);
  due_.push({completion, t.seq, slot});
  sim().wake_at_tick(*this, completion);
}

bool TlmMemoryPort::tick(Cycle now) {
  const Tick t = clock().now_tick();
  while (req_.ready()) {
    const std::uint32_t slot = allocate_slot();
    Transaction& x = *slots_[slot];
    x.resp = MemResponse{req_.pop()};
    x.seq = next_seq_++;
    x.arrival = t;
    const MemRequest& r = x.resp.req;
    if (r.bytes == 0) throw SimulationError(cat(name(), ": request ", r.id, " has zero bytes"));
    x.data.assign(r.bytes, 0);
    x.payload.set_command(r.is_write() ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    x.payload.set_address(r.addr);
    x.payload.set_data_ptr(x.data.data());
    x.payload.set_data_length(r.bytes);
    x.payload.set_streaming_width(r.bytes);
    x.payload.set_byte_enable_ptr(nullptr);
    x.payload.set_dmi_allowed(false);
    x.payload.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    if (r.is_write()) fill_write_data(x);
    (r.is_write() ? st_writes_ : st_reads_) += 1;
    st_bytes_ += r.bytes;
    ++in_flight_;
    initiator_->submit(slot);
  }
  response_blocked_ = false;
  while (!due_.empty() && due_.top().done <= t) {
    if (!resp_.can_send()) {
      response_blocked_ = true;  // a freed credit wakes us
      break;
    }
    const std::uint32_t slot = due_.top().slot;
    due_.pop();
    Transaction& x = *slots_[slot];
    if (!x.payload.is_response_ok())
      throw SimulationError(cat(name(), ": the TLM target answered ", x.payload.get_response_string(), " to a ",
                                x.payload.is_write() ? "write" : "read", " of ", x.resp.req.bytes, " B at address ",
                                x.resp.req.addr));
    st_latency_ns_.sample(static_cast<double>(t - x.arrival) * 1e-3);
    resp_.send(std::move(x.resp), Priority::response);
    free_slots_.push_back(slot);
    --in_flight_;
    note_progress();
  }
  if (!due_.empty() && !response_blocked_)
    wake_at(std::max(clock().cycle_at_or_after(due_.top().done), now + 1));
  return false;  // arrivals, our timer and the initiator thread's completions wake us
}

std::string TlmMemoryPort::waiting_on() const {
  if (response_blocked_) return cat("a free credit on ", resp_.full_name(), " -> ", resp_.peer_name());
  return cat(in_flight_, " TLM transactions: ", in_flight_ - due_.size(), " still inside the target's b_transport, ",
             due_.size(), " waiting for their completion time");
}

std::vector<std::string> TlmMemoryPort::report_lines(const std::vector<StatValue>& totals) const {
  auto get = [&](const std::string& n) { return stat_value(totals, n); };
  std::vector<std::string> lines{cat(format_number(get("reads") + get("writes")), " TLM transactions (",
                                     external_target_ ? "external" : "built-in", " target), mean latency ",
                                     format_number(get("latency_ns.mean"), 4), " ns")};
  if (check_data_)
    lines.push_back(cat("data check: ", format_number(get("data_checked_bytes")), " read bytes compared, ",
                        format_number(get("data_mismatches")), " mismatches"));
  return lines;
}

}  // namespace tilesim

// The memory-side TLM-2.0 boundary: a small TLM target written here (an sc_module with a
// simple_target_socket) takes the HBM controller's place behind a traffic generator, through the
// `tlm_memory_port` adapter. Latency must be the link latencies plus the target's delay, and the data the
// adapter writes must come back on reads.
#include <catch2/catch.hpp>

#include <map>

#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "arch/memory/tlm/tlm_memory_port.hpp"
#include "sim/clock_domain.hpp"
#include "sim/error.hpp"
#include "tests/memory/test_dram_support.hpp"

using namespace tilesim;
using namespace tilesim::test;
using Catch::Matchers::Contains;

namespace {

/// A memory with a fixed access time that stores what is written. `wait_inside` spends the time with
/// wait() instead of annotating it; `corrupt_reads` flips one bit of every read (a broken target);
/// addresses at or above `error_from` get an address error.
class TestTarget final : public sc_core::sc_module {
 public:
  TestTarget(const sc_core::sc_module_name& name, sc_core::sc_time access_time)
      : sc_core::sc_module(name), socket("socket"), access_time_(access_time) {
    socket.register_b_transport(this, &TestTarget::b_transport);
  }
  tlm_utils::simple_target_socket<TestTarget> socket;
  bool wait_inside = false;
  bool corrupt_reads = false;
  std::uint64_t error_from = ~0ull;
  std::map<std::uint64_t, unsigned char> memory;
  std::uint64_t reads = 0, writes = 0;

 private:
  void b_transport(tlm::tlm_generic_payload& p, sc_core::sc_time& delay) {
    if (p.get_address() >= error_from) return p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    unsigned char* data = p.get_data_ptr();
    for (unsigned i = 0; i < p.get_data_length(); ++i) {
      if (p.is_write()) memory[p.get_address() + i] = data[i];
      else data[i] = memory.count(p.get_address() + i) ? memory[p.get_address() + i] : 0;
    }
    if (p.is_read() && corrupt_reads) data[0] ^= 1;
    ++(p.is_write() ? writes : reads);
    if (wait_inside) wait(access_time_);
    else delay += access_time_;
    p.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  sc_core::sc_time access_time_;
};

/// traffic_generator -> tlm_memory_port (external target) -> TestTarget, 1 GHz, 10 ns links, 40 ns target.
struct TlmRig {
  std::unique_ptr<Simulator> sim = empty_simulator();
  ClockDomain& clock = sim->add_clock("core", 1'000'000'000ull);
  TestTarget target{"test_target", sc_core::sc_time(40, sc_core::SC_NS)};

  explicit TlmRig(const std::map<std::string, std::string>& gen_params, bool bind = true) {
    Component& gen = add_component(*sim, clock, "gen", "traffic_generator", gen_params);
    Component& port = add_component(*sim, clock, "mem", "tlm_memory_port", {{"target", "external"}, {"check_data", "true"}});
    if (bind) dynamic_cast<TlmMemoryPort&>(port).socket().bind(target.socket);
    sim->connect(*gen.find_port("req"), *port.find_port("req"), LinkParams{10'000, 0, 0});
    sim->connect(*port.find_port("resp"), *gen.find_port("resp"), LinkParams{10'000, 0, 0});
  }
};

const std::map<std::string, std::string> kMixed = {{"requests", "3000"}, {"bytes", "64B"}, {"pattern", "random"},
                                                   {"footprint", "8KiB"}, {"write_fraction", "0.5"},
                                                   {"max_outstanding", "16"}};

}  // namespace

TEST_CASE("tlm: a TLM target replaces the HBM model: latency = links + target delay, data reads back", "[tlm]") {
  TlmRig rig(kMixed);
  REQUIRE(rig.sim->run().completed);
  // 10 ns + 40 ns annotated + 10 ns, all on 1 GHz edges; 16 in flight do not queue (LT target).
  CHECK(stat(*rig.sim, "gen", "latency_ns.min") == Approx(60));
  CHECK(stat(*rig.sim, "gen", "latency_ns.max") == Approx(60));
  CHECK(stat(*rig.sim, "gen", "requests_completed") == 3000);
  CHECK(rig.target.reads + rig.target.writes == 3000);
  // 8 KiB footprint, ~1500 random 64 B writes: most reads hit written bytes and must return them.
  CHECK(stat(*rig.sim, "mem", "data_checked_bytes") > 50000);
  CHECK(stat(*rig.sim, "mem", "data_mismatches") == 0);
  CHECK(rig.target.memory.size() > 4000);
}

TEST_CASE("tlm: a target that calls wait() inside b_transport is timed by the time it waited", "[tlm]") {
  TlmRig rig({{"requests", "500"}, {"bytes", "64B"}, {"max_outstanding", "1"}, {"write_fraction", "0.5"}});
  rig.target.wait_inside = true;
  REQUIRE(rig.sim->run().completed);
  // b_transport returns 40 ns after the call, exactly on an edge whose ticking may already be over, so
  // the response takes the next edge: 10 + 40 + 1 (one 1 GHz cycle) + 10 ns.
  CHECK(stat(*rig.sim, "gen", "latency_ns.min") == Approx(61));
  CHECK(stat(*rig.sim, "gen", "latency_ns.max") == Approx(61));
  CHECK(stat(*rig.sim, "mem", "data_mismatches") == 0);
}

TEST_CASE("tlm: the data check catches a target that returns wrong data", "[tlm]") {
  TlmRig rig(kMixed);
  rig.target.corrupt_reads = true;
  REQUIRE(rig.sim->run().completed);
  CHECK(stat(*rig.sim, "mem", "data_mismatches") > 100);
}

TEST_CASE("tlm: an error response stops the run and names the address", "[tlm]") {
  TlmRig rig({{"requests", "100"}, {"bytes", "64B"}, {"footprint", "8KiB"}});
  rig.target.error_from = 4096;
  CHECK_THROWS_WITH(rig.sim->run(), Contains("TLM target answered") && Contains("ADDRESS_ERROR") &&
                                        Contains("at address 4096"));
}

TEST_CASE("tlm: an external target that was never bound is a configuration error", "[tlm]") {
  TlmRig rig({{"requests", "10"}}, /*bind=*/false);
  CHECK_THROWS_AS(rig.sim->run(), ConfigError);
}

TEST_CASE("tlm: the built-in target runs from the defaults", "[tlm]") {
  auto sim = build_yaml(R"(
clocks: {core: 1GHz}
components:
  gen: {kind: traffic_generator, requests: 2000, pattern: random, footprint: 64KiB, write_fraction: 0.3}
  mem: {kind: tlm_memory_port, check_data: true}
links:
  req:  {from: gen.req, to: mem.req, latency: 10ns}
  resp: {from: mem.resp, to: gen.resp, latency: 10ns}
)");
  REQUIRE(sim->run().completed);
  // 10 ns + the built-in target's default 50 ns + 10 ns.
  CHECK(stat(*sim, "gen", "latency_ns.min") == Approx(70));
  CHECK(stat(*sim, "gen", "latency_ns.max") == Approx(70));
  CHECK(stat(*sim, "mem", "data_checked_bytes") > 1000);
  CHECK(stat(*sim, "mem", "data_mismatches") == 0);
}

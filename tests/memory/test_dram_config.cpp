// HBM configuration: units and rounding of timing parameters, the H100 defaults, rejected combinations,
// the address mapping, the controller interleave shared with the NoC, and errors/back-pressure at the
// controller's input.
#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "arch/memory/dram/address_mapping.hpp"
#include "arch/memory/dram/hbm_config.hpp"
#include "sim/config.hpp"
#include "sim/error.hpp"
#include "tests/memory/test_dram_support.hpp"

using namespace tilesim;
using namespace tilesim::dram;
using namespace tilesim::test;
using Catch::Matchers::Contains;

namespace {
ParamValues hbm_params(const std::map<std::string, std::string>& given = {}) {
  return ParamValues::resolve(hbm_param_schema(), given, "components.mem");
}

ParamValues resolve_hbm_section(const YAML::Node& hbm) {
  std::map<std::string, std::string> given;
  for (const auto& kv : hbm) given[kv.first.as<std::string>()] = kv.second.as<std::string>();
  return ParamValues::resolve(hbm_section_schema(), given, "memory.hbm");
}

/// The peak bandwidth (all controllers, B/s) and capacity (bytes) a `memory.hbm` YAML section resolves to.
std::pair<double, std::uint64_t> hbm_section_totals(const YAML::Node& hbm) {
  const ParamValues section = resolve_hbm_section(hbm);
  const auto clock = static_cast<std::uint64_t>(section.quantity("clock"));
  const HbmConfig c = resolve_hbm_config(hbm_controller_params(section, "components.hbm0"), clock);
  const auto controllers = static_cast<std::uint64_t>(section.integer("controllers"));
  return {static_cast<double>(controllers) * c.peak_bytes_per_second(),
          controllers * AddressMapping(c.address_mapping, c.org, "k").capacity()};
}
}  // namespace

TEST_CASE("hbm config: timings are a time rounded up to whole clocks, or cycles", "[dram][config]") {
  CHECK(timing_to_cycles("12.5ns", 1'600'000'000, "k") == 20);      // exactly 20, not 21
  CHECK(timing_to_cycles("19.375ns", 1'308'600'000, "k") == 26);    // 25.35 -> 26
  CHECK(timing_to_cycles("3.9us", 1'600'000'000, "k") == 6240);
  CHECK(timing_to_cycles("4cycles", 1'600'000'000, "k") == 4);
  CHECK(timing_to_cycles("4", 1'600'000'000, "k") == 4);
  CHECK_THROWS_WITH(timing_to_cycles("2.5cycles", 1'000'000'000, "memory.hbm.tCCD_L"),
                    Contains("memory.hbm.tCCD_L") && Contains("whole"));
  CHECK_THROWS_WITH(timing_to_cycles("4GHz", 1'000'000'000, "memory.hbm.tRP"),
                    Contains("memory.hbm.tRP") && Contains("a time (12.5ns)"));
}

TEST_CASE("hbm config: the defaults are HBM3 as on H100 SXM5", "[dram][config]") {
  // One of ten controllers at the H100 SXM5 command clock (3.35 TB/s / 5120 bits / 4 beats per CK).
  const HbmConfig c = resolve_hbm_config(hbm_params(), 1'308'600'000);
  CHECK(c.org.burst_bytes() == 32);
  CHECK(c.org.columns() == 32);
  CHECK(c.timing.tBURST == 2);
  CHECK(10 * c.peak_bytes_per_second() == Approx(3.35e12).epsilon(0.001));
  const AddressMapping m(c.address_mapping, c.org, "k");
  CHECK(10 * m.capacity() == 80ull << 30);  // 80 GiB
  // At 1.6 GHz the ns defaults give back Ramulator 2's HBM3-6400 cycle counts.
  const HbmTiming t = resolve_hbm_config(hbm_params(), 1'600'000'000).timing;
  CHECK(t.tRCD == 31);
  CHECK(t.tRCD_WR == 15);
  CHECK(t.tRP == 26);
  CHECK(t.tRAS == 45);
  CHECK(t.tRC == 72);
  CHECK(t.tCL == 20);
  CHECK(t.tCWL == 10);
  CHECK(t.tCCD_S == 2);
  CHECK(t.tCCD_L == 4);
  CHECK(t.tRRD_S == 4);
  CHECK(t.tRRD_L == 5);
  CHECK(t.tFAW == 24);
  CHECK(t.tRTP == 9);
  CHECK(t.tWR == 33);
  CHECK(t.tWTR_S == 7);
  CHECK(t.tWTR_L == 10);
  CHECK(t.tRTW == 20);
  CHECK(t.tRFC == 560);
  CHECK(t.tREFI == 6240);
}

TEST_CASE("hbm config: impossible combinations are rejected naming the key", "[dram][config]") {
  const std::uint64_t f = 1'600'000'000;
  CHECK_THROWS_WITH(resolve_hbm_config(hbm_params({{"tCCD_S", "1cycles"}}), f),
                    Contains("components.mem.tCCD_S") && Contains("overlap"));
  CHECK_THROWS_WITH(resolve_hbm_config(hbm_params({{"tRTW", "5cycles"}}), f),
                    Contains("components.mem.tRTW") && Contains("at least 12 cycles"));
  CHECK_THROWS_WITH(resolve_hbm_config(hbm_params({{"tREFI", "300ns"}}), f),
                    Contains("components.mem.tREFI") && Contains("tRFC"));
  CHECK_NOTHROW(resolve_hbm_config(hbm_params({{"tREFI", "300ns"}, {"refresh", "false"}}), f));
  CHECK_THROWS_WITH(resolve_hbm_config(hbm_params({{"burst_length", "6"}}), f),
                    Contains("components.mem.burst_length"));
  CHECK_THROWS_WITH(resolve_hbm_config(hbm_params({{"row_size", "1000B"}}), f), Contains("components.mem.row_size"));
  CHECK_THROWS_WITH(resolve_hbm_config(hbm_params({{"address_mapping", "ro-bank-co-ch-bg"}}), f),
                    Contains("components.mem.address_mapping") && Contains("unknown field 'bank'") &&
                        Contains("did you mean 'ba'"));
  CHECK_THROWS_WITH(resolve_hbm_config(hbm_params({{"address_mapping", "ro-ba-co-ch"}}), f),
                    Contains("field 'bg' is missing"));
  CHECK_THROWS_WITH(resolve_hbm_config(hbm_params({{"tRP", "fast"}}), f), Contains("components.mem.tRP"));
}

TEST_CASE("hbm presets: the README's memory.hbm sections resolve to their products' bandwidth and capacity",
          "[dram][config]") {
  std::ifstream in(std::string(TILESIM_SOURCE_DIR) + "/arch/memory/dram/README.md");
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  struct Expect {
    double bytes_per_second;
    std::uint64_t capacity;
  };
  const std::map<std::string, Expect> expected = {
      {"hbm3_h100_sxm5", {3.35e12, 80ull << 30}},   // NVIDIA H100 SXM5: 3.35 TB/s, 80 GB
      {"hbm2e_a100_80gb", {2.039e12, 80ull << 30}},  // NVIDIA A100 80GB SXM: 2039 GB/s
      {"hbm3e_b200", {7.67232e12, 180ull << 30}},    // NVIDIA B200: 7680-bit bus at 7.992 Gb/s, 180 GB enabled
  };
  const std::string marker = "```yaml\n# preset: ";
  std::size_t found = 0;
  for (std::size_t at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
    const std::size_t name_at = at + marker.size(), body_end = text.find("```", at + 7);
    const std::string name = text.substr(name_at, text.find('\n', name_at) - name_at);
    INFO("preset " << name);
    REQUIRE(expected.count(name) == 1);
    const YAML::Node hbm = YAML::Load(text.substr(at + 7, body_end - at - 7))["memory"]["hbm"];
    const auto [peak, capacity] = hbm_section_totals(hbm);
    CHECK(peak == Approx(expected.at(name).bytes_per_second).epsilon(0.001));
    CHECK(capacity == expected.at(name).capacity);
    if (name == "hbm3_h100_sxm5") {  // the defaults are this preset
      const ParamValues preset = hbm_controller_params(resolve_hbm_section(hbm), "p"), defaults = hbm_params();
      for (const auto& [key, value] : preset.all()) CHECK(value.text == defaults.all().at(key).text);
    }
    ++found;
  }
  CHECK(found == expected.size());
}

TEST_CASE("hbm presets: the device presets' memory.hbm sections give the buses software sees", "[dram][config]") {
  // B200: 7680 of the 8192 bits built are enabled (ARCH.md), at the 3996 MHz memory clock nvidia-smi reports.
  const std::map<std::string, std::pair<double, std::uint64_t>> expected = {
      {"b200", {7680 / 8.0 * 7.992e9, 180ull << 30}},
      {"h100_sxm5", {3.35e12, 80ull << 30}},
      {"h200", {4.8e12, 144ull << 30}},  // NVIDIA H200: 4.8 TB/s; six 24 GB stacks built, 141 GB visible
      // GDDR behind the same controller model: 384 bits x 21 Gb/s (Ada whitepaper), 384 x 18 (L40 datasheet),
      // 256 x 14 (Turing whitepaper); 24, 48 and 8 GB.
      {"rtx4090", {384 / 8.0 * 21e9, 24ull << 30}},
      {"l40", {384 / 8.0 * 18e9, 48ull << 30}},
      {"rtx2070", {256 / 8.0 * 14e9, 8ull << 30}},
  };
  for (const auto& [preset, want] : expected) {
    INFO("preset " << preset);
    ConfigTree tree;  // with its `inherits` chain: l40's section only overrides rtx4090's clock and rows
    tree.merge_file(find_preset(preset));
    const auto [peak, capacity] = hbm_section_totals(tree.find("memory.hbm"));
    CHECK(peak == Approx(want.first).epsilon(0.001));
    CHECK(capacity == want.second);
  }
}

TEST_CASE("hbm address mapping: the documented fields, a bijection", "[dram][config]") {
  const HbmConfig c = resolve_hbm_config(hbm_params(), 1'600'000'000);
  const AddressMapping m(c.address_mapping, c.org, "k");
  CHECK(m.describe() == "[4:0] offset | [7:5] bank group | [11:8] channel | [16:12] column | [18:17] bank | [32:19] row");
  // A sequential stream: the next burst is the next bank group, 256 B later the next channel, 4 KiB
  // later the next column, 128 KiB later the next bank, 512 KiB later the next row.
  CHECK(m.decode(31) == DramCoord{0, 0, 0, 0, 0});
  CHECK(m.decode(32) == DramCoord{0, 1, 0, 0, 0});
  CHECK(m.decode(256) == DramCoord{1, 0, 0, 0, 0});
  CHECK(m.decode(4096) == DramCoord{0, 0, 0, 0, 1});
  CHECK(m.decode(128 << 10) == DramCoord{0, 0, 1, 0, 0});
  CHECK(m.decode(512 << 10) == DramCoord{0, 0, 0, 1, 0});
  std::mt19937_64 rng(1);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t a = rng() % m.capacity() / 32 * 32;
    CHECK(m.encode(m.decode(a)) == a);
  }
  // Non-power-of-two counts are digits, not bit fields: 24576 rows (a 24 Gb HBM3e die).
  HbmOrganization o = c.org;
  o.rows = 24576;
  const AddressMapping odd("ro-ba-co-ch-bg", o, "k");
  CHECK(odd.capacity() == 24576ull * 32 * 16 * 32 * 32);
  CHECK(odd.decode(odd.capacity() - 32).row == 24575);
}

TEST_CASE("hbm address mapping: a split column (coN) changes channel every N bursts", "[dram][config]") {
  const HbmConfig c = resolve_hbm_config(hbm_params(), 1'600'000'000);
  const AddressMapping m("ro-ba-bg-co-ch-co4", c.org, "k");
  CHECK(m.describe() == "[4:0] offset | [6:5] column (low) | [10:7] channel | [13:11] column (high) | "
                        "[16:14] bank group | [18:17] bank | [32:19] row");
  // One 128 B line is 4 bursts of one row in one channel; the next line is the next channel; 2 KiB later the
  // same channel's row continues at column 4.
  CHECK(m.decode(32) == DramCoord{0, 0, 0, 0, 1});
  CHECK(m.decode(96) == DramCoord{0, 0, 0, 0, 3});
  CHECK(m.decode(128) == DramCoord{1, 0, 0, 0, 0});
  CHECK(m.decode(2048) == DramCoord{0, 0, 0, 0, 4});
  CHECK(m.decode(2048 + 96) == DramCoord{0, 0, 0, 0, 7});
  CHECK(m.decode(16 << 10) == DramCoord{0, 1, 0, 0, 0});
  CHECK(m.decode(512 << 10) == DramCoord{0, 0, 0, 1, 0});
  CHECK(m.capacity() == AddressMapping(c.address_mapping, c.org, "k").capacity());
  std::mt19937_64 rng(3);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t a = rng() % m.capacity() / 32 * 32;
    CHECK(m.encode(m.decode(a)) == a);
  }
  // Every burst of one row is reached exactly once.
  std::set<std::uint32_t> columns;
  for (std::uint64_t a = 0; a < 16 << 10; a += 32)
    if (m.decode(a).channel == 5) columns.insert(m.decode(a).column);
  CHECK(columns.size() == 32);
  CHECK_THROWS_WITH(AddressMapping("ro-ba-bg-co-ch-co3", c.org, "memory.hbm.address_mapping"),
                    Contains("memory.hbm.address_mapping") && Contains("co3") && Contains("power of two"));
  CHECK_THROWS_WITH(AddressMapping("ro-ba-bg-co4-ch-co", c.org, "k"), Contains("below 'co'"));
  CHECK_THROWS_WITH(AddressMapping("ro-ba-bg-ch-co64", c.org, "k"), Contains("divides the 32 bursts"));
  CHECK_THROWS_WITH(AddressMapping("ro-ba-bg-ch-co4", c.org, "k"), Contains("'co' is missing"));
}

TEST_CASE("hbm address mapping: XOR channel and bank hashes spread strided streams and stay bijective",
          "[dram][config]") {
  const HbmConfig c = resolve_hbm_config(hbm_params({{"channel_hash", "xor"}, {"bank_hash", "xor"}}), 1'600'000'000);
  CHECK(c.xor_channel);
  CHECK(c.xor_bank);
  const AddressMapping plain(c.address_mapping, c.org, "k");
  const AddressMapping hashed(c.address_mapping, c.org, "k", true, true);
  CHECK_THAT(hashed.describe(), Contains("channel XOR") && Contains("bank group and bank XOR"));
  std::mt19937_64 rng(2);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t a = rng() % hashed.capacity() / 32 * 32;
    CHECK(hashed.encode(hashed.decode(a)) == a);
  }
  // Within one row and column, the 16 channels are still 16 distinct channels (a stream keeps its spread).
  std::set<std::uint32_t> channels;
  for (std::uint64_t ch = 0; ch < 16; ++ch) channels.insert(hashed.decode((123ull << 19) + ch * 256 + 4096 * 5).channel);
  CHECK(channels.size() == 16);
  // 1 KiB pieces at a 4 KiB pitch (a 2-D box's rows): the channel digit is always 0..3, so without the hash
  // the stream camps on 4 of 16 channels; with it, it covers all of them.
  std::set<std::uint32_t> plain_ch, hashed_ch;
  for (std::uint64_t r = 0; r < 256; ++r)
    for (std::uint64_t b = 0; b < 1024; b += 32) {
      plain_ch.insert(plain.decode(r * 4096 + b).channel);
      hashed_ch.insert(hashed.decode(r * 4096 + b).channel);
    }
  CHECK(plain_ch.size() == 4);
  CHECK(hashed_ch.size() == 16);
  // Two rows that meet in one bank without the hash usually meet in different banks with it.
  int same_bank = 0;
  for (std::uint64_t row = 1; row < 1000; ++row) {
    const DramCoord x = hashed.decode(0), y = hashed.decode(row << 19);
    same_bank += x.bank_group == y.bank_group && x.bank == y.bank;
    CHECK(plain.decode(row << 19).bank == 0);
  }
  CHECK(same_bank < 1000 / 16);
  CHECK_THROWS_WITH(AddressMapping("ro-ba-co-ch-bg", [&] { HbmOrganization o = c.org; o.channels = 12; return o; }(),
                                   "memory.hbm.channel_hash", true),
                    Contains("memory.hbm.channel_hash") && Contains("power-of-two"));
}

TEST_CASE("controller interleave: local addresses are dense and map back", "[dram][config]") {
  const ControllerInterleave h100{10, 512};
  std::vector<std::uint64_t> next_local(10, 0);
  for (std::uint64_t g = 0; g < 200 * 512; g += 64) {
    const std::uint32_t c = h100.controller_of(g);
    const std::uint64_t local = h100.local_address(g);
    CHECK(h100.global_address(c, local) == g);
    // Each controller sees its chunks back to back: local addresses fill 0, 64, 128, ... without gaps.
    CHECK(local == next_local[c]);
    next_local[c] = local + 64;
  }
  CHECK(h100.controller_of(512 * 13) == 3);
  CHECK(h100.local_address(512 * 13 + 5) == 512 + 5);
}

TEST_CASE("hbm config: a memory.hbm section carries the controller's parameters", "[dram][config]") {
  const ParamValues section =
      ParamValues::resolve(hbm_section_schema(), {{"clock", "1.6GHz"}, {"controllers", "8"}, {"tRP", "20cycles"}},
                           "memory.hbm");
  CHECK(section.quantity("clock") == Approx(1.6e9));
  const ParamValues p = hbm_controller_params(section, "components.hbm0");
  CHECK(p.path() == "components.hbm0");
  CHECK(resolve_hbm_config(p, 1'600'000'000).timing.tRP == 20);
  CHECK(p.all().count("clock") == 0);
  CHECK(p.all().count("controllers") == 0);
}

TEST_CASE("hbm: a request beyond the controller's capacity is an error naming it", "[dram][config]") {
  auto sim = build_yaml(R"(
clocks: {core: 1.6GHz}
components:
  gen: {kind: traffic_generator, requests: 10, footprint: 16GiB, pattern: random}
  mem: {kind: hbm_controller}
links:
  req:  {from: gen.req, to: mem.req}
  resp: {from: mem.resp, to: gen.resp}
)");
  CHECK_THROWS_WITH(sim->run(), Contains("beyond the controller's capacity of 8589934592 B"));
}

TEST_CASE("hbm: a request that can never fit its channel's queue is an error", "[dram][config]") {
  auto sim = build_yaml(R"(
clocks: {core: 1.6GHz}
components:
  gen: {kind: traffic_generator, requests: 10, bytes: 256B}
  mem: {kind: hbm_controller, queue_depth: 4}
links:
  req:  {from: gen.req, to: mem.req}
  resp: {from: mem.resp, to: gen.resp}
)");
  // 256 B = eight bursts in one channel (bank groups 0..7), more than four.
  CHECK_THROWS_WITH(sim->run(), Contains("needs 8 bursts in channel 0") && Contains("queue_depth (4)"));
}

TEST_CASE("hbm: full queues back-pressure the sender through link credits, nothing is dropped", "[dram]") {
  // Every request reads the same 32 B (one bank of one channel), the queues
  // are tiny and the request link holds at most 2 messages: the generator must stall on credits.
  auto sim = build_yaml(R"(
clocks: {core: 1.6GHz}
components:
  gen: {kind: traffic_generator, requests: 300, bytes: 32B, footprint: 32B, max_outstanding: 64}
  mem: {kind: hbm_controller, queue_depth: 2, input_buffer: 1}
links:
  req:  {from: gen.req, to: mem.req, capacity: 2}
  resp: {from: mem.resp, to: gen.resp}
)");
  REQUIRE(sim->run().completed);
  CHECK(stat(*sim, "gen", "requests_completed") == 300);
  CHECK(stat(*sim, "gen", "credit_stalls") > 0);
  CHECK(stat(*sim, "mem", "input_stalls") > 0);
  CHECK(stat(*sim, "mem", "reads") == 300);
}

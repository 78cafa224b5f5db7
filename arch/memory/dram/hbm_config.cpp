#include "arch/memory/dram/hbm_config.hpp"

#include <cmath>
#include <map>

#include "arch/memory/dram/address_mapping.hpp"
#include "sim/error.hpp"
#include "sim/units.hpp"

namespace tilesim::dram {

namespace {

// Keys of the `memory.hbm` section that describe the controllers' surroundings, not one controller.
const char* const kSectionOnlyKeys[] = {"clock", "controllers", "controller_interleave"};

// The timing defaults: the HBM3 6.4 Gb/s speed bin of Ramulator 2 (python/ramulator/dram/hbm3.py,
// preset HBM3_6400Mbps, tCK = 0.625 ns, JESD238 tables), converted from its cycle counts to ns. JEDEC
// core timings are fixed in ns, so the same values serve H100 SXM5's slower 5.23 Gb/s parts: the
// controller rounds them up to its own clock. At 1.6 GHz they give back the preset's cycles exactly.
struct TimingDefault {
  const char* name;
  const char* value;
  const char* description;
};
const TimingDefault kTimingDefaults[] = {
    {"tRCD", "19.375ns", "ACT to RD, same bank (HBM3-6400 nRCDRD 31 x 0.625 ns, Ramulator 2)"},
    {"tRCD_WR", "9.375ns", "ACT to WR, same bank (HBM3-6400 nRCDWR 15 x 0.625 ns, Ramulator 2)"},
    {"tRP", "16.25ns", "PRE to ACT, same bank (HBM3-6400 nRP 26, Ramulator 2)"},
    {"tRAS", "28.125ns", "ACT to PRE, same bank (HBM3-6400 nRAS 45, Ramulator 2)"},
    {"tRC", "45ns", "ACT to ACT, same bank (HBM3-6400 nRC 72, Ramulator 2)"},
    {"tCL", "12.5ns", "read latency: RD to first data (HBM3-6400 nCL 20, Ramulator 2)"},
    {"tCWL", "6.25ns", "write latency: WR to first data (HBM3-6400 nCWL 10, Ramulator 2)"},
    {"tCCD_S", "2cycles", "column to column, different bank group (JESD238: BL8 / 4 beats per CK = 2 nCK)"},
    {"tCCD_L", "2.5ns", "column to column, same bank group (HBM3-6400 nCCDL 4, Ramulator 2)"},
    {"tRRD_S", "2.5ns", "ACT to ACT, different bank group (HBM3-6400 nRRDS 4, Ramulator 2)"},
    {"tRRD_L", "3.125ns", "ACT to ACT, same bank group (HBM3-6400 nRRDL 5, Ramulator 2)"},
    {"tFAW", "15ns", "rolling window holding at most four ACTs per channel (HBM3-6400 nFAW 24, Ramulator 2)"},
    {"tRTP", "5.625ns", "RD to PRE, same bank (HBM3-6400 nRTP 9, Ramulator 2)"},
    {"tWR", "20.625ns", "write recovery: end of write data to PRE (HBM3-6400 nWR 33, Ramulator 2)"},
    {"tWTR_S", "4.375ns", "end of write data to RD, different bank group (HBM3-6400 nWTRS 7, Ramulator 2)"},
    {"tWTR_L", "6.25ns", "end of write data to RD, same bank group (HBM3-6400 nWTRL 10, Ramulator 2)"},
    {"tRTW", "12.5ns", "RD to WR turnaround, must cover tCL + tBURST - tCWL (HBM3-6400 nRTW 20, Ramulator 2)"},
    {"tRFC", "350ns", "all-bank refresh cycle time (JESD238 Table 84 for 8 Gb per channel: 16 Gb dies, 2 SIDs)"},
    {"tREFI", "3.9us", "average refresh interval (JESD238: 32 ms / 8192 REF commands)"},
    {"tRFCpb", "200ns", "per-bank refresh cycle time, REFpb to ACT of that bank (HBM3, 8 Gb per channel: Ramulator 2 "
                        "python/ramulator/dram/hbm3.py _resolve_nRFCpb)"},
    {"tRREFD", "8ns", "REFpb to ACT of another bank (HBM3: max(3 tCK, 8 ns), Ramulator 2 hbm3.py _resolve_nRREFD)"},
};

std::uint32_t to_u32(const ParamValues& p, const std::string& name) {
  return static_cast<std::uint32_t>(p.integer(name));
}

std::string key(const ParamValues& p, const std::string& name) {
  return p.path().empty() ? name : p.path() + "." + name;
}

}  // namespace

double HbmConfig::peak_bytes_per_second() const {
  return static_cast<double>(org.channels) * org.burst_bytes() / static_cast<double>(timing.tBURST) *
         static_cast<double>(clock_hz);
}

ParamSchema hbm_param_schema() {
  ParamSchema s;
  // Organisation. H100 SXM5: 5 active HBM3 stacks x 1024 data bits = 5120 bits (NVIDIA H100 whitepaper),
  // 80 GB, behind 10 memory controllers of 512 bits. An HBM3 pseudo-channel has 32 data bits (JESD238),
  // so one controller owns 16 pseudo-channels.
  s.integer("channels", 16, "independent (pseudo-)channels owned by this controller (H100 SXM5: 512-bit "
                            "controller / 32-bit HBM3 pseudo-channels = 16)", 1, 4096)
      .integer("channel_width", 32, "data bits per (pseudo-)channel (HBM3: 32, JESD238; HBM2e: 64)", 8, 1024)
      .integer("burst_length", 8, "data beats per column command (HBM3: BL8; HBM2e pseudo-channel mode: BL4)", 1, 64)
      .integer("transfers_per_clock", 4, "data beats per command-clock cycle (HBM3: 4, data strobes at 2x CK "
                                         "double data rate, JESD238; HBM2e: 2)", 1, 16)
      .integer("bank_groups", 8, "bank groups per channel, stack IDs folded in (HBM3 8-high: 4 bank groups "
                                 "x 2 SIDs, Ramulator 2 HBM3_16Gb_8hi)", 1, 1024)
      .integer("banks_per_group", 4, "banks per bank group (HBM3: 4, JESD238)", 1, 1024)
      .integer("rows", 16384, "rows per bank (HBM3 16 Gb die, 8-high: 16K rows, Ramulator 2 HBM3_16Gb_8hi; "
                              "16 channels x 32 banks x 16K rows x 1 KiB = 8 GiB per controller, 80 GiB "
                              "over H100's 10)", 1, 1u << 30)
      .quantity("row_size", UnitKind::size, "1KiB", "row-buffer (page) size per bank and channel (HBM3: "
                                                     "32 columns x 32 B = 1 KiB)", 1, 1u << 30)
      .string("address_mapping", "ro-ba-co-ch-bg",
              "which address digits select row (ro), bank (ba), column (co), channel (ch) and bank group "
              "(bg), most significant first, above the byte offset within a burst (README.md)")
      .choice("channel_hash", "none", {"none", "xor"},
              "xor: the channel digit is XORed with an XOR-fold of the row and column digits, which spreads "
              "power-of-two strided streams over all channels (README.md, \"Address mapping\")")
      .choice("bank_hash", "none", {"none", "xor"},
              "xor: the bank-group and bank digits are XORed with an XOR-fold of the row digit (permutation-based "
              "interleaving: fewer row conflicts between streams; README.md, \"Address mapping\")");
  // Scheduling.
  // Write batching: Ramulator 2's GenericDRAMController (src/dram_controller/impl/generic_dram_controller.cpp)
  // keeps reads and writes in separate 32-entry buffers (ReqBuffer::max_size, src/base/request.h) and
  // switches to write mode when the write buffer holds more than wr_high_watermark = 0.8 of its size (or
  // no read waits), back when it holds fewer than wr_low_watermark = 0.2 (and a read waits). DRAMSim3
  // (src/controller.cc, ScheduleTransaction) drains its whole write buffer once it is full (trans_queue_size
  // 32) or holds more than 8 writes while the command queue is empty.
  s.integer("queue_depth", 32, "read bursts waiting for commands per channel (the reads' FR-FCFS window; "
                               "Ramulator 2 read buffer: 32)", 1, 1u << 20)
      .integer("write_queue_depth", 32, "write bursts waiting per channel (the write buffer; Ramulator 2 write "
                                        "buffer: 32)", 1, 1u << 20)
      .boolean("write_drain", false, "true: serve reads first and switch to writes in batches between the "
                                     "watermarks (Ramulator 2); false: reads and writes compete in one FR-FCFS pass, "
                                     "where tRTW/tWTR keep the other direction unready, so a direction runs until it "
                                     "has no ready burst or its queue fills (README.md, \"Write batching\")")
      .real("write_high_watermark", 0.8, "write mode when the write queue holds more than this fraction of "
                                         "write_queue_depth, or no read waits (Ramulator 2 wr_high_watermark)", 0, 1)
      .real("write_low_watermark", 0.2, "back to reads when the write queue holds fewer than this fraction of "
                                        "write_queue_depth and a read waits (Ramulator 2 wr_low_watermark)", 0, 1)
      .integer("input_buffer", 128, "requests waiting for room in their channels' queues; when full, requests "
                                    "stay in the req port (back-pressure through the link's credits)", 1, 1u << 20)
      .choice("page_policy", "open", {"open", "close"},
              "open: rows stay open until a conflict; close: auto-precharge after the last queued hit")
      .integer("max_row_hits", 16, "FR-FCFS: row hits served while an older conflicting request waits "
                                   "for the same bank, before that bank is precharged", 1, 1u << 20)
      .boolean("refresh", true, "issue all-bank refresh (REFab) every tREFI per channel")
      .boolean("refresh_stagger", false, "spread the channels' refreshes evenly over tREFI instead of "
                                         "refreshing every channel of the controller at the same cycles")
      .choice("refresh_mode", "all_bank", {"all_bank", "per_bank"},
              "all_bank: REFab stops the whole channel for tRFC every tREFI; per_bank: REFpb closes and refreshes "
              "one bank for tRFCpb every tREFI / banks, round robin, while the others keep working (JESD238 / "
              "JESD235D per-bank refresh)");
  for (const auto& t : kTimingDefaults)
    s.string(t.name, t.value, std::string(t.description) + "; a time (rounded up to whole clocks) or cycles");
  return s;
}

ParamSchema hbm_section_schema() {
  ParamSchema s = hbm_param_schema();
  // H100 SXM5: 3.35 TB/s (NVIDIA datasheet) over 5120 bits = 5.234 Gb/s per pin; HBM3 moves 4 beats per
  // command clock, so CK = 5.234 / 4 = 1.3086 GHz; 10 controllers x 16 x 4 B x 4 x 1.3086 GHz = 3.35 TB/s.
  s.quantity("clock", UnitKind::frequency, "1.3086GHz", "DRAM command clock (CK) of every controller "
                                                         "(H100 SXM5: 3.35 TB/s / 5120 bits / 4 beats per CK)", 1)
      .integer("controllers", 10, "memory controllers sharing the address space (H100 SXM5: 10 x 512 bits)", 1, 4096)
      .quantity("controller_interleave", UnitKind::size, "512B",
                "consecutive bytes mapped to one controller before the next (ControllerInterleave)", 1);
  return s;
}

ParamValues hbm_controller_params(const ParamValues& section, const std::string& component_path) {
  std::map<std::string, std::string> given;
  for (const auto& [name, value] : section.all()) {
    bool section_only = false;
    for (const char* k : kSectionOnlyKeys) section_only |= name == k;
    if (!section_only) given[name] = value.text;
  }
  return ParamValues::resolve(hbm_param_schema(), given, component_path);
}

std::uint64_t timing_to_cycles(const std::string& text, std::uint64_t clock_hz, const std::string& key) {
  const Quantity q = parse_any_quantity(text, key);
  if (q.kind == UnitKind::time) {
    if (q.value < 0) throw ConfigError(cat(key, ": '", text, "' is negative"));
    // Integer picoseconds, then ceil(ps * f / 1e12) exactly: 12.5 ns at 1.6 GHz is 20 cycles, not 21.
    const unsigned __int128 num = static_cast<unsigned __int128>(seconds_to_ticks(q.value)) * clock_hz;
    return static_cast<std::uint64_t>((num + kTicksPerSecond - 1) / kTicksPerSecond);
  }
  if (q.kind == UnitKind::cycles || q.kind == UnitKind::none) {
    if (q.value < 0 || q.value != static_cast<double>(static_cast<std::uint64_t>(q.value)))
      throw ConfigError(cat(key, ": '", text, "' must be a whole, non-negative number of cycles"));
    return static_cast<std::uint64_t>(q.value);
  }
  throw ConfigError(cat(key, ": '", text, "' must be a time (12.5ns) or a number of command-clock cycles (20cycles)"));
}

HbmConfig resolve_hbm_config(const ParamValues& p, std::uint64_t clock_hz) {
  HbmConfig c;
  c.clock_hz = clock_hz;
  HbmOrganization& o = c.org;
  o.channels = to_u32(p, "channels");
  o.channel_width_bits = to_u32(p, "channel_width");
  o.burst_length = to_u32(p, "burst_length");
  o.transfers_per_clock = to_u32(p, "transfers_per_clock");
  o.bank_groups = to_u32(p, "bank_groups");
  o.banks_per_group = to_u32(p, "banks_per_group");
  o.rows = to_u32(p, "rows");
  o.row_bytes = static_cast<std::uint32_t>(p.bytes("row_size"));
  if (o.channel_width_bits % 8 != 0)
    throw ConfigError(cat(key(p, "channel_width"), ": ", o.channel_width_bits, " bits is not a whole number of bytes"));
  if (o.burst_length % o.transfers_per_clock != 0)
    throw ConfigError(cat(key(p, "burst_length"), ": ", o.burst_length, " beats do not fill whole clocks at ",
                          o.transfers_per_clock, " transfers_per_clock"));
  if (o.row_bytes % o.burst_bytes() != 0)
    throw ConfigError(cat(key(p, "row_size"), ": ", o.row_bytes, " B is not a whole number of ", o.burst_bytes(),
                          " B bursts (channel_width / 8 x burst_length)"));

  c.address_mapping = p.string("address_mapping");
  c.xor_channel = p.string("channel_hash") == "xor";
  c.xor_bank = p.string("bank_hash") == "xor";
  c.queue_depth = to_u32(p, "queue_depth");
  c.write_queue_depth = to_u32(p, "write_queue_depth");
  c.write_drain = p.boolean("write_drain");
  {
    const double high = p.real("write_high_watermark"), low = p.real("write_low_watermark");
    if (low > high)
      throw ConfigError(cat(key(p, "write_low_watermark"), ": ", low, " is above write_high_watermark (", high,
                            "): the channel would leave write mode before it entered it"));
    // Ramulator 2 compares size > high x depth and size < low x depth: as whole bursts, floor and ceil.
    c.write_high_watermark = static_cast<std::uint32_t>(high * c.write_queue_depth);
    c.write_low_watermark = static_cast<std::uint32_t>(std::ceil(low * c.write_queue_depth));
  }
  c.input_buffer = to_u32(p, "input_buffer");
  c.max_row_hits = to_u32(p, "max_row_hits");
  c.close_page = p.string("page_policy") == "close";
  c.refresh = p.boolean("refresh");
  c.refresh_stagger = p.boolean("refresh_stagger");
  c.per_bank_refresh = p.string("refresh_mode") == "per_bank";

  auto cyc = [&](const char* name) { return timing_to_cycles(p.string(name), clock_hz, key(p, name)); };
  HbmTiming& t = c.timing;
  t.tRCD = cyc("tRCD");
  t.tRCD_WR = cyc("tRCD_WR");
  t.tRP = cyc("tRP");
  t.tRAS = cyc("tRAS");
  t.tRC = cyc("tRC");
  t.tCL = cyc("tCL");
  t.tCWL = cyc("tCWL");
  t.tBURST = o.burst_length / o.transfers_per_clock;
  t.tCCD_S = cyc("tCCD_S");
  t.tCCD_L = cyc("tCCD_L");
  t.tRRD_S = cyc("tRRD_S");
  t.tRRD_L = cyc("tRRD_L");
  t.tFAW = cyc("tFAW");
  t.tRTP = cyc("tRTP");
  t.tWR = cyc("tWR");
  t.tWTR_S = cyc("tWTR_S");
  t.tWTR_L = cyc("tWTR_L");
  t.tRTW = cyc("tRTW");
  t.tRFC = cyc("tRFC");
  t.tREFI = cyc("tREFI");
  t.tRFCpb = cyc("tRFCpb");
  t.tRREFD = cyc("tRREFD");
  t.tREFIpb = t.tREFI / o.banks();  // every bank once per tREFI (Ramulator 2 _resolve_nREFIpb)

  // Combinations that would put two bursts on the data bus at once, or refresh forever.
  if (t.tCCD_S < t.tBURST)
    throw ConfigError(cat(key(p, "tCCD_S"), ": ", t.tCCD_S, " cycles is shorter than one burst (", t.tBURST,
                          " cycles = burst_length / transfers_per_clock): bursts would overlap on the data bus"));
  if (t.tCCD_L < t.tCCD_S)
    throw ConfigError(cat(key(p, "tCCD_L"), ": ", t.tCCD_L, " cycles is shorter than tCCD_S (", t.tCCD_S, ")"));
  if (t.tRTW + t.tCWL < t.tCL + t.tBURST)
    throw ConfigError(cat(key(p, "tRTW"), ": ", t.tRTW, " cycles lets write data (tCWL ", t.tCWL,
                          ") start before the previous read data ends (tCL + tBURST = ", t.tCL + t.tBURST,
                          "); it must be at least ", t.tCL + t.tBURST - t.tCWL, " cycles"));
  if (c.refresh && c.per_bank_refresh && t.tREFIpb == 0)
    throw ConfigError(cat(key(p, "tREFI"), ": ", t.tREFI, " cycles is shorter than one cycle per bank (", o.banks(),
                          " banks): per-bank refresh needs tREFI / banks >= 1 cycle"));
  if (c.refresh && !c.per_bank_refresh && t.tREFI <= t.tRFC)
    throw ConfigError(cat(key(p, "tREFI"), ": ", t.tREFI, " cycles is not longer than tRFC (", t.tRFC,
                          " cycles): the channel would do nothing but refresh"));
  // Validates the field order against the organisation (throws ConfigError naming the key).
  AddressMapping(c.address_mapping, o, key(p, "address_mapping"), c.xor_channel, c.xor_bank);
  return c;
}

}  // namespace tilesim::dram

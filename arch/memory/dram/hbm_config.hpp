// HBM controller configuration: the declared parameters (hbm_param_schema, defaults = HBM3 as on H100
// SXM5), their resolution into command-clock cycles, and the checks that reject impossible timings.
// Timing formulas, named presets (HBM2e / HBM3 / HBM3e) and their sources: arch/memory/dram/README.md.
//
// Every timing parameter is written either as a time ("19.375ns", converted with ceil(t * f_CK), as a
// controller rounds analog datasheet values up to whole clocks) or as cycles of the command clock
// ("2cycles"). The command clock is the controller component's own clock domain.
#pragma once

#include <cstdint>
#include <string>

#include "sim/params.hpp"

namespace tilesim::dram {

/// The DRAM organisation behind one controller. Counts are per (pseudo-)channel unless noted.
struct HbmOrganization {
  std::uint32_t channels = 0;             // independent (pseudo-)channels owned by this controller
  std::uint32_t bank_groups = 0;          // bank groups per channel (stack IDs folded in, see README)
  std::uint32_t banks_per_group = 0;
  std::uint32_t rows = 0;                 // rows per bank
  std::uint32_t row_bytes = 0;            // row-buffer (page) size per bank
  std::uint32_t channel_width_bits = 0;   // data pins per channel
  std::uint32_t burst_length = 0;         // data beats per column command
  std::uint32_t transfers_per_clock = 0;  // data beats per command clock (2: HBM2e DDR, 4: HBM3)

  std::uint32_t burst_bytes() const { return channel_width_bits / 8 * burst_length; }
  std::uint32_t columns() const { return row_bytes / burst_bytes(); }  // bursts per row
  std::uint32_t banks() const { return bank_groups * banks_per_group; }
};

/// DRAM timing constraints in command-clock cycles (names follow JEDEC).
struct HbmTiming {
  std::uint64_t tRCD = 0;     // ACT -> RD, same bank
  std::uint64_t tRCD_WR = 0;  // ACT -> WR, same bank
  std::uint64_t tRP = 0;      // PRE -> ACT, same bank
  std::uint64_t tRAS = 0;     // ACT -> PRE, same bank
  std::uint64_t tRC = 0;      // ACT -> ACT, same bank
  std::uint64_t tCL = 0;      // RD -> first read data
  std::uint64_t tCWL = 0;     // WR -> first write data
  std::uint64_t tBURST = 0;   // data-bus cycles of one burst = burst_length / transfers_per_clock
  std::uint64_t tCCD_S = 0;   // column -> column, different bank group
  std::uint64_t tCCD_L = 0;   // column -> column, same bank group
  std::uint64_t tRRD_S = 0;   // ACT -> ACT, different bank group
  std::uint64_t tRRD_L = 0;   // ACT -> ACT, same bank group
  std::uint64_t tFAW = 0;     // window holding at most four ACTs
  std::uint64_t tRTP = 0;     // RD -> PRE, same bank
  std::uint64_t tWR = 0;      // end of write data -> PRE, same bank
  std::uint64_t tWTR_S = 0;   // end of write data -> RD, different bank group
  std::uint64_t tWTR_L = 0;   // end of write data -> RD, same bank group
  std::uint64_t tRTW = 0;     // RD -> WR (read-to-write bus turnaround)
  std::uint64_t tRFC = 0;     // all-bank REF -> ACT
  std::uint64_t tREFI = 0;    // average interval between REF commands (all-bank), or between one bank's REFpb
  std::uint64_t tRFCpb = 0;   // per-bank REF -> ACT, same bank
  std::uint64_t tRREFD = 0;   // per-bank REF -> ACT, other bank
  std::uint64_t tREFIpb = 0;  // interval between REFpb commands of a channel: tREFI / banks
};

struct HbmConfig {
  HbmOrganization org;
  HbmTiming timing;
  std::string address_mapping;  // field order, most significant first (address_mapping.hpp)
  bool xor_channel = false;     // channel_hash: xor (address_mapping.hpp)
  bool xor_bank = false;        // bank_hash: xor (address_mapping.hpp)
  std::uint32_t queue_depth = 0;   // read bursts waiting per channel (the reads' FR-FCFS window)
  std::uint32_t write_queue_depth = 0;  // write bursts waiting per channel (the write buffer)
  bool write_drain = true;              // serve reads first and drain writes in batches (hbm_channel.hpp)
  std::uint32_t write_high_watermark = 0;  // write mode when more writes than this are queued (bursts)
  std::uint32_t write_low_watermark = 0;   // back to reads when fewer than this remain (and reads wait)
  std::uint32_t input_buffer = 0;  // requests waiting for room in their channels' queues
  std::uint32_t max_row_hits = 0;  // FR-FCFS: hits served to an open row before a waiting conflict wins
  bool close_page = false;
  bool refresh = true;
  bool refresh_stagger = false;
  bool per_bank_refresh = false;  // REFpb to one bank at a time, round robin, instead of REFab  // spread the channels' refreshes over tREFI instead of aligning them
  std::uint64_t clock_hz = 0;

  /// Peak data bandwidth of the controller in bytes per second: channels x burst bytes / tBURST x f.
  double peak_bytes_per_second() const;
};

/// The parameters of an `hbm_controller` component (defaults: HBM3 as on H100 SXM5, one of its ten
/// 512-bit controllers). Also the body of a system's `memory.hbm` section (see hbm_section_schema).
ParamSchema hbm_param_schema();

/// hbm_param_schema() plus what a system builder needs around the controllers: the command clock and
/// how global addresses are spread over controllers (controllers, controller_interleave).
ParamSchema hbm_section_schema();

/// The component parameters contained in a `memory.hbm` section (drops the section-only keys).
ParamValues hbm_controller_params(const ParamValues& section, const std::string& component_path);

/// Resolve and check a configuration for a controller whose command clock runs at `clock_hz`.
/// Throws ConfigError naming the key (prefixed with the params' path) for anything impossible.
HbmConfig resolve_hbm_config(const ParamValues& params, std::uint64_t clock_hz);

/// `text` ("12.5ns" or "20cycles") in whole command-clock cycles at `clock_hz` (times round up).
std::uint64_t timing_to_cycles(const std::string& text, std::uint64_t clock_hz, const std::string& key);

}  // namespace tilesim::dram

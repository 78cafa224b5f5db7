// A system config (clocks, components, links) parsed and validated against the declared parameters,
// and built into a Simulator. Shape:
//   description: "..."
//   sim:        {seed: 1, max_cycles: 0, watchdog: 1ms, heartbeat: 5s}
//   clocks:     {core: 1.83GHz, mem: 1.6GHz}
//   components: {gen: {kind: traffic_generator, clock: core, requests: 1000}, ...}
//   links:      {gen_to_mem: {from: gen.req, to: mem.req, latency: 10ns, capacity: 0}, ...}
// or, for an architecture preset, `system: <kind>` plus that kind's parameter sections (system_kind.hpp);
// both may be combined (a system plus extra components linked to its ports).
// Links are named (a map, not a list) so layering and --set reach them: --set links.gen_to_mem.latency=20ns.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/config.hpp"
#include "sim/params.hpp"
#include "sim/simulator.hpp"
#include "sim/system_kind.hpp"

namespace tilesim {

struct ClockSpec {
  std::string name;
  std::uint64_t frequency_hz = 0;
};

struct ComponentSpec {
  std::string name;
  std::string kind;
  std::string clock;
  ParamValues params;
};

struct LinkSpec {
  std::string name;
  std::string from_component, from_port;
  std::string to_component, to_port;
  Quantity latency;  // time, or cycles of the sender's clock
  std::string latency_text;
  std::uint32_t capacity = 0;
};

struct SystemSpec {
  std::string description;
  std::string system_kind;   // "" = a plain netlist (clocks/components/links only)
  SystemSections sections;   // the system kind's resolved parameter sections
  ParamValues sim;
  std::vector<ClockSpec> clocks;
  std::vector<ComponentSpec> components;
  std::vector<LinkSpec> links;
};

/// Validate the merged tree. Every error is a ConfigError naming the key (and where it was set).
SystemSpec parse_system(const ConfigTree& tree);
/// Construct the simulator, its clocks, components (from the registry) and links.
std::unique_ptr<Simulator> build_system(const SystemSpec& spec);
/// The fully resolved configuration (defaults filled in, canonical units) as YAML.
std::string resolved_config_yaml(const SystemSpec& spec);

}  // namespace tilesim

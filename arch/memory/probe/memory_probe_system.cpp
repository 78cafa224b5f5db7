// System kind `memory_probe`: the memory hierarchy (memory_system.hpp) with one probe front-end per core
// replaying a memory microbenchmark (section `workload`, probe_core.hpp) and a monitor gathering the
// probes' completed bytes. Sections: those of memory_sections(), `core`, `workload` (and `power`, accepted
// so that a device preset can also carry the gpu system's settings).
#include <map>
#include <memory>

#include "arch/memory/memory_system.hpp"
#include "arch/memory/probe/block_dispatcher.hpp"
#include "arch/memory/probe/probe_core.hpp"
#include "arch/memory/probe/probe_kinds.hpp"
#include "arch/memory/probe/stream_probe.hpp"
#include "sim/component_registry.hpp"
#include "sim/error.hpp"
#include "sim/system_kind.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

const char* probe_component_kind(const std::string& kind) {
  if (kind == "pchase") return "pchase_probe";
  if (kind == "stream") return "stream_probe";
  if (kind == "bulk_copy") return "bulk_copy_probe";
  if (kind == "dsmem") return "dsmem_probe";
  if (kind == "cold_load") return "cold_load_probe";
  throw ConfigError(cat("workload.kind: no probe replays '", kind, "'"));
}

std::uint64_t cold_load_address(const MemorySystem& mem, const ParamValues& workload, std::uint32_t core) {
  // Each core gets a line in its own 1 MiB region (different DRAM rows), the first one of that region
  // whose home partition lies on the requested die.
  const auto die = static_cast<std::uint32_t>(workload.integer("home_die"));
  const std::uint32_t dies = mem.map.spec().dies;
  if (die >= dies) throw ConfigError(cat("workload.home_die: ", die, " is not below chip.dies (", dies, ")"));
  const std::uint64_t region = (1ull << 20) * (core + 1);
  for (std::uint64_t a = region; a < region + (1ull << 20); a += mem.info.line_bytes)
    if (mem.map.die_of_partition(mem.map.home_partition(a)) == die) return a;
  panic("cold_load_address: no line of die ", die, " in 1 MiB");
}

namespace {

class MemoryProbeSystem final : public SystemKind {
 public:
  std::vector<std::pair<std::string, ParamSchema>> sections() const override {
    auto s = memory_sections();
    s.emplace_back("core", probe_core_schema());
    s.emplace_back("workload", probe_workload_schema());
    // A device preset also carries the `gpu` system's device facts (arch/simt/gpu_system.hpp); accepted so
    // that one preset serves both systems, not used by the probes. (Declared here rather than fetched from
    // the gpu kind, whose sections() asks this kind for its workload keys: no mutual recursion.)
    ParamSchema power;
    power.quantity("tensor_clock", UnitKind::frequency, "0Hz",
                   "(gpu system only) sustained SM clock under full tensor load; unused by the memory probes");
    s.emplace_back("power", power);
    return s;
  }

  void build(Simulator& sim, const SystemSections& cfg) const override {
    MemorySystem mem = build_memory_system(sim, cfg);
    const ParamValues& workload = cfg.at("workload");
    const ParamValues& core = cfg.at("core");
    const std::string& kind = workload.string("kind");
    const char* component_kind = probe_component_kind(kind);

    std::map<std::string, std::string> common;
    for (const auto& [name, v] : workload.all()) common[name] = v.text;
    for (const auto& [name, v] : core.all()) common[name] = v.text;
    for (const auto& [name, text] : mem.map.param_texts()) common[name] = text;
    common["line_size"] = std::to_string(mem.info.line_bytes) + "B";
    common["window_bytes"] = std::to_string(mem.info.cluster_window_bytes) + "B";
    common["scratch_size"] = std::to_string(mem.info.scratch_bytes) + "B";
    common["l2_partition_size"] = std::to_string(mem.info.l2_partition_bytes) + "B";
    common["cores_per_group"] = std::to_string(mem.info.cores_per_group);

    ParamValues mp = ParamValues::resolve(ProbeMonitor::param_schema(), {{"probes", std::to_string(mem.info.cores)}},
                                          "monitor");
    auto monitor_owner = std::make_unique<ProbeMonitor>(ComponentContext{"monitor", "probe_monitor", mp, mem.core_clock, &sim});
    ProbeMonitor& monitor = *monitor_owner;
    sim.add(std::move(monitor_owner));

    const auto& entry = ComponentRegistry::instance().get(component_kind, "workload.kind");
    std::vector<StreamProbe*> streams;
    for (std::uint32_t c = 0; c < mem.info.cores; ++c) {
      auto given = common;
      given["core"] = std::to_string(c);
      given["die_of_core"] = std::to_string(mem.map.die_of_core(c));
      given["home_base"] = std::to_string(cold_load_address(mem, workload, c)) + "B";
      const std::string name = cat("probe", c);
      ParamValues p = ParamValues::resolve(entry.schema(), given, name);
      std::unique_ptr<Component> probe = entry.make(ComponentContext{name, component_kind, p, mem.core_clock, &sim});
      auto* pc = dynamic_cast<ProbeCore*>(probe.get());
      if (!pc) panic("memory_probe: component kind ", component_kind, " is not a probe");
      if (auto* stream = dynamic_cast<StreamProbe*>(pc)) streams.push_back(stream);
      sim.add(std::move(probe));
      attach_core(sim, mem, mem.cores[c], pc->side_ports());
      sim.connect(pc->report, monitor.in, LinkParams{mem.core_clock->tick_of(Cycle(1)), 0, 0});
    }
    if (!streams.empty()) connect_block_dispatcher(sim, mem, streams);
  }

 private:
  /// A stream grid's blocks after the first wave go to the cores' free slots through one dispatcher
  /// (block_dispatcher.hpp); every probe computed the same grid from the same parameters.
  static void connect_block_dispatcher(Simulator& sim, const MemorySystem& mem, const std::vector<StreamProbe*>& streams) {
    const StreamProbe& first = *streams.front();
    ParamValues dp = ParamValues::resolve(ProbeBlockDispatcher::param_schema(),
                                          {{"cores", std::to_string(streams.size())},
                                           {"blocks", std::to_string(first.simulated_blocks())},
                                           {"first_block", std::to_string(first.first_wave())}},
                                          "dispatcher");
    auto owner = std::make_unique<ProbeBlockDispatcher>(
        ComponentContext{"dispatcher", "probe_block_dispatcher", dp, mem.core_clock, &sim});
    ProbeBlockDispatcher& dispatcher = *owner;
    sim.add(std::move(owner));
    const LinkParams one_cycle{mem.core_clock->tick_of(Cycle(1)), 0, 0};
    for (std::size_t c = 0; c < streams.size(); ++c) {
      sim.connect(streams[c]->block_claim, dispatcher.claims, one_cycle);
      sim.connect(*dispatcher.grants[c], streams[c]->block_grant, one_cycle);
    }
  }
};

const RegisterSystemKind<MemoryProbeSystem> kRegistration(
    "memory_probe", "the memory hierarchy driven by microbenchmark front-ends (pchase, stream, bulk_copy, dsmem)");

}  // namespace
}  // namespace tilesim

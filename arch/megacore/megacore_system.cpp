// The `megacore` system kind: the memory hierarchy of arch/memory (memory_sections / build_memory_system)
// with one Megacore (megacore.hpp) per chip.cores — the per-core scratch is the core's VMEM, the per-core
// copy engine its DMA engine to HBM — and the grid dispatcher handing out programs (grid steps). Sections:
// the memory's, `core.megacore` (megacore_params.hpp), `core.dispatch` (arch/core/grid_dispatcher.hpp) and
// `workload` (the gpu system's: name, scale, values, the workload's parameters). With workload.values the
// timed run carries values and ValueCheck compares them with the functional interpreter bit for bit.
#include <map>

#include "arch/core/grid_dispatcher.hpp"
#include "arch/core/lowering.hpp"
#include "arch/megacore/megacore.hpp"
#include "arch/megacore/megacore_lowering.hpp"
#include "arch/megacore/megacore_params.hpp"
#include "arch/memory/memory_system.hpp"
#include "arch/simt/gpu_system.hpp"
#include "sim/clock_domain.hpp"
#include "sim/error.hpp"
#include "sim/simulator.hpp"
#include "sim/system_kind.hpp"
#include "sim/text_util.hpp"
#include "workloads/workload.hpp"

namespace tilesim::megacore {
namespace {

/// Peak HBM bandwidth in bytes per core cycle implied by memory.hbm (for the DMA utilisation).
double hbm_bytes_per_core_cycle(const SystemSections& cfg) {
  const ParamValues& hbm = cfg.at("memory.hbm");
  const double bytes_per_s = hbm.quantity("clock") * static_cast<double>(hbm.integer("transfers_per_clock")) *
                             static_cast<double>(hbm.integer("channel_width")) / 8.0 *
                             static_cast<double>(hbm.integer("channels")) * static_cast<double>(hbm.integer("controllers"));
  return bytes_per_s / cfg.at("chip").quantity("core_clock");
}

/// `schema` with the default of `name` replaced by `text` (every other declaration unchanged).
ParamSchema with_default(const ParamSchema& schema, const std::string& name, const std::string& text) {
  ParamSchema out(schema.kind());
  for (const ParamDecl& d : schema.decls()) {
    const std::string& def = d.name == name ? text : d.default_text;
    switch (d.type) {
      case ParamType::integer: out.integer(d.name, std::stoll(def), d.description, d.min, d.max); break;
      case ParamType::real: out.real(d.name, std::stod(def), d.description, d.min, d.max); break;
      case ParamType::boolean: out.boolean(d.name, def == "true", d.description); break;
      case ParamType::string: out.string(d.name, def, d.description); break;
      case ParamType::choice: out.choice(d.name, def, d.choices, d.description); break;
      case ParamType::quantity: out.quantity(d.name, d.unit, def, d.description, d.min, d.max); break;
    }
  }
  return out;
}

class MegacoreSystem final : public SystemKind {
 public:
  std::vector<std::pair<std::string, ParamSchema>> sections() const override {
    auto s = memory_sections();
    // A megacore's scratch is its VMEM: default to TPU v5e's 128 MiB (the hierarchy's default is an SM's
    // 228 KiB), and the cluster window, which must cover it, likewise.
    for (auto& [path, schema] : s) {
      if (path == "memory.scratch") schema = with_default(schema, "size", "128MiB");
      if (path == "memory.dsmem") schema = with_default(schema, "window_bytes", "128MiB");
    }
    s.emplace_back("core.megacore", megacore_schema());
    s.emplace_back("core.dispatch", core::GridDispatcher::param_schema());
    s.emplace_back("workload", simt::gpu_workload_schema());
    return s;
  }

  void build(Simulator& sim, const SystemSections& cfg) const override {
    MemorySystem mem = build_memory_system(sim, cfg);
    const ParamValues& mv = cfg.at("core.megacore");
    const MegacoreParams mp = read_megacore_params(mv);

    const simt::WorkloadRun run = simt::bind_workload(cfg.at("workload"));
    const auto& launch = run.launch;

    // Lowering, once for every core.
    std::string key = cat("vmem=", mem.info.scratch_bytes, ";");
    for (const auto& [k, v] : mv.all()) key += k + "=" + v.text + ";";
    core::LoweringCache cache;
    const MegacoreLowering lowering(mp, mem.info.scratch_bytes, key);
    auto lowered = std::static_pointer_cast<const MegacoreLoweredKernel>(cache.get(lowering, *launch));
    auto launches = std::make_shared<std::vector<MegacoreLaunch>>();
    launches->push_back({launch, lowered});

    MegacoreEnvironment env;
    env.launches = launches;
    env.vmem_bytes = mem.info.scratch_bytes;
    env.hbm_bytes_per_cycle = hbm_bytes_per_core_cycle(cfg);

    ClockDomain& clk = *mem.core_clock;
    const LinkParams one{clk.tick_of(Cycle(1)), 0, 0};
    std::vector<Megacore*> cores;
    std::vector<core::CoreResources> resources;
    for (std::uint32_t c = 0; c < mem.info.cores; ++c) {
      auto mc = std::make_unique<Megacore>(ComponentContext{cat("tc", c), "megacore", mv, &clk, &sim}, c, mp, env);
      Megacore& m = *mc;
      sim.add(std::move(mc));
      attach_core(sim, mem, mem.cores[c], m.core_side());
      cores.push_back(&m);
      resources.push_back(m.resources());
    }
    std::vector<core::DispatchItem> items{{launch, lowered->footprint()}};
    auto d = std::make_unique<core::GridDispatcher>(
        ComponentContext{"dispatcher", "grid_dispatcher", cfg.at("core.dispatch"), &clk, &sim}, resources,
        mem.info.cores_per_group, items);
    core::GridDispatcher& disp = *d;
    disp.set_activity_layout(Megacore::activity_layout(mp));
    sim.add(std::move(d));
    for (std::uint32_t c = 0; c < mem.info.cores; ++c) {
      sim.connect(*disp.launch_ports[c], cores[c]->launch, one);
      sim.connect(cores[c]->done, disp.done, one);
    }
    simt::add_value_check(sim, clk, run);
  }
};

const RegisterSystemKind<MegacoreSystem> kRegistration(
    "megacore", "TPU-style megacore: MXUs (systolic arrays), vector/scalar units and a VLIW bundler on the memory "
                "hierarchy (VMEM = per-core scratch, DMA = copy engine), running a workload kernel");

}  // namespace
}  // namespace tilesim::megacore

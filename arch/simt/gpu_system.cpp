#include "arch/simt/gpu_system.hpp"

#include <set>

#include "arch/core/grid_dispatcher.hpp"
#include "arch/core/lowering.hpp"
#include "arch/memory/memory_system.hpp"
#include "arch/simt/simt_lowering.hpp"
#include "arch/simt/simt_params.hpp"
#include "arch/simt/sm.hpp"
#include "arch/tensor/tensor_unit.hpp"
#include "sim/clock_domain.hpp"
#include "sim/error.hpp"
#include "sim/simulator.hpp"
#include "sim/system_kind.hpp"
#include "sim/text_util.hpp"
#include "workloads/workload.hpp"

namespace tilesim::simt {

namespace {
const char* const kOwnKeys[] = {"name", "scale", "template", "values"};
}

ParamSchema gpu_workload_schema() {
  ParamSchema s;
  s.string("name", "gemm", "workload of the library to run (workloads/: gemm, gemm_ws, attention_fwd, softmax, mma, alu, launch, ...)")
      .choice("scale", "full", {"full", "functional"},
              "parameter defaults: full = the workload's realistic size, functional = its small test shape")
      .string("template", "", "a .tile template to use instead of the workload's own (empty: workloads/<name>.tile)")
      .boolean("values", false,
               "carry values through the timed run and compare every tensor with the functional interpreter at the end");
  // Every parameter any workload declares (each workload checks its own when the run is built).
  std::set<std::string> seen(std::begin(kOwnKeys), std::end(kOwnKeys));
  for (const workloads::Workload* w : workloads::all_workloads())
    for (const workloads::ParamSpec& p : w->params())
      if (seen.insert(p.name).second)
        s.string(p.name, "", cat("workload parameter (", p.description, "); empty: the workload's default"));
  // Keys of the memory_probe system's workload section, so that one preset can carry both (unused here).
  if (const auto* probe = SystemRegistry::instance().find("memory_probe"))
    for (const auto& [path, schema] : probe->make({})->sections()) {
      if (path != "workload") continue;
      for (const ParamDecl& d : schema.decls())
        if (seen.insert(d.name).second) s.string(d.name, d.default_text, "(memory_probe system only) " + d.description);
    }
  return s;
}

ParamSchema gpu_power_schema() {
  ParamSchema s;
  s.quantity("tensor_clock", UnitKind::frequency, "0Hz",
             "sustained SM clock under full tensor load (power limit), from measurements; 0: not known. The "
             "validation mappers run tensor-throughput rows at it; simulations run at chip.core_clock");
  return s;
}

ValueCheck::ValueCheck(const ComponentContext& ctx, Spec spec)
    : Component(ctx),
      spec_(std::move(spec)),
      st_tensors_(stats().counter("tensors", "", "global tensors compared with the functional interpreter")),
      st_elements_(stats().counter("elements", "", "elements compared")),
      st_mismatches_(stats().counter("mismatches", "", "elements whose bits differ from the interpreter's")) {}

void ValueCheck::finish() {
  const core::KernelLaunch& l = *spec_.launch;
  if (!l.values) return;
  isa::Buffers ref = spec_.inputs;
  isa::run_kernel(*l.module, l.kernel->name, ref, spec_.scalars, spec_.interpreter);
  for (const core::GlobalBinding& g : l.globals) {
    const isa::TileValue& got = l.values->tensor(g.param);
    const isa::TileValue& want = ref.tensor(g.name);
    ++st_tensors_;
    for (std::int64_t i = 0; i < got.size(); ++i) {
      ++st_elements_;
      if (got.bits_at(i) != want.bits_at(i)) {
        if (st_mismatches_.total() == 0)
          first_mismatch_ = cat(g.name, "[", i, "]: timed run ", got.at(i), ", interpreter ", want.at(i));
        ++st_mismatches_;
      }
    }
  }
}

std::vector<std::string> ValueCheck::report_lines(const std::vector<StatValue>& totals) const {
  double mism = 0, elems = 0;
  for (const auto& v : totals) {
    if (v.name == "mismatches") mism = v.value;
    if (v.name == "elements") elems = v.value;
  }
  if (mism == 0)
    return {cat("values match the functional interpreter bit for bit (", format_number(elems, 9), " elements)")};
  return {cat("VALUES DIFFER from the functional interpreter: ", format_number(mism, 9), " of ", format_number(elems, 9),
              " elements; first ", first_mismatch_)};
}

WorkloadRun bind_workload(const ParamValues& wv) {
  const std::string& name = wv.string("name");
  const workloads::Workload& w = workloads::find_workload(name);
  std::map<std::string, std::string> given;
  for (const workloads::ParamSpec& p : w.params()) {
    const std::string& v = wv.string(p.name);
    if (!v.empty()) given[p.name] = v;
  }
  const auto scale = wv.string("scale") == "functional" ? workloads::Scale::functional : workloads::Scale::full;
  workloads::WorkloadBuild b = workloads::build_workload(name, given, scale, wv.string("template"));
  WorkloadRun run;
  run.values = wv.boolean("values");
  core::LaunchArgs args;
  for (const auto& [k, v] : b.scalars) args.scalars[k] = static_cast<double>(v);
  for (const auto& [k, v] : b.float_scalars) args.scalars[k] = v;
  args.carry_values = run.values;
  args.mma = b.interpreter.mma;
  if (run.values) {
    run.check.inputs = w.make_inputs(b);
    args.inputs = run.check.inputs.tensors;
    for (const auto& [k, v] : run.check.inputs.scalars) args.scalars[k] = v;
  }
  auto module = std::make_shared<const isa::Module>(b.module);
  run.launch = std::make_shared<const core::KernelLaunch>(core::bind_launch(module, b.kernel_name, args, name));
  run.check.launch = run.launch;
  run.check.scalars = b.scalars;
  run.check.interpreter = b.interpreter;
  run.check.interpreter.source_name = b.module.source_name;
  return run;
}

void add_value_check(Simulator& sim, ClockDomain& clock, const WorkloadRun& run) {
  if (!run.values) return;
  sim.add(std::make_unique<ValueCheck>(ComponentContext{"values", "value_check", ParamValues{}, &clock, &sim}, run.check));
}

namespace {

class GpuSystem final : public SystemKind {
 public:
  std::vector<std::pair<std::string, ParamSchema>> sections() const override {
    auto s = memory_sections();
    s.emplace_back("core.sm", simt_sm_schema());
    s.emplace_back("core.tensor", tensor::tensor_unit_schema());
    s.emplace_back("core.dispatch", core::GridDispatcher::param_schema());
    s.emplace_back("workload", gpu_workload_schema());
    s.emplace_back("power", gpu_power_schema());
    return s;
  }

  void build(Simulator& sim, const SystemSections& cfg) const override {
    MemorySystem mem = build_memory_system(sim, cfg);
    const ParamValues& smv = cfg.at("core.sm");
    const SimtParams sp = read_simt_params(smv);
    const ParamValues& tv = cfg.at("core.tensor");
    const tensor::TensorUnitContext tctx{tv, sp.sub_partitions};
    const std::unique_ptr<tensor::TensorUnit> tu = tensor::make_tensor_unit(tctx, tv.string("kind"));

    const WorkloadRun run = bind_workload(cfg.at("workload"));
    const auto& launch = run.launch;

    // Lowering, once for every SM.
    std::string key;
    for (const auto& [k, v] : smv.all()) key += k + "=" + v.text + ";";
    for (const auto& [k, v] : tv.all()) key += k + "=" + v.text + ";";
    core::LoweringCache cache;
    const SimtLowering lowering(sp, *tu, key);
    auto lowered = std::static_pointer_cast<const SimtLoweredKernel>(cache.get(lowering, *launch));
    auto launches = std::make_shared<std::vector<SimtLaunch>>();
    launches->push_back({launch, lowered});

    SmEnvironment env;
    env.launches = launches;
    env.scratch_bytes = mem.info.scratch_bytes;
    env.line_bytes = mem.info.line_bytes;
    env.sector_bytes = mem.info.sector_bytes;
    env.cluster_window_bytes = mem.info.cluster_window_bytes;

    ClockDomain& clk = *mem.core_clock;
    const LinkParams one{clk.tick_of(Cycle(1)), 0, 0};
    std::vector<Sm*> sms;
    std::vector<core::CoreResources> resources;
    for (std::uint32_t c = 0; c < mem.info.cores; ++c) {
      auto sm = std::make_unique<Sm>(ComponentContext{cat("sm", c), "simt_sm", smv, &clk, &sim}, c, sp, env);
      Sm& s = *sm;
      sim.add(std::move(sm));
      attach_core(sim, mem, mem.cores[c], s.core_side());
      sms.push_back(&s);
      resources.push_back(s.resources());
    }
    std::vector<core::DispatchItem> items{{launch, lowered->footprint()}};
    auto d = std::make_unique<core::GridDispatcher>(
        ComponentContext{"dispatcher", "grid_dispatcher", cfg.at("core.dispatch"), &clk, &sim}, resources,
        mem.info.cores_per_group, items);
    core::GridDispatcher& disp = *d;
    disp.set_activity_layout(Sm::activity_layout(sp));
    sim.add(std::move(d));
    for (std::uint32_t c = 0; c < mem.info.cores; ++c) {
      sim.connect(*disp.launch_ports[c], sms[c]->launch, one);
      sim.connect(sms[c]->done, disp.done, one);
    }
    add_value_check(sim, clk, run);
  }
};

const RegisterSystemKind<GpuSystem> kRegistration(
    "gpu", "SIMT GPU: SMs with warp schedulers and tensor units on the memory hierarchy, running a workload kernel");

}  // namespace
}  // namespace tilesim::simt

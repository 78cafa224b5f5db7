#include "tests/simt/sm_rig.hpp"

#include <algorithm>
#include <cmath>

#include "arch/simt/simt_lowering.hpp"
#include "isa/text_parser.hpp"
#include "isa/verifier.hpp"
#include "sim/clock_domain.hpp"
#include "sim/error.hpp"

namespace tilesim::simt_test {

namespace {
// Responses leave in time order; ties in arrival order (the vector is kept sorted by time, stable).
template <class M>
void insert_sorted(std::vector<std::pair<std::uint64_t, M>>& v, std::uint64_t at, M m) {
  auto it = std::upper_bound(v.begin(), v.end(), at, [](std::uint64_t t, const auto& e) { return t < e.first; });
  v.insert(it, {at, std::move(m)});
}

template <class M, class Port>
bool send_due(std::vector<std::pair<std::uint64_t, M>>& v, Port& out, Cycle now, Component& self,
              const std::function<void(Cycle)>& wake) {
  std::size_t n = 0;
  while (n < v.size() && v[n].first <= now.value) {
    out.send(v[n].second, Priority::response);
    ++n;
  }
  v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n));
  if (!v.empty()) wake(Cycle(std::max(v.front().first, now.value + 1)));
  return false;
}
}  // namespace

ParamSchema ScratchStub::param_schema() {
  ParamSchema s;
  s.integer("latency", 25, "cycles from arrival to response", 1);
  return s;
}
ScratchStub::ScratchStub(const ComponentContext& ctx)
    : Component(ctx), latency_(static_cast<std::uint64_t>(params().integer("latency"))) {}
bool ScratchStub::tick(Cycle now) {
  while (req.ready()) {
    ScratchRequest r = req.pop();
    ++accesses;
    insert_sorted(pending_, now.value + latency_, MemResponse{r.req});
  }
  return send_due(pending_, resp, now, *this, [this](Cycle c) { wake_at(c); });
}

ParamSchema CopyStub::param_schema() {
  ParamSchema s;
  s.integer("latency", 500, "cycles from a command's arrival to its completion (plus its transfer)", 1)
      .real("bytes_per_cycle", 64, "transfer rate of the engine", 1);
  return s;
}
CopyStub::CopyStub(const ComponentContext& ctx)
    : Component(ctx),
      latency_(static_cast<std::uint64_t>(params().integer("latency"))),
      bytes_per_cycle_(params().real("bytes_per_cycle")) {}
bool CopyStub::tick(Cycle now) {
  while (cmd.ready()) {
    CopyCommand c = cmd.pop();
    ++commands;
    bytes += c.bytes();
    busy_until_ = std::max(busy_until_, static_cast<double>(now.value)) + static_cast<double>(c.bytes()) / bytes_per_cycle_;
    const auto at = static_cast<std::uint64_t>(std::ceil(busy_until_)) + latency_;
    insert_sorted(pending_, at, CopyDone{c.id, c.issued, c.bytes(), 1});
  }
  return send_due(pending_, done, now, *this, [this](Cycle c) { wake_at(c); });
}

ParamSchema MemStub::param_schema() {
  ParamSchema s;
  s.integer("latency", 400, "cycles from arrival to response", 1);
  return s;
}
MemStub::MemStub(const ComponentContext& ctx)
    : Component(ctx), latency_(static_cast<std::uint64_t>(params().integer("latency"))) {}
bool MemStub::tick(Cycle now) {
  while (req.ready()) {
    MemRequest r = req.pop();
    ++requests;
    insert_sorted(pending_, now.value + latency_, MemResponse{r});
  }
  return send_due(pending_, resp, now, *this, [this](Cycle c) { wake_at(c); });
}

std::shared_ptr<const isa::Module> parse_module(const std::string& text, const std::string& name) {
  auto m = std::make_shared<isa::Module>(isa::parse_module(text, name));
  isa::verify_or_throw(*m);
  return m;
}

SmRig::SmRig(const std::string& tile_text, const std::string& kernel, const core::LaunchArgs& args, RigOptions o)
    : SmRig(parse_module(tile_text), kernel, args, std::move(o)) {}

SmRig::SmRig(std::shared_ptr<const isa::Module> module, const std::string& kernel, const core::LaunchArgs& args,
             RigOptions o)
    : o_(std::move(o)) {
  ParamValues simp = ParamValues::resolve(sim_param_schema(), {{"watchdog", "10ms"}}, "sim");
  sim_ = std::make_unique<Simulator>(simp);
  ClockDomain& clk = sim_->add_clock("core", o_.clock_hz);
  module_ = std::move(module);
  launch_ = std::make_shared<core::KernelLaunch>(core::bind_launch(module_, kernel, args));

  const ParamValues smp = ParamValues::resolve(simt::simt_sm_schema(), o_.sm, "core.sm");
  const simt::SimtParams sp = simt::read_simt_params(smp);
  tensor::TensorUnitContext tctx{ParamValues::resolve(tensor::tensor_unit_schema(), o_.tensor, "core.tensor"),
                                 sp.sub_partitions};
  tensor_ = tensor::make_tensor_unit(tctx, tctx.params.string("kind"));
  simt::SimtLowering lowering(sp, *tensor_, "rig");
  lowered_ = std::static_pointer_cast<const simt::SimtLoweredKernel>(lowering.lower(*launch_));

  auto launches = std::make_shared<std::vector<simt::SimtLaunch>>();
  launches->push_back({launch_, lowered_});
  simt::SmEnvironment env;
  env.launches = launches;
  env.scratch_bytes = o_.scratch_bytes;
  env.cluster_window_bytes = 1 << 20;

  const LinkParams one{clk.tick_of(Cycle(1)), 0, 0};
  std::vector<core::CoreResources> res;
  for (std::uint32_t c = 0; c < o_.cores; ++c) {
    auto sm = std::make_unique<simt::Sm>(ComponentContext{cat("sm", c), "simt_sm", smp, &clk, sim_.get()}, c, sp, env);
    simt::Sm& s = *sm;
    sim_->add(std::move(sm));
    sms_.push_back(&s);
    res.push_back(s.resources());
    auto mem = std::make_unique<MemStub>(ComponentContext{cat("mem", c), "mem_stub",
                                                          ParamValues::resolve(MemStub::param_schema(), {{"latency", std::to_string(o_.mem_latency)}}, "mem"),
                                                          &clk, sim_.get()});
    auto scr = std::make_unique<ScratchStub>(ComponentContext{cat("scratch", c), "scratch_stub",
                                                              ParamValues::resolve(ScratchStub::param_schema(), {{"latency", std::to_string(o_.scratch_latency)}}, "scratch"),
                                                              &clk, sim_.get()});
    auto rem = std::make_unique<ScratchStub>(ComponentContext{cat("remote", c), "scratch_stub",
                                                              ParamValues::resolve(ScratchStub::param_schema(), {{"latency", "100"}}, "remote"),
                                                              &clk, sim_.get()});
    auto cp = std::make_unique<CopyStub>(ComponentContext{cat("copy", c), "copy_stub",
                                                          ParamValues::resolve(CopyStub::param_schema(),
                                                                               {{"latency", std::to_string(o_.copy_latency)},
                                                                                {"bytes_per_cycle", std::to_string(o_.copy_bytes_per_cycle)}},
                                                                               "copy"),
                                                          &clk, sim_.get()});
    sim_->connect(s.cache_req, mem->req, one);
    sim_->connect(mem->resp, s.cache_resp, one);
    sim_->connect(s.scratch_req, scr->req, one);
    sim_->connect(scr->resp, s.scratch_resp, one);
    sim_->connect(s.remote_req, rem->req, one);
    sim_->connect(rem->resp, s.remote_resp, one);
    sim_->connect(s.copy_cmd, cp->cmd, one);
    sim_->connect(cp->done, s.copy_done, one);
    mems_.push_back(mem.get());
    sim_->add(std::move(mem));
    sim_->add(std::move(scr));
    sim_->add(std::move(rem));
    sim_->add(std::move(cp));
  }
  std::vector<core::DispatchItem> items{{launch_, lowered_->footprint()}};
  auto d = std::make_unique<core::GridDispatcher>(
      ComponentContext{"dispatcher", "grid_dispatcher", ParamValues::resolve(core::GridDispatcher::param_schema(), o_.dispatch, "core.dispatch"),
                       &clk, sim_.get()},
      res, o_.cores_per_group, items);
  dispatcher_ = d.get();
  sim_->add(std::move(d));
  for (std::uint32_t c = 0; c < o_.cores; ++c) {
    sim_->connect(*dispatcher_->launch_ports[c], sms_[c]->launch, one);
    sim_->connect(sms_[c]->done, dispatcher_->done, one);
  }
}

SmRig::~SmRig() = default;

RunInfo SmRig::run() { return sim_->run(); }

double SmRig::stat(const std::string& component, const std::string& stat_name) {
  const StatsReport r = sim_->stats_report();
  for (const auto& c : r.scopes.front().components)
    if (c.name == component)
      for (const auto& v : c.values)
        if (v.name == stat_name) return v.value;
  panic("no stat ", component, ".", stat_name);
}

double SmRig::kernel_cycles() {
  const StatsReport r = sim_->stats_report();
  if (r.scopes.size() < 2) panic("no kernel scope");
  const auto& k = r.scopes[1];
  return static_cast<double>(k.end - k.begin) * static_cast<double>(o_.clock_hz) / 1e12;
}

}  // namespace tilesim::simt_test

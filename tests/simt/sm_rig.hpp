// A test rig for the SIMT SM: SMs and the grid dispatcher of arch/, wired to stub memory ports with fixed,
// known latencies (first-principles checks), running a kernel given as .tile text.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "arch/core/grid_dispatcher.hpp"
#include "arch/core/launch.hpp"
#include "arch/memory/messages.hpp"
#include "arch/simt/sm.hpp"
#include "arch/tensor/tensor_unit.hpp"
#include "sim/component.hpp"
#include "sim/port.hpp"
#include "sim/simulator.hpp"

namespace tilesim::simt_test {

/// Scratch / DSMEM stand-in: answers every access `latency` cycles after it arrives.
class ScratchStub final : public Component {
 public:
  static ParamSchema param_schema();
  explicit ScratchStub(const ComponentContext& ctx);
  bool tick(Cycle now) override;
  bool busy() const override { return !pending_.empty(); }
  InPort<ScratchRequest> req{*this, "req", "ScratchRequest"};
  OutPort<MemResponse> resp{*this, "resp", "MemResponse"};
  std::uint64_t accesses = 0;

 private:
  std::uint64_t latency_;
  std::vector<std::pair<std::uint64_t, MemResponse>> pending_;
};

/// Copy-engine stand-in: a command completes `latency` cycles after it arrives plus bytes / bandwidth.
class CopyStub final : public Component {
 public:
  static ParamSchema param_schema();
  explicit CopyStub(const ComponentContext& ctx);
  bool tick(Cycle now) override;
  bool busy() const override { return !pending_.empty(); }
  InPort<CopyCommand> cmd{*this, "cmd", "CopyCommand"};
  OutPort<CopyDone> done{*this, "done", "CopyDone"};
  std::uint64_t commands = 0, bytes = 0;

 private:
  std::uint64_t latency_;
  double bytes_per_cycle_;
  double busy_until_ = 0;
  std::vector<std::pair<std::uint64_t, CopyDone>> pending_;
};

/// Global memory stand-in: MemRequest -> MemResponse after `latency` cycles (unlimited bandwidth).
class MemStub final : public Component {
 public:
  static ParamSchema param_schema();
  explicit MemStub(const ComponentContext& ctx);
  bool tick(Cycle now) override;
  bool busy() const override { return !pending_.empty(); }
  InPort<MemRequest> req{*this, "req", "MemRequest"};
  OutPort<MemResponse> resp{*this, "resp", "MemResponse"};
  std::uint64_t requests = 0;

 private:
  std::uint64_t latency_;
  std::vector<std::pair<std::uint64_t, MemResponse>> pending_;
};

struct RigOptions {
  std::uint32_t cores = 1;
  std::uint64_t clock_hz = 1'000'000'000;  // 1 GHz: 1 cycle = 1 ns
  std::uint64_t mem_latency = 400;
  std::uint64_t scratch_latency = 25;
  std::uint64_t copy_latency = 500;
  double copy_bytes_per_cycle = 64;
  std::uint64_t scratch_bytes = 228 * 1024;
  std::map<std::string, std::string> sm;      // core.sm overrides
  std::map<std::string, std::string> tensor;  // core.tensor overrides
  std::map<std::string, std::string> dispatch;
  std::uint32_t cores_per_group = 8;
};

class SmRig {
 public:
  /// Parse `tile_text`, bind `kernel` with `args` and build `o.cores` SMs. ParamValues of the sections are
  /// resolved against the real schemas (so overrides are checked).
  SmRig(const std::string& tile_text, const std::string& kernel, const core::LaunchArgs& args, RigOptions o = {});
  SmRig(std::shared_ptr<const isa::Module> module, const std::string& kernel, const core::LaunchArgs& args,
        RigOptions o = {});
  ~SmRig();
  RunInfo run();

  Simulator& sim() { return *sim_; }
  simt::Sm& sm(std::uint32_t i) { return *sms_.at(i); }
  core::GridDispatcher& dispatcher() { return *dispatcher_; }
  const core::KernelLaunch& launch() const { return *launch_; }
  const simt::SimtLoweredKernel& lowered() const { return *lowered_; }
  /// A statistic of component `name` (total scope).
  double stat(const std::string& component, const std::string& stat_name);
  /// Kernel duration in cycles (the kernel scope).
  double kernel_cycles();
  MemStub& mem(std::uint32_t i) { return *mems_.at(i); }

 private:
  std::unique_ptr<Simulator> sim_;
  std::shared_ptr<const isa::Module> module_;
  std::shared_ptr<const core::KernelLaunch> launch_;
  std::shared_ptr<const simt::SimtLoweredKernel> lowered_;
  std::unique_ptr<tensor::TensorUnit> tensor_;
  std::vector<simt::Sm*> sms_;
  std::vector<MemStub*> mems_;
  core::GridDispatcher* dispatcher_ = nullptr;
  RigOptions o_;
};

/// Parse a .tile text into a module (throws on parse or verify errors).
std::shared_ptr<const isa::Module> parse_module(const std::string& text, const std::string& name = "test.tile");

}  // namespace tilesim::simt_test

#include "sim/component.hpp"

#include "sim/clock_domain.hpp"
#include "sim/error.hpp"
#include "sim/port.hpp"
#include "sim/simulator.hpp"

namespace tilesim {

namespace {
// splitmix64 finaliser and FNV-1a: a stable, platform-independent per-component seed.
std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}
}  // namespace

void attach_port(Component& owner, PortBase& port) { owner.register_port(port); }

std::string PortBase::full_name() const { return owner_.name() + "." + name_; }

Component::Component(const ComponentContext& ctx)
    : name_(ctx.name), kind_(ctx.kind), params_(ctx.params), clock_(ctx.clock), sim_(ctx.sim) {
  if (!clock_ || !sim_) panic("component '", name_, "' constructed without a clock domain or simulator");
  seed_ = mix(sim_->seed() ^ fnv1a(name_));
  active_cycles_ = &stats_.counter("active_cycles", "cycles", "cycles in which the component was ticked");
}

Component::~Component() = default;

PortBase* Component::find_port(const std::string& name) const {
  for (auto* p : ports_)
    if (p->name() == name) return p;
  return nullptr;
}

void Component::register_port(PortBase& port) {
  if (find_port(port.name())) panic("component '", name_, "' declares port '", port.name(), "' twice");
  ports_.push_back(&port);
}

void Component::wake_at(Cycle at) { clock_->wake(*this, at); }

void Component::note_progress() { sim_->note_progress(); }

}  // namespace tilesim

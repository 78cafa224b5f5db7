#include "arch/memory/address_map.hpp"

#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim {

AddressMap::AddressMap(const AddressMapSpec& spec, const std::string& where) : spec_(spec) {
  auto fail = [&](const std::string& why) { throw ConfigError(cat(where, ": ", why)); };
  if (spec.partitions == 0 || spec.dies == 0 || spec.slices_per_partition == 0 || spec.controllers == 0 ||
      spec.cores == 0)
    fail("partitions, dies, slices, controllers and cores must all be at least 1");
  if (spec.partitions % spec.dies != 0)
    fail(cat("partitions (", spec.partitions, ") must be a multiple of dies (", spec.dies, ")"));
  if (spec.controllers % spec.partitions != 0)
    fail(cat("controllers (", spec.controllers, ") must be a multiple of partitions (", spec.partitions, ")"));
  if (spec.slices_per_partition % (spec.controllers / spec.partitions) != 0)
    fail(cat("slices per partition (", spec.slices_per_partition, ") must be a multiple of controllers per partition (",
             spec.controllers / spec.partitions, ")"));
  if (spec.cores < spec.partitions)
    fail(cat("cores (", spec.cores, ") must be at least the number of partitions (", spec.partitions, ")"));
  if (spec.controller_interleave == 0 || spec.slice_interleave == 0) fail("interleave granules must be at least 1 byte");
}

void AddressMap::declare_params(ParamSchema& s) {
  s.integer("partitions", 1, "cache partitions on the chip (each with its own slices and memory controllers)", 1, 64)
      .integer("dies", 1, "dies the partitions are spread over (evenly)", 1, 16)
      .integer("slices_per_partition", 1, "cache slices per partition", 1, 1024)
      .integer("controllers", 1, "memory controllers in all (split evenly over partitions)", 1, 4096)
      .quantity("controller_interleave", UnitKind::size, "512B", "bytes mapped to one controller before the next", 1)
      .quantity("slice_interleave", UnitKind::size, "128B", "bytes hashed as one unit onto a slice of a controller", 1)
      .integer("cores", 1, "cores attached (split evenly over partitions, in order)", 1, 100000);
}

std::map<std::string, std::string> AddressMap::param_texts() const {
  const AddressMapSpec& s = spec_;
  return {{"partitions", std::to_string(s.partitions)},
          {"dies", std::to_string(s.dies)},
          {"slices_per_partition", std::to_string(s.slices_per_partition)},
          {"controllers", std::to_string(s.controllers)},
          {"controller_interleave", std::to_string(s.controller_interleave) + "B"},
          {"slice_interleave", std::to_string(s.slice_interleave) + "B"},
          {"cores", std::to_string(s.cores)}};
}

AddressMap AddressMap::from_params(const ParamValues& p) {
  AddressMapSpec s;
  s.partitions = static_cast<std::uint32_t>(p.integer("partitions"));
  s.dies = static_cast<std::uint32_t>(p.integer("dies"));
  s.slices_per_partition = static_cast<std::uint32_t>(p.integer("slices_per_partition"));
  s.controllers = static_cast<std::uint32_t>(p.integer("controllers"));
  s.controller_interleave = p.bytes("controller_interleave");
  s.slice_interleave = p.bytes("slice_interleave");
  s.cores = static_cast<std::uint32_t>(p.integer("cores"));
  return AddressMap(s, p.path());
}

namespace {
// Rotation of the controllers within group `group` (a group = `controllers` consecutive chunks).
std::uint32_t rotation(std::uint64_t group, std::uint32_t controllers) {
  return controllers == 1 ? 0 : static_cast<std::uint32_t>(mix64(group ^ 0x5bd1e995ull) % controllers);
}
}  // namespace

std::uint32_t AddressMap::home_controller(std::uint64_t addr) const {
  const std::uint64_t chunk = addr / spec_.controller_interleave;
  const std::uint64_t group = chunk / spec_.controllers;
  return static_cast<std::uint32_t>((chunk % spec_.controllers + rotation(group, spec_.controllers)) % spec_.controllers);
}

std::uint64_t AddressMap::controller_local(std::uint64_t addr) const {
  const std::uint64_t g = spec_.controller_interleave;
  return (addr / g / spec_.controllers) * g + addr % g;
}

std::uint64_t AddressMap::global_from_local(std::uint32_t controller, std::uint64_t local) const {
  const std::uint64_t g = spec_.controller_interleave;
  const std::uint64_t group = local / g;
  const std::uint32_t r = rotation(group, spec_.controllers);
  const std::uint64_t position = (controller + spec_.controllers - r) % spec_.controllers;
  return (group * spec_.controllers + position) * g + local % g;
}

std::uint32_t AddressMap::slice_index(std::uint64_t addr) const {
  const std::uint32_t per_controller = slices_per_controller();
  const std::uint32_t controller_in_partition = home_controller(addr) % controllers_per_partition();
  // Consecutive slice_interleave granules of a controller's (dense, local) address space go to its slices
  // in turn: each slice then holds every per_controller-th granule, a dense sequence of its own.
  const std::uint32_t sub =
      per_controller == 1 ? 0 : static_cast<std::uint32_t>(controller_local(addr) / spec_.slice_interleave % per_controller);
  return controller_in_partition * per_controller + sub;
}

std::uint32_t AddressMap::partition_of_core(std::uint32_t core) const {
  for (std::uint32_t p = 0; p + 1 < spec_.partitions; ++p)
    if (core < first_core(p + 1)) return p;
  return spec_.partitions - 1;
}

// Partition p holds cores [first_core(p), first_core(p) + cores_in(p)): an even split, the remainder
// spread over the first partitions.
std::uint32_t AddressMap::first_core(std::uint32_t partition) const {
  const std::uint32_t base = spec_.cores / spec_.partitions, extra = spec_.cores % spec_.partitions;
  return partition * base + (partition < extra ? partition : extra);
}

std::uint32_t AddressMap::cores_in(std::uint32_t partition) const {
  const std::uint32_t base = spec_.cores / spec_.partitions, extra = spec_.cores % spec_.partitions;
  return base + (partition < extra ? 1 : 0);
}

std::uint32_t AddressMap::controller_of_slice(std::uint32_t global) const {
  const std::uint32_t part = partition_of_slice(global), local = global % spec_.slices_per_partition;
  return part * controllers_per_partition() + local / slices_per_controller();
}

}  // namespace tilesim

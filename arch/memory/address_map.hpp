// Where an address lives in a partitioned, sliced last-level cache and its memory controllers
// (DESIGN.md §6). Used read-only by the builder, the crossbars, the partition fabric and the cache slices;
// it holds no state, so every component builds its own copy from the same parameters.
//
// Layout: `partitions` cache partitions (spread evenly over `dies`), each with `slices_per_partition`
// slices and controllers / partitions memory controllers. Global addresses are spread over the
// controllers in chunks of `controller_interleave` bytes (as dram::ControllerInterleave: chunk k goes to
// controller k mod controllers, here rotated by a hash of k / controllers so that power-of-two strides
// do not pile onto one controller; a rotation within each group keeps the controller-local address
// valid). An address's *home* is its controller's partition; its slice index within a partition is
// that controller's local index x slices_per_controller + (controller-local address / slice_interleave)
// mod slices_per_controller. Every
// partition may cache any address (a replica) in the slice with the same index; the home slice is the
// point of coherence and the only one that talks to DRAM for that address. Cores are split evenly, in
// order, over the partitions.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "sim/params.hpp"

namespace tilesim {

struct AddressMapSpec {
  std::uint32_t partitions = 1;
  std::uint32_t dies = 1;
  std::uint32_t slices_per_partition = 1;
  std::uint32_t controllers = 1;              // memory controllers in all
  std::uint64_t controller_interleave = 512;  // bytes mapped to one controller before the next
  std::uint64_t slice_interleave = 128;       // bytes hashed as one unit onto a slice of a controller
  std::uint32_t cores = 1;
};

class AddressMap {
 public:
  /// Checks the spec (divisibility, powers of two where hashing needs them); ConfigError naming `where`.
  AddressMap(const AddressMapSpec& spec, const std::string& where);

  /// Declares the address-map parameters a component needs (shared by crossbar, fabric, slices).
  static void declare_params(ParamSchema& schema);
  /// Reads the parameters declared by declare_params.
  static AddressMap from_params(const ParamValues& params);
  /// The parameters of declare_params for this map, as text (to configure a component with it).
  std::map<std::string, std::string> param_texts() const;

  const AddressMapSpec& spec() const { return spec_; }
  std::uint32_t partitions() const { return spec_.partitions; }
  std::uint32_t slices() const { return spec_.partitions * spec_.slices_per_partition; }
  std::uint32_t controllers() const { return spec_.controllers; }
  std::uint32_t controllers_per_partition() const { return spec_.controllers / spec_.partitions; }

  std::uint32_t home_partition(std::uint64_t addr) const {
    return home_controller(addr) / controllers_per_partition();
  }
  /// Slice index within a partition (the same in every partition).
  std::uint32_t slice_index(std::uint64_t addr) const;
  std::uint32_t global_slice(std::uint32_t partition, std::uint32_t local) const {
    return partition * spec_.slices_per_partition + local;
  }
  std::uint32_t home_slice(std::uint64_t addr) const { return global_slice(home_partition(addr), slice_index(addr)); }
  std::uint32_t partition_of_slice(std::uint32_t global) const { return global / spec_.slices_per_partition; }
  std::uint32_t die_of_partition(std::uint32_t partition) const {
    return partition / (spec_.partitions / spec_.dies);
  }
  std::uint32_t partition_of_core(std::uint32_t core) const;
  std::uint32_t die_of_core(std::uint32_t core) const { return die_of_partition(partition_of_core(core)); }
  /// First core of a partition and the number of cores in it.
  std::uint32_t first_core(std::uint32_t partition) const;
  std::uint32_t cores_in(std::uint32_t partition) const;
  /// Memory controller (global index) that owns `addr`.
  std::uint32_t home_controller(std::uint64_t addr) const;
  /// Controller (global index) a slice's misses go to.
  std::uint32_t controller_of_slice(std::uint32_t global_slice) const;
  std::uint32_t slices_per_controller() const { return spec_.slices_per_partition / controllers_per_partition(); }
  /// Address as seen by controller `home_controller(addr)` (dense, starting at 0), and back.
  std::uint64_t controller_local(std::uint64_t addr) const;
  std::uint64_t global_from_local(std::uint32_t controller, std::uint64_t local) const;

 private:
  AddressMapSpec spec_;
};

/// A fixed 64-bit mixing function (the MurmurHash3 finaliser): deterministic, spreads strided addresses.
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

}  // namespace tilesim

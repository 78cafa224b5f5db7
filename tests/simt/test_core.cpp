// The Core interface pieces: occupancy from resources and footprints; the grid dispatcher's order,
// placement and kernel scope.
#include <catch2/catch.hpp>

#include "arch/core/core.hpp"
#include "arch/core/launch.hpp"
#include "tests/simt/sm_rig.hpp"

using namespace tilesim;
using namespace tilesim::core;

TEST_CASE("occupancy is limited by the scarcest resource and names it", "[core][occupancy]") {
  CoreResources res;  // H100-like: 64K registers, 228 KiB scratch, 2048 threads, 32 slots
  ProgramFootprint fp;
  fp.threads = 128;
  fp.registers_per_thread = 32;
  fp.scratch_bytes = 0;
  Occupancy o = occupancy(res, fp);
  CHECK(o.programs == 16);  // 2048 threads / 128
  CHECK(o.limiter == "threads");

  fp.registers_per_thread = 168;  // 168*32 = 5376 -> 5376 per warp (granule 256) x 4 warps = 21504
  o = occupancy(res, fp);
  CHECK(o.registers_per_program == 21504);
  CHECK(o.programs == 3);  // 65536 / 21504
  CHECK(o.limiter == "registers");

  fp.registers_per_thread = 32;
  fp.scratch_bytes = 100 * 1024;  // + 1 KiB reserved = 101 KiB -> 2 per 228 KiB
  o = occupancy(res, fp);
  CHECK(o.programs == 2);
  CHECK(o.limiter == "scratch");

  fp.scratch_bytes = 0;
  fp.threads = 32;
  res.program_slots = 8;
  o = occupancy(res, fp);
  CHECK(o.programs == 8);
  CHECK(o.limiter == "slots");

  fp.scratch_bytes = 300 * 1024;
  CHECK(occupancy(res, fp).programs == 0);
}

TEST_CASE("register allocation rounds per warp to the granule", "[core][occupancy]") {
  CoreResources res;
  ProgramFootprint fp;
  fp.threads = 96;               // 3 warps
  fp.registers_per_thread = 33;  // 1056 per warp -> 1280
  CHECK(occupancy(res, fp).registers_per_program == 3 * 1280);
}

TEST_CASE("program coordinates run axis 0 fastest", "[core][launch]") {
  KernelLaunch l;
  l.grid = {3, 2, 2};
  CHECK(program_coord(l, 0) == std::array<std::int64_t, 3>{0, 0, 0});
  CHECK(program_coord(l, 2) == std::array<std::int64_t, 3>{2, 0, 0});
  CHECK(program_coord(l, 3) == std::array<std::int64_t, 3>{0, 1, 0});
  CHECK(program_coord(l, 11) == std::array<std::int64_t, 3>{2, 1, 1});
}

TEST_CASE("binding a launch evaluates the grid and rejects bad arguments", "[core][launch]") {
  auto m = simt_test::parse_module(R"(
kernel @k(%X: global<f32>[N, 64], N: i32) grid(cdiv(N, 32)) {
  %p = program_id 0
  %c0 = const 0 : index
  %x = load %X[%p, %c0] : tile<f32>[32, 64] @reg
  store %x, %X[%p, %c0]
}
)");
  LaunchArgs a;
  a.scalars = {{"N", 100}};
  const KernelLaunch l = bind_launch(m, "k", a);
  CHECK(l.grid[0] == 4);
  CHECK(l.programs() == 4);
  REQUIRE(l.globals.size() == 1);
  CHECK(l.globals[0].bytes() == 100 * 64 * 4);
  CHECK(l.globals[0].base % a.alignment == 0);

  a.scalars = {};
  CHECK_THROWS_WITH(bind_launch(m, "k", a), Catch::Matchers::Contains("no value for scalar parameter 'N'"));
  a.scalars = {{"N", 100}, {"Q", 1}};
  CHECK_THROWS_WITH(bind_launch(m, "k", a), Catch::Matchers::Contains("has no parameter 'Q'"));
  a.scalars = {{"N", 0}};
  CHECK_THROWS_WITH(bind_launch(m, "k", a), Catch::Matchers::Contains("must be positive"));
}

TEST_CASE("tiles load with zero fill and store only inside the tensor", "[core][launch]") {
  isa::TileValue t(isa::DType::f32, {3, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14});
  const isa::TileValue a = load_tile(t, {1, 1}, {2, 3}, isa::DType::f32);  // rows 2..3, cols 3..5
  CHECK(a.values() == std::vector<double>{13, 14, 0, 0, 0, 0});
  store_tile(t, {1, 1}, isa::TileValue(isa::DType::f32, {2, 3}, {-1, -2, -3, -4, -5, -6}));
  CHECK(t.at(13) == -1);
  CHECK(t.at(14) == -2);
  CHECK(t.at(12) == 12);
  store_tile(t, {0, 0}, isa::TileValue(isa::DType::f32, {2, 3}, {1, 1, 1, 1, 1, 1}), /*add=*/true);
  CHECK(t.at(0) == 1);
  CHECK(t.at(5) == 6);
}

namespace {
const char* const kTinyGrid = R"(
kernel @tiny(%X: global<f32>[N, 32], N: i32) grid(cdiv(N, 32)) resources(warps=1) {
  %p = program_id 0
  %c0 = const 0 : index
  %x = load %X[%p, %c0] : tile<f32>[32, 32] @reg
  %y = add %x, %x
  store %y, %X[%p, %c0]
}
)";
}

TEST_CASE("the dispatcher fills cores breadth first and respects occupancy", "[core][dispatcher]") {
  core::LaunchArgs a;
  a.scalars = {{"N", 32 * 12}};  // 12 programs
  simt_test::RigOptions o;
  o.cores = 4;
  o.sm = {{"program_slots", "2"}};  // at most 2 programs per SM
  simt_test::SmRig rig(kTinyGrid, "tiny", a, o);
  CHECK(rig.dispatcher().occupancy_of(0).programs == 2);
  CHECK(rig.dispatcher().occupancy_of(0).limiter == "slots");
  const RunInfo info = rig.run();
  REQUIRE(info.completed);
  for (std::uint32_t c = 0; c < 4; ++c) CHECK(rig.stat(cat("sm", c), "programs") == 3);
  CHECK(rig.stat("dispatcher", "programs") == 12);
  CHECK(rig.stat("dispatcher", "kernels") == 1);
  CHECK(rig.stat("dispatcher", "resident_programs.max") == 2);
  // Two waves (8 resident programs, then 4). A program holds its slot for its load's memory trip and hands
  // it back once its store is issued, so the kernel lasts two load trips plus the last wave's store trip.
  const double trip = 400;
  CHECK(rig.kernel_cycles() > 3 * trip);
  CHECK(rig.kernel_cycles() < 3 * trip + 300);
}

TEST_CASE("the fill policy packs the lowest cores first", "[core][dispatcher]") {
  core::LaunchArgs a;
  a.scalars = {{"N", 32 * 4}};
  simt_test::RigOptions o;
  o.cores = 4;
  o.dispatch = {{"policy", "fill"}};
  simt_test::SmRig rig(kTinyGrid, "tiny", a, o);
  REQUIRE(rig.run().completed);
  CHECK(rig.stat("sm0", "programs") == 4);
  CHECK(rig.stat("sm1", "programs") == 0);
}

namespace {
/// kTinyGrid launched in clusters of 2 programs.
std::string tiny_clustered() {
  std::string text = kTinyGrid;
  return text.insert(text.find("resources"), "cluster(2) ");
}

/// Cores that ran programs when 4 clusters of 2 go out on 8 cores in groups of 4 under `policy`.
int cores_used_by_clusters(const char* policy) {
  core::LaunchArgs a;
  a.scalars = {{"N", 32 * 8}};
  simt_test::RigOptions o;
  o.cores = 8;
  o.cores_per_group = 4;
  o.dispatch = {{"policy", policy}};
  simt_test::SmRig rig(tiny_clustered(), "tiny", a, o);
  REQUIRE(rig.run().completed);
  CHECK(rig.stat("dispatcher", "clusters") == 4);
  int used = 0;
  for (std::uint32_t c = 0; c < 8; ++c) used += rig.stat(cat("sm", c), "programs") > 0 ? 1 : 0;
  return used;
}
}  // namespace

TEST_CASE("clusters spread over a group's cores before any core takes a second program", "[core][dispatcher]") {
  // round_robin, the hardware's breadth-first CTA distribution: the 4 clusters take 8 different cores.
  CHECK(cores_used_by_clusters("round_robin") == 8);
}

TEST_CASE("the fill policy stacks clusters on the lowest cores of the first group", "[core][dispatcher]") {
  CHECK(cores_used_by_clusters("fill") == 2);
}

TEST_CASE("clusters on cores without thread-block clusters are refused", "[core][dispatcher]") {
  core::LaunchArgs a;
  a.scalars = {{"N", 32 * 4}};
  simt_test::RigOptions o;
  o.dispatch = {{"max_cluster_size", "1"}};
  CHECK_THROWS_WITH(simt_test::SmRig(tiny_clustered(), "tiny", a, o),
                    Catch::Matchers::Contains("clusters of 2 programs") &&
                        Catch::Matchers::Contains("max_cluster_size: no thread-block clusters"));
}

TEST_CASE("a kernel whose program does not fit is refused with the numbers", "[core][dispatcher]") {
  core::LaunchArgs a;
  a.scalars = {{"N", 32}};
  simt_test::RigOptions o;
  o.scratch_bytes = 512;  // less than the 1 KiB the driver reserves per program
  CHECK_THROWS_WITH(simt_test::SmRig(kTinyGrid, "tiny", a, o), Catch::Matchers::Contains("does not fit on a core"));
}

TEST_CASE("launch latency delays the first program and the kernel scope opens with it", "[core][dispatcher]") {
  core::LaunchArgs a;
  a.scalars = {{"N", 32}};
  simt_test::RigOptions o;
  o.dispatch = {{"launch_latency", "2us"}};
  simt_test::SmRig rig(kTinyGrid, "tiny", a, o);
  REQUIRE(rig.run().completed);
  const StatsReport r = rig.sim().stats_report();
  REQUIRE(r.scopes.size() == 2);
  CHECK(r.scopes[1].begin == 2'000'000);  // 2 us in ps
}

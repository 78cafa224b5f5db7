// First-principles tests of the megacore's DMA descriptors (arch/megacore/dma_commands.hpp): the row-major
// box and XLA's TPU tiled HBM layout.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "arch/megacore/dma_commands.hpp"

using namespace tilesim;
using namespace tilesim::megacore;

namespace {

core::GlobalBinding matrix(std::int64_t rows, std::int64_t cols, std::uint64_t base) {
  core::GlobalBinding t;
  t.dtype = isa::DType::bf16;
  t.shape = {rows, cols};
  t.strides = {cols, 1};
  t.base = base;
  return t;
}

/// Every global byte the commands touch, with the VMEM byte it lands in.
std::map<std::uint64_t, std::uint64_t> bytes_of(const std::vector<CopyCommand>& cmds) {
  std::map<std::uint64_t, std::uint64_t> out;
  for (const CopyCommand& c : cmds)
    for (std::uint32_t r = 0; r < c.rows; ++r)
      for (std::uint32_t b = 0; b < c.row_bytes; ++b) {
        const bool fresh = out.emplace(c.global_addr + r * c.pitch + b, c.scratch_addr + r * c.row_bytes + b).second;
        REQUIRE(fresh);  // no byte twice
      }
  return out;
}

}  // namespace

TEST_CASE("row-major layout: a tile is one strided box of its rows", "[megacore][dma]") {
  const auto t = matrix(64, 512, 1 << 20);
  const auto cmds = tile_commands(t, {1, 2}, {16, 128}, 2, 4096, CopyDirection::to_scratch, HbmLayout{});
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].global_addr == (1u << 20) + (16 * 512 + 256) * 2);
  CHECK(cmds[0].rows == 16);
  CHECK(cmds[0].row_bytes == 256);
  CHECK(cmds[0].pitch == 1024);
}

TEST_CASE("tiled layout: a box of whole 8 x 128 tiles is one command of contiguous tile runs", "[megacore][dma]") {
  const HbmLayout l{8, 128};
  const auto t = matrix(64, 512, 1 << 20);
  REQUIRE(l.tiled(t));
  // Rows 16..31, cols 256..511: tile rows 2 and 3, tile columns 2 and 3. A tile is 8 x 128 x 2 B = 2 KiB and a
  // tile row (8 matrix rows) is 4 tiles = 8 KiB, so each tile row of the box is 4 KiB contiguous.
  const auto cmds = tile_commands(t, {1, 1}, {16, 256}, 2, 4096, CopyDirection::to_scratch, l);
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].global_addr == (1u << 20) + 2 * 8192 + 2 * 2048);
  CHECK(cmds[0].rows == 2);
  CHECK(cmds[0].row_bytes == 4096);
  CHECK(cmds[0].pitch == 8192);
  CHECK(cmds[0].bytes() == 16u * 256 * 2);
}

TEST_CASE("tiled layout: unaligned boxes still cover the tensor once, inside its footprint", "[megacore][dma]") {
  const HbmLayout l{8, 128};
  const auto t = matrix(48, 384, 0x10000);
  REQUIRE(l.tiled(t));
  const std::vector<std::int64_t> box{12, 100};  // neither rows nor columns line up with the tiles
  std::set<std::uint64_t> seen;
  std::uint64_t moved = 0;
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t j = 0; j < 4; ++j) {
      const auto cmds = tile_commands(t, {i, j}, box, 2, 0, CopyDirection::to_scratch, l);
      const auto bytes = bytes_of(cmds);
      std::uint64_t inside = 0;
      for (const auto& [g, v] : bytes) {
        CHECK(seen.insert(g).second);  // no global byte in two tiles
        CHECK(g >= t.base);
        CHECK(g < t.base + t.bytes());
        (void)v;
        ++inside;
      }
      // VMEM is filled densely from the tile's start.
      if (!bytes.empty()) {
        std::uint64_t hi = 0;
        for (const auto& [g, v] : bytes) hi = std::max(hi, v);
        CHECK(hi + 1 == inside);
      }
      moved += inside;
    }
  CHECK(moved == t.bytes());
}

TEST_CASE("tiled layout: element (r, c) lands at its tile's address", "[megacore][dma]") {
  const HbmLayout l{8, 128};
  const auto t = matrix(16, 256, 0);
  // One element at row 9, column 130: tile (1, 1) at 1 x 8 rows x 512 B + 1 x 2 KiB; inside it row 1, column 2.
  const auto cmds = tile_commands(t, {9, 130}, {1, 1}, 2, 0, CopyDirection::to_scratch, l);
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].global_addr == 8 * 512 + 2048 + (1 * 128 + 2) * 2);
  CHECK(cmds[0].bytes() == 2);
}

TEST_CASE("tiled layout: tensors that are not whole tiles stay row-major", "[megacore][dma]") {
  const HbmLayout l{8, 128};
  const auto t = matrix(20, 512, 0);  // 20 rows: not a multiple of 8
  CHECK_FALSE(l.tiled(t));
  const auto cmds = tile_commands(t, {0, 0}, {20, 128}, 2, 0, CopyDirection::to_scratch, l);
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].rows == 20);
  CHECK(cmds[0].pitch == 1024);
}

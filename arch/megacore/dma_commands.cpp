#include "arch/megacore/dma_commands.hpp"

#include <algorithm>

namespace tilesim::megacore {

bool HbmLayout::tiled(const core::GlobalBinding& t) const {
  const std::size_t r = t.shape.size();
  return tile_rows > 0 && r >= 2 && t.shape[r - 2] % tile_rows == 0 && t.shape[r - 1] % tile_cols == 0 &&
         t.strides[r - 1] == 1;
}

namespace {

/// The commands for rows [r0, r1) x cols [c0, c1) of one 2-D matrix of `t` starting at byte `base` in the
/// tiled layout: full tiles of consecutive tile columns are one contiguous run, and the tile rows of a box
/// whose columns are whole tiles form one strided command; partial tiles go row by row.
void tiled_box_commands(const HbmLayout& l, const core::GlobalBinding& t, std::uint64_t base, std::int64_t r0,
                        std::int64_t r1, std::int64_t c0, std::int64_t c1, std::uint32_t eb, CopyCommand proto,
                        std::vector<CopyCommand>& out) {
  const std::int64_t tr = l.tile_rows, tc = l.tile_cols;
  const std::uint64_t pitch = static_cast<std::uint64_t>(t.strides[t.shape.size() - 2]) * eb;  // one matrix row
  const std::uint64_t tile_bytes = static_cast<std::uint64_t>(tr * tc) * eb;
  auto tile_at = [&](std::int64_t i, std::int64_t j) {
    return base + static_cast<std::uint64_t>(i * tr) * pitch + static_cast<std::uint64_t>(j) * tile_bytes;
  };
  std::uint32_t scratch = proto.scratch_addr;
  const bool whole_cols = c0 % tc == 0 && c1 % tc == 0;
  std::int64_t i = r0 / tr;
  while (i * tr < r1) {
    const std::int64_t ra = std::max(r0, i * tr), rb = std::min(r1, (i + 1) * tr);
    if (whole_cols && ra == i * tr && rb == (i + 1) * tr) {
      std::int64_t n = 1;  // whole tile rows in a row: one strided command
      while ((i + n + 1) * tr <= r1) ++n;
      CopyCommand c = proto;
      c.global_addr = tile_at(i, c0 / tc);
      c.scratch_addr = scratch;
      c.rows = static_cast<std::uint32_t>(n);
      c.row_bytes = static_cast<std::uint32_t>(static_cast<std::uint64_t>((c1 - c0) / tc) * tile_bytes);
      c.pitch = static_cast<std::uint64_t>(tr) * pitch;
      out.push_back(c);
      scratch += static_cast<std::uint32_t>(c.bytes());
      i += n;
      continue;
    }
    for (std::int64_t r = ra; r < rb; ++r)
      for (std::int64_t j = c0 / tc; j * tc < c1; ++j) {
        const std::int64_t ca = std::max(c0, j * tc), cb = std::min(c1, (j + 1) * tc);
        CopyCommand c = proto;
        c.global_addr = tile_at(i, j) + static_cast<std::uint64_t>((r - i * tr) * tc + (ca - j * tc)) * eb;
        c.scratch_addr = scratch;
        c.rows = 1;
        c.row_bytes = static_cast<std::uint32_t>((cb - ca) * eb);
        c.pitch = c.row_bytes;
        out.push_back(c);
        scratch += c.row_bytes;
      }
    ++i;
  }
}

}  // namespace

std::vector<CopyCommand> tile_commands(const core::GlobalBinding& t, const std::vector<std::int64_t>& coord,
                                       const std::vector<std::int64_t>& shape, std::uint32_t elem_bytes,
                                       std::uint64_t vmem_addr, CopyDirection dir, const HbmLayout& layout) {
  std::vector<CopyCommand> out;
  const std::size_t rank = shape.size();
  const std::int64_t cols = rank ? shape.back() : 1;
  const std::int64_t rows_in_tile = rank >= 2 ? shape[rank - 2] : 1;
  std::int64_t outer = 1;
  for (std::size_t d = 0; d + 2 < rank; ++d) outer *= shape[d];
  const std::int64_t c0 = rank ? coord[rank - 1] * cols : 0;
  const std::int64_t c1 = rank ? std::min<std::int64_t>(c0 + cols, t.shape[rank - 1]) : 1;
  const std::uint64_t tile_row_bytes = static_cast<std::uint64_t>(cols) * elem_bytes;
  const bool tiled = layout.tiled(t) && rank == t.shape.size();
  for (std::int64_t o = 0; o < outer && c1 > c0; ++o) {
    std::int64_t rem = o, elem = 0;
    bool inside = true;
    for (std::size_t d = rank >= 2 ? rank - 2 : 0; d-- > 0;) {
      const std::int64_t local = rem % shape[d];
      rem /= shape[d];
      const std::int64_t g = coord[d] * shape[d] + local;
      if (g >= t.shape[d]) inside = false;
      elem += g * t.strides[d];
    }
    if (!inside) continue;
    const std::int64_t r0 = rank >= 2 ? coord[rank - 2] * rows_in_tile : 0;
    const std::int64_t r1 = rank >= 2 ? std::min<std::int64_t>(r0 + rows_in_tile, t.shape[rank - 2]) : 1;
    if (r1 <= r0) continue;
    CopyCommand c;
    c.direction = dir;
    c.scratch_addr = static_cast<std::uint32_t>(vmem_addr + static_cast<std::uint64_t>(o * rows_in_tile) * tile_row_bytes);
    if (tiled) {
      tiled_box_commands(layout, t, t.base + static_cast<std::uint64_t>(elem) * elem_bytes, r0, r1, c0, c1, elem_bytes,
                         c, out);
      continue;
    }
    const std::int64_t row_elem = rank >= 2 ? r0 * t.strides[rank - 2] : 0;
    c.global_addr = t.base + static_cast<std::uint64_t>(elem + row_elem + c0 * (rank ? t.strides[rank - 1] : 1)) * elem_bytes;
    c.rows = static_cast<std::uint32_t>(r1 - r0);
    c.row_bytes = static_cast<std::uint32_t>((c1 - c0) * elem_bytes);
    c.pitch = rank >= 2 ? static_cast<std::uint64_t>(t.strides[rank - 2]) * elem_bytes : c.row_bytes;
    out.push_back(c);
  }
  return out;
}

}  // namespace tilesim::megacore

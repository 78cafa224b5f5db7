#include "arch/megacore/megacore_params.hpp"

#include "sim/error.hpp"
#include "sim/text_util.hpp"

namespace tilesim::megacore {

ParamSchema megacore_schema() {
  ParamSchema s;
  s.integer("mxus", 4, "systolic arrays (MXUs) per core", 1, 64)
      .integer("mxu_rows", 128, "rows (PEs) of one MXU", 1, 4096)
      .integer("mxu_cols", 128, "columns (PEs) of one MXU", 1, 4096)
      .choice("dataflow", "weight_stationary", {"weight_stationary", "output_stationary", "input_stationary"},
              "which operand stays in the array (TPU MXUs: weight stationary)")
      .integer("weight_buffers", 2, "stationary-operand registers per PE (2: the next fold's weights load while the "
               "current fold streams)", 1, 8)
      .integer("mxu_queue", 2, "folds one MXU accepts ahead of its array (a push beyond stalls the core)", 1, 64)
      .quantity("mxu_push_latency", UnitKind::cycles, "1", "cycles from a push's issue until its fold is queued at the MXU")
      .quantity("mxu_pop_latency", UnitKind::cycles, "1", "cycles from a pop's issue until the result vreg is usable")
      .integer("mxu_8bit_rate", 2, "8-bit (and 4-bit) reduction elements per PE per cycle, relative to 16-bit", 1, 8)
      .integer("lanes", 128, "vector lanes", 1, 4096)
      .integer("sublanes", 8, "vector sublanes (a vreg is sublanes x lanes x 32 bit)", 1, 256)
      .quantity("vpu_latency", UnitKind::cycles, "2", "cycles from a vector ALU op's issue to its result", 1)
      .quantity("eup_latency", UnitKind::cycles, "4", "cycles from a transcendental op's issue to its result", 1)
      .integer("eup_vregs_per_cycle", 1, "vregs the transcendental unit (EUP) takes per cycle", 1, 64)
      .integer("xlu_units", 1, "transpose/permute units (XLUs)", 1, 16)
      .integer("xlu_cycles_per_vreg", 1, "cycles one XLU needs per vreg it transposes/permutes", 1, 1024)
      .quantity("xlu_latency", UnitKind::cycles, "4", "cycles from the last vreg into the XLU to its result", 1)
      .quantity("scalar_latency", UnitKind::cycles, "1", "cycles from a scalar op's issue to its result", 1)
      .integer("scalar_slots", 2, "scalar slots per VLIW bundle", 1, 16)
      .integer("vector_slots", 2, "vector ALU slots per bundle", 1, 16)
      .integer("vector_load_slots", 1, "vector load (VMEM -> vreg) slots per bundle", 1, 16)
      .integer("vector_store_slots", 1, "vector store (vreg -> VMEM) slots per bundle", 1, 16)
      .integer("mxu_push_slots", 1, "MXU push slots per bundle", 1, 16)
      .integer("mxu_pop_slots", 1, "MXU pop slots per bundle", 1, 16)
      .integer("dma_slots", 1, "DMA issue slots per bundle (the scalar core issues one DMA per cycle)", 1, 16)
      .integer("misc_slots", 1, "misc slots per bundle (sync-flag waits, barriers)", 1, 16)
      .integer("resident_programs", 2, "grid steps resident at once (1: no grid-step pipelining; 2: the next "
               "step's buffers are allocated while the current one runs)", 1, 8)
      .boolean("prefetch_next_program", true, "issue the next grid step's prologue DMAs while the current step runs "
               "(software pipelining across grid steps, as XLA/Pallas emit)")
      .integer("hbm_tile_rows", 0, "HBM layout of a tensor's last two dims: tiles of hbm_tile_rows x hbm_tile_cols "
               "elements, each tile contiguous, tiles row-major (XLA's TPU tiled layout, T(8,128)); 0 = row-major. "
               "Applies to tensors whose last two dims are multiples of the tile; others stay row-major", 0, 1 << 16)
      .integer("hbm_tile_cols", 0, "columns (elements) of an HBM layout tile (see hbm_tile_rows)", 0, 1 << 16)
      .quantity("scoped_vmem_limit", UnitKind::size, "0B", "the compiler's default scoped-VMEM budget for one kernel "
                "(XLA's xla_tpu_scoped_vmem_limit_kib): block choosers (validation case mappers) keep a kernel's buffers "
                "under it; 0 = all of memory.scratch.size. Not a hardware limit: a kernel may use all of VMEM", 0)
      .integer("max_initiation_interval", 1 << 20, "modulo scheduling gives up above this initiation interval", 1,
               1 << 30);
  return s;
}

namespace {
std::uint32_t u32(const ParamValues& v, const char* name) { return static_cast<std::uint32_t>(v.integer(name)); }
std::uint32_t cycles(const ParamValues& v, const char* name) { return static_cast<std::uint32_t>(v.quantity(name)); }
}  // namespace

MegacoreParams read_megacore_params(const ParamValues& v) {
  MegacoreParams p;
  p.mxus = u32(v, "mxus");
  p.array.rows = u32(v, "mxu_rows");
  p.array.cols = u32(v, "mxu_cols");
  p.array.dataflow = parse_dataflow(v.string("dataflow"));
  p.weight_buffers = u32(v, "weight_buffers");
  p.mxu_queue = u32(v, "mxu_queue");
  p.mxu_push_latency = cycles(v, "mxu_push_latency");
  p.mxu_pop_latency = cycles(v, "mxu_pop_latency");
  p.mxu_8bit_rate = u32(v, "mxu_8bit_rate");
  p.lanes = u32(v, "lanes");
  p.sublanes = u32(v, "sublanes");
  p.vpu_latency = cycles(v, "vpu_latency");
  p.eup_latency = cycles(v, "eup_latency");
  p.eup_vregs_per_cycle = u32(v, "eup_vregs_per_cycle");
  p.xlu_units = u32(v, "xlu_units");
  p.xlu_cycles_per_vreg = u32(v, "xlu_cycles_per_vreg");
  p.xlu_latency = cycles(v, "xlu_latency");
  p.scalar_latency = cycles(v, "scalar_latency");
  auto set = [&](SlotKind k, const char* name) { p.slots.per_bundle[static_cast<std::size_t>(k)] = u32(v, name); };
  set(SlotKind::scalar, "scalar_slots");
  set(SlotKind::vector, "vector_slots");
  set(SlotKind::vector_load, "vector_load_slots");
  set(SlotKind::vector_store, "vector_store_slots");
  set(SlotKind::mxu_push, "mxu_push_slots");
  set(SlotKind::mxu_pop, "mxu_pop_slots");
  set(SlotKind::dma, "dma_slots");
  set(SlotKind::misc, "misc_slots");
  p.resident_programs = u32(v, "resident_programs");
  p.prefetch_next_program = v.boolean("prefetch_next_program");
  p.max_ii = u32(v, "max_initiation_interval");
  p.hbm_tile_rows = u32(v, "hbm_tile_rows");
  p.hbm_tile_cols = u32(v, "hbm_tile_cols");
  if ((p.hbm_tile_rows == 0) != (p.hbm_tile_cols == 0))
    throw ConfigError(cat("core.megacore.hbm_tile_rows / hbm_tile_cols: set both (a tiled HBM layout) or neither "
                          "(row-major); got ", p.hbm_tile_rows, " x ", p.hbm_tile_cols));
  if (p.lanes % 8 != 0) throw ConfigError(cat("core.megacore.lanes: ", p.lanes, " is not a multiple of 8"));
  return p;
}

}  // namespace tilesim::megacore

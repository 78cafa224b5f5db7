// The systolic array (MXU) of the megacore: SCALE-Sim's fold formulas (the independent oracle) and a
// cycle-stepped wavefront model of one array (DESIGN.md §6, docs/megacore_units.md).
//
// Operand mapping (Samajdar et al., "SCALE-Sim", arXiv:1811.02883; ISPASS 2020 "A systematic methodology
// for characterizing scalability of DNN accelerators using SCALE-Sim"), for a GEMM M x K x N
// (M = output rows / ofmap pixels, K = reduction / window size, N = output columns / filters):
//   output stationary: Sr = M, Sc = N, T = K
//   weight stationary: Sr = K, Sc = N, T = M
//   input stationary:  Sr = K, Sc = M, T = N
// folds = ceil(Sr/R) * ceil(Sc/C); compute cycles = (2R + C + T - 2) * folds.
//
// Plain C++17, no simulation kernel: the megacore core model drives a SystolicArray from its tick().
#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace tilesim::megacore {

enum class Dataflow { weight_stationary, output_stationary, input_stationary };

/// "weight_stationary" | "output_stationary" | "input_stationary"; ConfigError naming the value otherwise.
Dataflow parse_dataflow(const std::string& text);
const char* dataflow_name(Dataflow dataflow);

struct ArrayShape {
  std::uint32_t rows = 128, cols = 128;  // TPU v2/v3 MXU: 128 x 128 (ARCH.md)
  Dataflow dataflow = Dataflow::weight_stationary;
};

/// SCALE-Sim's mapping of a GEMM onto the array: Sr x Sc spatial extent, T temporal (streamed) extent.
struct FoldPlan {
  std::uint64_t sr = 0, sc = 0, t = 0;
  std::uint64_t row_folds = 0, col_folds = 0;  // ceil(sr / rows), ceil(sc / cols)
  std::uint64_t folds() const { return row_folds * col_folds; }
};

FoldPlan fold_plan(const ArrayShape& shape, std::uint64_t M, std::uint64_t K, std::uint64_t N);

/// SCALE-Sim's compute cycles: (2R + C + T - 2) * folds (every fold charged the full R and C).
std::uint64_t scalesim_compute_cycles(const ArrayShape& shape, std::uint64_t M, std::uint64_t K, std::uint64_t N);

/// One fold of a GEMM: the used part of the array and the number of streamed wavefronts.
struct Fold {
  std::uint32_t used_rows = 0, used_cols = 0;
  std::uint64_t t = 0;
};

/// Every fold of a GEMM in SCALE-Sim v2's order (column folds outer, row folds inner); the last row / column
/// fold uses the remainder. Its size is fold_plan(...).folds().
std::vector<Fold> gemm_folds(const ArrayShape& shape, std::uint64_t M, std::uint64_t K, std::uint64_t N);

/// How partial folds are charged.
enum class Charging {
  used_extent,  // load used_rows rows; a wavefront crosses used_rows + used_cols - 1 PEs (what hardware does)
  full_array,   // every fold charged the full R rows and C columns (SCALE-Sim's accounting)
};

/// A cycle-stepped, wavefront-by-wavefront model of one systolic array. Each fold goes through
/// queued -> loading (stationary operand, one row per cycle) -> [loaded] -> streaming (one wavefront enters
/// per cycle) -> draining (wavefronts still in the array) -> done. `stationary_buffers` = 1: the next fold's
/// load waits until the array has drained (SCALE-Sim: 2R + C + T - 2 per fold). >= 2 (TPU MXU double
/// buffering: 1 active + B-1 shadow registers per PE): the next fold loads into a shadow register while the
/// current fold streams, and its first wavefront enters the cycle after the previous fold's last one.
class SystolicArray {
 public:
  using Completion = std::pair<std::uint64_t, std::uint64_t>;  // (tag, completion cycle)

  SystolicArray(ArrayShape shape, std::uint32_t stationary_buffers, Charging charging = Charging::used_extent);

  /// Queue a fold (1 <= used_rows <= rows, 1 <= used_cols <= cols, t >= 1) at the current cycle now().
  /// `tag` is returned by advance_to() at the cycle its last output leaves the array.
  void enqueue_fold(std::uint32_t used_rows, std::uint32_t used_cols, std::uint64_t t, std::uint64_t tag);

  bool idle() const;                 // nothing queued or in flight
  std::size_t queued_folds() const;  // folds accepted but not yet loading (for back-pressure)
  std::size_t folds_in_flight() const;  // loading, loaded, streaming or draining
  std::uint64_t now() const { return now_; }

  /// Advance to cycle `to` (>= now()), processing every phase boundary on the way. Returns the folds that
  /// completed in (now(), to], in completion order. Exact whether called every cycle or with big jumps.
  std::vector<Completion> advance_to(std::uint64_t to);

  /// Next cycle > now() where a phase ends or a fold completes; UINT64_MAX when idle.
  std::uint64_t next_event_cycle() const;

  // Statistics, all up to now():
  std::uint64_t busy_cycles() const { return busy_cycles_; }  // cycles with >= 1 wavefront in the array
  /// MACs done: each wavefront does used_rows * used_cols MACs (one per used PE), counted when it leaves.
  std::uint64_t macs() const;
  std::uint64_t stationary_load_cycles() const { return load_cycles_; }  // cycles a stationary load ran
  std::uint64_t wavefronts() const;  // wavefronts that have left the array
  /// macs / (rows * cols * busy_cycles); 0 before any busy cycle.
  double utilisation() const;

  const ArrayShape& shape() const { return shape_; }
  std::uint32_t stationary_buffers() const { return buffers_; }
  Charging charging() const { return charging_; }

  // Per-fold costs under this array's charging mode (used by the model and documented as formulas).
  std::uint64_t load_cycles_of(std::uint32_t used_rows) const;
  /// Cycles one wavefront spends in the array: (rows + cols - 1) over the charged extent.
  std::uint64_t wavefront_latency_of(std::uint32_t used_rows, std::uint32_t used_cols) const;

 private:
  enum class Phase { queued, loading, loaded, streaming, draining };
  struct FoldState {
    std::uint32_t used_rows, used_cols;
    std::uint64_t t, tag;
    std::uint64_t load_cycles, latency;  // charged load length; cycles one wavefront stays in the array
    Phase phase = Phase::queued;
    std::uint64_t load_start = 0, stream_start = 0;
    std::uint64_t stream_end() const { return stream_start + t; }             // first cycle with no entry
    std::uint64_t completion() const { return stream_start + t - 1 + latency; }  // last output has left
  };

  bool can_start_load() const;
  void start_phases_at_now();            // start loads / streams that may start at now_
  void process_events_at_now(std::vector<Completion>& done);  // phase ends at now_
  void account_segment(std::uint64_t from, std::uint64_t to);  // statistics over [from, to): no event inside
  std::uint64_t exited_by(const FoldState& f, std::uint64_t cycle) const;  // wavefronts with exit <= cycle

  ArrayShape shape_;
  std::uint32_t buffers_;
  Charging charging_;
  std::uint64_t now_ = 0;
  std::deque<FoldState> folds_;  // FIFO: finished folds are removed; order = enqueue order
  std::uint64_t busy_cycles_ = 0, load_cycles_ = 0;
  std::uint64_t occupied_until_ = 0;     // first cycle no already-entered wavefront is in the array
  std::uint64_t macs_retired_ = 0, wavefronts_retired_ = 0;  // of folds already removed
};

}  // namespace tilesim::megacore

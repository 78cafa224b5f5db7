// The systolic array's fold formulas (SCALE-Sim) and its wavefront state machine. See systolic_array.hpp and
// docs/megacore_units.md for the timing rules.
#include "arch/megacore/systolic_array.hpp"

#include <algorithm>

#include "sim/error.hpp"

namespace tilesim::megacore {

namespace {
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();

std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

void require_gemm(std::uint64_t M, std::uint64_t K, std::uint64_t N) {
  if (M == 0 || K == 0 || N == 0)
    throw ConfigError(cat("systolic array: GEMM dimensions must be >= 1, got M=", M, " K=", K, " N=", N));
}

void require_shape(const ArrayShape& shape) {
  if (shape.rows == 0 || shape.cols == 0)
    throw ConfigError(cat("systolic array: rows and cols must be >= 1, got ", shape.rows, " x ", shape.cols));
}
}  // namespace

Dataflow parse_dataflow(const std::string& text) {
  if (text == "weight_stationary") return Dataflow::weight_stationary;
  if (text == "output_stationary") return Dataflow::output_stationary;
  if (text == "input_stationary") return Dataflow::input_stationary;
  throw ConfigError(cat("dataflow: unknown value '", text,
                        "' (choices: weight_stationary, output_stationary, input_stationary)"));
}

const char* dataflow_name(Dataflow dataflow) {
  switch (dataflow) {
    case Dataflow::weight_stationary: return "weight_stationary";
    case Dataflow::output_stationary: return "output_stationary";
    case Dataflow::input_stationary: return "input_stationary";
  }
  return "?";
}

FoldPlan fold_plan(const ArrayShape& shape, std::uint64_t M, std::uint64_t K, std::uint64_t N) {
  require_shape(shape);
  require_gemm(M, K, N);
  FoldPlan plan;
  switch (shape.dataflow) {
    case Dataflow::output_stationary: plan.sr = M, plan.sc = N, plan.t = K; break;  // outputs pinned to PEs
    case Dataflow::weight_stationary: plan.sr = K, plan.sc = N, plan.t = M; break;  // weights pinned to PEs
    case Dataflow::input_stationary: plan.sr = K, plan.sc = M, plan.t = N; break;   // inputs pinned to PEs
  }
  plan.row_folds = ceil_div(plan.sr, shape.rows);
  plan.col_folds = ceil_div(plan.sc, shape.cols);
  return plan;
}

std::uint64_t scalesim_compute_cycles(const ArrayShape& shape, std::uint64_t M, std::uint64_t K, std::uint64_t N) {
  const FoldPlan plan = fold_plan(shape, M, K, N);
  const std::uint64_t per_fold = 2ull * shape.rows + shape.cols + plan.t - 2;
  return per_fold * plan.folds();
}

std::vector<Fold> gemm_folds(const ArrayShape& shape, std::uint64_t M, std::uint64_t K, std::uint64_t N) {
  const FoldPlan plan = fold_plan(shape, M, K, N);
  std::vector<Fold> folds;
  folds.reserve(plan.folds());
  for (std::uint64_t fc = 0; fc < plan.col_folds; ++fc)
    for (std::uint64_t fr = 0; fr < plan.row_folds; ++fr) {
      Fold fold;
      fold.used_rows = static_cast<std::uint32_t>(std::min<std::uint64_t>(shape.rows, plan.sr - fr * shape.rows));
      fold.used_cols = static_cast<std::uint32_t>(std::min<std::uint64_t>(shape.cols, plan.sc - fc * shape.cols));
      fold.t = plan.t;
      folds.push_back(fold);
    }
  return folds;
}

// ---------------------------------------------------------------------------------------------------------
// SystolicArray

SystolicArray::SystolicArray(ArrayShape shape, std::uint32_t stationary_buffers, Charging charging)
    : shape_(shape), buffers_(stationary_buffers), charging_(charging) {
  require_shape(shape_);
  if (buffers_ == 0) throw ConfigError("systolic array: stationary_buffers must be >= 1, got 0");
}

std::uint64_t SystolicArray::load_cycles_of(std::uint32_t used_rows) const {
  // The stationary operand is shifted in one row per cycle; used_extent loads only the rows that hold data.
  return charging_ == Charging::full_array ? shape_.rows : used_rows;
}

std::uint64_t SystolicArray::wavefront_latency_of(std::uint32_t used_rows, std::uint32_t used_cols) const {
  // A wavefront is skewed one cycle per row and per column: it reaches PE (r, c) r + c cycles after it
  // enters, so it occupies the array for rows + cols - 1 cycles.
  if (charging_ == Charging::full_array) return std::uint64_t{shape_.rows} + shape_.cols - 1;
  return std::uint64_t{used_rows} + used_cols - 1;
}

void SystolicArray::enqueue_fold(std::uint32_t used_rows, std::uint32_t used_cols, std::uint64_t t,
                                 std::uint64_t tag) {
  if (used_rows == 0 || used_rows > shape_.rows || used_cols == 0 || used_cols > shape_.cols || t == 0)
    throw ConfigError(cat("systolic array: fold (tag ", tag, ") needs 1 <= used_rows <= ", shape_.rows,
                          ", 1 <= used_cols <= ", shape_.cols, ", t >= 1; got used_rows=", used_rows,
                          " used_cols=", used_cols, " t=", t));
  FoldState fold{used_rows, used_cols, t, tag, load_cycles_of(used_rows), wavefront_latency_of(used_rows, used_cols)};
  folds_.push_back(fold);
  start_phases_at_now();
}

bool SystolicArray::idle() const { return folds_.empty(); }

std::size_t SystolicArray::queued_folds() const {
  return static_cast<std::size_t>(
      std::count_if(folds_.begin(), folds_.end(), [](const FoldState& f) { return f.phase == Phase::queued; }));
}

std::size_t SystolicArray::folds_in_flight() const { return folds_.size() - queued_folds(); }

bool SystolicArray::can_start_load() const {
  std::size_t holding_shadow = 0;  // folds loading or loaded, not yet streaming
  for (const FoldState& f : folds_) {
    if (f.phase == Phase::loading) return false;  // one load port: loads are serial
    if (f.phase == Phase::loaded) ++holding_shadow;
    // Single buffer: the stationary registers are overwritten only after every wavefront of every earlier
    // fold has left the array (SCALE-Sim's serial folds).
    if (buffers_ == 1 && f.phase != Phase::queued) return false;
  }
  if (buffers_ == 1) return true;  // the array is empty: load straight into the (only) register
  // 1 active + (B - 1) shadow registers per PE: a fold holds a shadow register from its load until its first
  // wavefront enters (the switch to the active register travels with the wavefront, so the previous fold's
  // last wavefront still sees its own operand).
  return holding_shadow < buffers_ - 1;
}

void SystolicArray::start_phases_at_now() {
  bool changed = true;
  while (changed) {
    changed = false;
    // Stream: the oldest loaded fold starts when no fold is streaming (its first wavefront enters the cycle
    // after the previous fold's last one).
    const bool streaming =
        std::any_of(folds_.begin(), folds_.end(), [](const FoldState& f) { return f.phase == Phase::streaming; });
    if (!streaming) {
      for (FoldState& f : folds_) {
        if (f.phase == Phase::draining) continue;
        if (f.phase == Phase::loaded) {
          f.phase = Phase::streaming;
          f.stream_start = now_;
          changed = true;
        }
        break;  // only the oldest not-yet-streamed fold may stream
      }
    }
    // Load: the oldest queued fold, when the load port and a stationary register are free.
    if (can_start_load()) {
      for (FoldState& f : folds_) {
        if (f.phase != Phase::queued) continue;
        f.phase = Phase::loading;
        f.load_start = now_;
        changed = true;
        break;
      }
    }
  }
}

void SystolicArray::process_events_at_now(std::vector<Completion>& done) {
  for (FoldState& f : folds_) {
    if (f.phase == Phase::loading && f.load_start + f.load_cycles == now_) f.phase = Phase::loaded;
    if (f.phase == Phase::streaming && f.stream_end() == now_) f.phase = Phase::draining;
  }
  for (auto it = folds_.begin(); it != folds_.end();) {
    if (it->phase == Phase::draining && it->completion() == now_) {
      done.emplace_back(it->tag, now_);
      macs_retired_ += std::uint64_t{it->used_rows} * it->used_cols * it->t;
      wavefronts_retired_ += it->t;
      it = folds_.erase(it);
    } else {
      ++it;
    }
  }
}

void SystolicArray::account_segment(std::uint64_t from, std::uint64_t to) {
  if (to <= from) return;
  const FoldState* streaming = nullptr;
  for (const FoldState& f : folds_) {
    if (f.phase == Phase::streaming) streaming = &f;
    if (f.phase == Phase::loading) load_cycles_ += to - from;  // loads are serial: at most one
  }
  if (streaming != nullptr) {
    // One wavefront enters every cycle of [from, to); the last one leaves at (to - 1) + latency.
    busy_cycles_ += to - from;
    occupied_until_ = std::max(occupied_until_, to - 1 + streaming->latency);
  } else if (occupied_until_ > from) {
    busy_cycles_ += std::min(to, occupied_until_) - from;
  }
}

std::uint64_t SystolicArray::next_event_cycle() const {
  std::uint64_t next = kNever;
  for (const FoldState& f : folds_) {
    switch (f.phase) {
      case Phase::loading: next = std::min(next, f.load_start + f.load_cycles); break;
      case Phase::streaming: next = std::min(next, f.stream_end()); break;
      case Phase::draining: next = std::min(next, f.completion()); break;
      case Phase::queued:
      case Phase::loaded: break;  // wait for another fold's event
    }
  }
  return next;
}

std::vector<SystolicArray::Completion> SystolicArray::advance_to(std::uint64_t to) {
  if (to < now_) panic("SystolicArray::advance_to(", to, ") is before now() = ", now_);
  std::vector<Completion> done;
  for (;;) {
    const std::uint64_t next = next_event_cycle();
    if (next > to) {
      account_segment(now_, to);
      now_ = to;
      break;
    }
    if (next <= now_) panic("SystolicArray: event at cycle ", next, " not after now() = ", now_);
    account_segment(now_, next);
    now_ = next;
    process_events_at_now(done);
    start_phases_at_now();
  }
  if (!folds_.empty() && next_event_cycle() == kNever)
    panic("SystolicArray: ", folds_.size(), " folds queued but nothing can start at cycle ", now_);
  return done;
}

std::uint64_t SystolicArray::exited_by(const FoldState& f, std::uint64_t cycle) const {
  if (f.phase != Phase::streaming && f.phase != Phase::draining) return 0;
  // Wavefront i enters at stream_start + i and has left from stream_start + i + latency on.
  const std::uint64_t first_exit = f.stream_start + f.latency;
  if (cycle < first_exit) return 0;
  return std::min(f.t, cycle - first_exit + 1);
}

std::uint64_t SystolicArray::macs() const {
  std::uint64_t total = macs_retired_;
  for (const FoldState& f : folds_) total += std::uint64_t{f.used_rows} * f.used_cols * exited_by(f, now_);
  return total;
}

std::uint64_t SystolicArray::wavefronts() const {
  std::uint64_t total = wavefronts_retired_;
  for (const FoldState& f : folds_) total += exited_by(f, now_);
  return total;
}

double SystolicArray::utilisation() const {
  if (busy_cycles_ == 0) return 0.0;
  return static_cast<double>(macs()) /
         (static_cast<double>(shape_.rows) * static_cast<double>(shape_.cols) * static_cast<double>(busy_cycles_));
}

}  // namespace tilesim::megacore

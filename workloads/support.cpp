#include "workloads/support.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "sim/error.hpp"

namespace tilesim::workloads {

using namespace isa;

// ---- random data ---------------------------------------------------------------------------------

uint64_t Rng::next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Rng::uniform(double lo, double hi) {
  const double unit = static_cast<double>(next() >> 11) * 0x1.0p-53;  // [0, 1)
  return lo + (hi - lo) * unit;
}

int64_t Rng::integer(int64_t lo, int64_t hi) {
  const auto span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int64_t>(next() % span);
}

TileValue random_tensor(DType dtype, const Shape& shape, Rng& rng, double lo, double hi) {
  TileValue t(dtype, shape);
  if (is_float(dtype)) {
    for (int64_t i = 0; i < t.size(); ++i) t.set(i, rng.uniform(lo, hi));
  } else {
    const auto ilo = static_cast<int64_t>(std::ceil(lo));
    const auto ihi = static_cast<int64_t>(std::floor(hi));
    for (int64_t i = 0; i < t.size(); ++i) t.set(i, static_cast<double>(rng.integer(ilo, ihi)));
  }
  return t;
}

// ---- comparisons -----------------------------------------------------------------------------------

std::string element_name(const std::string& tensor, const TileValue& t, int64_t i) {
  const Index idx = t.multi_index(i);
  std::string s = tensor + "[";
  for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
  return s + "]";
}

namespace {

std::string number_text(double v) {
  std::ostringstream os;
  os.precision(9);
  os << v;
  return os.str();
}

/// A monotonic integer key of a float dtype's values (sign-magnitude encoding made two's-complement-like).
int64_t ordered_key(DType dtype, double v) {
  const uint64_t bits = encode(dtype, v);
  const int width = dtype == DType::tf32 ? 32 : isa::bits(dtype);
  const uint64_t sign_bit = uint64_t{1} << (width - 1);
  const int64_t magnitude = static_cast<int64_t>(bits & (sign_bit - 1));
  return (bits & sign_bit) ? -magnitude : magnitude;
}

/// Accumulates the error statistics of element i; relative and ulp errors only where |ref| >= rel_floor
/// (below it an absolute tolerance governs, and relative errors of near-zero values mean nothing).
void record(Comparison::Output& o, const std::string& name, const TileValue& got, int64_t i, double ref, bool ok,
            double rel_floor = 0.0) {
  const double g = got.at(i);
  const bool relative = std::fabs(ref) >= rel_floor && ref != 0;
  if (std::isfinite(g) && std::isfinite(ref)) {
    const double abs_err = std::fabs(g - ref);
    o.max_abs_error = std::max(o.max_abs_error, abs_err);
    if (relative) o.max_rel_error = std::max(o.max_rel_error, abs_err / std::fabs(ref));
  }
  if (is_float(got.dtype()) && std::isfinite(ref) && (relative || ref == 0)) {
    o.max_ulp = std::max(o.max_ulp, ulp_distance(got.dtype(), g, round_to(got.dtype(), ref)));
  }
  if (!ok) {
    if (o.mismatches == 0)
      o.first_mismatch = element_name(name, got, i) + ": got " + number_text(g) + ", reference " + number_text(ref);
    ++o.mismatches;
    o.pass = false;
  }
}

}  // namespace

int64_t ulp_distance(DType dtype, double a, double b) {
  if (!is_float(dtype)) return static_cast<int64_t>(std::fabs(a - b));
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na || nb) return na && nb ? 0 : std::numeric_limits<int32_t>::max();
  // f64 keys span 64 bits: the difference of two of them may not fit an int64, so saturate.
  const __int128 d = static_cast<__int128>(ordered_key(dtype, a)) - ordered_key(dtype, b);
  const __int128 magnitude = d < 0 ? -d : d;
  return magnitude > std::numeric_limits<int64_t>::max() ? std::numeric_limits<int64_t>::max()
                                                         : static_cast<int64_t>(magnitude);
}

Comparison::Output compare_exact(const std::string& name, const TileValue& got, const TileValue& want) {
  Comparison::Output o;
  o.name = name;
  o.criterion = "bit-exact";
  if (got.dtype() != want.dtype() || got.shape() != want.shape()) {
    o.pass = false;
    o.mismatches = 1;
    o.first_mismatch = name + " is " + got.type_string() + " but the reference is " + want.type_string();
    return o;
  }
  o.elements = got.size();
  for (int64_t i = 0; i < got.size(); ++i) record(o, name, got, i, want.at(i), got.bits_at(i) == want.bits_at(i));
  return o;
}

Comparison::Output compare_ulps(const std::string& name, const TileValue& got, const TileValue& want,
                                int64_t max_ulps, const std::string& why) {
  Comparison::Output o = compare_exact(name, got, want);
  if (o.elements == 0 && !o.pass) return o;  // dtype or shape mismatch
  o.criterion = "within " + std::to_string(max_ulps) + " ulp of " + dtype_name(got.dtype());
  o.why = why;
  o.mismatches = 0;
  o.first_mismatch.clear();
  o.pass = true;
  for (int64_t i = 0; i < got.size(); ++i) {
    if (ulp_distance(got.dtype(), got.at(i), want.at(i)) <= max_ulps) continue;
    if (o.mismatches == 0)
      o.first_mismatch = element_name(name, got, i) + ": got " + number_text(got.at(i)) + ", reference " +
                         number_text(want.at(i));
    ++o.mismatches;
    o.pass = false;
  }
  return o;
}

Comparison::Output compare_close(const std::string& name, const TileValue& got, const std::vector<double>& ref,
                                 const Tolerance& tol) {
  Comparison::Output o;
  o.name = name;
  o.criterion = "|got - ref| <= atol + rtol*|ref| (atol=" + number_text(tol.atol) + ", rtol=" + number_text(tol.rtol) + ")";
  o.why = tol.why;
  if (static_cast<int64_t>(ref.size()) != got.size()) {
    o.pass = false;
    o.mismatches = 1;
    o.first_mismatch = name + " has " + std::to_string(got.size()) + " elements but the reference " + std::to_string(ref.size());
    return o;
  }
  o.elements = got.size();
  for (int64_t i = 0; i < got.size(); ++i) {
    const double g = got.at(i), r = ref[static_cast<size_t>(i)];
    bool ok = false;
    if (std::isnan(r) || std::isnan(g)) ok = std::isnan(r) && std::isnan(g);
    else if (std::isinf(r) || std::isinf(g)) ok = g == r;
    else ok = std::fabs(g - r) <= tol.atol + tol.rtol * std::fabs(r);
    record(o, name, got, i, r, ok, tol.atol);
  }
  return o;
}

void Comparison::add(Output o) {
  pass = pass && o.pass;
  outputs.push_back(std::move(o));
}

void Comparison::note(bool ok, const std::string& text) {
  pass = pass && ok;
  notes.push_back(std::string(ok ? "" : "FAILED: ") + text);
}

std::string Comparison::report() const {
  std::ostringstream os;
  for (const Output& o : outputs) {
    os << o.name << ": " << o.criterion << ", " << o.elements << " elements, " << o.mismatches << " mismatch"
       << (o.mismatches == 1 ? "" : "es") << ", max abs error " << number_text(o.max_abs_error) << ", max rel error "
       << number_text(o.max_rel_error) << ", max ulp " << o.max_ulp << (o.pass ? "" : "  FAIL") << "\n";
    if (!o.why.empty()) os << "  tolerance: " << o.why << "\n";
    if (!o.first_mismatch.empty()) os << "  first mismatch: " << o.first_mismatch << "\n";
  }
  for (const std::string& n : notes) os << n << "\n";
  return os.str();
}

// ---- reference numerics ------------------------------------------------------------------------------

namespace {

/// (acc + block_sum) truncated to `bits` mantissa bits as if exact: when the double sum rounded away
/// from zero, its neighbour towards zero truncates like the exact sum.
double narrowed_add(double acc, double block_sum, int bits) {
  const double sum = acc + block_sum;
  if (!std::isfinite(sum)) return sum;
  const double b_part = sum - acc;
  const double err = (acc - (sum - b_part)) + (block_sum - b_part);
  const double v = (err != 0.0 && (err < 0) != (sum < 0)) ? std::nextafter(sum, 0.0) : sum;
  if (v == 0.0) return round_to(DType::f32, v);
  const int quantum = std::max(std::ilogb(v), -126) - bits;
  return round_to(DType::f32, std::ldexp(std::trunc(std::ldexp(v, -quantum)), quantum));
}

}  // namespace

double reference_accumulate(DType acc_dtype, const MmaOptions& options, double acc,
                            const std::function<double(int64_t)>& product, int64_t k0, int64_t k1) {
  if (acc_dtype == DType::i32) {
    auto sum = static_cast<int64_t>(acc);
    for (int64_t k = k0; k < k1; ++k) sum += static_cast<int64_t>(product(k));
    return static_cast<double>(static_cast<int32_t>(static_cast<uint32_t>(sum)));
  }
  if (acc_dtype == DType::f32 && options.acc_mantissa_bits < 23) {
    for (int64_t kb = k0; kb < k1; kb += options.acc_block_k) {
      double block_sum = 0.0;
      for (int64_t k = kb; k < std::min(k1, kb + options.acc_block_k); ++k) block_sum += product(k);
      acc = narrowed_add(acc, block_sum, options.acc_mantissa_bits);
    }
    return acc;
  }
  // The double sum of an f32/f16 accumulator and a product of <= 22 significant bits is exact unless the
  // exponents are far apart, and then it is far from a rounding boundary of the accumulator's dtype, so
  // rounding it once gives the correctly rounded sum.
  for (int64_t k = k0; k < k1; ++k) acc = round_to(acc_dtype, acc + product(k));
  return acc;
}

// ---- parameters and builds -------------------------------------------------------------------------

ParamSpec seed_param() {
  return {"seed", "1", "", "seed of the generated inputs", {}};
}

std::vector<ParamSpec> mma_model_params() {
  return {{"acc_mantissa_bits", "23", "",
           "mantissa bits the mma accumulator keeps when it adds a block of products (23: IEEE fp32; "
           "smaller: the narrowed model of Hopper FP8 tensor cores, see isa::MmaOptions)", {}},
          {"acc_block_k", "32", "", "products summed exactly before each narrowed accumulation", {}}};
}

MmaOptions mma_options(const ParamSet& p) {
  MmaOptions o;
  o.acc_mantissa_bits = static_cast<int>(int_in(p, "acc_mantissa_bits", 1, 23));
  o.acc_block_k = static_cast<int>(int_in(p, "acc_block_k", 1, 1 << 20));
  return o;
}

ParamSpec label_param(const std::string& name, const std::string& value, const std::string& description,
                      std::vector<std::string> choices) {
  return {name, value, "", description + " (a label for timing models; the functional kernel does not use it)",
          std::move(choices)};
}

void config_fail(const ParamSet& p, const std::string& message) {
  throw ConfigError(p.workload() + ": " + message);
}

int64_t int_in(const ParamSet& p, const std::string& name, int64_t lo, int64_t hi) {
  const int64_t v = p.integer(name);
  if (v < lo || v > hi)
    config_fail(p, name + " = " + std::to_string(v) + " is outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

double unit_roundoff(DType dtype) {
  switch (dtype) {
    case DType::f64: return 0x1.0p-53;
    case DType::f32: return 0x1.0p-24;
    case DType::tf32: return 0x1.0p-11;
    case DType::f16: return 0x1.0p-11;
    case DType::bf16: return 0x1.0p-8;
    case DType::f8e4m3: return 0x1.0p-4;
    case DType::f8e5m2: return 0x1.0p-3;
    case DType::f4e2m1: return 0x1.0p-2;
    default: return 0.0;
  }
}

bool mma_dtypes_supported(DType in, DType acc) {
  switch (in) {
    case DType::f16:
    case DType::f8e4m3:
    case DType::f8e5m2:
    case DType::f4e2m1: return acc == DType::f32 || acc == DType::f16;
    case DType::bf16:
    case DType::tf32: return acc == DType::f32;
    case DType::i8: return acc == DType::i32;
    case DType::f64: return acc == DType::f64;  // DMMA (mma.sync .f64): f64 operands, f64 accumulator
    default: return false;
  }
}

void check_mma_dtypes(const ParamSet& p, const std::string& in_param, const std::string& acc_param) {
  const DType in = p.dtype(in_param), acc = p.dtype(acc_param);
  if (!mma_dtypes_supported(in, acc))
    config_fail(p, std::string("mma does not accumulate ") + dtype_name(in) + " operands in " + dtype_name(acc) +
                       " (supported: f16/f8/f4 -> f32|f16, bf16/tf32 -> f32, i8 -> i32, f64 -> f64)");
}

WorkloadBuild start_build(const ParamSet& p, const Module& tmpl, const TemplateArgs& args) {
  WorkloadBuild b;
  b.workload = p.workload();
  b.params = p;
  b.module = instantiate(tmpl, args);
  b.kernel_name = args.kernel;
  b.interpreter.check_bounds = true;
  b.interpreter.source_name = b.module.source_name;
  b.interpreter.source_text = b.module.source_text;
  return b;
}

}  // namespace tilesim::workloads

#include "isa/tile_value.hpp"

#include <algorithm>
#include <iomanip>
#include <sstream>

namespace tilesim::isa {

std::string shape_string(const Shape& shape) {
  if (shape.empty()) return "scalar";
  std::string s;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d > 0) s += 'x';
    s += std::to_string(shape[d]);
  }
  return s;
}

int64_t element_count(const Shape& shape) {
  if (shape.size() > static_cast<size_t>(kMaxTileRank)) {
    throw SemanticError(cat("tile rank ", shape.size(), " (shape ", shape_string(shape),
                            ") exceeds the maximum rank ", kMaxTileRank));
  }
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) throw SemanticError(cat("tile shape ", shape_string(shape), " has a negative dimension"));
    n *= d;
  }
  return n;
}

Shape row_major_strides(const Shape& shape) {
  Shape strides(shape.size(), 1);
  for (int d = static_cast<int>(shape.size()) - 2; d >= 0; --d) {
    strides[static_cast<size_t>(d)] = strides[static_cast<size_t>(d) + 1] * shape[static_cast<size_t>(d) + 1];
  }
  return strides;
}

TileValue::TileValue(DType dtype, Shape shape)
    : dtype_(dtype), shape_(std::move(shape)), values_(static_cast<size_t>(element_count(shape_)), 0.0) {}

TileValue::TileValue(DType dtype, Shape shape, const std::vector<double>& values)
    : TileValue(dtype, std::move(shape), values, default_overflow(dtype)) {}

TileValue::TileValue(DType dtype, Shape shape, const std::vector<double>& values, Overflow overflow)
    : TileValue(dtype, std::move(shape)) {
  if (static_cast<int64_t>(values.size()) != size()) {
    throw SemanticError(cat("tile ", type_string(), " needs ", size(), " values but ", values.size(),
                            " were given"));
  }
  for (size_t i = 0; i < values.size(); ++i) values_[i] = round_to(dtype_, values[i], overflow);
}

TileValue TileValue::scalar(DType dtype, double value) { return TileValue(dtype, Shape{}, {value}); }

double TileValue::at(int64_t i) const {
  if (i < 0 || i >= size()) {
    panic("TileValue::at: position ", i, " outside ", type_string());
  }
  return values_[static_cast<size_t>(i)];
}

double TileValue::at(const Index& index) const { return values_[static_cast<size_t>(linear_index(index))]; }

void TileValue::set(int64_t i, double x) { set(i, x, default_overflow(dtype_)); }

void TileValue::set(int64_t i, double x, Overflow overflow) {
  if (i < 0 || i >= size()) {
    panic("TileValue::set: position ", i, " outside ", type_string());
  }
  values_[static_cast<size_t>(i)] = round_to(dtype_, x, overflow);
}

void TileValue::set(const Index& index, double x) { set(linear_index(index), x); }

void TileValue::fill(double x) {
  const double rounded = round_to(dtype_, x);
  for (double& v : values_) v = rounded;
}

uint64_t TileValue::bits_at(int64_t i) const { return encode(dtype_, at(i)); }

int64_t TileValue::linear_index(const Index& index) const {
  if (index.size() != shape_.size()) {
    panic("TileValue: index of rank ", index.size(), " for ", type_string());
  }
  int64_t linear = 0;
  for (size_t d = 0; d < shape_.size(); ++d) {
    if (index[d] < 0 || index[d] >= shape_[d]) {
      panic("TileValue: index ", index[d], " out of range in dim ", d, " of ", type_string());
    }
    linear = linear * shape_[d] + index[d];
  }
  return linear;
}

Index TileValue::multi_index(int64_t i) const {
  Index index(shape_.size(), 0);
  for (int d = rank() - 1; d >= 0; --d) {
    const int64_t extent = shape_[static_cast<size_t>(d)];
    index[static_cast<size_t>(d)] = i % extent;
    i /= extent;
  }
  return index;
}

bool TileValue::operator==(const TileValue& other) const {
  if (dtype_ != other.dtype_ || shape_ != other.shape_) return false;
  for (int64_t i = 0; i < size(); ++i) {
    if (bits_at(i) != other.bits_at(i)) return false;
  }
  return true;
}

std::string TileValue::type_string() const {
  return std::string(dtype_name(dtype_)) + "[" + (shape_.empty() ? "" : shape_string(shape_)) + "]";
}

std::string TileValue::describe(int max_elements) const {
  std::ostringstream os;
  os << type_string() << " {";
  // 9 significant digits print every f32 (and narrower) value exactly enough to round-trip; f64 needs 17.
  os << std::setprecision(dtype_ == DType::f64 ? 17 : 9);
  const int64_t shown = std::min<int64_t>(size(), max_elements);
  for (int64_t i = 0; i < shown; ++i) {
    if (i > 0) os << ", ";
    os << values_[static_cast<size_t>(i)];
  }
  if (shown < size()) os << ", ... (" << size() - shown << " more)";
  os << "}";
  return os.str();
}

}  // namespace tilesim::isa

// TileValue: the value of a tile in the functional interpreter.
//
// A dense, row-major array of rank 0..4 with one dtype. Elements are held as doubles that are always
// exactly representable in the dtype: every store goes through round_to(dtype, x), so a tile can never
// hold a value its hardware counterpart could not. Equality is bitwise on the encoded patterns.
// Note: with a satfinite default (f8/f4 dtypes), storing +-Inf gives +-max; ops that only move data
// store with Overflow::ieee, which keeps an f8e5m2 Inf an Inf.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "isa/dtype.hpp"
#include "sim/error.hpp"

namespace tilesim::isa {

/// A tile operation was applied to operands it does not accept (shape or dtype mismatch, index out of
/// range). The message names the operation and the operands but no source location: the IR layer
/// catches it and reports it as `file:line:col: <message>`.
class SemanticError : public tilesim::Error {
 public:
  using Error::Error;
};

using Shape = std::vector<int64_t>;
using Index = std::vector<int64_t>;

constexpr int kMaxTileRank = 4;

/// "16x32", or "scalar" for rank 0.
std::string shape_string(const Shape& shape);
/// Product of the dims (1 for rank 0). Throws SemanticError for a negative dim or rank > kMaxTileRank.
int64_t element_count(const Shape& shape);
/// Row-major strides, in elements.
Shape row_major_strides(const Shape& shape);

class TileValue {
 public:
  /// A zero-filled tile. Throws SemanticError for rank > 4 or a negative dim.
  TileValue(DType dtype, Shape shape);
  /// A tile holding `values` (row-major), each rounded to `dtype` (with its default overflow policy, or
  /// the given one). The count must match the shape.
  TileValue(DType dtype, Shape shape, const std::vector<double>& values);
  TileValue(DType dtype, Shape shape, const std::vector<double>& values, Overflow overflow);
  /// A rank-0 tile.
  static TileValue scalar(DType dtype, double value);

  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t size() const { return static_cast<int64_t>(values_.size()); }
  int64_t dim(int axis) const { return shape_.at(static_cast<size_t>(axis)); }

  /// Element by row-major position (0 <= i < size(); checked).
  double at(int64_t i) const;
  /// Element by multi-index (one entry per dim; checked).
  double at(const Index& index) const;
  /// Store x rounded to the dtype (with its default overflow policy, or the given one). Overflow::ieee
  /// leaves every representable value as it is (Inf included), so data movement stores with it.
  void set(int64_t i, double x);
  void set(int64_t i, double x, Overflow overflow);
  void set(const Index& index, double x);
  /// Store x rounded to the dtype into every element.
  void fill(double x);

  /// The rounded element values, row-major.
  const std::vector<double>& values() const { return values_; }
  /// Bit pattern of element i (encode(dtype, at(i))).
  uint64_t bits_at(int64_t i) const;

  /// Row-major position of a multi-index (checked), and the inverse.
  int64_t linear_index(const Index& index) const;
  Index multi_index(int64_t i) const;

  /// Same dtype, same shape, and every element has the same bit pattern (so NaN == NaN, -0 != +0).
  bool operator==(const TileValue& other) const;
  bool operator!=(const TileValue& other) const { return !(*this == other); }

  /// "f32[2x3]" — for error messages.
  std::string type_string() const;
  /// "f32[2x3] {1, 2, 3, 4, 5, 6}", eliding after max_elements values.
  std::string describe(int max_elements = 16) const;

 private:
  DType dtype_;
  Shape shape_;
  std::vector<double> values_;
};

}  // namespace tilesim::isa

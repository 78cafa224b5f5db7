"""An independent numpy model of the tile ISA's dtype conversions, written from the formats' definitions
(not from isa/dtype.cpp), used to check the simulator bit for bit.

Every float format here is (explicit mantissa bits p, exponent bias, largest finite value, whether it has
Inf, whether it has NaN). Rounding to nearest even works for all of them the same way: with x = f * 2^e
(frexp, 0.5 <= |f| < 1), the spacing of the format's values around x is q = 2^(max(e - 1, emin) - p),
where emin = 1 - bias is the smallest normal exponent (below it the spacing stays that of the subnormals).
x / q is exact in float64 and np.rint rounds it half-to-even, so rint(x / q) * q is x rounded to nearest
even. Values whose rounded magnitude exceeds the largest finite value overflow: to Inf (IEEE), to NaN
(e4m3, which has no Inf), or to the largest finite value (satfinite, the default for the 8- and 4-bit
formats, as PTX cvt.rn.satfinite).
"""
import numpy as np

# name: (mantissa bits, bias, max finite, has inf, has nan, default overflow)
FLOAT_FORMATS = {
    "f32": (23, 127, float(np.finfo(np.float32).max), True, True, "ieee"),
    "f16": (10, 15, 65504.0, True, True, "ieee"),
    "bf16": (7, 127, (2 - 2.0 ** -7) * 2.0 ** 127, True, True, "ieee"),
    "f8e4m3": (3, 7, 448.0, False, True, "satfinite"),
    "f8e5m2": (2, 15, 57344.0, True, True, "satfinite"),
    "f4e2m1": (1, 1, 6.0, False, False, "satfinite"),
}
EXPONENT_BITS = {"f32": 8, "f16": 5, "bf16": 8, "f8e4m3": 4, "f8e5m2": 5, "f4e2m1": 2}


def round_float(x, fmt, overflow=None):
    """x (float64 array) rounded to nearest even in `fmt`, as float64; overflow 'ieee' or 'satfinite'."""
    p, bias, max_finite, has_inf, has_nan, default = FLOAT_FORMATS[fmt]
    overflow = overflow or default
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    finite = np.isfinite(x)
    xf = np.where(finite, x, 0.0)
    _, e = np.frexp(xf)
    emin = 1 - bias
    q = np.ldexp(1.0, np.maximum(e - 1, emin) - p)
    r = np.rint(xf / q) * q
    r = np.where(r == 0, np.copysign(0.0, xf), r)  # keep the sign of zero results
    too_big = np.abs(r) > max_finite
    if overflow == "satfinite" or not (has_inf or has_nan):
        r = np.where(too_big, np.copysign(max_finite, xf), r)
    elif has_inf:
        r = np.where(too_big, np.copysign(np.inf, xf), r)
    else:
        r = np.where(too_big, np.nan, r)
    out[finite] = r[finite]
    inf = np.isinf(x)
    if overflow == "satfinite" or not has_inf:
        out[inf] = np.copysign(max_finite, x[inf]) if (overflow == "satfinite" or not has_nan) else np.nan
    else:
        out[inf] = x[inf]
    nan = np.isnan(x)
    out[nan] = np.nan if has_nan else max_finite  # f4e2m1 has no NaN: NaN -> +6 (see isa/dtype.hpp)
    return out


def round_tf32(x):
    """tf32 as tensor cores take an fp32 operand: round to f32 (RNE), then drop the low 13 mantissa bits."""
    with np.errstate(over="ignore"):  # beyond the f32 range -> Inf, as intended
        bits = np.asarray(x, dtype=np.float64).astype(np.float32).view(np.uint32)
    nan = np.isnan(bits.view(np.float32))
    truncated = (bits & np.uint32(0xFFFFE000)).view(np.float32).astype(np.float64)
    return np.where(nan, np.nan, truncated)


def round_int(x, fmt):
    """i8 / i32: nearest integer, ties to even, saturated; NaN -> 0."""
    lo, hi = {"i8": (-128, 127), "i32": (-2 ** 31, 2 ** 31 - 1)}[fmt]
    x = np.asarray(x, dtype=np.float64)
    r = np.clip(np.rint(np.where(np.isnan(x), 0.0, x)), lo, hi)
    return r


def round_to(dtype, x, overflow=None):
    if dtype in FLOAT_FORMATS:
        return round_float(x, dtype, overflow)
    if dtype == "tf32":
        return round_tf32(x)
    if dtype in ("i8", "i32"):
        return round_int(x, dtype)
    if dtype == "i1":
        x = np.asarray(x, dtype=np.float64)
        return np.where((x != 0) | np.isnan(x), 1.0, 0.0)
    raise ValueError(dtype)


def decode_float(code, fmt):
    """The value of each bit pattern of a small float format, from the format's definition."""
    p, bias, _, has_inf, has_nan, _ = FLOAT_FORMATS[fmt]
    eb = EXPONENT_BITS[fmt]
    code = np.asarray(code, dtype=np.int64)
    sign = np.where((code >> (eb + p)) & 1, -1.0, 1.0)
    exp = (code >> p) & ((1 << eb) - 1)
    man = code & ((1 << p) - 1)
    normal = sign * (1.0 + man / 2.0 ** p) * np.ldexp(1.0, exp - bias)
    sub = sign * (man / 2.0 ** p) * np.ldexp(1.0, 1 - bias)
    value = np.where(exp == 0, sub, normal)
    top = exp == (1 << eb) - 1
    if has_inf:  # IEEE-like: all-ones exponent is Inf (mantissa 0) or NaN
        value = np.where(top & (man == 0), sign * np.inf, value)
        value = np.where(top & (man != 0), np.nan, value)
    elif has_nan:  # e4m3 (FN): only S.1111.111 is NaN
        value = np.where(top & (man == (1 << p) - 1), np.nan, value)
    return value


def encode_float(x, fmt, overflow=None):
    """Bit patterns of x rounded to `fmt` (for the 8- and 4-bit formats and bf16/f16)."""
    r = round_float(x, fmt, overflow)
    p, bias, _, has_inf, has_nan, _ = FLOAT_FORMATS[fmt]
    eb = EXPONENT_BITS[fmt]
    sign = np.signbit(r).astype(np.int64)
    a = np.abs(np.where(np.isfinite(r), r, 0.0))
    _, e = np.frexp(a)
    exp_field = np.where(a == 0, 0, np.maximum(e - 1 + bias, 0))  # 0 for subnormals and zero
    scale = np.ldexp(1.0, np.where(exp_field == 0, 1 - bias, e - 1) - p)
    man_field = (a / scale).astype(np.int64) - np.where(exp_field == 0, 0, 1 << p)
    code = (sign << (eb + p)) | (exp_field.astype(np.int64) << p) | man_field
    top = (1 << eb) - 1
    if has_inf:
        code = np.where(np.isinf(r), (sign << (eb + p)) | (top << p), code)
    nan = np.isnan(r)
    if has_nan:
        nan_code = (top << p) | ((1 << p) - 1) if not has_inf else (top << p) | (1 << (p - 1))
        code = np.where(nan, (np.signbit(np.asarray(x, dtype=np.float64)).astype(np.int64) << (eb + p)) | nan_code,
                        code)
    return code


def f32_round(x):
    """float64 -> float32 (RNE) as float64: numpy's own conversion, the reference for f32."""
    return np.asarray(x, dtype=np.float64).astype(np.float32).astype(np.float64)


def gemm_f32_accumulate(a, b, c0=None):
    """C = C0 + A.B with fp32 accumulation in ascending k: acc = round_f32(acc + a[i,k] * b[k,j]).

    a and b hold values already rounded to their (narrow) input dtypes, whose products are exact in f32
    (bf16/f16/f8/f4 x the same); each add is a float32 add, so numpy rounds it RNE exactly as the
    simulator's mma does, in the same order."""
    a32 = np.asarray(a, dtype=np.float64).astype(np.float32)
    b32 = np.asarray(b, dtype=np.float64).astype(np.float32)
    assert np.array_equal(a32.astype(np.float64), a) and np.array_equal(b32.astype(np.float64), b), \
        "inputs must be f32-representable"
    m, k = a32.shape
    _, n = b32.shape
    acc = np.zeros((m, n), dtype=np.float32) if c0 is None else np.asarray(c0, dtype=np.float32).copy()
    for kk in range(k):
        prod = np.multiply.outer(a32[:, kk], b32[kk, :])  # exact in f32 for these input dtypes
        acc = acc + prod                                  # one RNE f32 rounding per element
    return acc.astype(np.float64)


def same_values(a, b):
    """Bitwise-equal float64 arrays: NaN matches NaN, +0 and -0 differ."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    both_nan = np.isnan(a) & np.isnan(b)
    return bool(np.all(both_nan | ((a == b) & (np.signbit(a) == np.signbit(b)))))


def first_mismatch(a, b):
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    bad = ~((np.isnan(a) & np.isnan(b)) | ((a == b) & (np.signbit(a) == np.signbit(b))))
    idx = np.flatnonzero(bad)
    return None if idx.size == 0 else (int(idx[0]), a[idx[0]], b[idx[0]], int(idx.size))

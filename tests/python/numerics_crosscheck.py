"""The simulator's dtype conversions (tilesim.round_to / encode / decode, i.e. isa/dtype.cpp) agree bit for bit
with the independent numpy model in numpy_numerics.py, on many random values and on the special cases of
every format: zeros, subnormals, exact ties between neighbours, the largest finite values and just past
them, Inf and NaN. Where numpy itself implements a format (float32, float16) it is checked too.
"""
import sys

import numpy as np

import tilesim
import numpy_numerics as nn

RNG = np.random.default_rng(20240611)


def neighbours_and_ties(fmt):
    """Every representable value of a small format, the midpoints between neighbours (ties), and points
    a quarter of a step either side of each midpoint."""
    p, _, max_finite, _, _, _ = nn.FLOAT_FORMATS[fmt]
    codes = np.arange(1 << (1 + nn.EXPONENT_BITS[fmt] + p))
    values = nn.decode_float(codes, fmt)
    values = np.unique(values[np.isfinite(values)])
    mids = (values[:-1] + values[1:]) / 2
    quarter = (values[1:] - values[:-1]) / 4
    return np.concatenate([values, mids, mids - quarter, mids + quarter])


def wide_samples(fmt, n):
    """Random values spread in log space over the format's whole range (subnormals to beyond max)."""
    p, bias, max_finite, _, _, _ = nn.FLOAT_FORMATS[fmt]
    lo = (1 - bias) - p - 3                 # below half the smallest subnormal
    hi = int(np.ceil(np.log2(max_finite))) + 2
    exps = RNG.uniform(lo, hi, n)
    signs = RNG.choice([-1.0, 1.0], n)
    return signs * np.exp2(exps)


def specials(fmt):
    p, bias, max_finite, _, _, _ = nn.FLOAT_FORMATS[fmt]
    tiny = 2.0 ** (1 - bias - p)
    step_at_max = 2.0 ** (np.floor(np.log2(max_finite)) - p)
    return np.array([0.0, -0.0, np.inf, -np.inf, np.nan, tiny, -tiny, tiny / 2, tiny * 0.75, tiny / 4,
                     max_finite, -max_finite, max_finite + step_at_max / 2, max_finite + step_at_max / 2 * 0.999,
                     max_finite + step_at_max, -(max_finite + step_at_max / 2), 1e300, -1e300, 5e-324])


def check(name, got, want, inputs):
    bad = nn.first_mismatch(got, want)
    assert bad is None, "%s: %d mismatches; first at %r: simulator %r, numpy model %r" % (
        name, bad[3], inputs.ravel()[bad[0]], bad[1], bad[2])


def main():
    checked = 0
    for fmt in ["f32", "f16", "bf16", "f8e4m3", "f8e5m2", "f4e2m1"]:
        parts = [wide_samples(fmt, 200000), specials(fmt)]
        if fmt not in ("f32", "bf16"):
            parts.append(neighbours_and_ties(fmt))
        else:  # ties of the wide formats: random values with the bits below the format's lsb = exactly half
            p = nn.FLOAT_FORMATS[fmt][0]
            base = nn.round_float(wide_samples(fmt, 50000), fmt)
            base = base[np.isfinite(base) & (base != 0)]
            _, e = np.frexp(base)
            half_ulp = np.ldexp(1.0, e - 1 - p - 1)
            parts += [base + half_ulp, base - half_ulp, base + half_ulp * 1.5]
        x = np.concatenate(parts)
        for overflow in (None, "ieee", "satfinite"):
            got = tilesim.round_to(fmt, x, overflow)
            want = nn.round_float(x, fmt, overflow)
            check("round_to(%s, overflow=%s)" % (fmt, overflow), got, want, x)
            checked += x.size
        if fmt == "f32":
            with np.errstate(over="ignore"):
                as_f32 = x.astype(np.float32).astype(np.float64)
            check("round_to(f32) vs numpy float32", tilesim.round_to("f32", x), as_f32, x)
        if fmt == "f16":
            with np.errstate(over="ignore"):
                check("round_to(f16) vs numpy float16", tilesim.round_to("f16", x),
                      x.astype(np.float16).astype(np.float64), x)
        if fmt in ("f8e4m3", "f8e5m2", "f4e2m1", "f16", "bf16"):
            # every bit pattern decodes to the value the format's definition gives
            n_codes = 1 << (1 + nn.EXPONENT_BITS[fmt] + nn.FLOAT_FORMATS[fmt][0])
            codes = np.arange(n_codes, dtype=np.uint32)
            check("decode(%s) of every code" % fmt, tilesim.decode(fmt, codes), nn.decode_float(codes, fmt), codes)
            # encode agrees with the model's bit patterns (NaNs: only that they decode to NaN)
            finite = x[~np.isnan(x)]
            got_codes = tilesim.encode(fmt, finite).astype(np.int64)
            want_codes = nn.encode_float(finite, fmt)
            assert np.array_equal(got_codes, want_codes), "encode(%s): first mismatch at %r: %r vs %r" % (
                fmt, finite[np.argmax(got_codes != want_codes)], got_codes[np.argmax(got_codes != want_codes)],
                want_codes[np.argmax(got_codes != want_codes)])
            assert np.isnan(tilesim.decode(fmt, tilesim.encode(fmt, np.array([np.nan])))[0]) or fmt == "f4e2m1"
            # decode(encode(x)) == round_to(x)
            check("decode(encode(%s))" % fmt, tilesim.decode(fmt, tilesim.encode(fmt, x)), tilesim.round_to(fmt, x), x)

    # Spot values the formats are known by (OCP / IEEE definitions).
    assert tilesim.round_to("f8e4m3", np.array([1e9, -1e9, 464.0, 463.9, 0.001953125 / 2]))[:4].tolist() == \
        [448.0, -448.0, 448.0, 448.0]
    assert np.isnan(tilesim.round_to("f8e4m3", np.array([480.0]), "ieee")[0])
    assert tilesim.round_to("f8e5m2", np.array([np.inf]))[0] == 57344.0
    assert tilesim.round_to("f8e5m2", np.array([np.inf]), "ieee")[0] == np.inf
    assert tilesim.round_to("f4e2m1", np.array([2.5, 3.5, 5.0, 100.0, 0.25, 0.75])).tolist() == \
        [2.0, 4.0, 4.0, 6.0, 0.0, 1.0]
    assert tilesim.round_to("bf16", np.array([1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8])).tolist() == \
        [1.0, 1.0 + 2.0 ** -6]

    # tf32: truncation of the f32 value (tensor-core operand conversion), and the rna / rne variants.
    x = np.concatenate([wide_samples("f32", 100000), specials("f32")])
    check("round_to(tf32)", tilesim.round_to("tf32", x), nn.round_tf32(x), x)
    with np.errstate(over="ignore"):
        f32 = x.astype(np.float32).astype(np.float64)
    finite = np.isfinite(f32)
    for rounding in ("rne", "rna"):
        got = tilesim.round_tf32(f32[finite], rounding)
        q = np.ldexp(1.0, np.frexp(f32[finite])[1] - 1 - 10)
        scaled = f32[finite] / q
        want = (np.rint(scaled) if rounding == "rne" else np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)) * q
        want = np.where(np.abs(want) > nn.FLOAT_FORMATS["f32"][2], np.copysign(np.inf, want), want)
        normal = np.abs(f32[finite]) >= 2.0 ** -126  # subnormal tf32 spacing follows f32's
        check("round_tf32(%s)" % rounding, got[normal], want[normal], f32[finite][normal])
    checked += x.size

    # Integers: nearest, ties to even, saturating, NaN -> 0.
    xi = np.concatenate([RNG.uniform(-300, 300, 10000), np.arange(-300, 300) + 0.5,
                         [np.nan, np.inf, -np.inf, 2.0 ** 40, -2.0 ** 40, 2.0 ** 31 - 0.5]])
    for fmt in ("i8", "i32"):
        check("round_to(%s)" % fmt, tilesim.round_to(fmt, xi), nn.round_int(xi, fmt), xi)
    check("round_to(i1)", tilesim.round_to("i1", xi), nn.round_to("i1", xi), xi)
    print("numerics cross-check ok: %d conversions compared bit for bit" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())

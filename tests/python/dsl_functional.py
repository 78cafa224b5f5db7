"""Kernels written in the DSL (tests/python/dsl_kernels.py) run in the functional interpreter and match
numpy: GEMMs bit for bit against the fp32-accumulation model (pipelined, hand-prefetched, and
warp-specialised with roles and channels), element-wise and branchy kernels exactly, softmax, the norms
and attention within stated tolerances of float64 numpy.
"""
import sys

import numpy as np

import tilesim
import numpy_numerics as nn
import dsl_kernels as k

RNG = np.random.default_rng(7)


def uniform(*shape):
    return RNG.uniform(-1.0, 1.0, shape)


def exact(what, got, want):
    bad = nn.first_mismatch(got, want)
    assert bad is None, "%s: %d elements differ; first at %d: interpreter %r, numpy %r" % (what, bad[3], bad[0],
                                                                                            bad[1], bad[2])


def close(what, got, ref, atol, rtol, wrong=None):
    """Within atol + rtol*|ref|, and the same bound rejects `wrong` (default: the reference off by 1%)."""
    err = np.abs(got - ref) - (atol + rtol * np.abs(ref))
    assert np.all(err <= 0), "%s: max excess %g over atol=%g, rtol=%g" % (what, err.max(), np.max(atol), rtol)
    if wrong is None:
        wrong = ref * 1.01 + 0.01 * np.abs(ref).max()
    assert np.any(np.abs(got - wrong) > atol + rtol * np.abs(wrong)), "%s: the tolerance is vacuous" % what


def check_vector_add():
    x, y = uniform(3000), uniform(3000)  # 3 programs, the last one partial
    out = k.vector_add.run({"X": x, "Y": y}, {"N": 3000})
    exact("vector_add", out["Z"], nn.f32_round(nn.f32_round(x) + nn.f32_round(y)))


def check_gemms():
    m, n, kk = 130, 129, 100  # edge tiles in every dimension
    a, b = uniform(m, kk), uniform(kk, n)
    a16, b16 = nn.round_to("bf16", a), nn.round_to("bf16", b)  # the interpreter rounds inputs on entry
    out = k.gemm_pipelined.run({"A": a, "B": b}, {"M": m, "N": n, "K": kk})
    exact("gemm_pipelined bf16->f32", out["C"], nn.gemm_f32_accumulate(a16, b16))

    ah, bh = nn.round_to("f16", a), nn.round_to("f16", b)
    out = k.gemm_prefetch.run({"A": a, "B": b}, {"M": m, "N": n, "K": kk})
    exact("gemm_prefetch f16->f32->f16", out["C"], nn.round_to("f16", nn.gemm_f32_accumulate(ah, bh)))

    m, n, kk = 256, 300, 150
    a, b = uniform(m, kk), uniform(kk, n)
    a16, b16 = nn.round_to("bf16", a), nn.round_to("bf16", b)
    out, run = k.gemm_ws.run({"A": a, "B": b}, {"M": m, "N": n, "K": kk}, summary=True)
    exact("gemm_ws (roles, channels) bf16->f32->bf16", out["C"], nn.round_to("bf16", nn.gemm_f32_accumulate(a16, b16)))
    assert run.tasks == 3 * run.programs, run  # one producer and two consumer instances per program


def check_softmax():
    x = RNG.normal(0, 3, (70, 48))
    out = k.softmax_rows.run({"X": x}, {"R": 70, "C": 48})
    x32 = nn.f32_round(x)
    e = np.exp(x32 - x32.max(1, keepdims=True))
    # f32 exp/sub/div (correctly rounded or libm, ~1 ulp each) and an f32 row sum over 48 elements
    close("softmax_rows", out["Y"], e / e.sum(1, keepdims=True), 1e-12, 1e-5)


def check_norms():
    r, d, eps = 37, 96, 1e-5
    x = RNG.normal(0, 1, (r, d))
    w, bias = RNG.uniform(0.5, 1.5, d), RNG.uniform(-0.5, 0.5, d)
    xb, wb = nn.round_to("bf16", x), nn.round_to("bf16", w)
    out = k.rmsnorm.run({"X": x, "W": w}, {"R": r, "D": d, "eps": eps})
    ref = xb / np.sqrt((xb * xb).mean(1, keepdims=True) + eps) * wb
    # f32 arithmetic (1e-5 of the row's scale) plus the bf16 output rounding (2^-8 relative)
    close("rmsnorm (DSL)", out["Y"], ref, 1e-5 * np.abs(ref).max(1, keepdims=True), 2.0 ** -8 + 1e-5)
    x32, w32, b32 = nn.f32_round(x), nn.f32_round(w), nn.f32_round(bias)
    out = k.layernorm.run({"X": x, "W": w, "Bias": bias}, {"R": r, "D": d, "eps": eps}, BR=4)
    xc = x32 - x32.mean(1, keepdims=True)
    ref = xc / np.sqrt((xc * xc).mean(1, keepdims=True) + eps) * w32 + b32
    close("layernorm (DSL, BR=4)", out["Y"], ref, 1e-5 * np.abs(ref).max(1, keepdims=True), 1e-5)


def check_attention():
    s, d = 100, 64
    q, kk, v = (nn.round_to("bf16", uniform(s, d)) for _ in range(3))
    scale = 0.125
    out = k.attention_fwd.run({"Q": q, "K": kk, "V": v}, {"S": s, "scale": scale})

    def reference(scale):
        logits = q @ kk.T * scale
        p = np.exp(logits - logits.max(1, keepdims=True))
        return (p / p.sum(1, keepdims=True)) @ v

    # probabilities rounded to bf16 before P.V (2^-8 relative each: <= 2^-8 max|V| absolute), the output
    # rounded to bf16 (2^-8 relative), f32 softmax arithmetic. Rigorous, so loose: it still rejects a
    # softmax temperature off by 2x.
    close("attention_fwd (DSL)", out["O"], reference(scale), 2.0 ** -8 * np.abs(v).max() + 1e-5, 2.0 ** -8 + 1e-5,
          wrong=reference(2 * scale))


def check_branchy():
    m = 64 * 6
    x = uniform(m, 64)
    for unroll in (1, 2, 3):
        out = k.branchy.run({"X": x}, {"M": m}, UNROLL=unroll)
        want = np.empty_like(x)
        for p in range(6):
            rows = nn.f32_round(x[64 * p:64 * (p + 1)])
            y = rows * 2.0 if p < 1 else rows
            if p % 2 == 0:
                z = nn.f32_round(np.exp(y))
                if p > 3:
                    z = nn.f32_round(z + 1.0)
            else:
                z = y
            if unroll > 1:
                for _ in range(unroll):
                    z = nn.f32_round(z + y)
            want[64 * p:64 * (p + 1)] = z
        # exp is libm's double rounded to f32 in the interpreter, numpy's here: 1 ulp of f32 apart at most
        ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
        assert np.all(np.abs(out["Y"] - want) <= ulp), "branchy UNROLL=%d" % unroll
        rows_without_exp = np.repeat(np.arange(6) % 2 == 1, 64)
        exact("branchy UNROLL=%d (rows without exp)" % unroll, out["Y"][rows_without_exp], want[rows_without_exp])


def check_nested_loops():
    m, kb, chunks = 96, 3, 2
    x = uniform(m, 32 * kb * chunks)
    out = k.nested_loops.run({"X": x}, {"M": m, "K": x.shape[1], "KB": kb})
    acc = np.zeros((m, 32))
    for t in range(kb * chunks):  # tiles in k order, f32 adds
        tile = nn.f32_round(x[:, 32 * t:32 * (t + 1)])
        acc = nn.f32_round(acc + tile if t % 2 == 0 else acc - tile)
    evens = (kb * chunks + 1) // 2
    exact("nested_loops", out["Y"], nn.f32_round(acc * evens))


def main():
    for check in (check_vector_add, check_gemms, check_softmax, check_norms, check_attention, check_branchy,
                  check_nested_loops):
        check()
    # Bad arguments are reported by name.
    try:
        k.vector_add.run({"X": np.zeros(10)}, {"N": 3000})
        raise AssertionError("a wrong shape must be refused")
    except tilesim.Error as e:
        assert "tensor 'X' of kernel @vector_add must have shape 3000" in str(e), str(e)
    print("dsl functional ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

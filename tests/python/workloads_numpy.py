"""Every workload of the C++ registry, built at small shapes and run in the functional interpreter through the
bindings, matches an independent numpy model written here.

 * Exact workloads are compared bit for bit. GEMMs (bf16, f16, tf32, f8e4m3, f8e5m2, f4e2m1 inputs; f32
   accumulation; also f16 and i32 accumulators and the narrowed-accumulator model) use the numpy model
   of numpy_numerics.py: inputs rounded by an independent RNE implementation, then float32 adds in the
   kernel's k order, so every add rounds RNE in fp32 like the tensor-core model.
 * Softmax, LayerNorm, RMSNorm and attention are compared with a float64 numpy computation within the
   tolerances stated next to each model (and each tolerance is shown to reject a 1% error).
 * The C++ workload's own reference check must pass as well.
A workload added to the registry without a model here fails the test.
"""
import math
import sys
import time

import numpy as np

import tilesim
import numpy_numerics as nn


def run(name, params=None):
    w = tilesim.build_workload(name, params or {})
    inputs = w.make_inputs()
    for key, arr in inputs.items():  # inputs hold exact values of their declared dtypes
        dtype = dict((n, t.dtype) for n, t in w.module.params(w.kernel_name))[key]
        assert nn.same_values(nn.round_to(dtype, arr), arr), "%s: input %s is not %s-representable" % (name, key, dtype)
    results, summary = w.run(inputs)
    verdict = w.check(inputs, results, summary)
    assert verdict["pass"], "%s %s: the C++ reference check failed:\n%s" % (name, params, verdict["report"])
    return w, inputs, results, summary


def assert_exact(what, got, want):
    bad = nn.first_mismatch(got, want)
    assert bad is None, "%s: %d of %d elements differ; first at flat index %d: interpreter %r, numpy %r" % (
        what, bad[3], np.size(want), bad[0], bad[1], bad[2])


def assert_close(what, got, ref, atol, rtol, wrong=None):
    """|got - ref| <= atol + rtol*|ref| everywhere; and the same bound rejects `wrong`, a plausibly wrong
    reference (default: the reference off by 1%), so the tolerance is not vacuous."""
    err = np.abs(got - ref)
    bound = atol + rtol * np.abs(ref)
    worst = np.argmax(err - bound)
    assert np.all(err <= bound), "%s: |got - ref| exceeds atol=%s + rtol=%g*|ref| at flat index %d: got %r, ref %r" % (
        what, np.max(atol), rtol, worst, got.ravel()[worst], ref.ravel()[worst])
    if wrong is None:
        wrong = ref * 1.01 + 0.01 * np.max(np.abs(ref))
    assert np.any(np.abs(got - wrong) > atol + rtol * np.abs(wrong)), \
        "%s: the tolerance cannot tell the result from a wrong reference" % what
    return float(np.max(err))


# ---- GEMM family ---------------------------------------------------------------------------------------------

def gemm_model(a, b, dtype_acc, params):
    """The accumulator of C = A.B in the kernel's k order, per the workload's accumulator dtype and model."""
    if dtype_acc == "i32":
        acc = a.astype(np.int64) @ b.astype(np.int64)
        return ((acc + 2 ** 31) % 2 ** 32 - 2 ** 31).astype(np.float64)  # wraps like mma .s32
    if dtype_acc == "f16":  # acc = round_f16(acc + product), k ascending; products and sums exact in f64
        acc = np.zeros((a.shape[0], b.shape[1]))
        for k in range(a.shape[1]):
            acc = nn.round_float(acc + np.multiply.outer(a[:, k], b[k, :]), "f16")
        return acc
    bits = int(params.get("acc_mantissa_bits", 23))
    if bits == 23:
        return nn.gemm_f32_accumulate(a, b)
    # Narrowed accumulator: exact sums of acc_block_k products, then acc + block sum truncated toward zero to
    # `bits` mantissa bits (8-bit inputs: the block sums are exact in float64).
    block = int(params.get("acc_block_k", 32))
    acc = np.zeros((a.shape[0], b.shape[1]))
    for k0 in range(0, a.shape[1], block):
        s = acc + a[:, k0:k0 + block] @ b[k0:k0 + block, :]
        _, e = np.frexp(s)
        q = np.ldexp(1.0, e - 1 - bits)
        acc = np.where(s == 0, 0.0, np.trunc(s / q) * q)
    return acc


def check_gemm(name, params):
    w, inputs, results, _ = run(name, params)
    p = w.params
    a, b = inputs["A"], inputs["B"]
    acc = gemm_model(a, b, p["dtype_acc"], p)
    want = nn.round_to(p["dtype_out"], acc)
    assert_exact("%s %s" % (name, params), results["C"], want)
    return a, b, acc


def gemm_order_matters():
    """The bit-exact GEMM check can fail: accumulating the same products in another order (k descending),
    or rounding only once (float64 sum), gives different bits on the same inputs."""
    w, inputs, results, _ = run("gemm", {"dtype_out": "f32", "K": 300})
    a, b = inputs["A"], inputs["B"]
    for other in (nn.gemm_f32_accumulate(a[:, ::-1], b[::-1, :]), nn.f32_round(a @ b)):
        assert not nn.same_values(results["C"], other), "the model's rounding made no difference: a weak check"
    assert_exact("gemm K=300", results["C"], nn.gemm_f32_accumulate(inputs["A"], inputs["B"]))


GEMM_CASES = [
    {"dtype_in": "bf16", "dtype_out": "f32"},
    {"dtype_in": "bf16", "dtype_out": "bf16"},
    {"dtype_in": "f16", "dtype_out": "f16"},
    {"dtype_in": "f16", "dtype_acc": "f16", "dtype_out": "f16"},
    {"dtype_in": "tf32", "dtype_out": "f32"},
    {"dtype_in": "f8e4m3", "dtype_out": "f32"},
    {"dtype_in": "f8e5m2", "dtype_out": "bf16"},
    {"dtype_in": "f8e4m3", "dtype_out": "f8e4m3"},
    {"dtype_in": "f4e2m1", "dtype_out": "f32"},
    {"dtype_in": "i8", "dtype_acc": "i32", "dtype_out": "i32"},
    {"dtype_in": "f8e4m3", "dtype_out": "f32", "acc_mantissa_bits": 13, "acc_block_k": 16},
    {"dtype_in": "bf16", "dtype_out": "f32", "M": 33, "N": 129, "K": 7, "BLOCK_K": 16},
]


def check_gemm_fp8_scaled():
    """DeepGEMM's promotion: per 128-wide K block a partial sum from 0 (f32 adds in k order, or the narrowed
    accumulator), then acc = fma(partial, f32(sa * sb), acc) rounded once to f32: exact rational arithmetic
    here, so the single rounding is independent of the kernel's round-to-odd trick. B is [N, K]; with
    groups, one [N, K] weight per group of M / groups rows, each padded to whole BLOCK_N tiles."""
    from fractions import Fraction
    for params in ({}, {"K": 300, "N": 160, "BLOCK_N": 32, "dtype_out": "f32"},
                   {"K": 300, "N": 160, "BLOCK_N": 48, "dtype_out": "f32"},  # tiles spanning two B scale blocks
                   {"M": 100, "K": 300, "BLOCK_M": 64, "consumers": 1},  # one math warp group per 64-row tile
                   {"K": 260, "dtype_in": "f8e5m2", "acc_mantissa_bits": 13, "acc_block_k": 32},
                   # m-grouped contiguous layout: 4 groups of 128 rows, 200 columns in 48-wide tiles
                   {"M": 512, "groups": 4, "N": 200, "BLOCK_N": 48, "K": 300, "cluster_m": 1}):
        w, inputs, results, _ = run("gemm_fp8_scaled", params)
        p = w.params
        groups, n, bn = int(p["groups"]), int(p["N"]), int(p["BLOCK_N"])
        rows_b = n if groups == 1 else -(-n // bn) * bn  # B rows per group (padded to whole tiles)
        rows_sb = -(-rows_b // 128)
        a_all, sa_all = inputs["A"], inputs["SA"]
        mg = a_all.shape[0] // groups
        want = np.zeros((a_all.shape[0], n))
        for g in range(groups):
            a, sa = a_all[g * mg:(g + 1) * mg], sa_all[:, g * mg:(g + 1) * mg]
            b = inputs["B"][g * rows_b:g * rows_b + n].T
            sb = inputs["SB"][g * rows_sb:(g + 1) * rows_sb]
            k = a.shape[1]
            acc = np.zeros((a.shape[0], b.shape[1]))
            for blk, k0 in enumerate(range(0, k, 128)):
                partial = gemm_model(a[:, k0:k0 + 128], b[k0:k0 + 128, :], "f32", p)
                scale = nn.f32_round(np.multiply.outer(sa[blk, :], sb[np.arange(b.shape[1]) // 128, blk]))
                acc = np.vectorize(lambda x, y, z: round_fraction_f32(Fraction(x) * Fraction(y) + Fraction(z)))(
                    partial, scale, acc)
            want[g * mg:(g + 1) * mg] = acc
        assert_exact("gemm_fp8_scaled %s" % params, results["C"], nn.round_to(p["dtype_out"], want))


def round_fraction_f32(q):
    """A rational rounded to the nearest f32 (ties to even), for values not exactly representable in f64."""
    from fractions import Fraction
    if q == 0:
        return 0.0
    sign = -1.0 if q < 0 else 1.0
    q = abs(q)
    e = math.floor(math.log2(q))  # may be off by one for values near a power of two: fixed below
    while Fraction(2) ** e > q:
        e -= 1
    while Fraction(2) ** (e + 1) <= q:
        e += 1
    e = max(e, -126)  # subnormals share the smallest normal exponent's quantum
    quantum = Fraction(2) ** (e - 23)
    n, rem = divmod(q, quantum)
    if rem * 2 > quantum or (rem * 2 == quantum and n % 2 == 1):
        n += 1
    return sign * float(n * quantum)


def act_model(kind, x):
    """Activations in float64 (the kernel: libm in double, rounded once to f32)."""
    if kind == "relu":
        return np.maximum(x, 0.0)
    if kind == "gelu":
        return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))
    if kind == "gelu_tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    if kind == "silu":
        return x / (1 + np.exp(-x))
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if kind == "tanh":
        return np.tanh(x)
    raise ValueError(kind)


def check_gemm_epilogue():
    for act in ("relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"):
        params = {"activation": act, "dtype_out": "f32"}
        w, inputs, results, _ = run("gemm_epilogue", params)
        acc = nn.gemm_f32_accumulate(inputs["A"], inputs["B"])
        x = nn.f32_round(acc + inputs["Bias"])  # f32 + f32 rounds once
        want = nn.f32_round(act_model(act, x))
        if act == "relu":
            assert_exact("gemm_epilogue relu", results["C"], want)
        else:
            # Transcendentals: libm's double result rounded to f32 (the oracle) vs numpy's double result
            # rounded to f32. The two doubles differ by a few double ulps of the terms (which cancel in
            # 1 + tanh(...) for x << 0), so: at most 1 ulp of f32, plus 1e-15 * (1 + |x|) absolute.
            f32_ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
            excess = np.abs(results["C"] - want) - (f32_ulp + 1e-15 * (1 + np.abs(x)))
            worst = np.argmax(excess)
            assert np.all(excess <= 0), "gemm_epilogue %s: x=%r got %r, numpy %r" % (
                act, x.ravel()[worst], results["C"].ravel()[worst], want.ravel()[worst])
            wrong = nn.f32_round(act_model("gelu" if act != "gelu" else "gelu_tanh", x))
            assert not np.all(np.abs(results["C"] - wrong) <= f32_ulp + 1e-15 * (1 + np.abs(x))), act


def check_gemm_splitk():
    for params in ({}, {"split_k": 2, "K": 200}, {"split_k": 5}):
        w, inputs, results, _ = run("gemm_splitk", params)
        s = w.scalars
        kt = -(-s["K"] // s["BK"])
        per = -(-kt // s["SPLIT_K"])
        c = np.zeros_like(results["C"])
        # Program order has the split index slowest, so the partial sums reach C in order s = 0, 1, ...;
        # each atomic_add rounds the exact f32 sum once.
        for split in range(s["SPLIT_K"]):
            lo, hi = split * per * s["BK"], min((split + 1) * per, kt) * s["BK"]
            part = nn.gemm_f32_accumulate(inputs["A"][:, lo:hi], inputs["B"][lo:hi, :]) if hi > lo else 0.0
            c = nn.f32_round(c + part)
        assert_exact("gemm_splitk %s" % params, results["C"], c)


def check_mma():
    for params in ({}, {"operands": "RS", "dtype_in": "f16"}, {"dtype_in": "f8e5m2", "shape": "m64n32k32"}):
        w, inputs, results, _ = run("mma", params)
        acc = np.zeros((w.scalars["MI"], w.scalars["NI"]))
        for _ in range(w.scalars["ITERS"]):  # ITERS dependent mma ops into one accumulator
            acc = nn.gemm_f32_accumulate(inputs["A"], inputs["B"], acc)
        assert_exact("mma %s" % params, results["C"], np.broadcast_to(acc, results["C"].shape))


# ---- element-wise, reductions, data movement ------------------------------------------------------------------

def check_elementwise():
    ops = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "max": np.maximum,
           "min": np.minimum}
    cases = [{"op": op} for op in ops] + [{"op": "div", "dtype": "bf16"}, {"op": "mul", "dtype": "f16"},
                                         {"op": "sub", "dtype": "bf16", "N": 777}]
    for params in cases:
        w, inputs, results, _ = run("elementwise", params)
        dtype = w.params["dtype"]
        with np.errstate(divide="ignore", invalid="ignore"):
            exact = ops[w.params["op"]](inputs["X"], inputs["Y"])  # float64, then one rounding to dtype
        assert_exact("elementwise %s" % params, results["Z"], nn.round_to(dtype, exact))


def f32_sequential_sum(x, axis):
    """reduce.sum: f32 accumulation in index order starting from the first element."""
    x = np.moveaxis(x, axis, -1).astype(np.float32)
    acc = x[..., 0].copy()
    for i in range(1, x.shape[-1]):
        acc = acc + x[..., i]
    return acc.astype(np.float64)


def check_reduction():
    for params in ({}, {"op": "max"}, {"op": "min", "dtype": "f16"}, {"axis": 0}, {"axis": 0, "op": "max", "dtype": "f32"}):
        w, inputs, results, _ = run("reduction", params)
        s, op, axis = w.scalars, w.params["op"], int(w.params["axis"])
        x = inputs["X"] if axis == 1 else inputs["X"].T
        block = s["BC"] if axis == 1 else s["BR"]
        ident = {"sum": 0.0, "max": -np.inf, "min": np.inf}[op]
        run_value = np.full(x.shape[0], ident)
        for j0 in range(0, x.shape[1], block):  # tile by tile along the reduced axis; the edge padded with ident
            tile = np.full((x.shape[0], block), ident)
            part_cols = x[:, j0:j0 + block]
            tile[:, :part_cols.shape[1]] = part_cols
            if op == "sum":
                run_value = nn.f32_round(run_value + f32_sequential_sum(tile, 1))
            else:
                run_value = (np.maximum if op == "max" else np.minimum)(run_value, tile.max(1) if op == "max" else tile.min(1))
        assert_exact("reduction %s" % params, results["Y"], run_value)


def check_transpose():
    for params in ({}, {"dtype": "bf16"}, {"dtype": "f8e4m3", "rows": 64, "cols": 33}, {"dtype": "i8"}):
        w, inputs, results, _ = run("transpose", params)
        assert_exact("transpose %s" % params, results["Y"], inputs["X"].T)


def check_stream():
    for op in ("read", "write", "copy", "scale", "triad"):
        w, inputs, results, _ = run("stream", {"op": op})
        f = w.float_scalars
        if op == "copy":
            assert_exact("stream copy", results["B"], inputs["A"])
        elif op == "scale":
            assert_exact("stream scale", results["B"], nn.f32_round(f["s"] * inputs["A"]))
        elif op == "triad":
            assert_exact("stream triad", results["A"], nn.f32_round(inputs["B"] + nn.f32_round(f["s"] * inputs["C"])))
        elif op == "write":
            assert_exact("stream write", results["A"], np.full_like(inputs["A"], f["value"]))
        else:  # read: program p sums tiles p, p + NB, ... (grid-stride), each tile summed in f32 in order
            s = w.scalars
            a = np.concatenate([inputs["A"], np.zeros(-s["N"] % s["BLOCK"])]).reshape(-1, s["BLOCK"])
            sums = []
            for p in range(s["NB"]):
                total = 0.0
                for t in range(p, a.shape[0], s["NB"]):
                    total = float(nn.f32_round(total + f32_sequential_sum(a[t:t + 1], 1))[0])
                sums.append(total)
            assert_exact("stream read", results["Sums"], np.array(sums))


def check_bulk_copy():
    for engine in ("tma", "tma_2d", "cp_async"):
        w, inputs, results, _ = run("bulk_copy", {"engine": engine})
        assert_exact("bulk_copy %s" % engine, results["Dst"], inputs["Src"])
        assert np.any(inputs["Src"] != 0), "bulk_copy: the source is all zeros, the copy check would be weak"


def check_pchase():
    for params in ({}, {"space": "shared", "stride": 128}, {"threads": 3, "steps": 100}):
        w, inputs, results, _ = run("pchase", params)
        nxt = inputs["Next"].astype(np.int64)
        ends = []
        for p in range(w.scalars["P"]):
            pos = p
            for _ in range(w.scalars["STEPS"]):
                pos = nxt[pos]
            ends.append(pos)
        assert_exact("pchase %s" % params, results["End"], np.array(ends, dtype=np.float64))


def check_alu():
    for op, dtype in (("ffma", "f32"), ("hfma", "f16")):
        w, inputs, results, _ = run("alu", {"op": op})
        a, b = (nn.round_to(dtype, np.array(w.float_scalars[k])) for k in ("a", "b"))
        x = inputs["X"]
        for _ in range(w.scalars["ITERS"]):
            x = nn.round_to(dtype, x * a + b)  # fma: exact in float64 for these operands, rounded once
        assert_exact("alu %s" % op, results["Y"], x)


def check_launch():
    for blocks in (1, 4, 9):
        w, inputs, results, summary = run("launch", {"blocks": blocks})
        assert results == {} and summary.programs == blocks, (results, summary)


# ---- tolerance-compared workloads -------------------------------------------------------------------------------

# Half an ulp of the output dtype, relative (outputs are computed in f32 then rounded once), plus 1e-5 for
# the f32 arithmetic (sums over at most a few hundred elements: a few hundred f32 roundings of 6e-8).
OUT_RTOL = {"f32": 0.0, "bf16": 2.0 ** -8, "f16": 2.0 ** -11}
F32_RTOL = 1e-5
# Outputs that round to subnormals of the output dtype have a fixed absolute spacing instead: half of it.
OUT_ATOL = {d: tilesim.dtype_info(d)["min_subnormal"] / 2 for d in OUT_RTOL}


def check_softmax():
    for params in ({}, {"dtype": "f32", "cols": 200, "BLOCK_R": 4}, {"dtype": "f16"},
                   {"dtype": "f32", "cols": 301, "CLUSTER": 4}):  # a cluster of 4 programs shares each row
        w, inputs, results, _ = run("softmax", params)
        x = inputs["X"]
        e = np.exp(x - x.max(1, keepdims=True))
        ref = e / e.sum(1, keepdims=True)
        dtype = w.params["dtype"]
        assert_close("softmax %s" % params, results["Y"], ref, OUT_ATOL[dtype], OUT_RTOL[dtype] + F32_RTOL)


def check_norms():
    for name in ("layernorm", "rmsnorm"):
        for params in ({}, {"dtype": "f32"}, {"dtype": "f16", "cols": 160}):
            w, inputs, results, _ = run(name, params)
            x, g, eps = inputs["X"], inputs["Gamma"], w.float_scalars["eps"]
            if name == "layernorm":
                xc = x - x.mean(1, keepdims=True)
                ref = xc / np.sqrt((xc * xc).mean(1, keepdims=True) + eps) * g + inputs["Beta"]
            else:
                ref = x / np.sqrt((x * x).mean(1, keepdims=True) + eps) * g
            # f32 arithmetic errors scale with the row's magnitude (the normalised values are O(1) times
            # gamma): atol = 1e-5 * the largest |ref| of the row; plus the output rounding.
            atol = F32_RTOL * np.max(np.abs(ref), axis=1, keepdims=True) + OUT_ATOL[w.params["dtype"]]
            assert_close("%s %s" % (name, params), results["Y"], ref, atol, OUT_RTOL[w.params["dtype"]] + F32_RTOL)


def attention_ref(q, k, v, scale, causal):
    s = np.einsum("bhqd,bhkd->bhqk", q, k) * scale
    if causal:
        n = s.shape[-1]
        s = np.where(np.tril(np.ones((n, n), dtype=bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    return np.einsum("bhqk,bhkd->bhqd", p / p.sum(-1, keepdims=True), v)


def check_attention(name="attention_fwd"):
    for params in ({}, {"causal": 1}, {"dtype": "f16", "seqlen": 70, "BLOCK_N": 16}, {"causal": 1, "seqlen": 130}):
        w, inputs, results, _ = run(name, params)
        # attention_ws passes scale * log2(e) (it folds the scale into exp2); the softmax scale is the f32
        # 1/sqrt(headdim) of attention_fwd either way
        scale = float(np.float32(1 / np.sqrt(w.scalars["D"])))
        ref = attention_ref(inputs["Q"], inputs["K"], inputs["V"], scale, w.scalars["causal"])
        # The kernel rounds the probabilities to the input dtype before the P.V mma (relative error u =
        # 2^-8 for bf16, 2^-11 for f16, per probability), so |O - ref| <= u * max|V|; O is rounded to the
        # dtype (relative u); f32 softmax arithmetic adds ~1e-5.
        u = OUT_RTOL[w.params["dtype"]]
        atol = u * np.max(np.abs(inputs["V"])) + F32_RTOL
        # This bound is rigorous, hence loose; it still rejects a softmax temperature off by 2x, or (causal)
        # a missing mask.
        causal = w.scalars["causal"]
        wrong = attention_ref(inputs["Q"], inputs["K"], inputs["V"], scale * (1 if causal else 2), not causal)
        assert_close("%s %s" % (name, params), results["O"], ref, atol, u + F32_RTOL, wrong)


MODELS = {
    "gemm": lambda: [check_gemm("gemm", c) for c in GEMM_CASES] and gemm_order_matters(),
    "gemm_ws": lambda: [check_gemm("gemm_ws", c) for c in GEMM_CASES[:3] + GEMM_CASES[5:7]],
    "gemm_epilogue": check_gemm_epilogue,
    "gemm_fp8_scaled": check_gemm_fp8_scaled,
    "gemm_splitk": check_gemm_splitk,
    "mma": check_mma,
    "elementwise": check_elementwise,
    "reduction": check_reduction,
    "transpose": check_transpose,
    "stream": check_stream,
    "bulk_copy": check_bulk_copy,
    "pchase": check_pchase,
    "alu": check_alu,
    "launch": check_launch,
    "softmax": check_softmax,
    "layernorm": check_norms,
    "rmsnorm": check_norms,
    "attention_fwd": check_attention,
    "attention_ws": lambda: check_attention("attention_ws"),
}


def main():
    names = tilesim.workloads()
    missing = [n for n in names if n not in MODELS]
    assert not missing, "workloads without a numpy model in %s: %s" % (__file__, missing)
    failures = []
    done = set()
    for name in names:
        fn = MODELS[name]
        if fn in done:
            continue
        done.add(fn)
        t = time.time()
        try:
            fn()
            print("  %-14s ok (%.2fs)" % (name, time.time() - t))
        except (AssertionError, tilesim.Error) as e:  # keep going: report every workload that disagrees
            failures.append(name)
            print("  %-14s FAIL: %s" % (name, e))
    if failures:
        print("workloads vs numpy: %d of %d FAILED: %s" % (len(failures), len(names), ", ".join(failures)))
        return 1
    print("workloads vs numpy ok: %d workloads" % len(names))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""DSL twins of registry workloads: the same kernels as workloads/*.tile, written in the DSL with their tile
sizes and dtypes as Constexpr parameters. For several parameter sets each twin, instantiated like the
registry instantiates its template, builds exactly the registry's IR (up to value names), and run on the
workload's seeded inputs gives bit-identical results, which pass the workload's own reference check.
"""
import sys

import numpy as np

import tilesim
from tilesim.dsl import *  # noqa: F401,F403
from dsl_kernels import canonical
import numpy_numerics as nn


@kernel(grid=lambda M, N, TM, TN: (cdiv(M, TM), cdiv(N, TN)), scratch="auto")
def gemm(A: Global["DIN", "M", "K"], B: Global["DIN", "K", "N"], C: Global["DOUT", "M", "N"],
         M: i32, N: i32, K: i32, BM: i32, BN: i32, BK: i32,
         DIN: Constexpr, DACC: Constexpr, DOUT: Constexpr, TM: Constexpr, TN: Constexpr, TK: Constexpr,
         STAGES: Constexpr):
    pm, pn = program_id(0), program_id(1)
    c0, c1 = const(0), const(1)
    kt = const(cdiv(K, BK))
    acc = zeros((TM, TN), DACC, space="acc")
    for k in tile_range(c0, kt, c1, stages=STAGES):
        a = copy_async(A, (pm, k), (TM, TK))
        b = copy_async(B, (k, pn), (TK, TN))
        wait(a, b)
        acc = mma(a, b, acc)
    store(C, (pm, pn), cast(acc, DOUT))


@kernel(grid=lambda M, N, SPLIT_K, TM, TN: (cdiv(M, TM), cdiv(N, TN), SPLIT_K), scratch="auto")
def gemm_splitk(A: Global["DIN", "M", "K"], B: Global["DIN", "K", "N"], C: Global[f32, "M", "N"],
                M: i32, N: i32, K: i32, BM: i32, BN: i32, BK: i32, SPLIT_K: i32,
                DIN: Constexpr, TM: Constexpr, TN: Constexpr, TK: Constexpr, STAGES: Constexpr):
    pm, pn, ps = program_id(0), program_id(1), program_id(2)
    c1 = const(1)
    kt = const(cdiv(K, BK))
    per = cdiv(kt, SPLIT_K)
    lo = ps * per
    hi = minimum(lo + per, kt)
    acc = zeros((TM, TN), f32, space="acc")
    for k in tile_range(lo, hi, c1, stages=STAGES):
        a = copy_async(A, (pm, k), (TM, TK))
        b = copy_async(B, (k, pn), (TK, TN))
        wait(a, b)
        acc = mma(a, b, acc)
    atomic_add(C, (pm, pn), acc)


@kernel(grid=lambda R, TR: (cdiv(R, TR),))
def reduce_rows(X: Global["DT", "R", "C"], Y: Global[f32, "R"], R: i32, C: i32, BR: i32, BC: i32, ident: f32,
                DT: Constexpr, TR: Constexpr, TC: Constexpr, OP: Constexpr):
    pr = program_id(0)
    c0, c1 = const(0), const(1)
    nc = const(cdiv(C, BC))
    cols = iota((TR, TC), i32, axis=1)
    run = broadcast(ident, (TR,))
    for j in tile_range(c0, nc, c1):
        x = cast(load(X, (pr, j), (TR, TC)), f32)
        col = cols + cast(j, i32) * BC
        xm = where(col < C, x, ident)
        if OP == "sum":     # a Python-level choice: traced once, only the chosen op is emitted
            run = run + reduce_sum(xm, axis=1)
        elif OP == "max":
            run = maximum(run, reduce_max(xm, axis=1))
        else:
            run = minimum(run, reduce_min(xm, axis=1))
    store(Y, pr, run)


@kernel(grid=lambda R, TR, CL: (CL, cdiv(R, TR)), cluster=lambda CL: (CL,), scratch="auto", warps=8)
def softmax(X: Global["DT", "R", "COLS"], Y: Global["DT", "R", "COLS"], R: i32, C: i32, BR: i32, CN: i32, W: i32,
            DT: Constexpr, TR: Constexpr, COLS: Constexpr, CL: Constexpr, SW: Constexpr):
    # a cluster of CL programs shares TR rows; each holds a SW-column slice and combines max and sum
    rank = cluster_rank()
    pr = program_id(1)
    c0, c1 = const(0), const(1)
    x_raw = cast(load(X, (pr, rank), (TR, SW)), f32)
    slice_end = (rank + c1) * W
    if C < slice_end:  # only a last slice reaching past C has padding columns: -inf
        col = iota((TR, SW), i32, axis=1) + cast(rank, i32) * W
        inside = col < C
        ninf = const(float("-inf"), f32)
        x = where(inside, x_raw, ninf)
    else:
        x = x_raw
    # online softmax (quack's default): each slice's (max, sum of exp(x - max)) pair, one cluster round
    m_part = x.max(axis=1, keepdims=True)
    e = exp(x - m_part)
    s_part = e.sum(axis=1, keepdims=True)
    ms_part = concat([m_part, s_part], 1)
    ms_part_s = move(ms_part, "scratch")
    m = full((TR, 1), float("-inf"))
    s = zeros((TR, 1))
    for r in tile_range(c0, CN, c1):
        if r == rank:
            ms_r = ms_part
        else:
            ms_r = cluster_load(ms_part_s, r)
        m_r = slice_tile(ms_r, (0, 0), (TR, 1))
        s_r = slice_tile(ms_r, (0, 1), (TR, 1))
        m_next = maximum(m, m_r)
        acc_scale = exp(m - m_next)
        r_scale = exp(m_r - m_next)
        s = s * acc_scale + s_r * r_scale
        m = m_next
    store(Y, (pr, rank), cast(e * (exp(m_part - m) * recip(s)), DT))


@kernel(grid=lambda S, H, B, TM: (cdiv(S, TM), H, B), scratch="auto")
def attention_fwd(Q: Global["DT", "B", "H", "S", "HD"], K: Global["DT", "B", "H", "S", "HD"],
                  V: Global["DT", "B", "H", "S", "HD"], O: Global["DT", "B", "H", "S", "HD"],
                  B: i32, H: i32, S: i32, D: i32, BM: i32, BN: i32, causal: i32, scale: f32,
                  DT: Constexpr, TM: Constexpr, TN: Constexpr, HD: Constexpr, STAGES: Constexpr):
    pq, ph, pb = program_id(0), program_id(1), program_id(2)
    c0, c1 = const(0), const(1)
    q = copy_async(Q, (pb, ph, pq, c0), (1, 1, TM, HD))
    wait(q)
    q = reshape(q, (TM, HD))
    # key blocks to visit: all, or (causal) up to the one holding this block's last query row
    zero_i, one_i = const(0, i32), const(1, i32)
    is_causal = causal != zero_i
    nkv = const(cdiv(S, BN))
    kv_diag = cdiv((pq + c1) * BM, BN)
    n_blocks = where(is_causal, minimum(kv_diag, nkv), nkv)
    # key column c is visible to query row r when c < limit[r]: S, or (causal) min(r + 1, S)
    q_row = iota((TM, TN), i32, axis=0) + cast(pq, i32) * BM
    limit = where(is_causal, minimum(q_row + one_i, S), S)
    cols = iota((TM, TN), i32, axis=1)
    ninf = const(float("-inf"), f32)
    m = full((TM, 1), float("-inf"))
    l = zeros((TM, 1))
    o = zeros((TM, HD), space="acc")
    for j in tile_range(c0, n_blocks, c1, stages=STAGES):
        k4 = copy_async(K, (pb, ph, j, c0), (1, 1, TN, HD))
        v4 = copy_async(V, (pb, ph, j, c0), (1, 1, TN, HD))
        wait(k4)
        s = mma(q, reshape(k4, (TN, HD)).T, zeros((TM, TN), space="acc")) * scale
        col = cols + cast(j, i32) * BN
        s = where(col < limit, s, ninf)
        m_new = maximum(m, s.max(axis=1, keepdims=True))
        p = exp(s - m_new)
        alpha = exp(m - m_new)
        p_sum = p.sum(axis=1, keepdims=True)
        l = l * alpha + p_sum
        o_acc = move(o * alpha, "acc")
        p_dt = cast(p, DT)
        wait(v4)
        o = mma(p_dt, reshape(v4, (TN, HD)), o_acc)
        m = m_new
    out = cast(o / l, DT)
    store(O, (pb, ph, pq, c0), reshape(out, (1, 1, TM, HD)))


def softmax_constexprs(w):
    s = w.scalars
    return dict(DT=w.params["dtype"], TR=s["BR"], COLS=s["C"], CL=s["CN"], SW=s["W"])


def gemm_constexprs(w, with_acc=True):
    p, s = w.params, w.scalars
    c = dict(DIN=p["dtype_in"], TM=s["BM"], TN=s["BN"], TK=s["BK"], STAGES=int(p["stages"]))
    if with_acc:
        c.update(DACC=p["dtype_acc"], DOUT=p["dtype_out"])
    return c


TWINS = [
    ("gemm", {}, gemm, lambda w: gemm_constexprs(w)),
    ("gemm", {"dtype_in": "f8e4m3", "dtype_out": "f16", "BLOCK_K": 64, "stages": 3}, gemm, lambda w: gemm_constexprs(w)),
    ("gemm", {"dtype_in": "i8", "dtype_acc": "i32", "dtype_out": "i32", "M": 50}, gemm, lambda w: gemm_constexprs(w)),
    ("gemm_splitk", {}, gemm_splitk, lambda w: gemm_constexprs(w, with_acc=False)),
    ("gemm_splitk", {"split_k": 2, "dtype_in": "f16"}, gemm_splitk, lambda w: gemm_constexprs(w, with_acc=False)),
    ("reduction", {}, reduce_rows,
     lambda w: dict(DT=w.params["dtype"], TR=w.scalars["BR"], TC=w.scalars["BC"], OP=w.params["op"])),
    ("reduction", {"op": "max", "dtype": "f16"}, reduce_rows,
     lambda w: dict(DT=w.params["dtype"], TR=w.scalars["BR"], TC=w.scalars["BC"], OP=w.params["op"])),
    ("softmax", {}, softmax, lambda w: softmax_constexprs(w)),
    ("softmax", {"dtype": "f32", "cols": 40}, softmax, lambda w: softmax_constexprs(w)),
    ("softmax", {"dtype": "f32", "cols": 97, "CLUSTER": 4}, softmax, lambda w: softmax_constexprs(w)),
    ("attention_fwd", {}, attention_fwd,
     lambda w: dict(DT=w.params["dtype"], TM=w.scalars["BM"], TN=w.scalars["BN"], HD=w.scalars["D"],
                    STAGES=int(w.params["stages"]))),
    ("attention_fwd", {"causal": 1, "seqlen": 130}, attention_fwd,
     lambda w: dict(DT=w.params["dtype"], TM=w.scalars["BM"], TN=w.scalars["BN"], HD=w.scalars["D"],
                    STAGES=int(w.params["stages"]))),
]


def main():
    for name, params, twin, constexprs in TWINS:
        w = tilesim.build_workload(name, params)
        module = twin.module(**constexprs(w))
        want, got = canonical(w.module.print()), canonical(module.print())
        assert got == want, "%s %s: the DSL twin's IR differs from the registry's:\n--- DSL\n%s\n--- registry\n%s" % (
            name, params, got, want)
        inputs = w.make_inputs()
        expected, run = w.run(inputs)
        scalars = dict(w.scalars)
        scalars.update(w.float_scalars)
        inputs_given = {k: v for k, v in inputs.items()}
        results = tilesim.run_functional(module, twin.name, inputs_given, scalars, w.options)
        for key in expected:
            assert nn.same_values(results[key], expected[key]), "%s %s: %s differs from the registry kernel's" % (
                name, params, key)
        verdict = w.check(inputs, results, run)
        assert verdict["pass"], "%s %s: the reference check failed on the DSL twin's results:\n%s" % (
            name, params, verdict["report"])
        assert np.any(results[list(expected)[-1]] != 0), "%s: all-zero results make a weak check" % name
    print("dsl workload twins ok: %d instantiations match the registry's IR and results" % len(TWINS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""DSL kernels build the same IR as the .tile text: each kernel here mirrors one file of tests/isa/data, op
for op. Checks, for every kernel: the DSL's export verifies; it round-trips (DSL -> text -> parse -> print
is the DSL's text); and, up to value names, it is exactly the hand-written .tile file's IR. Also the
DSL-only kernels (RMSNorm, LayerNorm, a branchy kernel) export, verify and round-trip.
"""
import os
import re
import sys

import tilesim
from tilesim.dsl import *  # noqa: F401,F403 (the DSL surface is the point of this file)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "isa", "data")
INF = float("inf")


# ---- mirrors of tests/isa/data ----------------------------------------------------------------------------

@kernel(grid=lambda N: (cdiv(N, 1024),))
def vector_add(X: Global[f32, "N"], Y: Global[f32, "N"], Z: Global[f32, "N"], N: i32):
    i = program_id(0)
    x = load(X, i, (1024,))
    y = load(Y, i, (1024,))
    store(Z, i, x + y)


@kernel(grid=lambda M, N: (cdiv(M, 128), cdiv(N, 128)), scratch=98304, warps=4)
def gemm_pipelined(A: Global[bf16, "M", "K"], B: Global[bf16, "K", "N"], C: Global[f32, "M", "N"],
                   M: i32, N: i32, K: i32):
    pm, pn = program_id(0), program_id(1)
    c0, c1, c64 = const(0), const(1), const(64)
    kt = cdiv(K, c64)
    acc = zeros((128, 128), f32, space="acc")
    for k in tile_range(c0, kt, c1, stages=3):
        a = copy_async(A, (pm, k), (128, 64))
        b = copy_async(B, (k, pn), (64, 128))
        wait(a, b)
        acc = mma(a, b, acc)
    store(C, (pm, pn), acc)


@kernel(grid=lambda M, N: (cdiv(M, 64), cdiv(N, 64)), scratch=16384)
def gemm_prefetch(A: Global[f16, "M", "K"], B: Global[f16, "K", "N"], C: Global[f16, "M", "N"],
                  M: i32, N: i32, K: i32):
    pm, pn = program_id(0), program_id(1)
    c0, c1, c32 = const(0), const(1), const(32)
    kt = cdiv(K, c32)
    acc = zeros((64, 64), f32)
    a = copy_async(A, (pm, c0), (64, 32))
    b = copy_async(B, (c0, pn), (32, 64))
    for k in tile_range(c0, kt, c1):  # carries acc, a, b and the tokens of a and b
        kn = k + c1
        a_next = copy_async(A, (pm, kn), (64, 32))
        b_next = copy_async(B, (kn, pn), (32, 64))
        wait(a, b)
        acc = mma(a, b, acc)
        a, b = a_next, b_next
    store(C, (pm, pn), cast(acc, f16))


@kernel(grid=lambda R: (cdiv(R, 32),))
def softmax_rows(X: Global[f32, "R", "C"], Y: Global[f32, "R", "C"], R: i32, C: i32):
    pr = program_id(0)
    c0 = const(0)
    x = load(X, (pr, c0), (32, C))
    m = x.max(axis=1, keepdims=True)
    e = exp(x - m)
    s = e.sum(axis=1, keepdims=True)
    store(Y, (pr, c0), e / s)


@kernel(grid=lambda S: (cdiv(S, 64),), scratch=49152)
def attention_fwd(Q: Global[bf16, "S", 64], K: Global[bf16, "S", 64], V: Global[bf16, "S", 64],
                  O: Global[bf16, "S", 64], S: i32, scale: f32):
    pq = program_id(0)
    c0, c1, c64 = const(0), const(1), const(64)
    nkv = cdiv(S, c64)
    q = copy_async(Q, (pq, c0), (64, 64))
    wait(q)
    m = full((64, 1), -INF)
    l = zeros((64, 1))
    o = zeros((64, 64), space="acc")
    cols = iota((64, 64), i32, axis=1)
    ninf = const(-INF, f32)
    s_i32 = cast(S, i32)
    for j in tile_range(c0, nkv, c1, stages=2):
        k = copy_async(K, (j, c0), (64, 64))
        v = copy_async(V, (j, c0), (64, 64))
        wait(k)
        s = mma(q, k.T, zeros((64, 64), space="acc")) * scale
        # mask the columns past the end of the sequence
        col = cols + cast(j, i32) * const(64, i32)
        s = where(col < s_i32, s, ninf)
        m_new = maximum(m, s.max(axis=1, keepdims=True))
        p = exp(s - m_new)
        alpha = exp(m - m_new)
        p_sum = p.sum(axis=1, keepdims=True)
        l_new = l * alpha + p_sum
        o_scaled = move(o * alpha, "acc")
        pb = cast(p, bf16)
        wait(v)
        m, l, o = m_new, l_new, mma(pb, v, o_scaled)
    store(O, (pq, c0), cast(o / l, bf16))


@kernel(grid=lambda M, N: (cdiv(M, 128), cdiv(N, 256)), scratch=196608, warps=12)
def gemm_ws(A: Global[bf16, "M", "K"], B: Global[bf16, "K", "N"], C: Global[bf16, "M", "N"],
            M: i32, N: i32, K: i32):
    ch_a = channel((128, 64), bf16, stages=4)
    ch_b = channel((64, 256), bf16, stages=4)
    with role("producer", warps=4, registers=40):
        pm, pn = program_id(0), program_id(1)
        c0, c1, c64 = const(0), const(1), const(64)
        kt = cdiv(K, c64)
        for k in tile_range(c0, kt, c1):
            a = copy_async(A, (pm, k), (128, 64))
            b = copy_async(B, (k, pn), (64, 256))
            put(ch_a, a, after=[a])
            put(ch_b, b, after=[b])
    with role("consumer", count=2, warps=4, registers=232):
        pm, pn = program_id(0), program_id(1)
        half = role_instance()
        c0, c1, c2, c64 = const(0), const(1), const(2), const(64)
        kt = cdiv(K, c64)
        acc = zeros((64, 256), f32, space="acc")
        for k in tile_range(c0, kt, c1):
            a = get(ch_a)
            b = get(ch_b)
            acc = mma(subtile(a, (half, c0), (64, 64)), b, acc)
            release(ch_a)
            release(ch_b)
        out = cast(acc, bf16)
        store(C, (pm * c2 + half, pn), out)


@kernel(grid=(2, 2), cluster=(2, 1), scratch=65536, warps=4, registers=128)
def every_op(A: Global[bf16, 256, 128], B: Global[bf16, 128, 256], C: Global[f32, 256, 256],
             Q: Global[f8e4m3, 128, 64], S: Global[f8e4m3, 128, 4], I: Global[i32, 128, 64], N: i32):
    pm = program_id(0)
    num_programs(1)
    rank = cluster_rank()
    role_instance()
    c0, c1, c2 = const(0), const(1), const(2)
    r = pm % c2
    kt = cdiv(N, c2)
    a = copy_async(A, (pm, c0), (128, 128))
    b = load(B, (c0, c0), (128, 128), space="scratch", after=[a])
    wait(a, b)
    cluster_load(a, rank)
    acc = mma(a, b, zeros((128, 128), space="acc"))
    q = load(Q, (c0, c0), (128, 64))
    s = load(S, (c0, c0), (128, 4))
    scaled = mma_scaled(q, s, transpose(q), transpose(s), zeros((128, 128), space="acc"), block=16)
    x = move(acc, "reg")
    x1 = x + scaled
    x2 = x1 - x
    x3 = x2 * x2
    x4 = x3 / x1
    x5 = maximum(x4, x3)
    x6 = minimum(x5, x4)
    x7 = x6 ** x5
    x8 = fma(x7, x6, x5)
    x21 = silu(sigmoid(tanh(rsqrt(sqrt(log2(log(exp2(exp(recip(relu(abs(-x8))))))))))))
    x22 = gelu(x21, approx="tanh")
    m1 = x21 < x22
    _ = (x21 <= x22, x21 > x22, x21 >= x22, x21 == x22, x21 != x22)
    y = where(m1, x21, x22)
    rs = reduce_sum(y, axis=1, keepdims=True)
    rm = reduce_max(y, axis=0)
    reduce_min(rm, axis=0)
    bc = broadcast(rs, (128, 128))
    rsh = reshape(bc, (64, 256))
    sl = slice_tile(rsh, (0, 128), (64, 128))
    subtile(b, (c1, c0), (64, 128))
    cat = concat([sl, sl], axis=0)
    idx = iota((128, 64), i32, axis=1)
    g = gather(cat, idx, axis=1)
    sc = scatter(cat, idx, g, axis=1)
    ones = full((128, 128), 1.0)
    cast(sc, bf16)
    ts = store(C, (pm, c0), x)
    tf = fence(scope="device", after=[ts])
    tba = barrier(scope="cluster", after=[tf])
    atomic_add(C, (c0, c0), ones, after=[tba])
    load(I, (c0, c0), (128, 64))
    if r < c1:
        chosen = x1
    else:
        chosen = x2
    last = chosen
    for i in tile_range(c0, kt, c1, stages=2):
        last = last + ones


@kernel
def every_channel_op(A: Global[f32, 64, 64], C: Global[f32, 64, 64]):
    ch = channel((64, 64), f32, stages=2)
    with role("producer"):
        c0 = const(0)
        a = copy_async(A, (c0, c0), (64, 64))
        put(ch, a, after=[a])
    with role("consumer"):
        c0 = const(0)
        x = get(ch)
        store(C, (c0, c0), x)
        release(ch)


MIRRORS = [
    ("vector_add.tile", [vector_add]),
    ("gemm_pipelined.tile", [gemm_pipelined]),
    ("gemm_prefetch.tile", [gemm_prefetch]),
    ("softmax_rows.tile", [softmax_rows]),
    ("attention_fwd.tile", [attention_fwd]),
    ("gemm_warp_specialized.tile", [gemm_ws]),
    ("every_opcode.tile", [every_op, every_channel_op]),
]


# ---- DSL-only kernels -----------------------------------------------------------------------------------

@kernel(grid=lambda R, BR: (cdiv(R, BR),))
def rmsnorm(X: Global[bf16, "R", "D"], W: Global[bf16, "D"], Y: Global[bf16, "R", "D"], R: i32, D: i32,
            eps: f32, BR: Constexpr = 16):
    pr = program_id(0)
    x = cast(load(X, (pr, 0), (BR, D)), f32)
    w = cast(load(W, 0, (D,)), f32)
    ms = (x * x).sum(axis=1, keepdims=True) / cast(D, f32)
    y = x * rsqrt(ms + eps) * w
    store(Y, (pr, 0), y.to(bf16))


@kernel(grid=lambda R, BR: (cdiv(R, BR),))
def layernorm(X: Global[f32, "R", "D"], W: Global[f32, "D"], Bias: Global[f32, "D"], Y: Global[f32, "R", "D"],
              R: i32, D: i32, eps: f32, BR: Constexpr = 8):
    pr = program_id(0)
    x = load(X, (pr, 0), (BR, D))
    n = cast(D, f32)
    mean = x.sum(axis=1, keepdims=True) / n
    xc = x - mean
    var = (xc * xc).sum(axis=1, keepdims=True) / n
    y = xc * rsqrt(var + eps) * load(W, 0, (D,)) + load(Bias, 0, (D,))
    store(Y, (pr, 0), y)


@kernel(grid=lambda M: (cdiv(M, 64),))
def branchy(X: Global[f32, "M", 64], Y: Global[f32, "M", 64], M: i32, UNROLL: Constexpr = 2):
    """Runtime ifs (with and without else, nested), a static if and an unrolled Python loop."""
    p = program_id(0)
    x = load(X, (p, 0), (64, 64))
    y = x
    if p < 1:           # runtime: y is a result, the else-branch yields the old y
        y = y * 2.0
    if p % 2 == 0:      # runtime, both branches, nested runtime if
        z = exp(y)
        if p > 3:
            z = z + 1.0
    else:
        z = y
    if UNROLL > 1:      # static: traced only when true
        for _ in range(UNROLL):
            z = z + y
    store(Y, (p, 0), z)


@kernel(grid=lambda M: (cdiv(M, 32),))
def nested_loops(X: Global[f32, "M", "K"], Y: Global[f32, "M", 32], M: i32, K: i32, KB: i32):
    """Y = (sum of the even column tiles - sum of the odd ones) * (number of even tiles), walking the
    column tiles in KB-tile chunks: nested tile_range loops, a runtime if inside, carried tile and index."""
    p = program_id(0)
    acc = zeros((32, 32))
    evens = const(0)
    for chunk in tile_range(0, cdiv(K, 32 * KB)):
        for t in tile_range(0, KB):
            k = chunk * KB + t
            x = load(X, (p, k), (32, 32))
            if k % 2 == 0:
                acc = acc + x
                evens = evens + 1
            else:
                acc = acc - x
    store(Y, (p, 0), acc * cast(evens, f32))


DSL_ONLY = [rmsnorm, layernorm, branchy, nested_loops]


# ---- checks -----------------------------------------------------------------------------------------------

def canonical(text):
    """Rename every %value to %v<n> in order of definition, drop comments and blank lines: two modules with
    the same IR print the same canonical text whatever their value names. A definition is a result name
    (`%a, %t = ...`), a parameter or channel (`%A: ...`), a loop variable or iter arg (`%k = ...`); every
    other %name is a use of the latest definition of that name (sibling regions may reuse names)."""
    ids = {}
    defined = 0
    out = []
    for line in text.splitlines():
        line = re.sub(r"//.*$|#.*$", "", line).rstrip()
        if not line:
            continue
        results = re.match(r"^\s*%[\w.]+(?:\s*,\s*%[\w.]+)*\s*=", line)
        end_of_results = results.end() if results else 0
        occurrences = list(re.finditer(r"%[\w.]+", line))
        is_def = [m.start() < end_of_results or re.match(r"\s*[:=]", line[m.end():]) is not None
                  for m in occurrences]
        new_names = {}
        for m, d in zip(occurrences, is_def):  # uses first: they refer to earlier lines
            if not d:
                assert m.group(0) in ids, "use of undefined %s in: %s" % (m.group(0), line)
                new_names[m.start()] = ids[m.group(0)]
        for m, d in zip(occurrences, is_def):
            if d:
                ids[m.group(0)] = new_names[m.start()] = "%%v%d" % defined
                defined += 1
        pieces, last = [], 0
        for m in occurrences:
            pieces += [line[last:m.start()], new_names[m.start()]]
            last = m.end()
        out.append("".join(pieces) + line[last:])
    return "\n".join(out)


def check_round_trip(text, what):
    reparsed = tilesim.parse_tile(text, what)
    reparsed.verify()
    again = tilesim.print_module(reparsed)
    assert again == text, "%s: DSL -> text -> parse -> print differs:\n%s\n----\n%s" % (what, text, again)


def main():
    checked = 0
    for filename, kernels in MIRRORS:
        module = module_of(*kernels)
        module.verify()
        text = module.print()
        check_round_trip(text, filename)
        hand = tilesim.parse_tile(open(os.path.join(DATA, filename)).read(), filename)
        want, got = canonical(tilesim.print_module(hand)), canonical(text)
        assert got == want, "%s: the DSL kernel's IR differs from the .tile file's:\n--- DSL\n%s\n--- file\n%s" % (
            filename, got, want)
        checked += 1
    for k in DSL_ONLY:
        text = k.to_tile()
        check_round_trip(text, k.name)
        checked += 1
    # Constexprs change the traced IR: a different row block, and the static branch dropped.
    assert "tile<bf16>[32, D]" in rmsnorm.to_tile(BR=32) and "grid(cdiv(R, 32))" in rmsnorm.to_tile(BR=32)
    assert branchy.to_tile(UNROLL=1).count(" add ") < branchy.to_tile(UNROLL=3).count(" add ")
    # The whole opcode table is reachable from the DSL (every_op and every_channel_op use every opcode).
    used = set(re.findall(r"(?:=|^)\s*([a-z_][a-z0-9_.]*)", module_of(every_op, every_channel_op).print(), re.M))
    used |= {"for", "if", "yield", "store", "wait", "put", "release", "atomic_add"}
    missing = [o["name"] for o in tilesim.opcodes() if o["name"] not in used]
    assert not missing, "opcodes not produced by the DSL kernels: %s" % missing
    print("dsl kernels ok: %d kernels/modules exported, verified, round-tripped (%d mirror .tile files)" %
          (checked, len(MIRRORS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Kernels the DSL must refuse, and how: each error is a tilesim.Error reported at the Python line (and
column) of the offending statement, `file:line:col: error: ...` with the source line and a caret, and says
what to do. The line of each case is found by its `# E:<tag>` marker comment.
"""
import os
import sys

import tilesim
from tilesim.dsl import *  # noqa: F401,F403

HERE = os.path.abspath(__file__)
SOURCE = open(HERE).read().splitlines()


def line_of(tag):
    marker = "# E:" + tag
    hits = [i + 1 for i, line in enumerate(SOURCE) if line.rstrip().endswith(marker)]
    assert len(hits) == 1, "marker %s found %d times" % (marker, len(hits))
    return hits[0]


def expect_error(build, tag, *fragments):
    """build() must raise tilesim.Error located at the line marked `tag` whose text has every fragment."""
    try:
        build()
    except tilesim.Error as e:
        msg = str(e)
        where = "%s:%d:" % (HERE, line_of(tag))
        assert msg.startswith(where), "expected the error at %s, got:\n%s" % (where, msg)
        for f in fragments:
            assert f in msg, "expected %r in:\n%s" % (f, msg)
        assert "^" in msg.splitlines()[2], "expected a caret line under the source line:\n%s" % msg
        return msg
    raise AssertionError("%s: no error raised" % tag)


# ---- type errors from the Builder, at the DSL call ---------------------------------------------------------

@kernel
def bad_mma(A: Global[f16, 64, 32], C: Global[f32, 64, 64]):
    a = load(A, (0, 0), (64, 32))
    acc = zeros((64, 64), f32, space="acc")
    acc = mma(a, a, acc)  # E:mma
    store(C, (0, 0), acc)


@kernel
def bad_store_dtype(X: Global[f32, 64], Y: Global[bf16, 64]):
    x = load(X, 0, (64,))
    store(Y, 0, x)  # E:store


# ---- loop-carried values ----------------------------------------------------------------------------------

@kernel
def carried_changes_space(A: Global[f16, 64, 64], C: Global[f32, 64, 64], K: i32):
    acc = zeros((64, 64), f32, space="acc")
    for k in tile_range(0, cdiv(K, 64)):  # E:carry
        a = load(A, (0, k), (64, 64))
        acc = mma(a, a, acc) * 2.0
    store(C, (0, 0), acc)


@kernel
def loop_local_used_after(A: Global[f32, 64, 64], C: Global[f32, 64, 64], K: i32):
    for k in tile_range(0, K):
        a = load(A, (0, k), (64, 64))
    store(C, (0, 0), a)  # E:expired


@kernel
def static_counter_in_loop(A: Global[f32, 64, 64], K: i32):
    n = 0
    for k in tile_range(0, K):  # E:static
        n = n + 1


@kernel
def break_in_loop(A: Global[f32, 64, 64], K: i32):
    for k in tile_range(0, K):
        break  # E:break


def helper_with_loop(K):
    for k in tile_range(0, K):  # E:helper
        pass


@kernel
def tile_range_in_helper(A: Global[f32, 64, 64], K: i32):
    helper_with_loop(K)


# ---- conditions ---------------------------------------------------------------------------------------------

@kernel
def if_on_tile(X: Global[f32, 64], Y: Global[f32, 64]):
    x = load(X, 0, (64,))
    if x > 0.0:  # E:if_tile
        x = -x
    store(Y, 0, x)


@kernel
def and_on_runtime(X: Global[f32, 64], Y: Global[f32, 64]):
    p = program_id(0)
    q = (p < 1) and (p > 0)  # E:and


@kernel
def only_in_else(X: Global[f32, 64], Y: Global[f32, 64]):
    p = program_id(0)
    x = load(X, 0, (64,))
    if p < 1:
        pass
    else:
        y = x
    store(Y, 0, y)  # E:else_only


# ---- whole-kernel checks: the verifier, at the Python line of the op ---------------------------------------

@kernel
def copy_never_waited(A: Global[f32, 64, 64], C: Global[f32, 64, 64]):
    a = copy_async(A, (0, 0), (64, 64))  # E:copy
    store(C, (0, 0), a)


@kernel(grid=lambda M, BM: (cdiv(M, BM),))
def needs_constexpr(X: Global[f32, "M"], M: i32, BM: Constexpr):
    pass


@kernel(scratch=1024)
def over_budget(A: Global[f32, 64, 64], C: Global[f32, 64, 64]):  # E:scratch
    a = copy_async(A, (0, 0), (64, 64))
    wait(a)
    store(C, (0, 0), a)


def main():
    expect_error(bad_mma.module, "mma", "'mma' shapes do not chain")
    expect_error(bad_store_dtype.module, "store", "'store' of a f32 tile into a bf16 tensor", "cast the tile first")
    expect_error(carried_changes_space.module, "carry", "loop-carried 'acc' enters the loop as tile<f32>[64, 64] @acc",
                 "move(acc, \"acc\")")
    expect_error(loop_local_used_after.module, "expired", "'a' was defined inside a tile_range loop",
                 "not visible after it")
    expect_error(static_counter_in_loop.module, "static", "'n' is a Python value (0) that changes inside a tile_range loop")
    expect_error(break_in_loop.module, "break", "'break' inside a tile_range loop cannot be traced")
    expect_error(tile_range_in_helper.module, "helper", "must be written directly in the body of a @kernel function")
    expect_error(if_on_tile.module, "if_tile", "a runtime `if` needs an i1 scalar condition", "where(cond, a, b)")
    expect_error(and_on_runtime.module, "and", "no Python truth value")
    expect_error(only_in_else.module, "else_only", "'y' was defined inside an if (line %d)" % (line_of("else_only") - 4))
    expect_error(copy_never_waited.module, "copy", "copy_async")
    expect_error(over_budget.module, "scratch", "allocates 16384 bytes of scratch but declares 1024")
    # Misuse outside a trace.
    try:
        needs_constexpr.module()
        raise AssertionError("a Constexpr without a value must be refused")
    except tilesim.Error as e:
        assert "Constexpr parameter 'BM' of needs_constexpr needs a value" in str(e), str(e)
    assert "grid(cdiv(M, 256))" in needs_constexpr.to_tile(BM=256)
    for call in (lambda: bad_mma(), lambda: program_id(0)):
        try:
            call()
            raise AssertionError("expected an error")
        except tilesim.Error as e:
            assert "kernel" in str(e), str(e)
    print("dsl errors ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Sweeps on Dask distributed (python/tilesim/sweep.py): every point is its own `tilesim run` process,
results are cached by configuration hash (a re-run only simulates what is missing), failures are recorded
with their message and do not stop the other points."""
import os
import sys
import tempfile

from tilesim import sweep

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


# grid: cartesian product in a stable order; bad axes are refused with a message.
g = sweep.grid({"a": [1, 2], "b": ["x", "y"]})
check(g == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}], f"grid order: {g}")
for bad in ({}, {"a": "not-a-list"}):
    try:
        sweep.grid(bad)
        check(False, f"grid({bad!r}) should raise")
    except ValueError:
        pass

out = tempfile.mkdtemp(prefix="tilesim_sweep_")
presets = ["demo_memory"]
base = {"components.random.requests": 100, "components.stream.requests": 1000}
latencies = ["200ns", "400ns", "800ns"]
points = sweep.grid({"components.memory_chase.latency": latencies}) + [{"components.memory_chase.latncy": "1ns"}]

first = sweep.run_sweep(points, presets=presets, base=base, out=out, workers=2, progress=False)
check(list(first["status"]) == ["complete", "complete", "complete", "input_error"], f"statuses: {list(first['status'])}")
check("latncy" in first.loc[3, "error"], f"the failure names the bad key: {first.loc[3, 'error']!r}")
check(not first["cached"].any(), "first run simulates every point")
chase = list(first.loc[:2, "kernel_seconds.pointer_chase"])
# A dependent chase of 100 requests: each costs the memory latency plus two 20 ns links and a few cycles.
check(chase[0] < chase[1] < chase[2], f"chase time grows with the memory latency: {chase}")
check(abs((chase[2] - chase[1]) - 100 * 400e-9) < 100 * 2e-9,
      f"400 ns more latency per dependent request = 40 us more for 100 requests: {chase}")
check(os.path.isfile(os.path.join(out, "results.csv")), "results.csv written")
ranked = sweep.rank(first, "kernel_seconds.pointer_chase")
check(list(ranked["components.memory_chase.latency"]) == latencies and len(ranked) == 3, "rank drops failures, sorts")

# Resume: the completed points come from the cache, the failed one is tried again (and fails again).
second = sweep.run_sweep(points, presets=presets, base=base, out=out, workers=2, progress=False)
check(list(second["cached"]) == [True, True, True, False], f"cached: {list(second['cached'])}")
check(list(second.loc[:2, "kernel_seconds.pointer_chase"]) == chase, "cached results are the same numbers")

# A different base configuration is a different point (no stale reuse).
third = sweep.run_sweep(points[:1], presets=presets, base={**base, "components.random.requests": 50}, out=out,
                        workers=1, progress=False)
check(not third["cached"].any(), "a changed base is simulated, not taken from the cache")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("sweep: all checks passed")

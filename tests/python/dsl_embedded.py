"""The DSL inside `tilesim script` (the embedded interpreter): a kernel is written, exported, run in the
functional interpreter, and a registry workload is run next to it; results checked with numpy."""
import sys

import numpy as np

import tilesim
from tilesim.dsl import *  # noqa: F401,F403


@kernel(grid=lambda N: (cdiv(N, 256),))
def saxpy(X: Global[f32, "N"], Y: Global[f32, "N"], N: i32, a: f32):
    i = program_id(0)
    store(Y, i, load(X, i, (256,)) * a + load(Y, i, (256,)))


x = np.arange(1000.0)
out = saxpy.run({"X": x, "Y": np.ones(1000)}, {"N": 1000, "a": 2.0})
assert np.array_equal(out["Y"], 2 * x + 1), out["Y"][:8]
text = saxpy.to_tile()
assert tilesim.print_module(tilesim.parse_tile(text, "saxpy")) == text

w = tilesim.build_workload("transpose", {"rows": 40, "cols": 24})
inputs = w.make_inputs()
results, run = w.run(inputs)
assert np.array_equal(results["Y"], inputs["X"].T) and run.programs == 2, run  # grid cdiv(40, 32) x cdiv(24, 32)
print("dsl in the embedded interpreter ok")
sys.exit(0)

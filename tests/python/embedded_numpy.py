"""Runs inside `tilesim script`: numpy works, and the embedded module drives a real simulation."""
import sys

import numpy as np

import tilesim

assert tilesim.version() == "0.1.0"
value, unit = tilesim.parse_quantity("3.35TB/s")
assert unit == "B/s" and abs(value - 3.35e12) < 1, (value, unit)
assert tilesim.format_quantity(1.83e9, "frequency") == "1.83GHz"
assert "traffic_generator" in tilesim.kinds()
names = [p["name"] for p in tilesim.params("fixed_latency_memory")]
assert names[:2] == ["latency", "bandwidth"], names

try:
    tilesim.parse_quantity("3.35TB/sec")
    raise AssertionError("expected an error")
except tilesim.Error as e:
    assert "did you mean 'TB/s'" in str(e), str(e)

# Sweep-like use: one simulation per process, results back as a dict; numpy does the analysis.
result = tilesim.run(presets=["demo_memory"], set={"components.random.requests": "200"})
assert result["completed"]
total = result["stats"]["scopes"][0]
lat = {c["name"]: c["stats"] for c in total["components"]}["random"]
samples = np.array([lat["latency_ns.min"]["value"], lat["latency_ns.mean"]["value"], lat["latency_ns.max"]["value"]])
# 20 + 400 + 20 ns plus 64 B at 2 TB/s (0.032 ns), rounded up to 1.6 GHz memory and 1.83 GHz core edges.
assert np.all(samples >= 440.0) and np.all(samples < 442.0), samples
bw = {c["name"]: c["stats"] for c in total["components"]}["stream"]["achieved_bandwidth"]["value"]
assert 0.9 * 2e12 < bw <= 2e12, bw
print("embedded python ok: latency %.3f ns, stream %.3f TB/s, numpy %s" % (samples[1], bw / 1e12, np.__version__))
sys.exit(0)

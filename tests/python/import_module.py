"""The same bindings as an importable module (build/python/_tilesim*.so) under the system python."""
import tilesim

assert "fixed_latency_memory" in tilesim.kinds()
assert tilesim.parse_quantity("228KiB") == (228 * 1024.0, "B")
presets = {p["name"] for p in tilesim.presets()}
assert "demo_memory" in presets, presets
result = tilesim.run(presets=["demo_memory"], set={"components.stream.requests": "1000",
                                                   "components.random.requests": "10"})
assert result["completed"] and result["stats"]["schema_version"] == 1
try:
    tilesim.run(presets=["demo_memory"])
    raise AssertionError("a second simulation in one process must be refused")
except tilesim.Error as e:
    assert "one simulation" in str(e), str(e)
print("extension module ok")

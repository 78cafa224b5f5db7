"""Design-space sweeps (DESIGN.md §10): many configurations, each simulated as its own `tilesim run` process.

    from tilesim import sweep
    points = sweep.grid({"memory.l2.size": ["25MiB", "50MiB"], "chip.cores": [66, 132]})
    table = sweep.run_sweep(points, presets=["h100_sxm5", "sm90_core"], out="out/l2_sweep",
                            base={"workload.name": "gemm", "workload.M": 2048})
    print(sweep.rank(table, "kernel_seconds.gemm"))

* One process per design point (SystemC cannot re-elaborate), run on Dask distributed: a local cluster by
  default, or `scheduler="tcp://host:8786"` for many machines (the workers need the same tilesim binary
  and presets at the same paths).
* Results are cached by a hash of the point's configuration (presets, overrides, binary), in
  `OUT/points/<hash>/`: an interrupted sweep re-run with the same arguments only simulates what is missing.
* A point that fails (bad key, deadlock, timeout) is recorded with its exit code and error message; it never
  stops the others and is not cached, so a re-run retries it.

Python only composes and reads results; no Python runs per simulated cycle.
"""
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import time

__all__ = ["grid", "find_binary", "point_key", "run_point", "run_sweep", "rank", "metrics_from_stats"]

# Exit codes of `tilesim run` (README): 0 complete, 2 bad input/config, 3 truncated (--max-cycles), 70 internal.
_STATUS = {0: "complete", 2: "input_error", 3: "truncated", 70: "internal_error"}


def grid(axes):
    """Cartesian product of {key: [values]} as a list of {key: value} points, in a stable order."""
    if not isinstance(axes, dict) or not axes:
        raise ValueError("grid: give a non-empty dict {config.key: [values, ...]}")
    keys = list(axes)
    for k in keys:
        if isinstance(axes[k], (str, bytes)) or not hasattr(axes[k], "__iter__"):
            raise ValueError(f"grid: the values of {k!r} must be a list, got {axes[k]!r}")
    return [dict(zip(keys, combo)) for combo in itertools.product(*(list(axes[k]) for k in keys))]


def find_binary(explicit=None):
    """The tilesim binary: `explicit`, $TILESIM_BINARY, `tilesim` on PATH, or build/tilesim of this checkout."""
    candidates = [explicit, os.environ.get("TILESIM_BINARY"), shutil.which("tilesim"),
                  os.path.join(os.path.dirname(__file__), "..", "..", "build", "tilesim")]
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.abspath(c)
    raise FileNotFoundError("no tilesim binary: pass tilesim=PATH, set TILESIM_BINARY, or build the project "
                            "(make build) so that build/tilesim exists")


def _text(value):
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, bool) else str(value)


def point_key(presets, overrides, binary):
    """Hash of everything that determines a point's result: presets (and their file contents), overrides,
    and the binary (its size and modification time, so a rebuilt simulator does not reuse old results)."""
    st = os.stat(binary)
    blob = json.dumps({"presets": list(presets), "set": sorted((k, _text(v)) for k, v in overrides.items()),
                       "binary": [os.path.abspath(binary), st.st_size, int(st.st_mtime)]}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def metrics_from_stats(stats):
    """Headline numbers of one run's stats.json: simulated seconds, every kernel scope's duration, and the
    clock frequencies. Custom metrics: pass `extract=` to run_sweep."""
    sim_time = stats.get("simulated_time") or {}
    out = {"simulated_seconds": sim_time.get("value", 0) * 1e-12 if sim_time.get("unit") == "ps" else None,
           "run_status": stats.get("status")}
    for scope in stats.get("scopes", []):
        if scope.get("scope") == "kernel" and scope.get("kernel"):
            out[f"kernel_seconds.{scope['kernel']}"] = (scope["end_ps"] - scope["begin_ps"]) * 1e-12
    for clock in stats.get("clocks") or []:
        if isinstance(clock, dict) and "name" in clock:
            out[f"clock_hz.{clock['name']}"] = clock.get("frequency_hz")
    return out


def run_point(point, presets, base, out_dir, binary, timeout=None, extract=None):
    """Simulate one design point (or return its cached result). Returns a flat dict (one table row)."""
    overrides = dict(base or {})
    overrides.update(point)
    key = point_key(presets, overrides, binary)
    run_dir = os.path.join(out_dir, "points", key)
    result_file = os.path.join(run_dir, "result.json")
    row = {"point": key, **{k: _text(v) for k, v in point.items()}}
    if os.path.isfile(result_file):
        with open(result_file) as f:
            cached = json.load(f)
        return {**row, **cached, "cached": True}
    os.makedirs(run_dir, exist_ok=True)
    cmd = [binary, "run", "-q", "-o", run_dir]
    for p in presets:
        cmd += ["-p", p]
    for k, v in overrides.items():
        cmd += ["--set", f"{k}={_text(v)}"]
    started = time.time()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "SYSTEMC_DISABLE_COPYRIGHT_MESSAGE": "1"})
        code, err = proc.returncode, proc.stderr.strip()
    except subprocess.TimeoutExpired:
        code, err = None, f"timed out after {timeout} s"
    wall = time.time() - started
    status = "timeout" if code is None else _STATUS.get(code, f"exit_{code}")
    result = {"status": status, "exit_code": code, "wall_seconds": round(wall, 3), "run_dir": run_dir,
              "error": "" if code == 0 else (err.splitlines()[-1] if err else "no message")}
    if code == 0:
        with open(os.path.join(run_dir, "stats.json")) as f:
            stats = json.load(f)
        result.update(metrics_from_stats(stats))
        if extract is not None:
            result.update(extract(stats))
        tmp = result_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)
        os.replace(tmp, result_file)  # only a complete result is ever cached
    else:
        with open(os.path.join(run_dir, "failure.txt"), "w") as f:
            f.write(" ".join(cmd) + "\n" + err + "\n")
    return {**row, **result, "cached": False}


def run_sweep(points, presets=(), base=None, out="out/sweep", scheduler=None, workers=None, timeout=None,
              extract=None, tilesim=None, progress=True):
    """Simulate every point ({config.key: value} overrides on top of `presets` and `base`) on Dask
    distributed and return a pandas DataFrame, one row per point (status, error, metrics, run_dir).
    `workers`: simultaneous simulations on the local cluster (default: CPU count); `scheduler`: address of
    an existing Dask scheduler instead. The table is also written to OUT/results.csv."""
    import pandas as pd
    from distributed import Client, LocalCluster, as_completed

    points = list(points)
    if not points:
        raise ValueError("run_sweep: no points (build them with sweep.grid({...}))")
    for p in points:
        if not isinstance(p, dict):
            raise ValueError(f"run_sweep: a point must be a dict of config overrides, got {p!r}")
    binary = find_binary(tilesim)
    out = os.path.abspath(out)
    os.makedirs(out, exist_ok=True)
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        # Each task only waits on a child process, so threads in one worker process suffice.
        cluster = LocalCluster(n_workers=1, threads_per_worker=workers or os.cpu_count() or 1, processes=False,
                               dashboard_address=None)
        client = Client(cluster)
    rows = []
    try:
        futures = [client.submit(run_point, p, list(presets), base, out, binary, timeout, extract, pure=False)
                   for p in points]
        for i, fut in enumerate(as_completed(futures), 1):
            row = fut.result()
            rows.append(row)
            if progress:
                print(f"sweep: [{i}/{len(points)}] {row['point']} {row['status']}"
                      f"{' (cached)' if row.get('cached') else ''}{': ' + row['error'] if row['error'] else ''}",
                      flush=True)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    order = {point_key(presets, {**(base or {}), **p}, binary): i for i, p in enumerate(points)}
    table = pd.DataFrame(rows)
    table["_order"] = table["point"].map(order)
    table = table.sort_values("_order").drop(columns="_order").reset_index(drop=True)
    table.to_csv(os.path.join(out, "results.csv"), index=False)
    return table


def rank(table, metric, ascending=True):
    """Completed points ordered by `metric` (failed points are left out; see table['status'])."""
    if metric not in table.columns:
        raise KeyError(f"rank: no metric {metric!r}; columns are {sorted(table.columns)}")
    return table[table["status"] == "complete"].sort_values(metric, ascending=ascending).reset_index(drop=True)

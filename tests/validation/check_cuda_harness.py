#!/usr/bin/python3
"""Checks of the CUDA harness that need no GPU (run by ctest when nvcc built the harness).

usage: check_cuda_harness.py dry-run HARNESS
       check_cuda_harness.py architectures LOG...

dry-run: `HARNESS --dry-run` lists every family of the reference vocabulary (pchase at every level
including TMA and DSMEM, stream, bulk_copy, dsmem, mma for mma.sync/wgmma/tcgen05, alu, launch, gemm via
cuBLAS and the tile kernel, attention_fwd, softmax), each case with key=value params, a metric and a
unit of SCHEMA.md, and unique ids.
architectures: every kernel of every family was compiled for sm_80, sm_90a and sm_100a (ptxas reports).
"""
import re
import subprocess
import sys

UNITS = {"cycles", "ns", "GB/s", "B/clk/SM", "B/clk", "TFLOPS", "TOPS", "FLOP/clk/SM", "FLOP/clk", "%"}
METRICS = {"latency", "bandwidth", "throughput", "efficiency", "mfu"}
LINE = re.compile(r"^(\S+)  (\S+)  (\S*)  -> (\S+) \[([^\]]+)\]  kernel (\S+)  \((.+)\)$")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def dry_run(harness):
    out = subprocess.run([harness, "--dry-run"], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        fail(f"--dry-run exited {out.returncode}: {out.stderr}")
    lines = out.stdout.splitlines()
    m = re.match(r"tilesim-cuda-harness: (\d+) cases \(dry run", lines[0])
    if not m:
        fail("first line: " + lines[0])
    cases = []
    for line in lines[1:]:
        c = LINE.match(line)
        if not c:
            fail("unparsable case line: " + line)
        ident, workload, params, metric, unit, kernel, needs = c.groups()
        kv = dict(p.split("=", 1) for p in params.split(";")) if params else {}
        if any(not k for k in kv):
            fail("bad params: " + line)
        if metric not in METRICS or unit not in UNITS:
            fail(f"metric/unit outside SCHEMA.md: {line}")
        cases.append((ident, workload, kv, needs))
    if len(cases) != int(m.group(1)):
        fail(f"header says {m.group(1)} cases, {len(cases)} listed")
    ids = [c[0] for c in cases]
    if len(set(ids)) != len(ids):
        fail("duplicate ids")

    def has(workload, **params):
        return any(w == workload and all(kv.get(k) == v for k, v in params.items()) for _, w, kv, _ in cases)

    required = [
        ("pchase", {"space": "global", "level": "l1"}), ("pchase", {"space": "global", "level": "l2"}),
        ("pchase", {"space": "global", "level": "dram"}), ("pchase", {"space": "shared"}),
        ("pchase", {"space": "tma"}), ("pchase", {"space": "dsmem", "level": "remote_sm"}),
        ("stream", {"op": "read"}), ("stream", {"op": "triad"}), ("stream", {"level": "l2"}), ("stream", {"level": "l1"}),
        ("bulk_copy", {"engine": "tma"}), ("bulk_copy", {"engine": "cp_async"}), ("dsmem", {"cluster": "2"}),
        ("mma", {"instr": "mma_sync"}), ("mma", {"instr": "wgmma"}), ("mma", {"instr": "tcgen05"}),
        ("alu", {"op": "ffma"}), ("launch", {}), ("gemm", {"impl": "cublas"}), ("gemm", {"impl": "tile"}),
        ("attention_fwd", {"impl": "tile"}), ("softmax", {}),
    ]
    for workload, params in required:
        if not has(workload, **params):
            fail(f"no {workload} case with {params}")
    for ident, workload, kv, needs in cases:
        if kv.get("instr") == "wgmma" and "sm_90a" not in needs:
            fail(f"{ident}: wgmma must require sm_90a")
        if kv.get("instr") == "tcgen05" and "sm_100a" not in needs:
            fail(f"{ident}: tcgen05 must require sm_100a")
    print(f"ok: {len(cases)} cases")


def architectures(logs):
    entry = re.compile(r"Compiling entry function '([^']+)' for '(sm_\w+)'")
    for log in logs:
        per_kernel = {}
        with open(log) as f:
            for line in f:
                e = entry.search(line)
                if e:
                    per_kernel.setdefault(e.group(1), set()).add(e.group(2))
        if not per_kernel:
            fail(f"{log}: no kernels compiled")
        for kernel, archs in per_kernel.items():
            if archs != {"sm_80", "sm_90a", "sm_100a"}:
                fail(f"{log}: {kernel} compiled for {sorted(archs)}")
        print(f"ok: {log}: {len(per_kernel)} kernels for sm_80, sm_90a, sm_100a")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "dry-run":
        dry_run(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "architectures":
        architectures(sys.argv[2:])
    else:
        fail(__doc__)

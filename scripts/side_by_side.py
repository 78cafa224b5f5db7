#!/usr/bin/python3
"""Side by side: the workload library's `gemm` and `attention_fwd` tile programs, unchanged, on the TPU v6e
megacore (system `megacore`) and on the H100 SXM5 SIMT GPU (system `gpu`, -p h100_sxm5 -p sm90_core).
Prints one table: preset, workload, simulated time, TFLOPS, per-unit utilisation and the bound, read from
each run's stats.json and report.txt. b200 has no SIMT core layer yet (only its memory hierarchy), so it is
listed as not runnable. Runtime: about a minute on two cores.

usage: scripts/side_by_side.py [--tilesim build/tilesim] [--out DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Modest shapes. GEMM blocks on the megacore: 512 x 512 x 256 (a hand choice for this small shape: 4 grid steps,
# so grid-step pipelining shows; the calibration rule, gemm_blocks(), would take one 1024 x 1024 block), the
# library's defaults on the GPU; attention: the library's defaults on both.
GEMM = {"M": 1024, "N": 1024, "K": 1024}
ATTN = {"batch": 1, "heads": 4, "seqlen": 1024, "headdim": 128}
CASES = [
    ("tpu_v6e", ["-p", "tpu_v6e"], "gemm", dict(GEMM, BLOCK_M=512, BLOCK_N=512, BLOCK_K=256)),
    ("h100_sxm5", ["-p", "h100_sxm5", "-p", "sm90_core", "--set", "system=gpu"], "gemm", dict(GEMM)),
    ("tpu_v6e", ["-p", "tpu_v6e"], "attention_fwd", dict(ATTN)),
    ("h100_sxm5", ["-p", "h100_sxm5", "-p", "sm90_core", "--set", "system=gpu"], "attention_fwd", dict(ATTN)),
]


def flops(workload, p):
    if workload == "gemm":
        return 2.0 * p["M"] * p["N"] * p["K"]
    return 4.0 * p["batch"] * p["heads"] * p["seqlen"] ** 2 * p["headdim"]


def kernel_seconds(stats, name):
    for s in stats.get("scopes", []):
        if s.get("scope") == "kernel" and s.get("kernel") == name:
            return (s["end_ps"] - s["begin_ps"]) * 1e-12
    return None


def report_line(report, prefix):
    for line in report.splitlines():
        s = line.strip()
        if s.startswith(prefix):
            return s[len(prefix):].strip()
    return "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tilesim", default=os.path.join(ROOT, "build", "tilesim"))
    ap.add_argument("--out", default=None, help="folder for the runs (default: a temporary one)")
    a = ap.parse_args()
    out = a.out or tempfile.mkdtemp(prefix="side_by_side_")
    procs = []
    for i, (preset, layers, workload, params) in enumerate(CASES):
        d = os.path.join(out, f"{i}_{preset}_{workload}")
        cmd = [a.tilesim, "run", "-q", *layers, "--set", f"workload.name={workload}"]
        for k, v in params.items():
            cmd += ["--set", f"workload.{k}={v}"]
        cmd += ["-o", d]
        procs.append((preset, workload, params, d, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
        if len(procs) % 2 == 0:  # two at a time
            for p in procs[-2:]:
                p[4].wait()
    rows = []
    for preset, workload, params, d, p in procs:
        p.wait()
        if p.returncode != 0:
            rows.append((preset, workload, "failed", "-", p.stdout.read().decode()[-200:].replace("\n", " "), "-"))
            continue
        stats = json.load(open(os.path.join(d, "stats.json")))
        report = open(os.path.join(d, "report.txt")).read()
        t = kernel_seconds(stats, workload)
        util = report_line(report, "utilisation:")
        bound = report_line(report, "bound:")
        rows.append((preset, workload, f"{t * 1e6:.1f} us", f"{flops(workload, params) / t / 1e12:.1f}", util, bound))
    rows.append(("b200", "gemm, attention_fwd", "-", "-", "not runnable: b200 has no SIMT core layer yet "
                 "(memory hierarchy only)", "-"))
    print(f"gemm {GEMM['M']}x{GEMM['N']}x{GEMM['K']} bf16; attention_fwd B={ATTN['batch']} H={ATTN['heads']} "
          f"S={ATTN['seqlen']} D={ATTN['headdim']} bf16; runs in {out}")
    head = ("preset", "workload", "time", "TFLOPS", "utilisation", "bound")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(4)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths) + "  {}  | {}"
    print(fmt.format(*head))
    for r in rows:
        print(fmt.format(*r))
    return 0


if __name__ == "__main__":
    sys.exit(main())

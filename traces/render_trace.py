#!/usr/bin/python3
"""Render a Chrome trace JSON (as `tilesim run --trace` writes it) to a PNG without a browser.

usage: render_trace.py TRACE.json OUT.png [--max-requests N]

Top panel: one row per thread track (kernels, then components) with complete events as bars, and the
in-flight requests (async b/e pairs) of each requester as thin stacked lines (at most N per track).
Lower panels: every counter series over time. It is a static preview for docs; Perfetto is the viewer.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    max_requests = 400
    if "--max-requests" in argv:
        max_requests = int(argv[argv.index("--max-requests") + 1])
    with open(argv[1]) as f:
        events = json.load(f)["traceEvents"]

    process, thread = {}, {}
    for e in events:
        if e["ph"] == "M" and e["name"] == "process_name":
            process[e["pid"]] = e["args"]["name"]
        if e["ph"] == "M" and e["name"] == "thread_name":
            thread[(e["pid"], e["tid"])] = e["args"]["name"]
    rows = sorted(thread, key=lambda k: (k[0], k[1]))
    row_of = {k: i for i, k in enumerate(rows)}

    slices, opened, requests, counters = {}, {}, {}, {}
    for e in events:
        key = (e.get("pid"), e.get("tid"))
        if e["ph"] == "X" and key in row_of:
            slices.setdefault(key, []).append((float(e["ts"]), float(e["dur"])))
        elif e["ph"] == "b":
            opened[e["id"]] = (key, float(e["ts"]))
        elif e["ph"] == "e" and e["id"] in opened:
            k, t0 = opened.pop(e["id"])
            requests.setdefault(k, []).append((t0, float(e["ts"])))
        elif e["ph"] == "C":
            counters.setdefault(e["name"], []).append((float(e["ts"]), float(e["args"]["value"])))

    n_counters = len(counters)
    fig, axes = plt.subplots(1 + n_counters, 1, figsize=(10, 2.2 + 0.45 * len(rows) + 1.4 * n_counters), sharex=True,
                             gridspec_kw={"height_ratios": [max(2, len(rows))] + [1.4] * n_counters}, squeeze=False)
    ax = axes[0][0]
    for key, spans in slices.items():
        y = row_of[key]
        ax.broken_barh([(t, max(d, 1e-6)) for t, d in spans], (y - 0.35, 0.7), color="tab:blue" if y else "tab:green")
    for key, spans in requests.items():
        if key not in row_of:
            continue
        y = row_of[key]
        spans = spans[:max_requests]
        for i, (t0, t1) in enumerate(spans):
            off = -0.4 + 0.8 * (i % 40) / 40
            ax.plot([t0, t1], [y + off, y + off], color="tab:orange", linewidth=0.5, alpha=0.6)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([f"{process.get(p, p)} / {thread[(p, t)]}" for p, t in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_title("tilesim timeline: kernels and bus transfers (bars), in-flight requests (orange)", fontsize=9)
    for i, (name, points) in enumerate(sorted(counters.items()), start=1):
        points.sort()
        c = axes[i][0]
        c.step([p[0] for p in points], [p[1] for p in points], where="post", linewidth=0.9)
        c.set_ylabel(name, fontsize=7)
        c.tick_params(labelsize=7)
    axes[-1][0].set_xlabel("time (us)")
    fig.tight_layout()
    fig.savefig(argv[2], dpi=110)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/python3
"""Scatter plot of a `tilesim validate` result: measured vs simulated, log-log, with the y = x line.

usage: plot_validation.py validation.csv validation.png

Reads the columns id, workload, measured, simulated, error_pct (rows without a simulated value were not
compared and are counted in the title). One colour per workload; the band shows +-10 %.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")  # no display: render straight to the file
import matplotlib.pyplot as plt  # noqa: E402


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    src, dst = argv[1], argv[2]
    by_workload = {}
    not_compared = 0
    with open(src, newline="") as f:
        for row in csv.DictReader(f):
            if not row["simulated"]:
                not_compared += 1
                continue
            m, s = float(row["measured"]), float(row["simulated"])
            if m <= 0 or s <= 0:
                not_compared += 1
                continue
            by_workload.setdefault(row["workload"], []).append((m, s, float(row["error_pct"])))

    fig, ax = plt.subplots(figsize=(6.4, 6.0), dpi=120)
    points = [p for pts in by_workload.values() for p in pts]
    if points:
        lo = min(min(m, s) for m, s, _ in points) / 2
        hi = max(max(m, s) for m, s, _ in points) * 2
        for workload in sorted(by_workload):
            pts = by_workload[workload]
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], label=f"{workload} ({len(pts)})", s=22)
        ax.plot([lo, hi], [lo, hi], color="black", linewidth=1, label="y = x")
        ax.fill_between([lo, hi], [lo * 0.9, hi * 0.9], [lo * 1.1, hi * 1.1], color="grey", alpha=0.15,
                        label="+-10 %")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.legend(loc="upper left", fontsize=8)
        mape = sum(abs(e) for _, _, e in points) / len(points)
        title = f"{len(points)} compared, MAPE {mape:.1f} %"
    else:
        ax.text(0.5, 0.5, "no compared rows", ha="center", va="center", transform=ax.transAxes)
        title = "0 compared"
    if not_compared:
        title += f", {not_compared} not compared"
    ax.set_title(title)
    ax.set_xlabel("measured (row unit)")
    ax.set_ylabel("simulated (row unit)")
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

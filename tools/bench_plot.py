# Draws the real-program benchmark (the JSON of `tools/bench_report
# --programs --json`) as one SVG: for every row, each allocator's time and
# peak RSS relative to tinyalloc's (tinyalloc = 1; above 1 = the peer is
# slower or larger). A FAIL cell is marked with a red x at the bottom.
#
#     /usr/bin/python3 tools/bench_plot.py results.json chart.svg
#
# Needs matplotlib (Debian: python3-matplotlib, installed by tools/setup.sh).

import json
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"tinyalloc": "#1b9e77", "glibc": "#7570b3", "mimalloc": "#d95f02",
          "jemalloc": "#e7298a", "tcmalloc": "#66a61e"}


def relative(doc, key):
    """{allocator: [ratio or None per row]}, None where either cell failed."""
    out = {a: [] for a in doc["allocators"]}
    for row in doc["rows"]:
        base = row["cells"]["tinyalloc"]
        for allocator in doc["allocators"]:
            cell = row["cells"][allocator]
            if "error" in cell or "error" in base or not base[key]:
                out[allocator].append(None)
            else:
                out[allocator].append(cell[key] / base[key])
    return out


def panel(ax, doc, key, title):
    names = [row["name"] for row in doc["rows"]]
    ratios = relative(doc, key)
    n = len(doc["allocators"])
    width = 0.8 / n
    for i, allocator in enumerate(doc["allocators"]):
        xs = [x + (i - (n - 1) / 2) * width for x in range(len(names))]
        values = ratios[allocator]
        ax.bar([x for x, v in zip(xs, values) if v is not None], [v for v in values if v is not None],
               width, label=allocator, color=COLORS.get(allocator))
        failed = [x for x, v, row in zip(xs, values, doc["rows"]) if "error" in row["cells"][allocator]]
        if failed:
            ax.plot(failed, [0.05] * len(failed), "x", color="red", markersize=6)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log", base=2)
    ax.set_ylabel(f"{title}\nrelative to tinyalloc")
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=8)
    ax.grid(axis="y", linestyle=":", linewidth=0.5)
    ax.set_xlim(-0.6, len(names) - 0.4)


def main():
    if len(sys.argv) != 3:
        print("usage: bench_plot.py RESULTS.json CHART.svg", file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        doc = json.load(f)
    if doc.get("kind") != "programs":
        print("bench_plot.py: not a --programs result", file=sys.stderr)
        return 2
    fig, axes = plt.subplots(2, 1, figsize=(max(10, 0.45 * len(doc["rows"])), 9), sharex=True)
    panel(axes[0], doc, "value", "time")
    panel(axes[1], doc, "rss_kib", "peak RSS")
    machine = doc["machine"]
    fig.suptitle(f"tinyalloc against its peers through malloc ({doc['mode']} mode, "
                 f"{machine['cores']} cores; lower is better, red x = failed run)", fontsize=10)
    axes[0].legend(ncol=len(doc["allocators"]), fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(sys.argv[2], format="svg")
    return 0


if __name__ == "__main__":
    sys.exit(main())

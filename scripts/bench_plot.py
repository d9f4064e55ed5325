#!/usr/bin/python3
"""Plots nnf against its peers from the JSON of a scripts/main.sh run (matplotlib).

    /usr/bin/python3 scripts/bench_plot.py bench/results/<date>-<cpu>

Writes, next to the JSON:
  sgemm_squares.png    GFLOPS against n for n^3 products: nnf at each ISA with that ISA's
                       FMA peak, and nnf at its widest ISA against every peer
  sgemm_shapes.png     the other products: each peer's time over nnf's (paired ratios of
                       the interleaved rounds; right of 1: nnf is faster)
  train_step.png       time per training step of every version (PyTorch from
                       pytorch_train_step.json, in its own process)
Each figure names the CPU, the date and the load average it was measured under.
"""
import argparse
import json
import os
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# nnf in reds, each peer one colour everywhere ("c+openblas" as "openblas").
COLOURS = {"nnf": "#d62728", "nnf:avx2": "#ff9896", "nnf:scalar": "#c49c94",
           "nnf:neon": "#ff9896", "nnf:prepacked": "#8c564b", "openblas": "#1f77b4",
           "blis": "#2ca02c", "onednn": "#ff7f0e", "onednn_ip": "#e377c2", "libxsmm": "#17becf",
           "c": "#7f7f7f", "PyTorch": "#bcbd22"}


def load(folder, name):
    path = os.path.join(folder, name)
    return json.load(open(path)) if os.path.exists(path) else None


def rows(doc, prefix):
    return [b for b in doc["benchmarks"] if b["name"].startswith(prefix) and not b.get("error_occurred")]


def by_prefix(b, prefix):
    return {k[len(prefix):]: v for k, v in b.items() if k.startswith(prefix)}


def timed(name):
    return not (name.startswith("peak") or name.startswith("read"))


def subtitle(folder, ctx):
    load_txt = os.path.join(folder, "load.txt")
    loads = open(load_txt).read().strip().replace("\n", "; ") if os.path.exists(load_txt) else ""
    return "%s, %s, one thread; load average %s" % (ctx.get("bench.cpu", "?"),
                                                   ctx.get("date", "")[:10], loads)


def widest(ctx):
    return ctx.get("bench.nnf", "nnf").split()[-1]


def colour(name):
    key = name[2:] if name.startswith("c+") else name.split(" ")[0]
    return COLOURS.get(key, "#000000")


def plot_squares(folder, doc):
    squares = []
    for b in rows(doc, "sgemm/"):
        m = re.fullmatch(r"(\d+)\^3", b["label"].split(" [")[0])
        if m:
            squares.append((int(m.group(1)), b))
    if not squares:
        return None
    squares.sort(key=lambda t: t[0])
    ctx = doc["context"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    names = sorted({n for _, b in squares for n in by_prefix(b, "us:") if timed(n)})
    for name in names:
        pts = [(n, 2.0 * n ** 3 / by_prefix(b, "us:")[name] * 1e-3)
               for n, b in squares if name in by_prefix(b, "us:")]
        label = "nnf (%s)" % widest(ctx) if name == "nnf" else name
        style = dict(marker="o", color=colour(name), label=label,
                     linewidth=2.5 if name == "nnf" else 1.5)
        for ax in ([left] if name.startswith("nnf:") else [left, right] if name == "nnf" else [right]):
            ax.plot([p[0] for p in pts], [p[1] for p in pts], **style)
    peak = sorted(b["GFLOPS:peak"] for _, b in squares if "GFLOPS:peak" in b)
    machine = [b for b in rows(doc, "machine")]
    lines = {}
    if machine:
        lines = {k: v for k, v in by_prefix(machine[0], "GFLOPS:").items()}
    elif peak:
        lines = {"peak": peak[len(peak) // 2]}
    for k, v in lines.items():
        for ax in (left, right):
            ax.axhline(v, linestyle="--", color="grey", linewidth=1)
            ax.text(squares[0][0], v, " FMA %s %.0f" % (k.split(":")[-1], v), va="bottom",
                    color="grey", fontsize=8)
    for ax, title in ((left, "nnf per ISA"), (right, "nnf against its peers")):
        ax.set_xscale("log", base=2)
        ax.set_xticks([n for n, _ in squares], [str(n) for n, _ in squares])
        ax.set_xlabel("n (n x n x n product)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    left.set_ylabel("GFLOPS (2n³ / median time)")
    fig.suptitle("sgemm, " + subtitle(folder, ctx), fontsize=10)
    fig.tight_layout()
    path = os.path.join(folder, "sgemm_squares.png")
    fig.savefig(path, dpi=110)
    return path


def plot_shapes(folder, doc):
    others = [b for b in rows(doc, "sgemm/") if not re.fullmatch(r"\d+\^3", b["label"].split(" [")[0])]
    if not others:
        return None
    peers = sorted({n for b in others for n in by_prefix(b, "x:")
                    if not n.startswith("nnf")})
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(others) * (1 + len(peers) / 4) + 1.5))
    height = 0.8 / len(peers)
    for j, name in enumerate(peers):
        ys, xs = [], []
        for i, b in enumerate(others):
            x = by_prefix(b, "x:").get(name)
            if x:
                ys.append(i + j * height)
                xs.append(x)
        ax.barh(ys, xs, height=height, color=colour(name), label=name)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(others))],
                  [b["label"].split(" [")[0] for b in others], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("peer time / nnf time, paired (right of 1: nnf is faster)")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("sgemm, " + subtitle(folder, doc["context"]), fontsize=10)
    fig.tight_layout()
    path = os.path.join(folder, "sgemm_shapes.png")
    fig.savefig(path, dpi=110)
    return path


def plot_train(folder, doc, torch):
    steps = rows(doc, "train_step/")
    if not steps:
        return None
    fig, axes = plt.subplots(1, len(steps), figsize=(6 * len(steps), 4))
    axes = axes if len(steps) > 1 else [axes]
    for ax, b in zip(axes, steps):
        us = {k: v for k, v in by_prefix(b, "us:").items() if timed(k)}
        key = b["name"].split("/")[1]
        if torch and key in torch["steps"]:
            us["PyTorch %s (own process)" % torch["version"]] = torch["steps"][key]["cpu_us"]
        names = sorted(us, key=us.get)
        unit, scale = ("ms", 1e-3) if max(us.values()) >= 2000 else ("µs", 1.0)
        times = [us[n] * scale for n in names]
        ax.barh(range(len(names)), times, color=[colour(n) for n in names])
        ax.set_yticks(range(len(names)), names, fontsize=8)
        ax.invert_yaxis()
        for i, v in enumerate(times):
            ax.text(v, i, " %.3g" % v, va="center", fontsize=8)
        ax.set_xlabel("%s per step (median)" % unit)
        share = b.get("nnf_pct_peak")
        ax.set_title("%s%s" % (b["label"].split(" [")[0],
                               ", nnf at %.0f%% of the FMA peak" % share if share else ""), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Training step, " + subtitle(folder, doc["context"]), fontsize=10)
    fig.tight_layout()
    path = os.path.join(folder, "train_step.png")
    fig.savefig(path, dpi=110)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    args = ap.parse_args()
    written = []
    sgemm = load(args.folder, "sgemm.json")
    if sgemm:
        written += [plot_squares(args.folder, sgemm), plot_shapes(args.folder, sgemm)]
    train = load(args.folder, "train_step.json")
    if train:
        written.append(plot_train(args.folder, train, load(args.folder, "pytorch_train_step.json")))
    for path in written:
        if path:
            print("wrote", path)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""One compact table from the Google Benchmark JSON files of a scripts/main.sh run.

    /usr/bin/python3 scripts/bench_table.py bench/results/<date>-<cpu>

Reads, from that folder:
  sgemm.json, train_step.json   the interleaved rows of bench/compare.h: per row nnf's
                                time, its share of the FMA peak, the fastest peer, and the
                                paired ratio peer time / nnf time (below 1: nnf is slower)
  sgemm_2t_*.json               two threads, one library per process (GFLOPS)
  eltwise.json, reduce.json, matmul.json
                                medians of repetitions, nnf at its widest ISA against the
                                plain C loop (or the peers) of the same binary
  pytorch_train_step.json       scripts/peers_train_step.py --json (its own process)
  load.txt                      the load average before and after the run
Prints the table (Markdown, readable as it is) and writes it to table.md there.
"""
import argparse
import glob
import json
import os
import re
import statistics



def isa_names():
    """nnf's ISAs in order of preference, from the one list (include/nnf/isa_list.h)."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include", "nnf",
                          "isa_list.h")
    with open(header) as f:
        text = f.read()
    body = text[text.index("#define NNF_ISA_LIST(X)"):]
    return re.findall(r"^\s*X\(\w+, (\w+), \d+, \w+\)", body, re.M)


ISAS = isa_names()


def load(folder, name):
    path = os.path.join(folder, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def fmt_time(us):
    if us is None:
        return "—"
    if us >= 10000:
        return "%.1f ms" % (us / 1000)
    if us >= 100:
        return "%.0f µs" % us
    if us >= 10:
        return "%.1f µs" % us
    return "%.2f µs" % us


def fmt_ratio(x):
    """Peer time / nnf time; bold where nnf is slower."""
    if x is None:
        return "—"
    s = "%.2f" % x if x < 10 else "%.0f" % x
    return "**%s**" % s if x < 1.0 else s


def row_name(bench):
    return bench.get("label", bench["name"]).split(" [")[0]


def kernels(bench):
    m = re.search(r"\[(.*)\]$", bench.get("label", ""))
    if not m:
        return {}
    return dict(part.split(": ", 1) for part in m.group(1).split("; "))


def contenders(bench, prefix):
    return {k[len(prefix):]: v for k, v in bench.items() if k.startswith(prefix)}


def is_peer(name):
    return not name.startswith(("nnf", "peak", "read", "floor"))


def compare_rows(doc, title, flops_note):
    """The rows of one interleaved benchmark file, as Markdown lines."""
    lines = ["| %s | nnf | %s | floor: peak / chains | fastest peer | its time | peer / nnf | the others, peer / nnf |"
             % (title, flops_note),
             "|---|---|---|---|---|---|---|---|"]
    for b in doc["benchmarks"]:
        if not re.match(r"(sgemm|train_step)/", b["name"]):
            continue
        name = row_name(b)
        if b.get("error_occurred"):
            lines.append("| %s | skipped: %s | | | | | | |" % (name, b.get("error_message", "")))
            continue
        us = contenders(b, "us:")
        ratio = contenders(b, "x:")
        peers = sorted((n for n in us if is_peer(n)), key=lambda n: us[n])
        ker = kernels(b)
        label = lambda n: n + (" (%s)" % ker[n] if n in ker else "")
        best = peers[0] if peers else None
        others = ", ".join("%s %s" % (n, fmt_ratio(ratio.get(n))) for n in peers[1:])
        share = b.get("nnf_pct_peak")
        rate = "%.0f GFLOPS (%.0f%%)" % (b["nnf_GFLOPS"], share) if share else "—"
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, fmt_time(us.get("nnf")), rate,
            "%s / %s" % (fmt_time(b.get("floor_us")), fmt_time(us.get("floor:chains"))),
            label(best) if best else "—", fmt_time(us.get(best)) if best else "—",
            fmt_ratio(ratio.get(best)) if best else "—", others))
        if "nnf:prepacked" in us:
            xp = contenders(b, "xp:")
            pack = b.get("pack_us:nnf:prepacked")
            lines.append("| ↳ nnf prepacked%s | %s | | | %s | | %s | |" % (
                " (packing %s)" % fmt_time(pack) if pack else "", fmt_time(us["nnf:prepacked"]),
                best or "—", fmt_ratio(xp.get(best)) if best else "—"))
    return lines


def machine_line(doc):
    for b in doc["benchmarks"]:
        if b["name"].startswith("machine") and not b.get("error_occurred"):
            g = contenders(b, "GFLOPS:")
            bw = contenders(b, "GBs:")
            peaks = ", ".join("%.0f GFLOPS %s" % (v, k.split(":")[1]) for k, v in sorted(g.items()))
            return ("FMA peak of one core %s; one thread reads %.0f GB/s, STREAM copy %.0f, "
                    "triad %.0f (%s)" % (peaks, bw.get("read", 0), bw.get("copy", 0),
                                         bw.get("triad", 0), b.get("label", "")))
    return None


def median_runs(docs, name_re):
    """{label: median real time (µs)} of the repetitions whose name matches."""
    times = {}
    for doc in docs:
        for b in doc["benchmarks"]:
            if b.get("run_type") != "iteration" or b.get("error_occurred"):
                continue
            if re.fullmatch(name_re, b["run_name"]):
                unit = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b.get("time_unit", "ns")]
                times.setdefault(b["run_name"], []).append(b["real_time"] * unit)
    return {k: statistics.median(v) for k, v in times.items()}


def two_thread_lines(folder):
    docs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(folder, "sgemm_2t_*.json")))]
    if not docs:
        return []
    rates = {}   # shape -> {library: [GFLOPS...]}
    for doc in docs:
        for b in doc["benchmarks"]:
            if b.get("run_type") != "iteration" or b.get("error_occurred") or "GFLOPS" not in b:
                continue
            who, shape = b["label"].split(" ")[0], b["label"].split(" ")[1]
            rates.setdefault(shape, {}).setdefault(who, []).append(b["GFLOPS"])
    lines = ["| sgemm, 2 threads (GFLOPS; one library per process, medians) | nnf | fastest peer "
             "| its GFLOPS | nnf / peer |", "|---|---|---|---|---|"]
    for shape, libs in rates.items():
        nnf = [w for w in ISAS[::-1] if w in libs]
        peers = {k: statistics.median(v) for k, v in libs.items() if k not in ISAS}
        if not nnf or not peers:
            continue
        mine = statistics.median(libs[nnf[0]])
        best = max(peers, key=peers.get)
        lines.append("| %s | %.0f (%s) | %s | %.0f | %s |" % (
            shape, mine, nnf[0], best, peers[best], fmt_ratio(mine / peers[best])))
    return lines


# nnf's row (widest ISA substituted for {w}) and its peers' rows, per file; peers are
# named by their label, or by the name given here.
OTHER_ROWS = [
    ("eltwise.json", "c = a + b, 16M floats, into an existing tensor",
     r"BM_add/isa:{w}/threads:1/alloc:0/real_time", r"BM_c_add/threads:1/real_time", "plain C"),
    ("eltwise.json", "relu, 16M floats, into an existing tensor",
     r"BM_relu/isa:{w}/threads:1/alloc:0/real_time", r"BM_c_relu/threads:1/real_time", "plain C"),
    ("reduce.json", "sum of 16M floats", r"BM_sum/{w}/1/real_time", r"BM_sum_plain_c/real_time",
     "plain C"),
    ("reduce.json", "std and mean of [64, 3, 256, 256] over (0, 2, 3)",
     r"BM_chapter_std_mean/{w}/1/real_time", r"BM_chapter_c_single_pass/real_time",
     "plain C, one pass"),
    ("reduce.json", "(x - mean) / std into an existing tensor",
     r"BM_normalize_out/{w}/1/real_time", r"BM_normalize_c/real_time", "plain C"),
    ("matmul.json", "5x784 @ 784x10, nnf_matmul into an existing tensor (peers: sgemm)",
     r"BM_matmul_out/{w}", r"BM_peer_sgemm/[0-9]+", None),
]


def other_lines(folder, widest):
    w = ISAS.index(widest) if widest in ISAS else 0
    lines = ["| elementwise, reductions, matmul (1 thread, medians of repetitions) | nnf | "
             "fastest peer | its time | peer / nnf |", "|---|---|---|---|---|"]
    for fname, title, nnf_re, peer_re, peer_name in OTHER_ROWS:
        doc = load(folder, fname)
        if doc is None:
            continue
        mine = median_runs([doc], nnf_re.replace("{w}", str(w)))
        theirs = median_runs([doc], peer_re)
        if not mine or not theirs:
            continue
        labels = {b["run_name"]: b.get("label", b["run_name"]) for b in doc["benchmarks"]}
        best = min(theirs, key=theirs.get)
        t = list(mine.values())[0]
        lines.append("| %s | %s | %s | %s | %s |" % (
            title, fmt_time(t), peer_name or labels.get(best, best), fmt_time(theirs[best]),
            fmt_ratio(theirs[best] / t)))
    return lines if len(lines) > 2 else []


def pytorch_line(folder):
    doc = load(folder, "pytorch_train_step.json")
    if not doc:
        return None
    return "PyTorch %s autograd in its own process, CPU time per step: %s" % (
        doc["version"], ", ".join("%s %s" % (k, fmt_time(v["cpu_us"])) for k, v in doc["steps"].items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    args = ap.parse_args()
    sgemm = load(args.folder, "sgemm.json")
    train = load(args.folder, "train_step.json")
    ctx = (sgemm or train or {"context": {}})["context"]
    out = []
    load_txt = os.path.join(args.folder, "load.txt")
    loads = open(load_txt).read().strip().replace("\n", "; ") if os.path.exists(load_txt) else ""
    out.append("%s, %s; load average %s" % (ctx.get("bench.cpu", "?"), ctx.get("date", "?")[:10],
                                            loads or ctx.get("load_avg")))
    if sgemm:
        m = machine_line(sgemm)
        if m:
            out.append(m)
    out.append("")
    for key in ("nnf", "openblas", "blis", "onednn", "onednn_ip", "libxsmm", "environment"):
        if "bench." + key in ctx:
            out.append("- %s: %s" % (key, ctx["bench." + key]))
    rounds = [b["iterations"] for d in (sgemm, train) if d for b in d["benchmarks"]
              if re.match(r"(sgemm|train_step)/", b["name"])]
    out.append("")
    out.append("One thread; every library in the same %s interleaved rounds per row (medians); "
               "peer / nnf is the median of the per-round ratios, **bold** where nnf is slower; "
               "floors, timed in the same rounds: peak = max(flops at the FMA peak, a plain "
               "read of B); chains = the k-order contract's FMA chains on registers "
               "(bench/bench_sgemm.cc: no call under the contract can beat it)."
               % (min(rounds) if rounds else "?"))
    out.append("")
    if sgemm:
        out += compare_rows(sgemm, "sgemm (m x k x n, T: transposed)", "GFLOPS (% of peak)")
        out.append("")
    if train:
        out += compare_rows(train, "training step", "GFLOPS (% of peak)")
        torch = pytorch_line(args.folder)
        if torch:
            out += ["", torch]
        out.append("")
    out += two_thread_lines(args.folder)
    widest = ctx.get("bench.nnf", "").split()[-1] if ctx.get("bench.nnf") else "avx512"
    others = other_lines(args.folder, widest)
    if others:
        out.append("")
        out += others
    text = "\n".join(out) + "\n"
    with open(os.path.join(args.folder, "table.md"), "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()

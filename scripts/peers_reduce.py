#!/usr/bin/python3
"""Peers for bench/bench_reduce.cc: PyTorch 1.13 and numpy on the same shapes, 1 thread,
medians of repeated runs (run with Debian's /usr/bin/python3, which has both).

    /usr/bin/python3 scripts/peers_reduce.py             # timings
    /usr/bin/python3 scripts/peers_reduce.py --accuracy  # torch's float32 sum/mean/var/std
        on the 1e7 uniform floats of tests/test_reduce_repro.c (nnf_test_fill_uniform,
        seed 2024), the constants that test compares nnf's error against.
"""
import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")   # before numpy/torch load their pools

import math
import statistics
import time

import numpy as np
import torch

torch.set_num_threads(1)


def median_ms(fn, reps=15, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3


def fill_uniform(n, seed, lo, hi):
    """tests/nnf_test.c's nnf_test_fill_uniform (xorshift64), in float32."""
    mask = (1 << 64) - 1
    s = (seed * 0x9E3779B97F4A7C15 + 1) & mask
    top = np.empty(n, dtype=np.uint64)
    for i in range(n):
        s ^= (s << 13) & mask
        s ^= s >> 7
        s ^= (s << 17) & mask
        top[i] = s >> 40
    u = (top.astype(np.float64) * 2.0 ** -24).astype(np.float32)
    return (np.float32(lo) + np.float32(hi - lo) * u).astype(np.float32)


def accuracy():
    x = fill_uniform(10_000_000, 2024, 0.0, 1.0)
    xd = x.astype(np.float64)
    exact = math.fsum(xd)
    mean = exact / len(x)
    var = math.fsum((xd - mean) ** 2) / (len(x) - 1)
    t = torch.from_numpy(x)
    for name, val, ref in [("sum", t.sum().item(), exact), ("mean", t.mean().item(), mean),
                           ("var", t.var().item(), var), ("std", t.std().item(), math.sqrt(var))]:
        print(f"torch {name:5s} {val!r:24s} error {abs(val - ref):.3g}")


def timings():
    print(f"torch {torch.__version__}, numpy {np.__version__}, 1 thread, median ms")
    v = torch.rand(1 << 24)
    vn = v.numpy()
    print(f"sum 16M floats           torch {median_ms(lambda: torch.sum(v)):8.2f}"
          f"   numpy {median_ms(lambda: vn.sum()):8.2f}")
    x = torch.rand(64, 3, 256, 256)
    xn = x.numpy()
    dims = (0, 2, 3)
    rows = [
        ("mean (0,2,3)", lambda: torch.mean(x, dim=dims), lambda: xn.mean(axis=dims)),
        ("std (0,2,3)", lambda: torch.std(x, dim=dims), lambda: xn.std(axis=dims, ddof=1)),
        ("std_mean (0,2,3)", lambda: torch.std_mean(x, dim=dims),
         lambda: (xn.std(axis=dims, ddof=1), xn.mean(axis=dims))),
        ("mean + std (0,2,3)", lambda: (torch.mean(x, dim=dims), torch.std(x, dim=dims)),
         lambda: (xn.mean(axis=dims), xn.std(axis=dims, ddof=1))),
    ]
    for name, ft, fn in rows:
        print(f"{name:24s} torch {median_ms(ft, reps=7):8.2f}   numpy {median_ms(fn, reps=5):8.2f}")
    mean = torch.mean(x, dim=dims)
    std = torch.std(x, dim=dims)
    bm = mean.unsqueeze(0).unsqueeze(2).unsqueeze(3)
    bs = std.unsqueeze(1).unsqueeze(1)
    bmn, bsn = bm.numpy(), bs.numpy()
    print(f"{'(x - mean) / std':24s} torch {median_ms(lambda: (x - bm) / bs, reps=7):8.2f}"
          f"   numpy {median_ms(lambda: (xn - bmn) / bsn, reps=5):8.2f}")
    # Into an existing buffer, as bench_reduce's BM_normalize_out / BM_normalize_fused_out.
    out = torch.empty_like(x)
    outn = out.numpy()

    def torch_out():
        torch.sub(x, bm, out=out)
        torch.div(out, bs, out=out)

    def numpy_out():
        np.subtract(xn, bmn, out=outn)
        np.divide(outn, bsn, out=outn)

    print(f"{'(x - mean) / std, out=':24s} torch {median_ms(torch_out, reps=7):8.2f}"
          f"   numpy {median_ms(numpy_out, reps=5):8.2f}")


if __name__ == "__main__":
    if "--accuracy" in sys.argv:
        accuracy()
    else:
        timings()

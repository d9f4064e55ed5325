#!/usr/bin/python3
"""PyTorch 1.13 and numpy on bench_eltwise's workloads, for the same table.

Times add and relu on 16M float32 (64 MiB per array): into an existing array (out=)
and allocating the result, PyTorch with 1 and 2 threads, numpy (single-threaded).
Prints the median of --reps runs per row, in bench_eltwise's units (ms and GB/s with
every array read or written counted once, as STREAM does):

    /usr/bin/python3 scripts/peers_eltwise.py [--reps 11] [--n 16777216]
"""
import argparse
import statistics
import time

import numpy as np
import torch


def median_ms(fn, reps):
    """Median wall and process-CPU milliseconds (CPU time is the steadier figure while
    the machine is shared; for 2 threads it sums both)."""
    fn()  # warm up: first-touch page faults of out= buffers, allocator caches
    wall, cpu = [], []
    for _ in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return statistics.median(wall), statistics.median(cpu)


def row(name, ms, n, arrays):
    wall, cpu = ms
    gbs = n * 4 * arrays / (wall * 1e-3) / 1e9
    print(f"{name:<40} {wall:9.2f} ms {gbs:8.2f} GB/s   cpu {cpu:9.2f} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=11)
    ap.add_argument("--n", type=int, default=1 << 24)
    args = ap.parse_args()
    n, reps = args.n, args.reps

    print(f"torch {torch.__version__}, "
          f"numpy {np.__version__}, n = {n}, median of {reps}")
    g = torch.Generator().manual_seed(0)
    a = torch.randn(n, generator=g)
    b = torch.randn(n, generator=g)
    c = torch.empty(n)
    c.zero_()
    for threads in (1, 2):
        torch.set_num_threads(threads)
        row(f"torch/add/out/threads:{threads}",
            median_ms(lambda: torch.add(a, b, out=c), reps), n, 3)
        row(f"torch/add/alloc/threads:{threads}", median_ms(lambda: a + b, reps), n, 3)
        row(f"torch/relu/out/threads:{threads}",
            median_ms(lambda: torch.clamp_min(a, 0, out=c), reps), n, 2)
        row(f"torch/relu/alloc/threads:{threads}", median_ms(lambda: torch.relu(a), reps), n, 2)
    torch.set_num_threads(1)

    na, nb = a.numpy(), b.numpy()
    nc = np.zeros(n, dtype=np.float32)
    row("numpy/add/out", median_ms(lambda: np.add(na, nb, out=nc), reps), n, 3)
    row("numpy/add/alloc", median_ms(lambda: na + nb, reps), n, 3)
    row("numpy/relu/out", median_ms(lambda: np.maximum(na, 0, out=nc), reps), n, 2)
    row("numpy/relu/alloc", median_ms(lambda: np.maximum(na, 0), reps), n, 2)


if __name__ == "__main__":
    main()

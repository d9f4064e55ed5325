#!/usr/bin/python3
"""PyTorch 1.13 on the training steps of bench/bench_train_step.cc, one thread.

    /usr/bin/python3 scripts/peers_train_step.py [--repeats 5] [--json FILE]

One step = opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); opt.step(),
with nn.Linear / nn.ReLU layers and torch.optim.SGD (lr 0.01, no momentum), as nnf's
bench runs it. x does not require a gradient, so autograd does not compute x.g either.
Prints the median over `repeats` runs of the mean time per step, as CPU time of the
calling thread (Google Benchmark's "CPU" column: steadier than the wall clock on a shared
machine) and wall time, and GFLOPS (from the CPU time) counted as in the C++ bench
(forward, weight gradients and the hidden activation's gradient). --json also writes
{"version": ..., "steps": {name: {"cpu_us", "wall_us", "gflops"}}} for
scripts/bench_table.py.

  chapter  200 x 100 -> 50 -> ReLU -> 1, MSE on (N) targets (the chapter squeezes)
  mlp      4096 x 784 -> 512 -> ReLU -> 10, cross-entropy on int64 labels
"""
import argparse
import json
import os
import statistics
import time

# One thread everywhere, OpenBLAS's own pool included (torch.set_num_threads alone leaves
# it alone), set before the libraries load.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import torch  # noqa: E402
from torch import nn  # noqa: E402

SHAPES = [("chapter", 200, 100, 50, 1, False), ("mlp", 4096, 784, 512, 10, True)]


def step_flops(n, n_in, hidden, n_out):
    mm = 2.0 * n * (n_in * hidden + hidden * n_out)
    return 2.0 * mm + 2.0 * n * hidden * n_out


def bench(name, n, n_in, hidden, n_out, ce, repeats):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))
    x = torch.rand(n, n_in) * 2 - 1
    if ce:
        y = torch.arange(n) * 7 % n_out
        loss_fn = nn.functional.cross_entropy
    else:
        y = torch.rand(n) * 2 - 1
        loss_fn = lambda out, targ: nn.functional.mse_loss(out.squeeze(-1), targ)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    # as many steps as fit in ~0.5 s of CPU per run
    t0 = time.thread_time()
    step()
    per = max(time.thread_time() - t0, 1e-6)
    iters = max(1, int(0.5 / per))
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.thread_time(), time.perf_counter()
        for _ in range(iters):
            step()
        cpu.append((time.thread_time() - c0) / iters)
        wall.append((time.perf_counter() - w0) / iters)
    t, w = statistics.median(cpu), statistics.median(wall)
    gflops = step_flops(n, n_in, hidden, n_out) / t * 1e-9
    print("%-8s PyTorch %s autograd, 1 thread: CPU %10.1f us/step (wall %10.1f)  %6.1f GFLOPS"
          "  (%d x %d steps)" % (name, torch.__version__, t * 1e6, w * 1e6, gflops, repeats, iters))
    return {"cpu_us": t * 1e6, "wall_us": w * 1e6, "gflops": gflops}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", help="also write the medians to this file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    steps = {shape[0]: bench(*shape, args.repeats) for shape in SHAPES}
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"version": torch.__version__, "steps": steps}, f, indent=1)


if __name__ == "__main__":
    main()

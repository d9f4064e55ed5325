#!/usr/bin/python3
"""Trains a small MLP on Fashion-MNIST with PyTorch and saves its weights for nnf.

    /usr/bin/python3 scripts/train_pytorch_fashion_mnist.py mlp.npz [--logits torch.npz]
    build/native/examples/pytorch_inference mlp.npz

The model is nn.Sequential(Linear(784, H), ReLU(), Linear(H, 10)) on pixels / 255 (what
nnf_mnist_load gives), trained with Adam for a few hundred minibatch steps (a few seconds).
Its state_dict goes through numpy.savez, so the file holds "0.weight" (H, 784), "0.bias",
"2.weight" (10, H), "2.bias": nnf_model_load_npz reads it into nnf's Lin, Relu, Lin.
--logits also writes PyTorch's logits for the 10000 test images and, per logit, the bound
any float32 summation order stays within (npz_fixtures.tolerance), for the comparison in
examples/check_pytorch_inference.py."""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from npz_fixtures import tolerance  # noqa: E402


def read_idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load(data, split):
    x = read_idx(os.path.join(data, f"{split}-images-idx3-ubyte.gz"), 16).reshape(-1, 784)
    y = read_idx(os.path.join(data, f"{split}-labels-idx1-ubyte.gz"), 8)
    return torch.from_numpy(x.astype(np.float32) / np.float32(255)), torch.from_numpy(y.astype(np.int64))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="where to write the weights (.npz)")
    ap.add_argument("--logits", help="also write PyTorch's test-set logits and their bounds here")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    torch.manual_seed(a.seed)
    xtr, ytr = load(a.data, "train")
    xte, yte = load(a.data, "t10k")
    model = torch.nn.Sequential(torch.nn.Linear(784, a.hidden), torch.nn.ReLU(),
                                torch.nn.Linear(a.hidden, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    for step in range(a.steps):
        idx = torch.randint(0, len(xtr), (128,))
        loss = torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        logits = model(xte)
    acc = 100.0 * (logits.argmax(1) == yte).double().mean().item()
    print(f"PyTorch: {a.steps} steps of 128 in {time.time() - start:.1f} s; "
          f"test accuracy {acc:.2f}%")

    np.savez(a.out, **{k: v.numpy() for k, v in model.state_dict().items()})
    print(f"Saved {', '.join(model.state_dict())} to {a.out}")
    if a.logits:
        np.savez(a.logits, logits=logits.numpy(), labels=yte.numpy(),
                 tol=tolerance(model, xte.numpy(), [784, a.hidden]))


if __name__ == "__main__":
    main()

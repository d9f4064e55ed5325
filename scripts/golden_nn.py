#!/usr/bin/python3
"""Writes the PyTorch reference files the nn tests compare against (tests/golden/nn_*.bin).

Run with Debian's PyTorch 1.13:  /usr/bin/python3 scripts/golden_nn.py
Only regenerating needs torch; the tests read the committed files.

File format (all little-endian):
    b"NNFG", uint32 version (1), uint32 count, then `count` tensors, each
    uint32 name length, name (ASCII), uint32 dtype (0 float32, 1 int64), uint32 ndim,
    int64 shape[ndim], then the elements, row-major.

Cases (float32 throughout, autograd for every gradient):
  chapter     the chapter's model, 200x100 -> 50 -> ReLU -> 1, MSE against y (200);
              x.g too (the chapter's manual backward computes it).
  classifier  64x20 -> 32 -> ReLU -> 10, cross-entropy with int64 labels; then three
              torch.optim.SGD steps (lr 0.1, momentum 0.9, weight decay 0.01) on the same
              batch: the losses and the final parameters.
  deep        16x8 -> 12 -> ReLU -> 12 -> ReLU -> 3, MSE against (16, 3) targets.
  ce_large    cross-entropy alone on logits up to +-100 (exp would overflow without the
              log-sum-exp shift): loss and logits.g.
"""
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden")


def write(name, tensors):
    path = os.path.join(OUT, "nn_%s.bin" % name)
    with open(path, "wb") as f:
        f.write(b"NNFG" + struct.pack("<II", 1, len(tensors)))
        for key, t in tensors:
            t = t.detach().contiguous()
            dtype = {torch.float32: 0, torch.int64: 1}[t.dtype]
            f.write(struct.pack("<I", len(key)) + key.encode("ascii"))
            f.write(struct.pack("<II", dtype, t.dim()))
            f.write(struct.pack("<%dq" % t.dim(), *t.shape))
            f.write(t.numpy().astype("<f4" if dtype == 0 else "<i8").tobytes())
    print("%-40s %7d bytes" % (os.path.relpath(path), os.path.getsize(path)))


def mlp(sizes, gen):
    """Weights (n_out x n_in, like nn.Linear) with the chapter's init, small random biases."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = torch.randn(n_out, n_in, generator=gen) * math.sqrt(2 / n_in)
        b = torch.randn(n_out, generator=gen) * 0.1
        params += [w.requires_grad_(), b.requires_grad_()]
    return params


def forward(x, params):
    n = len(params) // 2
    for i in range(n):
        x = x @ params[2 * i].t() + params[2 * i + 1]
        if i < n - 1:
            x = x.clamp_min(0.0)
    return x


def named(params):
    out = []
    for i in range(len(params) // 2):
        out += [("w%d" % (i + 1), params[2 * i]), ("b%d" % (i + 1), params[2 * i + 1])]
    return out


def grads(params):
    return [(k + ".g", p.grad) for k, p in named(params)]


def chapter(gen):
    x = torch.randn(200, 100, generator=gen).requires_grad_()
    y = torch.randn(200, generator=gen)
    params = mlp([100, 50, 1], gen)
    out = forward(x, params)
    loss = (out.squeeze(-1) - y).pow(2).mean()
    loss.backward()
    write("chapter", [("x", x), ("y", y)] + named(params) +
          [("out", out), ("loss", loss), ("x.g", x.grad)] + grads(params))


def classifier(gen):
    x = torch.randn(64, 20, generator=gen).requires_grad_()
    y = torch.randint(0, 10, (64,), generator=gen)
    params = mlp([20, 32, 10], gen)
    out = forward(x, params)
    loss = F.cross_entropy(out, y)
    loss.backward()
    # copies: the SGD steps below change the parameters in place
    tensors = [("x", x), ("y", y)] + [(k, p.detach().clone()) for k, p in named(params)]
    tensors += [("out", out), ("loss", loss), ("x.g", x.grad)]
    tensors += [(k, g.clone()) for k, g in grads(params)]
    opt = torch.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.01)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(forward(x.detach(), params), y)
        losses.append(loss.item())
        loss.backward()
        opt.step()
    tensors += [("sgd.losses", torch.tensor(losses))]
    tensors += [("sgd." + k, p) for k, p in named(params)]
    write("classifier", tensors)


def deep(gen):
    x = torch.randn(16, 8, generator=gen).requires_grad_()
    y = torch.randn(16, 3, generator=gen)
    params = mlp([8, 12, 12, 3], gen)
    out = forward(x, params)
    loss = F.mse_loss(out, y)
    loss.backward()
    write("deep", [("x", x), ("y", y)] + named(params) +
          [("out", out), ("loss", loss), ("x.g", x.grad)] + grads(params))


def ce_large(gen):
    logits = (torch.rand(8, 5, generator=gen) * 200 - 100).requires_grad_()
    y = torch.randint(0, 5, (8,), generator=gen)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    write("ce_large", [("logits", logits), ("y", y), ("loss", loss), ("logits.g", logits.grad)])


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(2020)
    chapter(gen)
    classifier(gen)
    deep(gen)
    ce_large(gen)


if __name__ == "__main__":
    main()

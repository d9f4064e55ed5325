#!/usr/bin/python3
"""The test of examples/pytorch_inference.c (meson test --suite examples): PyTorch trains
the MLP and saves it (scripts/train_pytorch_fashion_mnist.py), nnf classifies the test
set with those weights, and the two sets of logits must agree within the bound any
float32 summation order meets (npz_fixtures.tolerance). Where the two largest logits of
an image are closer than that bound the predicted class may differ; nowhere else.

    check_pytorch_inference.py PYTORCH_INFERENCE SOURCE_ROOT"""
import os
import subprocess
import sys
import tempfile

import numpy as np

exe, root = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory(prefix="nnf_pytorch_inference_") as tmp:
    weights, torch_out, nnf_out = (os.path.join(tmp, n) for n in ("mlp.npz", "torch.npz", "nnf.npz"))
    subprocess.run([sys.executable, os.path.join(root, "scripts", "train_pytorch_fashion_mnist.py"),
                    weights, "--logits", torch_out], check=True)
    run = subprocess.run([exe, weights, "--logits", nnf_out], check=True, capture_output=True,
                         text=True)
    print(run.stdout, end="")
    want = np.load(torch_out)
    got = np.load(nnf_out)["logits"]

t, tol, labels = want["logits"], want["tol"], want["labels"]
ratio = np.abs(got - t) / tol
assert ratio.max() <= 1, f"logits differ by {ratio.max():.3g} of the bound at {np.unravel_index(ratio.argmax(), ratio.shape)}"
top2 = np.sort(t, axis=1)[:, -2:]
near_tie = (top2[:, 1] - top2[:, 0]) <= 2 * tol.max(axis=1)
differ = got.argmax(1) != t.argmax(1)
assert not np.any(differ & ~near_tie), f"{np.sum(differ & ~near_tie)} predictions differ away from a tie"
acc_nnf = 100.0 * np.mean(got.argmax(1) == labels)
acc_torch = 100.0 * np.mean(t.argmax(1) == labels)
line = f"Test accuracy {acc_nnf:.2f}%"
assert line in run.stdout, f"the example's output lacks '{line}'"
print(f"nnf {acc_nnf:.2f}%, PyTorch {acc_torch:.2f}%; logits within {ratio.max():.2g} of the bound; "
      f"{differ.sum()} predictions differ ({near_tie.sum()} images at a near-tie)")

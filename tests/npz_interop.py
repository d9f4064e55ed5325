#!/usr/bin/python3
"""nnf's .npz files against numpy and PyTorch, both ways (run by meson test).

    npz_interop.py NPZ_TOOL SOURCE_ROOT

- numpy writes arrays in every form savez and savez_compressed produce (and zip64 in
  every field, .npy 2.0 and 3.0, data descriptors, Fortran order, big-endian, float64);
  nnf reads each and writes it back; numpy must read back exactly numpy's own float32
  conversion of the original, each member byte for byte what numpy.save writes, with
  correct CRCs (zipfile.testzip), also when nnf writes every zip field in zip64 form;
- nnf saves models (an MLP and a CNN with Flatten); numpy reads the very bits nnf held
  (printed by the tool, not read from the file), torch's load_state_dict(strict=True)
  accepts them, and torch's predictions match nnf's within a bound any summation order
  meets (scripts/npz_fixtures.py: tolerance);
- PyTorch models' state_dicts saved with numpy.savez and savez_compressed load into nnf
  and predict the same within that bound; extra, missing and misshaped keys are refused.
"""
import io
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch

TOOL, ROOT = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from npz_fixtures import Unseekable, tolerance  # noqa: E402

TMP = tempfile.mkdtemp(prefix="nnf_npz_interop_")
checks = 0


def tool(*args, fail=False):
    r = subprocess.run([TOOL, *map(str, args)], capture_output=True, text=True)
    if fail:
        assert r.returncode == 1, f"npz_tool {args} should have failed:\n{r.stdout}{r.stderr}"
        return r.stderr
    assert r.returncode == 0, f"npz_tool {args} failed:\n{r.stderr}"
    return r.stdout


def path(name):
    return os.path.join(TMP, name)


def same_bits(a, b, what):
    global checks
    a, b = np.array(a, order="C"), np.array(b, order="C")
    assert a.dtype == b.dtype == np.float32 and a.shape == b.shape, (what, a.dtype, b.dtype, a.shape, b.shape)
    diff = np.flatnonzero(a.view(np.uint32).ravel() != b.view(np.uint32).ravel())
    assert diff.size == 0, f"{what}: {diff.size} elements differ, first at {diff[0]}"
    checks += 1


def check_nnf_file(name, want):
    """numpy reads nnf's file as `want` (float32 arrays), and it is what numpy.save writes."""
    with zipfile.ZipFile(path(name)) as z:
        assert z.testzip() is None, name
        assert z.namelist() == [k + ".npy" for k in want], (name, z.namelist())
        for k, v in want.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.array(v, dtype="<f4", order="C"))
            assert z.read(k + ".npy") == buf.getvalue(), f"{name}: member {k} is not numpy.save's bytes"
    with np.load(path(name)) as got:
        assert list(got.keys()) == list(want), name
        for k, v in want.items():
            same_bits(got[k], v, f"{name}[{k}]")


def numpy_forms(rng):
    """Arrays of awkward values in each form numpy writes: (file name, writer, arrays)."""
    tiny, huge = np.finfo(np.float32).tiny, np.finfo(np.float32).max
    f64 = np.concatenate([rng.standard_normal(300), rng.standard_normal(50) * tiny,
                          rng.uniform(-1, 1, 50) * huge, [0.0, -0.0, np.inf, -np.inf, np.nan]])
    arrays = {
        "w": rng.standard_normal((33, 17)).astype(np.float32),
        "conv": rng.standard_normal((4, 3, 5, 5)).astype(np.float32),
        "b": rng.standard_normal(7).astype(np.float32),
        "scalar": np.float32(rng.standard_normal()),
        "empty": np.zeros((0, 3), np.float32),
        "f64": f64.reshape(5, 81),
        "be4": rng.standard_normal((6, 5)).astype(">f4"),
        "be8": rng.standard_normal((5, 6)).astype(">f8"),
        "fortran": np.asfortranarray(rng.standard_normal((3, 4, 5)).astype(np.float32)),
        "fortran64be": np.asfortranarray(rng.standard_normal((7, 2, 3)).astype(">f8")),
        "big": rng.standard_normal((300, 100)).astype(np.float32),
    }

    def zip64(fn):
        def write(f, **kw):
            limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
            zipfile.ZIP64_LIMIT = zipfile.ZIP_FILECOUNT_LIMIT = 0
            try:
                fn(f, **kw)
            finally:
                zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits
        return write

    def unseekable(fn):
        def write(f, **kw):
            with open(f, "wb") as raw:
                fn(Unseekable(raw), **kw)
        return write

    def npy_version(version):
        def write(f, **kw):
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as z:
                for k, v in kw.items():
                    buf = io.BytesIO()
                    np.lib.format.write_array(buf, v, version=version)
                    z.writestr(k + ".npy", buf.getvalue())
        return write

    return [("savez.npz", np.savez, arrays),
            ("savez_compressed.npz", np.savez_compressed, arrays),
            ("zip64.npz", zip64(np.savez), arrays),
            ("zip64_compressed.npz", zip64(np.savez_compressed), arrays),
            ("descriptors.npz", unseekable(np.savez_compressed), arrays),
            ("npy_v2.npz", npy_version((2, 0)), arrays),
            ("npy_v3.npz", npy_version((3, 0)), arrays)]


def test_numpy_files():
    rng = np.random.default_rng(7)
    for name, write, arrays in numpy_forms(rng):
        write(path(name), **arrays)
        with np.errstate(over="ignore", invalid="ignore"):
            want = {k: np.array(v, dtype=np.float32, order="C") for k, v in arrays.items()}
        tool("copy", path(name), path("nnf_" + name))
        check_nnf_file("nnf_" + name, want)
        tool("copy64", path(name), path("nnf64_" + name))
        with zipfile.ZipFile(path("nnf64_" + name)) as z:
            assert all(i.file_size >= 0 and len(i.extra) >= 4 for i in z.infolist()), name
        with np.load(path("nnf64_" + name)) as got:
            for k, v in want.items():
                same_bits(got[k], v, f"nnf64_{name}[{k}]")
    # a float64 beyond float32's range is refused, naming the member
    np.savez(path("overflow.npz"), ok=np.ones(2), bad=np.array([1.0, 4e38]))
    err = tool("copy", path("overflow.npz"), path("x.npz"), fail=True)
    assert "member 'bad.npy': its float64 element [1] = 4e+38 is beyond float32's range" in err, err


ARCHS = {
    "mlp": ("lin:20:32,relu,lin:32:10", (64, 20), [20, 32]),
    "cnn": ("conv:2:6:3:1:1,relu,conv:6:8:3:2:1,relu,flatten,lin:200:5", (16, 2, 10, 10),
            [2 * 9, 6 * 9, 200]),
}


def torch_model(spec):
    layers = []
    for tok in spec.split(","):
        kind, *a = tok.split(":")
        a = list(map(int, a))
        layers.append({"lin": lambda: torch.nn.Linear(a[0], a[1]),
                       "conv": lambda: torch.nn.Conv2d(a[0], a[1], a[2], stride=a[3], padding=a[4]),
                       "relu": torch.nn.ReLU, "flatten": torch.nn.Flatten}[kind]())
    return torch.nn.Sequential(*layers)


def compare_predictions(model, spec, weights, x, fan_ins, what):
    np.savez(path("x.npz"), x=x)
    tool("predict", spec, weights, path("x.npz"), path("y.npz"))
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    got = np.load(path("y.npz"))["y"]
    tol = tolerance(model, x, fan_ins)
    worst = np.max(np.abs(got - want) / tol)
    assert worst <= 1, f"{what}: nnf and PyTorch differ by {worst:.3g} of the bound"
    print(f"{what}: largest difference {worst:.2g} of the bound")


def test_nnf_to_torch():
    rng = np.random.default_rng(8)
    for name, (spec, xshape, fan_ins) in ARCHS.items():
        out = tool("save", spec, 5, path(name + ".npz"))
        model = torch_model(spec)
        keys = list(model.state_dict())
        held = {keys[int(line.split()[0])]: np.array([int(h, 16) for h in line.split()[1:]],
                                                      np.uint32).view(np.float32)
                for line in out.splitlines()}
        assert list(held) == keys, (held.keys(), keys)
        with np.load(path(name + ".npz")) as z:
            assert list(z.keys()) == keys, (list(z.keys()), keys)
            for k in keys:
                same_bits(z[k].ravel(), held[k], f"{name}.npz[{k}]")
            sd = {k: torch.from_numpy(v) for k, v in z.items()}
        model.load_state_dict(sd, strict=True)
        compare_predictions(model, spec, path(name + ".npz"),
                            rng.standard_normal(xshape).astype(np.float32), fan_ins,
                            f"nnf's {name} in PyTorch")


def test_torch_to_nnf():
    rng = np.random.default_rng(9)
    torch.manual_seed(9)
    for name, (spec, xshape, fan_ins) in ARCHS.items():
        model = torch_model(spec)
        sd = {k: v.numpy() for k, v in model.state_dict().items()}
        x = rng.standard_normal(xshape).astype(np.float32)
        for save in (np.savez, np.savez_compressed):
            save(path("torch.npz"), **sd)
            compare_predictions(model, spec, path("torch.npz"), x, fan_ins,
                                f"PyTorch's {name} via {save.__name__}")
        # strict like load_state_dict: an extra key, a missing one, a wrong shape
        np.savez(path("extra.npz"), **sd, **{"9.weight": np.ones(3, np.float32)})
        err = tool("predict", spec, path("extra.npz"), path("x.npz"), path("y.npz"), fail=True)
        assert 'Unexpected key(s) in state_dict: "9.weight".' in err, err
        first = next(iter(sd))
        np.savez(path("missing.npz"), **{k: v for k, v in sd.items() if k != first})
        err = tool("predict", spec, path("missing.npz"), path("x.npz"), path("y.npz"), fail=True)
        assert f'Missing key(s) in state_dict: "{first}".' in err, err
        np.savez(path("shape.npz"), **{**sd, first: sd[first][:1]})
        err = tool("predict", spec, path("shape.npz"), path("x.npz"), path("y.npz"), fail=True)
        assert f"size mismatch for {first}: copying a param with shape" in err, err


test_numpy_files()
test_nnf_to_torch()
test_torch_to_nnf()
print(f"{checks} arrays bit-identical; all interop checks passed")

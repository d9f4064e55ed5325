#!/usr/bin/python3
"""Writes the .npz files tests/test_npz.c reads (tests/npz/), with numpy and PyTorch.

    /usr/bin/python3 scripts/npz_fixtures.py tests/npz
    /usr/bin/python3 scripts/npz_fixtures.py --fuzz-corpus fuzz/corpus/npz

Every array of a plain fixture holds value(i, salt) at flat C-order index i, which the C
test computes the same way (one correctly rounded division, then a cast to float32), so
a read is checked against the formula, not against another read. The files cover what
numpy.savez and numpy.savez_compressed write and what a reader meets in the wild:
stored and deflated members, Fortran order, float64, big-endian, zip64 fields in every
place (numpy forced by lowering zipfile's limits), data descriptors (a stream numpy cannot
seek back in), .npy format 2.0 and 3.0 headers. The torch_* files are PyTorch models'
state_dicts saved through numpy, their inputs, PyTorch's outputs and a tolerance."""
import io
import os
import sys
import zipfile

import numpy as np
import torch


def value(shape, salt):
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    return ((((i + salt) * 7919) % 1000 - 500) / 37.0).reshape(shape)


def plain_arrays(dtype, big=False):
    arrays = {
        "a": value((2, 3), 1).astype(dtype),
        "b": value((3,), 2).astype(dtype),
        "s": value((), 3).astype(dtype),
        "e": value((0, 4), 4).astype(dtype),
    }
    if big:   # 5000 elements, more than one 16 KiB chunk of the reader
        arrays["big"] = value((100, 50), 5).astype(dtype)
    return arrays


def specials():
    """float64 values whose rounding to float32 matters, and numpy's float32 for them."""
    f32max = float(np.finfo(np.float32).max)
    vals = np.array([
        0.0, -0.0, 1.0, 1.0 / 3.0, -2.5e-3,
        1.0 + 2.0 ** -24,                     # a tie: rounds to even (1.0)
        1.0 + 3 * 2.0 ** -24,                 # a tie: rounds to even (1 + 2^-22)
        1.0 + 2.0 ** -24 + 2.0 ** -40,        # just above the tie: rounds up
        f32max,                               # exact
        f32max * (1 + 2.0 ** -25),            # below FLT_MAX + half an ulp: FLT_MAX
        -f32max * (1 + 2.0 ** -25),
        1e-39, -1e-39,                        # float32 subnormals
        1e-46, -1e-46,                        # below half the smallest subnormal: +-0
        float("inf"), float("-inf"),
        np.frombuffer(np.uint64(0x7ff8000000000000).tobytes(), np.float64)[0],   # quiet NaN
        np.frombuffer(np.uint64(0xfff4000000000123).tobytes(), np.float64)[0],   # -sNaN, payload
        np.frombuffer(np.uint64(0x7ff0000020000000).tobytes(), np.float64)[0],   # sNaN, payload in the top 23 bits
    ], dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return vals, vals.astype(np.float32)


def f32_specials():
    """float32 bit patterns a reader must keep: NaN payloads, -0, subnormals, inf."""
    bits = np.array([0x7fc00000, 0xffc00001, 0x7f800001, 0x7fbfffff, 0x80000000, 0x00000001,
                     0x807fffff, 0x7f800000, 0xff800000, 0x7f7fffff], dtype=np.uint32)
    return bits.view(np.float32)


class Unseekable(io.RawIOBase):
    """A write-only stream without tell/seek: zipfile then writes data descriptors."""

    def __init__(self, f):
        self.f = f

    def writable(self):
        return True

    def write(self, b):
        return self.f.write(b)


def zip_with_npy_version(path, arrays, version):
    with zipfile.ZipFile(path, "w") as z:
        for k, v in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, v, version=version)
            z.writestr(zipfile.ZipInfo(k + ".npy"), buf.getvalue())   # dated 1980: reproducible


def tolerance(model, x, fan_ins):
    """Per output, a bound on |nnf - torch| that holds for any summation order.

    Each output of a layer is a sum of K = fan_in + 1 terms (products and the bias); in
    float32 any order of that sum is within gamma_K = K u / (1 - K u) (u = 2^-24) of the
    exact value, relative to the sum of the terms' magnitudes (Higham, Accuracy and
    Stability, 3.1). Through the layers the errors add up, each scaled by no more than the
    magnitudes that follow, so to first order both results lie within sum_l gamma_Kl * M
    of the exact one, where M is the same net run in float64 on |x| with |weights| (ReLU
    is 1-Lipschitz). The two may differ by twice that; 1.01 covers the second-order
    terms."""
    u = 2.0 ** -24
    gamma = sum(k * u / (1 - k * u) for k in (f + 1 for f in fan_ins))
    absnet = [m for m in model]
    with torch.no_grad():
        h = torch.from_numpy(np.abs(x).astype(np.float64))
        for m in absnet:
            if isinstance(m, torch.nn.Linear):
                h = h @ m.weight.double().abs().t() + m.bias.double().abs()
            elif isinstance(m, torch.nn.Conv2d):
                h = torch.nn.functional.conv2d(h, m.weight.double().abs(), m.bias.double().abs(),
                                               m.stride, m.padding)
            elif isinstance(m, torch.nn.Flatten):
                h = h.flatten(1)
        return (2.02 * gamma * h).numpy().astype(np.float32) + np.float32(1e-30)


def torch_fixture(out, name, model, x, fan_ins, compressed):
    with torch.no_grad():
        y = model(torch.from_numpy(x)).numpy()
    sd = {k: v.numpy() for k, v in model.state_dict().items()}
    (np.savez_compressed if compressed else np.savez)(os.path.join(out, name + ".npz"), **sd)
    np.savez(os.path.join(out, name + "_io.npz"), x=x, y=y, tol=tolerance(model, x, fan_ins))


def main(out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    np.savez(p("savez_f32.npz"), **plain_arrays(np.float32, big=True), f32_specials=f32_specials())
    np.savez_compressed(p("savez_compressed.npz"), **plain_arrays(np.float32, big=True))
    np.savez(p("savez_f64.npz"), **plain_arrays(np.float64))
    np.savez(p("savez_be.npz"), **{k + "_f4": v.astype(">f4") for k, v in plain_arrays(np.float32).items()},
             **{k + "_f8": v.astype(">f8") for k, v in plain_arrays(np.float64).items()})
    fortran = {"f32": np.asfortranarray(value((3, 4, 5), 6).astype(np.float32)),
               "f64be": np.asfortranarray(value((4, 7), 7).astype(">f8")),
               "vec": np.asfortranarray(value((6,), 8).astype(np.float32)),
               "big": np.asfortranarray(value((100, 50), 5).astype(np.float64))}
    assert fortran["f32"].flags.f_contiguous and not fortran["f32"].flags.c_contiguous
    np.savez_compressed(p("fortran.npz"), **fortran)
    sp, sp32 = specials()
    np.savez(p("specials.npz"), f64=sp, expected=sp32)
    with np.errstate(over="ignore"):
        np.savez(p("f64_overflow.npz"), ok=np.ones(3), bad=np.array([[1.0, 2.0], [3.0, -1e39]]))
    np.savez(p("int64.npz"), labels=np.arange(4, dtype=np.int64))

    limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT = zipfile.ZIP_FILECOUNT_LIMIT = 0   # zip64 fields wherever numpy can put them
    try:
        np.savez(p("zip64.npz"), **plain_arrays(np.float32))
        np.savez_compressed(p("zip64_compressed.npz"), **plain_arrays(np.float32, big=True))
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits
    with open(p("descriptors.npz"), "wb") as f:
        np.savez_compressed(Unseekable(f), **plain_arrays(np.float32, big=True))
    zip_with_npy_version(p("npy_v2.npz"), plain_arrays(np.float32), (2, 0))
    zip_with_npy_version(p("npy_v3.npz"), plain_arrays(np.float64), (3, 0))

    torch.manual_seed(0)
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    torch_fixture(out, "torch_mlp", mlp, np.random.default_rng(1).standard_normal((5, 8), np.float32),
                  [8, 16], compressed=False)
    # the same weights as float64 (exact), and with one of them beyond float32's range
    sd64 = {k: v.double().numpy() for k, v in mlp.state_dict().items()}
    np.savez(p("torch_mlp_f64.npz"), **sd64)
    sd64["2.bias"][3] = 1e39
    np.savez(p("torch_mlp_f64_overflow.npz"), **sd64)
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.Conv2d(4, 8, 3, stride=2, padding=1), torch.nn.ReLU(),
                              torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 3))
    torch_fixture(out, "torch_cnn", cnn,
                  np.random.default_rng(2).standard_normal((5, 1, 8, 8), np.float32),
                  [1 * 9, 4 * 9, 128], compressed=True)

    for name in sorted(os.listdir(out)):
        with zipfile.ZipFile(p(name)) as z:
            assert z.testzip() is None, name


def fuzz_corpus(out):
    """Seeds for fuzz/fuzz_npz.c: the state_dict of its model (Lin(2, 3), ReLU, Lin(3, 1))
    in each form numpy writes, and a few archives of other arrays."""
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    sd = {"0.weight": value((3, 2), 1).astype(np.float32), "0.bias": value((3,), 2).astype(np.float32),
          "2.weight": value((1, 3), 3).astype(np.float32), "2.bias": value((1,), 4).astype(np.float32)}
    np.savez(p("model_savez"), **sd)
    np.savez_compressed(p("model_compressed"), **sd)
    np.savez(p("model_mixed"), **{"0.weight": np.asfortranarray(sd["0.weight"].astype(">f8")),
                                  "0.bias": sd["0.bias"].astype(np.float64),
                                  "2.weight": sd["2.weight"].astype(">f4"), "2.bias": sd["2.bias"]})
    limits = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT = zipfile.ZIP_FILECOUNT_LIMIT = 0
    try:
        np.savez_compressed(p("model_zip64"), **sd)
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = limits
    with open(p("model_descriptors"), "wb") as f:
        np.savez_compressed(Unseekable(f), **sd)
    zip_with_npy_version(p("model_npy_v2"), sd, (2, 0))
    np.savez(p("arrays"), **plain_arrays(np.float32))
    np.savez_compressed(p("arrays_fortran"), a=np.asfortranarray(value((2, 3, 4), 5)),
                        s=np.float32(1.5), e=np.zeros((0, 2), np.float32))
    np.savez(p("empty"))
    for name in os.listdir(out):   # numpy added .npz to the names
        if name.endswith(".npz"):
            os.rename(p(name), p(name[:-4]))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--fuzz-corpus":
        fuzz_corpus(sys.argv[2])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "tests/npz")

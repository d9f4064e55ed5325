#!/usr/bin/python3
"""An independent reimplementation of nnf's random stream (src/tensor/rng.c), used to
compute the known first values that tests/test_tensor_rng.c checks.

xoshiro128** seeded by two splitmix64 outputs (low word first); uniform = top 24 bits
/ 2^24; normal = Box-Muller in double from u1 = 1 - uniform, u2 = uniform, cosine half
first. Run: /usr/bin/python3 scripts/rng_reference.py
"""
import math
import struct

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


class Xoshiro128ss:
    def __init__(self, seed):
        x, a = splitmix64(seed)
        x, b = splitmix64(x)
        self.s = [a & M32, a >> 32, b & M32, b >> 32]

    @staticmethod
    def rotl(x, k):
        return ((x << k) | (x >> (32 - k))) & M32

    def next(self):
        s = self.s
        result = (self.rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self.rotl(s[3], 11)
        return result

    def uniform(self):
        return (self.next() >> 8) / 2.0**24


def f32(x):
    return struct.unpack('f', struct.pack('f', x))[0]


def randn(rng, n):
    out = []
    while len(out) < n:
        u1 = 1.0 - rng.uniform()
        u2 = rng.uniform()
        r = math.sqrt(-2.0 * math.log(u1))
        out.append(f32(r * math.cos(2 * math.pi * u2)))
        out.append(f32(r * math.sin(2 * math.pi * u2)))
    return out[:n]


if __name__ == '__main__':
    for seed in (0, 42):
        rng = Xoshiro128ss(seed)
        print(f'seed {seed} raw:', ', '.join(f'0x{rng.next():08x}u' for _ in range(4)))
        rng = Xoshiro128ss(seed)
        print(f'seed {seed} rand:', ', '.join(f'{rng.uniform().hex()}' for _ in range(5)))
        rng = Xoshiro128ss(seed)
        print(f'seed {seed} randn:', ', '.join(f'{float(v).hex()}' for v in randn(rng, 5)))

"""The seeded noise source shared with the TypeScript runtime (CONTRACT.md):
mulberry32 uniforms and Box–Muller normals, so a seed gives the same noise on both sides."""
from __future__ import annotations

import math

import numpy as np

M32 = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    return (a * b) & M32


class Mulberry32:
    def __init__(self, seed: int):
        self.a = seed & M32

    def next_u32(self) -> int:
        self.a = (self.a + 0x6D2B79F5) & M32
        a = self.a
        t = _imul(a ^ (a >> 15), a | 1)
        t = ((t + _imul(t ^ (t >> 7), t | 61)) & M32) ^ t
        return (t ^ (t >> 14)) & M32

    def uniform(self) -> float:
        return (self.next_u32() + 0.5) / 4294967296.0

    def normal(self, shape) -> np.ndarray:
        n = int(np.prod(shape))
        out = np.empty(n, dtype=np.float64)
        i = 0
        while i < n:
            u1, u2 = self.uniform(), self.uniform()
            r = math.sqrt(-2.0 * math.log(u1))
            out[i] = r * math.cos(2.0 * math.pi * u2)
            if i + 1 < n:
                out[i + 1] = r * math.sin(2.0 * math.pi * u2)
            i += 2
        return out.astype(np.float32).reshape(shape)

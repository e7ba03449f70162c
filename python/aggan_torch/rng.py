"""aggan's random streams, draw for draw: SplitMix64 (Sources/Basics/SplitMix64.swift),
its Fisher-Yates shuffle and the unpaired sampler (Sources/Imaging/Dataset.swift)."""
from __future__ import annotations

import json

MASK = (1 << 64) - 1


class SplitMix64:
    """The whole state is one unsigned 64-bit integer (saved in checkpoints as text)."""

    def __init__(self, seed: int):
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def next_double(self) -> float:
        """Uniform in [0, 1) with 53 random bits."""
        return (self.next() >> 11) * 2.0 ** -53

    def next_int(self, n: int) -> int:
        """An integer in 0..<n: the high half of n * next() (Lemire's multiply-shift)."""
        if n <= 0:
            raise ValueError("next_int needs n > 0")
        return (n * self.next()) >> 64


def shuffled(items: list, rng: SplitMix64) -> list:
    out = list(items)
    for i in range(len(out) - 1, 0, -1):
        j = rng.next_int(i + 1)
        out[i], out[j] = out[j], out[i]
    return out


class UnpairedSampler:
    """An A index and an independent B index per draw, each domain walking through its own
    seeded permutation and reshuffling when used up; its state is aggan's `data.sampler`."""

    def __init__(self, state: dict):
        self.count_a = int(state["countA"])
        self.count_b = int(state["countB"])
        self.step = int(state["step"])
        self.rng = SplitMix64(int(state["rngState"]))
        self.order_a = [int(i) for i in state["orderA"]]
        self.order_b = [int(i) for i in state["orderB"]]
        self.cursor_a = int(state["cursorA"])
        self.cursor_b = int(state["cursorB"])
        if (self.count_a <= 0 or self.count_b <= 0 or self.step < 0
                or sorted(self.order_a) != list(range(self.count_a))
                or sorted(self.order_b) != list(range(self.count_b))
                or not 0 <= self.cursor_a <= self.count_a or not 0 <= self.cursor_b <= self.count_b):
            raise ValueError("inconsistent unpaired sampler state")

    @classmethod
    def from_json(cls, text: str) -> "UnpairedSampler":
        return cls(json.loads(text))

    def next(self) -> tuple[int, int]:
        if self.cursor_a == self.count_a:
            self.order_a = shuffled(self.order_a, self.rng)
            self.cursor_a = 0
        if self.cursor_b == self.count_b:
            self.order_b = shuffled(self.order_b, self.rng)
            self.cursor_b = 0
        pair = (self.order_a[self.cursor_a], self.order_b[self.cursor_b])
        self.cursor_a += 1
        self.cursor_b += 1
        self.step += 1
        return pair

    def to_json(self) -> str:
        """aggan's encoding (sorted keys, no spaces), which `aggan train --resume` reads."""
        return json.dumps({"countA": self.count_a, "countB": self.count_b, "cursorA": self.cursor_a,
                           "cursorB": self.cursor_b, "orderA": self.order_a, "orderB": self.order_b,
                           "rngState": self.rng.state, "step": self.step}, sort_keys=True, separators=(",", ":"))

"""Synthesise the bundled example clip: 8 bars of two-step drum & bass at 174 BPM.

Everything is made here from sine waves and seeded noise (no samples, no
downloads), so the clip is ours to ship and can be rebuilt bit for bit:

    python examples/make_example_clip.py examples/audio/two_step_174.flac
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 44_100
BPM = 174.0


def kick(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.35 * SR)) / SR
    freq = 45 + 110 * np.exp(-t * 30)
    return np.sin(2 * np.pi * np.cumsum(freq) / SR) * np.exp(-t * 9)


def snare(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.25 * SR)) / SR
    body = np.sin(2 * np.pi * 190 * t) * np.exp(-t * 25)
    return 0.6 * body + 0.7 * rng.standard_normal(len(t)) * np.exp(-t * 18)


def hihat(rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.06 * SR)) / SR
    noise = np.diff(rng.standard_normal(len(t) + 1))  # crude high-pass
    return 0.25 * noise * np.exp(-t * 70)


def render(bars: int = 8, seed: int = 174) -> np.ndarray:
    rng = np.random.default_rng(seed)
    step = 60.0 / BPM / 4  # a 16th note
    out = np.zeros(int((bars * 16 * step + 1.0) * SR))
    pattern = {"kick": [0, 10], "snare": [4, 12], "hihat": list(range(0, 16, 2))}
    makers = {"kick": kick, "snare": snare, "hihat": hihat}
    for bar in range(bars):
        for name, steps in pattern.items():
            for s in steps:
                hit = makers[name](rng) * rng.uniform(0.7, 1.0)
                at = round((bar * 16 + s) * step * SR)
                out[at:at + len(hit)] += hit
    t = np.arange(len(out)) / SR  # a rolling sub-bass under it
    roots = np.repeat([55.0, 55.0, 65.4, 49.0], int(np.ceil(len(out) / 4)))[: len(out)]
    out += 0.25 * np.sin(2 * np.pi * np.cumsum(roots) / SR) * (0.6 + 0.4 * np.sin(t * 3))
    return (0.8 * out / np.abs(out).max()).astype(np.float32)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "examples/audio/two_step_174.flac")
    target.parent.mkdir(parents=True, exist_ok=True)
    sf.write(target, render(), SR)
    print(target)

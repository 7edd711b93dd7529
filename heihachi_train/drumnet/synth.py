"""Synthesised drum one-shots, for training only: electronic kits beyond the 11 real ones.

Electronic music is played on drum machines and synthesised kits (the TR-808 and its
descendants), and the Hydrogen kits hold few of those.  Each voice here is the textbook
analogue recipe, with every parameter drawn at random so that no two clips share a kit:

- kick: a sine whose pitch falls exponentially (e.g. 160 -> 50 Hz) with an amplitude
  decay, a short click, optional drive;
- snare: one or two decaying body tones (150-320 Hz) plus band-passed noise (the wires);
- hihat: six inharmonic square oscillators and noise, high-passed, short (closed) or
  longer (open) decay;
- tom: a pitched sine (80-400 Hz) with a small downward glide and a longer tonal body;
- cymbal: the hi-hat's metallic cluster, band-passed lower and broader, decaying 0.4-2.5 s.

The training renders (``render.render_clip(..., synth_p=...)``) replace a class's
instruments with synthesised ones with probability ``synth_p``; validation renders
never use them, so the held-out figures remain on real recorded kits.
"""

from __future__ import annotations

import numpy as np

SR = 24_000


def _env(n: int, decay_s: float, attack_s: float = 0.001) -> np.ndarray:
    t = np.arange(n) / SR
    env = np.exp(-t / decay_s)
    a = max(1, int(attack_s * SR))
    env[:a] *= np.linspace(0.0, 1.0, a)
    return env


def _band(x: np.ndarray, lo: float, hi: float, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    hi = min(hi, SR * 0.45)
    lo = min(lo, hi * 0.8)
    return sosfilt(butter(order, [lo, hi], "band", fs=SR, output="sos"), x)


def _high(x: np.ndarray, fc: float, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(order, min(fc, SR * 0.45), "high", fs=SR, output="sos"), x)


def _sweep_sine(n: int, f_start: float, f_end: float, sweep_s: float,
                rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / SR
    freq = f_end + (f_start - f_end) * np.exp(-t / sweep_s)
    return np.sin(2 * np.pi * np.cumsum(freq) / SR + rng.uniform(0, 0.5))


def _metal(n: int, base: float, rng: np.random.Generator) -> np.ndarray:
    """Six detuned square waves at inharmonic ratios (the 808 cymbal/hat oscillator bank)."""
    ratios = np.array([1.0, 1.4836, 1.8003, 2.5464, 2.6304, 3.8971])
    ratios = ratios * rng.uniform(0.94, 1.06, size=6)
    t = np.arange(n) / SR
    x = np.zeros(n)
    for r in ratios:
        x += np.sign(np.sin(2 * np.pi * base * r * t + rng.uniform(0, 2 * np.pi)))
    return x / 6.0


def kick(rng: np.random.Generator) -> np.ndarray:
    decay = float(np.exp(rng.uniform(np.log(0.08), np.log(0.7))))
    n = int(min(2.5, 5 * decay) * SR)
    f_end = rng.uniform(38, 70)
    body = _sweep_sine(n, f_end * rng.uniform(2.0, 5.0), f_end, rng.uniform(0.01, 0.06), rng)
    x = body * _env(n, decay)
    click = _high(rng.standard_normal(n), rng.uniform(1000, 5000)) * _env(n, 0.003)
    x += click * rng.uniform(0.0, 0.5)
    if rng.random() < 0.4:
        drive = rng.uniform(1.5, 6.0)
        x = np.tanh(drive * x) / np.tanh(drive)
    return x


def snare(rng: np.random.Generator) -> np.ndarray:
    n = int(0.8 * SR)
    body = np.zeros(n)
    for _ in range(int(rng.integers(1, 3))):
        f = rng.uniform(150, 320)
        body += _sweep_sine(n, f * rng.uniform(1.0, 1.5), f, 0.01, rng)
    body *= _env(n, rng.uniform(0.03, 0.15))
    noise = _band(rng.standard_normal(n), rng.uniform(800, 3000), rng.uniform(6000, 11000))
    noise *= _env(n, rng.uniform(0.05, 0.3))
    mix = rng.uniform(0.3, 0.9)
    return (1 - mix) * body / (np.abs(body).max() + 1e-9) + mix * noise / (
        np.abs(noise).max() + 1e-9)


def hihat(rng: np.random.Generator) -> np.ndarray:
    open_hat = rng.random() < 0.3
    decay = rng.uniform(0.12, 0.5) if open_hat else rng.uniform(0.01, 0.06)
    n = int(min(2.0, 6 * decay) * SR)
    metal = _metal(n, rng.uniform(300, 560), rng)
    noise = rng.standard_normal(n)
    mix = rng.uniform(0.2, 0.9)
    x = _high(mix * metal + (1 - mix) * noise * 0.5, rng.uniform(5000, 9000), order=4)
    return x * _env(n, decay)


def tom(rng: np.random.Generator) -> np.ndarray:
    decay = rng.uniform(0.12, 0.6)
    n = int(min(2.5, 5 * decay) * SR)
    f = float(np.exp(rng.uniform(np.log(80), np.log(400))))
    x = _sweep_sine(n, f * rng.uniform(1.05, 1.6), f, rng.uniform(0.02, 0.12), rng)
    x *= _env(n, decay)
    hit = _band(rng.standard_normal(n), 500, 5000) * _env(n, 0.01)
    return x + hit * rng.uniform(0.0, 0.3)


def cymbal(rng: np.random.Generator) -> np.ndarray:
    decay = rng.uniform(0.4, 2.5)
    n = int(min(3.0, 4 * decay) * SR)
    metal = _metal(n, rng.uniform(250, 600), rng)
    noise = rng.standard_normal(n)
    mix = rng.uniform(0.2, 0.8)
    x = _band(mix * metal + (1 - mix) * noise, rng.uniform(2500, 5000), 11500, order=2)
    if rng.random() < 0.3:  # ride bell
        x += 0.4 * np.sign(np.sin(2 * np.pi * rng.uniform(600, 1200) * np.arange(n) / SR)) \
            * _env(n, decay * 0.5)
    return x * _env(n, decay, attack_s=0.0005)


VOICES = {"kick": kick, "snare": snare, "hihat": hihat, "tom": tom, "cymbal": cymbal}


def synth_one_shot(cls: str, rng: np.random.Generator) -> np.ndarray:
    """One peak-normalised float32 one-shot of class ``cls`` at :data:`SR`."""
    x = VOICES[cls](rng)
    fade = min(len(x) // 4, int(0.02 * SR))
    if fade:
        x[-fade:] *= np.linspace(1.0, 0.0, fade)
    return (x / (np.abs(x).max() + 1e-9)).astype(np.float32)

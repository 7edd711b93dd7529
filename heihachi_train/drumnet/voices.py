"""Wide-range drum synthesis for training: many recipes per class, every parameter wide.

:mod:`.synth` has one analogue recipe per class.  Unseen kits broke the model where a
class sounded unlike anything it trained on: an electronic snare called a kick, a lo-fi
kick called a tom, hats called cymbals.  This module draws each one-shot from one of
several recipes per class, over wide ranges, so that the class boundaries are learnt
from what separates the classes (pitch region, noise share, decay, spectral spread)
rather than from one kit's sound:

- kick: 808 boom (long sine sweep), 909 (sweep + click + drive), distorted/gabber,
  FM (modulation index falling with the pitch), thump (low-passed noise burst + sine);
- snare: tone + noise (808/909), hand clap (3-5 noise bursts + tail), clap layered on
  a snare, noise-only (electronic), tonal "rim" snare, gated (flat noise cut short);
- hihat: high-passed noise, ring-modulated squares, FM metal, band-passed noise,
  closed/pedal/open decays;
- tom: sine with a deep pitch dive (Simmons), 808 tom, two-partial tom with noise,
  FM tom;
- cymbal: high-passed noise crash, FM ride with bell, ring-modulated china, noise
  splash; decays 0.3-3 s.

Oscillators, noise, filters and FM only: the validation engine in
``bench/unseen/physical.py`` models drums physically (resonator banks, waveguides) and
shares no recipe with this module.  Training only (``render_clip(voices_p=...)``).
"""

from __future__ import annotations

import numpy as np

from .synth import _env as synth_env

SR = 24_000


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _env(n: int, decay: float, attack: float = 0.0005) -> np.ndarray:
    return synth_env(n, decay, attack)


def _filt(x: np.ndarray, kind: str, fc, order: int = 2) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    if isinstance(fc, tuple):
        hi = min(fc[1], SR * 0.45)
        fc = (min(fc[0], hi * 0.7), hi)
    else:
        fc = min(float(fc), SR * 0.45)
    return sosfilt(butter(order, fc, kind, fs=SR, output="sos"), x)


def _sweep(n: int, f0: float, f1: float, tau: float, rng) -> np.ndarray:
    t = np.arange(n) / SR
    f = f1 + (f0 - f1) * np.exp(-t / tau)
    return np.sin(2 * np.pi * np.cumsum(f) / SR + rng.uniform(0, 0.4))


def _fm(n: int, fc: float, ratio: float, index: float, idx_decay: float, rng) -> np.ndarray:
    t = np.arange(n) / SR
    mod = np.sin(2 * np.pi * fc * ratio * t) * index * np.exp(-t / idx_decay)
    return np.sin(2 * np.pi * fc * t + mod + rng.uniform(0, 0.3))


def _squares(n: int, base: float, rng, k: int = 6) -> np.ndarray:
    t = np.arange(n) / SR
    freqs = base * np.sort(rng.uniform(1.0, 4.5, size=k))
    return sum(np.sign(np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3))) for f in freqs) / k


# ---------------------------------------------------------------- kick
def kick(rng: np.random.Generator) -> np.ndarray:
    kind = int(rng.integers(5))
    decay = _log_uniform(rng, 0.05, 1.2 if kind == 0 else 0.5)
    n = int(min(2.5, 5 * decay + 0.05) * SR)
    f_end = rng.uniform(32, 95)
    if kind == 3:  # FM
        x = _fm(n, f_end, rng.uniform(0.5, 2.5), rng.uniform(1, 8), rng.uniform(0.005, 0.05),
                rng) * _env(n, decay)
    elif kind == 4:  # thump: low-passed noise burst under a short sine
        x = _filt(rng.standard_normal(n), "low", rng.uniform(150, 600), 4) * _env(n, 0.03)
        x = x / (np.abs(x).max() + 1e-9) + _sweep(n, f_end * 2, f_end, 0.02, rng) * _env(n, decay)
    else:
        x = _sweep(n, f_end * rng.uniform(1.5, 8.0), f_end, rng.uniform(0.005, 0.08), rng)
        x *= _env(n, decay)
    if kind in (1, 2) or rng.random() < 0.4:  # click / beater
        click = _filt(rng.standard_normal(n), "band", (rng.uniform(800, 3000),
                                                        rng.uniform(4000, 11000)))
        x = x + click * _env(n, rng.uniform(0.001, 0.008)) * rng.uniform(0.1, 0.8)
    if kind == 2 or rng.random() < 0.25:
        d = _log_uniform(rng, 2, 30)
        x = np.tanh(d * x / (np.abs(x).max() + 1e-9))
    return x


# ---------------------------------------------------------------- snare
def _clap(n: int, rng) -> np.ndarray:
    x = np.zeros(n)
    noise = _filt(rng.standard_normal(n), "band", (rng.uniform(600, 1500),
                                                    rng.uniform(2000, 6000)))
    gap = int(rng.uniform(0.006, 0.015) * SR)
    bursts = int(rng.integers(3, 6))
    for b in range(bursts):
        s = b * gap
        m = n - s
        x[s:] += noise[:m] * _env(m, rng.uniform(0.003, 0.01)) * rng.uniform(0.6, 1.0)
    s = (bursts - 1) * gap
    x[s:] += noise[: n - s] * _env(n - s, rng.uniform(0.05, 0.3)) * rng.uniform(0.3, 0.8)
    return x


def snare(rng: np.random.Generator) -> np.ndarray:
    kind = int(rng.integers(6))
    n = int(0.9 * SR)
    f = rng.uniform(140, 420)
    body = _sweep(n, f * rng.uniform(1.0, 2.0), f, rng.uniform(0.005, 0.03), rng)
    if rng.random() < 0.5:
        body += 0.6 * _sweep(n, f * 1.6, f * rng.uniform(1.4, 1.9), 0.01, rng)
    body *= _env(n, rng.uniform(0.02, 0.18))
    noise = _filt(rng.standard_normal(n), "band", (rng.uniform(500, 3500),
                                                    rng.uniform(5000, 11500)))
    noise *= _env(n, _log_uniform(rng, 0.04, 0.35))
    nb = body / (np.abs(body).max() + 1e-9)
    nn = noise / (np.abs(noise).max() + 1e-9)
    if kind == 0:  # tone + noise, wide balance
        m = rng.uniform(0.2, 0.95)
        x = (1 - m) * nb + m * nn
    elif kind == 1:  # clap
        x = _clap(n, rng)
    elif kind == 2:  # clap on a snare
        c = _clap(n, rng)
        x = 0.5 * nb + nn + rng.uniform(0.5, 1.5) * c / (np.abs(c).max() + 1e-9)
    elif kind == 3:  # noise only (electronic snare), sometimes high-passed hard
        x = _filt(rng.standard_normal(n), "high", rng.uniform(300, 2500)) \
            * _env(n, _log_uniform(rng, 0.03, 0.25))
    elif kind == 4:  # tonal, rim-like
        x = _sweep(n, rng.uniform(400, 1100), rng.uniform(350, 900), 0.005, rng) \
            * _env(n, rng.uniform(0.01, 0.05)) + 0.4 * nn * _env(n, 0.03)
    else:  # gated: flat noise cut after 80-250 ms
        g = int(rng.uniform(0.08, 0.25) * SR)
        flat = _filt(rng.standard_normal(n), "band", (rng.uniform(400, 2000), 9000.0))
        x = 0.3 * nb + flat / (np.abs(flat).max() + 1e-9) * _env(n, 0.6)
        x[g:] *= np.exp(-np.arange(n - g) / (0.005 * SR))
    return x


# ---------------------------------------------------------------- hi-hat
def hihat(rng: np.random.Generator) -> np.ndarray:
    kind = int(rng.integers(4))
    r = rng.random()
    decay = (_log_uniform(rng, 0.12, 0.7) if r < 0.25 else      # open
             _log_uniform(rng, 0.004, 0.015) if r < 0.4 else    # pedal / tick
             _log_uniform(rng, 0.012, 0.08))                    # closed
    n = int(min(2.0, 6 * decay + 0.02) * SR)
    if kind == 0:
        x = rng.standard_normal(n)
    elif kind == 1:
        x = _squares(n, rng.uniform(250, 800), rng) * _squares(n, rng.uniform(900, 2500), rng)
    elif kind == 2:
        x = _fm(n, rng.uniform(3000, 8000), rng.uniform(1.1, 3.7), rng.uniform(2, 12), 1.0, rng)
        x = x + 0.3 * rng.standard_normal(n)
    else:
        fc = rng.uniform(6000, 10000)
        x = _filt(rng.standard_normal(n), "band", (fc * 0.7, fc * 1.3))
    x = _filt(x, "high", rng.uniform(3500, 10000), int(rng.choice([2, 4])))
    return x * _env(n, decay)


# ---------------------------------------------------------------- tom
def tom(rng: np.random.Generator) -> np.ndarray:
    kind = int(rng.integers(4))
    decay = _log_uniform(rng, 0.08, 0.9)
    n = int(min(2.5, 5 * decay + 0.05) * SR)
    f = _log_uniform(rng, 65, 450)
    if kind == 0:  # Simmons-style dive
        x = _sweep(n, f * rng.uniform(1.8, 4.0), f, rng.uniform(0.03, 0.2), rng)
        x = x + 0.3 * _filt(rng.standard_normal(n), "band", (300, 3000)) * _env(n, 0.05)
    elif kind == 1:  # 808 tom
        x = _sweep(n, f * rng.uniform(1.05, 1.3), f, 0.05, rng)
    elif kind == 2:  # two partials + stick noise
        x = _sweep(n, f * 1.2, f, 0.04, rng) + rng.uniform(0.2, 0.6) * _sweep(
            n, f * 1.9, f * rng.uniform(1.5, 2.3), 0.03, rng) * _env(n, decay * 0.5)
        x = x + rng.uniform(0.1, 0.5) * _filt(rng.standard_normal(n), "band",
                                              (800, 6000)) * _env(n, 0.008)
    else:  # FM
        x = _fm(n, f, rng.uniform(0.5, 2.0), rng.uniform(0.5, 4), rng.uniform(0.01, 0.1), rng)
    return x * _env(n, decay)


# ---------------------------------------------------------------- cymbal
def cymbal(rng: np.random.Generator) -> np.ndarray:
    kind = int(rng.integers(4))
    decay = _log_uniform(rng, 0.3, 3.0)
    n = int(min(3.0, 4 * decay) * SR)
    if kind == 0:  # noise crash
        x = _filt(rng.standard_normal(n), "high", rng.uniform(1500, 6000))
    elif kind == 1:  # FM ride + bell
        x = _fm(n, rng.uniform(2500, 6000), rng.uniform(1.2, 3.3), rng.uniform(3, 10), 2.0, rng)
        x = x + 0.5 * rng.standard_normal(n) * rng.uniform(0.1, 0.6)
        x = x + rng.uniform(0, 0.6) * np.sin(2 * np.pi * rng.uniform(500, 1500)
                                             * np.arange(n) / SR) * _env(n, decay * 0.3)
        x = _filt(x, "high", rng.uniform(400, 2000))
    elif kind == 2:  # china: ring-modulated squares, saturated
        x = np.tanh(3 * _squares(n, rng.uniform(200, 500), rng, 8)
                    * rng.standard_normal(n))
        x = _filt(x, "high", rng.uniform(800, 3000))
    else:  # splash: short, bright
        decay = _log_uniform(rng, 0.2, 0.7)
        x = _filt(rng.standard_normal(n), "band", (rng.uniform(3000, 6000), 11500))
    att = rng.uniform(0.0003, 0.01)
    return x * _env(n, decay, att)


VOICES = {"kick": kick, "snare": snare, "hihat": hihat, "tom": tom, "cymbal": cymbal}


def voice_one_shot(cls: str, rng: np.random.Generator) -> np.ndarray:
    """One peak-normalised float32 one-shot of class ``cls`` at :data:`SR`."""
    x = np.asarray(VOICES[cls](rng), dtype=np.float64)
    fade = min(len(x) // 4, int(0.02 * SR))
    if fade:
        x[-fade:] *= np.linspace(1.0, 0.0, fade)
    return (x / (np.abs(x).max() + 1e-9)).astype(np.float32)

"""Annotated clips of the unseen-source validation.

Clip ``i`` of a set takes its sound-source family round-robin (``i % 3``), a kit of that
family at random, and its processing condition round-robin over
:data:`.chains.PROCESSING` (``(i // 3) % 14``), so every family meets every condition.
The groove is one of the rhythm styles of ``heihachi_train/drumnet/patterns.py`` that
has a metre (two-step DnB, amen, half-time, rolls, house, breakbeat, hip hop, rock; the
random grid is left out) at its tempo range, with swing and timing jitter; only the
*sounds* are new.  One-shots are trimmed to their first sample above -60 dB and mixed
at integer sample positions, so the hit times are exact.

The bed under the drums is validation-only too (not ``mix.py``'s bass and pads): a
two-operator FM bass line, additive organ chord stabs, a formant-filtered pulse
"voice" and tape hiss, at random levels (drums sometimes buried under it).
"""

from __future__ import annotations

import math

import numpy as np

from heihachi_train.drumnet.kits import CLASSES
from heihachi_train.drumnet.patterns import STYLE_P, STYLES, TEMPO, make_pattern
from heihachi_train.drumnet.samples import MAX_SAMPLE_S, SR, pick_layer

from .chains import PROCESSING, apply
from .sources import FAMILIES, family_of, load_unseen_bank

METRE_STYLES = tuple(s for s in STYLES if s != "random")


def _fm_bass(n: int, tempo: float, rng) -> np.ndarray:
    step = 60.0 / tempo / 4
    root = 41.2 * 2 ** (rng.integers(0, 12) / 12)
    ratio, index = rng.choice([0.5, 1.0, 2.0]), rng.uniform(0.5, 4)
    out = np.zeros(n)
    t0 = 0.0
    while t0 * SR < n:
        dur = step * int(rng.choice([2, 3, 4, 6, 8]))
        a, b = int(t0 * SR), min(n, int((t0 + dur) * SR))
        if rng.random() < 0.8:
            f = root * 2 ** (int(rng.choice([0, 0, 7, 5, 12, 10, 3])) / 12)
            t = np.arange(b - a) / SR
            env = np.exp(-t / rng.uniform(0.1, 0.6))
            out[a:b] = np.sin(2 * np.pi * f * t + index * env *
                              np.sin(2 * np.pi * f * ratio * t)) * env
        t0 += dur
    return out


def _organ_stabs(n: int, tempo: float, rng) -> np.ndarray:
    beat = 60.0 / tempo
    root = 130.8 * 2 ** (rng.integers(0, 12) / 12)
    chord = root * 2 ** (np.array([0, 3 + int(rng.integers(2)), 7, 10]) / 12)
    out = np.zeros(n)
    k = 0
    while True:
        a = int((k * beat + beat * rng.choice([0.5, 0.75, 0.0])) * SR)
        if a >= n:
            break
        m = min(n - a, int(beat * rng.uniform(0.3, 1.5) * SR))
        t = np.arange(m) / SR
        tone = sum(np.sin(2 * np.pi * f * h * t) / h for f in chord for h in (1, 2, 3))
        out[a : a + m] += tone * np.minimum(1, t / 0.01) * np.exp(-t / 0.4)
        k += int(rng.integers(1, 4))
    return out


def _voice(n: int, rng) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    f0 = rng.uniform(110, 260)
    t = np.arange(n) / SR
    vib = 1 + 0.01 * np.sin(2 * np.pi * 5 * t)
    pulse = np.sign(np.sin(2 * np.pi * np.cumsum(f0 * vib) / SR)) * 0.5
    out = np.zeros(n)
    for f in rng.uniform([400, 1000, 2300], [900, 1800, 3200]):
        out += sosfilt(butter(2, [f * 0.9, f * 1.1], "band", fs=SR, output="sos"), pulse)
    gate = (np.sin(2 * np.pi * rng.uniform(0.3, 1.0) * t) > 0).astype(float)
    return out * gate


def bed(n: int, tempo: float, rng: np.random.Generator) -> np.ndarray:
    out = np.zeros(n)
    for part, p in ((_fm_bass, 0.8), (_organ_stabs, 0.5)):
        if rng.random() < p:
            x = part(n, tempo, rng)
            out += x / (np.sqrt(np.mean(x**2)) + 1e-9) * 10 ** (rng.uniform(-12, 0) / 20)
    if rng.random() < 0.3:
        x = _voice(n, rng)
        out += x / (np.sqrt(np.mean(x**2)) + 1e-9) * 10 ** (rng.uniform(-15, -3) / 20)
    out += rng.standard_normal(n) * 10 ** (rng.uniform(-60, -35) / 20)
    return out


def render_clip(i: int, seed: int, duration: float) -> tuple[np.ndarray, dict]:
    rng = np.random.default_rng([seed, i, 15])
    family = tuple(FAMILIES)[i % len(FAMILIES)]
    kit = str(rng.choice(FAMILIES[family]))
    condition = PROCESSING[(i // len(FAMILIES)) % len(PROCESSING)]
    bank = load_unseen_bank(kit)
    style = str(rng.choice(METRE_STYLES, p=STYLE_P[:-1] / STYLE_P[:-1].sum()))
    lo, hi = TEMPO[style]
    tempo = float(rng.uniform(lo, hi))
    inst = {}
    for c in CLASSES:
        src = bank[c]
        k = min(len(src), int(rng.integers(1, 3)))
        inst[c] = [src[j] for j in rng.choice(len(src), size=k, replace=False)]
    n = int(duration * SR)
    beat = 60.0 / tempo
    step, bar = beat / 4, 4 * beat
    pre = rng.uniform(0, bar)
    events = make_pattern(style, math.ceil((duration + pre) / bar) + 1, rng)
    swing = rng.uniform(0, 0.3) if rng.random() < 0.4 else 0.0
    jitter = rng.uniform(0, 0.006) if rng.random() < 0.6 else 0.0
    gain = {c: 10 ** (rng.uniform(-6, 3) / 20) for c in CLASSES}
    gain["hihat"] *= 10 ** (-3 / 20)
    gain["cymbal"] *= 10 ** (-3 / 20)
    drums = np.zeros(n + int(MAX_SAMPLE_S * SR))
    hits, taken = [], set()
    for pos, cls, vel in events:
        t = pos * step - pre + (swing * step if int(pos) % 2 == 1 else 0.0)
        t += rng.normal(0, jitter) if jitter else 0.0
        s = int(round(t * SR))  # noqa: RUF046
        if s < 0 or s >= n or (s, cls) in taken:
            continue
        taken.add((s, cls))
        v = float(np.clip(vel + rng.normal(0, 0.08), 0.05, 1.0))
        layers = inst[cls][int(rng.integers(len(inst[cls])))]
        a = pick_layer(layers, v, rng).audio
        drums[s : s + len(a)] += a * v * gain[cls]
        hits.append((s / SR, cls, v))
    drums = drums[:n]
    dr = np.sqrt(np.mean(drums**2)) + 1e-9
    b = bed(n, tempo, rng)
    b = b / (np.sqrt(np.mean(b**2)) + 1e-9) * dr * 10 ** (rng.uniform(-15, 3) / 20)
    kicks = np.array([t for t, c, _ in hits if c == "kick"])
    mix, steps = apply(condition, drums, b, kicks, rng)
    mix = mix / (np.max(np.abs(mix)) + 1e-9) * 10 ** (rng.uniform(-12, -1) / 20)
    beats = [k * beat - pre for k in range(int((duration + pre) / beat) + 1)
             if 0 <= k * beat - pre < duration]
    downbeats = [k * beat - pre for k in range(0, int((duration + pre) / beat) + 1, 4)
                 if 0 <= k * beat - pre < duration]
    hits.sort()
    return mix.astype(np.float32), {
        "hits": hits, "beats": beats, "downbeats": downbeats, "tempo": tempo,
        "style": style, "kit": kit, "family": family_of(kit), "processing": condition,
        "steps": steps}


def render_unseen_set(n_clips: int, seed: int, duration: float = 12.0):
    """``[(audio float32 at 24 kHz, annotation)]``; deterministic for a seed."""
    return [render_clip(i, seed, duration) for i in range(n_clips)]

"""Pattern generator and renderer: drum loops from real Hydrogen samples, with labels.

Every clip is a pattern of one style (two-step DnB, amen break, half-time, rolls,
house, breakbeat, hip hop, rock, random grid) at a tempo of 80-180 BPM with swing and
micro-timing, played by the trimmed one-shots of one kit (sometimes with instruments
borrowed from another kit of the same split; in training, optionally from the GM
SoundFont kits of :mod:`.soundfonts` too), mixed at integer sample positions so hit
times are exact, then mixed with a synthetic bass line, pad chords and pink noise and
augmented (EQ, filters, compression, synthetic reverb, gain).  Training renders can
also re-pitch/damp/tilt the one-shots, swap in synthesised drum-machine voices, swap
two classes' parts, or play a class through a sampler emulation (:func:`lofi_sample`);
each draws from the RNG only when asked for, so validation renders never change.

Labels per clip: ``hits`` [(time_s, class, velocity 0-1)], ``beats`` (quarter notes at the
pattern tempo: for DnB that is ~170, not half), ``downbeats`` (first beat of each 4/4
bar), ``tempo`` (BPM) and ``style``.
"""

from __future__ import annotations

import math

import numpy as np

from .kits import CLASSES, TRAIN_KITS, VALIDATION_KITS
from .mix import augment, bass_line, pad, pink_noise, reverb, rms
from .patterns import STYLE_P, STYLES, TEMPO, make_pattern, swap_roles
from .samples import (
    LEND_P,
    LOFI_BITS,
    LOFI_RATE,
    MAX_SAMPLE_S,
    SR,
    Sample,
    augment_instruments,
    lend_instruments,
    load_bank,
    lofi_instruments,
    lofi_sample,
    pick_instruments,
    pick_layer,
    synth_instruments,
    trim_onset,
    vary_sample,
)

__all__ = ["LEND_P", "LOFI_BITS", "LOFI_RATE", "MAX_SAMPLE_S", "SR", "STYLES", "STYLE_P",
           "TEMPO", "Sample", "augment", "augment_instruments", "bass_line",
           "lend_instruments", "load_bank", "lofi_instruments", "lofi_sample", "make_pattern",
           "pad", "pick_instruments", "pick_layer", "pink_noise", "render_clip", "render_set",
           "render_train_set", "render_validation_set", "reverb", "swap_roles",
           "synth_instruments", "trim_onset", "vary_sample"]


def render_clip(
    rng: np.random.Generator,
    kits: list[str] | tuple[str, ...],
    duration: float = 8.0,
    style: str | None = None,
    tempo: float | None = None,
    augment_p: float = 0.8,
    sample_aug_p: float = 0.0,
    synth_p: float = 0.0,
    role_swap_p: float = 0.0,
    lenders: tuple[str, ...] = (),
    lend_classes: tuple[str, ...] = (),
    lofi_p: float = 0.0,
    lofi_classes: tuple[str, ...] = (),
) -> tuple[np.ndarray, int, dict]:
    style = style or str(rng.choice(STYLES, p=STYLE_P / STYLE_P.sum()))
    lo, hi = TEMPO[style]
    tempo = float(tempo or rng.uniform(lo, hi))
    if style == "random" and rng.random() < 0.3:
        tempo = float(rng.uniform(80, 180))
    kit = str(rng.choice(list(kits)))
    bank = load_bank(kit)
    # instruments per class (borrow from another kit of the same split when missing/randomly)
    inst: dict[str, list[list[Sample]]] = {}
    for c in CLASSES:
        src = bank[c]
        if not src or rng.random() < 0.25:
            other = load_bank(str(rng.choice(list(kits))))[c]
            src = other or src
        if src:
            inst[c] = pick_instruments(src, rng)
    if lenders and lend_classes:  # training only, like synth_p
        inst = lend_instruments(inst, rng, lenders, lend_classes)
    if synth_p > 0:  # training only: validation renders draw nothing here
        inst = synth_instruments(inst, rng, synth_p)
    if sample_aug_p > 0:  # training only: validation renders draw nothing here
        inst = augment_instruments(inst, rng, sample_aug_p)
    if lofi_p > 0:  # training only; no draws at 0, so older recipes render as before
        inst = lofi_instruments(inst, rng, lofi_p, lofi_classes)
    n = int(duration * SR)
    beat = 60.0 / tempo
    step = beat / 4
    bar = 4 * beat
    pre = rng.uniform(0, bar)
    bars = math.ceil((duration + pre) / bar) + 1
    events = make_pattern(style, bars, rng)
    if role_swap_p > 0 and rng.random() < role_swap_p:  # training only, like synth_p
        events = swap_roles(events, rng)
    swing = rng.uniform(0, 0.3) if rng.random() < 0.4 else 0.0
    jitter = rng.uniform(0, 0.008) if rng.random() < 0.7 else 0.0
    muted = {c for c in CLASSES if rng.random() < 0.08}
    class_gain = {c: 10 ** (rng.uniform(-5, 3) / 20) for c in CLASSES}
    class_gain["hihat"] *= 10 ** (-3 / 20)
    class_gain["cymbal"] *= 10 ** (-3 / 20)
    drums = np.zeros(n + int(MAX_SAMPLE_S * SR), dtype=np.float32)
    hits = []
    for pos, cls, vel in events:
        if cls in muted or cls not in inst:
            continue
        t = pos * step - pre
        if int(pos) % 2 == 1:
            t += swing * step
        t += rng.normal(0, jitter) if jitter else 0.0
        i = int(round(t * SR))  # noqa: RUF046
        if i < 0 or i >= n:
            continue
        v = float(np.clip(vel + rng.normal(0, 0.08), 0.05, 1.0))
        layers = inst[cls][int(rng.integers(len(inst[cls])))]
        s = pick_layer(layers, v, rng)
        a = s.audio
        drums[i : i + len(a)] += a * (s.gain * v * class_gain[cls])
        hits.append((i / SR, cls, v))
    drums = drums[:n]
    if rng.random() < 0.35:
        drums = reverb(drums, rng).astype(np.float32)
    mix = drums.astype(np.float64)
    dr = rms(drums) if np.any(drums) else 0.05
    if rng.random() < 0.7:
        mix += bass_line(n, tempo, rng) * dr * 10 ** (rng.uniform(-18, 2) / 20) / 0.3
    if rng.random() < 0.5:
        p = pad(n, rng)
        mix += p / rms(p) * dr * 10 ** (rng.uniform(-25, -6) / 20)
    if rng.random() < 0.6:
        mix += pink_noise(n, rng) * dr * 10 ** (rng.uniform(-50, -20) / 20)
    if rng.random() < augment_p:
        mix = augment(mix, rng)
    peak = np.max(np.abs(mix)) + 1e-9
    mix = mix / peak * 10 ** (rng.uniform(-14, -1) / 20)
    beats = []
    downbeats = []
    k = 0
    while True:
        t = k * beat - pre
        if t >= duration:
            break
        if t >= 0:
            beats.append(t)
            if k % 4 == 0:
                downbeats.append(t)
        k += 1
    hits.sort()
    ann = {"hits": hits, "beats": beats, "downbeats": downbeats, "tempo": tempo,
           "style": style, "kit": kit}
    return mix.astype(np.float32), SR, ann


def render_set(n_clips: int, seed: int, kits, duration: float = 8.0, augment_p: float = 0.8,
               sample_aug_p: float = 0.0, synth_p: float = 0.0, role_swap_p: float = 0.0,
               lenders: tuple[str, ...] = (), lend_classes: tuple[str, ...] = (),
               lofi_p: float = 0.0, lofi_classes: tuple[str, ...] = ()):
    out = []
    for i in range(n_clips):
        rng = np.random.default_rng([seed, i])
        out.append(render_clip(rng, kits, duration=duration, augment_p=augment_p,
                               sample_aug_p=sample_aug_p, synth_p=synth_p,
                               role_swap_p=role_swap_p, lenders=lenders,
                               lend_classes=lend_classes, lofi_p=lofi_p,
                               lofi_classes=lofi_classes))
    return out


def render_validation_set(n_clips: int, seed: int = 1234, duration: float = 8.0):
    """Held-out kits only (see kits.VALIDATION_KITS); deterministic for a given seed.

    Returns [(audio float32 mono, sr, {hits: [(t, cls, vel)], beats, downbeats, tempo,
    style, kit})].
    """
    return render_set(n_clips, seed, VALIDATION_KITS, duration=duration)


def render_train_set(n_clips: int, seed: int = 0, duration: float = 8.0):
    return render_set(n_clips, seed, TRAIN_KITS, duration=duration)

"""A band on the clip's grid: bass, chords and a distorted guitar that follow the metre.

Until this option every pitched part of a training mix ignored the beat labels:
:func:`mix.bass_line` and :func:`mix.pluck_bass` step on a grid that starts at the clip's
first sample, not on the drums' beats (the drums start ``pre`` seconds into a bar), and
:func:`mix.pad` holds one chord for the whole clip.  The beat head learned that the
instruments around the drums carry no metre, and on real songs it listens to the drums
alone: where they are buried under guitars, or where the snare plays on every "and"
(a skank beat), it puts the beat on the off-beat for whole sections (issue 19).

In real music the bass and the harmony *do* follow the metre: chords change on bar
lines (sometimes on the third beat or the last "and" before a bar), the bass plays the
chord's root on the beats, and a distorted guitar chugs or holds power chords on the
same grid.  :func:`band_bed` renders such a part on the clip's own grid (``beat_s``,
``downbeat_s``), so the non-drum onsets and the harmonic changes agree with the beat and
downbeat labels.  Everything is synthesised here (oscillators, an additive pluck, a
tanh drive and a cabinet low-pass): no sample source is involved.  Deterministic for a
given RNG state; float32 mono at :data:`samples.SR`, RMS 1.
"""

from __future__ import annotations

import itertools

import numpy as np

from .mix import _lowpass, _osc, _synth_pluck
from .samples import SR

#: Semitone offsets of the roots a progression draws from (natural minor: i, III, iv, v,
#: VI, VII), the keys' home notes in Hz, and how many bars one chord lasts.
SCALE = (0, 3, 5, 7, 8, 10)
BARS_PER_CHORD = (1, 1, 2, 0.5)
#: Bass figures in 8th steps within a 4/4 bar (the bar's first beat is step 0).
BASS_FIGURES = {
    "roots": [0, 2, 4, 6],
    "eighths": list(range(8)),
    "whole": [0],
    "octaves": [0, 1, 2, 3, 4, 5, 6, 7],  # odd steps an octave up
    "push": [0, 2, 4, 7],  # the next bar's chord anticipated on the last "and"
    "halves": [0, 4],
}
#: Guitar figures, in 16th steps: held chords, 8th or 16th palm-muted chugs, a gallop.
GUITAR_FIGURES = {
    "held": [0],
    "halves": [0, 8],
    "chug8": list(range(0, 16, 2)),
    "chug16": list(range(16)),
    "gallop": [s for s in range(16) if s % 4 != 1],
    "stabs": [0, 6, 12],
}
PARTS_P = {"bass": 0.9, "chords": 0.5, "guitar": 0.6}
#: Drum RMS over band RMS, dB (negative: the drums under the band, as in dense mixes).
DRUM_TO_BAND_DB = (-12.0, 6.0)


def progression(bars: int, bpb: int, rng: np.random.Generator) -> list[tuple[float, int]]:
    """Chord changes ``[(beat, semitones above the key), ...]`` from beat 0 over ``bars``
    bars: a change every 1, 2 or half a bar; the first chord is the key's home."""
    per = float(rng.choice(BARS_PER_CHORD)) * bpb
    push = rng.random() < 0.3  # some changes anticipated by an 8th
    out: list[tuple[float, int]] = []
    beat, root = 0.0, 0
    while beat < bars * bpb:
        at = beat - 0.5 if push and beat > 0 and rng.random() < 0.5 else beat
        out.append((at, root))
        root = int(rng.choice(SCALE))
        beat += per
    return out


def _root_at(prog: list[tuple[float, int]], beat: float) -> int:
    r = prog[0][1]
    for at, root in prog:
        if at <= beat + 1e-9:
            r = root
    return r


def _env(m: int, attack_s: float, decay_s: float | None) -> np.ndarray:
    e = np.ones(m)
    a = min(m, max(1, int(attack_s * SR)))
    e[:a] = np.linspace(0, 1, a)
    if decay_s:
        e *= np.exp(-np.arange(m) / (decay_s * SR))
    return e


def _bass(
    n: int, beat_s: float, t0: float, bpb: int, prog, key_hz: float, rng: np.random.Generator
) -> np.ndarray:
    fig_name = str(rng.choice(list(BASS_FIGURES)))
    fig = BASS_FIGURES[fig_name]
    kind = str(rng.choice(["saw", "square", "sine", "pluck"]))
    step = beat_s / 2
    out = np.zeros(n)
    bar_s = bpb * beat_s
    bar = 0
    while t0 + bar * bar_s < n / SR:
        for i, s in enumerate(fig):
            if s >= 2 * bpb or rng.random() < 0.05:
                continue
            beat = bar * bpb + s / 2
            a = round((t0 + beat * beat_s) * SR)
            nxt = fig[i + 1] if i + 1 < len(fig) else 2 * bpb
            m = int(min(nxt - s, 2 * bpb) * step * SR * rng.uniform(0.7, 1.0))
            if a >= n or a + m <= 0 or m < 8:
                continue
            # a pushed figure plays the next bar's chord on its last "and"
            root = _root_at(prog, beat + (0.5 if fig_name == "push" and s == 7 else 0.0))
            f = key_hz * 2 ** (root / 12) * (2 if fig_name == "octaves" and s % 2 else 1)
            if kind == "pluck":
                note = _synth_pluck(f, m, rng.uniform(0.2, 0.8), rng)
            else:
                note = _osc(np.full(m, f), kind, rng) * _env(m, 0.004, rng.uniform(0.1, 1.0))
            lo, hi = max(0, a), min(n, a + m)
            out[lo:hi] += note[lo - a : hi - a] * (1.0 if s % 2 == 0 else 0.8)
        bar += 1
    return _lowpass(out, rng.uniform(300, 2000))


def _power_chord(f: float, m: int, rng: np.random.Generator) -> np.ndarray:
    """Root, fifth and octave of detuned saws (the raw tone the drive then distorts)."""
    x = np.zeros(m)
    for semis in (0, 7, 12):
        for det in (-0.06, 0.06):
            x += _osc(np.full(m, f * 2 ** ((semis + det) / 12)), "saw", rng)
    return x


def _guitar(
    n: int, beat_s: float, t0: float, bpb: int, prog, key_hz: float, rng: np.random.Generator
) -> np.ndarray:
    fig = GUITAR_FIGURES[str(rng.choice(list(GUITAR_FIGURES)))]
    step = beat_s / 4
    bar_s = bpb * beat_s
    out = np.zeros(n)
    bar = 0
    octave = float(rng.choice([1.0, 2.0]))
    while t0 + bar * bar_s < n / SR:
        for i, s in enumerate(fig):
            if s >= 4 * bpb:
                continue
            beat = bar * bpb + s / 4
            a = round((t0 + beat * beat_s) * SR)
            nxt = fig[i + 1] if i + 1 < len(fig) else 4 * bpb
            held = nxt - s > 2
            m = int((nxt - s) * step * SR * (1.0 if held else rng.uniform(0.5, 0.9)))
            if a >= n or a + m <= 0 or m < 8:
                continue
            f = key_hz * 2 * octave * 2 ** (_root_at(prog, beat) / 12)
            env = _env(m, 0.003, None if held else rng.uniform(0.03, 0.12))
            accent = 1.0 if s % 4 == 0 else 0.75
            lo, hi = max(0, a), min(n, a + m)
            out[lo:hi] += (_power_chord(f, m, rng) * env * accent)[lo - a : hi - a]
        bar += 1
    from scipy.signal import butter, sosfilt

    pre = sosfilt(butter(1, rng.uniform(200, 700), "high", fs=SR, output="sos"), out)
    g = rng.uniform(3.0, 25.0)
    y = np.tanh(g * pre / (np.max(np.abs(pre)) + 1e-9))
    return sosfilt(butter(4, rng.uniform(2500, 6000), "low", fs=SR, output="sos"), y)


def _chords(
    n: int, beat_s: float, t0: float, bpb: int, prog, key_hz: float, rng: np.random.Generator
) -> np.ndarray:
    """Pad chords (minor or major triads with a seventh) that change with ``prog``."""
    out = np.zeros(n)
    quality = [0, 3, 7, 10] if rng.random() < 0.5 else [0, 4, 7, 11]
    bars = int(np.ceil((n / SR - t0) / (bpb * beat_s))) + 1
    changes = [(at, r) for at, r in prog] + [(bars * bpb + 1.0, 0)]
    for (at, root), (nxt, _) in itertools.pairwise(changes):
        a = round((t0 + at * beat_s) * SR)
        m = round((nxt - at) * beat_s * SR)
        if a >= n or a + m <= 0 or m < 8:
            continue
        f = key_hz * 4 * 2 ** (root / 12)
        x = sum(_osc(np.full(m, f * 2 ** (q / 12)), "saw", rng) for q in quality)
        x = x * _env(m, rng.uniform(0.005, 0.08), rng.uniform(0.5, 4.0))
        lo, hi = max(0, a), min(n, a + m)
        out[lo:hi] += x[lo - a : hi - a]
    return _lowpass(out, rng.uniform(800, 5000))


def band_bed(
    n: int, beat_s: float, downbeat_s: float, bpb: int, rng: np.random.Generator
) -> np.ndarray:
    """A bass, chord and/or distorted-guitar part on the grid of beat period ``beat_s``
    (s) with a downbeat at ``downbeat_s`` (may be negative) and ``bpb`` beats a bar.
    At least one part plays; float32 mono, RMS 1."""
    bars = int(np.ceil((n / SR - downbeat_s) / (bpb * beat_s))) + 3
    prog = progression(bars, bpb, rng)
    key_hz = 41.2 * 2 ** (int(rng.integers(0, 12)) / 12)  # E1 .. D#2
    first = int(np.floor(-downbeat_s / (bpb * beat_s))) - 1
    t0 = downbeat_s + first * bpb * beat_s  # the progression's beat 0: a downbeat
    makers = {"bass": _bass, "chords": _chords, "guitar": _guitar}
    on = [k for k, p in PARTS_P.items() if rng.random() < p] or ["bass"]
    out = np.zeros(n)
    for k in on:
        part = makers[k](n, beat_s, t0, bpb, prog, key_hz, rng)
        r = float(np.sqrt(np.mean(part**2)))
        if r > 1e-9:
            out += part / r * rng.uniform(0.5, 1.0)
    r = float(np.sqrt(np.mean(out**2)))
    return (out / r).astype(np.float32) if r > 1e-9 else out.astype(np.float32)

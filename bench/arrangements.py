"""Whole arrangements with known section boundaries, Amen breaks and reese basses.

A track is a list of sections (intro, build-up, drop, breakdown, outro); each plays a
set of layers: drums of one style (the drumnet renderer's patterns and real Hydrogen
kits, :mod:`heihachi_train.drumnet.render`), a bass (the renderer's synthetic bass
line, a sine sub, or a reese: two detuned saws), the renderer's pad chords, a snare
roll and a noise riser in build-ups. Layers enter and leave only at section
boundaries, which fall on downbeats, as in produced dance music, so the boundaries,
the drum style (Amen or not) and the bass (reese or not) of every section are known.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # heihachi_train

import itertools

from heihachi_train.drumnet.kits import CLASSES, TRAIN_KITS, VALIDATION_KITS
from heihachi_train.drumnet.mix import bass_line, pad, pink_noise, rms
from heihachi_train.drumnet.patterns import make_pattern
from heihachi_train.drumnet.samples import MAX_SAMPLE_S, SR, load_bank, pick_instruments, pick_layer

__all__ = ["SR", "Arrangement", "Section", "make_arrangement", "reese", "render_arrangement"]

#: drum styles of drops (the renderer's names) and how often each is drawn
DROP_STYLES = ("dnb", "amen", "halftime", "breakbeat", "dnb", "amen")


@dataclass
class Section:
    label: str  # intro | build-up | drop | breakdown | outro
    bars: int
    drums: str | None = None  # a renderer style, "sparse" (kick + hats) or None
    bass: str | None = None  # "line" | "sub" | "reese" | None
    pad: bool = False
    roll: bool = False  # snare roll (build-ups)
    riser: bool = False  # noise riser (build-ups)


@dataclass
class Arrangement:
    tempo: float
    sections: list[Section]
    kit: str
    seed: int
    starts: list[float] = field(default_factory=list)  # seconds, filled by the renderer

    @property
    def bar_s(self) -> float:
        return 4 * 60.0 / self.tempo

    def boundaries(self) -> list[float]:
        """Start time of every section after the first (the answers of the bench)."""
        t, out = 0.0, []
        for s in self.sections[:-1]:
            t += s.bars * self.bar_s
            out.append(t)
        return out

    def intervals(self) -> np.ndarray:
        edges = [0.0, *self.boundaries(), sum(s.bars for s in self.sections) * self.bar_s]
        return np.array(list(itertools.pairwise(edges)))


def make_arrangement(rng: np.random.Generator, seed: int, validation: bool = True
                     ) -> Arrangement:
    """A random arrangement: intro, (build-up), drop, breakdown, build-up, drop, outro,
    with section lengths of 4-32 bars and the layers their names imply."""
    tempo = float(rng.choice([rng.uniform(160, 178), rng.uniform(120, 140)], p=[0.7, 0.3]))
    kits = VALIDATION_KITS if validation else TRAIN_KITS
    kit = str(rng.choice(list(kits)))
    style1 = str(rng.choice(DROP_STYLES))
    style2 = style1 if rng.random() < 0.6 else str(rng.choice(DROP_STYLES))
    bass1 = str(rng.choice(["line", "sub", "reese"]))
    bass2 = bass1 if rng.random() < 0.6 else str(rng.choice(["line", "sub", "reese"]))
    intro_drums = str(rng.choice(["sparse", style1])) if rng.random() < 0.75 else None
    secs = [Section("intro", int(rng.choice([8, 16])), drums=intro_drums,
                    pad=intro_drums is None or rng.random() < 0.4)]
    if rng.random() < 0.7:
        secs.append(Section("build-up", int(rng.choice([4, 8])), roll=True, riser=True,
                            pad=rng.random() < 0.5))
    secs.append(Section("drop", int(rng.choice([16, 16, 32])), drums=style1, bass=bass1,
                        pad=rng.random() < 0.3))
    secs.append(Section("breakdown", int(rng.choice([8, 16])), pad=True,
                        drums="sparse" if rng.random() < 0.2 else None))
    secs.append(Section("build-up", int(rng.choice([4, 8])), roll=True, riser=True,
                        pad=rng.random() < 0.5))
    secs.append(Section("drop", int(rng.choice([16, 16, 32])), drums=style2, bass=bass2,
                        pad=rng.random() < 0.3))
    secs.append(Section("outro", int(rng.choice([8, 16])),
                        drums=str(rng.choice(["sparse", style2])),
                        pad=rng.random() < 0.3))
    return Arrangement(tempo, secs, kit, seed)


def reese(n: int, tempo: float, rng: np.random.Generator, detune_hz: float | None = None
          ) -> np.ndarray:
    """A reese bass: two saws a few Hz apart (their beating is the sound), low-passed,
    long notes on the roots of a minor-key riff."""
    from scipy.signal import butter, sosfilt

    root = 41.2 * 2 ** (int(rng.integers(0, 8)) / 12)  # E1..B1
    bar = int(4 * 60.0 / tempo * SR)
    steps = [0, 0, 3, -2, 0, 5, 3, 7]
    freq = np.zeros(n)
    for k, a in enumerate(range(0, n, bar)):
        freq[a:a + bar] = root * 2 ** (steps[(k // 2) % len(steps)] / 12)
    detune = detune_hz if detune_hz is not None else rng.uniform(0.8, 4.0)
    x = np.zeros(n)
    for d in (-detune / 2, detune / 2):
        ph = np.cumsum(freq + d) / SR + rng.uniform(0, 1)
        x += 2 * (ph % 1.0) - 1
    cutoff = rng.uniform(250, 900)
    x = sosfilt(butter(2, cutoff, "low", fs=SR, output="sos"), x)
    return (x / (np.abs(x).max() + 1e-9)).astype(np.float32)


def sub_bass(n: int, tempo: float, rng: np.random.Generator) -> np.ndarray:
    """A sine sub bass holding the roots of the same kind of riff, one saw an octave up
    at a low level (a plain, undetuned bass: the reese's negative)."""
    from scipy.signal import butter, sosfilt

    root = 41.2 * 2 ** (int(rng.integers(0, 8)) / 12)
    bar = int(4 * 60.0 / tempo * SR)
    steps = [0, 0, 3, -2, 0, 5, 3, 7]
    freq = np.zeros(n)
    for k, a in enumerate(range(0, n, bar)):
        freq[a:a + bar] = root * 2 ** (steps[(k // 2) % len(steps)] / 12)
    ph = np.cumsum(freq) / SR + rng.uniform(0, 1)
    x = np.sin(2 * np.pi * ph) + 0.3 * (2 * ((2 * ph) % 1.0) - 1)
    x = sosfilt(butter(2, rng.uniform(250, 900), "low", fs=SR, output="sos"), x)
    return (x / (np.abs(x).max() + 1e-9)).astype(np.float32)


def _drums(rng: np.random.Generator, kit: str, style: str, bars: int, tempo: float
           ) -> tuple[np.ndarray, list[tuple[float, str, float]]]:
    """One section of drums: the renderer's pattern played on one kit's one-shots."""
    bank = load_bank(kit)
    inst = {}
    for c in CLASSES:  # a class the kit lacks is borrowed from another kit of its split,
        src = bank[c]  # as the drumnet renderer does
        if not src:
            split = VALIDATION_KITS if kit in VALIDATION_KITS else TRAIN_KITS
            src = next((load_bank(k)[c] for k in split if load_bank(k)[c]), [])
        if src:
            inst[c] = pick_instruments(src, rng)
    step = 60.0 / tempo / 4
    n = int(bars * 16 * step * SR)
    if style == "roll":
        events = []
        for b in range(bars):
            sub = 2 if b < bars // 2 else 1  # 8ths then 16ths
            for s in range(0, 16, sub):
                events.append((b * 16 + s, "snare", 0.4 + 0.55 * (b * 16 + s) / (bars * 16)))
    else:
        events = make_pattern("dnb" if style == "sparse" else style, bars, rng)
        if style == "sparse":
            events = [e for e in events if e[1] in ("kick", "hihat")]
    out = np.zeros(n + int(MAX_SAMPLE_S * SR), np.float32)
    hits = []
    for pos, cls, vel in events:
        if cls not in inst:
            continue
        i = int(round(pos * step * SR))  # noqa: RUF046
        if i >= n:
            continue
        s = pick_layer(inst[cls][int(rng.integers(len(inst[cls])))], vel, rng)
        out[i:i + len(s.audio)] += s.audio * s.gain * vel
        hits.append((i / SR, cls, vel))
    return out, hits


def _riser(n: int, rng: np.random.Generator) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    noise = pink_noise(n, rng).astype(np.float64)
    out = np.zeros(n)
    parts = 16
    for k in range(parts):  # a band-pass climbing from 300 Hz to 6 kHz
        a, b = k * n // parts, (k + 1) * n // parts
        fc = 300 * (20 ** (k / (parts - 1)))
        band = sosfilt(butter(2, [fc / 1.5, min(fc * 1.5, SR * 0.45)], "band", fs=SR,
                              output="sos"), noise[a:b])
        out[a:b] = band
    return (out * np.linspace(0.1, 1.0, n) / (rms(out) + 1e-9)).astype(np.float32)


def _fade(x: np.ndarray, ms: float = 8.0) -> np.ndarray:
    k = min(len(x) // 2, int(ms / 1000 * SR))
    if k:
        x[:k] *= np.linspace(0, 1, k, dtype=np.float32)
        x[-k:] *= np.linspace(1, 0, k, dtype=np.float32)
    return x


def render_arrangement(arr: Arrangement) -> tuple[np.ndarray, dict]:
    """Mono float32 audio at :data:`SR` and the answers: section intervals and labels,
    each section's drum style and bass, and every drum hit."""
    rng = np.random.default_rng([arr.seed, 99])
    total = sum(s.bars for s in arr.sections)
    n_total = math.ceil(total * arr.bar_s * SR)
    mix = np.zeros(n_total + int(MAX_SAMPLE_S * SR), np.float32)
    drum_level = 0.25
    hits_all: list[tuple[float, str, float]] = []
    pad_seed = int(rng.integers(1 << 30))
    t = 0.0
    for sec in arr.sections:
        a = int(round(t * SR))  # noqa: RUF046
        n = int(round(sec.bars * arr.bar_s * SR))  # noqa: RUF046
        srng = np.random.default_rng([arr.seed, a])
        if sec.drums:
            d, hits = _drums(srng, arr.kit, sec.drums, sec.bars, arr.tempo)
            d = d / (np.abs(d[:n]).max() + 1e-9) * drum_level
            mix[a:a + len(d)] += d
            hits_all += [(a / SR + h, c, v) for h, c, v in hits]
        if sec.roll:
            d, hits = _drums(srng, arr.kit, "roll", sec.bars, arr.tempo)
            d = d / (np.abs(d[:n]).max() + 1e-9) * drum_level * 0.8
            mix[a:a + len(d)] += d
            hits_all += [(a / SR + h, c, v) for h, c, v in hits]
        if sec.bass:
            if sec.bass == "reese":
                b = reese(n, arr.tempo, srng)
            elif sec.bass == "sub":
                b = sub_bass(n, arr.tempo, srng)
            else:
                b = bass_line(n, arr.tempo, srng)
                b = b / (np.abs(b).max() + 1e-9)
            mix[a:a + n] += _fade(b.astype(np.float32)) * 0.3
        if sec.pad:
            p = pad(n, np.random.default_rng(pad_seed))  # the track's one chord sound
            mix[a:a + n] += _fade(p / (rms(p) + 1e-9) * 0.04)
        if sec.riser:
            mix[a:a + n] += _fade(_riser(n, srng) * 0.03)
        t += sec.bars * arr.bar_s
    mix = mix[:n_total]
    mix = mix / (np.abs(mix).max() + 1e-9) * 0.7
    answers = {"intervals": arr.intervals(), "labels": [s.label for s in arr.sections],
               "drums": [s.drums for s in arr.sections],
               "bass": [s.bass for s in arr.sections], "hits": sorted(hits_all),
               "tempo": arr.tempo, "bar_s": arr.bar_s}
    return mix.astype(np.float32), answers

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

import functools
import math
from dataclasses import dataclass

import numpy as np

from .kits import CLASSES, TRAIN_KITS, VALIDATION_KITS, parse_kit
from .soundfonts import RENDER_SR, is_soundfont_kit, render_kit

SR = 24_000
MAX_SAMPLE_S = 3.0
STYLES = ("dnb", "amen", "halftime", "rolls", "house", "breakbeat", "hiphop", "rock", "random")
STYLE_P = np.array([0.2, 0.14, 0.1, 0.07, 0.1, 0.1, 0.09, 0.08, 0.12])
TEMPO = {
    "dnb": (160, 180), "amen": (150, 180), "halftime": (165, 180), "rolls": (80, 180),
    "house": (118, 132), "breakbeat": (120, 145), "hiphop": (80, 100), "rock": (90, 150),
    "random": (80, 180),
}


@dataclass
class Sample:
    audio: np.ndarray  # float32 mono at SR, trimmed to the onset
    vmin: float
    vmax: float
    gain: float


def trim_onset(x: np.ndarray, db: float = -60.0) -> np.ndarray:
    """Cut the quiet lead-in: keep from the first sample above ``db`` of the peak."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 0:
        return x[:0]
    idx = int(np.argmax(np.abs(x) > peak * 10 ** (db / 20)))
    return x[idx:]


def _prepare(x: np.ndarray, sr: int) -> np.ndarray:
    """A one-shot as the renderer wants it: mono, at SR, trimmed to its onset, at most
    MAX_SAMPLE_S long (faded out when cut)."""
    import soxr

    if x.ndim == 2:
        x = x.mean(axis=1)
    if sr != SR:
        x = soxr.resample(x, sr, SR).astype(np.float32)
    x = trim_onset(x)
    n = int(MAX_SAMPLE_S * SR)
    if len(x) > n:
        x = x[:n].copy()
        fade = int(0.05 * SR)
        x[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    return x


def _kit_sources(kit: str) -> list[tuple[str, list[Sample]]]:
    """(class, velocity layers) per instrument of ``kit``, samples prepared but not yet
    normalised: a Hydrogen kit read from its files, a SoundFont kit rendered."""
    import soundfile as sf

    if is_soundfont_kit(kit):
        return [(ins.cls, [Sample(_prepare(lay.audio, RENDER_SR), lay.vmin, lay.vmax, 1.0)
                           for lay in ins.layers])
                for ins in render_kit(kit)]
    instruments, _ = parse_kit(kit)
    cache: dict[str, np.ndarray] = {}
    out = []
    for ins in instruments:
        layers = []
        for lay in ins.layers:
            key = str(lay.path)
            if key not in cache:
                x, sr = sf.read(key, dtype="float32", always_2d=True)
                cache[key] = _prepare(x, sr)
            layers.append(Sample(cache[key], lay.vmin, lay.vmax, lay.gain))
        out.append((ins.cls, layers))
    return out


@functools.cache
def load_bank(kit: str) -> dict[str, list[list[Sample]]]:
    """class -> list of instruments -> velocity layers (trimmed, at SR, peak-normalised
    per instrument so that the layers keep their relative levels)."""
    bank: dict[str, list[list[Sample]]] = {c: [] for c in CLASSES}
    for cls, found in _kit_sources(kit):
        # drop empty / silent placeholders
        layers = [s for s in found if len(s.audio) >= 32 and np.max(np.abs(s.audio)) >= 1e-4]
        if not layers:
            continue
        peak = max(float(np.max(np.abs(s.audio))) for s in layers)
        layers = [Sample((s.audio / peak).astype(np.float32), s.vmin, s.vmax, s.gain)
                  for s in layers]
        bank[cls].append(layers)
    return bank


def pick_layer(layers: list[Sample], vel: float, rng: np.random.Generator) -> Sample:
    cand = [s for s in layers if s.vmin <= vel <= s.vmax]
    if not cand:
        cand = [min(layers, key=lambda s: min(abs(vel - s.vmin), abs(vel - s.vmax)))]
    return cand[int(rng.integers(len(cand)))]


# --------------------------------------------------------------------------- patterns

def _hat_line(rng, bars, density=None, cls="hihat"):
    """Hi-hat (or ride) line: 8ths or 16ths with accents, some open/skipped."""
    ev = []
    density = density or rng.choice([2, 4, 4], p=[0.45, 0.35, 0.2])  # 2: 8ths, 4: 16ths
    step = 2 if density == 2 else 1  # 8ths or 16ths
    for b in range(bars):
        for s in range(0, 16, step):
            if rng.random() < 0.07:
                continue
            acc = 0.85 if s % 4 == 0 else (0.6 if s % 2 == 0 else 0.45)
            ev.append((b * 16 + s, cls, acc))
    return ev


def _fill(rng, bar, length_steps, cls_choices=("snare", "tom")):
    ev = []
    start = 16 - length_steps
    sub = rng.choice([1, 0.5], p=[0.7, 0.3])  # 16ths or 32nds
    n = int(length_steps / sub)
    cls_seq = rng.choice(cls_choices)
    crescendo = rng.random() < 0.6
    for i in range(n):
        pos = bar * 16 + start + i * sub
        v = (0.35 + 0.6 * i / max(1, n - 1)) if crescendo else rng.uniform(0.4, 0.9)
        cls = cls_seq if rng.random() < 0.8 else rng.choice(cls_choices)
        ev.append((pos, str(cls), v))
    return ev


def make_pattern(style: str, bars: int, rng: np.random.Generator) -> list[tuple[float, str, float]]:
    """Events (position in 16th steps from the first downbeat, class, velocity)."""
    ev: list[tuple[float, str, float]] = []
    ride = rng.random() < 0.25
    top = "cymbal" if ride else "hihat"
    if style == "dnb":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 10, "kick", 0.85), (o + 4, "snare", 0.95),
                   (o + 12, "snare", 0.95)]
            if rng.random() < 0.4:
                ev.append((o + int(rng.choice([7, 9, 14, 15])), "snare", rng.uniform(0.15, 0.4)))
            if rng.random() < 0.3:
                ev.append((o + int(rng.choice([2, 11, 13])), "kick", 0.7))
        ev += _hat_line(rng, bars, cls=top)
    elif style == "amen":
        k = [0, 2, 10, 11]
        s = [4, 7, 9, 12, 15]
        for b in range(bars):
            o = b * 16
            var = b % 4 == 3 and rng.random() < 0.6
            ks = [0, 2, 10] if var else k
            ss = [4, 7, 9, 14] if var else s
            ev += [(o + x, "kick", 0.9) for x in ks]
            ev += [(o + x, "snare", 0.95 if x in (4, 12) else rng.uniform(0.35, 0.7)) for x in ss]
        ev += _hat_line(rng, bars, density=2, cls="cymbal" if rng.random() < 0.5 else "hihat")
    elif style == "halftime":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 8, "snare", 0.98)]
            for x in rng.choice([3, 6, 10, 11, 14], size=int(rng.integers(0, 3)), replace=False):
                ev.append((o + int(x), "kick", rng.uniform(0.6, 0.9)))
        ev += _hat_line(rng, bars, cls=top)
    elif style == "house":
        for b in range(bars):
            o = b * 16
            ev += [(o + x, "kick", 0.95) for x in (0, 4, 8, 12)]
            if rng.random() < 0.8:
                ev += [(o + 4, "snare", 0.8), (o + 12, "snare", 0.8)]
            ev += [(o + x, "hihat", 0.8) for x in (2, 6, 10, 14)]
            if rng.random() < 0.5:
                ev += [(o + x, "hihat", 0.4) for x in (0, 4, 8, 12, 1, 3, 5, 7, 9, 11, 13, 15)
                       if rng.random() < 0.5]
            if ride:
                ev += [(o + x, "cymbal", 0.6) for x in (0, 4, 8, 12)]
    elif style == "breakbeat":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 4, "snare", 0.9), (o + 12, "snare", 0.9)]
            ev += [(o + int(x), "kick", 0.8) for x in rng.choice([3, 6, 7, 10, 11, 14], size=2,
                                                                  replace=False)]
            if rng.random() < 0.5:
                ev.append((o + int(rng.choice([9, 15])), "snare", rng.uniform(0.3, 0.6)))
        ev += _hat_line(rng, bars, cls=top)
    elif style == "hiphop":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 4, "snare", 0.9), (o + 12, "snare", 0.9)]
            ev += [(o + int(x), "kick", 0.8) for x in rng.choice([3, 7, 8, 10, 11], size=2,
                                                                  replace=False)]
        ev += _hat_line(rng, bars, density=2, cls=top)
    elif style == "rock":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 8, "kick", 0.9), (o + 4, "snare", 0.95),
                   (o + 12, "snare", 0.95)]
            if rng.random() < 0.5:
                ev.append((o + 10, "kick", 0.8))
        ev += _hat_line(rng, bars, density=2, cls=top)
    elif style == "rolls":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.9)]
            if rng.random() < 0.5:
                ev += [(o + 4, "snare", 0.9)]
            ev += _fill(rng, b, int(rng.choice([8, 12, 16])), ("snare", "tom", "snare"))
        if rng.random() < 0.5:
            ev += _hat_line(rng, bars, density=2, cls=top)
    else:  # random grid: decorrelates class from metrical position
        p = {"kick": rng.uniform(0.05, 0.3), "snare": rng.uniform(0.05, 0.3),
             "hihat": rng.uniform(0.0, 0.6), "tom": rng.uniform(0.0, 0.2),
             "cymbal": rng.uniform(0.0, 0.15)}
        for b in range(bars):
            for s in range(16):
                for c, pc in p.items():
                    if rng.random() < pc:
                        ev.append((b * 16 + s, c, rng.uniform(0.2, 1.0)))
    # fills, crashes, toms everywhere
    if style not in ("rolls", "random"):
        for b in range(bars):
            if (b % 4 == 3 and rng.random() < 0.4) or rng.random() < 0.12:
                ev = [e for e in ev if not (e[0] >= b * 16 + 12 and e[0] < b * 16 + 16
                                            and e[1] in ("snare", "hihat"))]
                ev += _fill(rng, b, int(rng.choice([4, 4, 8])), ("snare", "tom", "tom"))
    if style != "random" and rng.random() < 0.3:  # tom accents / percussion lines
        for b in range(bars):
            for x in rng.choice(16, size=int(rng.integers(1, 4)), replace=False):
                ev.append((b * 16 + int(x), "tom", rng.uniform(0.4, 1.0)))
    for b in range(bars):
        if (b % 4 == 0 and rng.random() < 0.45) or rng.random() < 0.1:
            ev.append((b * 16 + 0, "cymbal", rng.uniform(0.7, 1.0)))
    return ev


# Pairs whose roles swap_roles exchanges, with their odds: a low tom on the kick's
# groove positions was the commonest held-out error (kicks reported under toms).
ROLE_SWAPS = ((("kick", "tom"), 0.6), (("snare", "tom"), 0.4))


def swap_roles(events: list[tuple[float, str, float]],
               rng: np.random.Generator) -> list[tuple[float, str, float]]:
    """Exchange the parts of two classes (e.g. toms play the kick's groove, the kick plays
    the fills), labels following the sound.  Like the random-grid style this decorrelates
    class from metrical position, so the model has to hear a tom to call it one."""
    pairs = [p for p, _ in ROLE_SWAPS]
    a, b = pairs[int(rng.choice(len(pairs), p=[w for _, w in ROLE_SWAPS]))]
    swap = {a: b, b: a}
    return [(pos, swap.get(c, c), v) for pos, c, v in events]


# --------------------------------------------------------------------------- synthesis

def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    w = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1
    x = np.fft.irfft(w / np.sqrt(f), n)
    return (x / (np.std(x) + 1e-9)).astype(np.float32)


def _osc(freq: np.ndarray, kind: str, rng) -> np.ndarray:
    ph = 2 * np.pi * np.cumsum(freq) / SR + rng.uniform(0, 2 * np.pi)
    if kind == "sine":
        return np.sin(ph)
    if kind == "saw":
        return 2 * ((ph / (2 * np.pi)) % 1.0) - 1
    return np.sign(np.sin(ph)) * 0.7  # square


def _lowpass(x, fc, order=2):
    from scipy.signal import butter, sosfilt

    fc = min(fc, SR * 0.45)
    return sosfilt(butter(order, fc, "low", fs=SR, output="sos"), x)


def bass_line(n: int, tempo: float, rng) -> np.ndarray:
    step = 60.0 / tempo / 2  # 8th notes
    root = 55.0 * 2 ** (rng.integers(-5, 7) / 12)
    kind = str(rng.choice(["sine", "saw", "square", "sine"]))
    freq = np.zeros(n)
    env = np.zeros(n)
    t0 = 0.0
    while t0 * SR < n:
        dur = step * int(rng.choice([1, 2, 2, 4, 8]))
        a, b = int(t0 * SR), min(n, int((t0 + dur) * SR))
        semis = int(rng.choice([0, 0, 0, 3, 5, 7, -2, 12]))
        freq[a:b] = root * 2 ** (semis / 12)
        if rng.random() < 0.2:
            freq[a:b] *= np.linspace(1.5, 1.0, b - a)  # small glide
        e = np.ones(b - a)
        att = min(b - a, int(rng.uniform(0.002, 0.03) * SR))
        e[:att] = np.linspace(0, 1, att)
        e *= np.exp(-np.arange(b - a) / SR * rng.uniform(0, 4))
        env[a:b] = e
        if rng.random() < 0.15:
            env[a:b] = 0
        t0 += dur
    x = _osc(freq, kind, rng) * env
    return _lowpass(x, rng.uniform(150, 1500)).astype(np.float32)


def pad(n: int, rng) -> np.ndarray:
    root = 110.0 * 2 ** (rng.integers(-3, 9) / 12)
    chord = [0, 3, 7, 10] if rng.random() < 0.5 else [0, 4, 7, 11]
    x = np.zeros(n)
    for s in chord:
        for det in (-0.08, 0.08):
            f = np.full(n, root * 2 ** ((s + det) / 12))
            x += _osc(f, "saw", rng)
    att = int(rng.uniform(0.05, 1.0) * SR)
    env = np.ones(n)
    env[: min(att, n)] = np.linspace(0, 1, min(att, n))
    return _lowpass(x * env, rng.uniform(400, 4000)).astype(np.float32)


def _rms(x):
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-9)


def augment(x: np.ndarray, rng) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    # random EQ: a peaking-ish band via band-pass added/subtracted, plus shelves by filters
    if rng.random() < 0.5:
        lo, hi = sorted(rng.uniform(80, 8000, size=2))
        hi = max(hi, lo * 1.5)
        band = sosfilt(butter(2, [lo, min(hi, SR * 0.45)], "band", fs=SR, output="sos"), x)
        x = x + rng.uniform(-0.6, 1.0) * band
    if rng.random() < 0.25:
        x = sosfilt(butter(2, rng.uniform(20, 150), "high", fs=SR, output="sos"), x)
    if rng.random() < 0.2:
        x = sosfilt(butter(2, rng.uniform(5000, 11000), "low", fs=SR, output="sos"), x)
    # compression (feed-forward, RMS envelope) or soft clipping
    if rng.random() < 0.4:
        env = np.sqrt(_lowpass(x * x, 20, order=1).clip(1e-10) + 1e-10)
        thr = _rms(x) * rng.uniform(0.8, 2.0)
        ratio = rng.uniform(2, 6)
        g = np.where(env > thr, (env / thr) ** (1 / ratio - 1), 1.0)
        x = x * g
    if rng.random() < 0.15:
        d = rng.uniform(1.5, 4)
        x = np.tanh(d * x / (np.max(np.abs(x)) + 1e-9)) / np.tanh(d)
    return x


def reverb(x: np.ndarray, rng) -> np.ndarray:
    from scipy.signal import fftconvolve

    rt = rng.uniform(0.2, 1.5)
    n = int(rt * SR)
    t = np.arange(n) / SR
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt)
    ir = _lowpass(ir, rng.uniform(2000, 9000), order=1)
    ir /= np.sqrt(np.sum(ir**2)) + 1e-9
    wet = fftconvolve(x, ir)[: len(x)]
    mix = rng.uniform(0.05, 0.35)
    return x + mix * wet * _rms(x) / (_rms(wet) + 1e-9)


def vary_sample(s: Sample, semitones: float, decay_s: float | None, tilt: float) -> Sample:
    """A new one-shot from ``s``: re-pitched by resampling (duration follows the pitch,
    as when a drum is tuned), optionally with a faster exponential decay (a damped or
    gated drum) and a first-order spectral tilt (``tilt`` > 0 brighter, < 0 darker)."""
    import soxr
    from scipy.signal import butter, sosfilt

    x = s.audio
    if abs(semitones) > 1e-3:
        r = 2.0 ** (semitones / 12.0)
        x = soxr.resample(x, SR * r, SR).astype(np.float32)
        n = int(MAX_SAMPLE_S * SR)
        if len(x) > n:
            x = x[:n].copy()
            fade = int(0.05 * SR)
            x[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
    if decay_s is not None:
        env = np.exp(-np.arange(len(x), dtype=np.float32) / (decay_s * SR))
        x = x * env
        x = x[: max(64, int(min(len(x), 6 * decay_s * SR)))]
    if abs(tilt) > 1e-3:
        fc = 1500.0
        if tilt > 0:
            hp = sosfilt(butter(1, fc, "high", fs=SR, output="sos"), x)
            x = x + tilt * hp
        else:
            lp = sosfilt(butter(1, fc, "low", fs=SR, output="sos"), x)
            x = x + (-tilt) * (lp - x)
    peak = float(np.max(np.abs(x))) + 1e-9
    x = (x * (float(np.max(np.abs(s.audio))) / peak)).astype(np.float32)
    return Sample(x, s.vmin, s.vmax, s.gain)


#: Per-class ranges of the one-shot augmentation (semitones, decay time constant in s).
SAMPLE_AUG = {
    "kick": ((-4.0, 4.0), (0.06, 0.4)),
    "snare": ((-3.0, 4.0), (0.05, 0.3)),
    "hihat": ((-3.0, 4.0), (0.02, 0.25)),
    "tom": ((-6.0, 6.0), (0.08, 0.5)),
    "cymbal": ((-3.0, 3.0), (0.15, 1.2)),
}


def augment_instruments(inst: dict[str, list[list[Sample]]], rng: np.random.Generator,
                        p: float) -> dict[str, list[list[Sample]]]:
    """With probability ``p`` per class, re-pitch / damp / tilt the clip's instruments of
    that class (one setting per instrument, all of its velocity layers), so that a few
    training kits sound like many."""
    out = {}
    for c, instruments in inst.items():
        if rng.random() >= p:
            out[c] = instruments
            continue
        (plo, phi), (dlo, dhi) = SAMPLE_AUG[c]
        new = []
        for layers in instruments:
            semis = float(rng.uniform(plo, phi))
            decay = float(np.exp(rng.uniform(np.log(dlo), np.log(dhi)))) \
                if rng.random() < 0.4 else None
            tilt = float(rng.uniform(-0.7, 1.0)) if rng.random() < 0.5 else 0.0
            new.append([vary_sample(s, semis, decay, tilt) for s in layers])
        out[c] = new
    return out


def synth_instruments(inst: dict[str, list[list[Sample]]], rng: np.random.Generator,
                      p: float) -> dict[str, list[list[Sample]]]:
    """With probability ``p`` per class, play that class on one or two synthesised
    instruments (see :mod:`.synth`) instead of the kit's recordings."""
    from .synth import synth_one_shot

    out = dict(inst)
    for c in CLASSES:
        if rng.random() < p:
            out[c] = [[Sample(synth_one_shot(c, rng), 0.0, 1.0, 1.0)]
                      for _ in range(int(rng.integers(1, 3)))]
    return out


def pick_instruments(src: list[list[Sample]], rng: np.random.Generator) -> list[list[Sample]]:
    """One or two distinct instruments of ``src`` for a clip's class."""
    k = min(len(src), int(rng.integers(1, 3)))
    return [src[i] for i in rng.choice(len(src), size=k, replace=False)]


LEND_P = 0.5


def lend_instruments(inst: dict[str, list[list[Sample]]], rng: np.random.Generator,
                     lenders: tuple[str, ...], classes: tuple[str, ...],
                     p: float = LEND_P) -> dict[str, list[list[Sample]]]:
    """With probability ``p`` per class of ``classes``, play that class on one or two
    instruments of a random ``lenders`` kit instead of the clip's kit: extra timbres for
    the classes that need them, without changing how the others sound."""
    out = dict(inst)
    for c in classes:
        if rng.random() < p:
            src = load_bank(str(rng.choice(list(lenders))))[c]
            if src:
                out[c] = pick_instruments(src, rng)
    return out


def lofi_sample(s: Sample, rate: float, bits: int) -> Sample:
    """``s`` as a vintage sampler or 8-bit drum chip plays it: held at ``rate`` Hz with
    no anti-alias filter (the aliasing is part of the sound) and quantised to ``bits``."""
    x = s.audio
    hold = np.floor(np.arange(len(x)) * (rate / SR)) * (SR / rate)
    x = x[np.minimum(hold.astype(np.int64), len(x) - 1)]
    q = 2.0 ** (bits - 1)
    y = np.round(x * q) / q
    if float(np.max(np.abs(y))) < 1e-4:  # a quiet layer rounded away: keep it audible
        y = x
    return Sample(y.astype(np.float32), s.vmin, s.vmax, s.gain)


#: Sampler emulation ranges: hold rate (Hz) and bit depth, e.g. 8-bit chips to 12-bit
#: samplers of the SP-1200 / S950 kind that jungle and hip hop were made on.
LOFI_RATE = (6000.0, 22000.0)
LOFI_BITS = (4, 12)


def lofi_instruments(inst: dict[str, list[list[Sample]]], rng: np.random.Generator,
                     p: float, classes: tuple[str, ...] = ()) -> dict[str, list[list[Sample]]]:
    """With probability ``p`` per class, play the clip's instruments of that class through
    :func:`lofi_sample` (one rate and bit depth per instrument, all its layers).

    ``classes`` restricts it to those classes (empty: all); the others draw nothing, so
    an empty ``classes`` renders exactly as before the option existed."""
    out = {}
    for c, instruments in inst.items():
        if (classes and c not in classes) or rng.random() >= p:
            out[c] = instruments
            continue
        new = []
        for layers in instruments:
            rate = float(np.exp(rng.uniform(*np.log(LOFI_RATE))))
            bits = int(rng.integers(LOFI_BITS[0], LOFI_BITS[1] + 1))
            new.append([lofi_sample(s, rate, bits) for s in layers])
        out[c] = new
    return out


# --------------------------------------------------------------------------- render

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
    dr = _rms(drums) if np.any(drums) else 0.05
    if rng.random() < 0.7:
        mix += bass_line(n, tempo, rng) * dr * 10 ** (rng.uniform(-18, 2) / 20) / 0.3
    if rng.random() < 0.5:
        p = pad(n, rng)
        mix += p / _rms(p) * dr * 10 ** (rng.uniform(-25, -6) / 20)
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

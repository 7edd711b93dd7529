"""One-shot samples: loading a kit's velocity layers, trimming, and the training-only
changes to them (re-pitch/damp/tilt, synthesised voices, lent instruments, sampler
emulation). Each training-only change draws from the RNG only when asked for, so
validation renders never change.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .kits import CLASSES, parse_kit
from .soundfonts import RENDER_SR, is_soundfont_kit, render_kit

SR = 24_000
MAX_SAMPLE_S = 3.0


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


def prepare_one_shot(x: np.ndarray, sr: int) -> np.ndarray:
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
        return [(ins.cls, [Sample(prepare_one_shot(lay.audio, RENDER_SR), lay.vmin, lay.vmax, 1.0)
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
                cache[key] = prepare_one_shot(x, sr)
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
                        p: float, ranges: dict | None = None) -> dict[str, list[list[Sample]]]:
    """With probability ``p`` per class, re-pitch / damp / tilt the clip's instruments of
    that class (one setting per instrument, all of its velocity layers), so that a few
    training kits sound like many.  ``ranges``: per-class (semitones, decay) ranges,
    :data:`SAMPLE_AUG` by default (:data:`WIDE_AUG` for ``--wide-pitch``)."""
    out = {}
    for c, instruments in inst.items():
        if rng.random() >= p:
            out[c] = instruments
            continue
        (plo, phi), (dlo, dhi) = (ranges or SAMPLE_AUG)[c]
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


#: Wider per-class ranges for ``augment_instruments(..., ranges=WIDE_AUG)`` (training
#: flag ``--wide-pitch``): a kick an octave apart from another is still a kick.
WIDE_AUG = {
    "kick": ((-8.0, 7.0), (0.04, 0.6)),
    "snare": ((-6.0, 7.0), (0.03, 0.4)),
    "hihat": ((-7.0, 6.0), (0.01, 0.3)),
    "tom": ((-10.0, 9.0), (0.06, 0.7)),
    "cymbal": ((-6.0, 5.0), (0.1, 1.5)),
}


def voice_instruments(inst: dict[str, list[list[Sample]]], rng: np.random.Generator,
                      p: float) -> dict[str, list[list[Sample]]]:
    """With probability ``p`` per class, play that class on one or two one-shots of the
    wide-range synthesis of :mod:`.voices` instead of the kit's recordings."""
    from .voices import voice_one_shot

    out = dict(inst)
    for c in CLASSES:
        if rng.random() < p:
            out[c] = [[Sample(voice_one_shot(c, rng), 0.0, 1.0, 1.0)]
                      for _ in range(int(rng.integers(1, 3)))]
    return out


def layer_sample(s: Sample, other: np.ndarray, gain: float, offset: int) -> Sample:
    """``s`` with ``other`` mixed in ``offset`` samples later at ``gain`` relative to
    ``s``'s peak (a layered drum: a clap on a snare, a sub under a kick); the onset
    stays ``s``'s first sample and the peak level stays ``s``'s."""
    a = s.audio.astype(np.float64)
    peak = float(np.max(np.abs(a))) + 1e-12
    n = min(int(MAX_SAMPLE_S * SR), max(len(a), offset + len(other)))
    y = np.zeros(n)
    y[: len(a)] = a
    m = min(len(other), n - offset)
    y[offset : offset + m] += other[:m] * gain * peak / (float(np.max(np.abs(other))) + 1e-12)
    y *= peak / (float(np.max(np.abs(y))) + 1e-12)
    return Sample(y.astype(np.float32), s.vmin, s.vmax, s.gain)


def layer_instruments(inst: dict[str, list[list[Sample]]], rng: np.random.Generator,
                      p: float, kits: tuple[str, ...]) -> dict[str, list[list[Sample]]]:
    """With probability ``p`` per class, layer each of the clip's instruments of that
    class with one more sound of the same class (another training kit's one-shot or a
    :mod:`.voices` one-shot) at -15..0 dB, 0-3 ms later: the layered kicks and snares of
    produced music, which no single kit holds."""
    from .voices import voice_one_shot

    out = {}
    for c, instruments in inst.items():
        if rng.random() >= p:
            out[c] = instruments
            continue
        new = []
        for layers in instruments:
            src = load_bank(str(rng.choice(list(kits))))[c] if rng.random() < 0.5 else []
            if src:
                lay = src[int(rng.integers(len(src)))]
                other = lay[int(rng.integers(len(lay)))].audio.astype(np.float64)
            else:
                other = voice_one_shot(c, rng).astype(np.float64)
            gain = 10 ** (rng.uniform(-15, 0) / 20)
            offset = int(rng.integers(0, int(0.003 * SR) + 1))
            new.append([layer_sample(s, other, gain, offset) for s in layers])
        out[c] = new
    return out

"""Real, drumless recordings as mixing beds under the rendered drums (training only).

Real songs put guitars, voices and room sound on top of the drums, often louder than
them; drumnet's training mixes had only synthetic bass, pads and noise.  A bed made here
is built from *real recordings of other instruments* shipped by Debian packages that no
validation uses (none of the reserved packages of ``shared/notes/drum-data.md``):

=========  ================================================  ========================
source     Debian package (path)                             licence
=========  ================================================  ========================
guitar     ``hydrogen-drumkits-effects``: belofilms_Guitar-   CC-BY-3.0 (Gabriel
           Strums, 295 acoustic guitar chord strums (down/    Verdugo Soto)
           up strokes, 24 chords, four takes each)
speech     ``klettres-data``: letters and syllables spoken    GPL-2+ (KDE KLettres
           in 20 languages (1836 recordings)                  authors)
speech     ``ktuberling-data``: words spoken in 25 languages  GPL-2+ (KDE KTuberling
           (1376 recordings)                                  authors)
=========  ================================================  ========================

:func:`real_bed` makes one bed: a guitar part and/or a voice part, optionally through a
drive (distorted guitar) and a room (reverb).  The guitar part plays *on the clip's
grid* when the renderer passes it (``beat_s``, ``downbeat_s``): chords on beats, eighth
strumming, pushes on the "and", whole-bar chords or palm-muted chugs, as guitars do in
real songs, so the non-drum onsets agree with the metre the beat labels describe (a
bed at an unrelated tempo would teach the beat head to ignore instruments that, in
real music, follow the drums).  Without a grid the guitar strums at irregular times
(no metre).  Voices are never on the grid: speech has no metre, and that is the point.

The renderer decides the level: :data:`DRUM_TO_BED_DB` is the suggested drum-to-bed
RMS ratio range (drums often *below* the bed).  Deterministic for a given RNG state;
the package files are read in sorted order and cached per process.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

GUITAR_DIR = Path("/usr/share/hydrogen/data/drumkits/belofilms_GuitarStrums")
SPEECH_GLOBS = ((Path("/usr/share/klettres"), "*/*/*.ogg"),
                (Path("/usr/share/ktuberling/sounds"), "*/*.ogg"))
#: Speech recordings loaded per process (an even stride over the sorted list).
MAX_SPEECH_FILES = 600
#: Suggested drum RMS over bed RMS, dB (negative: drums under the bed).
DRUM_TO_BED_DB = (-12.0, 6.0)
GUITAR_P, SPEECH_P, DRIVE_P, ROOM_P = 0.85, 0.5, 0.5, 0.5
#: Strumming figures, in 16th steps within a 4/4 bar: (step, stroke) with stroke
#: "D" (down), "U" (up) or "M" (palm-muted chug).
FIGURES = {
    "quarters": [(0, "D"), (4, "D"), (8, "D"), (12, "D")],
    "eighths": [(s, "D" if s % 4 == 0 else "U") for s in range(0, 16, 2)],
    "push": [(0, "D"), (4, "D"), (6, "U"), (10, "U"), (12, "D")],
    "whole": [(0, "D")],
    "halves": [(0, "D"), (8, "D")],
    "chug8": [(s, "M") for s in range(0, 16, 2)],
    "chug16": [(s, "M") for s in range(16)],
    "gallop": [(s, "M") for s in range(16) if s % 4 != 1],
}


def sources_present() -> bool:
    """Whether at least one bed source package is installed."""
    return GUITAR_DIR.is_dir() or any(root.is_dir() for root, _ in SPEECH_GLOBS)


def _load(path: Path, sr: int) -> np.ndarray:
    import soundfile as sf
    import soxr

    x, file_sr = sf.read(str(path), dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if file_sr != sr:
        x = soxr.resample(x, file_sr, sr).astype(np.float32)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 0:
        return x[:0]
    start = int(np.argmax(np.abs(x) > peak * 1e-3))  # -60 dB lead-in trimmed
    x = x[start:]
    return (x / (np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-9)).astype(np.float32)


@functools.cache
def guitar_bank(sr: int) -> dict[str, list[np.ndarray]]:
    """Strums by chord name, down and up strokes kept apart: ``{"Amajor/D": [...], ...}``."""
    bank: dict[str, list[np.ndarray]] = {}
    if not GUITAR_DIR.is_dir():
        return bank
    for path in sorted(GUITAR_DIR.glob("*.flac")):
        stem = path.stem  # e.g. Amajor_UP_02, Amajor_03
        parts = stem.rsplit("_", 2)
        chord = parts[0]
        stroke = "U" if "_UP_" in stem else "D"
        x = _load(path, sr)
        if len(x):
            bank.setdefault(f"{chord}/{stroke}", []).append(x)
    return bank


@functools.cache
def speech_bank(sr: int) -> list[np.ndarray]:
    """Up to :data:`MAX_SPEECH_FILES` spoken recordings (even stride over sorted files)."""
    files: list[Path] = []
    for root, pattern in SPEECH_GLOBS:
        if root.is_dir():
            files += sorted(root.glob(pattern))
    if not files:
        return []
    stride = max(1, len(files) // MAX_SPEECH_FILES)
    out = [_load(p, sr) for p in files[::stride][:MAX_SPEECH_FILES]]
    return [x for x in out if len(x) > sr // 20]


def _place(out: np.ndarray, x: np.ndarray, at: int, gain: float) -> None:
    if at >= len(out) or at + len(x) <= 0:
        return
    a, b = max(0, at), min(len(out), at + len(x))
    out[a:b] += gain * x[a - at:b - at]


def _strum(bank: dict, chord: str, stroke: str, rng: np.random.Generator,
           sr: int, step_s: float) -> np.ndarray:
    takes = bank.get(f"{chord}/{'U' if stroke == 'U' else 'D'}") or bank[f"{chord}/D"]
    x = takes[int(rng.integers(len(takes)))]
    if stroke == "M":  # palm mute: a short, dark chug
        n = min(len(x), int(sr * rng.uniform(0.6, 1.5) * step_s * 2))
        env = np.exp(-np.arange(n) / (0.25 * n))
        x = (x[:n] * env).astype(np.float32)
    return x


def guitar_part(n: int, sr: int, rng: np.random.Generator, beat_s: float | None,
                downbeat_s: float, beats_per_bar: int = 4) -> np.ndarray:
    """A strummed part: on the grid when ``beat_s`` is given, else at irregular times."""
    bank = guitar_bank(sr)
    out = np.zeros(n, dtype=np.float32)
    chords = sorted({k.split("/")[0] for k in bank if f"{k.split('/')[0]}/D" in bank})
    if not chords:
        return out
    progression = [chords[int(i)] for i in rng.integers(len(chords), size=4)]
    if beat_s is None:  # no metre: strums at Poisson times
        t = rng.uniform(0, 1.0)
        k = 0
        while t * sr < n:
            x = _strum(bank, progression[k % 4], "D" if rng.random() < 0.6 else "U", rng, sr,
                       0.2)
            _place(out, x, int(t * sr), rng.uniform(0.4, 1.0))
            t += rng.exponential(rng.uniform(0.4, 1.5))
            k += int(rng.random() < 0.3)
        return out
    figure = FIGURES[str(rng.choice(list(FIGURES)))]
    steps = 4 * beats_per_bar
    step_s = beat_s / 4
    bar_s = beat_s * beats_per_bar
    bars_per_chord = int(rng.choice([1, 2]))
    jitter = rng.uniform(0.0, 0.012)
    first = int(np.floor(-downbeat_s / bar_s)) - 1
    bar = first
    while downbeat_s + bar * bar_s < n / sr:
        chord = progression[((bar - first) // bars_per_chord) % 4]
        for step, stroke in figure:
            if step >= steps or rng.random() < 0.05:
                continue
            t = downbeat_s + bar * bar_s + step * step_s + rng.normal(0, jitter)
            accent = 1.0 if step % 4 == 0 else 0.7
            x = _strum(bank, chord, stroke, rng, sr, step_s)
            _place(out, x, round(t * sr), accent * rng.uniform(0.7, 1.0))
        bar += 1
    return out


def voice_part(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Spoken phrases: words one after another with short gaps, re-pitched by resampling."""
    import soxr

    bank = speech_bank(sr)
    out = np.zeros(n, dtype=np.float32)
    if not bank:
        return out
    t = int(rng.uniform(0, 0.5) * sr)
    cover = rng.uniform(0.3, 1.0)  # how much of the clip has a phrase going on
    while t < n:
        phrase_end = t + int(rng.uniform(1.0, 4.0) * sr)
        shift = 2 ** (rng.uniform(-4, 4) / 12)
        while t < min(n, phrase_end):
            x = bank[int(rng.integers(len(bank)))]
            if abs(shift - 1) > 1e-3:
                x = soxr.resample(x, round(sr * shift), sr).astype(np.float32)
            _place(out, x, t, rng.uniform(0.6, 1.0))
            t += len(x) + int(rng.uniform(0.03, 0.25) * sr)
        t += int(rng.exponential((1 - cover) * 3.0 + 0.1) * sr)
    return out


def drive(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A distorted-guitar chain: pre-emphasis, tanh drive, a cabinet-like low-pass."""
    from scipy.signal import butter, sosfilt

    pre = sosfilt(butter(1, rng.uniform(300, 900), "high", fs=sr, output="sos"), x)
    g = rng.uniform(4.0, 30.0)
    y = np.tanh(g * pre / (np.max(np.abs(pre)) + 1e-9))
    cab = sosfilt(butter(4, rng.uniform(2500, 5500), "low", fs=sr, output="sos"), y)
    return sosfilt(butter(2, 80, "high", fs=sr, output="sos"), cab).astype(np.float32)


def room(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A diffuse room: exponentially decaying filtered noise, convolved and mixed in."""
    from scipy.signal import butter, fftconvolve, sosfilt

    rt = rng.uniform(0.3, 2.0)
    t = np.arange(int(rt * sr)) / sr
    ir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt)
    ir = sosfilt(butter(1, rng.uniform(1500, 8000), "low", fs=sr, output="sos"), ir)
    wet = fftconvolve(x, ir)[: len(x)]
    wet *= np.sqrt(np.mean(x**2) / (np.mean(wet**2) + 1e-12))
    return (x + rng.uniform(0.2, 0.8) * wet).astype(np.float32)


def real_bed(n_samples: int, sr: int, rng: np.random.Generator, beat_s: float | None = None,
             downbeat_s: float = 0.0, beats_per_bar: int = 4) -> np.ndarray | None:
    """One bed of real recordings, float32 mono at ``sr``, RMS 1; None without sources.

    Args:
        beat_s: the clip's beat period (s); None = no grid (the guitar strums freely).
        downbeat_s: the time of one downbeat of the clip (may be negative).
        beats_per_bar: bar length in beats (the strumming figures fill 4/4 bars; shorter
            bars keep the figure's first steps).
    """
    if not sources_present():
        return None
    parts = []
    if rng.random() < GUITAR_P and guitar_bank(sr):
        g = guitar_part(n_samples, sr, rng, beat_s, downbeat_s, beats_per_bar)
        if rng.random() < DRIVE_P:
            g = drive(g, sr, rng)
        parts.append(g)
    if rng.random() < SPEECH_P and speech_bank(sr):
        parts.append(voice_part(n_samples, sr, rng))
    parts = [p for p in parts if np.any(p)]
    if not parts:  # at least one part: fall back to the voice, then the guitar
        v = voice_part(n_samples, sr, rng) if speech_bank(sr) else np.zeros(n_samples)
        parts = [v if np.any(v) else guitar_part(n_samples, sr, rng, beat_s, downbeat_s,
                                                  beats_per_bar)]
    bed = np.zeros(n_samples, dtype=np.float64)
    for p in parts:
        bed += p / (np.sqrt(np.mean(p.astype(np.float64) ** 2)) + 1e-9) * rng.uniform(0.5, 1.0)
    if rng.random() < ROOM_P:
        bed = room(bed, sr, rng)
    rms = float(np.sqrt(np.mean(bed**2)))
    if rms <= 0:
        return None
    return (bed / rms).astype(np.float32)

"""Is an Amen-style break playing? Is the bass a reese? Per section, from compact features.

**Amen.** A break is recognised by *what* the drums play where in the bar, not by how
they sound: drum hits (from the drums task) are put on a 16-step grid of each bar (from
the beat tracker's downbeats), three rows per bar: kick, snare, and a hit of any class.
The section's step counts are scored against two templates made from the project's own
drum renders (``bench/make_amen_template.py``): how often each step holds a kick, a
snare or any hit in Amen breaks, and in every other style (two-step, half-time,
breakbeat, hip hop, house, rock). The any-class row is there because a transcriber
hears the Amen's quiet ghost snares (steps 7, 9, 15) as hi-hats or cymbals about as
often as snares: the class is lost, the hit on an odd step is not. The score is a
generalised log-likelihood ratio per bar: each template's rows are scaled by a
detection rate (how many of the hits that are there the transcriber finds), fitted per
section and row for each template, because that rate swings from 0.3 to 0.9 with the
kit. Tempo and timbre drop out, and a bar grid at half the tempo is tried too (a
tracker that reports 87 BPM for 174 puts two bars in one).

**Reese.** Two saws a few Hz apart beat: each harmonic swells and cancels at its own
rate. Per frame, the bass fundamental (35-95 Hz) is found by harmonic sum and the
level of its first harmonics is measured relative to the median of the first six
(which stays put while one harmonic cancels); within a sustained
plain bass note that ratio holds still (and stays still when the note decays or
changes), in a reese it swings by several dB. A section has a reese when a bass is
present in most of it and the fundamental's relative level swings (interquartile
range) by more than ``reese_swing_db``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

STEPS = 16
_EPS = 0.02


ROWS = ("kick", "snare", "any")
#: detection rates tried for each row of a template (see :func:`amen_score`)
RATES = np.linspace(0.25, 1.0, 16)


@functools.cache
def amen_template() -> dict[str, np.ndarray]:
    """Step probabilities from ``heihachi/music/amen_template.json``: ``"amen"`` and
    ``"other"`` ``[2, 16]`` (kick row 0, snare row 1), ``"amen_any"`` and
    ``"other_any"`` ``[16]`` (a hit of any class)."""
    text = resources.files("heihachi.music").joinpath("amen_template.json").read_text()
    data = json.loads(text)
    return {k: np.clip(np.asarray(data[k], dtype=np.float64), _EPS, 1 - _EPS)
            for k in ("amen", "other", "amen_any", "other_any")}


def bar_steps(times: np.ndarray, classes: np.ndarray, bar_starts: np.ndarray,
              bar_ends: np.ndarray, steps: int = STEPS) -> np.ndarray:
    """``[bars, 3, steps]`` booleans: a kick (row 0), a snare (row 1), a hit of any class
    (row 2) on each step of each bar (a hit counts for the step it is nearest to, within
    half a step)."""
    out = np.zeros((len(bar_starts), len(ROWS), steps), dtype=bool)
    if not len(bar_starts):
        return out
    half = 0.5 * float(np.median(bar_ends - bar_starts)) / steps  # a hit a little early
    times = np.asarray(times, dtype=np.float64)                  # belongs to the next bar
    classes = np.asarray(classes)
    for row, cls in enumerate(ROWS):
        t = times if cls == "any" else times[classes == cls]
        if not len(t):
            continue
        b = np.searchsorted(bar_starts, t + half, side="right") - 1
        ok = (b >= 0) & (b < len(bar_starts))
        b, t = b[ok], t[ok]
        ok = t < bar_ends[b] - half
        b, t = b[ok], t[ok]
        pos = (t - bar_starts[b]) / (bar_ends[b] - bar_starts[b]) * steps
        step = np.clip(np.rint(pos).astype(int), 0, steps - 1)
        out[b, row, step] = True
    return out


def _fitted_loglik(counts: np.ndarray, bars: int, tpl: np.ndarray) -> float:
    """Log-likelihood of ``[rows, 16]`` step counts over ``bars`` bars under the step
    probabilities ``tpl`` scaled by a detection rate, the best rate of :data:`RATES`
    for each row."""
    p = np.clip(RATES[:, None, None] * tpl[None], _EPS, 1 - _EPS)  # [rates, rows, 16]
    ll = (counts * np.log(p) + (bars - counts) * np.log(1 - p)).sum(axis=2)
    return float(ll.max(axis=0).sum())


def amen_score(grid: np.ndarray) -> float:
    """Log-likelihood ratio (nats per bar) of Amen over other styles for ``[bars, 3, 16]``
    step booleans (:func:`bar_steps`), the best of the four beat rotations (a downbeat
    a beat off).

    Each template's step probabilities are multiplied by a detection rate fitted to the
    section (per row and template, :data:`RATES`): a transcription that misses half the
    kicks of one kit then still matches the Amen's kick *pattern*, while hits where a
    template has none count fully against it.
    """
    tpl = amen_template()
    amen = np.vstack([tpl["amen"], tpl["amen_any"]])
    other = np.vstack([tpl["other"], tpl["other_any"]])
    bars = len(grid)
    if not bars:
        return float("-inf")
    best = float("-inf")
    for rot in range(0, STEPS, STEPS // 4):
        counts = np.roll(grid, -rot, axis=2).sum(axis=0).astype(np.float64)
        llr = _fitted_loglik(counts, bars, amen) - _fitted_loglik(counts, bars, other)
        best = max(best, llr / bars)
    return best


def section_amen(times: np.ndarray, classes: np.ndarray, downbeats: np.ndarray,
                 start: float, end: float, threshold: float = 0.5) -> tuple[bool, float]:
    """``(amen?, score)`` for the section ``[start, end)`` (:func:`amen_score`, nats per
    bar; ``threshold`` 0.5 is the middle of the range that scores best on development
    renders).

    Bars are the downbeat grid inside the section; the same hits are also tried on
    bars of half the length (two 16-step bars per tracked bar), and the better grid
    wins. Bars of snare roll are left out; sections with fewer than two bars of kicks
    and snares left score ``-inf``.
    """
    db = np.asarray(downbeats, dtype=np.float64)
    inside = db[(db >= start - 1e-6) & (db < end)]
    if len(inside) < 2:
        return False, float("-inf")
    bar = float(np.median(np.diff(inside)))
    ends = np.append(inside[1:], min(inside[-1] + bar, end))
    best = float("-inf")
    for split in (1, 2):
        starts = np.concatenate([inside + k * (ends - inside) / split for k in range(split)])
        stops = np.concatenate([inside + (k + 1) * (ends - inside) / split
                                for k in range(split)])
        order = np.argsort(starts)
        grid = bar_steps(times, classes, starts[order], stops[order])
        # a bar of snare roll (a build-up, a fill) hits half the steps or more: it is no
        # groove, and it would match the Amen's busy snare row better than a two-step's
        played = grid[:, :2].any(axis=(1, 2)) & (grid[:, 1].sum(axis=1) < STEPS // 2)
        if played.sum() < 2:
            continue
        best = max(best, amen_score(grid[played]))
    return best > threshold, best


@dataclass
class BassFrames:
    """Per-frame bass measurements for reese detection (10-20 frames per second).

    Attributes:
        times: frame centres, seconds.
        present: ``[T]`` bool, a pitched bass is playing (harmonic salience high).
        ratio_db: ``[T, 2]`` level of the fundamental and the 2nd harmonic relative to
            the median level of the first six harmonics, dB.
    """

    times: np.ndarray
    present: np.ndarray
    ratio_db: np.ndarray


N_FFT = 4096
HOP_S = 0.1
F0_GRID = np.geomspace(35.0, 95.0, 60)
HARMONICS = 6


def bass_frames(x: np.ndarray, sample_rate: int, start: float = 0.0,
                hop_s: float = HOP_S) -> BassFrames:
    """:class:`BassFrames` of mono ``x`` (``start``: its time in the track), a frame
    every ``hop_s`` centred on ``k * hop``."""
    from heihachi.music.spectra import stft_magnitude

    hop = max(1, round(hop_s * sample_rate))
    n_fft = N_FFT if sample_rate <= 24_000 else 2 * N_FFT
    bin_hz = sample_rate / n_fft
    top = int(np.ceil(F0_GRID[-1] * HARMONICS / bin_hz)) + 3
    mag = stft_magnitude(x, n_fft, hop)[:, :top]
    if not len(mag):
        return BassFrames(np.zeros(0), np.zeros(0, bool), np.zeros((0, 2), np.float32))
    wide = np.maximum(mag, np.maximum(np.roll(mag, 1, axis=1), np.roll(mag, -1, axis=1)))
    idx = np.rint(np.outer(F0_GRID, np.arange(1, HARMONICS + 1)) / bin_hz).astype(int)
    h = wide[:, idx]  # [T, F0, K]
    salience = np.sqrt((h ** 2).sum(axis=2))
    salience = np.where(h[:, :, 0] > 0.25 * h.max(axis=2), salience, 0.0)  # fundamental there
    best = salience.argmax(axis=1)
    amps = h[np.arange(len(h)), best]
    freqs = np.arange(mag.shape[1]) * bin_hz
    band = np.sqrt((mag[:, (freqs >= 30) & (freqs <= 600)] ** 2).sum(axis=1))
    present = salience.max(axis=1) > 0.5 * (band + 1e-9)
    ref = np.median(amps, axis=1, keepdims=True) + 1e-9  # stays put when one harmonic dips
    ratio = 20 * np.log10(amps[:, :2] / ref + 1e-6)
    times = start + np.arange(len(mag)) * hop / sample_rate
    return BassFrames(times, present, ratio.astype(np.float32))


def section_reese(frames: BassFrames, start: float, end: float, min_cover: float = 0.85,
                  swing_db: float = 4.0) -> tuple[bool, float, float]:
    """``(reese?, bass cover 0-1, fundamental swing dB)`` over ``[start, end)``."""
    inside = (frames.times >= start) & (frames.times < end)
    n = int(inside.sum())
    if n == 0:
        return False, 0.0, 0.0
    on = inside & frames.present
    cover = float(on.sum() / n)
    if on.sum() < 20:
        return False, cover, 0.0
    r = frames.ratio_db[on, 0]
    swing = float(np.percentile(r, 75) - np.percentile(r, 25))
    return bool(cover >= min_cover and swing >= swing_db), cover, swing

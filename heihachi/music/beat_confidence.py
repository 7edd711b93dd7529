"""How sure a beat tracker is: per-beat confidence, a song confidence, and "no pulse".

Per beat (0-1): the beat activation's peak at the beat minus its peak halfway to the
next beat.  It is high when the network is sure of a beat *and* of its phase, low where
the activation is weak (a break, a quiet intro, noise) or the off-beat is nearly as
strong as the beat (phase ambiguity).  The song's confidence is the mean over its beats.

A file has *no pulse* when its activation never rises (the median over the file of its
1.5 s moving maximum is below :data:`MIN_LEVEL`: silence, a sustained pad) or is not
periodic at any tempo (median over windows of the best autocorrelation-comb score below
:data:`MIN_PERIODICITY`: white noise, speech).  Trackers then return no beats, so
``tempo`` is null, and keep the confidence they measured.  The two thresholds sit
between the shipped model's values on silence, white noise, a pad and speech (level
<= 0.06 on silence and the pad; periodicity <= 0.10 on noise and speech) and on the
rendered validation and the real-music songs (level >= 0.44; periodicity >= 0.18, but
down to 0.11 on the rendered "random grid" clips, which have no metre: the tracker may
abstain there).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d

MIN_LEVEL = 0.15
MIN_PERIODICITY = 0.15


def per_beat(activation: np.ndarray, beats_s: np.ndarray, fps: float) -> np.ndarray:
    """Confidence of each beat: activation peak at the beat minus at the half-way point."""
    act = np.asarray(activation, dtype=np.float64)
    beats_s = np.asarray(beats_s, dtype=np.float64)
    if len(beats_s) == 0 or len(act) == 0:
        return np.zeros(len(beats_s))
    peak = maximum_filter1d(act, size=5, mode="nearest")
    n = len(act)

    def at(t: np.ndarray) -> np.ndarray:
        return peak[np.clip(np.round(t * fps).astype(int), 0, n - 1)]

    if len(beats_s) == 1:
        return np.clip(at(beats_s), 0.0, 1.0)
    gaps = np.diff(beats_s)
    mids = np.concatenate([beats_s[:-1] + gaps / 2, [beats_s[-1] + gaps[-1] / 2]])
    return np.clip(at(beats_s) - at(mids), 0.0, 1.0)


def level(activation: np.ndarray, fps: float) -> float:
    """Median over the file of the activation's 1.5 s moving maximum (its typical peak)."""
    act = np.asarray(activation, dtype=np.float64)
    return float(np.median(maximum_filter1d(act, max(1, int(1.5 * fps)), mode="nearest")))


def periodicity(activation: np.ndarray, fps: float, min_bpm: float = 60.0,
                max_bpm: float = 200.0, window_s: float = 12.0) -> float:
    """Median over half-overlapping windows of the best comb score (0 = no periodicity)."""
    from heihachi.music.tempo import _comb, _tempo_grid, _window_acf

    act = np.asarray(activation, dtype=np.float64)
    lags = 60.0 * fps / _tempo_grid(min_bpm, max_bpm)
    n = min(len(act), int(window_s * fps))
    if n < lags.min() * 3:
        return 0.0
    starts = range(0, max(1, len(act) - n + 1), max(1, n // 2))
    block = np.stack([act[s:s + n] for s in starts])
    max_lag = int(np.ceil(min(4 * lags.max(), n - 1)))
    combs = _comb(_window_acf(block, max_lag), lags[lags * 2 <= max_lag + 1])
    return float(np.median(combs.max(axis=1))) if combs.size else 0.0


def has_pulse(activation: np.ndarray, fps: float, min_bpm: float = 60.0,
              max_bpm: float = 200.0) -> bool:
    """Whether the activation rises at all and is periodic (see the module docstring)."""
    act = np.asarray(activation, dtype=np.float64)
    if len(act) < 3 or level(act, fps) < MIN_LEVEL:
        return False
    return periodicity(act, fps, min_bpm, max_bpm) >= MIN_PERIODICITY

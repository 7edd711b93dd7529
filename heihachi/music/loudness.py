"""Loudness (EBU R128 / ITU-R BS.1770), an energy curve and drops, from a stream of audio.

The K-weighting filters are pyloudnorm's (``pyloudnorm.IIRfilter``: the BS.1770 high
shelf and high pass, designed for the stream's sample rate). They run over each block as
it is decoded, with their state carried across blocks, and only the mean square of every
100 ms of each channel is kept. Everything R128 defines is a function of those 100 ms
powers: the 400 ms momentary blocks (75 % overlap) and their two gates give the
integrated loudness; 3 s windows give the short-term loudness and the loudness range
(EBU Tech 3342). So a 60-minute mix costs 36,000 numbers per channel, and the
integrated figure equals pyloudnorm's whole-file ``Meter.integrated_loudness`` (tested).

Alongside, the power below 150 Hz of the channels' mean (a second-order low pass, also
streamed) gives the bass curve. A **drop** is where (on the downbeat grid when there is
one, else on the curve's steps) the loudness of the next ``window_s`` rises by
``min_rise_lu`` or more over the ``window_s`` before *and* the bass rises by
``min_bass_rise_db``: the bass arriving after a build-up or breakdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

BLOCK_S = 0.1
ABSOLUTE_GATE = -70.0


def _k_weighting(sample_rate: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``[(b, a), ...]`` of BS.1770's two K-weighting stages, from pyloudnorm."""
    from pyloudnorm import Meter

    meter = Meter(sample_rate)  # builds the K-weighting IIRfilter stages for this rate
    stages = [meter._filters[name] for name in ("high_shelf", "high_pass")]
    return [(np.asarray(f.b, np.float64), np.asarray(f.a, np.float64)) for f in stages]


class LoudnessMeter:
    """Feed ``[channels, n]`` blocks in order; :meth:`result` gives a :class:`LoudnessData`.

    Channels are weighted 1.0 (BS.1770's weights for left, right and centre); mono is
    measured as one channel.
    """

    def __init__(self, sample_rate: int, channels: int) -> None:
        from scipy.signal import butter, tf2sos

        self.sample_rate = sample_rate
        self.channels = channels
        # both K-weighting stages as one cascade of biquads, all channels at once
        self.k_sos = np.vstack([tf2sos(b, a) for b, a in _k_weighting(sample_rate)])
        self.k_zi = np.zeros((self.k_sos.shape[0], channels, 2))
        self.bass_sos = butter(2, 150.0, "low", fs=sample_rate, output="sos")
        self.bass_zi = np.zeros((self.bass_sos.shape[0], 2))  # on the channels' mean
        self.block = max(1, round(BLOCK_S * sample_rate))
        self._k_rest = np.zeros((channels, 0))
        self._b_rest = np.zeros((1, 0))
        self.k_power: list[np.ndarray] = []  # [blocks] summed over channels
        self.bass_power: list[np.ndarray] = []
        self.peak = 0.0

    def feed(self, audio: np.ndarray) -> None:
        from scipy.signal import sosfilt

        x = np.asarray(audio, dtype=np.float64).reshape(self.channels, -1)
        if x.shape[1] == 0:
            return
        self.peak = max(self.peak, float(np.abs(x).max()))
        k, self.k_zi = sosfilt(self.k_sos, x, axis=1, zi=self.k_zi)
        low, self.bass_zi = sosfilt(self.bass_sos, x.mean(axis=0), zi=self.bass_zi)
        self._k_rest = self._emit(np.concatenate([self._k_rest, k], axis=1), self.k_power)
        self._b_rest = self._emit(np.concatenate([self._b_rest, low[None]], axis=1),
                                  self.bass_power)

    def _emit(self, y: np.ndarray, out: list[np.ndarray]) -> np.ndarray:
        whole = y.shape[1] // self.block * self.block
        if whole:
            blocks = y[:, :whole].reshape(len(y), -1, self.block)
            out.append((blocks ** 2).mean(axis=2).sum(axis=0))
        return y[:, whole:]

    def result(self) -> LoudnessData:
        """What was measured; a trailing part block shorter than 100 ms is left out."""
        k = np.concatenate(self.k_power) if self.k_power else np.zeros(0)
        b = np.concatenate(self.bass_power) if self.bass_power else np.zeros(0)
        return LoudnessData(k, b, self.peak)


def _lufs(power: np.ndarray | float) -> np.ndarray:
    return -0.691 + 10.0 * np.log10(np.maximum(power, 1e-20))


def _windows(power: np.ndarray, n: int) -> np.ndarray:
    """Mean of every run of ``n`` consecutive 100 ms powers (hop 100 ms)."""
    if len(power) < n:
        return np.zeros(0)
    c = np.concatenate([[0.0], np.cumsum(power)])
    return (c[n:] - c[:-n]) / n


@dataclass
class LoudnessData:
    """K-weighted power (summed over channels) and bass power of every 100 ms."""

    k_power: np.ndarray
    bass_power: np.ndarray
    peak: float = 0.0
    times: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.times = np.arange(len(self.k_power)) * BLOCK_S

    def integrated(self) -> float | None:
        """Integrated loudness (LUFS), gated as BS.1770-4; None when all blocks are gated."""
        z = _windows(self.k_power, 4)  # 400 ms blocks every 100 ms
        if not len(z):
            return None
        z = z[_lufs(z) > ABSOLUTE_GATE]
        if not len(z):
            return None
        relative = _lufs(z.mean()) - 10.0
        z = z[_lufs(z) > relative]
        return float(_lufs(z.mean())) if len(z) else None

    def short_term(self) -> np.ndarray:
        """Short-term loudness (LUFS, 3 s windows) ending at every 100 ms from 3 s on."""
        return _lufs(_windows(self.k_power, 30))

    def momentary_max(self) -> float | None:
        z = _windows(self.k_power, 4)
        return float(_lufs(z.max())) if len(z) else None

    def loudness_range(self) -> float | None:
        """LRA (LU), EBU Tech 3342: spread (10th-95th percentile) of gated short-term values."""
        st = self.short_term()
        st = st[st > ABSOLUTE_GATE]
        if len(st) < 2:
            return None
        power = 10 ** ((st + 0.691) / 10)
        st = st[st > _lufs(power.mean()) - 20.0]
        if len(st) < 2:
            return None
        return float(np.percentile(st, 95) - np.percentile(st, 10))

    def curve(self, step_s: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(times, loudness LUFS, bass dB)`` every ``step_s``: the energy curve (each
        value the mean power of the ``step_s`` centred on its time)."""
        n = max(1, round(step_s / BLOCK_S))
        m = len(self.k_power) // n
        if m == 0:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        k = self.k_power[:m * n].reshape(m, n).mean(axis=1)
        b = self.bass_power[:m * n].reshape(m, n).mean(axis=1)
        t = (np.arange(m) + 0.5) * n * BLOCK_S
        return t, _lufs(k), 10 * np.log10(np.maximum(b, 1e-20))


def find_drops(times: np.ndarray, loudness: np.ndarray, bass_db: np.ndarray,
               downbeats: np.ndarray | None = None, window_s: float = 8.0,
               min_rise_lu: float = 3.0, min_bass_rise_db: float = 6.0,
               min_gap_s: float = 16.0) -> list[dict[str, float]]:
    """Drops: ``[{"time", "rise_lu", "bass_rise_db"}]``, strongest first within
    ``min_gap_s``, returned in time order.

    Candidates are the downbeats (or every curve step without them). At each, the
    mean loudness and bass of the ``window_s`` after are compared with the ``window_s``
    before (powers averaged, not decibels).
    """
    if len(times) < 4:
        return []
    step = float(np.median(np.diff(times)))
    w = max(1, round(window_s / step))
    pk = 10 ** (np.asarray(loudness) / 10)
    pb = 10 ** (np.asarray(bass_db) / 10)
    cand = np.asarray(downbeats, dtype=np.float64) if downbeats is not None and len(
        downbeats) else times
    out: list[dict[str, float]] = []
    for t in cand:
        i = int(np.searchsorted(times, t))
        if i < w or i + w > len(times):
            continue
        rise = 10 * np.log10(pk[i:i + w].mean() / max(pk[i - w:i].mean(), 1e-20))
        brise = 10 * np.log10(pb[i:i + w].mean() / max(pb[i - w:i].mean(), 1e-20))
        if rise >= min_rise_lu and brise >= min_bass_rise_db:
            out.append({"time": float(t), "rise_lu": float(rise), "bass_rise_db": float(brise)})
    chosen: list[dict[str, float]] = []
    for d in sorted(out, key=lambda d: -(d["rise_lu"] + d["bass_rise_db"])):
        if all(abs(d["time"] - c["time"]) >= min_gap_s for c in chosen):
            chosen.append(d)
    return sorted(chosen, key=lambda d: d["time"])

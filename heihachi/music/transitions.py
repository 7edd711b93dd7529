"""Where one track of a continuous mix gives way to the next, how long the blend is, and how.

Works from one row of 76 numbers per second (mean log energy in 24 bands, a 12-bin
chroma and two 20-lag rhythm autocorrelations, of the onsets below 200 Hz (kick, bass)
and above (snare, hats), :func:`mix_frames`), so a 60-minute mix is 3,600 rows. The
rhythm part is what tells apart two tracks of one soundtrack (same composer, same
instruments, often the same key): how their onsets repeat at lags from 0.1 to 2 s
(tempo, swing, the bar's pattern) differs even when their spectra do not.

**Where.** The rows are averaged into blocks of ``block_s`` seconds (2 s; longer for
mixes over 80 minutes, so the matrices below stay under 2,400 x 2,400). Blocks are
compared with every other block of the mix (Gaussian similarity of standardised rows),
and then blocks are compared by *their rows of that matrix*: two blocks of the same
track are similar to the same other blocks (the rest of their track), even when one is a
breakdown and the other a drop, while blocks of different tracks are not. The mix is
then cut into the contiguous segments that are most self-similar under that
second-order similarity, found exactly by dynamic programming: each segment scores the
mean similarity of its blocks times its length (the kernel k-means objective, with
segments kept contiguous), each cut costs ``penalty``, and no segment is shorter than
``min_gap_s``. The cuts are the transitions; their strength is the Foote novelty
(checkerboard kernel of ``kernel_s`` each side) there, in robust deviations.

**Blend.** Around each transition, every second's row is placed on the line from the
outgoing track's mean (the ``context_s`` before) to the incoming one's (the
``context_s`` after); the blend is where that position climbs from 0.2 to 0.8
(smoothed; it always holds the cut). The blend type: ``cut``
(under 1.5 s), ``fade`` (under 12 s) or ``long blend``; ``beatmatched`` when the beat
tracker's beats run on through the blend at the tempo on both sides (their spacing
varies by less than 4 % there), as they do when the DJ matched the two.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAME_S = 1.0
#: lags of the rhythm autocorrelation in every row (seconds)
RHYTHM_LAGS_S = np.geomspace(0.1, 2.0, 20)
#: onsets below / above this frequency make the two rhythm groups of a row
RHYTHM_SPLIT_HZ = 200.0
_LAGS = len(RHYTHM_LAGS_S)
#: feature groups of a row, ``(first, stop)`` columns: bands, chroma, low and high
#: rhythm; each group weighs the same in the similarities, whatever its width
GROUPS = ((0, 24), (24, 36), (36, 36 + _LAGS), (36 + _LAGS, 36 + 2 * _LAGS))
N_FEATURES = GROUPS[-1][1]


def _rhythm(x: np.ndarray, sample_rate: int, n: int, half_s: float = 3.0) -> np.ndarray:
    """``[n, 2 * len(RHYTHM_LAGS_S)]``: for each second of ``x``, the normalised
    autocorrelation of its spectral flux (log magnitudes, ~86 frames a second) below and
    then above :data:`RHYTHM_SPLIT_HZ`, over the ``half_s`` seconds each side, at
    :data:`RHYTHM_LAGS_S` (zeros where under 2.2 s or silent)."""
    from heihachi.music.spectra import stft_magnitude

    out = np.zeros((n, 2 * _LAGS))
    hop = max(1, round(sample_rate / 86))
    n_fft = 1 << max(8, int(np.ceil(np.log2(4 * hop))))
    mag = stft_magnitude(x, n_fft, hop)
    if len(mag) < 3:
        return out
    logm = np.log1p(100.0 * mag)
    rise = np.maximum(np.diff(logm, axis=0, prepend=logm[:1]), 0.0)
    low = np.arange(mag.shape[1]) * sample_rate / n_fft < RHYTHM_SPLIT_HZ
    fps = sample_rate / hop
    lags = np.maximum(1, np.rint(RHYTHM_LAGS_S * fps).astype(int))
    w = int(half_s * fps)
    for g, flux in enumerate((rise[:, low].sum(axis=1), rise[:, ~low].sum(axis=1))):
        for i in range(n):
            c = int((i + 0.5) * FRAME_S * fps)
            seg = flux[max(0, c - w):c + w]
            if len(seg) < lags[-1] + 10:
                continue
            seg = seg - seg.mean()
            energy = float(seg @ seg)
            if energy > 1e-9:
                out[i, g * _LAGS:(g + 1) * _LAGS] = [float(seg[:-lag] @ seg[lag:]) / energy
                                                     for lag in lags]
    return out


def mix_frames(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """``[seconds, 76]`` rows of mono ``x``: 24 log band energies, 12 chroma (share of
    each pitch class), 2 x 20 rhythm autocorrelations (:func:`_rhythm`). ``x`` should hold
    whole seconds; a trailing part is its own row."""
    from heihachi.music.spectra import fold_octaves, log_bands, semitone_spectrum, stft_magnitude

    n_fft = 4096 if sample_rate <= 24_000 else 8192
    hop = max(1, round(sample_rate * FRAME_S / 10))
    mag = stft_magnitude(x, n_fft, hop)
    if not len(mag):
        return np.zeros((0, N_FEATURES), np.float32)
    bands = log_bands(mag ** 2, sample_rate, n_fft, 24)
    chroma = fold_octaves(semitone_spectrum(mag, sample_rate, n_fft))
    n = int(np.ceil(len(x) / sample_rate / FRAME_S))
    idx = np.minimum(np.arange(len(mag)) // 10, max(n - 1, 0))
    rows = np.zeros((max(n, 1), 36))
    counts = np.bincount(idx, minlength=len(rows)).astype(np.float64)[:, None]
    np.add.at(rows[:, :24], idx, bands)
    np.add.at(rows[:, 24:], idx, chroma)
    rows /= np.maximum(counts, 1)
    rows[:, 24:] /= rows[:, 24:].sum(axis=1, keepdims=True) + 1e-9
    return np.hstack([rows, _rhythm(x, sample_rate, len(rows))]).astype(np.float32)


@dataclass
class MixTransition:
    """One transition: ``time`` (the gains cross), ``start``/``end`` of the blend,
    ``kind`` (cut | fade | long blend), ``beatmatched``, ``strength`` (novelty, z)."""

    time: float
    start: float
    end: float
    kind: str
    beatmatched: bool | None
    strength: float

    @property
    def blend_s(self) -> float:
        return self.end - self.start


def _z(a: np.ndarray) -> np.ndarray:
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0)


def _standardise(rows: np.ndarray) -> np.ndarray:
    """Rows z-scored per column, each :data:`GROUPS` group scaled to the same weight
    (rows of the first 36 columns only, from before the rhythm group, still work)."""
    return np.hstack([_z(rows[:, a:b]) / np.sqrt(b - a) for a, b in GROUPS
                      if rows.shape[1] >= b])


def second_order(rows: np.ndarray, block_s: float = 2.0, max_blocks: int = 2400
                 ) -> tuple[np.ndarray, int]:
    """``(S2 [n, n], seconds per block)``: the similarity of blocks' similarity rows."""
    n_rows = len(rows)
    res = max(1, round(block_s / FRAME_S), int(np.ceil(n_rows / max_blocks)))
    n = n_rows // res
    if n < 4:
        return np.zeros((0, 0)), res
    blocks = rows[:n * res].reshape(n, res, -1).mean(axis=1).astype(np.float64)
    x = _standardise(blocks)
    sq = (x ** 2).sum(axis=1)
    d = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    s = np.exp(-d / (0.5 * float(np.median(d)) + 1e-9))
    del d
    s -= s.mean(axis=1, keepdims=True)
    s /= np.linalg.norm(s, axis=1, keepdims=True) + 1e-9
    return s @ s.T, res


def novelty_curve(s2: np.ndarray, res: int, kernel_s: float = 30.0) -> np.ndarray:
    """Foote novelty along the diagonal of ``s2`` (checkerboard of ``kernel_s`` a side)."""
    n = len(s2)
    k = max(2, round(kernel_s / (res * FRAME_S)))
    lag = np.arange(-k, k) + 0.5
    taper = np.exp(-(lag / (k / 2)) ** 2)
    kernel = np.outer(np.sign(lag) * taper, np.sign(lag) * taper)
    nov = np.zeros(n)
    for t in range(k, n - k):
        nov[t] = float((s2[t - k:t + k, t - k:t + k] * kernel).sum())
    return nov


def segment_cuts(s2: np.ndarray, penalty: float, min_len: int) -> list[int]:
    """Block indices where segments start (0 excluded): the contiguous segmentation
    maximising the sum over segments of (sum of ``s2`` within it / its length) minus
    ``penalty`` per segment, no segment under ``min_len`` blocks (exact, O(n^2))."""
    n = len(s2)
    if n < min_len or min_len < 1:
        return []
    p = np.zeros((n + 1, n + 1))
    p[1:, 1:] = s2.cumsum(axis=0).cumsum(axis=1)
    best = np.full(n + 1, -np.inf)
    best[0] = 0.0
    back = np.zeros(n + 1, dtype=np.int64)
    for b in range(min_len, n + 1):
        a = np.arange(0, b - min_len + 1)
        a = a[np.isfinite(best[a])]
        if not len(a):
            continue
        within = (p[b, b] - p[a, b] - p[b, a] + p[a, a]) / (b - a)
        score = best[a] + within - penalty
        k = int(np.argmax(score))
        best[b], back[b] = float(score[k]), int(a[k])
    if not np.isfinite(best[n]):
        return []
    cuts, b = [], n
    while b > 0:
        b = int(back[b])
        if b > 0:
            cuts.append(b)
    return sorted(cuts)


def _blend(rows: np.ndarray, t: float, lo: float, hi: float, context_s: float
           ) -> tuple[float, float, float]:
    """``(start, cross, end)`` of the blend near ``t`` (search limited to ``[lo, hi]``)."""
    from scipy.ndimage import uniform_filter1d

    n = len(rows)
    x = _standardise(rows)
    i = int(round(t / FRAME_S))  # noqa: RUF046
    c = max(3, int(context_s / FRAME_S))
    a0, b1 = max(0, int(lo / FRAME_S)), min(n, int(np.ceil(hi / FRAME_S)))
    if i - a0 < 3 or b1 - i < 3:
        return t, t, t
    before = x[max(a0, i - c):max(a0 + 1, i - c // 3)].mean(axis=0)
    after = x[min(b1 - 1, i + c // 3):min(b1, i + c)].mean(axis=0)
    axis = after - before
    norm = float(axis @ axis)
    if norm < 1e-9:
        return t, t, t
    p = uniform_filter1d((x[a0:b1] - before) @ axis / norm, size=5, mode="nearest")
    rel = i - a0
    left = np.flatnonzero(p[:rel] < 0.2)
    right = np.flatnonzero(p[rel:] > 0.8)
    start = a0 + (int(left[-1]) + 1 if len(left) else 0)
    end = a0 + rel + (int(right[0]) if len(right) else len(p) - rel - 1)
    mid = np.flatnonzero(p[start - a0:end - a0 + 1] >= 0.5)
    cross = start + (int(mid[0]) if len(mid) else (end - start) // 2)
    return start * FRAME_S, (cross + 0.5) * FRAME_S, (end + 1) * FRAME_S


def _beatmatched(beats: np.ndarray | None, start: float, end: float) -> bool | None:
    if beats is None or len(beats) < 8:
        return None
    b = np.asarray(beats, dtype=np.float64)
    span = max(end - start, 8.0)
    around = b[(b >= start - span / 2) & (b <= end + span / 2)]
    if len(around) < 6:
        return False
    ibi = np.diff(around)
    med = float(np.median(ibi))
    return bool(np.mean(np.abs(ibi - med) / med < 0.04) > 0.9)


def find_transitions(rows: np.ndarray, beats: np.ndarray | None = None,
                     block_s: float = 2.0, kernel_s: float = 30.0, penalty: float = 4.5,
                     min_gap_s: float = 30.0, context_s: float = 20.0) -> list[MixTransition]:
    """Transitions of a mix from its :func:`mix_frames` rows (and beat times if known)."""
    rows = np.asarray(rows, dtype=np.float64)
    s2, res = second_order(rows, block_s)
    if not len(s2):
        return []
    cuts = segment_cuts(s2, penalty, max(1, round(min_gap_s / (res * FRAME_S))))
    nov = novelty_curve(s2, res, kernel_s)
    med = float(np.median(nov))
    mad = 1.4826 * float(np.median(np.abs(nov - med))) + 1e-9
    times = [c * res * FRAME_S for c in cuts]
    out: list[MixTransition] = []
    total = len(rows) * FRAME_S
    for k, (c, t) in enumerate(zip(cuts, times, strict=True)):
        lo = 0.0 if k == 0 else (times[k - 1] + t) / 2
        hi = total if k == len(times) - 1 else (t + times[k + 1]) / 2
        start, _cross, end = _blend(rows, t, lo, hi, context_s)
        start, end = min(start, t), max(end, t)
        blend = end - start
        kind = "cut" if blend < 1.5 else "fade" if blend < 12.0 else "long blend"
        strength = float((nov[min(c, len(nov) - 1)] - med) / mad)
        out.append(MixTransition(t, start, end, kind, _beatmatched(beats, start, end), strength))
    return out

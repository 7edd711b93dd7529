"""Tempo from a beat activation: windowed autocorrelation combs and the metrical level.

An autocorrelation comb over overlapping windows gives a tempo per window.  The
metrical level is chosen explicitly, because that is where trackers fail on drum &
bass: starting from the strongest comb peak, the tempo is doubled only while the
activation midway between beats is itself strong (evidence of a faster pulse), with a
lower bar when the doubled tempo lands in the DnB range (160-185 BPM) -- DJs call
half-time DnB 174.  The tempo is never halved and never moved to 2/3.  Then one level
is chosen for the whole song (:func:`_song_octave`): windows that are octaves of the
song's main tempo all take the octave most of them found, so a 95 BPM song whose
eighth notes are loud in some sections is not read at 190 there.  A running median
over windows removes single-window slips but keeps the tempo changes of a mix.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import maximum_filter1d, median_filter

#: Doubled tempi in this range need less evidence: half-time DnB is called 174.
DNB_RANGE: tuple[float, float] = (160.0, 185.0)


def _tempo_grid(min_bpm: float, max_bpm: float) -> np.ndarray:
    """BPM candidates spaced 0.25 % apart (finer than any tempo tolerance)."""
    n = int(np.ceil(np.log(max_bpm / min_bpm) / np.log(1.0025))) + 1
    return np.geomspace(min_bpm, max_bpm, n)


def _window_acf(frames: np.ndarray, max_lag: int) -> np.ndarray:
    """Biased, normalised autocorrelation of each row, max-filtered over +-1 lag.

    The max filter makes fractional-lag peaks and a few frames of jitter read as peaks.
    """
    x = frames - frames.mean(axis=1, keepdims=True)
    n = 1 << int(np.ceil(np.log2(2 * x.shape[1])))
    spec = np.fft.rfft(x, n, axis=1)
    acf = np.fft.irfft(spec * np.conj(spec), n, axis=1)[:, : max_lag + 2]
    energy = acf[:, :1]
    acf = np.where(energy > 1e-12, acf / np.maximum(energy, 1e-12), 0.0)
    return maximum_filter1d(acf, size=3, axis=1, mode="nearest")


def _comb(acf: np.ndarray, lags: np.ndarray, multiples: int = 4) -> np.ndarray:
    """Comb score per row and lag: mean ACF at the first ``multiples`` multiples of a lag."""
    max_lag = acf.shape[1] - 2
    idx = np.arange(acf.shape[1])
    score = np.zeros((acf.shape[0], len(lags)))
    count = np.zeros(len(lags))
    for k in range(1, multiples + 1):
        kl = k * lags
        ok = kl <= max_lag
        count += ok
        for r in range(acf.shape[0]):
            score[r, ok] += np.interp(kl[ok], idx, acf[r])
    return score / np.maximum(count, 1)


def _midpoint_ratio(frames: np.ndarray, lag: float) -> float:
    """How strong the activation is midway between beats, relative to on the beats.

    Folds the window modulo ``lag`` (fractional) into phase bins; the beat phase is the
    strongest bin and the ratio compares the bin half a period away, over the baseline.
    """
    n_bins = max(4, round(lag))
    t = np.arange(len(frames))
    bins = np.floor((t % lag) / lag * n_bins).astype(int) % n_bins
    hist = np.bincount(bins, weights=frames, minlength=n_bins) / np.maximum(
        np.bincount(bins, minlength=n_bins), 1)
    hist = np.maximum(hist, np.roll(hist, 1))  # jitter tolerance
    base = float(np.median(hist))
    peak = int(np.argmax(hist))
    on = hist[peak] - base
    if on <= 1e-9:
        return 0.0
    mid = (peak + n_bins // 2) % n_bins
    off = max(hist[mid], hist[(mid + 1) % n_bins], hist[(mid - 1) % n_bins]) - base
    return float(max(off, 0.0) / on)


def _choose_level(frames: np.ndarray, comb: np.ndarray, grid: np.ndarray, fps: float,
                  max_bpm: float, double_ratio: float, dnb_ratio: float,
                  dnb_two_thirds: bool) -> float:
    """The tempo of one window: strongest comb peak, then doubled while evidence allows."""
    best = float(grid[int(np.argmax(comb))])

    def refine(target: float) -> float:
        near = np.abs(np.log(grid / target)) < 0.04
        return float(grid[near][np.argmax(comb[near])]) if near.any() else target

    if dnb_two_thirds:
        # Generic onset envelopes of two-step DnB peak at the dotted-quarter period
        # (2/3 of the tempo); accept 1.5x when the comb says it is nearly as periodic.
        fast = 1.5 * best
        if DNB_RANGE[0] <= fast <= min(DNB_RANGE[1], max_bpm):
            fast = refine(fast)
            if comb[int(np.argmin(np.abs(grid - fast)))] >= 0.6 * comb.max():
                best = fast
    while 2 * best <= max_bpm * 1.02:
        target = min(2 * best, max_bpm)
        lo, hi = DNB_RANGE
        need = dnb_ratio if lo <= target <= hi else double_ratio
        if _midpoint_ratio(frames, 60.0 * fps / best) < need:
            break
        best = refine(target)
    return best


def _song_octave(bpm: np.ndarray, tol: float = 0.04, dnb_share: float = 0.3) -> np.ndarray:
    """One metrical level for every window of the song's main tempo.

    Windows whose tempi are octaves of one another (log2 distance to an integer within
    ``tol``) form a class; the biggest class is the song's tempo.  Its windows all move
    to the octave most of them chose -- except that an octave in :data:`DNB_RANGE`
    wins when at least ``dnb_share`` of them chose it (half-time DnB is called 174).
    Windows of other classes (a mix's other tracks) keep their tempo.
    """
    lb = np.log2(bpm)
    frac = np.mod(lb, 1.0)
    dist = np.abs(((frac[:, None] - frac[None, :]) + 0.5) % 1.0 - 0.5)
    members = dist < tol
    centre = int(np.argmax(members.sum(axis=1)))
    cls = members[centre]
    octave = np.round(lb - lb[centre]).astype(int)
    votes = {k: int(np.sum(cls & (octave == k))) for k in np.unique(octave[cls])}
    level = max(votes, key=lambda k: (votes[k], k))
    for k, v in votes.items():
        t = float(np.exp2(np.median(lb[cls & (octave == k)])))
        if DNB_RANGE[0] <= t <= DNB_RANGE[1] and v >= dnb_share * int(cls.sum()):
            level = k
    out = bpm.copy()
    out[cls] = bpm[cls] * np.exp2(level - octave[cls])
    return out


def local_tempo(activation: np.ndarray, fps: float, min_bpm: float = 60.0,
                max_bpm: float = 200.0, window_s: float = 12.0, hop_s: float = 3.0,
                smooth_windows: int = 5, double_ratio: float = 0.5, dnb_ratio: float = 0.3,
                dnb_two_thirds: bool = False, song_octave: bool = True,
                ) -> tuple[np.ndarray, np.ndarray]:
    """Tempo per overlapping window: ``(centre_times_s, bpm)``.

    Windows whose activation is nearly silent take their neighbours' tempo. With
    ``song_octave`` the metrical level is chosen once for the whole song (see
    :func:`_song_octave`) instead of window by window.
    """
    act = np.asarray(activation, dtype=np.float64)
    n = len(act)
    win = min(n, max(round(window_s * fps), int(4.2 * 60.0 * fps / min_bpm)))
    hop = max(1, round(hop_s * fps))
    if n < 4:
        return np.array([0.0]), np.array([np.sqrt(min_bpm * max_bpm)])
    starts = np.arange(0, max(n - win, 0) + 1, hop)
    if starts[-1] + win < n:
        starts = np.append(starts, n - win)
    grid = _tempo_grid(min_bpm, max_bpm)
    lags = 60.0 * fps / grid
    max_lag = int(np.ceil(min(4 * lags.max(), win - 1)))
    bpm = np.full(len(starts), np.nan)
    level = np.percentile(act, 99) if n else 0.0
    chunk = 256  # bounded memory: windows are processed a chunk at a time
    for c0 in range(0, len(starts), chunk):
        block = np.stack([act[s:s + win] for s in starts[c0:c0 + chunk]])
        combs = _comb(_window_acf(block, max_lag), lags)
        for i, frames in enumerate(block):
            if frames.std() < 0.02 * level or combs[i].max() <= 0:
                continue
            bpm[c0 + i] = _choose_level(frames, combs[i], grid, fps, max_bpm, double_ratio,
                                        dnb_ratio, dnb_two_thirds)
    centres = (starts + win / 2) / fps
    ok = ~np.isnan(bpm)
    if not ok.any():
        return centres, np.full(len(starts), np.sqrt(min_bpm * max_bpm))
    if song_octave:
        bpm[ok] = _song_octave(bpm[ok])
    logb = np.interp(centres, centres[ok], np.log(bpm[ok]))
    # Octave consistency: a window whose neighbour found the doubled tempo takes it
    # (the faster level wins where any nearby evidence supports it).
    half = smooth_windows // 2
    raised = logb.copy()
    for i in range(len(logb)):
        near = logb[max(0, i - half):i + half + 1]
        match = near[np.abs(near - logb[i] - np.log(2.0)) < 0.04]
        if len(match):
            raised[i] = float(np.median(match))
    logb = raised
    if smooth_windows > 1 and len(logb) > 2:
        logb = median_filter(logb, size=min(smooth_windows, len(logb) | 1), mode="nearest")
    return centres, np.exp(logb)


def estimate_tempo(activation: np.ndarray, fps: float, min_bpm: float = 60.0,
                   max_bpm: float = 200.0, **kwargs: float) -> float:
    """Global tempo (BPM): the median of the local tempi (see :func:`local_tempo`)."""
    _, bpm = local_tempo(activation, fps, min_bpm, max_bpm, **kwargs)  # type: ignore[arg-type]
    return float(np.exp(np.median(np.log(bpm))))

"""Frame-wise beat/downbeat activations -> beat times, downbeat times and tempo.

Three stages, each bounded in time and memory so an hour-long mix decodes in seconds:

1. **Local tempo** (:func:`local_tempo`): an autocorrelation comb over overlapping windows
   gives a tempo per window. The metrical level is chosen explicitly, because that is
   where trackers fail on drum & bass: starting from the strongest comb peak, the tempo
   is doubled only while the activation midway between beats is itself strong (evidence
   of a faster pulse), with a lower bar when the doubled tempo lands in the DnB range
   (160-185 BPM) — DJs call half-time DnB 174. The tempo is never halved and never
   moved to 2/3: activations from a network trained on quarter notes already sit there.
   A running median over windows removes single-window octave slips but keeps the tempo
   changes of a mix.
2. **Beat phase** (:func:`_dp_beats`): Ellis' dynamic programme with a per-frame
   period taken from the local tempo, vectorised in blocks (a frame's predecessors all
   lie at least half a period back, so a block of that length is independent).
3. **Downbeats** (:func:`downbeats_from_activation`): a 4-state bar-position Viterbi
   over the beats, emissions from the downbeat activation, with a small probability
   of a phase jump (bars of 2 or 6 beats at mix transitions).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d, median_filter

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


def local_tempo(activation: np.ndarray, fps: float, min_bpm: float = 60.0,
                max_bpm: float = 200.0, window_s: float = 12.0, hop_s: float = 3.0,
                smooth_windows: int = 5, double_ratio: float = 0.5, dnb_ratio: float = 0.3,
                dnb_two_thirds: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Tempo per overlapping window: ``(centre_times_s, bpm)``.

    Windows whose activation is nearly silent take their neighbours' tempo.
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


def _dp_beats(score_in: np.ndarray, period: np.ndarray, tightness: float) -> np.ndarray:
    """Ellis' beat DP with a per-frame period (frames); returns beat frame indices."""
    n = len(score_in)
    dlo = np.maximum(1, np.round(period / 2).astype(int))
    dhi = np.maximum(dlo + 1, np.round(2 * period).astype(int))
    cum = np.zeros(n)
    back = np.full(n, -1, dtype=np.int64)
    b = 0
    while b < n:
        size = int(dlo[b:b + dlo[b]].min())
        t = np.arange(b, min(n, b + size))
        d = np.arange(int(dlo[t].min()), int(dhi[t].max()) + 1)
        prev = t[:, None] - d[None, :]
        valid = (prev >= 0) & (d[None, :] >= dlo[t][:, None]) & (d[None, :] <= dhi[t][:, None])
        cand = cum[np.maximum(prev, 0)] - tightness * np.log(d[None, :] / period[t][:, None]) ** 2
        cand = np.where(valid, cand, -np.inf)
        j = np.argmax(cand, axis=1)
        best = cand[np.arange(len(t)), j]
        link = best > 0
        cum[t] = score_in[t] + np.where(link, best, 0.0)
        back[t] = np.where(link, prev[np.arange(len(t)), j], -1)
        b += size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # The last beat: the best cumulative score within the last two periods.
    tail = max(0, n - int(2 * period[-1]))
    frame = tail + int(np.argmax(cum[tail:]))
    beats = []
    while frame >= 0:
        beats.append(frame)
        frame = int(back[frame])
    return np.array(beats[::-1], dtype=np.int64)


def _refine(act: np.ndarray, frames: np.ndarray, radius: int = 2) -> np.ndarray:
    """Sub-frame beat positions: parabolic peak of the activation near each frame."""
    n = len(act)
    out = frames.astype(np.float64)
    for i, f in enumerate(frames):
        lo, hi = max(0, f - radius), min(n, f + radius + 1)
        p = lo + int(np.argmax(act[lo:hi]))
        if 0 < p < n - 1 and act[p] > act[f] * 1.0001:
            a, b, c = act[p - 1], act[p], act[p + 1]
            den = a - 2 * b + c
            out[i] = p + (0.5 * (a - c) / den if den < 0 else 0.0)
        elif 0 < f < n - 1:
            a, b, c = act[f - 1], act[f], act[f + 1]
            den = a - 2 * b + c
            if den < 0 and b >= a and b >= c:
                out[i] = f + 0.5 * (a - c) / den
    return out


def _trim(beats: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Drop leading/trailing beats placed in silence (the DP extrapolates into it)."""
    if len(beats) == 0:
        return beats
    thr = 0.1 * float(np.median(strength))
    strong = np.flatnonzero(strength > thr)
    if len(strong) == 0:
        return beats[:0]
    return beats[strong[0]:strong[-1] + 1]


def downbeats_from_activation(beats_s: np.ndarray, downbeat_act: np.ndarray, fps: float,
                              beats_per_bar: int = 4, jump_prob: float = 1e-3) -> np.ndarray:
    """Downbeats among ``beats_s``: Viterbi over bar positions, emissions from the activation.

    The bar position advances by one each beat; with ``jump_prob`` it may reset, so a
    mix whose bar phase shifts at a transition is followed.
    """
    act = np.asarray(downbeat_act, dtype=np.float64)
    if len(beats_s) == 0 or len(act) == 0 or act.max() <= 1e-9:
        return np.zeros(0)
    frames = np.clip(np.round(np.asarray(beats_s) * fps).astype(int), 0, len(act) - 1)
    peak = maximum_filter1d(act, size=5, mode="nearest")[frames]
    p = np.clip(peak / max(float(np.percentile(peak, 95)), 1e-9), 1e-3, 1 - 1e-3)
    emit = np.log(1 - p)[:, None] * np.ones(beats_per_bar)
    emit[:, 0] = np.log(p)
    n_pos = beats_per_bar
    trans = np.full((n_pos, n_pos), np.log(jump_prob / (n_pos - 1)))
    for s in range(n_pos):
        trans[s, (s + 1) % n_pos] = np.log(1 - jump_prob)
    delta = emit[0].copy()
    back = np.zeros((len(frames), n_pos), dtype=np.int64)
    for i in range(1, len(frames)):
        scores = delta[:, None] + trans
        back[i] = np.argmax(scores, axis=0)
        delta = scores[back[i], np.arange(n_pos)] + emit[i]
    state = int(np.argmax(delta))
    path = np.empty(len(frames), dtype=np.int64)
    for i in range(len(frames) - 1, -1, -1):
        path[i] = state
        state = int(back[i, state])
    return np.asarray(beats_s)[path == 0]


def decode_beats(beat_act: np.ndarray, downbeat_act: np.ndarray | None, fps: float,
                 min_bpm: float = 60.0, max_bpm: float = 200.0, tightness: float = 400.0,
                 window_s: float = 12.0, hop_s: float = 3.0, double_ratio: float = 0.5,
                 dnb_ratio: float = 0.3, dnb_two_thirds: bool = False,
                 downbeat_weight: float = 0.3,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Beat and downbeat times (seconds) from frame-wise activations at ``fps``.

    Args:
        beat_act: ``[T]`` beat activation (a network's beat probability, or any
            onset-strength envelope; see :func:`beats_from_onsets`).
        downbeat_act: ``[T]`` downbeat activation, or None (then no downbeats).
        tightness: how strongly beat spacing keeps to the local tempo (Ellis' alpha; 400
            was best on drumnet's threshold-tuning renders, up from 100).
        double_ratio, dnb_ratio: midpoint/on-beat activation ratio needed to double
            the tempo, outside and inside :data:`DNB_RANGE`.
        dnb_two_thirds: also test 1.5x the strongest period for a DnB tempo (for
            generic onset envelopes, not for quarter-note activations).
        downbeat_weight: a downbeat is also a beat: this fraction of the downbeat
            activation is added to the beat activation for tempo and phase (0.3 was best
            on drumnet's threshold-tuning renders; 0 uses the beat activation alone).

    Returns:
        ``(beats_s, downbeats_s)``, both sorted.
    """
    act = np.nan_to_num(np.asarray(beat_act, dtype=np.float64).ravel())
    if downbeat_act is not None and downbeat_weight:
        down = np.nan_to_num(np.asarray(downbeat_act, dtype=np.float64).ravel())
        if len(down) == len(act):
            act = act + downbeat_weight * down
    if len(act) < 3 or act.max() <= 0:
        return np.zeros(0), np.zeros(0)
    centres, bpm = local_tempo(act, fps, min_bpm, max_bpm, window_s, hop_s,
                               double_ratio=double_ratio, dnb_ratio=dnb_ratio,
                               dnb_two_thirds=dnb_two_thirds)
    t = np.arange(len(act)) / fps
    period = 60.0 * fps / np.exp(np.interp(t, centres, np.log(bpm)))
    smooth = gaussian_filter1d(act, 1.0, mode="constant")
    local = smooth / (smooth.std() + 1e-12)
    frames = _dp_beats(local, period, tightness)
    frames = _trim(frames, smooth[frames])
    beats = np.unique(_refine(smooth, frames)) / fps
    downbeats = np.zeros(0)
    if downbeat_act is not None:
        downbeats = downbeats_from_activation(beats, np.asarray(downbeat_act).ravel(), fps)
    return beats, downbeats


def beats_from_onsets(onset_env: np.ndarray, fps: float, min_bpm: float = 60.0,
                      max_bpm: float = 200.0, downbeat_env: np.ndarray | None = None,
                      **kwargs: float) -> tuple[np.ndarray, np.ndarray]:
    """Beats from a generic onset-strength envelope (e.g. drum-informed, kick+snare).

    Unlike a quarter-note activation, an onset envelope fires on eighths, sixteenths
    and syncopations, so doubling needs stronger midpoints and the DnB 2/3 check is on.
    ``downbeat_env`` (e.g. a kick envelope) gives downbeats when given.
    """
    env = np.asarray(onset_env, dtype=np.float64)
    env = np.maximum(env - median_filter(env, size=max(3, int(fps * 0.5)) | 1), 0.0)
    opts: dict = {"double_ratio": 0.8, "dnb_ratio": 0.6, "dnb_two_thirds": True,
                  "downbeat_weight": 0.0} | kwargs
    return decode_beats(env, downbeat_env, fps, min_bpm, max_bpm, **opts)

"""Activations -> hits: per-class peak picking with thresholds tuned on validation, and
cross-class suppression of the confusions the model makes (a tom peak under a stronger
snare peak is the snare heard twice, not a second drum)."""

from __future__ import annotations

import numpy as np

CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")
DEFAULT_THRESHOLDS = {c: 0.5 for c in CLASSES}


def pick_peaks(act: np.ndarray, threshold: float, fps: float, min_gap_s: float = 0.025,
               window: int = 2) -> np.ndarray:
    """Frame indices of local maxima (within ±``window`` frames) above ``threshold``,
    at least ``min_gap_s`` apart (the stronger peak wins)."""
    act = np.asarray(act, dtype=np.float32)
    n = len(act)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    pad = np.pad(act, window, mode="constant", constant_values=-1.0)
    win = np.lib.stride_tricks.sliding_window_view(pad, 2 * window + 1)
    is_max = (act >= win.max(axis=1)) & (act >= threshold)
    idx = np.flatnonzero(is_max)
    if len(idx) < 2:
        return idx
    gap = max(1, int(round(min_gap_s * fps)))  # noqa: RUF046
    keep: list[int] = []
    for i in idx[np.argsort(-act[idx], kind="stable")]:
        if all(abs(i - k) >= gap for k in keep):
            keep.append(int(i))
    return np.array(sorted(keep), dtype=np.int64)


def _refine(act: np.ndarray, i: int) -> float:
    """Parabolic interpolation of the peak position (fraction of a frame)."""
    if 0 < i < len(act) - 1:
        a, b, c = act[i - 1], act[i], act[i + 1]
        den = a - 2 * b + c
        if den < 0:
            return float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    return 0.0


#: Frames either side of a peak in which another class's activation can suppress it.
SUPPRESS_RADIUS = 2


def neighbourhood_max(onsets: np.ndarray) -> np.ndarray:
    """Each class's highest activation within :data:`SUPPRESS_RADIUS` frames: ``[F, C]``."""
    from scipy.ndimage import maximum_filter1d

    return maximum_filter1d(onsets, size=2 * SUPPRESS_RADIUS + 1, axis=0, mode="nearest")


def unsuppressed(act: np.ndarray, near: np.ndarray, rules: dict[str, float],
                 classes: tuple[str, ...] = CLASSES) -> np.ndarray:
    """Which peaks of one class survive ``rules`` ({other class: ratio}): a peak with
    activation ``act[i]`` is dropped when ``near[i, other] > ratio * act[i]``."""
    keep = np.ones(len(act), dtype=bool)
    for other, ratio in rules.items():
        if other in classes:
            keep &= near[:, classes.index(other)] <= ratio * act
    return keep


def activations_to_hits(
    onsets: np.ndarray,
    velocity: np.ndarray | None,
    fps: float,
    thresholds: dict | None = None,
    classes: tuple[str, ...] = CLASSES,
    suppress: dict[str, dict[str, float]] | None = None,
) -> list[tuple[float, str, float, float]]:
    """``onsets``/``velocity``: ``[frames, 5]``; returns ``[(time_s, class, confidence,
    velocity)]`` sorted by time, class names ``kick snare hihat tom cymbal``.

    ``suppress[c][d] = r`` drops a peak of class ``c`` when class ``d``'s activation
    within :data:`SUPPRESS_RADIUS` frames exceeds ``r`` times the peak (ratios are tuned
    per model with the thresholds; see ``train.tune_peak_picking``).
    """
    onsets = np.asarray(onsets, dtype=np.float32)
    th = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    near = neighbourhood_max(onsets) if suppress else None
    hits = []
    for k, cls in enumerate(classes):
        a = onsets[:, k]
        peaks = pick_peaks(a, float(th[cls]), fps)
        if near is not None and len(peaks):
            peaks = peaks[unsuppressed(a[peaks], near[peaks], suppress.get(cls, {}), classes)]
        for i in peaks:
            t = (i + _refine(a, int(i))) / fps
            if velocity is not None:
                v = float(np.clip(velocity[i, k], 0.0, 1.0))
            else:
                v = float(np.clip(a[i], 0.0, 1.0))
            hits.append((max(0.0, float(t)), cls, float(a[i]), v))
    hits.sort(key=lambda h: (h[0], classes.index(h[1])))
    return hits


def activations_to_beats(beats: np.ndarray, fps: float, threshold: float = 0.5,
                         min_gap_s: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Simple peak picking of the beat / downbeat activations ``[frames, 2]`` (a proper
    tempo-aware decoder lives in ``heihachi.music.beat_decoding``)."""
    b = pick_peaks(beats[:, 0], threshold, fps, min_gap_s=min_gap_s, window=3)
    d = pick_peaks(beats[:, 1], threshold, fps, min_gap_s=min_gap_s * 4, window=3)
    return b / fps, d / fps

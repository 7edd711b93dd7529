"""Counting and tabulating drum onsets, beats and tempo per clip, per kit and per
processing group, with 95 % bootstrap intervals (clips resampled with replacement)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")
KSH = (0, 1, 2)


def matched(ref: np.ndarray, est: np.ndarray, window: float) -> int:
    import mir_eval

    if len(ref) == 0 or len(est) == 0:
        return 0
    return len(mir_eval.util.match_events(np.sort(ref), np.sort(est), window))


def f_measure(tp: int, n_ref: int, n_est: int) -> float:
    if n_ref == 0 and n_est == 0:
        return 1.0
    return 2 * tp / (n_ref + n_est) if n_ref + n_est else 0.0


def mean_ksh(tot: np.ndarray) -> float:
    return float(np.mean([f_measure(*tot[k]) for k in KSH]))


def bootstrap_interval(per_clip: np.ndarray, stat, n: int = 1000,
                       seed: int = 0) -> tuple[float, float]:
    """95 % interval of ``stat(counts summed over clips)`` over ``n`` resamplings of the
    clips with replacement; ``per_clip`` is ``[clips, ...]`` of counts."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(per_clip), size=(n, len(per_clip)))
    vals = [stat(per_clip[i].sum(axis=0)) for i in idx]
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return float(lo), float(hi)


def mean_interval(values: list[float], n: int = 1000, seed: int = 0) -> tuple[float, float]:
    v = np.asarray(values, dtype=np.float64)
    if len(v) == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(n, len(v)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def clip_counts(ann: dict, hits: list[dict]) -> np.ndarray:
    """``[classes, 3]``: matched, reference and estimated hits of one clip (50 ms)."""
    out = np.zeros((len(CLASSES), 3), dtype=np.int64)
    for j, c in enumerate(CLASSES):
        ref = np.asarray([t for t, k, _ in ann["hits"] if k == c])
        est = np.asarray([h["time"] for h in hits if h["class"] == c])
        out[j] = (matched(ref, est, 0.05), len(ref), len(est))
    return out


def score_beats(ann: dict, beats: dict) -> tuple[float, int]:
    """(beat F at 70 ms, tempo within 4 %) of one clip."""
    import mir_eval

    bf = float(mir_eval.beat.f_measure(np.asarray(ann["beats"]),
                                       np.asarray(beats["beats"]), 0.07))
    tempo = beats.get("tempo") or 0.0
    return bf, int(abs(tempo - ann["tempo"]) <= 0.04 * ann["tempo"])


def ci_text(lo_hi: tuple[float, float]) -> str:
    return f"[{lo_hi[0]:.3f}, {lo_hi[1]:.3f}]"


def group_table(title: str, keys: list[str], counts: np.ndarray, beat_f: list[float],
                tempo_ok: list[int]) -> list[str]:
    """Rows per group: clips, F per class, mean k/s/h with its 95 % interval, beat F and
    tempo.  ``keys[i]`` is clip i's group."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        groups[k].append(i)
    w = max(12, *(len(k) for k in groups))
    lines = [f"{title:<{w}} {'clips':>5} " + " ".join(f"{c:>6}" for c in CLASSES)
             + f" {'mean k/s/h':>10} {'95% interval':>16} {'beat F':>7} {'tempo':>6}"]
    for k in sorted(groups):
        idx = groups[k]
        tot = counts[idx].sum(axis=0)
        f = [f_measure(*tot[j]) if tot[j][1] else float("nan") for j in range(len(CLASSES))]
        lines.append(f"{k:<{w}} {len(idx):>5} " + " ".join(f"{v:>6.3f}" for v in f)
                     + f" {mean_ksh(tot):>10.3f} "
                     f"{ci_text(bootstrap_interval(counts[idx], mean_ksh)):>16} "
                     f"{np.mean([beat_f[i] for i in idx]):>7.3f} "
                     f"{np.mean([tempo_ok[i] for i in idx]):>6.2f}")
    return lines


def selection_score(tot: np.ndarray) -> float:
    """The candidate-selection score written in the selection rule (ml-notes):
    0.6 * mean k/s/h F + 0.2 * tom F + 0.2 * cymbal F."""
    return 0.6 * mean_ksh(tot) + 0.2 * f_measure(*tot[3]) + 0.2 * f_measure(*tot[4])

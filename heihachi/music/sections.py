"""Sections of a track from per-bar features: novelty boundaries on the bar grid, labels.

Dance music changes section by bringing layers in and out on a downbeat: the drums
drop out for a breakdown, a snare roll builds up, the bass arrives with the drop. So
everything is measured per bar (downbeat to downbeat, from the beat tracker):

- timbre: mean log energy in 24 log-spaced bands (:func:`heihachi.music.spectra.log_bands`),
- loudness and bass level (the lowest bands),
- drum density: hits per bar of each class (from the drums task).

Each group is standardised over the track and weighted equally. The novelty of a bar
is the distance between the mean features of the ``half`` bars before it and the
``half`` bars after it (a two-window form of Foote's checkerboard kernel over the
self-similarity of bars); boundaries are its peaks that stand out from the track's
median novelty by ``threshold`` robust standard deviations, at least ``min_bars``
apart. A boundary is therefore always a downbeat.

Labels use dance music's vocabulary from the same per-bar features: ``drop`` (drums
and bass at the track's high energy), ``breakdown`` (drums or bass gone in the middle),
``build-up`` (the section right before a drop that is not one), ``intro`` and
``outro`` (the first and last sections when they are not drops); sections that sound
alike share a letter (``drop A`` ... ``drop A``, ``drop B``).
"""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass

import numpy as np

DRUM_CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")
LABELS = ("intro", "build-up", "drop", "breakdown", "outro")


@dataclass
class BarFeatures:
    """Per-bar features: ``starts``/``ends`` seconds, ``timbre`` ``[N, B]`` log band
    energies, ``energy`` and ``bass`` ``[N]`` log levels, ``drums`` ``[N, 5]`` log(1 +
    hits per bar) per class."""

    starts: np.ndarray
    ends: np.ndarray
    timbre: np.ndarray
    energy: np.ndarray
    bass: np.ndarray
    drums: np.ndarray

    def __len__(self) -> int:
        return len(self.starts)


def bar_grid(downbeats: np.ndarray, beats: np.ndarray, duration: float,
             fallback_s: float = 2.0) -> np.ndarray:
    """Bar edges (``N + 1`` times) covering ``[0, duration]``: the downbeats; every 4th
    beat without downbeats; fixed ``fallback_s`` blocks without beats (ambient intros,
    silence). Time before the first downbeat becomes a bar of its own when long enough."""
    db = np.sort(np.asarray(downbeats, dtype=np.float64))
    if len(db) < 2:
        b = np.sort(np.asarray(beats, dtype=np.float64))
        db = b[::4] if len(b) >= 8 else np.zeros(0)
    if len(db) < 2:
        n = max(1, int(np.ceil(duration / fallback_s)))
        return np.linspace(0.0, max(duration, fallback_s * 1e-3), n + 1)
    bar = float(np.median(np.diff(db)))
    edges = list(db[db < duration])
    if edges and edges[0] > 0.5 * bar:
        edges.insert(0, 0.0)
    elif edges:
        edges[0] = 0.0
    last = edges[-1] + bar
    edges.append(min(last, duration) if duration > edges[-1] + 0.25 * bar else last)
    return np.asarray(edges)


def bar_features(edges: np.ndarray, frame_times: np.ndarray, bands: np.ndarray,
                 hit_times: np.ndarray, hit_classes: np.ndarray) -> BarFeatures:
    """Average frame features and count drum hits per bar of ``edges``."""
    n = len(edges) - 1
    nb = bands.shape[1] if bands.ndim == 2 else 0
    timbre = np.zeros((n, nb))
    if len(frame_times) and nb:
        idx = np.clip(np.searchsorted(frame_times, edges), 0, len(frame_times))
        sums = np.vstack([np.zeros(nb), np.cumsum(bands, axis=0)])
        counts = np.maximum(idx[1:] - idx[:-1], 0)
        for k in np.flatnonzero(counts == 0):  # a bar shorter than a frame: nearest frame
            j = min(len(frame_times) - 1, idx[k])
            timbre[k] = bands[j]
        has = counts > 0
        timbre[has] = (sums[idx[1:]][has] - sums[idx[:-1]][has]) / counts[has, None]
    power = 10.0 ** timbre
    energy = np.log10(power.sum(axis=1) + 1e-10)
    bass = np.log10(power[:, : max(1, nb // 5)].sum(axis=1) + 1e-10)
    drums = np.zeros((n, len(DRUM_CLASSES)))
    ht = np.asarray(hit_times, dtype=np.float64)
    hc = np.asarray(hit_classes)
    for j, cls in enumerate(DRUM_CLASSES):
        counts, _ = np.histogram(ht[hc == cls], edges)
        drums[:, j] = np.log1p(counts)
    return BarFeatures(edges[:-1], edges[1:], timbre, energy, bass, drums)


def _z(a: np.ndarray) -> np.ndarray:
    a = a.reshape(len(a), -1)
    sd = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0)


def feature_matrix(bars: BarFeatures) -> np.ndarray:
    """``[N, D]``: each group standardised and scaled so each weighs the same."""
    groups = [bars.timbre, bars.drums, bars.energy, bars.bass]
    cols = [_z(g) / np.sqrt(max(1, g.reshape(len(g), -1).shape[1])) for g in groups
            if g.size]
    return np.hstack(cols) if cols else np.zeros((len(bars), 0))


def novelty(x: np.ndarray, half: int = 4) -> np.ndarray:
    """``[N]`` distance between the mean of the ``half`` rows before each row and the
    ``half`` rows from it on (0 for the first row)."""
    n = len(x)
    out = np.zeros(n)
    if n < 2:
        return out
    csum = np.vstack([np.zeros(x.shape[1]), np.cumsum(x, axis=0)])
    for k in range(1, n):
        a0, b1 = max(0, k - half), min(n, k + half)
        before = (csum[k] - csum[a0]) / (k - a0)
        after = (csum[b1] - csum[k]) / (b1 - k)
        out[k] = float(np.linalg.norm(before - after))
    return out


def pick_boundaries(nov: np.ndarray, threshold: float = 1.0, min_bars: int = 4) -> list[int]:
    """Bar indices of novelty peaks above ``median + threshold * 1.4826 * MAD``, the
    strongest first, at least ``min_bars`` apart (and from the track's ends)."""
    n = len(nov)
    if n < 2:
        return []
    med = float(np.median(nov))
    mad = float(np.median(np.abs(nov - med))) + 1e-9
    level = med + threshold * 1.4826 * mad
    cand = [k for k in range(1, n) if nov[k] >= nov[max(0, k - 2):k + 3].max()
            and nov[k] > level]
    chosen: list[int] = []
    for k in sorted(cand, key=lambda i: -nov[i]):
        if k < min_bars // 2 or n - k < min_bars // 2:
            continue
        if all(abs(k - c) >= min_bars for c in chosen):
            chosen.append(k)
    return sorted(chosen)


@dataclass
class SectionSpan:
    """One section before it becomes a result: bar range, label, letter."""

    first_bar: int
    end_bar: int
    start: float
    end: float
    label: str = ""
    letter: str = ""
    energy: float = 0.0


def label_sections(bars: BarFeatures, cuts: list[int], similar: float = 0.75
                   ) -> list[SectionSpan]:
    """Spans between ``cuts`` (bar indices), labelled and lettered."""
    edges = [0, *cuts, len(bars)]
    spans = [SectionSpan(a, b, float(bars.starts[a]), float(bars.ends[b - 1]))
             for a, b in itertools.pairwise(edges) if b > a]
    if not spans:
        return []
    zen, zbass = _z(bars.energy)[:, 0], _z(bars.bass)[:, 0]
    density = bars.drums[:, [0, 1, 2]].sum(axis=1)  # kick + snare + hats
    drum_on = density > 0.25 * max(float(np.percentile(density, 90)), 1e-9)
    for s in spans:
        sl = slice(s.first_bar, s.end_bar)
        s.energy = float(np.mean(zen[sl]))
        drums = float(np.mean(drum_on[sl])) > 0.5
        if drums and s.energy > 0.0 and float(np.mean(zbass[sl])) > 0.0 and len(spans) > 1:
            s.label = "drop"
    for i, s in enumerate(spans):
        if s.label:
            continue
        nxt = spans[i + 1].label if i + 1 < len(spans) else ""
        if i == 0:
            s.label = "intro"
        elif i == len(spans) - 1:
            s.label = "outro"
        elif nxt == "drop":
            s.label = "build-up"
        else:
            s.label = "breakdown"
    if len(spans) == 1:
        spans[0].label = "drop" if float(np.mean(drum_on)) > 0.5 else "breakdown"
    _letters(bars, spans, similar)
    return spans


def _letters(bars: BarFeatures, spans: list[SectionSpan], similar: float) -> None:
    """Same letter for sections whose mean standardised features are within ``similar``
    (RMS distance per feature) of the first section given that letter."""
    x = feature_matrix(bars)
    means = [x[s.first_bar:s.end_bar].mean(axis=0) for s in spans]
    reps: list[tuple[str, np.ndarray]] = []
    letters = iter(string.ascii_uppercase * 4)
    for s, m in zip(spans, means, strict=True):
        # x has four groups of unit variance: half the distance is an RMS per group
        match = next((ltr for ltr, r in reps if np.linalg.norm(m - r) / 2 < similar), None)
        if match is None:
            match = next(letters)
            reps.append((match, m))
        s.letter = match


def segment(edges: np.ndarray, frame_times: np.ndarray, bands: np.ndarray,
            hit_times: np.ndarray, hit_classes: np.ndarray, half: int = 4,
            threshold: float = 1.0, min_bars: int = 4) -> list[SectionSpan]:
    """Sections of a track: bar features, novelty, boundaries, labels (see module doc)."""
    bars = bar_features(edges, frame_times, bands, hit_times, hit_classes)
    if len(bars) == 0:
        return []
    nov = novelty(feature_matrix(bars), half)
    return label_sections(bars, pick_boundaries(nov, threshold, min_bars))

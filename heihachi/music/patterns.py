"""Drum patterns on the beat grid: per-bar step patterns, swing, microtiming, sections.

Hits are quantised to a grid that follows the beats (each beat interval split into
``steps_per_bar / beats_per_bar`` steps, so tempo drift and changes are followed).
Swing is measured first on a straight grid and the hits are then re-quantised to the
swung grid, so that heavy swing does not push off-beat hits onto the wrong step and
microtiming means "how far from the (swung) grid", as a producer reads it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from heihachi.results import DRUM_CLASSES, DrumHit, DrumHits, Result


@dataclass
class BarPattern:
    """One bar: its start time and a step string per class (``"x...x...x...x..."``)."""

    index: int
    start: float
    end: float
    steps: dict[str, str]

    def key(self) -> tuple[str, ...]:
        return tuple(self.steps[c] for c in sorted(self.steps))


@dataclass
class DrumPatterns(Result):
    """Bar patterns, their frequencies, swing, per-class microtiming and section changes.

    Attributes:
        bars: every complete bar with its per-class step pattern.
        common: most frequent bar patterns, ``(steps per class, count)``, most common first.
        microtiming: class -> ``{"mean_ms", "std_ms", "n"}``: offset of hits from the
            nearest (swung) grid step, positive = late.
        swing: 16th-level swing ratio, first 16th of each pair over the second
            (1.0 straight, 2.0 triplet); None without off-beat 16ths.
        swing_8th: the same at the 8th level (first 8th of a beat over the second).
        boundaries: bar indices where a new pattern starts and persists.
        fills: bar indices departing for a single bar from the surrounding pattern.
    """

    task: ClassVar[str] = "patterns"
    schema: ClassVar[str] = "heihachi.patterns/1"

    bars: list[BarPattern]
    common: list[tuple[dict[str, str], int]]
    microtiming: dict[str, dict[str, float]]
    swing: float | None = None
    swing_8th: float | None = None
    boundaries: list[int] = field(default_factory=list)
    fills: list[int] = field(default_factory=list)
    steps_per_bar: int = 16

    def to_json(self) -> dict[str, Any]:
        def r(x: float | None, nd: int = 3) -> float | None:
            return None if x is None else round(float(x), nd)

        return {
            "steps_per_bar": self.steps_per_bar,
            "swing": r(self.swing), "swing_8th": r(self.swing_8th),
            "microtiming": {c: {k: r(v, 2) for k, v in m.items()}
                            for c, m in self.microtiming.items()},
            "common": [{"steps": s, "count": n} for s, n in self.common],
            "boundaries": [{"bar": i, "time": r(self.bars[i].start)} for i in self.boundaries],
            "fills": [{"bar": i, "time": r(self.bars[i].start)} for i in self.fills],
            "bars": [{"index": b.index, "start": r(b.start, 4), "end": r(b.end, 4),
                      "steps": b.steps} for b in self.bars],
        }


def _bar_beats(beats: np.ndarray, downbeats: np.ndarray, beats_per_bar: int) -> list[np.ndarray]:
    """Beat times of each complete bar, plus the closing beat (``beats_per_bar + 1`` each)."""
    if len(beats) < 2:
        return []
    ibi = float(np.median(np.diff(beats)))
    ext = np.append(beats, beats[-1] + ibi)  # close the last bar
    if len(downbeats):
        starts = np.unique(np.abs(beats[None, :] - downbeats[:, None]).argmin(axis=1))
    else:
        starts = np.arange(0, len(beats), beats_per_bar)
    return [ext[s:s + beats_per_bar + 1] for s in starts
            if s + beats_per_bar < len(ext)]


def _grid(bars: list[np.ndarray], per_beat: int, swing_f: float) -> np.ndarray:
    """``[bars, steps]`` grid times; odd steps (pairs of 2) placed at fraction ``swing_f``."""
    frac = np.arange(per_beat) / per_beat
    if per_beat % 2 == 0:
        pair = 2.0 / per_beat
        frac = np.where(np.arange(per_beat) % 2 == 1,
                        frac - 1.0 / per_beat + swing_f * pair, frac)
    rows = []
    for bb in bars:
        start, dur = bb[:-1, None], np.diff(bb)[:, None]
        rows.append((start + frac[None, :] * dur).ravel())
    return np.array(rows)


def _quantise(times: np.ndarray, grid: np.ndarray,
              step_len: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest grid cell of each time: ``(bar, step, offset_s)``; bar -1 = off the grid."""
    flat = grid.ravel()
    order = np.argsort(flat)
    sflat = flat[order]
    pos = np.clip(np.searchsorted(sflat, times), 1, len(sflat) - 1)
    left, right = sflat[pos - 1], sflat[pos]
    idx = np.where(np.abs(times - left) <= np.abs(times - right), pos - 1, pos)
    cell = order[idx]
    bar, step = np.divmod(cell, grid.shape[1])
    offset = times - flat[cell]
    ok = np.abs(offset) <= 0.5 * step_len.ravel()[cell]
    return np.where(ok, bar, -1), step, offset


def _swing_ratio(times: np.ndarray, steps: np.ndarray, bars: np.ndarray,
                 bar_beats: list[np.ndarray], per_beat: int, unit: int) -> float | None:
    """Median position of hits on odd ``unit``-step positions inside their pair, as a ratio."""
    span = 2 * unit  # steps per pair
    odd = (steps % span) == unit
    if not odd.any():
        return None
    fr = []
    for t, s, b in zip(times[odd], steps[odd], bars[odd], strict=True):
        bb = bar_beats[b]
        beat, within = divmod(int(s), per_beat)
        pair0 = (within - unit) / per_beat
        ibi = bb[beat + 1] - bb[beat]
        fr.append((t - (bb[beat] + pair0 * ibi)) / (span / per_beat * ibi))
    f = float(np.clip(np.median(fr), 0.05, 0.95))
    return f / (1.0 - f)


def _distance(a: BarPattern, b: BarPattern) -> float:
    """Hamming distance over all classes' steps, relative to the cells either bar plays."""
    x = np.array([c == "x" for s in a.key() for c in s])
    y = np.array([c == "x" for s in b.key() for c in s])
    union = int((x | y).sum())
    return float((x ^ y).sum() / union) if union else 0.0


def _sections(bars: list[BarPattern], context: int, threshold: float
              ) -> tuple[list[int], list[int]]:
    """Bars starting a new, persisting pattern (boundaries) and one-bar departures (fills)."""
    boundaries: list[int] = []
    fills: list[int] = []
    start = 0
    for i in range(1, len(bars)):
        prev = [b.key() for b in bars[max(start, i - context):i] if b.index not in fills]
        if not prev:
            continue
        dom_key = Counter(prev).most_common(1)[0][0]
        dom = next(b for b in bars[max(start, i - context):i] if b.key() == dom_key)
        if _distance(bars[i], dom) < threshold:
            continue
        if i + 1 < len(bars) and _distance(bars[i + 1], dom) < threshold:
            fills.append(bars[i].index)
            continue
        boundaries.append(i)
        start = i
    return boundaries, fills


def analyze_patterns(hits: list[DrumHit] | DrumHits, beats: np.ndarray, downbeats: np.ndarray,
                     steps_per_bar: int = 16, beats_per_bar: int = 4, top: int = 10,
                     context: int = 4, threshold: float = 0.4) -> DrumPatterns:
    """Patterns of ``hits`` on the grid of ``beats``/``downbeats``.

    Args:
        steps_per_bar: grid resolution (16 = sixteenths in 4/4).
        top: how many of the most common bar patterns to keep.
        context: how many preceding bars define the dominant pattern.
        threshold: relative Hamming distance above which a bar's pattern "differs".
    """
    hit_list = hits.hits if isinstance(hits, DrumHits) else list(hits)
    beats = np.sort(np.asarray(beats, dtype=np.float64))
    downbeats = np.asarray(downbeats, dtype=np.float64)
    per_beat = max(1, steps_per_bar // beats_per_bar)
    bar_beats = _bar_beats(beats, downbeats, beats_per_bar)
    classes = [c for c in DRUM_CLASSES if any(h.drum_class == c for h in hit_list)] + sorted(
        {h.drum_class for h in hit_list} - set(DRUM_CLASSES))
    if not bar_beats or not hit_list:
        return DrumPatterns([], [], {}, steps_per_bar=per_beat * beats_per_bar)
    times = np.array([h.time for h in hit_list])
    cls = np.array([h.drum_class for h in hit_list])
    step_len = np.repeat(np.array([np.diff(bb) for bb in bar_beats]) / per_beat, per_beat, axis=1)

    bar, step, _ = _quantise(times, _grid(bar_beats, per_beat, 0.5), step_len)
    swing = swing8 = None
    swing_f = 0.5
    on = bar >= 0
    if per_beat % 2 == 0 and on.any():
        swing = _swing_ratio(times[on], step[on], bar[on], bar_beats, per_beat, per_beat // 4
                             if per_beat >= 4 else 1)
        if per_beat >= 4:
            swing8 = _swing_ratio(times[on], step[on], bar[on], bar_beats, per_beat,
                                  per_beat // 2)
        if swing is not None:
            swing_f = swing / (1.0 + swing)
            bar, step, _ = _quantise(times, _grid(bar_beats, per_beat, swing_f), step_len)
    grid = _grid(bar_beats, per_beat, swing_f)
    _, _, offset = _quantise(times, grid, step_len)

    n_steps = per_beat * beats_per_bar
    cells = np.zeros((len(bar_beats), len(classes), n_steps), dtype=bool)
    for j, c in enumerate(classes):
        m = (cls == c) & (bar >= 0)
        cells[bar[m], j, step[m]] = True
    bars = [BarPattern(i, float(bb[0]), float(bb[-1]),
                       {c: "".join("x" if v else "." for v in cells[i, j])
                        for j, c in enumerate(classes)})
            for i, bb in enumerate(bar_beats)]

    counts = Counter(b.key() for b in bars)
    names = sorted(classes)
    common = [(dict(zip(names, k, strict=True)), n) for k, n in counts.most_common(top)]
    micro = {}
    for c in classes:
        off = offset[(cls == c) & (bar >= 0)] * 1000.0
        if len(off):
            micro[c] = {"mean_ms": float(off.mean()), "std_ms": float(off.std()),
                        "n": float(len(off))}
    boundaries, fills = _sections(bars, context, threshold)
    return DrumPatterns(bars, common, micro, swing, swing8, boundaries, fills, n_steps)

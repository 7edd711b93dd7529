"""Shared helpers of the writers: bar.beat numbering and result lookup."""

from __future__ import annotations

from typing import Any

import numpy as np

from heihachi.results import Beats, DrumHit, DrumHits

#: below this beat confidence the beats show no pulse (silence, noise), so writers claim
#: no tempo; a tracker that gives no confidence (None) is taken at its word
NO_PULSE_BELOW = 0.5


def has_pulse(beats: Beats) -> bool:
    """A tempo to show: one was found, and the confidence (if any) does not deny a pulse."""
    return beats.tempo is not None and (beats.confidence is None
                                        or beats.confidence >= NO_PULSE_BELOW)


def beat_positions(beats: np.ndarray, downbeats: np.ndarray,
                   beats_per_bar: int = 4) -> list[tuple[int, int]]:
    """``(bar, beat)`` of each beat, both 1-based; bars restart at each downbeat.

    Beats before the first downbeat count backwards into bar 0 (a pickup). Without
    downbeats, every ``beats_per_bar`` beats from the first make a bar.
    """
    beats = np.asarray(beats, dtype=np.float64)
    down = np.asarray(downbeats, dtype=np.float64)
    if len(beats) == 0:
        return []
    if len(down) == 0:
        return [(i // beats_per_bar + 1, i % beats_per_bar + 1) for i in range(len(beats))]
    is_down = np.zeros(len(beats), dtype=bool)
    is_down[np.abs(beats[:, None] - down[None, :]).argmin(axis=0)] = True
    first = int(np.argmax(is_down))
    out: list[tuple[int, int]] = []
    for i in range(first):
        out.append((0, (beats_per_bar - (first - i)) % beats_per_bar + 1))
    bar, beat = 0, 0
    for i in range(first, len(beats)):
        if is_down[i]:
            bar, beat = bar + 1, 1
        else:
            beat += 1
        out.append((bar, beat))
    return out


def get_beats(results: dict[str, Any]) -> Beats | None:
    """The ``beats`` result, if any."""
    res = results.get("beats")
    return res if isinstance(res, Beats) else None


def get_hits(results: dict[str, Any]) -> list[DrumHit]:
    """The drum hits (time order), empty if there is no ``drums`` result."""
    res = results.get("drums")
    return sorted(res.hits, key=lambda h: h.time) if isinstance(res, DrumHits) else []


def get_sections(results: dict[str, Any]) -> list[tuple[float, float, str]]:
    """``(start, end, label)`` of each section: the ``sections`` task's
    (``to_json()["sections"]``), else the pattern changes of ``patterns``."""
    res = results.get("sections")
    if res is not None:
        body = res.to_json() if hasattr(res, "to_json") else res
        rows = body.get("sections", []) if isinstance(body, dict) else []
        return [(float(s["start"]), float(s.get("end", s["start"])), str(s.get("label", "")))
                for s in rows if isinstance(s, dict) and "start" in s]
    patterns = results.get("patterns")
    bounds = list(getattr(patterns, "boundaries", []) or [])
    if not bounds:
        return []
    bars = patterns.bars  # type: ignore[union-attr]
    starts = [bars[i].start for i in bounds]
    ends = [*starts[1:], bars[-1].end]
    return [(float(a), float(b), f"pattern {k + 1}")
            for k, (a, b) in enumerate(zip(starts, ends, strict=True))]

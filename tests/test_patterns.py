"""Drum patterns recovered from synthetic hits on a known grid (swing, microtiming, sections)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from heihachi.music.patterns import DrumPatterns, analyze_patterns
from heihachi.results import DrumHit, DrumHits

TWO_STEP = {"kick": "x.........x.....", "snare": "....x.......x...", "hihat": "x.x.x.x.x.x.x.x."}
FOUR_FLOOR = {"kick": "x...x...x...x...", "snare": "....x.......x...", "hihat": "..x...x...x...x."}


def render(patterns: list[dict[str, str]], bpm: float = 174.0, start: float = 1.0,
           swing: float = 1.0, offsets_ms: dict[str, float] | None = None,
           jitter_ms: float = 0.0, seed: int = 0) -> tuple[list[DrumHit], np.ndarray]:
    """Hits of consecutive one-bar patterns; ``swing`` delays the odd 16ths by that ratio."""
    rng = np.random.default_rng(seed)
    spb = 60.0 / bpm
    sixteenth = spb / 4
    f = swing / (1.0 + swing)  # where the odd 16th sits inside its 8th
    hits = []
    for b, pat in enumerate(patterns):
        for cls, steps in pat.items():
            for s, ch in enumerate(steps):
                if ch != "x":
                    continue
                t = start + b * 4 * spb + (s // 2) * 2 * sixteenth
                t += f * 2 * sixteenth if s % 2 else 0.0
                t += (offsets_ms or {}).get(cls, 0.0) / 1000.0
                t += rng.normal(0, jitter_ms / 1000.0) if jitter_ms else 0.0
                hits.append(DrumHit(t, cls, 0.9, 0.8))
    beats = start + spb * np.arange(4 * len(patterns) + 1)
    return sorted(hits, key=lambda h: h.time), beats


def test_step_patterns_and_counts() -> None:
    hits, beats = render([TWO_STEP] * 6 + [FOUR_FLOOR] * 2)
    res = analyze_patterns(hits, beats, beats[::4])
    assert isinstance(res, DrumPatterns)
    assert len(res.bars) == 8
    assert res.bars[0].steps == TWO_STEP
    assert res.bars[7].steps == FOUR_FLOOR
    assert res.common[0] == (TWO_STEP, 6)
    assert res.common[1] == (FOUR_FLOOR, 2)
    assert res.swing is None  # no off-beat sixteenths played
    assert res.swing_8th == pytest.approx(1.0, abs=0.02)
    for m in res.microtiming.values():
        assert abs(m["mean_ms"]) < 0.5


def test_swing_and_microtiming_recovered() -> None:
    hats16 = {"kick": "x.........x.....", "snare": "....x.......x...", "hihat": "x" * 16}
    hits, beats = render([hats16] * 8, bpm=128, swing=1.5,
                         offsets_ms={"snare": 12.0, "kick": -4.0}, jitter_ms=2.0, seed=1)
    res = analyze_patterns(DrumHits(hits), beats, beats[::4])
    assert res.swing == pytest.approx(1.5, rel=0.05)
    assert res.microtiming["snare"]["mean_ms"] == pytest.approx(12.0, abs=1.5)
    assert res.microtiming["kick"]["mean_ms"] == pytest.approx(-4.0, abs=1.5)
    assert res.microtiming["hihat"]["mean_ms"] == pytest.approx(0.0, abs=1.5)
    assert res.microtiming["snare"]["std_ms"] == pytest.approx(2.0, abs=1.0)
    assert res.bars[3].steps["hihat"] == "x" * 16  # swung hats stay on their steps


def test_heavy_eighth_swing_keeps_steps() -> None:
    """Triplet-feel 16th swing (ratio 2) still quantises every hat to its own step."""
    pat = {"hihat": "x" * 16, "kick": "x...x...x...x..."}
    hits, beats = render([pat] * 4, bpm=100, swing=2.0)
    res = analyze_patterns(hits, beats, beats[::4])
    assert res.swing == pytest.approx(2.0, rel=0.05)
    assert all(b.steps == pat for b in res.bars)


def test_section_boundaries_and_fills() -> None:
    fill = {"kick": "x.x.x.x.x.x.x.x.", "snare": "xxxxxxxxxxxxxxxx", "hihat": "................"}
    bars = [TWO_STEP] * 7 + [fill] + [TWO_STEP] * 4 + [FOUR_FLOOR] * 8
    hits, beats = render(bars)
    res = analyze_patterns(hits, beats, beats[::4])
    assert res.boundaries == [12]
    assert res.fills == [7]


def test_downbeats_set_bar_phase_and_json() -> None:
    hits, beats = render([TWO_STEP] * 4)
    early = np.concatenate([beats[0] - 60 / 174 * np.array([2.0, 1.0]), beats])
    res = analyze_patterns(hits, np.sort(early), beats[::4])
    assert res.bars[0].steps == TWO_STEP
    doc = json.loads(json.dumps(res.to_json()))
    assert doc["steps_per_bar"] == 16
    assert doc["bars"][0]["steps"]["kick"] == TWO_STEP["kick"]
    assert doc["common"][0]["count"] == 4
    assert DrumPatterns.schema == "heihachi.patterns/1" and DrumPatterns.task == "patterns"


def test_no_downbeats_and_empty_inputs() -> None:
    hits, beats = render([TWO_STEP] * 3)
    assert len(analyze_patterns(hits, beats, np.zeros(0)).bars) == 3
    empty = analyze_patterns([], beats, beats[::4])
    assert empty.bars == [] and empty.to_json()["bars"] == []
    assert analyze_patterns(hits, np.zeros(0), np.zeros(0)).bars == []

"""Results of the whole-track analyses: frames, sections, key, energy and mix transitions.

The same contract as :mod:`heihachi.results` (kept apart only for size): ``to_json()``
is the document body (``heihachi process`` writes ``OUT/<track>/<task>.json`` and the
summary in ``analysis.json`` from it; :mod:`heihachi.process.summary` reads ``key`` /
``camelot`` / ``confidence``, ``integrated_lufs`` / ``drops``, ``sections`` and
``transitions`` back), ``schema`` names it, and :class:`Frames` stitches windows by
time like every windowed result.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from heihachi.results import Result


def _r(x: float | None, nd: int = 3) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), nd)


@dataclass
class Frames(Result):
    """Per-frame features of one file: ``values [T, D]`` at ``times [T]`` (seconds).

    What segmenter and key-detector plugins return per window (log bands, semitone
    spectra, a learned model's embeddings or key logits...); ``kind`` says which, for the
    plugin's own finishing step. Stitched by time across windows.
    """

    task: ClassVar[str] = "frames"
    schema: ClassVar[str] = "heihachi.frames/1"

    values: np.ndarray
    times: np.ndarray
    kind: str = ""
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # more per-frame arrays

    def shifted(self, offset: float) -> Frames:
        return replace(self, times=self.times + offset)

    def cropped(self, t0: float, t1: float) -> Frames:
        keep = (self.times >= t0) & (self.times < t1)
        return replace(self, values=self.values[keep], times=self.times[keep],
                       extra={k: v[keep] for k, v in self.extra.items()})

    @classmethod
    def concatenate(cls, parts: list[Frames]) -> Frames:
        first = parts[0]
        return cls(np.concatenate([p.values for p in parts]),
                   np.concatenate([p.times for p in parts]), first.kind,
                   {k: np.concatenate([p.extra[k] for p in parts]) for k in first.extra})

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": list(self.values.shape)}


@dataclass
class KeyEstimate:
    """A key: ``key`` ("A minor"), ``tonic`` (pitch class name), ``mode``, ``camelot``
    ("8A"), ``confidence`` (0-1; low when another key fits almost as well)."""

    key: str
    tonic: str
    mode: str
    camelot: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "tonic": self.tonic, "mode": self.mode,
                "camelot": self.camelot, "confidence": _r(self.confidence)}


@dataclass
class KeyResult(Result):
    """The key of a track (None when nothing tonal plays) and of each of its sections."""

    task: ClassVar[str] = "key"
    schema: ClassVar[str] = "heihachi.key/1"

    estimate: KeyEstimate | None
    sections: list[dict[str, Any]] = field(default_factory=list)  # start, end, key fields

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"key": None, "tonic": None, "mode": None, "camelot": None,
                                "confidence": None}
        if self.estimate is not None:
            body.update(self.estimate.to_json())
        body["sections"] = self.sections
        return body


@dataclass
class Section:
    """One section: ``[start, end)`` seconds, ``label`` (intro, build-up, drop,
    breakdown, outro), ``letter`` (same letter = sounds alike), and whether an
    Amen-style break / a reese bass plays in it (None: not measured). Its key is in the
    ``key`` task's result (``sections``), which runs after this one."""

    start: float
    end: float
    label: str
    letter: str = ""
    amen: bool | None = None
    amen_score: float | None = None
    reese: bool | None = None
    reese_swing_db: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"start": _r(self.start), "end": _r(self.end), "label": self.label,
                "letter": self.letter, "name": f"{self.label} {self.letter}".strip(),
                "amen": self.amen, "amen_score": _r(self.amen_score, 2),
                "reese": self.reese, "reese_swing_db": _r(self.reese_swing_db, 2)}


@dataclass
class Sections(Result):
    """Sections of a track, in time order, covering it."""

    task: ClassVar[str] = "sections"
    schema: ClassVar[str] = "heihachi.sections/1"

    sections: list[Section]

    def boundaries(self) -> list[float]:
        return [s.start for s in self.sections[1:]]

    def to_json(self) -> dict[str, Any]:
        return {"sections": [s.to_json() for s in self.sections],
                "boundaries": [_r(t) for t in self.boundaries()]}


@dataclass
class Energy(Result):
    """Loudness (EBU R128) and the energy curve of a track, and its drops.

    ``curve_*`` hold one value per ``curve_step_s``: short-term-like loudness of each
    step (LUFS) and bass level below 150 Hz (dB).
    """

    task: ClassVar[str] = "energy"
    schema: ClassVar[str] = "heihachi.energy/1"

    integrated_lufs: float | None
    loudness_range_lu: float | None
    momentary_max_lufs: float | None
    short_term_max_lufs: float | None
    peak_dbfs: float | None
    curve_step_s: float
    curve_times: np.ndarray
    curve_lufs: np.ndarray
    curve_bass_db: np.ndarray
    drops: list[dict[str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"integrated_lufs": _r(self.integrated_lufs, 2),
                "loudness_range_lu": _r(self.loudness_range_lu, 2),
                "momentary_max_lufs": _r(self.momentary_max_lufs, 2),
                "short_term_max_lufs": _r(self.short_term_max_lufs, 2),
                "peak_dbfs": _r(self.peak_dbfs, 2),
                "drops": [{k: _r(v, 3) for k, v in d.items()} for d in self.drops],
                "curve": {"step_s": self.curve_step_s,
                          "times": [_r(t, 2) for t in self.curve_times],
                          "lufs": [_r(v, 2) if v > -100 else None for v in self.curve_lufs],
                          "bass_db": [_r(v, 2) if v > -150 else None
                                      for v in self.curve_bass_db]}}


@dataclass
class Transitions(Result):
    """Where each track of a continuous mix gives way to the next."""

    task: ClassVar[str] = "transitions"
    schema: ClassVar[str] = "heihachi.transitions/1"

    transitions: list[Any]  # heihachi.music.transitions.MixTransition

    def to_json(self) -> dict[str, Any]:
        return {"count": len(self.transitions), "transitions": [
            {"time": _r(t.time), "start": _r(t.start), "end": _r(t.end),
             "blend_s": _r(t.blend_s, 2), "kind": t.kind, "beatmatched": t.beatmatched,
             "strength": _r(t.strength, 2)} for t in self.transitions]}

"""Result dataclasses: what each plugin kind returns, and their JSON form.

Every result knows three things the runtime needs to stitch windows of a long
file back together: ``shifted(offset)`` moves its times by the window's start,
``cropped(t0, t1)`` keeps what falls in the part of the file that window owns,
and ``concatenate(parts)`` joins the owned parts in order. ``to_json()`` gives
the document written to ``OUT/<track>/<task>.json`` (it carries ``schema``);
``arrays()`` gives what is too big for JSON (written to ``<task>.npz``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

import numpy as np

DRUM_CLASSES: tuple[str, ...] = ("kick", "snare", "hihat", "tom", "cymbal")


class Result:
    """Base of all results. Subclasses set ``task`` and ``schema``."""

    task: ClassVar[str] = ""
    schema: ClassVar[str] = ""

    def shifted(self, offset: float) -> Self:
        """Return a copy with every time moved by ``offset`` seconds."""
        return self

    def cropped(self, t0: float, t1: float) -> Self:
        """Return a copy keeping only what lies in ``[t0, t1)`` seconds."""
        return self

    @classmethod
    def concatenate(cls, parts: list[Self]) -> Self:
        """Join the owned parts of consecutive windows, in time order."""
        if len(parts) != 1:
            raise NotImplementedError(f"{cls.__name__} cannot be stitched from windows")
        return parts[0]

    def to_json(self) -> dict[str, Any]:
        """The JSON document body (without the envelope the runtime adds)."""
        raise NotImplementedError

    def arrays(self) -> dict[str, np.ndarray]:
        """Arrays to store in ``<task>.npz``; empty when everything fits in JSON."""
        return {}

    @classmethod
    def open_sink(cls, track_dir: Path, options: Any) -> ResultSink | None:
        """A sink that writes window parts to disk as they come (bounded memory), or None.

        Results as long as the audio stream; small ones are stitched in memory. The
        runtime streams :class:`Stems` itself (``heihachi.runtime.stems.StemsSink``); a
        custom result type can stream by overriding this.
        """
        return None


class ResultSink(Protocol):
    """Receives the owned parts of one file's windows, in order, and writes them."""

    def write(self, part: Result) -> None: ...

    def close(self) -> Result:
        """Finish the files (rename into place); return the result for ``<task>.json``."""
        ...

    def abort(self) -> None:
        """Remove whatever was written (the file failed)."""
        ...


def _times_mask(times: np.ndarray, t0: float, t1: float) -> np.ndarray:
    return (times >= t0) & (times < t1)


@dataclass
class Embeddings(Result):
    """HEAR-shaped embeddings of one file.

    Attributes:
        frames: ``[T, D]`` frame embeddings (the selected layer, or the mean of
            the selected layers).
        timestamps: ``[T]`` centre time of each frame, seconds.
        layers: optional ``[L, T, D]`` per-layer frames (``layer=all``).
        pooling: how ``scene`` is made from frames: ``mean`` or ``max``.
    """

    task: ClassVar[str] = "extract"
    schema: ClassVar[str] = "heihachi.extract/1"

    frames: np.ndarray
    timestamps: np.ndarray
    layers: np.ndarray | None = None
    pooling: str = "mean"

    @property
    def scene(self) -> np.ndarray:
        """``[D]`` scene embedding pooled over all frames."""
        if len(self.frames) == 0:
            return np.zeros(self.frames.shape[-1], dtype=np.float32)
        pooled = self.frames.max(axis=0) if self.pooling == "max" else self.frames.mean(axis=0)
        return pooled.astype(np.float32)

    def shifted(self, offset: float) -> Embeddings:
        return replace(self, timestamps=self.timestamps + offset)

    def cropped(self, t0: float, t1: float) -> Embeddings:
        keep = _times_mask(self.timestamps, t0, t1)
        layers = self.layers[:, keep] if self.layers is not None else None
        return replace(self, frames=self.frames[keep], timestamps=self.timestamps[keep],
                       layers=layers)

    @classmethod
    def concatenate(cls, parts: list[Embeddings]) -> Embeddings:
        first = parts[0]
        layers = None
        if first.layers is not None:
            layers = np.concatenate([p.layers for p in parts], axis=1)  # type: ignore[misc]
        return cls(frames=np.concatenate([p.frames for p in parts]),
                   timestamps=np.concatenate([p.timestamps for p in parts]),
                   layers=layers, pooling=first.pooling)

    def to_json(self) -> dict[str, Any]:
        return {
            "frames_shape": list(self.frames.shape),
            "layers_shape": list(self.layers.shape) if self.layers is not None else None,
            "pooling": self.pooling,
            "frame_hop_s": float(np.median(np.diff(self.timestamps)))
            if len(self.timestamps) > 1 else None,
            "arrays": "extract.npz",
        }

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"frames": self.frames.astype(np.float32),
               "timestamps": self.timestamps.astype(np.float64),
               "scene": self.scene}
        if self.layers is not None:
            out["layers"] = self.layers.astype(np.float32)
        return out


@dataclass
class Beats(Result):
    """Beat and downbeat times (seconds), global tempo (BPM), a tempo curve and confidence.

    ``confidence`` (0-1, or None when the tracker gives none) says how sure the tracker
    is of the whole file's beats; ``beat_confidence`` (one value per beat, or None) where
    it is unsure, e.g. weak activations or an off-beat nearly as strong as the beat.  A
    tracker that finds no pulse returns no beats, so ``tempo`` is None, and says how
    little it found in ``confidence``.  ``beats_per_bar`` is the bar length the
    downbeats were decoded with (None when the tracker does not say).
    """

    task: ClassVar[str] = "beats"
    schema: ClassVar[str] = "heihachi.beats/1"

    beats: np.ndarray
    downbeats: np.ndarray = field(default_factory=lambda: np.zeros(0))
    confidence: float | None = None
    beat_confidence: np.ndarray | None = None
    beats_per_bar: int | None = None

    def __post_init__(self) -> None:
        self.beats = np.asarray(self.beats, dtype=np.float64)
        self.downbeats = np.asarray(self.downbeats, dtype=np.float64)
        if self.beat_confidence is not None:
            self.beat_confidence = np.asarray(self.beat_confidence, dtype=np.float64)
            if len(self.beat_confidence) != len(self.beats):
                raise ValueError(f"beat_confidence has {len(self.beat_confidence)} values "
                                 f"for {len(self.beats)} beats")

    @property
    def tempo(self) -> float | None:
        """Global tempo: 60 / median inter-beat interval, None with < 2 beats."""
        if len(self.beats) < 2:
            return None
        return float(60.0 / np.median(np.diff(self.beats)))

    def tempo_curve(self, window_beats: int = 8) -> list[tuple[float, float]]:
        """``(time, bpm)`` pairs: a running median of the local tempo."""
        if len(self.beats) < 2:
            return []
        ibi = np.diff(self.beats)
        out = []
        for i in range(len(ibi)):
            lo, hi = max(0, i - window_beats // 2), min(len(ibi), i + window_beats // 2 + 1)
            out.append((float(self.beats[i]), float(60.0 / np.median(ibi[lo:hi]))))
        return out

    def shifted(self, offset: float) -> Beats:
        return replace(self, beats=self.beats + offset, downbeats=self.downbeats + offset)

    def cropped(self, t0: float, t1: float) -> Beats:
        keep = _times_mask(self.beats, t0, t1)
        conf = self.beat_confidence[keep] if self.beat_confidence is not None else None
        return replace(self, beats=self.beats[keep], beat_confidence=conf,
                       downbeats=self.downbeats[_times_mask(self.downbeats, t0, t1)])

    @classmethod
    def concatenate(cls, parts: list[Beats]) -> Beats:
        conf = [p.confidence for p in parts if p.confidence is not None]
        per_beat = None
        if parts and all(p.beat_confidence is not None for p in parts):
            per_beat = np.concatenate([p.beat_confidence for p in parts])  # type: ignore[misc]
        bars = {p.beats_per_bar for p in parts if p.beats_per_bar is not None}
        return cls(beats=np.concatenate([p.beats for p in parts]),
                   downbeats=np.concatenate([p.downbeats for p in parts]),
                   confidence=float(np.mean(conf)) if conf else None,
                   beat_confidence=per_beat,
                   beats_per_bar=bars.pop() if len(bars) == 1 else None)

    def to_json(self) -> dict[str, Any]:
        per_beat = (None if self.beat_confidence is None
                    else [round(float(c), 3) for c in self.beat_confidence])
        return {
            "beats": [round(float(t), 4) for t in self.beats],
            "downbeats": [round(float(t), 4) for t in self.downbeats],
            "tempo": round(self.tempo, 2) if self.tempo is not None else None,
            "tempo_curve": [[round(t, 3), round(b, 2)] for t, b in self.tempo_curve()],
            "confidence": None if self.confidence is None else round(float(self.confidence), 4),
            "beat_confidence": per_beat,
            "beats_per_bar": self.beats_per_bar,
        }


@dataclass
class Activations(Result):
    """Frame-wise model activations ``[n, C]`` at ``fps`` from time ``start`` on.

    Not written on its own: beat trackers that decode a whole file at once (tempo
    needs context) return these per window and decode them in ``finish()``.
    """

    task: ClassVar[str] = "activations"
    schema: ClassVar[str] = "heihachi.activations/1"

    values: np.ndarray  # [n, C]
    fps: float
    start: float = 0.0

    def times(self) -> np.ndarray:
        return self.start + np.arange(len(self.values)) / self.fps

    def shifted(self, offset: float) -> Activations:
        return replace(self, start=self.start + offset)

    def cropped(self, t0: float, t1: float) -> Activations:
        keep = _times_mask(self.times(), t0 - 0.5 / self.fps, t1 - 0.5 / self.fps)
        idx = np.flatnonzero(keep)
        if len(idx) == 0:
            return replace(self, values=self.values[:0])
        return replace(self, values=self.values[idx[0]:idx[-1] + 1],
                       start=self.start + idx[0] / self.fps)

    @classmethod
    def concatenate(cls, parts: list[Activations]) -> Activations:
        parts = [p for p in parts if len(p.values)]
        if not parts:
            return cls(np.zeros((0, 1), np.float32), 100.0)
        return cls(np.concatenate([p.values for p in parts]), parts[0].fps, parts[0].start)

    def to_json(self) -> dict[str, Any]:
        return {"fps": self.fps, "start": self.start, "shape": list(self.values.shape)}


@dataclass
class DrumHit:
    """One drum hit. ``drum_class`` is one of :data:`DRUM_CLASSES`; ``label`` is the
    model's own, finer label (e.g. ``"ride"`` for class ``cymbal``)."""

    time: float
    drum_class: str
    confidence: float
    velocity: float
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"time": round(self.time, 4), "class": self.drum_class,
                "confidence": round(float(self.confidence), 4),
                "velocity": round(float(self.velocity), 4),
                "label": self.label or self.drum_class}


@dataclass
class DrumHits(Result):
    """Every drum hit of a file, in time order."""

    task: ClassVar[str] = "drums"
    schema: ClassVar[str] = "heihachi.drums/1"

    hits: list[DrumHit]
    #: beats found together with the hits (a model with a beat head), else None
    beats: Beats | None = None
    #: per-window beat activations, decoded into ``beats`` by the plugin's finish()
    activations: Activations | None = None

    def shifted(self, offset: float) -> DrumHits:
        return DrumHits([replace(h, time=h.time + offset) for h in self.hits],
                        self.beats.shifted(offset) if self.beats is not None else None,
                        self.activations.shifted(offset)
                        if self.activations is not None else None)

    def cropped(self, t0: float, t1: float) -> DrumHits:
        return DrumHits([h for h in self.hits if t0 <= h.time < t1],
                        self.beats.cropped(t0, t1) if self.beats is not None else None,
                        self.activations.cropped(t0, t1)
                        if self.activations is not None else None)

    @classmethod
    def concatenate(cls, parts: list[DrumHits]) -> DrumHits:
        hits = [h for p in parts for h in p.hits]
        beats = [p.beats for p in parts if p.beats is not None]
        acts = [p.activations for p in parts if p.activations is not None]
        return cls(sorted(hits, key=lambda h: (h.time, h.drum_class)),
                   Beats.concatenate(beats) if beats else None,
                   Activations.concatenate(acts) if acts else None)

    def counts(self) -> dict[str, int]:
        c = Counter(h.drum_class for h in self.hits)
        return {k: c.get(k, 0) for k in DRUM_CLASSES} | {
            k: v for k, v in c.items() if k not in DRUM_CLASSES}

    def to_json(self) -> dict[str, Any]:
        return {"hits": [h.to_json() for h in self.hits], "counts": self.counts()}


@dataclass
class Stems(Result):
    """Separated stems: name -> ``[C, T]`` float32 waveform at ``sample_rate``.

    ``start`` is where sample 0 lies in the file (seconds); ``shifted`` moves it and
    ``cropped`` cuts by file time, rounding to whole samples so that the owned parts of
    consecutive windows tile the file exactly (no sample lost or repeated).
    """

    task: ClassVar[str] = "separate"
    schema: ClassVar[str] = "heihachi.separate/1"

    stems: dict[str, np.ndarray]
    sample_rate: int
    start: float = 0.0

    def shifted(self, offset: float) -> Stems:
        return replace(self, start=self.start + offset)

    def cropped(self, t0: float, t1: float) -> Stems:
        first = round(self.start * self.sample_rate)
        a = max(0, round(t0 * self.sample_rate) - first)
        b = None if t1 == float("inf") else max(a, round(t1 * self.sample_rate) - first)
        return replace(self, stems={k: v[..., a:b] for k, v in self.stems.items()},
                       start=(first + a) / self.sample_rate)

    @classmethod
    def concatenate(cls, parts: list[Stems]) -> Stems:
        names = list(parts[0].stems)
        return cls({n: np.concatenate([p.stems[n] for p in parts], axis=-1) for n in names},
                   parts[0].sample_rate, parts[0].start)

    def to_json(self) -> dict[str, Any]:
        return {"sample_rate": self.sample_rate,
                "stems": {k: {"channels": int(v.shape[0]),
                              "duration": v.shape[-1] / self.sample_rate}
                          for k, v in self.stems.items()}}


@dataclass
class Caption:
    """Text describing ``[start, end)`` seconds of a file."""

    start: float
    end: float
    text: str
    score: float | None = None


@dataclass
class Captions(Result):
    """Captions per segment, in time order."""

    task: ClassVar[str] = "caption"
    schema: ClassVar[str] = "heihachi.caption/1"

    segments: list[Caption]

    def shifted(self, offset: float) -> Captions:
        return Captions([replace(c, start=c.start + offset, end=c.end + offset)
                         for c in self.segments])

    def cropped(self, t0: float, t1: float) -> Captions:
        # Owned by the segment's centre: with overlapping windows a segment starts before
        # the part of the file its window owns, but its centre always lies inside it.
        return Captions([c for c in self.segments if t0 <= (c.start + c.end) / 2 < t1])

    @classmethod
    def concatenate(cls, parts: list[Captions]) -> Captions:
        return cls([c for p in parts for c in p.segments])

    def to_json(self) -> dict[str, Any]:
        return {"segments": [{"start": round(c.start, 3), "end": round(c.end, 3),
                              "text": c.text, "score": c.score} for c in self.segments]}


@dataclass
class SegmentEmbeddings(Result):
    """One vector per segment ``[start, end)``: what the semantic index stores."""

    task: ClassVar[str] = "embed"
    schema: ClassVar[str] = "heihachi.embed/1"

    starts: np.ndarray
    ends: np.ndarray
    vectors: np.ndarray  # [N, D]

    def shifted(self, offset: float) -> SegmentEmbeddings:
        return replace(self, starts=self.starts + offset, ends=self.ends + offset)

    def cropped(self, t0: float, t1: float) -> SegmentEmbeddings:
        # Owned by the segment's centre (see Captions.cropped), so overlapping windows
        # keep exactly one segment each.
        keep = _times_mask((self.starts + self.ends) / 2, t0, t1)
        return replace(self, starts=self.starts[keep], ends=self.ends[keep],
                       vectors=self.vectors[keep])

    @classmethod
    def concatenate(cls, parts: list[SegmentEmbeddings]) -> SegmentEmbeddings:
        return cls(np.concatenate([p.starts for p in parts]),
                   np.concatenate([p.ends for p in parts]),
                   np.concatenate([p.vectors for p in parts]))

    def to_json(self) -> dict[str, Any]:
        return {"segments": len(self.starts), "dim": int(self.vectors.shape[-1]),
                "arrays": "embed.npz"}

    def arrays(self) -> dict[str, np.ndarray]:
        return {"starts": self.starts, "ends": self.ends,
                "vectors": self.vectors.astype(np.float32)}

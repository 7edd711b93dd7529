"""JAMS annotations (``annotations.jams``): beats, tempo, drum onsets and drum classes.

Written only when the optional ``jams`` package imports; otherwise a
:class:`~heihachi.errors.HeihachiError` says how to get it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heihachi.errors import HeihachiError
from heihachi.export.grid import beat_positions, get_beats, get_hits
from heihachi.runtime.atomic import atomic_path


def _import_jams() -> Any:
    try:
        import jams
    except ImportError as e:
        raise HeihachiError(
            "the 'jams' export needs the jams package, which is not installed: "
            "run `pip install jams` (or drop jams from the export formats)") from e
    return jams


def build_jams(results: dict[str, Any], track_name: str, duration: float | None = None) -> Any:
    """A ``jams.JAMS`` holding a ``beat`` annotation (value = position in bar), ``tempo``,
    ``onset`` (every hit) and ``tag_open`` (hit class, confidence) annotations."""
    jams = _import_jams()
    beats = get_beats(results)
    hits = get_hits(results)
    end = max([0.0] + ([float(beats.beats[-1])] if beats is not None and len(beats.beats)
                       else []) + ([hits[-1].time] if hits else []))
    jam = jams.JAMS()
    jam.file_metadata.title = track_name
    jam.file_metadata.duration = float(duration) if duration else end + 1.0
    meta = {"annotation_tools": "heihachi"}
    if beats is not None:
        ann = jams.Annotation(namespace="beat", annotation_metadata=meta)
        for t, (_, beat) in zip(beats.beats, beat_positions(beats.beats, beats.downbeats),
                                strict=True):
            ann.append(time=float(t), duration=0.0, value=beat, confidence=None)
        jam.annotations.append(ann)
        if beats.tempo is not None:
            tempo = jams.Annotation(namespace="tempo", annotation_metadata=meta)
            tempo.append(time=0.0, duration=jam.file_metadata.duration,
                         value=float(beats.tempo), confidence=1.0)
            jam.annotations.append(tempo)
    if "drums" in results:
        onset = jams.Annotation(namespace="onset", annotation_metadata=meta)
        tags = jams.Annotation(namespace="tag_open", annotation_metadata=meta)
        for h in hits:
            onset.append(time=h.time, duration=0.0, value=None, confidence=None)
            tags.append(time=h.time, duration=0.0, value=h.label or h.drum_class,
                        confidence=float(h.confidence))
        jam.annotations.extend([onset, tags])
    return jam


def write_jams(track_dir: Path, results: dict[str, Any], track_name: str) -> list[Path]:
    """Write ``annotations.jams`` (validated against the JAMS schema) for beats and/or drums."""
    if "beats" not in results and "drums" not in results:
        return []
    jam = build_jams(results, track_name)
    path = Path(track_dir) / "annotations.jams"
    with atomic_path(path) as tmp:
        jam.save(str(tmp), fmt="jams")
    return [path]


def build_track_jams(track: Any) -> Any:
    """A ``jams.JAMS`` of one analysed track of a ``process`` run
    (:class:`heihachi.process.summary.TrackDoc`): ``beat`` (position in bar),
    ``tempo``, ``segment_open`` (sections), ``key_mode`` (key) and ``onset`` +
    ``tag_open`` (drum hits with their class)."""
    jams = _import_jams()
    beats, downbeats = track.beats()
    hits = track.hits()
    sections = track.sections()
    end = max([0.0, *beats[-1:], *[h["time"] for h in hits[-1:]],
               *[float(s.get("end") or 0.0) for s in sections]])
    jam = jams.JAMS()
    jam.file_metadata.title = track.name
    jam.file_metadata.duration = float(track.duration or end + 1.0)
    meta = {"annotation_tools": "heihachi process"}
    if beats:
        ann = jams.Annotation(namespace="beat", annotation_metadata=meta)
        for t, (_bar, beat) in zip(beats, beat_positions(beats, downbeats), strict=True):
            ann.append(time=float(t), duration=0.0, value=beat, confidence=None)
        jam.annotations.append(ann)
        if track.tempo() is not None:
            tempo = jams.Annotation(namespace="tempo", annotation_metadata=meta)
            tempo.append(time=0.0, duration=jam.file_metadata.duration,
                         value=float(track.tempo()), confidence=1.0)
            jam.annotations.append(tempo)
    if sections:
        seg = jams.Annotation(namespace="segment_open", annotation_metadata=meta)
        for s in sections:
            a = float(s["start"])
            b = float(s.get("end") or a)
            seg.append(time=a, duration=max(0.0, b - a), value=str(s.get("label") or ""),
                       confidence=None)
        jam.annotations.append(seg)
    key, _camelot, conf = track.key()
    if key:
        k = jams.Annotation(namespace="key_mode", annotation_metadata=meta)
        k.append(time=0.0, duration=jam.file_metadata.duration, value=jams_key(key),
                 confidence=None if conf is None else float(conf))
        jam.annotations.append(k)
    if hits:
        onset = jams.Annotation(namespace="onset", annotation_metadata=meta)
        tags = jams.Annotation(namespace="tag_open", annotation_metadata=meta)
        for h in hits:
            onset.append(time=float(h["time"]), duration=0.0, value=None, confidence=None)
            tags.append(time=float(h["time"]), duration=0.0,
                        value=h.get("label") or h["class"],
                        confidence=float(h.get("confidence", 1.0)))
        jam.annotations.extend([onset, tags])
    return jam


def jams_key(key: str) -> str:
    """``"A minor"``/``"F# major"``/``"Am"`` -> JAMS ``key_mode`` (``"A:minor"``)."""
    text = key.strip().replace(":", " ")
    parts = text.split()
    if len(parts) >= 2:
        return f"{parts[0]}:{parts[1].lower()}"
    if text.endswith("m") and len(text) > 1:
        return f"{text[:-1]}:minor"
    return f"{text}:major"

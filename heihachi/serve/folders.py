"""Reading a CLI output folder for the explorer: tracks, their documents, waveform, audio.

A folder is what ``heihachi hf ...`` (or a server job) writes: ``summary.json`` and
``<track>/<task>.json`` documents, each carrying ``schema`` and the source ``path``.
The explorer's timeline of a track merges what is there: drum hits (``drums.json``),
beats (``beats.json``), bar patterns and their section boundaries
(``patterns.json``), and from ``heihachi process`` (``analysis.json``, schema
``heihachi.analysis/1``) sections and key, when present.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from itertools import pairwise
from pathlib import Path
from typing import Any

from heihachi.serve.storage import RequestError, inside

_TRACK_DOCS = ("drums", "beats", "patterns", "analysis", "tags", "separate", "extract",
               "embed", "caption")


def list_tracks(root: Path) -> list[dict[str, Any]]:
    """Track folders of ``root`` (a folder holding at least one result document)."""
    if not root.is_dir():
        return []
    out = []
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        tasks = [t for t in _TRACK_DOCS if (d / f"{t}.json").is_file()]
        if tasks:
            out.append({"track": d.name, "tasks": tasks})
    return out


def list_files(root: Path, base: Path | None = None) -> list[str]:
    """Every file under ``root`` (no hidden or temp files), relative to ``base``."""
    base = base or root
    if not root.is_dir():
        return []
    return sorted(str(p.relative_to(base)) for p in root.rglob("*")
                  if p.is_file() and not any(part.startswith(".") for part in
                                             p.relative_to(root).parts))


def read_doc(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def track_docs(root: Path, track: str) -> dict[str, dict[str, Any]]:
    """``task -> document`` of one track (404 for a track that is not there)."""
    tdir = inside(root, track)
    if not tdir.is_dir() or tdir.parent != root.resolve():
        raise RequestError(404, f"no track {track!r}")
    docs = {t: d for t in _TRACK_DOCS if (d := read_doc(tdir / f"{t}.json")) is not None}
    if not docs:
        raise RequestError(404, f"no results for track {track!r}")
    return docs


def source_path(docs: dict[str, dict[str, Any]], allowed_root: Path | None) -> Path | None:
    """The audio a track was made from (its documents' ``path``), if it still exists and,
    with ``allowed_root``, lies inside it."""
    for doc in docs.values():
        p = doc.get("path")
        if not isinstance(p, str):
            continue
        path = Path(p)
        if allowed_root is not None:
            root = allowed_root.resolve()
            if root not in path.resolve().parents:
                continue
        if path.is_file():
            return path
    return None


def timeline(root: Path, track: str) -> dict[str, Any]:
    """What the explorer draws for one track: hits, beats, sections, key, tempo."""
    docs = track_docs(root, track)
    drums, beats = docs.get("drums", {}), docs.get("beats", {})
    patterns, analysis = docs.get("patterns", {}), docs.get("analysis", {})
    hits = [[h.get("time"), h.get("class"), h.get("confidence"), h.get("velocity"),
             h.get("label")] for h in drums.get("hits", []) if isinstance(h, dict)]
    sections = _sections(analysis) or _pattern_sections(patterns)
    durations = [d.get("duration") for d in docs.values() if isinstance(d.get("duration"),
                                                                        int | float)]
    end = max([0.0] + [h[0] for h in hits if isinstance(h[0], int | float)]
              + list(beats.get("beats", []) or []))
    return {"track": track, "duration": max(durations) if durations else end + 1.0,
            "tempo": beats.get("tempo") or analysis.get("tempo"),
            "beats": beats.get("beats", []), "downbeats": beats.get("downbeats", []),
            "hits": hits, "classes": sorted({h[1] for h in hits if h[1]}),
            "sections": sections, "key": _key(analysis),
            "tags": {c: v.get("top") for c, v in docs.get("tags", {}).get("categories",
                                                                             {}).items()},
            "tasks": sorted(docs)}


def _sections(analysis: dict[str, Any]) -> list[dict[str, Any]]:
    """Sections of ``analysis.json``: a list of ``{start, end, label}`` (tolerant of a
    nested ``{"sections": {"sections": [...]}}`` task document)."""
    sec = analysis.get("sections")
    if isinstance(sec, dict):
        sec = sec.get("sections") or sec.get("segments")
    out = []
    for s in sec or []:
        if isinstance(s, dict) and isinstance(s.get("start"), int | float):
            out.append({"start": float(s["start"]),
                        "end": float(s["end"]) if isinstance(s.get("end"), int | float)
                        else None,
                        "label": str(s.get("label") or s.get("name") or "")})
    return out


def _pattern_sections(patterns: dict[str, Any]) -> list[dict[str, Any]]:
    bars = patterns.get("bars") or []
    out = []
    for b in patterns.get("boundaries") or []:
        if isinstance(b, int) and 0 <= b < len(bars) and isinstance(bars[b], dict):
            out.append({"start": float(bars[b].get("start", 0.0)), "end": None,
                        "label": f"bar {b + 1}"})
    return out


def _key(analysis: dict[str, Any]) -> str | None:
    """``"F minor (4A)"`` from the key of ``analysis.json`` (a string, or a document with
    ``key``/``name``, ``mode`` and ``camelot``, possibly under ``global``)."""
    key = analysis.get("key")
    if isinstance(key, dict) and isinstance(key.get("global"), dict):
        key = key["global"]
    if isinstance(key, str):
        return key
    if not isinstance(key, dict):
        return None
    name = key.get("key") or key.get("name") or key.get("label") or key.get("tonic")
    if not isinstance(name, str):
        return None
    mode = key.get("mode")
    text = name if not mode or str(mode) in name else f"{name} {mode}"
    camelot = key.get("camelot")
    return f"{text} ({camelot})" if camelot else text


class Waveforms:
    """Min/max peaks of a track's audio, computed from the file (streamed) and cached."""

    def __init__(self, size: int = 64) -> None:
        self.cache: OrderedDict[tuple[str, float, int], dict[str, Any]] = OrderedDict()
        self.size = size
        self.lock = threading.Lock()

    def peaks(self, path: Path, points: int) -> dict[str, Any]:
        key = (str(path), path.stat().st_mtime, points)
        with self.lock:
            if key in self.cache:
                self.cache.move_to_end(key)
                return self.cache[key]
        doc = compute_peaks(path, points)
        with self.lock:
            self.cache[key] = doc
            while len(self.cache) > self.size:
                self.cache.popitem(last=False)
        return doc


def compute_peaks(path: Path, points: int, rate: int = 8000) -> dict[str, Any]:
    """``points`` (min, max) pairs over the whole file, mono at ``rate``, in 30 s windows."""
    import numpy as np

    from heihachi.errors import AudioError
    from heihachi.runtime.audio import iter_windows

    hop = 80  # 100 envelope values per second at 8 kHz
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    duration = None
    try:
        for w in iter_windows(path, rate, 1, 30.0):
            x = w.audio[0]
            n = len(x) // hop * hop
            if n:
                blocks = x[:n].reshape(-1, hop)
                lo.append(blocks.min(axis=1))
                hi.append(blocks.max(axis=1))
            duration = w.duration if w.last else None
    except AudioError as e:
        raise RequestError(422, f"cannot draw the waveform: {e}") from None
    mins = np.concatenate(lo) if lo else np.zeros(1)
    maxs = np.concatenate(hi) if hi else np.zeros(1)
    edges = np.linspace(0, len(mins), min(points, len(mins)) + 1).astype(int)
    pairs = [(a, b) for a, b in pairwise(edges) if b > a]
    out_lo = [round(float(mins[a:b].min()), 4) for a, b in pairs]
    out_hi = [round(float(maxs[a:b].max()), 4) for a, b in pairs]
    return {"duration": duration, "min": out_lo, "max": out_hi}

"""Read a finished ``process`` run back: per track, its analysis and a one-row summary.

``report.html``, ``heihachi export`` and ``heihachi compare`` all read runs through
here, so the keys they understand of each task's document live in one place:
``sections`` (``sections: [{start, end, label}]``), ``key`` (``key``, ``camelot``,
``confidence``), ``energy`` (``integrated_lufs``, ``drops``), ``transitions``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heihachi.errors import UsageError
from heihachi.process.track import ANALYSIS_FILE, ANALYSIS_SCHEMA


@dataclass
class TrackDoc:
    """One analysed track of a run: its ``analysis.json`` and its task documents."""

    name: str
    dir: Path
    analysis: dict[str, Any]
    _docs: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> str:
        return str(self.analysis.get("path", ""))

    @property
    def duration(self) -> float | None:
        return self.analysis.get("duration")

    def has(self, task: str) -> bool:
        return task in self.analysis.get("tasks", {})

    def doc(self, task: str) -> dict[str, Any] | None:
        """The task's document body (inline in analysis.json, or read from its file)."""
        if task in self._docs:
            return self._docs[task]
        entry = self.analysis.get("tasks", {}).get(task)
        doc = None
        if entry is not None:
            if "result" in entry:
                doc = entry["result"]
            elif entry.get("file"):
                try:
                    doc = json.loads((self.dir / entry["file"]).read_text())
                except (OSError, ValueError):
                    doc = None
        self._docs[task] = doc
        return doc

    # -- what the tables show ------------------------------------------------------------
    def beats(self) -> tuple[list[float], list[float]]:
        d = self.doc("beats") or {}
        return list(d.get("beats", [])), list(d.get("downbeats", []))

    def tempo(self) -> float | None:
        return (self.doc("beats") or {}).get("tempo")

    def hits(self) -> list[dict[str, Any]]:
        return list((self.doc("drums") or {}).get("hits", []))

    def counts(self) -> dict[str, int]:
        return dict((self.doc("drums") or {}).get("counts", {}))

    def key(self) -> tuple[str | None, str | None, float | None]:
        d = self.doc("key") or {}
        return d.get("key"), d.get("camelot"), d.get("confidence")

    def loudness(self) -> float | None:
        d = self.doc("energy") or {}
        v = d.get("integrated_lufs")
        if v is None and isinstance(d.get("loudness"), dict):
            v = d["loudness"].get("integrated_lufs", d["loudness"].get("integrated"))
        return v

    def sections(self) -> list[dict[str, Any]]:
        """``[{start, end, label}]``: the sections task's, else the pattern changes."""
        d = self.doc("sections")
        if d and isinstance(d.get("sections"), list):
            return [s for s in d["sections"] if isinstance(s, dict) and "start" in s]
        p = self.doc("patterns")
        if p and p.get("boundaries"):
            starts = [b["time"] for b in p["boundaries"] if b.get("time") is not None]
            ends = [*starts[1:], self.duration or (starts[-1] if starts else 0.0)]
            return [{"start": a, "end": b, "label": f"pattern {i + 1}"}
                    for i, (a, b) in enumerate(zip(starts, ends, strict=True))]
        return []

    def transitions(self) -> list[dict[str, Any]]:
        d = self.doc("transitions") or {}
        return [t for t in d.get("transitions", []) if isinstance(t, dict)]

    def row(self) -> dict[str, Any]:
        """The one-row summary of the collection exports and the report."""
        key, camelot, key_conf = self.key()
        tempo = self.tempo()
        return {"track": self.name, "path": self.path,
                "duration": _r(self.duration, 2), "tempo": _r(tempo, 2),
                "key": key, "camelot": camelot, "key_confidence": _r(key_conf, 3),
                "loudness_lufs": _r(self.loudness(), 2), "counts": self.counts(),
                "sections": [{"start": _r(s.get("start"), 3), "end": _r(s.get("end"), 3),
                              "label": s.get("label")} for s in self.sections()]}


def _r(x: Any, nd: int) -> float | None:
    return None if x is None else round(float(x), nd)


def read_run(out: str | Path) -> list[TrackDoc]:
    """Every track of the run in ``out`` that has an ``analysis.json``, by name.

    Raises:
        UsageError: ``out`` is not a directory or holds no analysed track.
    """
    out = Path(out)
    if not out.is_dir():
        raise UsageError(f"{out}: not a directory (give the --output of a `process` run)")
    docs = []
    for p in sorted(out.glob(f"*/{ANALYSIS_FILE}")):
        try:
            doc = json.loads(p.read_text())
        except (OSError, ValueError) as e:
            raise UsageError(f"{p}: unreadable ({e}); rerun `heihachi process`") from None
        if doc.get("schema") != ANALYSIS_SCHEMA:
            continue
        docs.append(TrackDoc(p.parent.name, p.parent, doc))
    if not docs:
        raise UsageError(f"{out}: no analysed tracks ({ANALYSIS_FILE}); run "
                         f"`heihachi process PATHS --output {out}` first")
    return docs

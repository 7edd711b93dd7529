"""A whole ``process`` run as one file: ``heihachi export OUT --format FMT``.

``json``, ``csv`` and ``markdown`` hold one row per track (tempo, key and Camelot
code, duration, loudness, hits per class, sections); ``jams`` holds one JAMS file per
track under ``OUT/jams/`` (beats, tempo, sections, key and drum hits, validated
against the JAMS schema) and an index; ``rekordbox`` and ``traktor`` write the DJ
software collections (:mod:`heihachi.export.rekordbox`, :mod:`heihachi.export.traktor`).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from heihachi.results import DRUM_CLASSES
from heihachi.runtime.atomic import write_text

COLLECTION_SCHEMA = "heihachi.collection/1"


def _rows(out: Path) -> list[Any]:
    from heihachi.process.summary import read_run

    return read_run(out)


def _classes(rows: list[dict[str, Any]]) -> list[str]:
    seen = {c for r in rows for c in r["counts"]}
    return [c for c in DRUM_CLASSES if c in seen] + sorted(seen - set(DRUM_CLASSES))


def _sections_text(sections: list[dict[str, Any]]) -> str:
    return " ".join(f"{s['label']}@{s['start']:.1f}" for s in sections
                    if s.get("start") is not None)


def export_json(out: Path, dest: Path | None = None) -> Path:
    rows = [t.row() for t in _rows(out)]
    doc = {"schema": COLLECTION_SCHEMA, "run": str(out), "tracks": rows}
    return write_text(dest or out / "collection.json", json.dumps(doc, indent=2) + "\n")


def table(out: Path) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the flat table (csv and markdown)."""
    rows = [t.row() for t in _rows(out)]
    classes = _classes(rows)
    head = ["track", "duration", "tempo", "key", "camelot", "loudness_lufs",
            *classes, "sections"]
    body = [[r["track"], r["duration"], r["tempo"], r["key"], r["camelot"],
             r["loudness_lufs"], *[r["counts"].get(c, 0) for c in classes],
             _sections_text(r["sections"])] for r in rows]
    return head, body


def export_csv(out: Path, dest: Path | None = None) -> Path:
    head, body = table(out)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    w.writerows([["" if v is None else v for v in row] for row in body])
    return write_text(dest or out / "collection.csv", buf.getvalue())


def _md_cell(v: Any) -> str:
    return "" if v is None else str(v).replace("|", "\\|")


def export_markdown(out: Path, dest: Path | None = None) -> Path:
    head, body = table(out)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in body]
    return write_text(dest or out / "collection.md", "\n".join(lines) + "\n")


def export_jams(out: Path, dest: Path | None = None) -> Path:
    """One ``.jams`` per track in ``OUT/jams/`` (or ``dest``); returns the folder."""
    from heihachi.export.jams_writer import build_track_jams
    from heihachi.runtime.atomic import atomic_path

    folder = dest or out / "jams"
    folder.mkdir(parents=True, exist_ok=True)
    for t in _rows(out):
        jam = build_track_jams(t)
        with atomic_path(folder / f"{t.name}.jams") as tmp:
            jam.save(str(tmp), fmt="jams")
    return folder


def _rekordbox(out: Path, dest: Path | None = None) -> Path:
    from heihachi.export.rekordbox import write_rekordbox

    return write_rekordbox(_rows(out), dest or out / "rekordbox.xml")


def _traktor(out: Path, dest: Path | None = None) -> Path:
    from heihachi.export.traktor import write_traktor

    return write_traktor(_rows(out), dest or out / "collection.nml")


COLLECTION_FORMATS: dict[str, Callable[..., Path]] = {
    "json": export_json, "csv": export_csv, "markdown": export_markdown,
    "jams": export_jams, "rekordbox": _rekordbox, "traktor": _traktor,
}


def export_run(out: str | Path, fmt: str, dest: str | Path | None = None) -> Path:
    """Write ``fmt`` for the run in ``out``; returns the path written."""
    from heihachi.errors import UsageError

    if fmt not in COLLECTION_FORMATS:
        raise UsageError(f"--format {fmt}: choose from {', '.join(COLLECTION_FORMATS)}")
    return COLLECTION_FORMATS[fmt](Path(out), Path(dest) if dest else None)

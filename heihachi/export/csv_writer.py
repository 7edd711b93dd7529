"""CSV tables: ``hits.csv`` (one row per drum hit) and ``beats.csv`` (one row per beat)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from heihachi.export.grid import beat_positions, get_beats, get_hits
from heihachi.runtime.atomic import write_text


def _table(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_csv(track_dir: Path, results: dict[str, Any], track_name: str) -> list[Path]:
    """Write ``hits.csv`` and/or ``beats.csv`` for whichever results are present."""
    out: list[Path] = []
    track_dir = Path(track_dir)
    if "drums" in results:
        rows = [[f"{h.time:.4f}", h.drum_class, f"{h.confidence:.4f}", f"{h.velocity:.4f}",
                 h.label or h.drum_class] for h in get_hits(results)]
        out.append(write_text(track_dir / "hits.csv",
                              _table(["time", "class", "confidence", "velocity", "label"], rows)))
    beats = get_beats(results)
    if beats is not None:
        pos = beat_positions(beats.beats, beats.downbeats)
        rows = [[f"{t:.4f}", bar, beat, int(beat == 1)]
                for t, (bar, beat) in zip(beats.beats, pos, strict=True)]
        out.append(write_text(track_dir / "beats.csv",
                              _table(["time", "bar", "beat", "downbeat"], rows)))
    return out

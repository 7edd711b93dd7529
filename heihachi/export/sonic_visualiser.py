"""Sonic Visualiser annotation layers: ``beats.beats`` and ``sections.txt``.

Both are the plain text that Sonic Visualiser's *File > Import Annotation Layer*
reads (one event per line, tab-separated columns; see its reference manual,
"Annotation Layer Import"):

- ``beats.beats``: ``time<TAB>beat`` — a time-instants layer labelled with the beat's
  position in its bar (1 = downbeat), the layout of the common ``.beats`` beat
  annotation files (e.g. the Ballroom and Böck datasets), also read by
  ``mir_eval.io.load_labeled_events``;
- ``sections.txt``: ``start<TAB>end<TAB>label`` — a regions layer, one per section
  (read back by ``mir_eval.io.load_labeled_intervals``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heihachi.export.grid import beat_positions, get_beats, get_sections
from heihachi.runtime.atomic import write_text


def write_sv(track_dir: Path, results: dict[str, Any], track_name: str) -> list[Path]:
    """Write ``beats.beats`` (with beats) and ``sections.txt`` (with sections)."""
    out: list[Path] = []
    beats = get_beats(results)
    if beats is not None and len(beats.beats):
        pos = beat_positions(beats.beats, beats.downbeats)
        text = "".join(f"{t:.6f}\t{beat}\n" for t, (_bar, beat) in zip(beats.beats, pos,
                                                                       strict=True))
        out.append(write_text(Path(track_dir) / "beats.beats", text))
    sections = get_sections(results)
    if sections:
        text = "".join(f"{a:.6f}\t{b:.6f}\t{label}\n" for a, b, label in sections)
        out.append(write_text(Path(track_dir) / "sections.txt", text))
    return out


def read_beats(path: Path) -> list[tuple[float, int]]:
    """``(time, beat in bar)`` pairs of a ``.beats`` file."""
    rows = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if parts:
            rows.append((float(parts[0]), int(float(parts[1])) if len(parts) > 1 else 0))
    return rows

"""Audacity label track (``labels.txt``): ``start<TAB>end<TAB>label`` per line.

Beats are labelled ``beat <bar>.<beat>``, hits by class (or the model's finer label),
and section boundaries from the pattern analysis as ``section``. Point labels
(start == end), sorted by time, so File > Import > Labels shows one track.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heihachi.export.grid import beat_positions, get_beats, get_hits
from heihachi.runtime.atomic import write_text


def label_lines(results: dict[str, Any]) -> list[tuple[float, float, str]]:
    """``(start, end, label)`` for every beat, hit and section start, in time order."""
    items: list[tuple[float, float, str]] = []
    beats = get_beats(results)
    if beats is not None:
        for t, (bar, beat) in zip(beats.beats, beat_positions(beats.beats, beats.downbeats),
                                  strict=True):
            items.append((float(t), float(t), f"beat {bar}.{beat}"))
    for h in get_hits(results):
        name = h.drum_class if not h.label or h.label == h.drum_class else \
            f"{h.drum_class}:{h.label}"
        items.append((h.time, h.time, name))
    patterns = results.get("patterns")
    for i in getattr(patterns, "boundaries", []):
        bar = patterns.bars[i]  # type: ignore[union-attr]
        items.append((bar.start, bar.end, f"section (bar {i + 1})"))
    return sorted(items, key=lambda x: (x[0], x[2]))


def write_labels(track_dir: Path, results: dict[str, Any], track_name: str) -> list[Path]:
    """Write ``labels.txt``, or nothing when there is no beat, drum or pattern result.

    With such a result but nothing in it (silence, an abstaining tracker) the file is
    empty, which Audacity imports as an empty label track: the file asked for is there
    for scripts that read it.
    """
    lines = label_lines(results)
    if not lines and not any(k in results for k in ("beats", "drums", "patterns")):
        return []
    text = "".join(f"{a:.6f}\t{b:.6f}\t{lab}\n" for a, b, lab in lines)
    return [write_text(Path(track_dir) / "labels.txt", text)]

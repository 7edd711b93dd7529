"""What the Rekordbox and Traktor writers share: keys, local tempo, cue points."""

from __future__ import annotations

from typing import Any

import numpy as np

PITCHES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#", "Cb": "B", "Fb": "E",
          "E#": "F", "B#": "C"}


def parse_key(key: str | None) -> tuple[int, bool] | None:
    """``"A minor"``, ``"F# major"``, ``"Am"``, ``"Bbm"`` -> ``(pitch class, minor)``."""
    if not key:
        return None
    text = key.strip().replace(":", " ")
    parts = text.split()
    if len(parts) >= 2:
        tonic, minor = parts[0], parts[1].lower().startswith("min")
    else:
        minor = text.endswith("m") and len(text) > 1
        tonic = text[:-1] if minor else text
    tonic = tonic[:1].upper() + tonic[1:]
    tonic = _FLATS.get(tonic, tonic)
    if tonic not in PITCHES:
        return None
    return PITCHES.index(tonic), minor


def short_key(key: str | None) -> str:
    """Classic short notation (``"Am"``, ``"F#"``): Rekordbox's ``Tonality``."""
    parsed = parse_key(key)
    if parsed is None:
        return ""
    pc, minor = parsed
    return PITCHES[pc] + ("m" if minor else "")


def bar_tempi(beats: list[float], downbeats: list[float]) -> list[tuple[float, float, int]]:
    """``(time, local BPM, beat number in bar)`` at each bar start: the beat grid.

    One marker per bar keeps a drifting or changing tempo (a DJ mix) on the grid;
    without downbeats every fourth beat starts a bar.
    """
    from heihachi.export.grid import beat_positions

    b = np.asarray(beats, dtype=np.float64)
    if len(b) < 2:
        return []
    pos = beat_positions(b, np.asarray(downbeats, dtype=np.float64))
    ibi = np.diff(b)
    out = []
    for i, (_bar, beat) in enumerate(pos):
        if beat != 1 and i != 0:
            continue
        window = ibi[i:i + 4] if i < len(ibi) else ibi[-4:]
        out.append((float(b[i]), float(60.0 / np.mean(window)), int(beat)))
    return out


def section_cues(track: Any) -> list[tuple[float, str]]:
    """``(start, name)`` of every section: the cue points."""
    return [(float(s["start"]), str(s.get("label") or f"section {i + 1}"))
            for i, s in enumerate(track.sections()) if s.get("start") is not None]


def write_xml(tree: Any, dest: Any) -> Any:
    """Write an ElementTree as UTF-8 with its declaration, atomically; returns the path."""
    import io
    from pathlib import Path

    from heihachi.runtime.atomic import write_bytes

    buf = io.BytesIO()
    tree.write(buf, encoding="UTF-8", xml_declaration=True)
    return write_bytes(Path(dest), buf.getvalue())

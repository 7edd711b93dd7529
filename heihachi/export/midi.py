"""Drum hits as a General MIDI drum track with a tempo map that follows the beats.

Every beat falls on a quarter note (480 ticks per quarter) to within 20 ms, and the
tempo map holds one tempo over each stretch of steady beats, with a ``set_tempo``
event only where the tempo really changes (a tracker's frame-rounding wobble is no
change). So the MIDI grid lines up with the music in a DAW, a steady track has one
tempo, *and* every note plays at its real time (within half a tick, well under 1 ms).
Before the first beat and after the last, the nearest tempo continues. ``mido`` is
imported only when writing.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from heihachi.export.grid import get_beats, get_hits
from heihachi.results import DrumHit
from heihachi.runtime.atomic import atomic_path

PPQ = 480
DRUM_CHANNEL = 9  # MIDI channel 10, zero-based
GM_NOTES: dict[str, int] = {"kick": 36, "snare": 38, "hihat": 42, "tom": 47, "cymbal": 49,
                            "clap": 39, "rim": 37, "cowbell": 56, "shaker": 70}
NOTE_LENGTH = PPQ // 8


def gm_note(hit: DrumHit) -> int | None:
    """The GM drum note of a hit; the finer label picks toms, ride, open/pedal hats."""
    label = (hit.label or "").lower()
    if hit.drum_class == "tom":
        if any(k in label for k in ("floor", "low")):
            return 45
        if "high" in label or label.startswith("hi") or "rack" in label:
            return 50
        return 47
    if hit.drum_class == "cymbal":
        if "ride" in label:
            return 51
        if "china" in label:
            return 52
        if "splash" in label:
            return 55
        return 49
    if hit.drum_class == "hihat":
        if "open" in label:
            return 46
        if "pedal" in label or "foot" in label:
            return 44
        return 42
    if hit.drum_class == "snare" and ("rim" in label or "side" in label):
        return 37
    return GM_NOTES.get(hit.drum_class)


def velocity_of(v: float) -> int:
    """MIDI velocity 1-127 from a hit velocity in [0, 1] (values > 1 taken as MIDI already)."""
    v = float(v)
    return int(np.clip(round(v * 127) if v <= 1.0 else round(v), 1, 127))


#: a beat further than this from a steady tempo grid starts a new tempo in the map
STEADY_TOLERANCE_S = 0.02


def steady_stretches(beats: np.ndarray, tolerance: float = STEADY_TOLERANCE_S) -> list[int]:
    """Indices of the beats where the tempo changes (first and last beat included).

    Between two consecutive indices one steady tempo puts every beat within
    ``tolerance`` seconds (the Ramer-Douglas-Peucker split of beat time over beat
    number), so a tracker's frame-rounding wobble is no tempo change, a real change
    or a ramp is.
    """
    n = len(beats)
    keep = {0, n - 1}
    stack = [(0, n - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        steps = np.arange(b - a + 1)
        line = beats[a] + (beats[b] - beats[a]) * steps / (b - a)
        dev = np.abs(beats[a:b + 1] - line)
        k = int(np.argmax(dev))
        if dev[k] > tolerance:
            keep.add(a + k)
            stack += [(a, a + k), (a + k, b)]
    return sorted(keep)


class TempoMap:
    """Seconds <-> ticks over a tempo map that is steady where the beats are.

    Beat ``i`` is quarter note ``i`` (tick ``tick0 + i * PPQ``) to within
    :data:`STEADY_TOLERANCE_S`; the tempo changes only at the beats
    :func:`steady_stretches` finds. Before the first beat the first tempo holds, after
    the last the last one. Times convert through the integer tempos actually written,
    so notes play at their own times (within half a tick).
    """

    def __init__(self, beats: np.ndarray) -> None:
        beats = np.unique(np.asarray(beats, dtype=np.float64))
        beats = beats[beats >= 0]
        if len(beats) < 2:
            beats = np.array([0.0, 0.5])  # 120 BPM when there is no usable beat grid
        self.beats = beats
        knots = steady_stretches(beats)
        periods = [(beats[b] - beats[a]) / (b - a) for a, b in pairwise(knots)]
        self.tick0 = round(beats[0] / periods[0] * PPQ)
        events = [(0, _us(periods[0]))]
        events += [(self.tick0 + a * PPQ, _us(p)) for a, p in zip(knots, periods, strict=False)]
        self.events: list[tuple[int, int]] = []
        for tick, us in events:
            if self.events and self.events[-1][0] == tick:
                self.events[-1] = (tick, us)
            elif not self.events or self.events[-1][1] != us:
                self.events.append((tick, us))
        ticks = np.array([t for t, _ in self.events], dtype=np.float64)
        us = np.array([u for _, u in self.events], dtype=np.float64)
        self._ticks, self._sec_per_tick = ticks, us / 1e6 / PPQ
        self._times = np.concatenate([[0.0], np.cumsum(np.diff(ticks) * self._sec_per_tick[:-1])])

    def to_ticks(self, t: np.ndarray) -> np.ndarray:
        """Ticks (rounded) of times ``t`` in seconds."""
        t = np.asarray(t, dtype=np.float64)
        k = np.clip(np.searchsorted(self._times, t, side="right") - 1, 0, len(self._times) - 1)
        x = self._ticks[k] + (t - self._times[k]) / self._sec_per_tick[k]
        return np.maximum(np.round(x), 0).astype(np.int64)

    def tempo_events(self) -> list[tuple[int, int]]:
        """``(tick, microseconds per quarter)`` where the tempo changes."""
        return list(self.events)


def _us(seconds_per_beat: float) -> int:
    return max(1, min(round(seconds_per_beat * 1e6), 0xFFFFFF))


def meta_text(text: str) -> str:
    """``text`` for a MIDI text meta event, stored as UTF-8 bytes.

    mido writes meta text as latin-1, which cannot hold ``ドラム`` or an em dash;
    giving it the UTF-8 bytes as latin-1 characters stores the UTF-8 encoding, which
    DAWs that read UTF-8 names show as written (others show the bytes, never fail).
    """
    return text.encode("utf-8").decode("latin-1")


def drums_to_midi(hits: list[DrumHit], beats: np.ndarray | None, path: Path,
                  track_name: str = "drums") -> Path:
    """Write ``hits`` as a type-1 MIDI file (tempo track + GM drums on channel 10)."""
    import mido

    tmap = TempoMap(np.zeros(0) if beats is None else beats)
    tempo_track = mido.MidiTrack()
    tempo_track.append(mido.MetaMessage("track_name", name=meta_text(track_name), time=0))
    tempo_track.append(mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    last = 0
    for tick, us in tmap.tempo_events():
        tempo_track.append(mido.MetaMessage("set_tempo", tempo=us, time=tick - last))
        last = tick
    tempo_track.append(mido.MetaMessage("end_of_track", time=0))

    notes = [(h, gm_note(h)) for h in sorted(hits, key=lambda h: h.time)]
    notes = [(h, n) for h, n in notes if n is not None]
    ticks = tmap.to_ticks(np.array([h.time for h, _ in notes]))
    events: list[tuple[int, int, int, int]] = []  # (tick, order, note, velocity)
    next_on: dict[int, int] = {}
    for (h, note), tick in sorted(zip(notes, ticks, strict=True), key=lambda x: -x[1]):
        if next_on.get(note) == int(tick):
            continue  # the same note twice on one tick plays once
        # end before the next hit of the same note, so re-readers pair on/off correctly
        end = min(int(tick) + NOTE_LENGTH, next_on.get(note, 1 << 62))
        events.append((max(end, int(tick)), 0, note, 0))
        events.append((int(tick), 1, note, velocity_of(h.velocity)))
        next_on[note] = int(tick)
    events.sort()
    drum_track = mido.MidiTrack()
    drum_track.append(mido.MetaMessage("track_name", name="drums", time=0))
    last = 0
    for tick, is_on, note, vel in events:
        kind = "note_on" if is_on else "note_off"
        drum_track.append(mido.Message(kind, channel=DRUM_CHANNEL, note=note, velocity=vel,
                                       time=tick - last))
        last = tick
    drum_track.append(mido.MetaMessage("end_of_track", time=0))

    mid = mido.MidiFile(type=1, ticks_per_beat=PPQ)
    mid.tracks.extend([tempo_track, drum_track])
    with atomic_path(Path(path)) as tmp:
        mid.save(str(tmp))
    return Path(path)


def write_midi(track_dir: Path, results: dict[str, Any], track_name: str) -> list[Path]:
    """Write ``drums.mid`` when there are drum hits (tempo map from ``beats`` if present)."""
    if "drums" not in results:
        return []
    beats = get_beats(results)
    return [drums_to_midi(get_hits(results), beats.beats if beats is not None else None,
                          Path(track_dir) / "drums.mid", track_name=track_name)]

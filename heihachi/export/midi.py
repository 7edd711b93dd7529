"""Drum hits as a General MIDI drum track with a tempo map that follows the beats.

Every beat falls on a whole quarter note (480 ticks per quarter) and a ``set_tempo``
event at each beat whose tempo differs sets the length of that quarter, so the MIDI
grid lines up with the music in a DAW *and* every note plays at its real time (within
half a tick, well under 1 ms). Before the first beat and after the last, the nearest
beat interval continues. ``mido`` is imported only when writing.
"""

from __future__ import annotations

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


class TempoMap:
    """Seconds <-> ticks with beat ``i`` at tick ``tick0 + i * PPQ``."""

    def __init__(self, beats: np.ndarray) -> None:
        beats = np.unique(np.asarray(beats, dtype=np.float64))
        beats = beats[beats >= 0]
        if len(beats) < 2:
            beats = np.array([0.0, 0.5])  # 120 BPM when there is no usable beat grid
        self.beats = beats
        ibi = np.diff(beats)
        self.first_ibi, self.last_ibi = float(ibi[0]), float(ibi[-1])
        self.tick0 = round(beats[0] / self.first_ibi * PPQ)
        self.ticks = self.tick0 + PPQ * np.arange(len(beats))

    def to_ticks(self, t: np.ndarray) -> np.ndarray:
        """Ticks (rounded) of times ``t`` in seconds."""
        t = np.asarray(t, dtype=np.float64)
        b, k = self.beats, self.ticks
        x = np.interp(t, b, k)
        before, after = t < b[0], t > b[-1]
        if self.tick0 > 0:
            x = np.where(before, t / b[0] * self.tick0, x)
        else:
            x = np.where(before, 0, x)
        x = np.where(after, k[-1] + (t - b[-1]) / self.last_ibi * PPQ, x)
        return np.maximum(np.round(x), 0).astype(np.int64)

    def tempo_events(self) -> list[tuple[int, int]]:
        """``(tick, microseconds per quarter)`` where the tempo changes."""
        events: list[tuple[int, int]] = []
        if self.tick0 > 0:
            events.append((0, round(self.beats[0] * 1e6 * PPQ / self.tick0)))
        for i, d in enumerate(np.diff(self.beats)):
            events.append((int(self.ticks[i]), round(d * 1e6)))
        events.append((int(self.ticks[-1]), round(self.last_ibi * 1e6)))
        out: list[tuple[int, int]] = []
        for tick, us in events:
            if not out or out[-1][1] != us:
                out.append((tick, max(1, min(us, 0xFFFFFF))))
        return out


def drums_to_midi(hits: list[DrumHit], beats: np.ndarray | None, path: Path,
                  track_name: str = "drums") -> Path:
    """Write ``hits`` as a type-1 MIDI file (tempo track + GM drums on channel 10)."""
    import mido

    tmap = TempoMap(np.zeros(0) if beats is None else beats)
    tempo_track = mido.MidiTrack()
    tempo_track.append(mido.MetaMessage("track_name", name=track_name, time=0))
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

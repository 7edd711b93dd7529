"""A click track: the audio with a click on every beat, louder and higher on downbeats.

To check a beat grid by ear. The audio is written to a hidden temp WAV as it streams
in (bounded memory); then each click is added in place (``soundfile`` read/write
mode: seek, read a few milliseconds, add, write back) and the file is renamed to
``click.wav``. ``heihachi process`` feeds it from its one decode (the ``click``
task); ``output.formats=[click]`` of ``hf analyze-drums``/``hf beats`` decodes the
source file again to do the same.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from heihachi.errors import HeihachiError

CLICK_S = 0.03
BEAT_HZ, DOWNBEAT_HZ = 1000.0, 1600.0
DOWNBEAT_GAIN = 1.0  # beats get 0.6 of the peak


def click_sound(sample_rate: int, downbeat: bool) -> np.ndarray:
    """A 30 ms decaying sine burst (mono, peak 1 on downbeats, 0.6 on beats)."""
    t = np.arange(round(CLICK_S * sample_rate)) / sample_rate
    hz = DOWNBEAT_HZ if downbeat else BEAT_HZ
    env = np.exp(-t / (CLICK_S / 5))
    return (np.sin(2 * np.pi * hz * t) * env * (DOWNBEAT_GAIN if downbeat else 0.6)
            ).astype(np.float32)


@dataclass
class ClickTrack:
    """What the click writer wrote (the ``click`` task's result)."""

    schema: ClassVar[str] = "heihachi.click/1"
    file: str
    sample_rate: int
    clicks: int
    downbeats: int

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "sample_rate": self.sample_rate, "clicks": self.clicks,
                "downbeats": self.downbeats}


class ClickSpool:
    """Collects the audio of one track in a temp WAV, then adds clicks and renames it."""

    def __init__(self, path: Path, sample_rate: int, channels: int,
                 subtype: str = "PCM_16") -> None:
        import soundfile as sf

        from heihachi.runtime.atomic import TMP_PREFIX

        self.path = Path(path)
        self.rate = sample_rate
        self.subtype = subtype
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.parent / f"{TMP_PREFIX}{self.path.stem}.{uuid.uuid4().hex[:12]}.wav"
        try:
            self.file = sf.SoundFile(self.tmp, "w", samplerate=sample_rate, channels=channels,
                                     format="WAV", subtype=subtype)
        except Exception as e:
            raise HeihachiError(f"click track: cannot write {subtype} WAV: {e}") from None

    def write(self, audio: np.ndarray) -> None:
        """Append ``[C, n]`` samples."""
        self.file.write(np.ascontiguousarray(audio.T))

    def close(self, beats: np.ndarray, downbeats: np.ndarray, gain: float = 0.5) -> ClickTrack:
        """Add the clicks in place and rename the file to its real name."""
        import soundfile as sf

        self.file.close()
        is_down = _downbeat_mask(beats, downbeats)
        sounds = {d: click_sound(self.rate, d) * gain for d in (False, True)}
        with sf.SoundFile(self.tmp, "r+") as f:
            for t, down in zip(np.asarray(beats, dtype=np.float64), is_down, strict=True):
                pos = round(t * self.rate)
                if pos < 0 or pos >= f.frames:
                    continue
                click = sounds[bool(down)][: f.frames - pos]
                f.seek(pos)
                chunk = f.read(len(click), dtype="float32", always_2d=True)
                chunk = np.clip(chunk + click[:len(chunk), None], -1, 1)
                f.seek(pos)
                f.write(chunk)
        os.replace(self.tmp, self.path)
        return ClickTrack(self.path.name, self.rate, len(beats), int(is_down.sum()))

    def abort(self) -> None:
        try:
            self.file.close()
        except Exception:  # a half-written file may not close cleanly; it is deleted
            pass
        self.tmp.unlink(missing_ok=True)


def _downbeat_mask(beats: np.ndarray, downbeats: np.ndarray) -> np.ndarray:
    beats = np.asarray(beats, dtype=np.float64)
    down = np.asarray(downbeats, dtype=np.float64)
    mask = np.zeros(len(beats), dtype=bool)
    if len(beats) and len(down):
        nearest = np.abs(beats[:, None] - down[None, :]).argmin(axis=0)
        close = np.abs(beats[nearest] - down) < 0.05
        mask[nearest[close]] = True
    return mask


def write_click(track_dir: Path, results: dict[str, Any], track_name: str,
                source: Path | None = None) -> list[Path]:
    """``click.wav`` of ``source`` with ``results["beats"]`` (decodes ``source`` again)."""
    from heihachi.export.grid import get_beats
    from heihachi.runtime.audio import iter_windows, probe

    beats = get_beats(results)
    if beats is None:
        return []
    if source is None:
        raise HeihachiError("the click export needs the audio file: use `heihachi process` "
                            "or an `hf` command")
    info = probe(source)
    rate, channels = info.sample_rate, min(2, info.channels)
    spool = ClickSpool(Path(track_dir) / "click.wav", rate, channels)
    try:
        for w in iter_windows(source, rate, channels, 30.0):
            spool.write(w.audio)
        spool.close(beats.beats, beats.downbeats)
    except BaseException:
        spool.abort()
        raise
    return [spool.path]

"""Where realtime beat events go: NDJSON lines, a click (file or sound card), OSC.

Every output has the same four calls, made by :func:`heihachi.streaming.run.run_stream`
per block in this order: ``events(evs)`` (what the tracker decided on this block),
``audio(block, t)`` (the block itself, ``[n, C]`` at stream time ``t``),
``advance(now)`` (stream time at the end of the block), and once ``close()`` at the end,
also after an error or Ctrl-C, so files are finalized and MIDI stop is sent.
The MIDI clock lives in :mod:`heihachi.streaming.midi_clock`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from heihachi.errors import UsageError
from heihachi.streaming.events import BeatEvent

CLICK_GAIN = 0.5


class Output:
    """Base of the outputs: every call is a no-op unless overridden."""

    def events(self, events: list[BeatEvent]) -> None:
        """Beats the tracker decided on the last block."""

    def audio(self, block: np.ndarray, t: float) -> None:
        """The last block of input audio, ``[n, C]`` float32, starting at stream time t."""

    def advance(self, now: float) -> None:
        """Stream time has reached ``now`` seconds."""

    def close(self) -> None:
        """The stream ended (or was stopped): flush, finalize, say goodbye."""


class NdjsonOutput(Output):
    """One JSON object per beat and line (``BeatEvent.to_json``), flushed per event so a
    reader of the pipe sees each beat as soon as it is decided."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.count = 0

    def events(self, events: list[BeatEvent]) -> None:
        for e in events:
            self.stream.write(json.dumps(e.to_json()) + "\n")
            self.stream.flush()
            self.count += 1


class ClickFileOutput(Output):
    """The input audio with a click on every beat (accented on downbeats), written to a
    WAV file atomically (a hidden temp file renamed at ``close``; also after Ctrl-C).

    Clicks sit at each beat's time ``t``, not at the moment it was decided: the file is
    for checking where the tracker put the beats, listened to afterwards. Reuses
    :class:`heihachi.export.click.ClickSpool`, the offline click track's writer.
    """

    def __init__(self, path: str | Path, sample_rate: int, channels: int) -> None:
        from heihachi.export.click import ClickSpool

        path = Path(path)
        if path.suffix.lower() != ".wav":
            raise UsageError(f"--click-out writes WAV: give a .wav path, not {path.name!r}")
        self.spool = ClickSpool(path, sample_rate, channels)
        self.path = path
        self.beats: list[float] = []
        self.downbeats: list[float] = []
        self.result: Any = None

    def events(self, events: list[BeatEvent]) -> None:
        for e in events:
            self.beats.append(e.t)
            if e.downbeat:
                self.downbeats.append(e.t)

    def audio(self, block: np.ndarray, t: float) -> None:
        self.spool.write(block.T)

    def close(self) -> None:
        if self.result is None:
            self.result = self.spool.close(np.asarray(self.beats), np.asarray(self.downbeats),
                                           gain=CLICK_GAIN)


class ClickMixer:
    """Adds clicks to a stream of blocks as they go out, for a live click.

    A beat decided after its time has passed (the tracker's delay) clicks at once: at the
    start of the block whose processing decided it, which is played out next; a
    predicted beat clicks at its time. A click longer than
    the rest of a block continues into the next one.
    """

    def __init__(self, sample_rate: int) -> None:
        from heihachi.export.click import click_sound

        self.rate = sample_rate
        self.sounds = {d: click_sound(sample_rate, d) * CLICK_GAIN for d in (False, True)}
        self.pending: list[tuple[int, np.ndarray]] = []  # (absolute start frame, sound)
        self.position = 0  # frames already mixed

    def add(self, events: list[BeatEvent]) -> None:
        for e in events:
            at = max(self.position, round(e.t * self.rate))
            self.pending.append((at, self.sounds[bool(e.downbeat)]))

    def mix(self, block: np.ndarray) -> np.ndarray:
        """``block`` ``[n, C]`` with the due clicks added (a copy)."""
        out = np.array(block, dtype=np.float32, copy=True)
        start, end = self.position, self.position + len(out)
        keep = []
        for at, sound in self.pending:
            if at >= end:
                keep.append((at, sound))
                continue
            lo = max(at, start)
            part = sound[lo - at: end - at]
            out[lo - start: lo - start + len(part)] += part[:, None]
            if at + len(sound) > end:
                keep.append((at, sound))
        self.pending = keep
        self.position = end
        np.clip(out, -1.0, 1.0, out=out)
        return out


class ClickPlayOutput(Output):
    """The input audio plus clicks, played on a sound card through ``sounddevice``
    (``--click-play``; the default output device, or ``device``)."""

    def __init__(self, sample_rate: int, channels: int, device: int | str | None = None
                 ) -> None:
        from heihachi.streaming.sources import _sounddevice

        sd = _sounddevice()
        self.mixer = ClickMixer(sample_rate)
        try:
            self.stream = sd.OutputStream(samplerate=sample_rate, channels=channels,
                                          dtype="float32", device=device)
            self.stream.start()
        except Exception as e:
            raise UsageError(f"cannot open the sound card output: {e}") from None

    def events(self, events: list[BeatEvent]) -> None:
        self.mixer.add(events)

    def audio(self, block: np.ndarray, t: float) -> None:
        self.stream.write(self.mixer.mix(block))

    def close(self) -> None:
        self.stream.stop()
        self.stream.close()


def parse_host_port(spec: str, what: str) -> tuple[str, int]:
    """``HOST:PORT`` (or ``:PORT`` for localhost) as ``(host, port)``; UsageError if not."""
    host, sep, port = spec.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"{what}: expected HOST:PORT, got {spec!r}")
    return host or "127.0.0.1", int(port)


class OscOutput(Output):
    """OSC over UDP (python-osc): per beat ``/beat`` with ``[beat in bar (int), downbeat
    (0/1), confidence (float), t (float, stream seconds)]`` and ``/bpm`` with
    ``[bpm (float)]``, sent as soon as the beat is decided (``t`` lets a receiver
    correct for the delay)."""

    def __init__(self, host: str, port: int) -> None:
        try:
            from pythonosc.udp_client import SimpleUDPClient
        except ImportError:
            raise UsageError("--osc needs python-osc: pip install 'heihachi[realtime]'"
                             ) from None
        try:
            self.client = SimpleUDPClient(host, port)
        except OSError as e:
            raise UsageError(f"--osc {host}:{port}: {e}") from None
        self.sent = 0

    def events(self, events: list[BeatEvent]) -> None:
        for e in events:
            self.client.send_message("/beat", [int(e.beat), int(bool(e.downbeat)),
                                               float(e.confidence), float(e.t)])
            self.client.send_message("/bpm", [float(e.bpm)])
            self.sent += 1

"""Test doubles and clips for the realtime-beats tests (issue 18).

:class:`MetronomeTracker` is a FAKE tracker for tests only: it does not listen to the
audio, it emits beats at times fixed in advance, each ``latency_s`` of stream time after
the beat (as a causal tracker must), so the outputs and the command can be checked
against exactly known events. The real tracker's tests use the shipped model.

Run as a script (``python tests/realtime_support.py ARGS``), it runs the real CLI
(``heihachi.cli.app.main``) with the fake tracker in place of the model, in a process
of its own, for the tests that need a real pipe or a signal. The beats come from
``HEIHACHI_TEST_BEATS`` (``"BPM,FIRST,COUNT"``; default ``"120,0.25,1000"``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from heihachi.streaming.events import BeatEvent  # noqa: E402


def event(t: float, bpm: float = 120.0, beat: int = 1, now: float | None = None
          ) -> BeatEvent:
    """A beat event at ``t``, decided 50 ms later unless ``now`` says when."""
    return BeatEvent(t=t, beat=beat, downbeat=beat == 1, bpm=bpm, confidence=0.8,
                     emitted_at=t + 0.05 if now is None else now)


def silence_blocks(seconds: float, sample_rate: int, block: int = 512, channels: int = 1):
    """``(block, stream time)`` pairs of silence, as a source yields them."""
    n = round(seconds * sample_rate)
    for i in range(0, n, block):
        yield np.zeros((min(block, n - i), channels), np.float32), i / sample_rate


class MidiReceiver:
    """A loopback TCP receiver of mido's socket protocol (raw MIDI bytes): every
    message type with its arrival time."""

    def __init__(self) -> None:
        import socket
        import threading

        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.got: list[tuple[float, str]] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import time

        import mido

        conn, _ = self.server.accept()
        parser = mido.Parser()
        with conn:
            while data := conn.recv(4096):
                now = time.monotonic()
                parser.feed(data)
                self.got += [(now, m.type) for m in parser]

    def messages(self, timeout: float = 10) -> list[tuple[float, str]]:
        """Wait for the sender to close, then every ``(arrival time, type)``."""
        self.thread.join(timeout)
        self.server.close()
        return self.got

    def types(self, timeout: float = 10) -> list[str]:
        """The message types in arrival order."""
        return [t for _, t in self.messages(timeout)]


def grid(bpm: float, first: float, count: int) -> list[float]:
    """``count`` beat times at ``bpm`` from ``first``."""
    return [first + i * 60.0 / bpm for i in range(count)]


class MetronomeTracker:
    """FAKE tracker (tests only): beats at the given times, decided ``latency_s`` later.

    Bar position counts from the first beat (4/4); ``bpm`` is 60 / the gap to the
    previous beat (the next one's gap for the first). ``blocks`` records the shape of
    every block fed, so tests can check what the source delivered.
    """

    def __init__(self, beats: list[float], sample_rate: int, latency_s: float = 0.05,
                 confidence: float = 0.9) -> None:
        self.beats = sorted(beats)
        self.sample_rate = sample_rate
        self.latency_s = latency_s
        self.confidence = confidence
        self.samples = 0
        self.next = 0
        self.blocks: list[tuple[int, ...]] = []

    def _event(self, i: int, now: float) -> BeatEvent:
        b = self.beats
        gap = (b[i] - b[i - 1]) if i else (b[1] - b[0] if len(b) > 1 else 0.5)
        return BeatEvent(t=b[i], beat=i % 4 + 1, downbeat=i % 4 == 0, bpm=60.0 / gap,
                         confidence=self.confidence, emitted_at=now)

    def _due(self, until: float, now: float) -> list[BeatEvent]:
        out = []
        while self.next < len(self.beats) and self.beats[self.next] <= until:
            out.append(self._event(self.next, now))
            self.next += 1
        return out

    def process(self, block: np.ndarray) -> list[BeatEvent]:
        self.blocks.append(tuple(block.shape))
        self.samples += len(block)
        now = self.samples / self.sample_rate
        return self._due(now - self.latency_s, now)

    def flush(self) -> list[BeatEvent]:
        now = self.samples / self.sample_rate
        return self._due(now, now)

    def reset(self) -> None:
        self.samples = self.next = 0


def render_clicks(beats: list[float], duration: float, sample_rate: int = 44100,
                  channels: int = 1) -> np.ndarray:
    """``[n, C]`` float32: a short decaying noise burst on each beat, silence between."""
    rng = np.random.default_rng(18)
    n = round(duration * sample_rate)
    audio = np.zeros(n, np.float32)
    burst = (rng.standard_normal(round(0.02 * sample_rate))
             * np.exp(-np.arange(round(0.02 * sample_rate)) / (0.004 * sample_rate)))
    for t in beats:
        i = round(t * sample_rate)
        part = burst[: max(0, n - i)]
        audio[i:i + len(part)] += 0.5 * part.astype(np.float32)
    return np.repeat(audio[:, None], channels, axis=1)


def _drum_voices():
    """kick, snare and hihat of examples/make_example_clip.py (the bundled clip's)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "make_example_clip", ROOT / "examples" / "make_example_clip.py")
    mod = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod.kick, mod.snare, mod.hihat, mod.SR


def render_drums(sections: list[tuple], seed: int = 18) -> tuple[np.ndarray, dict]:
    """A drum & bass style clip of known beats: ``sections`` of ``("play", bpm, bars)``
    (two-step: kick on 1 and the "and" of 3, snare on 2 and 4, eighth-note hats) and
    ``("gap", seconds)`` (digital silence). Mono float32 at 44.1 kHz, and the truth:
    ``beats``, ``downbeats`` and ``sections`` as ``(kind, start, end, bpm)``."""
    kick, snare, hihat, sr = _drum_voices()
    rng = np.random.default_rng(seed)
    hits: list[tuple[float, np.ndarray]] = []
    truth: dict = {"beats": [], "downbeats": [], "sections": []}
    t = 0.0
    for sec in sections:
        if sec[0] == "gap":
            truth["sections"].append(("gap", t, t + sec[1], 0.0))
            t += sec[1]
            continue
        _, bpm, bars = sec
        step = 60.0 / bpm / 4
        start = t
        for bar in range(bars):
            for s in range(16):
                at = t + (bar * 16 + s) * step
                if s % 4 == 0:
                    truth["beats"].append(at)
                    if s == 0:
                        truth["downbeats"].append(at)
                for steps, voice in (((0, 10), kick), ((4, 12), snare), (range(0, 16, 2), hihat)):
                    if s in steps:
                        hits.append((at, voice(rng) * rng.uniform(0.7, 1.0)))
        t += bars * 16 * step
        truth["sections"].append(("play", start, t, float(bpm)))
    out = np.zeros(round((t + 0.5) * sr))
    for at, hit in hits:
        i = round(at * sr)
        part = hit[: len(out) - i]
        out[i:i + len(part)] += part
    out = 0.8 * out / np.abs(out).max()
    return out.astype(np.float32)[:, None], truth


def fake_factory(beats: list[float], latency_s: float = 0.05):
    """A stand-in for ``heihachi.cli.realtime.make_tracker`` building the fake tracker
    (keeps the instances in ``made`` for the test to inspect)."""
    made: list[MetronomeTracker] = []

    def make(model: str, sample_rate: int, latency: float | None, device: str,
             **_: object) -> MetronomeTracker:
        t = MetronomeTracker(beats, sample_rate, latency if latency is not None else latency_s)
        made.append(t)
        return t

    make.made = made  # type: ignore[attr-defined]
    return make


def main() -> None:
    import signal

    import heihachi.cli.realtime as realtime
    from heihachi.cli.app import main as cli_main

    # The Ctrl-C test stands in for a terminal, where SIGINT is never ignored; a test
    # run started as a background job of a shell without job control inherits SIGINT
    # ignored, and the interrupt would then never reach the command.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    bpm, first, count = os.environ.get("HEIHACHI_TEST_BEATS", "120,0.25,1000").split(",")
    realtime.make_tracker = fake_factory(grid(float(bpm), float(first), int(count)))
    cli_main(["hf", "realtime-beats", *sys.argv[1:]])


if __name__ == "__main__":
    main()

"""The realtime loop: source blocks -> tracker -> outputs.

:func:`run_stream` takes the tracker as an object (anything with ``process(block) ->
list[BeatEvent]`` and ``flush() -> list[BeatEvent]``), so it runs the shipped
:class:`heihachi.hf.RealtimeBeatTracker` and any other causal tracker alike. Outputs
are always closed, also after an error or Ctrl-C: the click file is finalized and MIDI
stop is sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from heihachi.streaming.events import BeatEvent
from heihachi.streaming.outputs import Output


class Tracker(Protocol):
    """What the loop needs of a realtime beat tracker."""

    def process(self, block: np.ndarray) -> list[BeatEvent]: ...

    def flush(self) -> list[BeatEvent]: ...


@dataclass
class StreamStats:
    """What a run did: stream seconds, blocks, beats, wall seconds, whether Ctrl-C ended
    it, and the per-block processing times (seconds) for the latency report."""

    seconds: float = 0.0
    blocks: int = 0
    beats: int = 0
    wall_s: float = 0.0
    interrupted: bool = False
    process_s: list[float] = field(default_factory=list)


def run_stream(source: Iterable[tuple[np.ndarray, float]], tracker: Tracker,
               outputs: Sequence[Output], sample_rate: int) -> StreamStats:
    """Feed every block of ``source`` to ``tracker`` and its events to ``outputs``.

    Per block: ``events``, then ``audio``, then ``advance`` to the block's end time on
    every output; after the last block the tracker's ``flush()`` events, then every
    output's ``close()`` (in a ``finally``). Ctrl-C ends the loop like the end of the
    stream and is reported in ``interrupted``; it is not re-raised.
    """
    stats = StreamStats()
    start = time.monotonic()
    now = 0.0

    def emit(events: list[BeatEvent]) -> None:
        stats.beats += len(events)
        for o in outputs:
            o.events(events)

    try:
        try:
            for block, t in source:
                t0 = time.perf_counter()
                events = tracker.process(block)
                stats.process_s.append(time.perf_counter() - t0)
                emit(events)
                for o in outputs:
                    o.audio(block, t)
                now = t + len(block) / sample_rate
                for o in outputs:
                    o.advance(now)
                stats.blocks += 1
        except KeyboardInterrupt:
            stats.interrupted = True
        emit(tracker.flush())
        for o in outputs:
            o.advance(now)
    except KeyboardInterrupt:
        stats.interrupted = True
    finally:
        stats.seconds = now
        stats.wall_s = time.monotonic() - start
        _close_all(outputs)
    return stats


def _close_all(outputs: Sequence[Output]) -> None:
    """Close every output even if one fails; re-raise the first failure."""
    first: BaseException | None = None
    for o in outputs:
        try:
            o.close()
        except BaseException as e:
            first = first or e
    if first is not None:
        raise first


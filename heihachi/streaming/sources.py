"""Where realtime audio comes from: a file, raw PCM on a pipe, or a sound card.

Every source is an iterable of ``(block, stream_time)``: ``block`` is ``[n, C]`` float32
and ``stream_time`` the time of its first sample in seconds from the start of the stream
(samples so far / rate, never wall-clock), so a tracker and its outputs agree on time
whatever the pacing. Each source has ``sample_rate`` and ``channels`` known before the
first block, so the tracker and the outputs can be built first.

``sounddevice`` (PortAudio) is an optional extra, imported only by :class:`DeviceSource`
and :func:`list_devices`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from heihachi.errors import HeihachiError, UsageError

Block = tuple[np.ndarray, float]
PCM_FORMATS = {"s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}
EXTRA_HINT = ("pip install 'heihachi[realtime]' (and the PortAudio library, e.g. "
              "apt-get install libportaudio2)")


def rechunk(blocks: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """Cut a stream of ``[n, C]`` arrays into blocks of exactly ``size`` frames (the last
    one may be shorter)."""
    pending: list[np.ndarray] = []
    have = 0
    for b in blocks:
        if not len(b):
            continue
        pending.append(b)
        have += len(b)
        if have < size:
            continue
        joined = np.concatenate(pending) if len(pending) > 1 else pending[0]
        cut = (len(joined) // size) * size
        for i in range(0, cut, size):
            yield joined[i:i + size]
        rest = joined[cut:]
        pending, have = ([rest], len(rest)) if len(rest) else ([], 0)
    if have:
        yield np.concatenate(pending)


class FileSource:
    """An audio file decoded block by block (the runtime's decoder), at its own rate.

    ``realtime=True`` paces the blocks with a monotonic clock: a block is given when its
    last sample would have arrived from a sound card (``start + end_time``), so the
    outputs run at the music's speed. ``realtime=False`` (``--fast``) gives them as fast
    as they decode. ``clock``/``sleep`` are injectable for tests.
    """

    def __init__(self, path: str | Path, block: int = 512, realtime: bool = True,
                 max_channels: int = 2, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        from heihachi.runtime.audio import probe

        self.path = Path(path)
        info = probe(self.path)  # AudioDecodeError (exit 1) names the file
        self.sample_rate = int(info.sample_rate)
        self.channels = max(1, min(max_channels, int(info.channels)))
        self.block = int(block)
        self.realtime = realtime
        self._clock, self._sleep = clock, sleep

    def _decoded(self) -> Iterator[np.ndarray]:
        from heihachi.runtime.audio import iter_streams

        spec = (self.sample_rate, self.channels)
        for sb in iter_streams(self.path, [spec], block_s=max(0.05, 4 * self.block
                                                                  / self.sample_rate)):
            yield sb.audio[spec]

    def __iter__(self) -> Iterator[Block]:
        start = self._clock()
        done = 0
        for block in rechunk(self._decoded(), self.block):
            t = done / self.sample_rate
            done += len(block)
            if self.realtime:
                wait = start + done / self.sample_rate - self._clock()
                if wait > 0:
                    self._sleep(wait)
            yield np.ascontiguousarray(block, dtype=np.float32), t


class PcmSource:
    """Raw interleaved PCM from a byte stream (``--stdin``): ``s16le`` or ``f32le``.

    Reads whole blocks (a pipe paces the stream itself). A trailing partial frame (fewer
    bytes than one sample of every channel) cannot be decoded: it is dropped and
    counted in ``dropped_bytes`` for the caller to report.
    """

    def __init__(self, stream: BinaryIO, sample_rate: int, channels: int = 1,
                 fmt: str = "s16le", block: int = 512) -> None:
        if fmt not in PCM_FORMATS:
            raise UsageError(f"--format must be one of {', '.join(PCM_FORMATS)}, not {fmt!r}")
        if sample_rate <= 0 or channels <= 0:
            raise UsageError("--rate and --channels must be positive")
        self.stream = stream
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.dtype = PCM_FORMATS[fmt]
        self.block = int(block)
        self.dropped_bytes = 0

    def __iter__(self) -> Iterator[Block]:
        frame = self.dtype.itemsize * self.channels
        want = frame * self.block
        carry = b""
        done = 0
        while True:
            data = self.stream.read(want - len(carry))
            if not data:
                break
            data = carry + data
            usable = (len(data) // frame) * frame
            carry = data[usable:]
            if not usable:
                continue
            samples = np.frombuffer(data[:usable], dtype=self.dtype)
            block = samples.reshape(-1, self.channels).astype(np.float32)
            if self.dtype.kind == "i":
                block /= 32768.0
            t = done / self.sample_rate
            done += len(block)
            yield block, t
        self.dropped_bytes = len(carry)


def _sounddevice() -> Any:
    """Import ``sounddevice`` or say which extra (and system library) it needs."""
    try:
        import sounddevice
    except ImportError:
        raise UsageError(f"sound card input/output needs sounddevice: {EXTRA_HINT}") from None
    except OSError as e:  # the module is there, the PortAudio library is not
        raise UsageError(f"sounddevice cannot load PortAudio ({e}): {EXTRA_HINT}") from None
    return sounddevice


def list_devices() -> str:
    """The sound cards PortAudio sees (``--list-devices``), one per line."""
    return str(_sounddevice().query_devices())


class DeviceSource:
    """A live sound card through ``sounddevice`` (``--device N``): blocks of ``block``
    frames from PortAudio's callback, handed over through a queue. Stream time counts
    the frames received; an input overflow is reported on stderr once per second; no
    audio for ``STALL_S`` seconds ends the stream with an error."""

    STALL_S = 5.0  # no block for this long: the card is gone

    def __init__(self, device: int | str, sample_rate: int = 44100, channels: int = 1,
                 block: int = 512) -> None:
        self.sd = _sounddevice()
        self.device = device
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.block = int(block)

    def __iter__(self) -> Iterator[Block]:
        import queue

        q: queue.Queue[np.ndarray] = queue.Queue()
        status_seen = {"last": 0.0}

        def callback(indata: np.ndarray, frames: int, t: Any, status: Any) -> None:
            if status and time.monotonic() - status_seen["last"] > 1.0:
                status_seen["last"] = time.monotonic()
                print(f"realtime-beats: sound card: {status}", file=sys.stderr)
            q.put(indata.copy())

        try:
            stream = self.sd.InputStream(device=self.device, samplerate=self.sample_rate,
                                         channels=self.channels, blocksize=self.block,
                                         dtype="float32", callback=callback)
        except Exception as e:
            raise UsageError(f"cannot open sound card {self.device!r}: {e} "
                             "(see --list-devices)") from None
        done = 0
        with stream:
            while True:
                try:
                    block = q.get(timeout=self.STALL_S)
                except queue.Empty:
                    raise HeihachiError(f"sound card {self.device!r} sent no audio for "
                                        f"{self.STALL_S:g} s (unplugged?)") from None
                t = done / self.sample_rate
                done += len(block)
                yield block, t

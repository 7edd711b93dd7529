"""MIDI clock (24 pulses per quarter note) and start/stop from realtime beat events.

:class:`ClockSchedule` decides, in stream time, when each clock pulse is due: pulses
run free at the current tempo (``60 / bpm / 24`` apart) and every beat event re-anchors
them, so that pulse ``24 k`` falls on the beat (``k`` the nearest whole beat on the
running grid, which absorbs missed or extra beats). Between beats the clock is
extrapolated, so in a steady tempo the pulses go out on time although the tracker
decides each beat some latency after it. A beat within an eighth of a beat of the grid
moves it half way (``PHASE_GAIN``: a tracker's beat times jitter by a frame), a
farther one all the way. The clock starts on the first beat the grid
predicts that is still ahead when the first beat is decided (so pulse 0 is on a beat,
not a burst of late pulses). A correction (a beat earlier or later than the grid said,
a new tempo) is spread evenly over the pulses up to the next predicted beat, so the
clock runs a little faster or slower for one beat instead of jumping; only a grid more
than a beat ahead holds its pulses back. During a silent gap (no beats) the clock keeps
running at the last tempo, as DJ gear expects.

:class:`MidiClockOutput` sends them through a mido port: ``start`` just before the
first pulse, ``stop`` at the end. With a real-time source a small
thread sends each pulse when it is due (stream time extrapolated from the last block
with a monotonic clock); with ``--fast`` they are sent in stream-time order as the
blocks go by. Ports: a named or virtual port through python-rtmidi (optional extra), or
``tcp:HOST:PORT``, mido's socket protocol (no ALSA needed; what the tests use).
"""

from __future__ import annotations

import math
import socket
import threading
import time
from typing import Any

from heihachi.errors import UsageError
from heihachi.streaming.events import BeatEvent
from heihachi.streaming.outputs import Output, parse_host_port

PPQN = 24
PHASE_GAIN = 0.5  # share of a small beat-time error the grid follows at once


class ClockSchedule:
    """Stream times of MIDI clock pulses, re-anchored on each beat (see module doc)."""

    def __init__(self, ppqn: int = PPQN) -> None:
        self.ppqn = ppqn
        self.period: float | None = None  # seconds per pulse
        self.anchor_t = 0.0               # stream time of pulse anchor_n
        self.anchor_n = 0
        self.sent = 0                     # pulses handed out so far
        self.sent_t = 0.0                 # stream time the last of them was due
        self.last_t, self.last_n = -math.inf, 0  # the last beat and its pulse
        self.ramp: tuple[float, int, float, int] | None = None  # (t0, n0, t1, n1)

    @property
    def started(self) -> bool:
        return self.period is not None

    def on_beat(self, e: BeatEvent) -> None:
        """Re-anchor on a beat: its pulse is the nearest multiple of ``ppqn``."""
        if e.bpm <= 0:
            return
        period = 60.0 / e.bpm / self.ppqn
        if self.period is None:  # start on the first predicted beat still ahead
            beat_s = period * self.ppqn
            ahead = max(1, math.floor((e.emitted_at - e.t) / beat_s) + 1)
            self.anchor_t, self.anchor_n, self.period = e.t + ahead * beat_s, 0, period
            self.last_t, self.last_n = e.t, -ahead * self.ppqn
            return
        if e.t <= self.last_t:
            return  # not after the last beat: nothing new to learn
        pos = self.anchor_n + (e.t - self.anchor_t) / self.period
        n = max(self.ppqn * round(pos / self.ppqn), self.last_n + self.ppqn)
        # a small error moves the grid half way (a tracker's beat times jitter by a
        # frame); a large one (a change, after a gap) moves it all the way
        predicted = self.anchor_t + (n - self.anchor_n) * self.period
        error = e.t - predicted
        t = predicted + (PHASE_GAIN * error if abs(error) < period * self.ppqn / 8 else error)
        self.anchor_t, self.anchor_n, self.period = t, n, period
        self.last_t, self.last_n = e.t, n
        # spread the correction over the pulses up to the next predicted beat
        t1, n1 = t + self.ppqn * period, n + self.ppqn
        n0 = self.sent - 1
        self.ramp = (self.sent_t, n0, t1, n1) if self.sent and n1 > n0 and \
            t1 > self.sent_t else None

    def time_of(self, n: int) -> float:
        """Stream time at which pulse ``n`` is due."""
        assert self.period is not None
        if self.ramp is not None:
            t0, n0, t1, n1 = self.ramp
            if n0 < n <= n1:
                return t0 + (n - n0) * (t1 - t0) / (n1 - n0)
        return self.anchor_t + (n - self.anchor_n) * self.period

    def next_time(self) -> float | None:
        return self.time_of(self.sent) if self.started else None

    def take_due(self, now: float) -> int:
        """How many pulses are due by stream time ``now`` (and mark them sent)."""
        if not self.started:
            return 0
        n = 0
        while (due := self.time_of(self.sent)) <= now + 1e-9:
            self.sent_t = due
            self.sent += 1
            n += 1
        return n


class TcpMidiPort:
    """MIDI over TCP as ``mido.sockets`` speaks it (raw MIDI bytes; a
    ``mido.sockets.PortServer`` receives them), with Nagle off so each pulse leaves at
    once, and a ``close`` that really ends the connection (mido's ``SocketPort`` keeps it
    open through its file objects until they are collected)."""

    def __init__(self, host: str, port: int) -> None:
        self.sock = socket.create_connection((host, port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(None)

    def send(self, message: Any) -> None:
        self.sock.sendall(bytes(message.bin()))

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def _rtmidi_backend() -> Any:
    import mido

    try:
        return mido.Backend("mido.backends.rtmidi", load=True)
    except ImportError:
        raise UsageError("MIDI ports need python-rtmidi: pip install 'heihachi[realtime]' "
                         "(or use --midi-port tcp:HOST:PORT)") from None


def open_midi_port(name: str | None = None, virtual: str | None = None) -> Any:
    """A MIDI output port: ``tcp:HOST:PORT`` (:class:`TcpMidiPort`), a virtual port named
    ``virtual`` or the existing port ``name`` (both through python-rtmidi)."""
    if name and name.startswith("tcp:"):
        host, port = parse_host_port(name[4:], "--midi-port tcp:")
        try:
            return TcpMidiPort(host, port)
        except OSError as e:
            raise UsageError(f"--midi-port {name}: cannot connect: {e}") from None
    backend = _rtmidi_backend()
    try:
        if virtual:
            return backend.open_output(virtual, virtual=True)
        names = backend.get_output_names()
        if name not in names:
            raise UsageError(f"--midi-port {name!r}: no such MIDI output; there are: "
                             f"{', '.join(names) or 'none'} (or use --midi-virtual NAME)")
        return backend.open_output(name)
    except UsageError:
        raise
    except Exception as e:  # rtmidi's SystemError/OSError: no ALSA sequencer, ...
        raise UsageError(f"cannot open MIDI output {virtual or name!r}: {e} (without a "
                         "MIDI system, --midi-port tcp:HOST:PORT needs none)") from None


class MidiClockOutput(Output):
    """MIDI clock + start/stop on ``port`` (see module doc). ``realtime`` selects the
    sending thread; ``clock`` is injectable for tests."""

    def __init__(self, port: Any, realtime: bool, clock: Any = time.monotonic) -> None:
        import mido

        self.port = port
        self.realtime = realtime
        self.schedule = ClockSchedule()
        self._msg = {k: mido.Message(k) for k in ("clock", "start", "stop")}
        self._clock = clock
        self._lock = threading.Condition()
        self._now = (0.0, clock())  # (stream time, monotonic time) of the last block end
        self._started = False
        self._closed = False
        self.pulses = 0
        self._thread: threading.Thread | None = None
        if realtime:
            self._thread = threading.Thread(target=self._run, name="midi-clock", daemon=True)
            self._thread.start()

    def _send_due(self, now: float) -> None:
        n = self.schedule.take_due(now)
        if n and not self._started:
            self.port.send(self._msg["start"])
            self._started = True
        for _ in range(n):
            self.port.send(self._msg["clock"])
        self.pulses += n

    def events(self, events: list[BeatEvent]) -> None:
        with self._lock:
            for e in events:
                self.schedule.on_beat(e)
            self._lock.notify()

    def advance(self, now: float) -> None:
        with self._lock:
            self._now = (now, self._clock())
            if not self.realtime:
                self._send_due(now)
            self._lock.notify()

    def _stream_now(self) -> float:
        t, wall = self._now
        return t + (self._clock() - wall)

    def _run(self) -> None:
        with self._lock:
            while not self._closed:
                self._send_due(self._stream_now())
                nxt = self.schedule.next_time()
                wait = 0.05 if nxt is None else min(0.05, max(0.0, nxt - self._stream_now()))
                self._lock.wait(wait)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify()
        if self._thread is not None:
            self._thread.join(timeout=2)
        if self._started:
            self.port.send(self._msg["stop"])
        self.port.close()

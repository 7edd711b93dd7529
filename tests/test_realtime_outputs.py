"""Realtime-beats outputs (issue 18): NDJSON, MIDI clock, OSC.

The MIDI clock and OSC are checked against loopback receivers on 127.0.0.1 (a raw TCP
socket parsed with mido's parser; python-osc's UDP server). Events come from
``MetronomeTracker``, a fake tracker of known beats (tests/realtime_support.py).
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from realtime_support import (
    MetronomeTracker,
    MidiReceiver,
    event,
    grid,
    render_clicks,
    silence_blocks,
)

from heihachi.errors import UsageError
from heihachi.streaming.midi_clock import ClockSchedule, MidiClockOutput, open_midi_port
from heihachi.streaming.outputs import (
    NdjsonOutput,
    OscOutput,
    parse_host_port,
)
from heihachi.streaming.run import run_stream
from heihachi.streaming.sources import FileSource

SR = 22050



# --- NDJSON ----------------------------------------------------------------------------

class _CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


def test_ndjson_one_object_per_line_with_the_schema_flushed_per_event() -> None:
    stream = _CountingStream()
    out = NdjsonOutput(stream)
    beats = grid(120, 0.25, 6)
    run_stream(silence_blocks(3.5, SR), MetronomeTracker(beats, SR), [out], SR)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 6 and stream.flushes == 6
    records = [json.loads(line) for line in lines]
    for i, r in enumerate(records):
        assert set(r) == {"t", "beat", "downbeat", "bpm", "confidence", "emitted_at"}
        assert r["t"] == pytest.approx(beats[i], abs=1e-4)
        assert r["beat"] == i % 4 + 1 and r["downbeat"] == (i % 4 == 0)
        assert r["bpm"] == pytest.approx(120.0)
        # decided 0.05 s after the beat, at the end of the block that crossed it
        assert 0.05 <= r["emitted_at"] - r["t"] <= 0.05 + 512 / SR + 1e-4

# --- MIDI clock --------------------------------------------------------------------------

def _pulse_times(beats: list[float], bpms: list[float], latency: float, end: float,
                 step: float = 0.001) -> list[float]:
    """Stream times at which the schedule sends pulses, stepping time by ``step``."""
    sched = ClockSchedule()
    sent: list[float] = []
    i = 0
    for k in range(round(end / step) + 1):
        now = k * step
        while i < len(beats) and beats[i] + latency <= now:
            sched.on_beat(event(beats[i], bpms[i]))
            i += 1
        sent += [now] * sched.take_due(now)
    return sent


def test_clock_schedule_24_pulses_per_beat_through_a_tempo_change_and_a_gap() -> None:
    slow = grid(120, 0.5, 8)                    # 0.5 .. 4.0
    fast = grid(174, slow[-1] + 60 / 174, 12)   # tempo change
    gap_start = fast[-1]
    after = grid(174, gap_start + 8 * 60 / 174, 6)  # 7 beats missing: a silent gap
    beats = slow + fast + after
    bpms = [120.0] * 8 + [174.0] * 18
    sent = _pulse_times(beats, bpms, latency=0.1, end=after[-1] + 0.01)
    # the clock starts on the first beat still ahead when the first beat is decided
    # (beat 1), then pulse 24 k falls on beat k + 1, 24 per beat, 20.8 ms apart at 120
    assert sent[0] == pytest.approx(slow[1], abs=0.0011)
    for k in range(7):
        assert sent[24 * k] == pytest.approx(slow[k + 1], abs=0.0011)
    assert np.diff(sent[:145]) == pytest.approx(60 / 120 / 24, abs=0.0011)
    # after the change has been heard for one beat, locked again at 174
    base = 24 * (len(slow) - 1)
    for j in range(2, 12):
        assert sent[base + 24 * j] == pytest.approx(fast[j], abs=0.0011)
    assert np.diff(sent[base + 48:base + 24 * 11]) == pytest.approx(60 / 174 / 24, abs=0.0011)
    # through the gap the clock runs on at 174; the beats after it land on whole beats
    gap_pulses = [s for s in sent if gap_start - 0.001 < s < after[0] - 0.001]
    assert len(gap_pulses) == 8 * 24  # 8 beats from the last before the gap
    assert np.diff(gap_pulses) == pytest.approx(60 / 174 / 24, abs=0.0011)
    for j in range(len(after)):
        k = min(range(len(sent)), key=lambda i: abs(sent[i] - after[j]))
        assert sent[k] == pytest.approx(after[j], abs=0.0011) and k % 24 == 0
    # corrections are spread over a beat: no burst of pulses, no long hold
    gaps = np.diff(sent)
    assert gaps.min() >= 0.004 and gaps.max() <= 0.03, (gaps.min(), gaps.max())



def _check_clock_stream(types: list[str], beats: list[float], end: float, bpm: float) -> None:
    assert types[0] == "start" and types[-1] == "stop"
    assert types.count("start") == 1 and types.count("stop") == 1
    clocks = types[1:-1]
    assert set(clocks) == {"clock"}
    # pulses from the second beat (the first still ahead when the first is decided) to
    # the end of the stream, 24 per beat
    expected = int((end - beats[1]) / (60 / bpm / 24)) + 1
    assert abs(len(clocks) - expected) <= 1


def test_midi_clock_fast_mode_over_loopback_to_a_mido_port_server() -> None:
    from mido.sockets import PortServer

    with socket.create_server(("127.0.0.1", 0)) as s:
        free = s.getsockname()[1]
    server = PortServer("127.0.0.1", free)
    types: list[str] = []

    def receive() -> None:
        client = server.accept()
        while not client.closed:
            types.extend(m.type for m in client.iter_pending())
            if types and types[-1] == "stop":
                break
            time.sleep(0.001)

    thread = threading.Thread(target=receive, daemon=True)
    thread.start()
    beats = grid(120, 0.25, 8)
    out = MidiClockOutput(open_midi_port(f"tcp:127.0.0.1:{free}"), realtime=False)
    run_stream(silence_blocks(4.0, SR), MetronomeTracker(beats, SR), [out], SR)
    thread.join(10)
    server.close()
    _check_clock_stream(types, beats, 4.0, 120)
    assert out.pulses == len(types) - 2


def test_midi_clock_real_time_spacing_matches_the_bpm(tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    beats = grid(150, 0.2, 7)
    sf.write(path, render_clicks(beats, 2.8, SR), SR)
    rx = MidiReceiver()
    out = MidiClockOutput(open_midi_port(f"tcp:127.0.0.1:{rx.port}"), realtime=True)
    src = FileSource(path, block=512, realtime=True)
    t_start = time.monotonic()
    stats = run_stream(src, MetronomeTracker(beats, SR, latency_s=0.08), [out], SR)
    got = rx.messages()
    assert 2.7 < stats.wall_s < 3.5
    _check_clock_stream([m for _, m in got], beats, 2.8, 150)
    times = np.array([t for t, m in got if m == "clock"])
    gaps = np.diff(times)
    period = 60 / 150 / 24  # 16.7 ms
    assert np.median(gaps) == pytest.approx(period, rel=0.05)
    # one beat of pulses takes one beat of wall time (a shared machine: 10 %)
    per_beat = times[24::24][:4] - times[0:-24:24][:4]
    assert per_beat == pytest.approx(60 / 150, rel=0.1)
    # pulse 0 went out on beat 1 (not 80 ms late: predicted from beat 0), start with it
    assert times[0] - t_start == pytest.approx(beats[1], abs=0.04)
    assert 0 <= times[0] - got[0][0] < 0.005


def test_midi_port_errors_are_usage_errors() -> None:
    with socket.create_server(("127.0.0.1", 0)) as s:
        free = s.getsockname()[1]
    with pytest.raises(UsageError, match="cannot connect"):
        open_midi_port(f"tcp:127.0.0.1:{free}")
    with pytest.raises(UsageError, match="HOST:PORT"):
        open_midi_port("tcp:nowhere")


def test_virtual_midi_port_receives_the_clock() -> None:
    rtmidi = pytest.importorskip("rtmidi", reason="python-rtmidi (the realtime extra)")
    if not Path("/dev/snd/seq").exists():
        pytest.skip("needs the ALSA sequencer (/dev/snd/seq) for a virtual MIDI port")
    port = open_midi_port(virtual="heihachi-test-clock")
    midi_in = rtmidi.MidiIn()
    names = midi_in.get_ports()
    idx = next(i for i, n in enumerate(names) if "heihachi-test-clock" in n)
    midi_in.open_port(idx)
    midi_in.ignore_types(timing=False)
    out = MidiClockOutput(port, realtime=False)
    run_stream(silence_blocks(1.0, SR), MetronomeTracker(grid(120, 0.1, 2), SR), [out], SR)
    time.sleep(0.2)
    msgs = []
    while (m := midi_in.get_message()) is not None:
        msgs.append(m[0][0])
    assert msgs[0] == 0xFA and msgs[-1] == 0xFC and msgs.count(0xF8) == out.pulses


# --- OSC ---------------------------------------------------------------------------------

def test_osc_beat_and_bpm_over_loopback() -> None:
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    got: list[tuple[str, tuple]] = []
    lock = threading.Lock()

    def handler(address: str, *args: object) -> None:
        with lock:
            got.append((address, args))

    dispatcher = Dispatcher()
    dispatcher.map("/beat", handler)
    dispatcher.map("/bpm", handler)
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        beats = grid(174, 0.2, 10)
        out = OscOutput(*parse_host_port(f"127.0.0.1:{server.server_address[1]}", "--osc"))
        run_stream(silence_blocks(3.6, SR), MetronomeTracker(beats, SR), [out], SR)
        deadline = time.monotonic() + 5
        while len(got) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        server.shutdown()
        server.server_close()
    beat_msgs = sorted((a for addr, a in got if addr == "/beat"), key=lambda a: a[3])
    bpm_msgs = [a for addr, a in got if addr == "/bpm"]
    assert len(beat_msgs) == 10 and len(bpm_msgs) == 10
    for i, (beat, down, conf, t) in enumerate(beat_msgs):
        assert beat == i % 4 + 1 and down == int(i % 4 == 0)
        assert conf == pytest.approx(0.9) and t == pytest.approx(beats[i], abs=1e-5)
    assert all(b[0] == pytest.approx(174.0, rel=1e-5) for b in bpm_msgs)


def test_host_port_parsing() -> None:
    assert parse_host_port("10.0.0.2:9000", "--osc") == ("10.0.0.2", 9000)
    assert parse_host_port(":57120", "--osc") == ("127.0.0.1", 57120)
    for bad in ("9000", "host:", "host:0", "host:99999", "host:x"):
        with pytest.raises(UsageError):
            parse_host_port(bad, "--osc")

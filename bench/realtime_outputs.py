"""Timing of the realtime outputs themselves (issue 18): MIDI clock jitter, OSC delay.

    python bench/realtime_outputs.py [--seconds 10] [--bpm 174] [--block 512]

Plays a rendered click clip in real time through ``hf realtime-beats``' loop with a
metronome stand-in for the tracker (tests/realtime_support.py: beats at known times,
decided ``--latency`` after them), so what is measured is the outputs' own timing, not
a model's: the MIDI clock (to a loopback TCP receiver) against the ideal grid
(``60 / bpm / 24``) and where each beat's pulse lands in wall time relative to the
beat, and the OSC ``/beat`` arrival after the beat. The tracker's own latency and
processing cost are measured by bench/realtime.py.
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from heihachi.streaming.midi_clock import MidiClockOutput, open_midi_port
from heihachi.streaming.outputs import OscOutput
from heihachi.streaming.run import run_stream
from heihachi.streaming.sources import FileSource
from tests.realtime_support import MetronomeTracker, grid, render_clicks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--bpm", type=float, default=174.0)
    ap.add_argument("--block", type=int, default=512)
    ap.add_argument("--latency", type=float, default=0.15)
    args = ap.parse_args()
    import mido
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    sr = 44100
    beats = [t for t in grid(args.bpm, 0.2, 10_000) if t < args.seconds - 0.05]
    clip = Path(tempfile.mkdtemp()) / "clip.wav"
    sf.write(clip, render_clicks(beats, args.seconds, sr), sr)

    server = socket.create_server(("127.0.0.1", 0))
    pulses: list[float] = []

    def receive() -> None:
        conn, _ = server.accept()
        parser = mido.Parser()
        with conn:
            while data := conn.recv(4096):
                now = time.monotonic()
                parser.feed(data)
                pulses.extend(now for m in parser if m.type == "clock")

    rx = threading.Thread(target=receive, daemon=True)
    rx.start()
    osc_at: list[tuple[float, float]] = []
    dispatcher = Dispatcher()
    dispatcher.map("/beat", lambda addr, *a: osc_at.append((time.monotonic(), a[3])))
    osc = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    threading.Thread(target=osc.serve_forever, daemon=True).start()

    outputs = [MidiClockOutput(open_midi_port(f"tcp:127.0.0.1:{server.getsockname()[1]}"),
                               realtime=True),
               OscOutput("127.0.0.1", osc.server_address[1])]
    source = FileSource(clip, block=args.block, realtime=True)
    start = time.monotonic()  # FileSource's clock starts at its first block, ~now
    stats = run_stream(source, MetronomeTracker(beats, sr, args.latency), outputs, sr)
    rx.join(5)
    time.sleep(0.1)
    osc.shutdown()

    p = np.asarray(pulses) - start
    period = 60 / args.bpm / 24
    spacing_ms = (np.diff(p) - period) * 1000
    # pulse 24 k is the clock's beat k, which the schedule puts on beats[k + 1]
    on_beats = p[::24]
    ideal = np.asarray(beats[1:1 + len(on_beats)])
    beat_err_ms = (on_beats[:len(ideal)] - ideal) * 1000
    osc_delay_ms = [(wall - start - t) * 1000 for wall, t in osc_at]
    print(f"{stats.seconds:.1f} s at {args.bpm:g} BPM, block {args.block} "
          f"({1000 * args.block / sr:.1f} ms), tracker stand-in latency {args.latency} s")
    print(f"MIDI clock: {len(p)} pulses (ideal period {period * 1000:.2f} ms); spacing error "
          f"median {np.median(spacing_ms):+.2f} ms, p95 |err| "
          f"{np.percentile(np.abs(spacing_ms), 95):.2f} ms, max |err| "
          f"{np.abs(spacing_ms).max():.2f} ms")
    print(f"MIDI beat pulses vs the beat (wall): median {np.median(beat_err_ms):+.2f} ms, "
          f"p95 |err| {np.percentile(np.abs(beat_err_ms), 95):.2f} ms")
    print(f"OSC /beat after the beat: median {np.median(osc_delay_ms):.1f} ms, "
          f"p95 {np.percentile(osc_delay_ms, 95):.1f} ms "
          f"(= tracker latency + up to one block + sending)")


if __name__ == "__main__":
    main()

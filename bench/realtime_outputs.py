"""Timing of the realtime outputs (issue 18): MIDI clock jitter, beat to NDJSON/OSC.

    python bench/realtime_outputs.py [--seconds 10] [--bpm 174] [--block 512]
    python bench/realtime_outputs.py --model drumnet-online   # the real tracker

Plays a rendered clip in real time through ``hf realtime-beats``' loop and measures,
in wall time from the start of the stream: the MIDI clock (to a loopback TCP receiver)
against the ideal grid (``60 / bpm / 24``) and where each beat's pulse lands relative
to the true beat; the NDJSON line and the OSC ``/beat`` after the true beat.
By default the tracker is a metronome stand-in (tests/realtime_support.py: the true
beats, decided ``--latency`` after them) over clicks, so what is measured is the
outputs' own timing; ``--model`` runs ``RealtimeBeatTracker`` (one torch thread) over
rendered drum & bass instead, end to end. The tracker's accuracy, latency and compute
per block over many clips are measured by bench/realtime.py.
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
from heihachi.streaming.outputs import NdjsonOutput, OscOutput
from heihachi.streaming.run import run_stream
from heihachi.streaming.sources import FileSource
from tests.realtime_support import MetronomeTracker, grid, render_clicks, render_drums


class _TimedLines:
    """A text stream that notes the wall time of each NDJSON line and the beat it was."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, float]] = []

    def write(self, text: str) -> None:
        import json

        self.lines.append((time.monotonic(), json.loads(text)["t"]))

    def flush(self) -> None:
        pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--bpm", type=float, default=174.0)
    ap.add_argument("--block", type=int, default=512)
    ap.add_argument("--latency", type=float, default=0.15)
    ap.add_argument("--model", help="run RealtimeBeatTracker with this model")
    args = ap.parse_args()
    import mido
    from pythonosc.dispatcher import Dispatcher
    from pythonosc.osc_server import ThreadingOSCUDPServer

    sr = 44100
    clip = Path(tempfile.mkdtemp()) / "clip.wav"
    if args.model:
        bars = max(1, round(args.seconds * args.bpm / 60 / 4))
        audio, truth = render_drums([("play", args.bpm, bars)])
        beats = truth["beats"]
        sf.write(clip, audio, sr)
    else:
        beats = [t for t in grid(args.bpm, 0.2, 10_000) if t < args.seconds - 0.05]
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

    lines = _TimedLines()
    midi = open_midi_port(f"tcp:127.0.0.1:{server.getsockname()[1]}")
    outputs = [NdjsonOutput(lines), MidiClockOutput(midi, realtime=True),
               OscOutput("127.0.0.1", osc.server_address[1])]
    if args.model:
        import torch

        from heihachi.hf import RealtimeBeatTracker

        torch.set_num_threads(1)
        tracker = RealtimeBeatTracker(model=args.model, sample_rate=sr,
                                      latency_s=args.latency)
    else:
        tracker = MetronomeTracker(beats, sr, args.latency)
    source = FileSource(clip, block=args.block, realtime=True)
    start = time.monotonic()  # FileSource's clock starts at its first block, ~now
    stats = run_stream(source, tracker, outputs, sr)
    rx.join(5)
    time.sleep(0.1)
    osc.shutdown()

    p = np.asarray(pulses) - start
    period = 60 / args.bpm / 24
    spacing_ms = (np.diff(p[p > 2.0]) - period) * 1000  # after the tracker's settling
    # every 24th pulse from the first is a beat of the clock: its distance to the
    # nearest true beat (after the first 2 s: the tracker's settling)
    truth = np.asarray(beats)
    on_beats = p[::24]
    on_beats = on_beats[on_beats > 2.0]
    beat_err_ms = np.array([(x - truth[np.argmin(np.abs(truth - x))]) * 1000
                            for x in on_beats])

    def after_true_beat(pairs: list[tuple[float, float]]) -> np.ndarray:
        """Wall delay (ms) of each message after the true beat nearest its ``t``."""
        return np.array([(wall - start - truth[np.argmin(np.abs(truth - t))]) * 1000
                         for wall, t in pairs if t > 2.0])

    osc_delay_ms = after_true_beat(osc_at)
    ndjson_ms = after_true_beat(lines.lines)
    who = f"RealtimeBeatTracker({args.model!r})" if args.model else "stand-in tracker"
    print(f"{stats.seconds:.1f} s at {args.bpm:g} BPM, block {args.block} "
          f"({1000 * args.block / sr:.1f} ms), {who}, latency {args.latency} s; "
          f"compute median {1000 * np.median(stats.process_s):.2f} ms/block")
    print(f"NDJSON line after the true beat: median {np.median(ndjson_ms):.1f} ms, "
          f"p95 {np.percentile(ndjson_ms, 95):.1f} ms ({len(ndjson_ms)} beats after 2 s)")
    print(f"MIDI clock: {len(p)} pulses (ideal period {period * 1000:.2f} ms); after 2 s, "
          f"spacing error "
          f"median {np.median(spacing_ms):+.2f} ms, p95 |err| "
          f"{np.percentile(np.abs(spacing_ms), 95):.2f} ms, max |err| "
          f"{np.abs(spacing_ms).max():.2f} ms")
    print(f"MIDI beat pulses vs the true beat (wall): median {np.median(beat_err_ms):+.2f} "
          f"ms, p95 |err| {np.percentile(np.abs(beat_err_ms), 95):.2f} ms")
    print(f"OSC /beat after the beat: median {np.median(osc_delay_ms):.1f} ms, "
          f"p95 {np.percentile(osc_delay_ms, 95):.1f} ms "
          f"(the decision delay + up to one block + sending)")


if __name__ == "__main__":
    main()

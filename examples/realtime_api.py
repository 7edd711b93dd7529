"""Realtime beats from your own audio callback with ``RealtimeBeatTracker``.

    pip install 'heihachi[realtime]'          # sounddevice (+ apt-get install libportaudio2)
    python examples/realtime_api.py [DEVICE]  # listen to a sound card, print each beat
    python examples/realtime_api.py --file examples/audio/two_step_174.flac

The tracker is causal: feed it blocks as they arrive (any size, mono ``[n]`` or
``[n, channels]`` float32) and it returns the beats it has just decided, each a
``heihachi.streaming.events.BeatEvent`` (``t``, ``beat``, ``downbeat``, ``bpm``,
``confidence``, ``emitted_at``; times in stream seconds). The sound card's callback
only queues the audio; the tracker runs in the main thread, so a slow block never
makes the card drop input.
"""

from __future__ import annotations

import queue
import sys

import numpy as np

from heihachi.hf import RealtimeBeatTracker

RATE, BLOCK = 44100, 512


def show(events: list) -> None:
    for e in events:
        mark = "|" if e.downbeat else "."
        print(f"{mark} {e.t:7.3f} s  beat {e.beat}  {e.bpm:6.1f} BPM  "
              f"conf {e.confidence:.2f}  (+{e.emitted_at - e.t:.3f} s)", flush=True)


def from_file(path: str) -> None:
    """The same API over a file, block by block and as fast as it goes."""
    import soundfile as sf

    audio, rate = sf.read(path, dtype="float32", always_2d=True)
    tracker = RealtimeBeatTracker(sample_rate=rate)
    for i in range(0, len(audio), BLOCK):
        show(tracker.process(audio[i:i + BLOCK]))
    show(tracker.flush())


def from_sound_card(device: int | None) -> None:
    import sounddevice as sd

    tracker = RealtimeBeatTracker(sample_rate=RATE)
    blocks: queue.Queue[np.ndarray] = queue.Queue()

    def callback(indata: np.ndarray, frames: int, time: object, status: object) -> None:
        blocks.put(indata.copy())  # no model work in the audio thread

    with sd.InputStream(device=device, channels=1, samplerate=RATE, blocksize=BLOCK,
                        dtype="float32", callback=callback):
        print(f"listening (latency {tracker.latency_s:.2f} s); Ctrl-C stops", file=sys.stderr)
        try:
            while True:
                show(tracker.process(blocks.get()))
        except KeyboardInterrupt:
            show(tracker.flush())


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)  # per-block work is tiny: extra threads only add latency
    if len(sys.argv) > 2 and sys.argv[1] == "--file":
        from_file(sys.argv[2])
    else:
        from_sound_card(int(sys.argv[1]) if len(sys.argv) > 1 else None)

"""The Python API on the bundled example, offline: drum hits, beats, patterns of use.

    python examples/python_api.py [AUDIO]

Runs the shipped drum model (drumnet) through ``heihachi.hf`` -- the same plugins,
config and runtime as ``python -m heihachi hf analyze-drums`` -- and prints the tempo,
hits per class and the first bar's hits.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from heihachi.hf import BeatDetector, DrumAnalyzer

audio = Path(sys.argv[1] if len(sys.argv) > 1 else
             Path(__file__).parent / "audio" / "two_step_174.flac")

beats = BeatDetector().detect(audio)          # Beats: .beats, .downbeats, .tempo
drums = DrumAnalyzer().analyze(audio)         # DrumHits: .hits (time, class, velocity, ...)

print(f"{audio.name}: {beats.tempo:.1f} BPM, {len(beats.beats)} beats, "
      f"{len(beats.downbeats)} downbeats")
print("hits per class:", dict(Counter(h.drum_class for h in drums.hits)))
if len(beats.downbeats) >= 2:
    t0, t1 = beats.downbeats[0], beats.downbeats[1]
    print(f"first bar ({t0:.2f}-{t1:.2f} s):")
    for h in drums.hits:
        if t0 - 0.02 <= h.time < t1 - 0.02:
            print(f"  {h.time:7.3f} s  {h.drum_class:<6}  velocity {h.velocity:.2f}  "
                  f"confidence {h.confidence:.2f}")

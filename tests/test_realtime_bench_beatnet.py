"""bench/realtime.py's bridge to BeatNet's online mode in its own virtual environment:
the clips go out as one .npz, the beats come back as JSON, and the same rules score them.
A stand-in interpreter (a script that answers like bench/beatnet_online.py) replaces the
BeatNet venv, so this runs without BeatNet."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import numpy as np
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import realtime

FAKE = """#!{py}
import json, sys
import numpy as np
clips = np.load(sys.argv[2])
out = {{"beatnet": "fake", "model": 1, "mode": "online/PF", "clips": {{}}}}
for name in clips.files:
    n = len(clips[name]) / 22050
    assert abs(n - 8.0) < 0.01, n  # resampled 24 kHz -> 22.05 kHz
    out["clips"][name] = {{"beats": list(np.arange(0.25, n, 0.5)), "downbeats": [],
                          "seconds": 0.5}}
json.dump(out, open(sys.argv[3], "w"))
"""


def _fake_python(tmp_path: Path, body: str) -> str:
    p = tmp_path / "python"
    p.write_text(body.format(py=sys.executable))
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p)


def test_beatnet_bridge_scores_the_returned_beats_with_the_benchs_rules(tmp_path):
    beats = np.arange(0.25, 8.0, 0.5)
    clip = (np.zeros(8 * 24_000, np.float32), {"beats": beats, "tempo": 120.0,
                                               "style": "house"})
    stream = (np.zeros(8 * 24_000, np.float32),
              {"beats": beats, "segments": [(0.0, 4.0, 170.0, "dnb"),
                                            (4.0, 8.0, 120.0, "house")]})
    res = realtime.beatnet(_fake_python(tmp_path, FAKE),
                           {"held_out": [clip, clip], "up_change": [stream]})
    assert res["measured"] and res["beatnet"] == "fake"
    assert res["held_out"]["metre"] == {"causal_f": 1.0, "causal_tempo": 1.0, "clips": 2}
    assert res["held_out"]["dnb_160_180"]["clips"] == 0
    assert res["up_change"]["beat_f"] == 1.0
    # a beat counts as emitted at its own time: the first beat of the segment
    assert res["up_change"]["time_to_tempo_after_change_s"] == [0.25]
    assert res["compute_s_per_audio_s"] == round(3 * 0.5 / 24.0, 3)


def test_beatnet_not_given_or_failing_is_recorded_not_raised(tmp_path):
    assert realtime.beatnet(None, {})["measured"] is False
    res = realtime.beatnet(_fake_python(tmp_path, "#!/bin/sh\necho no BeatNet >&2\nexit 3\n"),
                           {"held_out": [(np.zeros(24_000, np.float32), {"beats": [],
                                                                         "tempo": 1.0})]})
    assert res["measured"] is False and "exited 3" in res["reason"]
    assert "no BeatNet" in res["reason"]

"""The real-music beat bench's chart reader and sync rule, on a synthetic song folder: a
chart in sync passes, the same chart moved or stretched fails; scoring a perfect
estimate gives 1."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bench import fof_charts, real_beats

BPM, SR, SECONDS = 150.0, 22_050, 66.0


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """notes.mid (tempo map, notes of the hardest difficulty on 8ths), song.ini and a mix
    whose kicks and chord changes follow the chart (first beat at 0.5 s)."""
    import mido
    import soundfile as sf

    d = tmp_path_factory.mktemp("song") / "pkg" / "Test song"
    d.mkdir(parents=True)
    tpb = 480
    mid = mido.MidiFile(ticks_per_beat=tpb)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(BPM), time=0))
    n_beats = int((SECONDS - 2) * BPM / 60)
    last = 0
    for k in range(2 * n_beats):  # eighth notes from tick 0
        tick = k * tpb // 2
        track.append(mido.Message("note_on", note=96 + k % 3, velocity=100, time=tick - last))
        track.append(mido.Message("note_off", note=96 + k % 3, velocity=0, time=60))
        last = tick + 60
    mid.save(d / "notes.mid")
    (d / "song.ini").write_text("[song]\nname = Test\ndelay = 500\n")  # chart 0.5 s later
    t = np.arange(int(SECONDS * SR)) / SR
    y = np.zeros(len(t))
    spb = 60.0 / BPM
    rng = np.random.default_rng(0)
    hit = np.arange(int(0.08 * SR)) / SR
    for k in range(n_beats):
        i = int((0.5 + k * spb) * SR)
        amp = 1.0 if k % 4 == 0 else 0.5
        y[i:i + len(hit)] += amp * rng.normal(0, 0.5, len(hit)) * np.exp(-hit * 40)
    roots = [220.0, 174.6, 261.6, 196.0]  # one chord per bar
    for bar in range(n_beats // 4):
        a, b = int((0.5 + bar * 4 * spb) * SR), int((0.5 + (bar + 1) * 4 * spb) * SR)
        f = roots[bar % 4]
        y[a:b] += 0.2 * sum(np.sin(2 * np.pi * f * r * t[a:b]) for r in (1, 1.26, 1.5))
    sf.write(d / "song.ogg", (0.3 * y / np.abs(y).max()).astype(np.float32), SR,
             format="OGG", subtype="VORBIS")
    return d


def test_chart_and_sync_rule(song: Path) -> None:
    chart = fof_charts.load_chart(song)
    assert chart.info["delay_s"] == pytest.approx(0.5)
    assert chart.bpm == pytest.approx(BPM)
    assert chart.beats[0] == pytest.approx(0.5) and chart.downbeats[0] == pytest.approx(0.5)
    assert np.allclose(np.diff(chart.downbeats), 4 * 60 / BPM)
    res = fof_charts.check_sync(chart)
    assert res.beats_ok, res.beats
    assert res.downbeats_ok
    assert not any(c["ok"] for c in res.controls.values()), res.controls


def test_rule_rejects_a_chart_out_of_sync(song: Path) -> None:
    chart = fof_charts.load_chart(song)
    chart.beats = chart.beats + 0.07  # a chart 70 ms late
    res = fof_charts.check_sync(chart)
    assert not res.beats_ok and "a" in res.reasons()


def test_off_grid_notes_fail_rule_d() -> None:
    assert fof_charts.on_grid_fraction(np.array([0, 120, 240, 160]), 480) == 1.0
    assert fof_charts.on_grid_fraction(np.array([0, 37, 251, 401]), 480) == 0.25


def test_score_of_a_perfect_and_a_shifted_estimate(song: Path) -> None:
    chart = fof_charts.load_chart(song)
    sync = SimpleNamespace(chart=chart, downbeats_ok=True)
    perfect = {"beats": chart.beats.tolist(), "downbeats": chart.downbeats.tolist(),
               "tempo": BPM}
    s = real_beats.score(sync, perfect)
    assert s["beat_f"] == 1.0 and s["downbeat_f"] == 1.0 and s["tempo_ok"]
    off = {"beats": (chart.beats + 0.2).tolist(), "downbeats": None, "tempo": BPM / 2}
    s = real_beats.score(sync, off)
    assert s["beat_f"] == 0.0 and s["downbeat_f"] is None and not s["tempo_ok"]

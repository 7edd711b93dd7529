"""``hf realtime-beats`` end to end with the real tracker, and its Python API (issue 18).

Plumbing with the tiny random-weight ``drumnet-online`` (``profile=tiny``): the file and
the pipe give the same beats, every block size gives the same beats, the NDJSON and the
click file are right. Accuracy with the shipped ``drumnet-online`` weights on a rendered
clip of known beats (drum & bass at 174 BPM, a change to 140 BPM, three seconds of
silence, 174 again): those tests skip only while the weights file is absent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import run_heihachi
from realtime_support import render_drums

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "models_cache" / "heihachi" / "drumnet-online-v1"
needs_shipped = pytest.mark.skipif(
    not (SHIPPED / "model.safetensors").exists(),
    reason=f"the shipped tracker weights are not there yet: {SHIPPED}/model.safetensors")
SECTIONS = [("play", 174, 8), ("play", 140, 8), ("gap", 3.0), ("play", 174, 6)]
KEYS = ("t", "beat", "downbeat", "bpm", "confidence")


def _events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def _same(a: list[dict], b: list[dict]) -> bool:
    return [[e[k] for k in KEYS] for e in a] == [[e[k] for k in KEYS] for e in b]


# --- plumbing: the tiny random-weight model ---------------------------------------------

@pytest.fixture(scope="module")
def drums_6s(tmp_path_factory: pytest.TempPathFactory) -> Path:
    audio, _ = render_drums([("play", 174, 4)])
    path = tmp_path_factory.mktemp("rt") / "drums.wav"
    sf.write(path, audio, 44100)
    return path


def test_tiny_tracker_file_pipe_and_block_sizes_agree(tiny_cache: Path, drums_6s: Path,
                                                      tmp_path: Path) -> None:
    env = {"HEIHACHI_MODELS_CACHE": str(tiny_cache)}
    r = run_heihachi("hf", "realtime-beats", "--input", str(drums_6s), "--fast",
                     "--profile", "tiny", "--click-out", str(tmp_path / "click.wav"), env=env)
    assert r.returncode == 0, r.stderr
    events = _events(r.stdout)
    for e in events:
        assert set(e) == {*KEYS, "emitted_at"}
        assert 0 <= e["t"] <= 6.02 and e["beat"] >= 1 and 0 <= e["confidence"] <= 1
        assert e["emitted_at"] - e["t"] <= 0.15 + 512 / 44100 + 0.031  # latency, block, 3 fr.
    assert "tracker latency 0.150 s" in r.stderr
    audio, _ = sf.read(drums_6s)
    assert len(sf.read(tmp_path / "click.wav")[0]) == len(audio)
    other = run_heihachi("hf", "realtime-beats", "--input", str(drums_6s), "--fast",
                         "--profile", "tiny", "--block", "256", env=env)
    assert other.returncode == 0 and _same(_events(other.stdout), events)
    pcm = audio.astype("<f4").tobytes()
    piped = subprocess.run([sys.executable, "-m", "heihachi", "hf", "realtime-beats",
                            "--stdin", "--rate", "44100", "--format", "f32le",
                            "--profile", "tiny", "--block", "1024"],
                           input=pcm, capture_output=True, timeout=300, cwd=ROOT,
                           env=dict(os.environ, HF_HUB_OFFLINE="1", **env))
    assert piped.returncode == 0, piped.stderr.decode()
    assert _same(_events(piped.stdout.decode()), events)


def test_latency_below_the_models_look_ahead_is_a_usage_error(tiny_cache: Path,
                                                               drums_6s: Path) -> None:
    r = run_heihachi("hf", "realtime-beats", "--input", str(drums_6s), "--fast",
                     "--profile", "tiny", "--latency", "0.01",
                     env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert r.returncode == 2 and "look-ahead" in r.stderr


# --- accuracy: the shipped model on known beats ------------------------------------------

@pytest.fixture(scope="module")
def known_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    audio, truth = render_drums(SECTIONS)
    path = tmp_path_factory.mktemp("rt_known") / "tempo_change_gap.wav"
    sf.write(path, audio, 44100)
    return path, truth


@pytest.fixture(scope="module")
def shipped_run(known_clip: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory
                ) -> dict:
    path, _ = known_clip
    click = tmp_path_factory.mktemp("rt_click") / "click.wav"
    r = run_heihachi("hf", "realtime-beats", "--input", str(path), "--fast",
                     "--click-out", str(click))
    assert r.returncode == 0, r.stderr
    return {"events": _events(r.stdout), "stderr": r.stderr, "click": click}


def _f_measure(found: np.ndarray, truth: np.ndarray, window: float = 0.07) -> float:
    """Beat F-measure (each truth beat matched at most once, within +-window)."""
    if not len(found) or not len(truth):
        return 0.0
    used = np.zeros(len(found), bool)
    hits = 0
    for t in truth:
        d = np.abs(found - t)
        d[used] = np.inf
        i = int(np.argmin(d))
        if d[i] <= window:
            used[i] = True
            hits += 1
    p, r = hits / len(found), hits / len(truth)
    return 0.0 if hits == 0 else 2 * p * r / (p + r)


SETTLE_S = 2.0  # the causal tracker's time to lock on after a start, a change, a gap


@needs_shipped
def test_shipped_tracker_follows_known_beats_a_tempo_change_and_a_silent_gap(
        shipped_run: dict, known_clip: tuple[Path, dict]) -> None:
    """Thresholds: with the weights trained at 13:22 UTC the clip measured beat F 0.98-1.0,
    downbeat F 0.92-1.0 and tempo within 0.1 % in every section (2 s after its start),
    no event at all in the gap, and every event 0.143-0.154 s after its beat (with the
    decoder of 13:44 UTC: one event 0.182 s late, at the tempo change)."""
    events, (path, truth) = shipped_run["events"], known_clip
    t = np.array([e["t"] for e in events])
    beats, downs = np.array(truth["beats"]), np.array(truth["downbeats"])
    for kind, start, end, bpm in truth["sections"]:
        if kind == "gap":  # silence: nothing once the last hit has rung out (+ 1 s)
            assert not np.any((t > start + 1.0) & (t < end)), (start, end, t[t > start])
            continue
        lo, hi = start + SETTLE_S, end - 0.05  # a section's last beat is the next's first
        found, want = t[(t >= lo) & (t < hi)], beats[(beats >= lo) & (beats < hi)]
        f = _f_measure(found, want)
        assert f >= 0.9, f"{bpm} BPM section {start:.1f}-{end:.1f} s: F = {f:.3f}"
        said_down = np.array([e["t"] for e in events if lo <= e["t"] < hi and e["downbeat"]])
        fd = _f_measure(said_down, downs[(downs >= lo) & (downs < hi)])
        assert fd >= 0.8, f"{bpm} BPM section {start:.1f}-{end:.1f} s: downbeat F = {fd:.3f}"
        tempo = np.median([e["bpm"] for e in events if lo <= e["t"] < hi])
        assert tempo == pytest.approx(bpm, rel=0.03), (start, tempo)
        spacing = np.median(60 / np.diff(found))  # the bpm said agrees with the beats sent
        assert spacing == pytest.approx(tempo, rel=0.03), (start, spacing, tempo)
    delays = np.array([e["emitted_at"] - e["t"] for e in events])
    # the default latency + one block + the decoder's 3 frames when its estimate jumped
    # (online_beats.max_late); measured 0.143-0.154 s, and 0.182 s at the tempo change
    assert delays.max() <= 0.15 + 512 / 44100 + 0.03 + 0.001
    assert np.median(delays) <= 0.15 + 512 / 44100
    audio, _ = sf.read(path)
    assert len(sf.read(shipped_run["click"])[0]) == len(audio)


@needs_shipped
def test_shipped_tracker_python_api_gives_the_cli_beats_in_any_block_size(
        shipped_run: dict, known_clip: tuple[Path, dict]) -> None:
    from heihachi.hf import RealtimeBeatTracker

    path, _ = known_clip
    audio, sr = sf.read(path, dtype="float32")
    tracker = RealtimeBeatTracker(model="drumnet-online", sample_rate=sr)
    got = []
    for i in range(0, len(audio), 441):  # 10 ms blocks, mono [n]
        got += tracker.process(audio[i:i + 441])
    got += tracker.flush()
    assert _same([e.to_json() for e in got], shipped_run["events"])
    tracker.reset()  # a second stream from time 0 gives the same beats again
    again = []
    for i in range(0, len(audio), 2048):
        again += tracker.process(audio[i:i + 2048])
    again += tracker.flush()
    assert _same([e.to_json() for e in again], shipped_run["events"])

"""`hf analyze-drums` and `hf beats` with the default drumnet plugins, end to end."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf
from conftest import ROOT, run_heihachi, write_tone

CLIP = ROOT / "examples" / "audio" / "two_step_174.flac"


def test_analyze_drums_writes_hits_beats_midi_and_plots(tiny_cache, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "clip.flac").write_bytes(CLIP.read_bytes())
    out = tmp_path / "out"
    result = run_heihachi("hf", "analyze-drums", str(tmp_path / "in"), "-o", str(out), "-q",
                          "profile=tiny", env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 0, result.stderr
    track = out / "clip"
    drums = json.loads((track / "drums.json").read_text())
    assert drums["schema"] == "heihachi.drums/1" and drums["model"] == "tiny/drumnet"
    assert set(drums["counts"]) >= {"kick", "snare", "hihat", "tom", "cymbal"}
    for hit in drums["hits"]:
        assert set(hit) == {"time", "class", "confidence", "velocity", "label"}
        assert 0 <= hit["confidence"] <= 1 and 0 <= hit["velocity"] <= 1
    beats = json.loads((track / "beats.json").read_text())
    assert beats["schema"] == "heihachi.beats/1"
    assert np.all(np.diff(beats["beats"]) > 0)
    for name in ("drums.mid", "hits.csv", "labels.txt", "timeline.html", "tempo.png",
                 "drums_classes.png"):
        assert (track / name).is_file(), name


def test_beats_command_uses_the_drumnet_tracker(tiny_cache, tmp_path):
    out = tmp_path / "out"
    result = run_heihachi("hf", "beats", str(CLIP), "-o", str(out), "-q", "profile=tiny",
                          "output.formats=[json,labels]",
                          env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "two_step_174" / "beats.json").read_text())
    assert doc["plugin"] == "drumnet" and doc["schema"] == "heihachi.beats/1"
    assert (out / "two_step_174" / "labels.txt").is_file()


def test_bad_and_degenerate_inputs_never_crash_the_batch(tiny_cache, tmp_path):
    d = tmp_path / "in"
    write_tone(d / "good.wav", seconds=2.0)
    sf.write(d / "silent.wav", np.zeros(44_100 * 2, np.float32), 44_100)
    write_tone(d / "short.wav", seconds=0.3)
    sf.write(d / "nan.wav", np.full(8_000, np.nan, np.float32), 8_000, subtype="FLOAT")
    (d / "empty.wav").write_bytes(b"")
    (d / "corrupt.mp3").write_bytes(b"ID3" + bytes(range(256)) * 8)
    out = tmp_path / "out"
    result = run_heihachi("hf", "analyze-drums", str(d), "-o", str(out), "-q", "profile=tiny",
                          env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 1, result.stderr
    status = {e["track"]: e for e in json.loads((out / "summary.json").read_text())["files"]}
    assert {t for t, e in status.items() if e["status"] == "ok"} == {"good", "silent", "short"}
    for t in ("nan", "empty", "corrupt"):
        assert status[t]["status"] == "failed" and status[t]["path"] in status[t]["error"]
    for t in ("silent", "short"):  # empty but valid results
        drums = json.loads((out / t / "drums.json").read_text())
        beats = json.loads((out / t / "beats.json").read_text())
        assert isinstance(drums["hits"], list) and isinstance(beats["beats"], list)


def test_drum_patterns_command(tiny_cache, tmp_path):
    out = tmp_path / "out"
    result = run_heihachi("hf", "drum-patterns", str(CLIP), "-o", str(out), "-q", "profile=tiny",
                          env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "two_step_174" / "patterns.json").read_text())
    assert doc["schema"] == "heihachi.patterns/1" and doc["steps_per_bar"] == 16
    assert {"bars", "common", "microtiming", "swing", "boundaries"} <= set(doc)
    for bar in doc["bars"]:
        assert all(len(line) == 16 for line in bar["steps"].values())

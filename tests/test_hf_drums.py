"""The onset detector and the `hf-audio-classification` drum plugin."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import run_heihachi

SR = 44_100


def _hits(seconds: float, sr: int, seed: int = 0, kind: str = "click") -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """Audio with hits at random times (>= 160 ms apart: no hit starts under the
    previous one's decay) and those times."""
    rng = np.random.default_rng(seed)
    times = np.sort(rng.uniform(0.05, seconds - 0.3, int(seconds * 4)))
    times = times[np.concatenate([[True], np.diff(times) > 0.16])]
    x = np.zeros(int(seconds * sr), np.float32)
    for k, t in enumerate(times):
        i = round(t * sr)
        if kind == "click":
            x[i] += rng.uniform(0.05, 1.0)
        else:  # alternating kick-like sweeps and snare-like noise bursts
            n = int(0.15 * sr)
            tt = np.arange(n) / sr
            body = (np.sin(2 * np.pi * (50 + 100 * np.exp(-tt / 0.02)) * tt) if k % 2 == 0
                    else rng.standard_normal(n))
            x[i:i + n] += 0.6 * body * np.exp(-tt / 0.04)
    return x, times


@pytest.mark.parametrize("kind", ["click", "drums"])
def test_onsets_on_clean_hits(kind):
    import mir_eval

    from heihachi.music.onsets import detect_onsets

    for sr in (16_000, 44_100):
        x, truth = _hits(10.0, sr, kind=kind)
        x += 1e-5 * np.random.default_rng(1).standard_normal(len(x)).astype(np.float32)
        found = detect_onsets(x, sr)
        f, _p, _r = mir_eval.onset.f_measure(truth, found.times, window=0.05)
        assert f >= 0.95, (kind, sr, f)
        f5, _p, _r = mir_eval.onset.f_measure(truth, found.times, window=0.005)
        assert f5 >= 0.9, (kind, sr, f5)  # refined to the hit's start, not the frame
        assert np.all(found.peaks > 0) and np.all(np.diff(found.times) > 0)


def test_onsets_of_silence_noise_and_tiny_input_are_empty_or_one():
    from heihachi.music.onsets import detect_onsets

    rng = np.random.default_rng(0)
    assert len(detect_onsets(np.zeros(SR), SR)) == 0
    assert len(detect_onsets(1e-4 * rng.standard_normal(SR), SR)) == 0  # dither
    assert len(detect_onsets(np.zeros(10), SR)) == 0
    assert len(detect_onsets(np.ones(3), SR)) == 0
    steady = 0.3 * rng.standard_normal(5 * SR)
    assert len(detect_onsets(steady, SR)) == 1  # its start, nothing after


def test_label_mapping():
    from heihachi.errors import ConfigError
    from heihachi.plugins.hf_drum_classifier import default_class, map_labels

    assert map_labels(["kick", "overheads", "snare", "toms"], {}) == {
        "kick": "kick", "overheads": "cymbal", "snare": "snare", "toms": "tom"}
    assert default_class("Ride (Custom)") == "cymbal"  # "tom" inside "custom" is no tom
    assert default_class("Hi-Hat Open") == "hihat"
    assert default_class("Bass Drum 1") == "kick"
    assert default_class("Crash Cymbal") == "cymbal"
    assert default_class("Shaker") is None
    labels = ["Kick", "Shaker", "Noise", "Snare"]
    with pytest.raises(ConfigError, match="Shaker"):
        map_labels(labels, {})
    mapped = map_labels(labels, {"shaker": "hihat", "Noise": "none", "Snare": "tom"})
    assert mapped == {"Kick": "kick", "Shaker": "hihat", "Noise": None, "Snare": "tom"}
    assert map_labels(labels, {}, unmapped="drop")["Shaker"] is None
    with pytest.raises(ConfigError, match="cowbell"):
        map_labels(labels, {"Shaker": "cowbell"}, unmapped="drop")
    with pytest.raises(ConfigError, match="does not have"):
        map_labels(labels, {"Clave": "hihat"}, unmapped="drop")


def _plugin(tiny_cache: Path, **overrides):
    from heihachi.plugins.hf_drum_classifier import HFDrumClassifier

    cfg = HFDrumClassifier.Config(model="tiny/drum-classifier", **overrides)
    plugin = HFDrumClassifier(cfg, cache_dir=tiny_cache, offline=True)
    plugin.load()
    return plugin


def _run(plugin, rows: list[np.ndarray]) -> list:
    import torch

    from heihachi.tasks import AudioBatch

    audio = np.zeros((len(rows), max(map(len, rows))), np.float32)
    for i, x in enumerate(rows):
        audio[i, :len(x)] = x
    with torch.inference_mode():
        return plugin.transcribe(AudioBatch(torch.from_numpy(audio), [len(x) for x in rows],
                                            plugin.sample_rate))


def test_plugin_batches_crops_and_maps_labels(tiny_cache):
    plugin = _plugin(tiny_cache, max_crops=5)
    assert plugin.sample_rate == 16_000 and plugin.labels == ["kick", "overheads", "snare",
                                                              "toms"]
    x, truth = _hits(4.0, 16_000, seed=3, kind="drums")
    rows = [x, np.zeros(16_000, np.float32), x[:4800]]
    together = _run(plugin, rows)
    assert [len(r.hits) for r in together] == [len(truth), 0, len(truth[truth < 0.28])]
    names = {"kick": "kick", "overheads": "cymbal", "snare": "snare", "toms": "tom"}
    for res, x_row in zip(together, rows, strict=True):
        alone = _run(plugin, [x_row])[0]  # batch mates change nothing
        assert [(h.time, h.drum_class, h.label) for h in res.hits] == \
            [(h.time, h.drum_class, h.label) for h in alone.hits]
        np.testing.assert_allclose([h.confidence for h in res.hits],
                                   [h.confidence for h in alone.hits], atol=1e-5)
        for h in res.hits:
            assert names[h.label] == h.drum_class and 0.25 <= h.confidence <= 1.0
            assert 0.0 <= h.velocity <= 1.0
    np.testing.assert_allclose([h.time for h in together[0].hits], truth, atol=0.003)


def test_cli_analyze_drums_end_to_end(tiny_cache, tmp_path):
    x, truth = _hits(5.0, SR, seed=4, kind="drums")
    src = tmp_path / "in"
    src.mkdir()
    sf.write(src / "loop.wav", np.stack([x, 0.5 * x], axis=1), SR)  # stereo, 44.1 kHz
    sf.write(src / "silent.wav", np.zeros(SR, np.float32), SR)
    sf.write(src / "short.wav", x[: int(0.3 * SR)], SR)
    (src / "broken.wav").write_bytes(b"RIFF\x00\x00not really a wav")
    out = tmp_path / "out"
    result = run_heihachi("hf", "analyze-drums", str(src), "drums=hf-audio-classification",
                          "profile=tiny", "-o", str(out), "-q",
                          env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 1, result.stderr  # one bad file: the others still run
    summary = json.loads((out / "summary.json").read_text())
    status = {Path(e["path"]).stem: e["status"] for e in summary["files"]}
    assert status == {"broken": "failed", "loop": "ok", "silent": "ok", "short": "ok"}
    docs = {t: json.loads((out / t / "drums.json").read_text())
            for t in ("loop", "silent", "short")}
    for doc in docs.values():
        assert doc["schema"] == "heihachi.drums/1" and doc["model"] == "tiny/drum-classifier"
        assert sum(doc["counts"].values()) == len(doc["hits"])
        assert set(doc["counts"]) >= {"kick", "snare", "hihat", "tom", "cymbal"}
        for h in doc["hits"]:
            assert set(h) == {"time", "class", "confidence", "velocity", "label"}
            assert h["label"] in ("kick", "overheads", "snare", "toms")
    assert docs["silent"]["hits"] == []
    times = [h["time"] for h in docs["loop"]["hits"]]
    np.testing.assert_allclose(times, truth, atol=0.005)
    assert len(docs["short"]["hits"]) == int(np.sum(truth < 0.29))

"""The `beat_this` beat tracker: checkpoint format, resolution, CLI end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import run_heihachi

SR = 22_050


def _clicks(path: Path, seconds: float, bpm: float = 174.0) -> Path:
    """A click track at 22050 Hz (the plugin's rate: no resampling in the comparison)."""
    x = np.zeros(int(seconds * SR), np.float32)
    for t in np.arange(0.05, seconds, 60.0 / bpm):
        i = int(t * SR)
        n = min(len(x) - i, 2000)
        x[i:i + n] += 0.8 * np.exp(-np.arange(n) / 200.0) * np.sin(np.arange(n) * 0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, SR)
    return path


def test_tiny_checkpoint_has_the_real_format(tiny_cache):
    import torch
    from beat_this.inference import load_model

    path = tiny_cache / "tiny" / "beat_this.ckpt"
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    assert set(ckpt) >= {"state_dict", "hyper_parameters"}
    assert all(k.startswith("model.") for k in ckpt["state_dict"])
    assert "lr" in ckpt["hyper_parameters"]  # PLBeatThis's hparams, a superset of BeatThis's
    load_model(str(path))  # beat_this's own loader accepts it


def test_cli_beats_end_to_end_matches_beat_this(tiny_cache, tmp_path):
    from beat_this.inference import Audio2Beats

    audio = _clicks(tmp_path / "in" / "loop.wav", 4.0)
    sf.write(tmp_path / "in" / "silent.wav", np.zeros(SR * 2, np.float32), SR)
    sf.write(tmp_path / "in" / "short.wav",
             0.3 * np.random.default_rng(0).standard_normal(int(0.3 * SR)).astype(np.float32),
             SR)
    out = tmp_path / "out"
    result = run_heihachi("hf", "beats", str(audio.parent), "beats=beat_this", "profile=tiny",
                          "-o", str(out), "-q", env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 0, result.stderr
    docs = {t: json.loads((out / t / "beats.json").read_text())
            for t in ("loop", "silent", "short")}
    for doc in docs.values():
        assert doc["schema"] == "heihachi.beats/1" and doc["plugin"] == "beat_this"
        assert doc["model"] == "tiny/beat_this.ckpt"
        assert all(0 <= t <= doc["duration"] for t in doc["beats"])
        assert set(doc["downbeats"]) <= set(doc["beats"])
    # the batched plugin gives exactly what beat_this's own pipeline gives
    tracker = Audio2Beats(str(tiny_cache / "tiny" / "beat_this.ckpt"))
    x, _ = sf.read(audio, dtype="float32")
    beats, downbeats = tracker(x, SR)
    assert len(beats) > 0
    np.testing.assert_allclose(docs["loop"]["beats"], beats, atol=1e-4)
    np.testing.assert_allclose(docs["loop"]["downbeats"], downbeats, atol=1e-4)


def test_batch_of_mixed_lengths_equals_files_alone(tiny_cache):
    """Chunks are grouped by length: a file's beats never depend on its batch mates."""
    import torch

    from heihachi.plugins.beat_this_tracker import BeatThisTracker
    from heihachi.tasks import AudioBatch

    tracker = BeatThisTracker(BeatThisTracker.Config(model="tiny/beat_this.ckpt"),
                              cache_dir=tiny_cache, offline=True)
    tracker.load()
    rng = np.random.default_rng(1)
    rows = [0.1 * rng.standard_normal(int(s * SR)).astype(np.float32)
            for s in (31.0, 2.0, 0.3, 0.01)]

    def run(xs: list[np.ndarray]) -> list:
        audio = np.zeros((len(xs), max(map(len, xs))), np.float32)
        for i, x in enumerate(xs):
            audio[i, :len(x)] = x
        with torch.inference_mode():
            return tracker.track(AudioBatch(torch.from_numpy(audio), [len(x) for x in xs], SR))

    together = run(rows)
    assert len(together[3].beats) == 0 and together[3].confidence is None  # < 1 STFT frame
    for x, res in zip(rows[1:3], together[1:3], strict=True):
        alone = run([x])[0]
        np.testing.assert_array_equal(res.beats, alone.beats)
        np.testing.assert_array_equal(res.downbeats, alone.downbeats)


def test_checkpoint_name_offline_says_how_to_fetch(tmp_path, monkeypatch):
    import torch

    from heihachi.errors import ModelNotFoundError
    from heihachi.plugins.beat_this_tracker import checkpoint_path

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(ModelNotFoundError) as err:
        checkpoint_path("final0", tmp_path / "cache", offline=True)
    msg = str(err.value)
    assert "final0" in msg and str(tmp_path / "cache" / "beat_this" / "final0.ckpt") in msg
    assert "python -m heihachi" in msg and "https://" in msg
    with pytest.raises(ModelNotFoundError, match="make-tiny"):
        checkpoint_path("tiny/beat_this.ckpt", tmp_path / "cache", offline=True)
    # a checkpoint already in the models cache is used without any network
    (tmp_path / "cache" / "beat_this").mkdir(parents=True)
    (tmp_path / "cache" / "beat_this" / "small0.ckpt").write_bytes(b"x")
    assert checkpoint_path("small0", tmp_path / "cache", offline=True).name == "small0.ckpt"
    assert "models fetch final0" in msg


def test_models_fetch_dispatches_plugin_names(tmp_path):
    """`models fetch small0` goes to the beat_this plugin (here: already cached, so no
    network), not to the Hugging Face hub."""
    cache = tmp_path / "cache"
    (cache / "beat_this").mkdir(parents=True)
    (cache / "beat_this" / "small0.ckpt").write_bytes(b"x")
    result = run_heihachi("models", "fetch", "small0", "--cache-dir", str(cache))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"beats/beat_this: {cache / 'beat_this' / 'small0.ckpt'}"


def test_dbn_without_madmom_is_a_clear_config_error(tiny_cache):
    pytest.importorskip("beat_this")
    try:
        import madmom  # noqa: F401
        pytest.skip("madmom is installed")
    except ImportError:
        pass
    from heihachi.errors import ConfigError
    from heihachi.plugins.beat_this_tracker import BeatThisTracker

    tracker = BeatThisTracker(BeatThisTracker.Config(model="tiny/beat_this.ckpt", dbn=True),
                              cache_dir=tiny_cache, offline=True)
    with pytest.raises(ConfigError, match="madmom"):
        tracker.load()

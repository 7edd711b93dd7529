"""`hf extract` end to end on tiny models of every supported architecture."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import run_heihachi, write_tone

ARCHS = ("wav2vec2", "hubert", "wavlm", "ast", "whisper", "clap")


def _reference_frames(model_dir, audio_path):
    """What a user gets calling transformers directly on correctly resampled audio."""
    import soxr
    import torch
    from transformers import AutoFeatureExtractor, AutoModel

    fe = AutoFeatureExtractor.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    x, sr = sf.read(audio_path, dtype="float32")
    y = soxr.resample(x.mean(axis=1) if x.ndim == 2 else x, sr, fe.sampling_rate, quality="HQ")
    inputs = fe([y], sampling_rate=fe.sampling_rate, return_tensors="pt")
    with torch.no_grad():
        if model.config.model_type == "whisper":
            h = model.get_encoder()(inputs["input_features"]).last_hidden_state[0]
        elif model.config.model_type == "clap":
            out = model.audio_model(input_features=inputs["input_features"])
            h = out.last_hidden_state.mean(dim=2).transpose(1, 2)[0]
        elif model.config.model_type == "audio-spectrogram-transformer":
            c = model.config
            n_f = (c.num_mel_bins - c.patch_size) // c.frequency_stride + 1
            h = model(inputs["input_values"]).last_hidden_state[0, 2:]
            h = h.reshape(n_f, -1, h.shape[-1]).mean(dim=0)
        else:
            h = model(inputs["input_values"]).last_hidden_state[0]
    return fe.sampling_rate, h.numpy()


@pytest.mark.parametrize("arch", ARCHS)
def test_extract_each_architecture_resamples_and_matches_transformers(tiny_cache, tmp_path,
                                                                      arch):
    seconds = 2.0
    audio = write_tone(tmp_path / "in" / "clip.wav", seconds=seconds, sr=44_100, channels=2)
    out = tmp_path / "out"
    result = run_heihachi("hf", "extract", str(audio.parent), "--output", str(out), "-q",
                          "profile=tiny", f"extractor.model=tiny/{arch}",
                          env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)},
                          subprocess_=True)  # warnings show once per process
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr  # e.g. WavLM's key_padding_mask
    doc = json.loads((out / "clip" / "extract.json").read_text())
    assert doc["schema"] == "heihachi.extract/1" and doc["model"] == f"tiny/{arch}"
    arrays = np.load(out / "clip" / "extract.npz")
    frames, stamps = arrays["frames"], arrays["timestamps"]
    assert frames.shape[0] == stamps.shape[0] > 0 and arrays["scene"].shape == frames.shape[1:]
    assert stamps[-1] < seconds and stamps[-1] > seconds * 0.85  # frames cover the audio
    np.testing.assert_allclose(arrays["scene"], frames.mean(axis=0), rtol=1e-5, atol=1e-6)

    rate, ref = _reference_frames(tiny_cache / "tiny" / arch, audio)
    assert rate == (48_000 if arch == "clap" else 16_000)
    np.testing.assert_allclose(frames, ref[: len(frames)], rtol=1e-3, atol=2e-3)


def test_all_layers_and_max_pooling(tiny_cache, tmp_path):
    audio = write_tone(tmp_path / "in" / "clip.wav", seconds=1.5)
    out = tmp_path / "out"
    result = run_heihachi("hf", "extract", str(audio), "-o", str(out), "-q", "profile=tiny",
                          "extractor.layer=all", "extractor.pooling=max",
                          env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 0, result.stderr
    arrays = np.load(out / "clip" / "extract.npz")
    layers = arrays["layers"]
    assert layers.shape[0] == 3 and layers.shape[1:] == arrays["frames"].shape  # 2 layers + emb
    np.testing.assert_allclose(arrays["scene"], arrays["frames"].max(axis=0), rtol=1e-6)


def test_long_file_is_windowed_and_stitched_in_order(tiny_cache, tmp_path):
    audio = write_tone(tmp_path / "in" / "long.wav", seconds=25.0, sr=16_000)
    out = tmp_path / "out"
    result = run_heihachi("hf", "extract", str(audio), "-o", str(out), "-q", "profile=tiny",
                          "extractor.window_s=4.0", "extractor.hop_s=3.0",
                          env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 0, result.stderr
    stamps = np.load(out / "long" / "extract.npz")["timestamps"]
    assert np.all(np.diff(stamps) > 0)  # overlaps were cropped, not duplicated
    assert abs(np.median(np.diff(stamps)) - 0.02) < 1e-3
    assert stamps[0] < 0.05 and stamps[-1] > 24.9
    assert np.diff(stamps).max() < 0.05  # no gaps at window seams


def test_missing_model_offline_names_id_cache_and_fix(tmp_path):
    audio = write_tone(tmp_path / "a.wav", seconds=0.5)
    result = run_heihachi("hf", "extract", str(audio), "-o", str(tmp_path / "o"),
                          "extractor.model=someone/not-cached",
                          env={"HEIHACHI_MODELS_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 2  # a configuration error: no file was processed
    assert "someone/not-cached" in result.stderr and str(tmp_path / "cache") in result.stderr
    assert "models fetch someone/not-cached" in result.stderr

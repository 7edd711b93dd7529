"""`hf separate` with the demucs plugin: a tiny HTDemucs saved in demucs' own format,
loaded through demucs' repository loader, streamed to stem files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import run_heihachi, write_tone

SOURCES = ["drums", "bass", "other", "vocals"]
#: small runtime windows so a few seconds of audio cross several window seams
WINDOWS = ("separator.window_s=2", "separator.hop_s=1.6")


def _env(cache: Path) -> dict[str, str]:
    return {"HEIHACHI_MODELS_CACHE": str(cache)}


def _stereo(path: Path, seconds: float, sr: int = 44_100) -> Path:
    rng = np.random.default_rng(1)
    t = np.arange(round(seconds * sr)) / sr
    x = np.stack([0.3 * np.sin(2 * np.pi * 110 * t), 0.2 * np.sin(2 * np.pi * 330 * t)], 1)
    x += 0.02 * rng.standard_normal(x.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x.astype(np.float32), sr)
    return path


def _tiny_plugin(cache: Path, **overrides):
    from heihachi.plugins.demucs_separator import DemucsConfig, DemucsSeparator

    plugin = DemucsSeparator(DemucsConfig(model="tiny/htdemucs", **overrides), cache_dir=cache,
                             offline=True)
    plugin.load()
    return plugin


def test_separate_end_to_end_exact_lengths_bad_file_and_resume(tiny_cache, tmp_path):
    inputs = tmp_path / "in"
    stereo = _stereo(inputs / "stereo.wav", 5.3)
    mono = write_tone(inputs / "mono.wav", seconds=1.7, sr=44_100, channels=1)
    (inputs / "broken.wav").write_bytes(b"RIFF not really a wav file")
    out = tmp_path / "out"
    args = ("hf", "separate", str(inputs), "-o", str(out), "-q", "profile=tiny", *WINDOWS)
    result = run_heihachi(*args, env=_env(tiny_cache))
    assert result.returncode == 1, result.stderr  # one file failed, the others went on
    summary = {Path(f["path"]).name: f for f in
               json.loads((out / "summary.json").read_text())["files"]}
    assert summary["broken.wav"]["status"] == "failed" and "broken.wav" in \
        summary["broken.wav"]["error"]
    assert summary["stereo.wav"]["status"] == summary["mono.wav"]["status"] == "ok"
    assert not (out / "broken" / "stems").exists()

    for src in (stereo, mono):
        track = out / src.stem
        doc = json.loads((track / "separate.json").read_text())
        assert doc["schema"] == "heihachi.separate/1" and doc["plugin"] == "demucs"
        assert doc["model"] == "tiny/htdemucs" and doc["sources"] == SOURCES
        frames = sf.info(str(src)).frames
        assert [s["name"] for s in doc["stems"]] == SOURCES
        for stem in doc["stems"]:
            info = sf.info(str(track / stem["file"]))
            assert (info.frames, info.samplerate, info.channels) == (frames, 44_100, 2)
            assert stem["frames"] == frames and stem["duration"] == pytest.approx(frames / 44_100)
        assert [p.name for p in (track / "stems").iterdir() if p.name.startswith(".")] == []
        drums, _ = sf.read(str(track / "stems" / "drums.wav"), dtype="float32")
        assert np.isfinite(drums).all() and np.abs(drums).max() > 0

    before = (out / "stereo" / "stems" / "drums.wav").stat().st_mtime_ns
    again = run_heihachi(*args, env=_env(tiny_cache))
    counts = json.loads((out / "summary.json").read_text())["counts"]
    assert counts == {"ok": 0, "failed": 1, "skipped": 2}, again.stderr
    assert (out / "stereo" / "stems" / "drums.wav").stat().st_mtime_ns == before


def test_stems_filter_flac_pcm24_and_unknown_stem(tiny_cache, tmp_path):
    audio = _stereo(tmp_path / "in" / "clip.wav", 2.5)
    out = tmp_path / "out"
    result = run_heihachi("hf", "separate", str(audio), "-o", str(out), "-q", "profile=tiny",
                          "--stems", "drums,bass", "output.audio_format=flac",
                          "output.audio_subtype=pcm24", env=_env(tiny_cache))
    assert result.returncode == 0, result.stderr
    stems_dir = out / "clip" / "stems"
    assert sorted(p.name for p in stems_dir.iterdir()) == ["bass.flac", "drums.flac"]
    doc = json.loads((out / "clip" / "separate.json").read_text())
    assert [s["name"] for s in doc["stems"]] == ["drums", "bass"]
    assert doc["audio_format"] == "flac" and doc["audio_subtype"] == "pcm24"
    info = sf.info(str(stems_dir / "drums.flac"))
    assert (info.format, info.subtype, info.frames) == ("FLAC", "PCM_24",
                                                        sf.info(str(audio)).frames)

    # other output settings change the files: the rerun redoes the track, not skips it
    again = run_heihachi("hf", "separate", str(audio), "-o", str(out), "-q", "profile=tiny",
                         "--stems", "drums", "output.audio_format=flac",
                         "output.audio_subtype=pcm16", env=_env(tiny_cache))
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "summary.json").read_text())["counts"]["ok"] == 1
    assert sf.info(str(stems_dir / "drums.flac")).subtype == "PCM_16"

    # FLAC cannot hold float samples: one usage error up front, not an error per file
    flac_float = run_heihachi("hf", "separate", str(audio), "-o", str(tmp_path / "out3"), "-q",
                              "profile=tiny", "output.audio_format=flac", env=_env(tiny_cache))
    assert flac_float.returncode == 2 and "pcm24" in flac_float.stderr
    assert not (tmp_path / "out3" / "clip").exists()

    # a stem the model lacks: one usage error once the model is loaded, before any file
    bad = run_heihachi("hf", "separate", str(audio), "-o", str(tmp_path / "out2"), "-q",
                       "profile=tiny", "--stems", "drums,guitar", env=_env(tiny_cache))
    assert bad.returncode == 2, bad.stderr
    (line,) = bad.stderr.strip().splitlines()
    assert "'guitar'" in line and "drums, bass, other, vocals" in line
    assert not (tmp_path / "out2" / "clip").exists()


def test_batched_chunks_match_demucs_apply_model(tiny_cache):
    """Windows of different lengths batched together give what apply_model gives each."""
    import torch
    from demucs.apply import apply_model

    from heihachi.tasks import AudioBatch

    shifts = 1  # the shifted path; shifts=0 is the same chunking without the padding
    plugin = _tiny_plugin(tiny_cache, shifts=shifts, segment_batch=3)
    g = torch.Generator().manual_seed(0)
    a = 0.3 * torch.randn(2, 44_100 * 2 + 77, generator=g)
    b = 0.1 * torch.randn(2, 30_000, generator=g) + 0.05
    audio = torch.zeros(2, 2, a.shape[-1])
    audio[0], audio[1, :, :b.shape[-1]] = a, b
    with torch.inference_mode():
        results = plugin.separate(AudioBatch(audio, [a.shape[-1], b.shape[-1]], 44_100))
    for x, res in zip((a, b), results, strict=True):
        ref = x.mean(0)
        mean, std = ref.mean(), ref.std() + 1e-8
        random.seed(0)  # apply_model draws its first shift from the global RNG
        with torch.no_grad():
            want = apply_model(plugin.model, ((x - mean) / std)[None], shifts=shifts,
                               overlap=0.25)[0] * std + mean
        got = np.stack([res.stems[s] for s in SOURCES])
        np.testing.assert_allclose(got, want.numpy(), atol=1e-5)


def test_local_repo_bag_and_checksummed_names(tiny_cache, tmp_path):
    """A demucs repository: `<sig>-<sha>.th` files and a `.yaml` bag, like demucs' remote."""
    import hashlib

    import yaml
    from demucs.apply import BagOfModels

    from heihachi.plugins.demucs_loading import DemucsError, load_demucs

    blob = (tiny_cache / "tiny" / "htdemucs" / "htdemucs.th").read_bytes()
    repo = tmp_path / "repo"
    repo.mkdir()
    sha = hashlib.sha256(blob).hexdigest()[:8]
    (repo / f"aaaa1111-{sha}.th").write_bytes(blob)
    (repo / "bbbb2222.th").write_bytes(blob)
    (repo / "mybag.yaml").write_text(yaml.safe_dump(
        {"models": ["aaaa1111", "bbbb2222"], "weights": [[1.0] * 4, [0.0, 1.0, 1.0, 1.0]]}))
    bag = load_demucs(str(repo), None, tmp_path / "cache", offline=True)
    assert isinstance(bag, BagOfModels) and len(bag.models) == 2 and bag.sources == SOURCES
    single = load_demucs(str(repo / "bbbb2222.th"), None, tmp_path / "cache", offline=True)
    assert not isinstance(single, BagOfModels)

    (repo / f"aaaa1111-{sha}.th").write_bytes(blob[:-10] + b"0123456789")
    with pytest.raises(DemucsError, match="checksum"):
        load_demucs(str(repo), "mybag", tmp_path / "cache", offline=True)


def test_named_model_from_legacy_checkpoints_placed_in_cache(tiny_cache, tmp_path):
    """`<cache>/demucs/<sig>-<sha>.th` (demucs' published file names) loads offline."""
    import hashlib

    from heihachi.plugins.demucs_loading import load_demucs

    blob = (tiny_cache / "tiny" / "htdemucs" / "htdemucs.th").read_bytes()
    legacy = tmp_path / "cache" / "demucs"
    legacy.mkdir(parents=True)
    (legacy / f"955717e8-{hashlib.sha256(blob).hexdigest()[:8]}.th").write_bytes(blob)
    model = load_demucs("htdemucs", None, tmp_path / "cache", offline=True)
    assert model.sources == SOURCES and (legacy / "htdemucs.yaml").is_file()


def test_unsafe_checkpoint_is_refused_unless_trusted(tmp_path):
    import decimal

    import torch

    from heihachi.plugins.demucs_loading import DemucsError, load_demucs, make_tiny_htdemucs

    path = make_tiny_htdemucs(tmp_path / "repo", name="tricky")
    package = torch.load(path, weights_only=False)
    package["training_args"] = decimal.Decimal("1")  # any non-allow-listed global
    torch.save(package, path)
    with pytest.raises(DemucsError, match="trust_checkpoint=true"):
        load_demucs(str(path), None, tmp_path, offline=True)
    model = load_demucs(str(path), None, tmp_path, offline=True, trust=True)
    assert model.sources == SOURCES


def test_named_model_offline_and_missing_says_how_to_fetch(tmp_path):
    from heihachi.errors import ModelNotFoundError
    from heihachi.plugins.demucs_loading import load_demucs

    cache = tmp_path / "cache"
    with pytest.raises(ModelNotFoundError) as e:
        load_demucs("htdemucs_ft", None, cache, offline=True)
    msg = str(e.value)
    assert "'htdemucs_ft'" in msg and str(cache) in msg
    assert "python -m heihachi models fetch htdemucs_ft" in msg
    assert "f7e0c4bc-ba3fe64a.th" in msg and str(cache / "demucs") in msg


def test_unknown_model_and_bad_segment_are_config_errors(tiny_cache, tmp_path):
    from heihachi.errors import ConfigError
    from heihachi.plugins.demucs_loading import load_demucs

    with pytest.raises(ConfigError, match="not a known demucs model"):
        load_demucs("htdemucs_nope", None, tmp_path, offline=True)
    with pytest.raises(ConfigError, match=r"separator\.segment"):
        _tiny_plugin(tiny_cache, segment=30.0)


def test_stems_sink_formats_abort_and_tiling(tmp_path):
    from heihachi.errors import ConfigError
    from heihachi.results import Stems
    from heihachi.runtime.stems import StemsSink

    with pytest.raises(ConfigError, match="ogg is not offered"):
        StemsSink(tmp_path, audio_format="ogg")
    with pytest.raises(ConfigError, match="pcm24"):
        StemsSink(tmp_path, audio_format="flac", audio_subtype="float")

    sr, n = 100, 1000
    wave = np.arange(2 * n, dtype=np.float32).reshape(2, n) / (2 * n)
    # windows of 3 s every 2.5 s, each cut in the middle of its overlap, as the runtime does
    sink = StemsSink(tmp_path / "stems")
    starts = [0.0, 2.5, 5.0, 7.5]
    for k, start in enumerate(starts):
        a = round(start * sr)
        part = Stems({"x": wave[:, a:a + 300]}, sr).shifted(start)
        t0 = 0.0 if k == 0 else start + 0.25
        t1 = float("inf") if k == len(starts) - 1 else start + 2.5 + 0.25
        sink.write(part.cropped(t0, t1))
    result = sink.close()
    got, rate = sf.read(str(tmp_path / "stems" / "x.wav"), dtype="float32")
    assert rate == sr and result.files[0].frames == n
    np.testing.assert_array_equal(got.T, wave)

    sink = StemsSink(tmp_path / "aborted")
    sink.write(Stems({"x": wave}, sr))
    sink.abort()
    assert list((tmp_path / "aborted").iterdir()) == []

"""The Python API in heihachi.hf runs the same plugins and runtime as the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import write_tone

from heihachi.hf import FeatureExtractor, SimilaritySearch


def test_feature_extractor_api(tiny_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("HEIHACHI_MODELS_CACHE", str(tiny_cache))
    a = write_tone(tmp_path / "a.wav", seconds=1.5)
    b = write_tone(tmp_path / "b.wav", seconds=2.5, freq=300)
    fx = FeatureExtractor(model="tiny/hubert", layer="all", pooling="max", profile="tiny")
    ea, eb = fx.extract(a), fx.extract(b)  # the model loads once
    assert ea.layers.shape[0] == 3 and ea.frames.shape[1] == 32
    assert eb.timestamps[-1] > 2.3 > ea.timestamps[-1]
    np.testing.assert_allclose(ea.scene, ea.frames.max(axis=0))


def test_similarity_search_api_by_example(tmp_path):
    lib = [write_tone(tmp_path / "lib" / f"t{i}.wav", seconds=12, freq=100 + 150 * i)
           for i in range(3)]
    search = SimilaritySearch(tmp_path / "idx",
                              overrides=["index.embedder=extractor", "extractor=spectral"])
    report = search.add([tmp_path / "lib"])
    assert report["added"] == 3
    hits = search.search(audio=lib[1], per_track=True, k=2)
    assert hits[0].track == str(lib[1]) and len(hits) == 2


def test_task_classes_run_each_kind(tiny_cache, tmp_path, monkeypatch):
    """BeatDetector, DrumAnalyzer (shipped model), StemSeparator and Captioner (tiny)."""
    from heihachi.hf import BeatDetector, Captioner, DrumAnalyzer, StemSeparator

    monkeypatch.setenv("HEIHACHI_MODELS_CACHE", str(tiny_cache))
    clip = "examples/audio/two_step_174.flac"
    beats = BeatDetector().detect(clip)
    assert beats.tempo is not None and len(beats.beats) > 10
    drums = DrumAnalyzer().analyze(clip)
    assert {h.drum_class for h in drums.hits} >= {"kick", "snare", "hihat"}

    tone = write_tone(tmp_path / "tone.wav", seconds=3.0, sr=44_100, channels=2)
    monkeypatch.chdir(tmp_path)  # a relative output dir: the paths returned are absolute
    stems = StemSeparator(profile="tiny").separate(tone, output_dir="out")
    assert [f.name for f in stems.files] == ["drums", "bass", "other", "vocals"]
    assert stems.files[1].file == str(tmp_path / "out" / "tone" / "stems" / "bass.wav")
    assert all(Path(f.file).is_file() for f in stems.files)
    captions = Captioner(profile="tiny").caption(tone)
    assert captions.segments and all(c.text for c in captions.segments)

"""`hf caption` with both captioners on tiny random models (the real loading paths).

`clap-captions` builds text from CLAP zero-shot scores; `hf-captioner` generates
with a tiny random Whisper (gibberish text, real path). Tested: segment times,
schema, caption shape from the vocabulary, config errors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import write_tone


def _caption(tiny_cache: Path, *args: str) -> int:
    from heihachi.cli import cli

    res = CliRunner().invoke(cli, ["hf", "caption", *args, "-q", "profile=tiny"],
                             env={"HEIHACHI_MODELS_CACHE": str(tiny_cache),
                                  "HF_HUB_OFFLINE": "1"})
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tone(tmp_path_factory.mktemp("in") / "clip.wav", seconds=17.0, sr=22_050)


def test_clap_captions_per_overlapping_segment(tiny_cache, clip, tmp_path):
    from heihachi.index.query import parse_categories
    from heihachi.plugins.clap import DEFAULT_VOCABULARY

    out = tmp_path / "out"
    assert _caption(tiny_cache, str(clip), "-o", str(out), "captioner=clap-captions",
                    "captioner.hop_s=5") == 0
    doc = json.loads((out / "clip" / "caption.json").read_text())
    assert doc["schema"] == "heihachi.caption/1" and doc["plugin"] == "clap-captions"
    assert doc["model"] == "tiny/clap-full"
    segs = doc["segments"]
    assert [(s["start"], s["end"]) for s in segs] == [(0.0, 10.0), (5.0, 15.0), (10.0, 17.0)]
    vocab = parse_categories(DEFAULT_VOCABULARY)
    for s in segs:
        assert any(s["text"].split(" with ")[0].endswith(g) for g in vocab["genre"])
        assert s["text"].split(", ")[0] in vocab["mood"]
        assert " with " in s["text"] and 0 < s["score"] <= 1


def test_clap_captions_custom_vocabulary_and_describe(tiny_cache, clip, tmp_path):
    out = tmp_path / "out"
    assert _caption(tiny_cache, str(clip), "-o", str(out), "captioner=clap-captions",
                    "captioner.vocabulary='genre:jungle,techno;key:minor,major'") == 0
    segs = json.loads((out / "clip" / "caption.json").read_text())["segments"]
    assert len(segs) == 2
    for s in segs:
        assert s["text"].split(" (")[0] in ("jungle", "techno")
        assert s["text"].endswith(("(key: minor)", "(key: major)"))

    from heihachi.plugins.clap import ClapCaptioner

    cap = ClapCaptioner()
    cap.categories = {"mood": ["dark", "euphoric"], "energy": ["calm", "energetic"],
                      "genre": ["house", "drum and bass"],
                      "instruments": ["piano", "heavy bass", "breakbeats"]}
    text, score = cap.describe({"mood": np.array([0.9, 0.1]), "energy": np.array([0.2, 0.8]),
                                "genre": np.array([0.3, 0.7]),
                                "instruments": np.array([0.1, 0.5, 0.4])})
    assert text == "dark, energetic drum and bass with heavy bass and breakbeats"
    assert score == pytest.approx(np.mean([0.9, 0.8, 0.7, 0.5, 0.4]))


def test_clap_captions_bad_vocabulary_is_a_config_error(tiny_cache, clip, tmp_path):
    from heihachi.errors import ConfigError

    with pytest.raises(ConfigError, match=r"captioner.vocabulary.*NAME:LABEL"):
        _caption(tiny_cache, str(clip), "-o", str(tmp_path / "o"),
                 "captioner=clap-captions", "captioner.vocabulary=genre")


def test_hf_captioner_generates_per_window(tiny_cache, clip, tmp_path):
    out = tmp_path / "out"
    assert _caption(tiny_cache, str(clip), "-o", str(out), "captioner=hf-captioner",
                    "captioner.window_s=8", "captioner.max_new_tokens=6") == 0
    doc = json.loads((out / "clip" / "caption.json").read_text())
    assert doc["plugin"] == "hf-captioner" and doc["model"] == "tiny/whisper-caption"
    segs = doc["segments"]
    assert [(s["start"], s["end"]) for s in segs] == [(0.0, 8.0), (8.0, 16.0), (16.0, 17.0)]
    for s in segs:
        assert isinstance(s["text"], str) and s["text"]  # random weights: bytes, not words
        assert s["score"] is None or 0 < s["score"] <= 1

    # Whisper's encoder takes 30 s: a longer window is refused, naming the limit
    from heihachi.errors import ConfigError
    from heihachi.runtime.pipeline import build_plugin

    os.environ["HEIHACHI_MODELS_CACHE"] = str(tiny_cache)
    try:
        _cfg, plugin = build_plugin("captioner", ["profile=tiny", "captioner=hf-captioner",
                                                  "captioner.window_s=40"])
        with pytest.raises(ConfigError, match="at most 30 s"):
            plugin.load()
    finally:
        os.environ.pop("HEIHACHI_MODELS_CACHE")

"""Hydra composition: plugin schemas, overrides, profiles and one-line errors."""

from __future__ import annotations

import pytest
from conftest import run_heihachi

from heihachi.config import compose, is_override, plugin_config
from heihachi.errors import ConfigError


def test_default_config_composes_with_every_group():
    cfg, choices = compose([])
    assert choices["extractor"] == "hf"
    assert cfg.runtime.device == "auto" and cfg.runtime.batch_size >= 1
    assert cfg.output.formats == ["json"]
    assert cfg.extractor.layer == "-1"


def test_plugin_settings_are_typed_and_validated():
    cfg, choices = compose(["extractor.layer=6", "extractor.pooling=max",
                            "runtime.batch_size=16"])
    name, obj = plugin_config(cfg, "extractor", choices, [])
    assert (name, obj.layer, obj.pooling, cfg.runtime.batch_size) == ("hf", "6", "max", 16)
    with pytest.raises(ConfigError, match="layerr"):
        compose(["extractor.layerr=6"])
    with pytest.raises(ConfigError, match="batch_size"):
        compose(["runtime.batch_size=lots"])
    with pytest.raises(ConfigError, match="precision"):
        compose(["runtime.precision=fp8"])
    with pytest.raises(ConfigError, match="nosuch"):
        compose(["extractor=nosuch"])


def test_profile_tiny_points_at_tiny_models_unless_the_model_is_given():
    cfg, choices = compose(["profile=tiny"])
    assert plugin_config(cfg, "extractor", choices, [])[1].model == "tiny/wav2vec2"
    overrides = ["profile=tiny", "extractor.model=tiny/hubert"]
    cfg, choices = compose(overrides)
    assert plugin_config(cfg, "extractor", choices, overrides)[1].model == "tiny/hubert"


def test_a_kind_without_a_chosen_plugin_says_how_to_choose():
    cfg, choices = compose(["~beats"])
    with pytest.raises(ConfigError, match="beats=NAME"):
        plugin_config(cfg, "beats", choices, [])


def test_override_detection():
    assert is_override("extractor.layer=6") and is_override("+foo=1")
    assert not is_override("tracks/song.wav") and not is_override("a b=c")


def test_cli_config_errors_are_one_line_with_exit_code_2(tmp_path):
    for bad in ("extractor.layerr=6", "runtime.batch_size=lots", "extractor=nosuch"):
        result = run_heihachi("hf", "extract", str(tmp_path), bad,
                              subprocess_=True)  # `python -m heihachi` itself
        assert result.returncode == 2, (bad, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr


def test_cli_cfg_prints_the_resolved_config():
    result = run_heihachi("hf", "extract", "--cfg", "extractor.layer=all", "profile=tiny")
    assert result.returncode == 0, result.stderr
    assert "layer: all" in result.stdout and "batch_size:" in result.stdout

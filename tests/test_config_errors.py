"""Configuration errors come up front: one line, exit code 2, before any file is touched.

Run in-process through ``heihachi.cli.app.main`` (the real CLI, its real exit codes)
so these many small cases stay fast.
"""

from __future__ import annotations

import pytest
from conftest import ROOT, write_tone

from heihachi.errors import ConfigError, PluginError

CLIP = ROOT / "examples" / "audio" / "two_step_174.flac"


def run_cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of ``python -m heihachi ARGS``, run in this process."""
    from heihachi.cli.app import main

    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    """Exit code and stderr of ``python -m heihachi ARGS``, run in this process."""
    code, _out, err = run_cli(capsys, *args)
    return code, err


def one_line_error(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "$VALUE" not in err and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(("override", "says"), [
    ("drums.window_s=0", "drums.window_s"),
    ("drums.window_s=-5", "drums.window_s"),
    ("drums.hop_s=100", "drums.hop_s"),  # hop > window would leave gaps
    ("drums.min_bpm=300", "drums.min_bpm"),
    ("drums.threshold_scale=-1", "drums.threshold_scale"),
    ("drums.threshold_scale=0", "drums.threshold_scale"),
    ("drums.beats_per_bar=[1,4]", "beats_per_bar"),
    ("drums.bar_jump=1", "bar_jump"),
    ("drums.bar_jump=0", "bar_jump"),
])
def test_bad_plugin_settings_fail_before_any_work(capsys, tmp_path, override, says):
    out = tmp_path / "out"
    code, err = cli(capsys, "hf", "analyze-drums", str(CLIP), "-o", str(out), "-q", override)
    assert code == 2, err
    assert says in one_line_error(err)
    assert not out.exists()  # nothing was decoded, analysed or written


def test_min_bpm_above_max_bpm(capsys, tmp_path):
    code, err = cli(capsys, "hf", "beats", str(CLIP), "-o", str(tmp_path / "o"), "-q",
                    "beats.min_bpm=150", "beats.max_bpm=120")
    assert code == 2 and "min_bpm" in one_line_error(err) and "max_bpm" in err


@pytest.mark.parametrize("override", ["index.hop_s=0", "index.window_s=-1", "index.nprobe=0",
                                      "index.ef_search=0", "index.kind=tree",
                                      "runtime.threads=0", "index.window_s=5 index.hop_s=6"])
def test_typed_framework_configs_check_their_ranges(override):
    from heihachi.config import compose

    with pytest.raises(ConfigError, match=override.split("=")[0].split()[-1].split(".")[1]):
        compose(override.split())


def test_a_plugin_config_post_init_error_is_a_config_error():
    from dataclasses import dataclass

    from heihachi.config import check_plugin_config

    @dataclass
    class Config:
        level: float = 1.0

        def __post_init__(self) -> None:
            if self.level < 0:
                raise ValueError("level must be >= 0")

    with pytest.raises(ConfigError, match="beats: level must be >= 0"):
        check_plugin_config("beats", Config, {"level": -1.0})


def test_a_wrong_type_names_the_value_not_placeholders(capsys, tmp_path):
    code, err = cli(capsys, "hf", "extract", str(CLIP), "-o", str(tmp_path),
                    "runtime.batch_size=lots")
    line = one_line_error(err)
    assert code == 2 and "'lots'" in line and "runtime.batch_size" in line


def test_an_unknown_plugin_name_lists_the_choices(capsys, tmp_path):
    code, err = cli(capsys, "hf", "extract", str(CLIP), "-o", str(tmp_path), "extractor=nosuch")
    line = one_line_error(err)
    assert code == 2 and "'nosuch'" in line and "hf" in line and "spectral" in line


def test_an_unknown_option_is_reported_as_one(capsys, tmp_path):
    code, err = cli(capsys, "hf", "analyze-drums", str(CLIP), "--bogus-flag")
    line = one_line_error(err)
    assert code == 2 and "--bogus-flag" in line and "option" in line and "not found" not in line


def test_a_local_model_path_that_does_not_exist_says_so(capsys, tmp_path):
    audio = write_tone(tmp_path / "a.wav", seconds=0.5)
    code, err = cli(capsys, "hf", "analyze-drums", str(audio), "-o", str(tmp_path / "o"), "-q",
                    "drums.model=/nonexistent/path")
    line = one_line_error(err)
    assert code == 2 and "/nonexistent/path" in line and "does not exist" in line
    assert "download" not in line and "Repo id" not in line


def test_a_missing_model_is_a_configuration_error(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HEIHACHI_MODELS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    audio = write_tone(tmp_path / "a.wav", seconds=0.5)
    code, err = cli(capsys, "hf", "extract", str(audio), "-o", str(tmp_path / "o"), "-q",
                    "extractor.model=someone/not-cached")
    assert code == 2 and "models fetch someone/not-cached" in one_line_error(err)


def test_strict_plugins_error_does_not_say_skipping(monkeypatch):
    import types

    from heihachi.registry import PluginRegistry

    monkeypatch.setenv("HEIHACHI_STRICT_PLUGINS", "1")

    class BrokenEntryPoint:
        name = "broken"
        dist = types.SimpleNamespace(name="dist-broken", version="1")

        def load(self):
            raise ImportError("no module named nothing")

    monkeypatch.setattr("importlib.metadata.entry_points", lambda group: [BrokenEntryPoint()])
    reg = PluginRegistry()
    with pytest.raises(PluginError) as info:
        reg.load_entry_points()
    assert "skipping" not in str(info.value) and "HEIHACHI_STRICT_PLUGINS" in str(info.value)

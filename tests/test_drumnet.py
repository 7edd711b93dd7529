"""drumnet inference: model format, decoding, shipped weights, wheel layout."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "models_cache" / "heihachi" / "drumnet-v4"  # the default model


def _pkg():
    try:
        return importlib.import_module("heihachi.plugins.drumnet")
    except ImportError:  # not installed yet: import the package from plugins/ directly
        sys.path.insert(0, str(ROOT / "plugins"))
        return importlib.import_module("drumnet")


dn = _pkg()
PKG = dn.__name__
TRAIN = "heihachi_train.drumnet"  # rendering and training, outside the installed package
kits = importlib.import_module(TRAIN + ".kits")
decode = importlib.import_module(PKG + ".decode")

HAVE_KITS = Path("/usr/share/hydrogen/data/drumkits/GMRockKit/drumkit.xml").is_file()
needs_kits = pytest.mark.skipif(not HAVE_KITS, reason="hydrogen-drumkits not installed")


def test_package_is_import_light():
    import subprocess

    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'plugins')!r}); import drumnet; "
            "assert 'torch' not in sys.modules and 'numpy' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_decode_peaks():
    fps = 100.0
    on = np.zeros((300, 5), np.float32)
    on[50, 0], on[49, 0], on[51, 0] = 0.9, 0.4, 0.4
    on[120, 2] = 0.3  # below the hihat threshold below
    on[200, 4] = 0.8
    vel = np.full((300, 5), 0.7, np.float32)
    hits = decode.activations_to_hits(on, vel, fps, {"hihat": 0.5})
    assert [(round(h[0], 3), h[1]) for h in hits] == [(0.5, "kick"), (2.0, "cymbal")]
    assert all(h[2] > 0.5 and h[3] == pytest.approx(0.7) for h in hits)
    assert decode.activations_to_hits(on, None, fps, {"hihat": 0.2})[1][1] == "hihat"


def test_decode_cross_class_suppression():
    fps = 100.0
    on = np.zeros((300, 5), np.float32)
    on[50, 1], on[51, 3] = 0.9, 0.4  # snare, and a weaker tom one frame later: a confusion
    on[150, 1], on[150, 3] = 0.3, 0.8  # a tom over a weaker snare: the tom stays
    on[250, 3] = 0.5  # a tom alone
    th = {c: 0.2 for c in kits.CLASSES}
    plain = decode.activations_to_hits(on, None, fps, th)
    assert [(round(h[0], 2), h[1]) for h in plain if h[1] == "tom"] == [
        (0.51, "tom"), (1.5, "tom"), (2.5, "tom")]
    sup = decode.activations_to_hits(on, None, fps, th, suppress={"tom": {"snare": 1.0}})
    assert [round(h[0], 2) for h in sup if h[1] == "tom"] == [1.5, 2.5]
    assert [round(h[0], 2) for h in sup if h[1] == "snare"] == [0.5, 1.5]  # never suppressed


def test_make_tiny_roundtrip(tmp_path):
    import torch

    model_mod = importlib.import_module(PKG + ".model")
    model_mod.make_tiny(tmp_path / "tiny")
    assert not list((tmp_path / "tiny").glob("*.pt*"))
    m = model_mod.load_drumnet(tmp_path / "tiny")
    assert m.sample_rate == 24000 and m.fps == 100.0
    for n in (1, 1000, 24000 * 2 + 17):
        out = m(torch.zeros(2, n))
        f = n // m.hop_length + 1
        assert out["onsets"].shape == (2, f, 5)
        assert out["beats"].shape == (2, f, 2)
        assert out["velocity"].shape == (2, f, 5)
    cfg = json.loads((tmp_path / "tiny" / "config.json").read_text())
    assert set(cfg["thresholds"]) == set(kits.CLASSES)


def test_saved_weights_are_byte_identical_across_processes(tmp_path):
    """A retrain is checked against the shipped file's sha256, so equal weights must give
    equal bytes in every process (safetensors writes its metadata map in hash order)."""
    import subprocess

    code = f"import sys; from {PKG}.model import make_tiny; make_tiny(sys.argv[1])"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path / str(i))])
             for i in range(4)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    files = {(tmp_path / str(i) / "model.safetensors").read_bytes() for i in range(4)}
    assert len(files) == 1


def test_frontend_mel_scale_is_saved_and_old_configs_stay_slaney(tmp_path):
    model_mod = importlib.import_module(PKG + ".model")
    cfg = {**model_mod.DEFAULT_CONFIG, **model_mod.TINY_OVERRIDES}
    htk = model_mod.build({**cfg, "mel_scale": "htk", "n_fft": 2048})
    model_mod.save_drumnet(htk, tmp_path / "htk")
    again = model_mod.load_drumnet(tmp_path / "htk")
    assert again.frontend.mel.mel_scale.mel_scale == "htk" and again.frontend.n_fft == 2048
    # a config written before the key existed (the shipped run-6 model) keeps slaney
    old = {k: v for k, v in cfg.items() if k != "mel_scale"}
    model_mod.save_drumnet(model_mod.build(old), tmp_path / "old")
    conf = json.loads((tmp_path / "old" / "config.json").read_text())
    conf.pop("mel_scale", None)
    (tmp_path / "old" / "config.json").write_text(json.dumps(conf))
    assert model_mod.load_drumnet(tmp_path / "old").frontend.mel.mel_scale.mel_scale == "slaney"
    # htk spaces the lowest bands finer: kick (~50 Hz) and low tom (~90 Hz) part
    def low_centres(model):  # centre frequencies (Hz) of the three lowest bands
        fb = model.frontend.mel.mel_scale.fb  # [bins, n_mels]
        hz = np.linspace(0, model.sample_rate / 2, fb.shape[0])
        return [float((fb[:, i].numpy() * hz).sum() / fb[:, i].sum()) for i in range(3)]

    slaney, finer = low_centres(model_mod.build(cfg)), low_centres(htk)
    assert finer[1] < 90 < slaney[1] and finer[0] < slaney[0]


@pytest.mark.skipif(not (SHIPPED / "model.safetensors").is_file(), reason="no shipped weights")
def test_shipped_weights():
    model_mod = importlib.import_module(PKG + ".model")
    assert (SHIPPED / "model.safetensors").stat().st_size <= 5 * 1024 * 1024
    cfg = json.loads((SHIPPED / "config.json").read_text())
    assert cfg["validation_kits"] == list(kits.VALIDATION_KITS)
    assert (SHIPPED / "MODEL_CARD.md").is_file()
    m = model_mod.load_drumnet(SHIPPED)
    assert m.fps == 100.0


def test_shipped_model_found_in_a_wheel_layout(tmp_path, monkeypatch):
    """A wheel carries models_cache/heihachi/ as heihachi/shipped_models/: resolve() must
    find it there when no checkout and no cache holds the model."""
    models = importlib.import_module("heihachi.models")
    wheel_dir = tmp_path / "site" / "heihachi" / "shipped_models"
    (wheel_dir / "drumnet-v1").mkdir(parents=True)
    monkeypatch.setattr(models, "_REPO_CACHE", tmp_path / "no-checkout")
    monkeypatch.setattr(models, "_WHEEL_MODELS", wheel_dir)
    got = models.resolve("heihachi/drumnet-v1", cache_dir=tmp_path / "empty-cache")
    assert got == wheel_dir / "drumnet-v1"
    with pytest.raises(models.ModelNotFoundError):
        models.resolve("heihachi/nope", cache_dir=tmp_path / "empty-cache")


@pytest.mark.skipif(not (SHIPPED / "model.safetensors").is_file(), reason="no shipped weights")
def test_wheel_carries_the_shipped_model(tmp_path):
    import shutil
    import subprocess
    import zipfile

    pytest.importorskip("setuptools")
    src = tmp_path / "src"  # a copy, so the build leaves nothing in the checkout
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", "build", "tiny", "*.egg-info", "__pycache__", ".*_cache", "out", "examples"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", str(src), "-w", str(tmp_path)], check=True,
                   cwd=tmp_path)
    names = zipfile.ZipFile(next(tmp_path.glob("heihachi-*.whl"))).namelist()
    # each is fine-tuned from the one before it (v4 from v3, v3 from v2, v2 from v1)
    for model in ("drumnet-v1", "drumnet-v2", "drumnet-v3", "drumnet-v4"):
        for f in ("config.json", "model.safetensors", "MODEL_CARD.md"):
            assert f"heihachi/shipped_models/{model}/{f}" in names
    assert not any("/tiny/" in n for n in names)


@needs_kits
def test_compare_drumnet_scores_candidates_against_the_first(tmp_path):
    import subprocess

    model_mod = importlib.import_module(PKG + ".model")
    model_mod.make_tiny(tmp_path / "base")
    model_mod.make_tiny(tmp_path / "same")
    script = str(ROOT / "bench" / "compare_drumnet.py")
    res = subprocess.run([sys.executable, script, str(tmp_path / "base"), str(tmp_path / "same"),
                          "--clips", "2", "--seed", "5", "--json", str(tmp_path / "c.json")],
                         capture_output=True, text=True, check=True)
    lines = res.stdout.splitlines()
    assert lines[0].split()[:2] == ["model", "kick"]
    same = next(line for line in lines if line.startswith(str(tmp_path / "same")))
    assert same.count("(+0.000)") == 8  # an identical model differs by nothing
    doc = json.loads((tmp_path / "c.json").read_text())
    assert (doc["seed"], doc["clips"]) == (5, 2)
    assert [m["model"] for m in doc["models"]] == [str(tmp_path / "base"), str(tmp_path / "same")]
    assert doc["models"][0]["figures"] == doc["models"][1]["figures"]
    assert set(doc["models"][0]["figures"]) >= {"kick", "tom", "mean k/s/h", "tempo"}
    bad = subprocess.run([sys.executable, script, str(tmp_path / "base"), "--seed", "2026"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "bench/quality.py" in bad.stderr
    bad = subprocess.run([sys.executable, script, str(tmp_path)], capture_output=True, text=True)
    assert bad.returncode == 2 and "not a drumnet directory" in bad.stderr

"""The unseen-source drum validation (bench/unseen): leak check, sources, chains, clips."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from unseen import chains, leak, physical  # noqa: E402

HAVE_SONIVOX = any(Path(d, "libsonivox.so.3").exists()
                   for d in ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"))
HAVE_OPL3 = Path("/usr/share/sounds/sf2/OPL-3_FM_128M.sf2").is_file() and bool(
    shutil.which("fluidsynth"))
HAVE_KITS = Path("/usr/share/hydrogen/data/drumkits/GMRockKit/drumkit.xml").is_file()


def test_leak_check_flags_a_copy_and_passes_other_sounds(monkeypatch):
    rng = np.random.default_rng(0)
    t = np.arange(12_000) / 24_000
    shot = (rng.standard_normal(12_000) * np.exp(-t / 0.05)).astype(np.float32)
    other = (np.sin(2 * np.pi * 180 * t) * np.exp(-t / 0.2)).astype(np.float32)
    sigs = np.stack([leak._sig(shot), leak._sig(other)])
    monkeypatch.setattr(leak, "training_one_shots", lambda: (sigs, ["train/snare", "train/tom"]))
    copy = np.concatenate([np.zeros(0, np.float32), shot[53:] * 0.3])  # trimmed, quieter
    fresh = (rng.standard_normal(12_000) * np.exp(-t / 0.05)).astype(np.float32)
    top, leaks = leak.check({"val/snare": [copy, fresh]})
    assert [(v, tr) for v, tr, _ in leaks] == [("val/snare#0", "train/snare")]
    assert top >= leak.THRESHOLD
    top, leaks = leak.check({"val/snare": [fresh]})
    assert not leaks and top < 0.5


def test_physical_kit_is_deterministic_and_class_shaped():
    a = physical.physical_kit(1)
    again = physical.instrument("snare", np.random.default_rng(5))
    assert all(np.array_equal(x, y) for (x, _, _), (y, _, _) in zip(
        again, physical.instrument("snare", np.random.default_rng(5)), strict=True))

    def centroid(x):
        mag = np.abs(np.fft.rfft(x[:4096], 8192)) ** 2
        return float((mag * np.fft.rfftfreq(8192, 1 / physical.SR)).sum() / mag.sum())

    cent = {}
    for c in a:
        for ia in a[c]:
            assert [lo for _, lo, _ in ia] == [0.0, 0.45, 0.8]
            peaks = [float(np.abs(x).max()) for x, _, _ in ia]
            assert peaks == sorted(peaks) and np.isfinite(ia[-1][0]).all()
        cent[c] = np.median([centroid(lay[-1][0]) for lay in a[c]])
    assert cent["kick"] < cent["tom"] < cent["snare"] < cent["hihat"]


def test_every_condition_keeps_length_and_timing(tmp_path):
    import soundfile as sf

    rng = np.random.default_rng(1)
    n = chains.SR * 2
    drums = np.zeros(n)
    drums[12_000:12_200] = np.hanning(200)
    bed = 0.002 * np.sin(np.arange(n) * 0.02)
    for cond in chains.PROCESSING:
        mix, steps = chains.apply(cond, drums, bed, np.array([0.5]), np.random.default_rng(2))
        assert mix.shape == (n,) and np.isfinite(mix).all(), cond
        assert 1 <= len(steps) <= 2
        path = chains.write(tmp_path / cond.replace(" ", "_"), mix / np.abs(mix).max() * 0.5,
                            cond, rng)
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        ext, rate = chains.FILE_CONDITIONS.get(cond, ("wav", chains.SR))
        assert sr == rate and path.suffix == "." + ext
        # the burst is still where the annotation says (codecs: decoder delay compensated)
        onset = np.argmax(np.abs(y[:, 0]) > 0.25 * np.abs(y[:, 0]).max()) / sr
        assert abs(onset - 0.5) < 0.01, (cond, onset)


@pytest.mark.skipif(not HAVE_SONIVOX, reason="libsonivox3 not installed")
def test_sonivox_renders_a_gm_drum_note():
    from unseen.sources import sonivox_notes

    shots, sr = sonivox_notes([(38, 100), (42, 60)], note_s=0.5)
    assert sr == 22_050 and len(shots) == 2 and np.abs(shots[0]).max() > 0.05
    assert np.abs(shots[1]).max() < np.abs(shots[0]).max()  # a soft hat after a loud snare
    again, _ = sonivox_notes([(38, 100), (42, 60)], note_s=0.5)
    assert all(np.array_equal(a, b) for a, b in zip(shots, again, strict=True))


@pytest.mark.skipif(not (HAVE_KITS and HAVE_OPL3 and HAVE_SONIVOX),
                    reason="hydrogen-drumkits, opl3-soundfont or libsonivox3 missing")
def test_unseen_clips_have_exact_labels_and_cover_families_and_conditions():
    from unseen.clips import render_clip
    from unseen.sources import FAMILIES

    clips = [render_clip(i, seed=3, duration=4.0) for i in (2, 5)]  # physical family
    for audio, ann in clips:
        assert ann["family"] == "physical" and ann["kit"] in FAMILIES["physical"]
        assert np.isfinite(audio).all() and 0 < np.abs(audio).max() <= 1.0
        assert all(abs(t * chains.SR - round(t * chains.SR)) < 1e-6 for t, _, _ in ann["hits"])
        assert np.allclose(np.diff(ann["beats"]), 60 / ann["tempo"])
    assert [a["processing"] for _, a in clips] == [chains.PROCESSING[0], chains.PROCESSING[1]]
    again, _ = render_clip(2, seed=3, duration=4.0)
    assert np.array_equal(again, clips[0][0])


def test_card_section_reads_the_bench_json(tmp_path):
    import json

    from heihachi_train.drumnet.card import _unseen_section

    assert _unseen_section(tmp_path) == ""  # no bench figures: no section
    f1 = {c: 0.5 for c in ("kick", "snare", "hihat", "tom", "cymbal")}
    block = {"clips": 3, "onset_f": f1, "mean_ksh": 0.5, "mean_ksh_95": [0.4, 0.6],
             "beat_f": 0.9, "tempo": 1.0}
    fig = {**block, "onset_f_95": {c: [0.4, 0.6] for c in f1}, "beat_f_95": [0.8, 1.0],
           "tempo_95": [1.0, 1.0], "by_processing": {"telephone 300-3400 Hz": block}}
    (tmp_path / "unseen_validation.json").write_text(json.dumps(
        {"seed": 2027, "clips": 3, "duration_s": 12.0, "command": "python bench/quality.py X",
         "models": [{"model": "m", "figures": fig}]}))
    (tmp_path / "oneshots.json").write_text(json.dumps({"models": [
        {"n": 9, "accuracy": 0.8, "accuracy_95": [0.7, 0.9], "baseline": 0.6,
         "baseline_95": [0.5, 0.7]}]}))
    text = _unseen_section(tmp_path)
    assert "## Unseen-source validation" in text and "seed 2027" in text
    assert "| telephone 300-3400 Hz | 3 |" in text and "`python bench/quality.py X`" in text
    assert "accuracy 0.800 [0.700, 0.900]" in text and "gets 0.600" in text

"""drumnet's generalisation options (issue 15): production chains, wide-range voices,
layering, hard mix situations, class-balanced draws; all off reproduces older recipes."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

TRAIN = "heihachi_train.drumnet"
chain = importlib.import_module(TRAIN + ".chain")
voices = importlib.import_module(TRAIN + ".voices")
situations = importlib.import_module(TRAIN + ".situations")
kits = importlib.import_module(TRAIN + ".kits")

HAVE_KITS = Path("/usr/share/hydrogen/data/drumkits/GMRockKit/drumkit.xml").is_file()
needs_kits = pytest.mark.skipif(not HAVE_KITS, reason="hydrogen-drumkits not installed")
NEW = {"voices_p": 1.0, "layer_p": 1.0, "wide_pitch": True, "chain_p": 1.0, "contrast_p": 1.0,
       "thin_p": 1.0, "pluck_p": 1.0}


@needs_kits
def test_new_options_off_render_bit_for_bit_and_on_deterministically():
    render = importlib.import_module(TRAIN + ".render")
    base = {"sample_aug_p": 0.5, "synth_p": 0.3}
    plain = render.render_set(3, 21, kits.TRAIN_KITS, duration=2.0, **base)
    off = render.render_set(3, 21, kits.TRAIN_KITS, duration=2.0, **base, voices_p=0.0,
                            layer_p=0.0, wide_pitch=False, chain_p=0.0, contrast_p=0.0,
                            extra_styles_p=0.0, real_beds_p=0.0, negatives_p=0.0,
                            isolated_p=0.0, thin_p=0.0, pluck_p=0.0)
    assert all(np.array_equal(a[0], b[0]) and a[2] == b[2]
               for a, b in zip(plain, off, strict=True))
    on = render.render_set(3, 21, kits.TRAIN_KITS, duration=2.0, **base, **NEW)
    again = render.render_set(3, 21, kits.TRAIN_KITS, duration=2.0, **base, **NEW)
    assert all(np.array_equal(a[0], b[0]) and a[2] == b[2] for a, b in zip(on, again, strict=True))
    assert not np.array_equal(plain[0][0], on[0][0])
    for audio, sr, ann in on:
        assert np.isfinite(audio).all() and 0 < np.abs(audio).max() <= 1.0
        assert len({(t, c) for t, c, _ in ann["hits"]}) == len(ann["hits"])  # no doubled labels
        assert all(abs(t * sr - round(t * sr)) < 1e-6 for t, _, _ in ann["hits"])


def test_every_chain_step_keeps_length_level_and_timing():
    rng = np.random.default_rng(0)
    x = np.zeros(chain.SR)
    x[6000:6400] = np.hanning(400) * np.sin(np.arange(400) * 0.3)  # one burst at 0.25 s
    for name, step in chain.STEP_FUNCS.items():
        y = step(x.copy(), np.random.default_rng(1))
        assert y.shape == x.shape and np.isfinite(y).all(), name
        # causal and without latency: nothing before the burst (codecs: below -50 dB)
        assert np.abs(y[:5900]).max() < 3e-3 * np.abs(y).max() + 1e-9, name
    kicks = np.array([0.25, 0.6])
    ducked = chain.pump(np.ones(chain.SR), rng, kicks)
    assert ducked[int(0.26 * chain.SR)] < 0.7 and ducked[int(0.2 * chain.SR)] == 1.0
    for c in kits.CLASSES:
        assert chain.stem_chain(x.copy(), c, np.random.default_rng(2)).shape == x.shape
    assert chain.mix_chain(x.copy(), np.random.default_rng(3), kicks).shape == x.shape


def test_voices_every_recipe_is_finite_and_class_shaped():
    def centroid(x):
        mag = np.abs(np.fft.rfft(x[:4096], 8192)) ** 2
        return float((mag * np.fft.rfftfreq(8192, 1 / voices.SR)).sum() / mag.sum())

    med = {}
    for c in voices.VOICES:
        shots = [voices.voice_one_shot(c, np.random.default_rng(i)) for i in range(24)]
        for s in shots:
            assert s.dtype == np.float32 and np.isfinite(s).all()
            assert np.abs(s).max() == pytest.approx(1.0, abs=1e-3)
            assert np.abs(s[: voices.SR // 50]).max() > 0.2  # sounds at once
        assert np.array_equal(shots[0], voices.voice_one_shot(c, np.random.default_rng(0)))
        med[c] = np.median([centroid(s) for s in shots])
    assert med["kick"] < med["tom"] < med["snare"] < med["hihat"]
    assert med["cymbal"] > med["tom"]


def test_contrast_situations_add_labels_without_doubling():
    events = [(0.0, "kick", 0.9), (4.0, "snare", 0.9), (8.0, "kick", 0.9), (12.0, "snare", 0.9)]
    events += [(float(s), "hihat", 0.6) for s in range(0, 32, 2)]
    seen = set()
    for seed in range(40):
        gain = {c: 1.0 for c in kits.CLASSES}
        out, loud = situations.contrast(events, np.random.default_rng(seed), gain)
        assert len({(p, c) for p, c, _ in out}) == len(out)
        if loud:
            assert gain["hihat"] < 0.4 and gain["kick"] == 1.0
            seen.add("quiet_top")
        elif any(c == "cymbal" for _, c, _ in out):
            seen.add("ride_and_hats")
        elif len(out) > len(events):
            seen.add("stacks or busy")
    assert len(seen) == 3


def test_balanced_sampling_favours_clips_with_rare_classes():
    train = importlib.import_module(TRAIN + ".train")
    on = np.zeros((4, 100, 5), np.float32)
    on[:, ::10, 0] = 1.0  # every clip: 10 kicks
    on[3, 5, 3] = 1.0  # one clip holds the only tom
    p = train.balanced_sampling(on, 1.0)
    assert p.sum() == pytest.approx(1.0) and p[3] > 2 * p[0]
    assert np.allclose(train.balanced_sampling(on, 0.0), 0.25)


@needs_kits
def test_layer_sample_keeps_onset_and_peak():
    samples = importlib.import_module(TRAIN + ".samples")
    s = samples.Sample(np.r_[np.float32(0.8), np.linspace(0.5, 0, 500, dtype=np.float32)],
                       0.0, 1.0, 1.0)
    other = np.sin(np.arange(2000) * 0.05)
    y = samples.layer_sample(s, other, 0.5, 24)
    assert len(samples.trim_onset(y.audio)) == len(y.audio) == 2024  # onset still sample 0
    assert np.abs(y.audio).max() == pytest.approx(0.8, rel=1e-5)  # the layer's peak level
    assert not np.allclose(y.audio[30:500], s.audio[30:500] * y.audio[0] / s.audio[0])


@needs_kits
def test_negative_clips_and_extra_metres(monkeypatch):
    render = importlib.import_module(TRAIN + ".render")
    beds = importlib.import_module(TRAIN + ".beds")
    bed_calls = []

    def fake_bed(n, sr, rng, beat_s=None, **_):  # the real banks take ~30 s to load
        bed_calls.append(beat_s)
        return rng.standard_normal(n).astype(np.float32)

    monkeypatch.setattr(beds, "real_bed", fake_bed)
    neg = [render.negative_clip(np.random.default_rng(i), 2.0) for i in range(30)]
    assert bed_calls and set(bed_calls) == {None}  # free beds: never on a grid
    assert {a["kit"] for _, _, a in neg} >= {"free bed", "white noise", "pad", "silence"}
    for x, sr, ann in neg:
        assert len(x) == 2 * sr and np.isfinite(x).all() and np.abs(x).max() <= 1.0
        assert ann["hits"] == ann["beats"] == ann["downbeats"] == []
        assert (ann["kit"] == "silence") == (not np.any(x))
    for _x, _sr, ann in render.render_extra_validation_set(4, seed=5, duration=6.0):
        bpb = ann["beats_per_bar"]
        assert ann["style"] in render.EXTRA_STYLES and bpb == render.metre(ann["style"])[0]
        assert np.allclose(np.diff(ann["beats"]), 60 / ann["tempo"])
        assert np.allclose(np.diff(ann["downbeats"]), bpb * 60 / ann["tempo"])


@needs_kits
def test_isolated_clips_hold_labelled_hits_off_any_grid_and_no_beats():
    render = importlib.import_module(TRAIN + ".render")
    clips = render.render_set(12, 4, kits.TRAIN_KITS, duration=6.0, isolated_p=1.0, chain_p=0.5)
    seen = set()
    for x, sr, ann in clips:
        assert ann["style"] == "isolated" and ann["beats"] == ann["downbeats"] == []
        assert len(x) == 6 * sr and np.isfinite(x).all() and 0 < np.abs(x).max() <= 1.0
        times = np.array([t for t, _, _ in ann["hits"]])
        assert len(times) >= 3 and np.all(np.diff(times) >= 0.3 - 1e-9)  # single hits
        assert np.all(np.diff(times) <= 1.6 + 1e-9)
        seen |= {c for _, c, _ in ann["hits"]}
        # each labelled hit is heard: the audio rises just after it, not just before
        for t in times:
            i = round(t * sr)
            before = np.abs(x[max(0, i - int(0.05 * sr)):i]).max(initial=0.0)
            after = np.abs(x[i:i + int(0.05 * sr)]).max()
            assert after > before
    assert seen == set(kits.CLASSES)
    again = render.render_set(12, 4, kits.TRAIN_KITS, duration=6.0, isolated_p=1.0, chain_p=0.5)
    assert all(np.array_equal(a[0], b[0]) and a[2] == b[2]
               for a, b in zip(clips, again, strict=True))


def test_thin_band_takes_the_lows_and_pluck_bass_decays():
    mix = importlib.import_module(TRAIN + ".mix")
    sr = chain.SR
    t = np.arange(sr) / sr
    low = np.sin(2 * np.pi * 60 * t)
    for seed in range(6):  # both kinds: a steep high-pass (>= 150 Hz) or the telephone band
        y = chain.thin(low, np.random.default_rng(seed))
        assert len(y) == len(low) and np.isfinite(y).all()
        assert np.sqrt(np.mean(y[sr // 2:] ** 2)) < 0.1 * np.sqrt(np.mean(low ** 2))
    for seed in range(4):
        x = mix.pluck_bass(2 * sr, 170.0, np.random.default_rng(seed))
        assert len(x) == 2 * sr and np.isfinite(x).all()
        assert np.sqrt(np.mean(x.astype(np.float64) ** 2)) == pytest.approx(0.3, rel=1e-3)
        spec = np.abs(np.fft.rfft(x)) ** 2
        f = np.fft.rfftfreq(len(x), 1 / sr)
        assert spec[f < 1000].sum() > 3 * spec[f >= 1000].sum()  # a bass, not a hat
    for kind in (mix._string_note, mix._synth_pluck):  # each note fades within a second
        note = kind(55.0, sr, 0.2, np.random.default_rng(0))
        head, tail = np.abs(note[: sr // 10]).max(), np.abs(note[-sr // 10:]).max()
        assert tail < 0.05 * head

"""Training-only material of the beats helper: real drumless beds and the extra metres."""

from __future__ import annotations

import numpy as np
import pytest

from heihachi_train.drumnet import band, beds, patterns

SR = 24_000


def test_bed_is_real_material_deterministic_and_unit_rms() -> None:
    if not beds.sources_present():
        pytest.skip("no bed source package (hydrogen-drumkits-effects, klettres-data, "
                    "ktuberling-data; .ci/run installs them)")
    a = beds.real_bed(2 * SR, SR, np.random.default_rng(4), beat_s=0.5, downbeat_s=-0.1)
    b = beds.real_bed(2 * SR, SR, np.random.default_rng(4), beat_s=0.5, downbeat_s=-0.1)
    assert a is not None and a.dtype == np.float32 and a.shape == (2 * SR,)
    assert np.array_equal(a, b)
    assert np.sqrt(np.mean(a.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-3)


def test_guitar_part_strums_on_the_grid() -> None:
    if not beds.guitar_bank(SR):
        pytest.skip("hydrogen-drumkits-effects is not installed")
    rng = np.random.default_rng(0)
    part = beds.guitar_part(8 * SR, SR, rng, beat_s=0.5, downbeat_s=0.0)
    env = np.abs(part)
    frame = SR // 100
    e = np.add.reduceat(env, np.arange(0, len(env), frame))
    rises = np.flatnonzero(np.diff(e) > 4 * np.median(np.abs(np.diff(e))) + 1e-9) / 100
    # every strong rise sits within 30 ms (+ jitter) of a 16th step of the 0.5 s beat
    step = 0.5 / 4
    dist = np.abs(rises / step - np.round(rises / step)) * step
    assert len(rises) > 4 and np.median(dist) < 0.03


def test_no_sources_gives_none(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(beds, "GUITAR_DIR", tmp_path / "none")
    monkeypatch.setattr(beds, "SPEECH_GLOBS", ((tmp_path / "none", "*.ogg"),))
    assert beds.real_bed(SR, SR, np.random.default_rng(0)) is None


@pytest.mark.parametrize("style", patterns.EXTRA_STYLES)
def test_extra_styles_fill_their_bars(style: str) -> None:
    bpb, spb = patterns.metre(style)
    ev = patterns.make_pattern(style, 4, np.random.default_rng(1))
    pos = np.array([p for p, _c, _v in ev])
    assert len(ev) > 8 and pos.min() >= 0 and pos.max() < 4 * bpb * spb
    assert {c for _p, c, _v in ev} <= {"kick", "snare", "hihat", "tom", "cymbal"}
    kicks = [p for p, c, _v in ev if c == "kick"]
    assert style == "hatsintro" or 0 in kicks  # bars start on a kick


def test_old_styles_unchanged_and_swing_warp() -> None:
    assert patterns.metre("dnb") == (4, 4) and patterns.metre("waltz") == (3, 4)
    assert patterns.metre("sixeight") == (2, 6)
    assert patterns.swing_warp(1.0, 0.16, 1) == pytest.approx(1.16)
    assert patterns.swing_warp(2.0, 0.3, 1) == 2.0 and patterns.swing_warp(5.0, 0.0) == 5.0
    assert patterns.swing_warp(2.0, 1 / 3, 2) == pytest.approx(2 + 2 / 3)
    thrash = patterns.make_pattern("thrash", 1, np.random.default_rng(0))
    assert sorted(p for p, c, _v in thrash if c == "kick") == [0, 4, 8, 12]
    assert sorted(p for p, c, _v in thrash if c == "snare") == [2, 6, 10, 14]


@pytest.mark.parametrize("style", patterns.METAL_STYLES)
def test_metal_styles_put_the_snare_where_the_drums_alone_mislead(style: str) -> None:
    """skank8: snares only on the "and"s; breakdown: one snare per bar, on beat 3; push:
    the backbeat, and pushed bars leave their next downbeat without a kick."""
    assert patterns.metre(style) == (4, 4)
    for seed in range(6):
        ev = patterns.make_pattern(style, 8, np.random.default_rng(seed))
        pos = np.array([p for p, _c, _v in ev])
        assert len(ev) > 16 and pos.min() >= 0 and pos.max() < 8 * 16
        assert {c for _p, c, _v in ev} <= {"kick", "snare", "hihat", "tom", "cymbal"}
        snares = {p % 16 for p, c, _v in ev if c == "snare"}
        assert snares == {"skank8": {2, 6, 10, 14}, "breakdown": {8}, "push": {4, 12}}[style]
        if style == "push":
            kicks = {p for p, c, _v in ev if c == "kick"}
            pushed = [p for p in kicks if p % 16 == 14]
            assert all(p + 2 not in kicks for p in pushed)


@pytest.mark.parametrize("seed", range(4))
def test_band_bass_plays_on_the_clips_grid(seed: int) -> None:
    """The bass's note onsets (the 12 sharpest rises of its 5 ms envelope) sit on the
    8th grid of the clip's beats, anchored at its downbeat, and not on that grid shifted
    by a 16th (:func:`mix.bass_line`'s grid starts at the clip's first sample instead)."""
    beat, down = 0.42, -0.13
    rng = np.random.default_rng(seed)
    prog = band.progression(10, 4, rng)
    x = band._bass(8 * SR, beat, down - 8 * beat, 4, prog, 50.0, rng)
    frame = SR // 200
    env = np.sqrt(np.add.reduceat(x**2, np.arange(0, len(x), frame)))
    rises = (np.argsort(np.diff(env))[-12:] + 1) * frame / SR
    step = beat / 2

    def dist(offset: float) -> float:
        r = (rises - down - offset) / step
        return float(np.median(np.abs(r - np.round(r))) * step)

    assert dist(0.0) <= 0.006 < 0.02 < dist(step / 2)


def test_band_bed_is_deterministic_and_unit_rms() -> None:
    x = band.band_bed(4 * SR, 0.42, -0.13, 4, np.random.default_rng(2))
    assert x.dtype == np.float32 and x.shape == (4 * SR,)
    assert np.sqrt(np.mean(x.astype(np.float64) ** 2)) == pytest.approx(1.0, rel=1e-3)
    assert np.array_equal(x, band.band_bed(4 * SR, 0.42, -0.13, 4, np.random.default_rng(2)))
    assert not np.array_equal(x, band.band_bed(4 * SR, 0.42, -0.13, 4,
                                               np.random.default_rng(3)))


def test_band_chords_change_on_bar_lines() -> None:
    for seed in range(10):
        prog = band.progression(8, 4, np.random.default_rng(seed))
        assert prog[0] == (0.0, 0)
        # every change on a bar line or half bar, or pushed an 8th ahead of one
        assert all((at % 2 == 0) or ((at + 0.5) % 2 == 0) for at, _r in prog)
        assert all(r in band.SCALE for _at, r in prog)


def test_band_clips_are_marked_for_the_beat_loss() -> None:
    from heihachi_train.drumnet import render

    _x, _sr, ann = render.render_clip(np.random.default_rng([3, 1]), render.TRAIN_KITS,
                                      duration=2.0, band_p=1.0)
    assert ann.get("band") is True
    _x, _sr, ann = render.render_clip(np.random.default_rng([3, 1]), render.TRAIN_KITS,
                                      duration=2.0)
    assert "band" not in ann

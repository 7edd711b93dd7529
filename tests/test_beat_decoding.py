"""Beat decoding on synthetic activations with known beats (85-180 BPM, mixes, DnB levels)."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from heihachi.music.beat_decoding import (
    beats_from_onsets,
    decode_beats,
    estimate_tempo,
    local_tempo,
)

FPS = 100.0


def beat_grid(segments: list[tuple[float, float]], start: float = 0.5) -> np.ndarray:
    """Beat times of consecutive ``(bpm, seconds)`` segments."""
    out: list[float] = []
    t, end = start, start
    for bpm, dur in segments:
        end += dur
        while t < end:
            out.append(t)
            t += 60.0 / bpm
    return np.array(out)


def activation(times: np.ndarray, n: int, seed: int = 0, noise: float = 0.05,
               jitter: float = 0.0, miss: float = 0.0, amps: np.ndarray | float = 1.0,
               width: float = 1.0) -> np.ndarray:
    """Gaussian bumps at ``times`` (+ jitter, with some missing) over uniform noise."""
    rng = np.random.default_rng(seed)
    t = times + (rng.normal(0, jitter, len(times)) if jitter else 0.0)
    amps = np.broadcast_to(np.asarray(amps, dtype=float), t.shape)
    keep = rng.random(len(t)) >= miss
    x = np.arange(n)
    act = np.zeros(n)
    for c, a in zip(t[keep] * FPS, amps[keep], strict=True):
        lo, hi = max(0, int(c) - 5), min(n, int(c) + 6)
        act[lo:hi] += a * np.exp(-0.5 * ((x[lo:hi] - c) / width) ** 2)
    return np.clip(act + noise * rng.random(n), 0.0, 1.0)


def f_measure(ref: np.ndarray, est: np.ndarray) -> float:
    return mir_eval.beat.f_measure(mir_eval.beat.trim_beats(ref), mir_eval.beat.trim_beats(est))


def tempo_of(beats: np.ndarray) -> float:
    return 60.0 / float(np.median(np.diff(beats)))


@pytest.mark.parametrize("bpm", [85, 90, 100, 110, 120, 128, 140, 150, 160, 170, 174, 180])
def test_clean_impulse_trains(bpm: float) -> None:
    ref = beat_grid([(bpm, 60)])
    act = activation(ref, int((ref[-1] + 1) * FPS), seed=bpm)
    beats, downbeats = decode_beats(act, None, FPS)
    assert f_measure(ref, beats) >= 0.95
    assert tempo_of(beats) == pytest.approx(bpm, rel=0.04)
    assert estimate_tempo(act, FPS) == pytest.approx(bpm, rel=0.04)
    assert len(downbeats) == 0


@pytest.mark.parametrize("bpm", [85, 120, 140, 174])
def test_noise_jitter_missing_beats(bpm: float) -> None:
    ref = beat_grid([(bpm, 60)])
    act = activation(ref, int((ref[-1] + 1) * FPS), seed=bpm, noise=0.3, jitter=0.01, miss=0.1)
    beats, _ = decode_beats(act, None, FPS)
    assert f_measure(ref, beats) >= 0.9
    assert tempo_of(beats) == pytest.approx(bpm, rel=0.04)


def test_tempo_change_mid_file() -> None:
    ref = beat_grid([(128, 40), (174, 40)])
    act = activation(ref, int((ref[-1] + 1) * FPS), seed=3)
    beats, _ = decode_beats(act, None, FPS)
    assert f_measure(ref, beats) >= 0.95
    centres, bpm = local_tempo(act, FPS)
    assert bpm[centres < 30] == pytest.approx(128, rel=0.04)
    assert bpm[centres > 55] == pytest.approx(174, rel=0.04)


def test_quarter_note_activations_are_never_halved_or_two_thirded() -> None:
    """A DnB quarter-note activation at 174 decodes at 174, not 87 or 116."""
    ref = beat_grid([(174, 45)])
    # accents like two-step drums: strong on 1 and 3, weaker on 2 and 4
    amps = np.where(np.arange(len(ref)) % 2 == 0, 1.0, 0.6)
    act = activation(ref, int((ref[-1] + 1) * FPS), seed=4, amps=amps)
    beats, _ = decode_beats(act, None, FPS)
    assert tempo_of(beats) == pytest.approx(174, rel=0.04)
    assert f_measure(ref, beats) >= 0.95


def test_half_time_dnb_prefers_faster_level_when_present() -> None:
    """Snare only on 3, weak activation on the other beats: DJs call it 174."""
    ref = beat_grid([(174, 45)])
    amps = np.where(np.arange(len(ref)) % 2 == 0, 1.0, 0.35)
    act = activation(ref, int((ref[-1] + 1) * FPS), seed=5, amps=amps)
    assert tempo_of(decode_beats(act, None, FPS)[0]) == pytest.approx(174, rel=0.04)


def test_slow_tempo_kept_without_evidence_of_faster_level() -> None:
    ref = beat_grid([(85, 60)])
    mids = ref[:-1] + np.diff(ref) / 2
    n = int((ref[-1] + 1) * FPS)
    act = np.clip(activation(ref, n, seed=6) + activation(mids, n, noise=0, amps=0.12), 0, 1)
    assert tempo_of(decode_beats(act, None, FPS)[0]) == pytest.approx(85, rel=0.04)


def test_downbeats_pick_bar_phase() -> None:
    ref = beat_grid([(174, 40)])
    n = int((ref[-1] + 1) * FPS)
    act = activation(ref, n, seed=7)
    down_act = activation(ref[1::4], n, seed=8)  # bars start on the second beat
    beats, downbeats = decode_beats(act, down_act, FPS)
    assert f_measure(ref[1::4], downbeats) >= 0.95
    assert set(np.round(downbeats, 2)) <= set(np.round(beats, 2))


def test_two_step_onset_envelope_gives_dnb_tempo() -> None:
    """A generic onset envelope of a two-step pattern (the 2/3-tempo trap) -> 174."""
    bpm, bars = 174.0, 40
    spb = 60.0 / bpm
    times, amps = [], []
    for bar in range(bars):
        t0 = 0.5 + bar * 4 * spb
        for pos, amp in [(0, 1.0), (2.5, 1.0), (1, 0.9), (3, 0.9)] + [
                (h, 0.3) for h in np.arange(0, 4, 0.5)]:
            times.append(t0 + pos * spb)
            amps.append(amp)
    ref = 0.5 + spb * np.arange(bars * 4)
    env = activation(np.array(times), int((ref[-1] + 1) * FPS), seed=9, amps=np.array(amps),
                     width=1.5)
    beats, _ = beats_from_onsets(env, FPS)
    assert tempo_of(beats) == pytest.approx(174, rel=0.04)
    assert f_measure(ref, beats) >= 0.9


def test_degenerate_inputs() -> None:
    assert [len(x) for x in decode_beats(np.zeros(1000), None, FPS)] == [0, 0]
    assert [len(x) for x in decode_beats(np.zeros(2), np.zeros(2), FPS)] == [0, 0]
    beats, _ = decode_beats(activation(beat_grid([(120, 3)]), 400), None, FPS)
    assert tempo_of(beats) == pytest.approx(120, rel=0.04)


def test_hour_long_mix_bounded() -> None:
    """60 minutes at 100 fps with a tempo change every 5 minutes decodes correctly."""
    ref = beat_grid([(120 + (i % 6) * 10, 300) for i in range(12)])
    n = int((ref[-1] + 1) * FPS)
    act = np.zeros(n)
    act[np.round(ref * FPS).astype(int)] = 1.0
    beats, _ = decode_beats(act, None, FPS)
    assert f_measure(ref, beats) >= 0.95


@pytest.mark.parametrize("bpm", [172.0, 174.0, 176.0])
def test_rendered_two_step_audio_via_librosa_onsets(bpm: float) -> None:
    """Rendered two-step drums -> librosa onset envelope -> beats_from_onsets at the DnB tempo
    (where librosa's own tracker reports ~86, ~117 or 172 depending on the tempo)."""
    librosa = pytest.importorskip("librosa")
    sr, hop = 22_050, 512
    rng = np.random.default_rng(0)
    t = np.arange(int(0.12 * sr)) / sr
    sounds = {"kick": np.sin(2 * np.pi * (50 + 100 * np.exp(-t * 30)) * t) * np.exp(-t * 25),
              "snare": rng.normal(0, 0.5, len(t)) * np.exp(-t * 30),
              "hat": rng.normal(0, 0.15, len(t)) * np.exp(-t * 80)}
    spb, bars = 60.0 / bpm, 12
    y = np.zeros(int((0.5 + bars * 4 * spb + 1) * sr))
    events = [(0, "kick"), (2.5, "kick"), (1, "snare"), (3, "snare")] + [
        (h, "hat") for h in np.arange(0, 4, 0.5)]
    for bar in range(bars):
        for pos, name in events:
            s = int((0.5 + (bar * 4 + pos) * spb) * sr)
            y[s:s + len(t)] += sounds[name]
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop)
    beats, _ = beats_from_onsets(env, sr / hop)
    ref = 0.5 + spb * np.arange(bars * 4)
    assert tempo_of(beats) == pytest.approx(bpm, rel=0.04)
    assert f_measure(ref, beats) >= 0.9

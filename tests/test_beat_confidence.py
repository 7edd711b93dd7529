"""Beat decoding beyond the grid: abstention, confidence, bar length, song-level octave,
phase held through sections without bar evidence (synthetic activations)."""

from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from heihachi.music import beat_confidence
from heihachi.music.beat_decoding import track_beats
from heihachi.music.tempo import _song_octave
from heihachi.results import Beats
from tests.test_beat_decoding import FPS, activation, beat_grid, tempo_of


def test_no_pulse_gives_no_beats_and_null_tempo() -> None:
    rng = np.random.default_rng(0)
    silence = np.full(3000, 0.04)
    noise = np.clip(rng.normal(0.1, 0.08, 3000), 0, 1)  # random, aperiodic activation
    for act in (silence, noise):
        tr = track_beats(act, act * 0.2, FPS)
        assert not tr.pulse and len(tr.beats) == 0 and len(tr.downbeats) == 0
        assert tr.confidence < 0.2
        assert Beats(tr.beats, tr.downbeats, tr.confidence, tr.beat_confidence).tempo is None
    # the same noise with abstention off still decodes a (meaningless) grid
    assert len(track_beats(noise, None, FPS, abstain=False).beats) > 0


def test_confidence_high_on_a_clear_pulse_and_low_where_the_off_beat_competes() -> None:
    ref = beat_grid([(120, 60)])
    n = int((ref[-1] + 1) * FPS)
    amps_mid = np.where((ref[:-1] > 30) & (ref[:-1] < 45), 0.9, 0.0)  # off-beats loud 30-45 s
    mids = ref[:-1] + np.diff(ref) / 2
    act = np.clip(activation(ref, n, seed=1) + activation(mids, n, noise=0, amps=amps_mid), 0, 1)
    tr = track_beats(act, None, FPS)
    assert tr.pulse and tr.confidence > 0.5
    inside = (tr.beats > 32) & (tr.beats < 43)
    assert tr.beat_confidence[inside].mean() < 0.3 < tr.beat_confidence[~inside].mean()
    assert len(tr.beat_confidence) == len(tr.beats)


@pytest.mark.parametrize("bar", [3, 4])
def test_bar_length_follows_the_downbeat_activation(bar: int) -> None:
    ref = beat_grid([(140, 40)])
    n = int((ref[-1] + 1) * FPS)
    tr = track_beats(activation(ref, n, seed=2), activation(ref[::bar], n, seed=3), FPS)
    assert tr.beats_per_bar == bar
    assert mir_eval.beat.f_measure(ref[::bar], tr.downbeats) >= 0.95


def test_two_beat_bars_only_when_allowed() -> None:
    ref = beat_grid([(80, 40)])  # 6/8 counted in dotted quarters: bars of two beats
    n = int((ref[-1] + 1) * FPS)
    beat, down = activation(ref, n, seed=4), activation(ref[::2], n, seed=5)
    assert track_beats(beat, down, FPS, beats_per_bar=(2, 3, 4)).beats_per_bar == 2
    assert track_beats(beat, down, FPS, beats_per_bar=4).beats_per_bar == 4


def test_song_level_octave_reads_a_slow_song_at_one_level() -> None:
    """95 BPM with loud eighth notes in some sections: one tempo for the whole song."""
    ref = beat_grid([(95, 120)])
    n = int((ref[-1] + 1) * FPS)
    mids = ref[:-1] + np.diff(ref) / 2
    loud = np.where((mids % 40) < 15, 0.9, 0.1)  # 15 s of every 40 s has strong eighths
    act = np.clip(activation(ref, n, seed=6) + activation(mids, n, noise=0, amps=loud), 0, 1)
    tr = track_beats(act, None, FPS)
    assert tempo_of(tr.beats) == pytest.approx(95, rel=0.04)
    ibi = 60.0 / np.diff(tr.beats)
    assert np.mean(np.abs(ibi / 95 - 1) < 0.08) > 0.95  # no section doubled


def test_song_octave_keeps_dnb_and_other_tracks() -> None:
    # half-time DnB windows: 30 % at 174 is enough; a second track at 128 keeps its tempo
    bpm = np.array([87.0] * 7 + [174.0] * 3 + [128.0] * 5)
    out = _song_octave(bpm)
    assert out[:10] == pytest.approx(174, rel=0.01)
    assert out[10:] == pytest.approx(128, rel=0.01)
    assert _song_octave(np.array([95.0] * 6 + [190.0] * 4)) == pytest.approx(95, rel=0.01)


def test_phase_held_through_a_section_without_bar_evidence() -> None:
    """The off-beat fires in the middle section (a skank beat's snare), where the downbeat
    activation is silent; bars are clear before and after: the phase must not flip."""
    ref = beat_grid([(135, 90)])
    n = int((ref[-1] + 1) * FPS)
    mid = (ref > 30) & (ref < 60)
    offs = ref[mid] + 30.0 / 135
    act = np.clip(activation(ref[~mid], n, seed=7) + activation(offs, n, noise=0), 0, 1)
    downs = ref[::4]
    down = activation(downs[(downs < 30) | (downs > 60)], n, seed=8, noise=0.02)
    tr = track_beats(act, down, FPS)
    inside = ref[(ref > 33) & (ref < 57)]
    assert mir_eval.beat.f_measure(inside, tr.beats[(tr.beats > 33) & (tr.beats < 57)]) >= 0.9
    # without the bar weighting the decoder follows the off-beat there
    plain = track_beats(act, down, FPS, bar_weight=0.0)
    assert mir_eval.beat.f_measure(inside, plain.beats[(plain.beats > 33) &
                                                       (plain.beats < 57)]) < 0.5


def test_pulse_thresholds_are_documented_values() -> None:
    assert beat_confidence.MIN_LEVEL == pytest.approx(0.15)
    assert beat_confidence.level(np.zeros(500), FPS) == 0.0
    assert beat_confidence.periodicity(np.zeros(10), FPS) == 0.0


def test_beats_json_carries_confidence_fields_and_stays_compatible() -> None:
    b = Beats([1.0, 1.5, 2.0], [1.0], confidence=0.8, beat_confidence=[0.9, 0.5, 0.7],
              beats_per_bar=3)
    doc = b.to_json()
    assert doc["tempo"] == 120.0 and doc["confidence"] == 0.8 and doc["beats_per_bar"] == 3
    assert doc["beat_confidence"] == [0.9, 0.5, 0.7]
    assert set(doc) >= {"beats", "downbeats", "tempo", "tempo_curve", "confidence"}
    part = Beats.concatenate([b.cropped(0.0, 1.6), b.cropped(1.6, 9.0)])
    assert part.beat_confidence.tolist() == [0.9, 0.5, 0.7] and part.beats_per_bar == 3
    with pytest.raises(ValueError, match="beat_confidence"):
        Beats([1.0, 2.0], beat_confidence=[0.5])
    none = Beats([], []).to_json()
    assert none["tempo"] is None and none["beat_confidence"] is None


def test_weak_half_bar_ambiguous_downbeats_keep_one_bar_phase() -> None:
    """Downbeat activation weak, 60 % as strong on beat 3 as on beat 1 and firing on the
    other beats too, each bump's height random (as drumnet's on metal songs): the bar
    phase holds for the whole song, where a reset probability of 1e-3 per beat let it
    flip every few bars."""
    ref = beat_grid([(170, 120)])
    n = int((ref[-1] + 1) * FPS)
    rng = np.random.default_rng(0)
    amps = np.choose(np.arange(len(ref)) % 4, [0.2, 0.08, 0.12, 0.08])
    down = activation(ref, n, seed=12, noise=0.01, amps=amps * rng.exponential(1.0, len(ref)))
    beat = activation(ref, n, seed=13)
    held = track_beats(beat, down, FPS, beats_per_bar=4)
    loose = track_beats(beat, down, FPS, beats_per_bar=4, bar_jump=1e-3)
    assert mir_eval.beat.f_measure(ref[::4], held.downbeats) >= 0.95
    assert mir_eval.beat.f_measure(ref[::4], loose.downbeats) < 0.9


def test_a_bar_phase_change_at_a_mix_transition_is_followed() -> None:
    """Clear downbeats that move by one beat after 60 s (a mix's next track): the
    decoder follows within a few bars despite the tiny reset probability."""
    ref = beat_grid([(174, 120)])
    n = int((ref[-1] + 1) * FPS)
    first = ref[ref < 60][::4]
    second = ref[ref >= 60][1::4]
    down = activation(np.concatenate([first, second]), n, seed=14, noise=0.05)
    tr = track_beats(activation(ref, n, seed=15), down, FPS, beats_per_bar=4)
    for truth, lo, hi in ((first, 0, 60), (second, 66, 200)):
        est = tr.downbeats[(tr.downbeats >= lo) & (tr.downbeats < hi)]
        assert mir_eval.beat.f_measure(truth[truth >= lo], est) >= 0.95


def test_the_plugin_default_bar_jump_is_the_decoder_default() -> None:
    """DrumNetConfig repeats metre.BAR_JUMP as a literal (the plugin module must not
    import numpy/scipy at registration); the two must agree."""
    from heihachi.music.metre import BAR_JUMP
    from heihachi.plugins.drumnet_tasks import DrumNetConfig

    assert DrumNetConfig().bar_jump == BAR_JUMP

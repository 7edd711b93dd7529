"""Frame-wise beat/downbeat activations -> beats, downbeats, tempo, bar length, confidence.

Stages, each bounded in time and memory so an hour-long mix decodes in seconds:

1. **Pulse or not** (:mod:`heihachi.music.beat_confidence`): an activation that never
   rises or is not periodic at any tempo (silence, noise, a pad, speech) gives no beats.
2. **Local tempo** (:mod:`heihachi.music.tempo`): autocorrelation combs over windows,
   the metrical level chosen explicitly and then once for the whole song.
3. **Beat phase** (:func:`_dp_beats`): Ellis' dynamic programme with a per-frame
   period taken from the local tempo, vectorised in blocks (a frame's predecessors all
   lie at least half a period back, so a block of that length is independent).  The
   beat evidence is weighted by how clearly the downbeat activation shows bars nearby
   (:func:`bar_reliability`): where the network hears no bar structure -- a hats-only
   intro, a skank beat whose snare sits on the off-beat -- its beat phase is trusted
   less, and the phase carries over from the sections where it does.
4. **Downbeats and bar length** (:mod:`heihachi.music.metre`): a bar-position Viterbi
   per candidate bar length (3 or 4 beats by default), the best fit wins.
5. **Confidence**: per beat and per song (:mod:`heihachi.music.beat_confidence`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d, maximum_filter1d, median_filter, uniform_filter1d

from heihachi.music import beat_confidence
from heihachi.music.metre import BAR_JUMP, downbeats_and_bar, downbeats_from_activation
from heihachi.music.tempo import (
    DNB_RANGE,
    _comb,
    _midpoint_ratio,
    _tempo_grid,
    _window_acf,
    estimate_tempo,
    local_tempo,
)

__all__ = ["DNB_RANGE", "BeatTrack", "_comb", "_midpoint_ratio", "_tempo_grid", "_window_acf",
           "bar_reliability", "beats_from_onsets", "decode_beats", "downbeats_from_activation",
           "estimate_tempo", "local_tempo", "track_beats"]


@dataclass
class BeatTrack:
    """What :func:`track_beats` finds in one file."""

    beats: np.ndarray
    downbeats: np.ndarray
    beat_confidence: np.ndarray
    confidence: float
    beats_per_bar: int | None
    pulse: bool


def bar_reliability(downbeat_act: np.ndarray, fps: float, window_s: float = 4.0,
                    floor: float = 0.02) -> np.ndarray:
    """Per frame, 0-1: how strongly the downbeat activation fires nearby, relative to the
    file's 90th percentile of the same (a moving maximum, then a moving mean)."""
    size = max(3, int(window_s * fps) | 1)
    m = maximum_filter1d(np.asarray(downbeat_act, dtype=np.float64), size, mode="nearest")
    m = uniform_filter1d(m, size, mode="nearest")
    ref = float(np.percentile(m, 90))
    if ref <= 1e-9:
        return np.ones(len(m))
    return np.clip(m / ref, floor, 1.0)


def _dp_beats(score_in: np.ndarray, period: np.ndarray, tightness: float) -> np.ndarray:
    """Ellis' beat DP with a per-frame period (frames); returns beat frame indices."""
    n = len(score_in)
    dlo = np.maximum(1, np.round(period / 2).astype(int))
    dhi = np.maximum(dlo + 1, np.round(2 * period).astype(int))
    cum = np.zeros(n)
    back = np.full(n, -1, dtype=np.int64)
    b = 0
    while b < n:
        size = int(dlo[b:b + dlo[b]].min())
        t = np.arange(b, min(n, b + size))
        d = np.arange(int(dlo[t].min()), int(dhi[t].max()) + 1)
        prev = t[:, None] - d[None, :]
        valid = (prev >= 0) & (d[None, :] >= dlo[t][:, None]) & (d[None, :] <= dhi[t][:, None])
        cand = cum[np.maximum(prev, 0)] - tightness * np.log(d[None, :] / period[t][:, None]) ** 2
        cand = np.where(valid, cand, -np.inf)
        j = np.argmax(cand, axis=1)
        best = cand[np.arange(len(t)), j]
        link = best > 0
        cum[t] = score_in[t] + np.where(link, best, 0.0)
        back[t] = np.where(link, prev[np.arange(len(t)), j], -1)
        b += size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # The last beat: the best cumulative score within the last two periods.
    tail = max(0, n - int(2 * period[-1]))
    frame = tail + int(np.argmax(cum[tail:]))
    beats = []
    while frame >= 0:
        beats.append(frame)
        frame = int(back[frame])
    return np.array(beats[::-1], dtype=np.int64)


def _refine(act: np.ndarray, frames: np.ndarray, radius: int = 2) -> np.ndarray:
    """Sub-frame beat positions: parabolic peak of the activation near each frame."""
    n = len(act)
    out = frames.astype(np.float64)
    for i, f in enumerate(frames):
        lo, hi = max(0, f - radius), min(n, f + radius + 1)
        p = lo + int(np.argmax(act[lo:hi]))
        if 0 < p < n - 1 and act[p] > act[f] * 1.0001:
            a, b, c = act[p - 1], act[p], act[p + 1]
            den = a - 2 * b + c
            out[i] = p + (0.5 * (a - c) / den if den < 0 else 0.0)
        elif 0 < f < n - 1:
            a, b, c = act[f - 1], act[f], act[f + 1]
            den = a - 2 * b + c
            if den < 0 and b >= a and b >= c:
                out[i] = f + 0.5 * (a - c) / den
    return out


def _trim(beats: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """Drop leading/trailing beats placed in silence (the DP extrapolates into it)."""
    if len(beats) == 0:
        return beats
    thr = 0.1 * float(np.median(strength))
    strong = np.flatnonzero(strength > thr)
    if len(strong) == 0:
        return beats[:0]
    return beats[strong[0]:strong[-1] + 1]


def track_beats(beat_act: np.ndarray, downbeat_act: np.ndarray | None, fps: float,
                min_bpm: float = 60.0, max_bpm: float = 200.0, tightness: float = 400.0,
                window_s: float = 12.0, hop_s: float = 3.0, double_ratio: float = 0.5,
                dnb_ratio: float = 0.3, dnb_two_thirds: bool = False,
                downbeat_weight: float = 0.3, bar_weight: float = 2.0,
                beats_per_bar: int | Sequence[int] = (3, 4), abstain: bool = True,
                song_octave: bool = True, bar_jump: float = BAR_JUMP) -> BeatTrack:
    """Beats, downbeats, bar length and confidence from frame-wise activations at ``fps``.

    Args:
        beat_act: ``[T]`` beat activation (a network's beat probability, or any
            onset-strength envelope; see :func:`beats_from_onsets`).
        downbeat_act: ``[T]`` downbeat activation, or None (then no downbeats).
        tightness: how strongly beat spacing keeps to the local tempo (Ellis' alpha; 400
            was best on drumnet's threshold-tuning renders, up from 100).
        double_ratio, dnb_ratio: midpoint/on-beat activation ratio needed to double
            the tempo, outside and inside :data:`DNB_RANGE`.
        dnb_two_thirds: also test 1.5x the strongest period for a DnB tempo (for
            generic onset envelopes, not for quarter-note activations).
        downbeat_weight: a downbeat is also a beat: this fraction of the downbeat
            activation is added to the beat activation for tempo and phase (0.3 was best
            on drumnet's threshold-tuning renders; 0 uses the beat activation alone).
        bar_weight: exponent of :func:`bar_reliability` on the beat evidence (0 = off).
        beats_per_bar: the bar length, or candidates to choose from.
        abstain: return no beats when the activation has no pulse.
        song_octave: one metrical level for the whole song (see ``tempo._song_octave``).
        bar_jump: probability per beat that the bar phase resets (see
            :data:`heihachi.music.metre.BAR_JUMP`).
    """
    act = np.nan_to_num(np.asarray(beat_act, dtype=np.float64).ravel())
    down = None
    if downbeat_act is not None:
        down = np.nan_to_num(np.asarray(downbeat_act, dtype=np.float64).ravel())
        if len(down) != len(act):
            down = None
    if down is not None and downbeat_weight:
        act = act + downbeat_weight * down
    empty = BeatTrack(np.zeros(0), np.zeros(0), np.zeros(0), 0.0, None, False)
    if len(act) < 3 or act.max() <= 0:
        return empty
    centres, bpm = local_tempo(act, fps, min_bpm, max_bpm, window_s, hop_s,
                               double_ratio=double_ratio, dnb_ratio=dnb_ratio,
                               dnb_two_thirds=dnb_two_thirds, song_octave=song_octave)
    t = np.arange(len(act)) / fps
    period = 60.0 * fps / np.exp(np.interp(t, centres, np.log(bpm)))
    smooth = gaussian_filter1d(act, 1.0, mode="constant")
    local = smooth / (smooth.std() + 1e-12)
    if down is not None and bar_weight > 0:
        local = local * bar_reliability(down, fps) ** bar_weight
    frames = _dp_beats(local, period, tightness)
    frames = _trim(frames, smooth[frames])
    beats = np.unique(_refine(smooth, frames)) / fps
    conf = beat_confidence.per_beat(np.clip(act, 0.0, 1.0), beats, fps)
    song_conf = float(np.mean(conf)) if len(conf) else 0.0
    if abstain and not beat_confidence.has_pulse(act, fps, min_bpm, max_bpm):
        return BeatTrack(np.zeros(0), np.zeros(0), np.zeros(0), song_conf, None, False)
    downbeats, bpb = np.zeros(0), None
    if downbeat_act is not None and down is not None:
        downbeats, bpb = downbeats_and_bar(beats, down, fps, beats_per_bar, bar_jump)
    return BeatTrack(beats, downbeats, conf, song_conf, bpb, True)


def decode_beats(beat_act: np.ndarray, downbeat_act: np.ndarray | None, fps: float,
                 min_bpm: float = 60.0, max_bpm: float = 200.0, **kwargs: float,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(beats_s, downbeats_s)`` of :func:`track_beats` (same arguments), both sorted."""
    track = track_beats(beat_act, downbeat_act, fps, min_bpm, max_bpm, **kwargs)  # type: ignore[arg-type]
    return track.beats, track.downbeats


def beats_from_onsets(onset_env: np.ndarray, fps: float, min_bpm: float = 60.0,
                      max_bpm: float = 200.0, downbeat_env: np.ndarray | None = None,
                      **kwargs: float) -> tuple[np.ndarray, np.ndarray]:
    """Beats from a generic onset-strength envelope (e.g. drum-informed, kick+snare).

    Unlike a quarter-note activation, an onset envelope fires on eighths, sixteenths
    and syncopations, so doubling needs stronger midpoints and the DnB 2/3 check is on.
    ``downbeat_env`` (e.g. a kick envelope) gives downbeats when given.
    """
    env = np.asarray(onset_env, dtype=np.float64)
    env = np.maximum(env - median_filter(env, size=max(3, int(fps * 0.5)) | 1), 0.0)
    opts: dict = {"double_ratio": 0.8, "dnb_ratio": 0.6, "dnb_two_thirds": True,
                  "downbeat_weight": 0.0, "bar_weight": 0.0, "beats_per_bar": 4} | kwargs
    return decode_beats(env, downbeat_env, fps, min_bpm, max_bpm, **opts)

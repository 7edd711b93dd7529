"""Online beat decoding: a forward-only bar-pointer HMM over beat activations (numpy only).

Feed one beat (and downbeat) activation per frame with :meth:`OnlineBeatDecoder.step`;
it returns the beats it has just decided.  The model (after madmom's and BeatNet's beat
state space): a state is ``(tempo interval tau in frames, frames since the last beat
phi)``; ``phi`` advances by one per frame and wraps to 0, where the tempo may change to a
neighbouring interval with probability ``exp(-lambda |tau'/tau - 1|)``.  Frames within
``tau / (2 * obs_lambda)`` of a beat (at least one either side) are beat states and see
the activation ``a`` as ``a``, the others as ``(1 - a) / (obs_lambda - 1)``.

Only forward filtering: the posterior at frame ``t`` uses activations up to ``t``.  A
beat at frame ``b`` is decided when the phase marginal's peak says the last beat was
``t - b >= lag`` frames ago (``lag``: the decoder's share of the latency budget), so
every decision has exactly ``lag`` frames of hindsight and never more.

Robustness, each a measured choice (``bench/realtime.py``):

- *re-entry*: each frame a fraction ``reentry`` of the mass is redistributed over the
  tempo prior with uniform phase, so a tempo change or a new phase wins within a few
  beats instead of drifting through every intermediate tempo;
- *tempo prior*: log-normal around ``prior_bpm`` (150, half-width ``prior_octaves``)
  for the start and re-entry, and again at every beat to the power ``tempo_bias`` (2),
  so on ambiguous evidence drum & bass comes out at 160-180 rather than 80-90;
- *octave hysteresis*: once locked, re-entry gives half the reported tempo only
  ``octave_penalty`` of its prior, and the reported tempo (decided at each beat) keeps
  its metrical level when the decoded one halves (a half-time section) unless that
  lasts ``octave_hold_s`` (30 s); a doubling
  (hip hop into drum & bass) is believed after ``octave_up_hold_s`` (0.75 s), since
  half-time never makes the beat activations faster (1.5 s cost an upward change its
  4 s target);
- *reported tempo*: the emitted beats' own spacing where it agrees with the filter,
  the median over the last ``report_median`` (5) *heard* beats (an activation of at
  least ``heard_threshold`` within 2 frames), so one odd beat does not move it, nor
  do beats the filter only extrapolated (a drift of the filter through a weak fill);
- *fast switch*: when the old tempo's beats went unheard (at most one of four) and two
  heard beats in a row agree on a new tempo (> 8 % away), the median restarts from
  them: an upward change whose first bars the model hears only faintly is reported
  on its second clear beat instead of its third, while a two-beat 3:2 excursion in
  a steady, well-heard drum & bass groove still cannot move it;
- *support*: a beat is only emitted when the beat activation reached
  ``support_threshold`` within ``support_span`` beat periods before it (or on it), so no
  beat is invented once the audio stops;
- *silence*: when the recent activation peak is below ``silence_threshold`` nothing is
  emitted, and after ``reset_after_s`` of it the posterior is reset (a clean re-lock).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass
class DecodedBeat:
    frame: int  # frame of the beat
    decided_at: int  # frame at which it was decided
    beat: int  # 1-based position in the bar
    downbeat: bool
    bpm: float
    confidence: float


class OnlineBeatDecoder:
    def __init__(self, fps: float = 100.0, min_bpm: float = 60.0, max_bpm: float = 200.0,
                 lag: int = 4, transition_lambda: float = 100.0, obs_lambda: float = 16.0,
                 reentry: float = 1e-5, prior_bpm: float = 150.0, prior_octaves: float = 0.5,
                 silence_threshold: float = 0.2, silence_window_s: float = 1.5,
                 reset_after_s: float = 1.0, octave_hold_s: float = 30.0,
                 octave_penalty: float = 1e-3, tempo_bias: float = 2.0,
                 support_span: float = 0.6, report_median: int = 5,
                 octave_up_hold_s: float = 0.75, support_threshold: float = 0.1,
                 beats_per_bar: int = 4, heard_threshold: float = 0.15) -> None:
        self.fps = float(fps)
        self.lag = int(lag)
        self.min_bpm, self.max_bpm = float(min_bpm), float(max_bpm)
        self.silence_threshold = float(silence_threshold)
        self.silence_window = max(1, int(round(silence_window_s * fps)))  # noqa: RUF046
        self.reset_after = int(round(reset_after_s * fps))  # noqa: RUF046
        self.octave_hold = float(octave_hold_s)
        self.octave_up_hold = float(octave_up_hold_s)
        self.support_threshold = float(support_threshold)
        self.heard_threshold = float(heard_threshold)
        self.max_late = 3  # frames a decision may come after its lag (an estimate that jumped)
        self.octave_penalty = float(octave_penalty)
        self.beats_per_bar = int(beats_per_bar)
        self.reentry = float(reentry)
        lo = int(np.floor(60.0 * fps / max_bpm))
        hi = int(np.ceil(60.0 * fps / min_bpm))
        self.intervals = np.arange(lo, hi + 1)
        tau = self.intervals
        self.offsets = np.concatenate([[0], np.cumsum(tau)[:-1]])
        n = int(tau.sum())
        self.n_states = n
        self.state_tempo = np.repeat(np.arange(len(tau)), tau)
        self.state_phase = np.arange(n) - self.offsets[self.state_tempo]
        self.starts = self.offsets
        self.ends = self.offsets + tau - 1
        # previous state of each state (starts are overwritten by the tempo transition)
        self.src = np.arange(n) - 1
        self.src[self.starts] = self.ends
        ratio = tau[None, :] / tau[:, None]
        tr = np.exp(-transition_lambda * np.abs(ratio - 1.0))
        tr[tr < 1e-12] = 0.0
        self.trans = tr / tr.sum(axis=1, keepdims=True)  # [from, to]
        self.tempo_bias = float(tempo_bias)
        self.support_span = float(support_span)
        self.report_median = int(report_median)
        r = np.maximum(1, np.round(tau / (2.0 * obs_lambda))).astype(int)
        ph, tt = self.state_phase, tau[self.state_tempo]
        self.beat_state = (ph <= r[self.state_tempo]) | (ph >= tt - r[self.state_tempo])
        self.obs_lambda = float(obs_lambda)
        bpm = 60.0 * fps / tau
        prior = np.exp(-0.5 * (np.log2(bpm / prior_bpm) / prior_octaves) ** 2)
        self.tempo_prior = prior / prior.sum()
        if self.tempo_bias > 0:  # every beat, the prior again (not renormalised per row)
            self.trans = self.trans * (prior / prior.max())[None, :] ** self.tempo_bias
        init = (self.tempo_prior / tau)[self.state_tempo]
        self.init = init / init.sum()
        self.state_bpm = bpm[self.state_tempo]
        self.reentry_dist = self.reentry * self.init
        self.beat_idx = np.flatnonzero(self.beat_state)
        self.reset()

    # -- state ---------------------------------------------------------------------------
    def reset(self) -> None:
        self.alpha = self.init.copy()
        self.t = -1  # frame of the last activation seen
        self.recent: deque[float] = deque(maxlen=self.silence_window)
        self.silent_frames = 0
        self.last_beat = -(10**9)
        self.beat_frames: list[int] = []
        self.dbt: deque[float] = deque(maxlen=max(self.lag + 4, 8))
        self.bt: deque[float] = deque(maxlen=int(self.intervals[-1] * 1.3) + self.lag + 8)
        self.bar_scores = np.zeros(self.beats_per_bar)
        self.beat_index = 0
        self.reported_bpm: float | None = None
        self.octave_since: float | None = None
        self.locked_bpm: float | None = None
        self.reentry_dist = self.reentry * self.init
        self.candidates: deque[float] = deque(maxlen=max(1, self.report_median))
        self.heard: deque[bool] = deque(maxlen=6)  # emitted beats: on an activation or not
        self.confidence = 0.0
        self.bpm: float | None = None

    def _lock(self, bpm: float) -> None:
        """Re-entry avoids half the reported tempo (a half-time section is not a new
        tempo): those tempi get ``octave_penalty`` times their prior."""
        if self.locked_bpm is not None and abs(bpm / self.locked_bpm - 1) < 0.03:
            return
        self.locked_bpm = bpm
        r = self.state_bpm / bpm
        w = self.init * np.where((r > 0.42) & (r < 0.58), self.octave_penalty, 1.0)
        self.reentry_dist = self.reentry * w / w.sum()

    def _soft_reset(self) -> None:
        self.alpha = self.init.copy()
        self.candidates.clear()
        self.heard.clear()
        self.beat_frames = []
        self.bar_scores[:] = 0.0
        self.beat_index = 0
        self.last_beat = -(10**9)

    # -- one frame -----------------------------------------------------------------------
    def step(self, beat_act: float, downbeat_act: float = 0.0) -> list[DecodedBeat]:
        self.t += 1
        a = float(np.clip(beat_act, 1e-4, 1 - 1e-4))
        self.recent.append(float(beat_act))
        self.dbt.append(float(downbeat_act))
        self.bt.append(float(beat_act))
        prev = self.alpha
        new = prev[self.src]
        new[self.starts] = prev[self.ends] @ self.trans
        if self.reentry > 0:
            new *= 1.0 - self.reentry
            new += self.reentry_dist
        nb = (1.0 - a) / (self.obs_lambda - 1.0)
        new *= nb
        new[self.beat_idx] *= a / nb
        s = new.sum()
        self.alpha = new / s if s > 0 and np.isfinite(s) else self.init.copy()
        level = max(self.recent)
        silent = level < self.silence_threshold
        self.silent_frames = self.silent_frames + 1 if silent else 0
        if self.silent_frames == self.reset_after:
            self._soft_reset()
        # where the filter believes the last beat was, and at what tempo
        tempo_mass = np.add.reduceat(self.alpha, self.offsets)
        k = int(np.argmax(tempo_mass))
        lo, hi = max(0, k - 2), min(len(self.intervals), k + 3)
        w = tempo_mass[lo:hi]
        interval = float((w * self.intervals[lo:hi]).sum() / max(w.sum(), 1e-12))
        # the phase at the winning tempo (other metrical levels would blur it)
        a0, a1 = self.offsets[lo], self.offsets[hi - 1] + self.intervals[hi - 1]
        phase_mass = np.bincount(self.state_phase[a0:a1], weights=self.alpha[a0:a1],
                                 minlength=int(self.intervals[hi - 1]))
        phase_mass /= max(phase_mass.sum(), 1e-12)
        d = int(np.argmax(phase_mass))
        near = phase_mass[max(0, d - 2): d + 3].sum()
        self.confidence = float(min(1.0, level / 0.5) * near) if not silent else 0.0
        if silent:
            return []
        b = self.t - d
        # decided with ``lag`` frames of hindsight (up to max_late more when it just moved)
        if not (self.lag <= d <= self.lag + self.max_late):
            return []
        if b - self.last_beat < 0.6 * interval:
            return []
        # a beat needs a pulse within support_span periods before it (or on it): nothing once the
        # audio has stopped
        span = int(self.support_span * interval) + d + 3
        if max(list(self.bt)[-span:]) < self.support_threshold:
            return []
        return [self._emit(b, interval)]

    def _emit(self, b: int, interval: float) -> DecodedBeat:
        self.last_beat = b
        self.beat_frames.append(b)
        self.beat_frames = self.beat_frames[-16:]
        # downbeat: the bar position whose beats carry the most downbeat activation
        back = self.t - b
        vals = list(self.dbt)
        i = len(vals) - 1 - back
        lo, hi = max(0, i - 2), min(len(vals), i + 3)
        dval = max(vals[lo:hi]) if hi > lo else 0.0
        slot = self.beat_index % self.beats_per_bar
        self.bar_scores *= 0.85
        self.bar_scores[slot] += dval
        first = int(np.argmax(self.bar_scores))
        pos = (self.beat_index - first) % self.beats_per_bar + 1
        self.beat_index += 1
        # heard: an activation on the beat (+-2 frames), not only the filter's extrapolation
        j = len(self.bt) - 1 - back
        heard = max(list(self.bt)[max(0, j - 2): j + 3] or [0.0]) >= self.heard_threshold
        bpm = self._report_bpm(60.0 * self.fps / interval, heard)
        self.bpm = bpm
        if len(self.beat_frames) >= 4:
            self._lock(bpm)
        return DecodedBeat(frame=b, decided_at=self.t, beat=pos, downbeat=pos == 1,
                           bpm=float(bpm), confidence=self.confidence)

    def _report_bpm(self, hmm_bpm: float, heard: bool = True) -> float:
        """The tempo to report: the recent inter-beat intervals when they agree with the
        filter, the median over the last heard beats (an extrapolated beat does not move
        it; two heard beats do once the old tempo's beats went unheard), with the metrical
        level held through short x2 / x1/2 episodes."""
        bpm = hmm_bpm
        ibis = np.diff(self.beat_frames[-7:]).astype(float)
        if len(ibis) >= 3:  # the emitted beats' own spacing, where it agrees with the filter
            good = ibis[np.abs(ibis * hmm_bpm / (60.0 * self.fps) - 1) < 0.1]
            if len(good) >= 3:
                bpm = 60.0 * self.fps / float(good.mean())
        if self.report_median > 1:  # one odd beat's tempo is not a tempo change
            self.heard.append(heard)
            if heard or not self.candidates:
                full = len(self.candidates) == self.candidates.maxlen
                self.candidates.append(bpm)
                c, h = list(self.candidates), list(self.heard)
                # a new tempo on two heard beats in a row, where at most one of the 4 beats
                # before them was heard (the old tempo lost its evidence): believe it now
                stale = len(h) == 6 and h[-2] and sum(h[:4]) <= 1
                if (full and stale and abs(c[-1] / c[-2] - 1) < 0.04
                        and abs(np.median(c[:-2]) / c[-1] - 1) > 0.08):
                    self.candidates = deque(c[-2:], maxlen=self.candidates.maxlen)
            bpm = float(np.median(self.candidates))
        if self.reported_bpm is None:
            self.reported_bpm = bpm
            return bpm
        ratio = bpm / self.reported_bpm
        octave = 0.42 < ratio < 0.58 or 1.72 < ratio < 2.3
        now = self.t / self.fps
        if octave:
            if self.octave_since is None:
                self.octave_since = now
            hold = self.octave_up_hold if ratio > 1 else self.octave_hold
            if now - self.octave_since < hold:
                # keep the level: report the decoded tempo moved back to it
                return float(bpm * (2.0 if ratio < 1 else 0.5))
        else:
            self.octave_since = None
        self.reported_bpm = bpm
        return bpm

    def run(self, beat_act: np.ndarray, downbeat_act: np.ndarray | None = None
            ) -> list[DecodedBeat]:
        """All frames of an activation at once (offline use of the online decoder)."""
        out: list[DecodedBeat] = []
        db = np.zeros_like(beat_act) if downbeat_act is None else downbeat_act
        for a, d in zip(beat_act, db, strict=True):
            out += self.step(float(a), float(d))
        return out

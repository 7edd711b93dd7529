"""Downbeats and the bar length: a bar-position Viterbi over the beats, per candidate metre.

For each candidate bar length (beats per bar), a Viterbi over bar positions (the position
advances by one each beat; with a small probability it resets, so a mix whose bar phase
shifts at a transition is followed) scores how well the downbeat activation fits that
metre: downbeat positions emit ``log p``, the others ``log(1 - p)``, ``p`` being the
activation at the beat scaled by its 95th percentile.  The reset probability
(:data:`BAR_JUMP`) is tiny: beats are scored as if independent, which overstates the
evidence of a few noisy ones, and a real bar phase changes rarely (at a mix's
transition), where several bars of clear downbeats still pay for the jump.  The bar
length with the best log-likelihood plus its prior wins: 4 is favoured (most music, and
every bar length fits an activation that fires on every fourth beat except 4 and 2), 3
needs evidence, and 2 (6/8 counted in dotted quarters, or 2/4) needs more.  A model that
was never taught another metre rarely gives that evidence; see the model card.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.ndimage import maximum_filter1d

#: Log prior of each bar length, per bar (added once per bar of the file).
BAR_PRIOR: dict[int, float] = {4: 0.0, 3: -0.05, 2: -0.15}

#: Probability per beat that the bar phase resets.  On the real-music validation
#: (``bench/real_beats.py``, drumnet-v3) 1e-3 let weak, half-bar-ambiguous downbeat
#: activations of metal songs flip the phase every few bars (downbeat F 0.61); 1e-9
#: holds it (0.85).  A jump costs ``log(BAR_JUMP / 3)``, about 22 nats: two or three
#: bars of clear downbeats, or some 25 bars of weak ones.
BAR_JUMP: float = 1e-9


def _viterbi(emit_down: np.ndarray, emit_other: np.ndarray, n_pos: int,
             jump_prob: float) -> tuple[np.ndarray, float]:
    """Best bar-position path and its log-likelihood."""
    emit = emit_other[:, None] * np.ones(n_pos)
    emit[:, 0] = emit_down
    trans = np.full((n_pos, n_pos), np.log(jump_prob / max(n_pos - 1, 1)))
    for s in range(n_pos):
        trans[s, (s + 1) % n_pos] = np.log(1 - jump_prob)
    delta = emit[0].copy()
    back = np.zeros((len(emit), n_pos), dtype=np.int64)
    for i in range(1, len(emit)):
        scores = delta[:, None] + trans
        back[i] = np.argmax(scores, axis=0)
        delta = scores[back[i], np.arange(n_pos)] + emit[i]
    state = int(np.argmax(delta))
    best = float(delta[state])
    path = np.empty(len(emit), dtype=np.int64)
    for i in range(len(emit) - 1, -1, -1):
        path[i] = state
        state = int(back[i, state])
    return path, best


def downbeats_and_bar(beats_s: np.ndarray, downbeat_act: np.ndarray, fps: float,
                      beats_per_bar: int | Sequence[int] = (3, 4), jump_prob: float = BAR_JUMP,
                      ) -> tuple[np.ndarray, int | None]:
    """``(downbeat times, beats per bar)``; ``beats_per_bar`` is one length or candidates."""
    act = np.asarray(downbeat_act, dtype=np.float64)
    candidates = [beats_per_bar] if isinstance(beats_per_bar, int) else list(beats_per_bar)
    if not candidates or any(int(c) < 2 for c in candidates):
        raise ValueError(f"beats_per_bar={beats_per_bar!r}: bar lengths must be >= 2")
    beats_s = np.asarray(beats_s, dtype=np.float64)
    if len(beats_s) == 0 or len(act) == 0 or act.max() <= 1e-9:
        return np.zeros(0), None
    frames = np.clip(np.round(beats_s * fps).astype(int), 0, len(act) - 1)
    peak = maximum_filter1d(act, size=5, mode="nearest")[frames]
    p = np.clip(peak / max(float(np.percentile(peak, 95)), 1e-9), 1e-3, 1 - 1e-3)
    best: tuple[float, np.ndarray, int] | None = None
    for n_pos in sorted({int(c) for c in candidates}, reverse=True):
        path, ll = _viterbi(np.log(p), np.log(1 - p), n_pos, jump_prob)
        score = ll + BAR_PRIOR.get(n_pos, -0.3) * len(beats_s) / n_pos
        if best is None or score > best[0]:
            best = (score, path, n_pos)
    assert best is not None
    return beats_s[best[1] == 0], best[2]


def downbeats_from_activation(beats_s: np.ndarray, downbeat_act: np.ndarray, fps: float,
                              beats_per_bar: int = 4, jump_prob: float = BAR_JUMP) -> np.ndarray:
    """Downbeats among ``beats_s`` for a fixed bar length (see :func:`downbeats_and_bar`)."""
    return downbeats_and_bar(beats_s, downbeat_act, fps, beats_per_bar, jump_prob)[0]

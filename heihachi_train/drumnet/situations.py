"""Hard mix situations for training: the confusions unseen material exposed, staged.

The external evaluation of issue 15 counted hats missed under loud bass, cymbals
reported on hats and hats on cymbals, and an electronic snare called a kick.  The
pattern styles rarely stage those moments, so with probability ``contrast_p`` per
clip (``render_clip(contrast_p=...)``, training only) one of these is added:

- ``quiet_top``: hats and cymbals 8-20 dB down, the bass 6-14 dB up (hats under a
  loud bass, still labelled);
- ``ride_and_hats``: a ride (cymbal) line on quarters or 8ths together with the hats,
  or a closed-hat line under a ride pattern, so both classes sound at once;
- ``stacks``: snares (claps) on some kick positions and kicks under some snares, so
  the two are heard together and must both be found;
- ``busy_top``: 16th hats at low velocity with accents: many quiet hats.

Events are ``(position in 16th steps, class, velocity)`` as in :mod:`.patterns`.
"""

from __future__ import annotations

import numpy as np

SITUATIONS = ("quiet_top", "ride_and_hats", "stacks", "busy_top")


def _bars(events) -> int:
    return int(max((p for p, _, _ in events), default=0) // 16) + 1


def _add(ev: list, new: list) -> list:
    """``ev`` plus the events of ``new`` whose (position, class) is not taken yet."""
    taken = {(p, c) for p, c, _ in ev}
    for p, c, v in new:
        if (p, c) not in taken:
            taken.add((p, c))
            ev.append((p, c, v))
    return ev


def contrast(events: list[tuple[float, str, float]], rng: np.random.Generator,
             class_gain: dict[str, float]) -> tuple[list[tuple[float, str, float]], bool]:
    """One random situation applied to ``events`` (returned as a new list) and to
    ``class_gain`` (changed in place); the bool says whether the bass must be loud."""
    kind = SITUATIONS[int(rng.integers(len(SITUATIONS)))]
    ev = list(events)
    bars = _bars(ev)
    if kind == "quiet_top":
        for c in ("hihat", "cymbal"):
            class_gain[c] *= 10 ** (-rng.uniform(8, 20) / 20)
        return ev, True
    if kind == "ride_and_hats":
        has_hats = any(c == "hihat" for _, c, _ in ev)
        cls = "cymbal" if has_hats else "hihat"
        step = int(rng.choice([2, 4]))
        line = [(b * 16 + s, cls, float(rng.uniform(0.4, 0.9)))
                for b in range(bars) for s in range(0, 16, step) if rng.random() < 0.9]
        return _add(ev, line), False
    if kind == "stacks":
        kicks = [p for p, c, _ in ev if c == "kick"]
        snares = [p for p, c, _ in ev if c == "snare"]
        new = [(p, "snare", float(rng.uniform(0.5, 1.0))) for p in kicks if rng.random() < 0.4]
        new += [(p, "kick", float(rng.uniform(0.5, 1.0))) for p in snares if rng.random() < 0.4]
        return _add(ev, new), False
    ev = [e for e in ev if e[1] != "hihat"]
    for b in range(bars):
        for s in range(16):
            if rng.random() < 0.85:
                v = 0.5 if s % 4 == 0 else float(rng.uniform(0.1, 0.35))
                ev.append((b * 16 + s, "hihat", v))
    return ev, False

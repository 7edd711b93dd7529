"""Long annotated streams for the realtime beat tracker: rendered segments of the
held-out kits (or any kits) joined end to end, with silent gaps, tempo changes and
half-time sections, and every beat known.

    audio, ann = render_stream(7, [("dnb", 174, 8), ("silence", 4.0), ("house", 124, 8)])

A segment ``(style, tempo, bars)`` is a :func:`render.render_clip` of that style and
tempo (RNG ``[seed, k]``) cut to exactly 4 bars and looped ``bars / 4`` times (the beat
grid runs on across the loop points; the renderer is made for clips of a few seconds,
and for some long durations it returned no hits at all), its beats shifted to where it
starts.  Its pattern starts at the clip's own offset, so a cut between segments is a
phase jump as well as (for a new tempo) a tempo change, like a DJ's hard cut.  ``("silence", s)``
is digital silence.  ``ann``: ``beats``, ``downbeats`` (seconds), ``segments`` (start,
end, tempo or 0 for silence, style).
"""

from __future__ import annotations

import numpy as np

from .kits import VALIDATION_KITS
from .render import SR, render_clip


def render_stream(seed: int, segments, kits=VALIDATION_KITS) -> tuple[np.ndarray, dict]:
    parts: list[np.ndarray] = []
    beats: list[float] = []
    downs: list[float] = []
    segs: list[tuple[float, float, float, str]] = []
    t0 = 0.0
    for k, seg in enumerate(segments):
        if seg[0] == "silence":
            n = int(round(float(seg[1]) * SR))  # noqa: RUF046
            parts.append(np.zeros(n, np.float32))
            segs.append((t0, t0 + n / SR, 0.0, "silence"))
            t0 += n / SR
            continue
        style, tempo, bars = seg
        unit = 4 * 4 * 60.0 / tempo  # four bars
        loops = max(1, int(round(bars / 4)))  # noqa: RUF046
        x, _, ann = render_clip(np.random.default_rng([seed, k]), kits, duration=unit + 1.0,
                                style=style, tempo=float(tempo))
        if not ann["hits"]:
            raise RuntimeError(f"render_clip gave no hits for segment {k} ({style}, seed {seed})")
        m = int(round(unit * SR))  # noqa: RUF046
        x = np.tile(x[:m], loops)
        n = len(x)
        x = x / (np.max(np.abs(x)) + 1e-9) * 0.5
        parts.append(x.astype(np.float32))
        for j in range(loops):
            off = t0 + j * m / SR
            beats += [off + b for b in ann["beats"] if b < m / SR - 1e-3]
            downs += [off + b for b in ann["downbeats"] if b < m / SR - 1e-3]
        segs.append((t0, t0 + n / SR, float(tempo), style))
        t0 += n / SR
    return np.concatenate(parts), {"beats": np.array(beats), "downbeats": np.array(downs),
                                   "segments": segs, "sample_rate": SR}

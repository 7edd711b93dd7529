"""Drum patterns of the styles drumnet trains on, as (time in steps, class, velocity) events.

Two-step DnB, amen breaks, half-time, rolls, house, breakbeat, hip hop, rock and a
random grid, with fills, ghost notes and, in training, role swaps between classes.

:data:`EXTRA_STYLES` are the metres and feels the first styles lack, drawn only when a
renderer asks for them (so renders of :data:`STYLES` never change): ``waltz`` (3/4),
``sixeight`` (6/8, beats on dotted quarters, two per bar), ``hatsintro`` (house whose
first bars are hi-hats alone, the off-beat open hat included: the beat must not lock
onto it), ``swing`` (hip hop at 85-100 BPM with a strong 16th or 8th swing), ``thrash``
(the skank beat of punk and thrash metal: kick on every beat, snare on every "and";
the beat is the kick, not the snare) and ``doublekick`` (metal: kicks on every 8th or
16th under a snare backbeat).

:data:`METAL_STYLES` are rock and metal grooves whose drums alone put the beat in an
ambiguous place, drawn only when a renderer asks for them (``--metal``): ``skank8`` (a
skank beat whose kick also plays the "and"s, so only the snare on every "and" tells the
beat), ``breakdown`` (a half-time feel: snare on beat 3 alone, kicks on 8ths or 16ths)
and ``push`` (rock with syncopated kicks and crashes anticipating the bar on the last
"and", the next downbeat left empty).  They were added after drumnet put its beats on
the off-beat of a skank-like metal song of the real-song validation (never trained on).
:func:`metre` gives a style's bar length and beat length in 16th steps and
:func:`swing_warp` where a swung step lands; a step is always a 16th note.
"""

from __future__ import annotations

import numpy as np

STYLES = ("dnb", "amen", "halftime", "rolls", "house", "breakbeat", "hiphop", "rock", "random")
STYLE_P = np.array([0.2, 0.14, 0.1, 0.07, 0.1, 0.1, 0.09, 0.08, 0.12])
TEMPO = {
    "dnb": (160, 180), "amen": (150, 180), "halftime": (165, 180), "rolls": (80, 180),
    "house": (118, 132), "breakbeat": (120, 145), "hiphop": (80, 100), "rock": (90, 150),
    "random": (80, 180),
}

#: Styles drawn only on request (see the module docstring), with their odds and tempi.
EXTRA_STYLES = ("waltz", "sixeight", "hatsintro", "swing", "thrash", "doublekick")
EXTRA_STYLE_P = np.array([0.2, 0.2, 0.15, 0.15, 0.15, 0.15])
#: For ``sixeight`` the tempo counts dotted quarters (the beat), for the rest quarters.
EXTRA_TEMPO = {"waltz": (90, 180), "sixeight": (55, 100), "hatsintro": (118, 132),
               "swing": (85, 100), "thrash": (130, 200), "doublekick": (90, 180)}
#: Rock and metal grooves drawn only on request (``--metal``), with their odds and tempi.
METAL_STYLES = ("skank8", "breakdown", "push")
METAL_STYLE_P = np.array([0.45, 0.25, 0.3])
METAL_TEMPO = {"skank8": (120, 200), "breakdown": (100, 180), "push": (100, 190)}
#: style -> (beats per bar, 16th steps per beat); every other style is (4, 4).
METRE = {"waltz": (3, 4), "sixeight": (2, 6)}


def metre(style: str) -> tuple[int, int]:
    """``(beats_per_bar, steps_per_beat)`` of a style (a step is a 16th note)."""
    return METRE.get(style, (4, 4))


def draw_swing(style: str, rng: np.random.Generator) -> tuple[float, int]:
    """``(swing, unit)`` for an extra style: ``swing`` delays the second half of each pair
    of ``unit``-step cells by that fraction of a cell (0.16 is a 58 % swing; 0.33 a
    triplet feel).  Only ``swing`` swings; it draws 16th swing (unit 1) or, one time in
    three, 8th swing (unit 2)."""
    if style != "swing":
        return 0.0, 1
    unit = 2 if rng.random() < 1 / 3 else 1
    return float(rng.uniform(0.12, 0.4)), unit


def swing_warp(pos: float, swing: float, unit: int = 1) -> float:
    """Where step position ``pos`` lands under swing (piecewise linear within each pair
    of ``unit``-step cells; cell boundaries on the pair's start stay put)."""
    if swing == 0.0:
        return pos
    pair = 2 * unit
    base = np.floor(pos / pair) * pair
    q = pos - base
    mid = unit * (1 + swing)
    if q < unit:
        return float(base + q * mid / unit)
    return float(base + mid + (q - unit) * (pair - mid) / unit)


def _hat_line(rng, bars, density=None, cls="hihat"):
    """Hi-hat (or ride) line: 8ths or 16ths with accents, some open/skipped."""
    ev = []
    density = density or rng.choice([2, 4, 4], p=[0.45, 0.35, 0.2])  # 2: 8ths, 4: 16ths
    step = 2 if density == 2 else 1  # 8ths or 16ths
    for b in range(bars):
        for s in range(0, 16, step):
            if rng.random() < 0.07:
                continue
            acc = 0.85 if s % 4 == 0 else (0.6 if s % 2 == 0 else 0.45)
            ev.append((b * 16 + s, cls, acc))
    return ev


def _fill(rng, bar, length_steps, cls_choices=("snare", "tom")):
    ev = []
    start = 16 - length_steps
    sub = rng.choice([1, 0.5], p=[0.7, 0.3])  # 16ths or 32nds
    n = int(length_steps / sub)
    cls_seq = rng.choice(cls_choices)
    crescendo = rng.random() < 0.6
    for i in range(n):
        pos = bar * 16 + start + i * sub
        v = (0.35 + 0.6 * i / max(1, n - 1)) if crescendo else rng.uniform(0.4, 0.9)
        cls = cls_seq if rng.random() < 0.8 else rng.choice(cls_choices)
        ev.append((pos, str(cls), v))
    return ev


def make_pattern(style: str, bars: int, rng: np.random.Generator) -> list[tuple[float, str, float]]:
    """Events (position in 16th steps from the first downbeat, class, velocity).

    Bars are ``metre(style)`` long: 16 steps for the 4/4 styles, 12 for 3/4 and 6/8."""
    if style in EXTRA_STYLES:
        return _extra_pattern(style, bars, rng)
    if style in METAL_STYLES:
        return _metal_pattern(style, bars, rng)
    ev: list[tuple[float, str, float]] = []
    ride = rng.random() < 0.25
    top = "cymbal" if ride else "hihat"
    if style == "dnb":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 10, "kick", 0.85), (o + 4, "snare", 0.95),
                   (o + 12, "snare", 0.95)]
            if rng.random() < 0.4:
                ev.append((o + int(rng.choice([7, 9, 14, 15])), "snare", rng.uniform(0.15, 0.4)))
            if rng.random() < 0.3:
                ev.append((o + int(rng.choice([2, 11, 13])), "kick", 0.7))
        ev += _hat_line(rng, bars, cls=top)
    elif style == "amen":
        k = [0, 2, 10, 11]
        s = [4, 7, 9, 12, 15]
        for b in range(bars):
            o = b * 16
            var = b % 4 == 3 and rng.random() < 0.6
            ks = [0, 2, 10] if var else k
            ss = [4, 7, 9, 14] if var else s
            ev += [(o + x, "kick", 0.9) for x in ks]
            ev += [(o + x, "snare", 0.95 if x in (4, 12) else rng.uniform(0.35, 0.7)) for x in ss]
        ev += _hat_line(rng, bars, density=2, cls="cymbal" if rng.random() < 0.5 else "hihat")
    elif style == "halftime":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 8, "snare", 0.98)]
            for x in rng.choice([3, 6, 10, 11, 14], size=int(rng.integers(0, 3)), replace=False):
                ev.append((o + int(x), "kick", rng.uniform(0.6, 0.9)))
        ev += _hat_line(rng, bars, cls=top)
    elif style == "house":
        for b in range(bars):
            o = b * 16
            ev += [(o + x, "kick", 0.95) for x in (0, 4, 8, 12)]
            if rng.random() < 0.8:
                ev += [(o + 4, "snare", 0.8), (o + 12, "snare", 0.8)]
            ev += [(o + x, "hihat", 0.8) for x in (2, 6, 10, 14)]
            if rng.random() < 0.5:
                ev += [(o + x, "hihat", 0.4) for x in (0, 4, 8, 12, 1, 3, 5, 7, 9, 11, 13, 15)
                       if rng.random() < 0.5]
            if ride:
                ev += [(o + x, "cymbal", 0.6) for x in (0, 4, 8, 12)]
    elif style == "breakbeat":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 4, "snare", 0.9), (o + 12, "snare", 0.9)]
            ev += [(o + int(x), "kick", 0.8) for x in rng.choice([3, 6, 7, 10, 11, 14], size=2,
                                                                  replace=False)]
            if rng.random() < 0.5:
                ev.append((o + int(rng.choice([9, 15])), "snare", rng.uniform(0.3, 0.6)))
        ev += _hat_line(rng, bars, cls=top)
    elif style == "hiphop":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 4, "snare", 0.9), (o + 12, "snare", 0.9)]
            ev += [(o + int(x), "kick", 0.8) for x in rng.choice([3, 7, 8, 10, 11], size=2,
                                                                  replace=False)]
        ev += _hat_line(rng, bars, density=2, cls=top)
    elif style == "rock":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.95), (o + 8, "kick", 0.9), (o + 4, "snare", 0.95),
                   (o + 12, "snare", 0.95)]
            if rng.random() < 0.5:
                ev.append((o + 10, "kick", 0.8))
        ev += _hat_line(rng, bars, density=2, cls=top)
    elif style == "rolls":
        for b in range(bars):
            o = b * 16
            ev += [(o + 0, "kick", 0.9)]
            if rng.random() < 0.5:
                ev += [(o + 4, "snare", 0.9)]
            ev += _fill(rng, b, int(rng.choice([8, 12, 16])), ("snare", "tom", "snare"))
        if rng.random() < 0.5:
            ev += _hat_line(rng, bars, density=2, cls=top)
    else:  # random grid: decorrelates class from metrical position
        p = {"kick": rng.uniform(0.05, 0.3), "snare": rng.uniform(0.05, 0.3),
             "hihat": rng.uniform(0.0, 0.6), "tom": rng.uniform(0.0, 0.2),
             "cymbal": rng.uniform(0.0, 0.15)}
        for b in range(bars):
            for s in range(16):
                for c, pc in p.items():
                    if rng.random() < pc:
                        ev.append((b * 16 + s, c, rng.uniform(0.2, 1.0)))
    # fills, crashes, toms everywhere
    if style not in ("rolls", "random"):
        for b in range(bars):
            if (b % 4 == 3 and rng.random() < 0.4) or rng.random() < 0.12:
                ev = [e for e in ev if not (e[0] >= b * 16 + 12 and e[0] < b * 16 + 16
                                            and e[1] in ("snare", "hihat"))]
                ev += _fill(rng, b, int(rng.choice([4, 4, 8])), ("snare", "tom", "tom"))
    if style != "random" and rng.random() < 0.3:  # tom accents / percussion lines
        for b in range(bars):
            for x in rng.choice(16, size=int(rng.integers(1, 4)), replace=False):
                ev.append((b * 16 + int(x), "tom", rng.uniform(0.4, 1.0)))
    for b in range(bars):
        if (b % 4 == 0 and rng.random() < 0.45) or rng.random() < 0.1:
            ev.append((b * 16 + 0, "cymbal", rng.uniform(0.7, 1.0)))
    return ev


# Pairs whose roles swap_roles exchanges, with their odds: a low tom on the kick's
# groove positions was the commonest held-out error (kicks reported under toms).
ROLE_SWAPS = ((("kick", "tom"), 0.6), (("snare", "tom"), 0.4))


def swap_roles(events: list[tuple[float, str, float]],
               rng: np.random.Generator) -> list[tuple[float, str, float]]:
    """Exchange the parts of two classes (e.g. toms play the kick's groove, the kick plays
    the fills), labels following the sound.  Like the random-grid style this decorrelates
    class from metrical position, so the model has to hear a tom to call it one."""
    pairs = [p for p, _ in ROLE_SWAPS]
    a, b = pairs[int(rng.choice(len(pairs), p=[w for _, w in ROLE_SWAPS]))]
    swap = {a: b, b: a}
    return [(pos, swap.get(c, c), v) for pos, c, v in events]


def _extra_pattern(style: str, bars: int, rng: np.random.Generator,
                   ) -> list[tuple[float, str, float]]:
    """Patterns of :data:`EXTRA_STYLES` (bars of ``metre(style)``)."""
    bpb, spb = metre(style)
    steps = bpb * spb
    ev: list[tuple[float, str, float]] = []
    top = "cymbal" if rng.random() < 0.25 else "hihat"
    if style == "waltz":  # 3/4: oom-pah-pah, rock 3/4 or a jazz-waltz ride
        kind = int(rng.integers(3))
        for b in range(bars):
            o = b * steps
            ev.append((o, "kick", 0.95))
            if kind == 0:
                ev += [(o + 4, "snare", 0.6), (o + 8, "snare", 0.6)]
            elif kind == 1:
                ev += [(o + 8, "snare", 0.9)]
                if rng.random() < 0.4:
                    ev.append((o + 6, "kick", 0.7))
            else:
                ev += [(o + x, "cymbal", 0.75 if x % 4 == 0 else 0.5) for x in (0, 4, 7, 8, 11)]
                ev.append((o + 4, "hihat", 0.5))
                ev.append((o + 8, "hihat", 0.5))
            if kind != 2:
                ev += [(o + x, top, 0.8 if x == 0 else 0.55) for x in range(0, steps, 2)
                       if rng.random() > 0.05]
    elif style == "sixeight":  # 6/8: kick on 1, snare on 4 (the second dotted quarter)
        for b in range(bars):
            o = b * steps
            ev += [(o, "kick", 0.95), (o + 6, "snare", 0.9)]
            if rng.random() < 0.5:
                ev.append((o + int(rng.choice([4, 10])), "kick", 0.7))
            ev += [(o + x, top, 0.8 if x in (0, 6) else 0.5) for x in range(0, steps, 2)]
    elif style == "hatsintro":  # house; the first bars are hats alone
        intro = int(rng.integers(2, 5))
        for b in range(bars):
            o = b * 16
            ev += [(o + x, "hihat", 0.85) for x in (2, 6, 10, 14)]  # off-beat open hats
            if rng.random() < 0.6:
                ev += [(o + x, "hihat", 0.4) for x in range(16) if x % 4 != 2]
            if b >= intro:
                ev += [(o + x, "kick", 0.95) for x in (0, 4, 8, 12)]
                if rng.random() < 0.8:
                    ev += [(o + 4, "snare", 0.8), (o + 12, "snare", 0.8)]
        if intro < bars:  # a crash where the groove comes in
            ev.append((intro * 16, "cymbal", 0.9))
    elif style == "thrash":  # skank beat: the beat is on the kick, the snare between
        for b in range(bars):
            o = b * 16
            ev += [(o + x, "kick", 0.9) for x in (0, 4, 8, 12)]
            ev += [(o + x, "snare", 0.95) for x in (2, 6, 10, 14)]
            ev += [(o + x, top, 0.7) for x in (0, 4, 8, 12)]
    elif style == "doublekick":  # metal: kick 8ths or 16ths under a snare backbeat
        every = int(rng.choice([1, 2]))
        for b in range(bars):
            o = b * 16
            ev += [(o + x, "kick", rng.uniform(0.6, 0.9)) for x in range(0, 16, every)]
            ev += [(o + 4, "snare", 0.95), (o + 12, "snare", 0.95)]
            ev += [(o + x, top, 0.7) for x in (0, 4, 8, 12)]
    else:  # swing: hip hop at 85-100 BPM; the renderer applies draw_swing's swing
        for b in range(bars):
            o = b * 16
            ev += [(o, "kick", 0.95), (o + 4, "snare", 0.9), (o + 12, "snare", 0.9)]
            ev += [(o + int(x), "kick", 0.8) for x in rng.choice([3, 7, 8, 10, 11], size=2,
                                                                  replace=False)]
            if rng.random() < 0.5:
                ev.append((o + int(rng.choice([7, 9, 15])), "snare", rng.uniform(0.2, 0.45)))
        ev += _hat_line(rng, bars, density=4 if rng.random() < 0.6 else 2, cls=top)
    for b in range(bars):  # crashes at some bar starts
        if (b % 4 == 0 and rng.random() < 0.3) and style != "hatsintro":
            ev.append((b * steps, "cymbal", rng.uniform(0.7, 1.0)))
    return ev


def _metal_pattern(style: str, bars: int, rng: np.random.Generator,
                   ) -> list[tuple[float, str, float]]:
    """Patterns of :data:`METAL_STYLES` (4/4 bars of 16 steps; the beat is the quarter)."""
    ev: list[tuple[float, str, float]] = []
    top = str(rng.choice(["hihat", "cymbal", "cymbal"]))  # hats, a ride or a crash/china
    top_every = int(rng.choice([4, 2]))  # the top line on quarters or on 8ths
    if style == "skank8":  # snare on every "and"; the kick plays the "and"s too
        kick = int(rng.integers(3))
        for b in range(bars):
            o = b * 16
            ev += [(o + x, "snare", 0.95) for x in (2, 6, 10, 14)]
            if kick == 0:  # every 8th
                ev += [(o + x, "kick", rng.uniform(0.7, 0.95)) for x in range(0, 16, 2)]
            elif kick == 1:  # double kick on 16ths
                ev += [(o + x, "kick", rng.uniform(0.6, 0.9)) for x in range(16)]
            else:  # on the beats and some "and"s
                ev += [(o + x, "kick", 0.9) for x in (0, 4, 8, 12)]
                ev += [(o + x, "kick", 0.75) for x in (2, 6, 10, 14) if rng.random() < 0.5]
            ev += [(o + x, top, 0.75 if x % 4 == 0 else 0.55) for x in range(0, 16, top_every)]
    elif style == "breakdown":  # half-time feel: one snare per bar, on beat 3
        every = int(rng.choice([1, 2]))
        for b in range(bars):
            o = b * 16
            ev.append((o + 8, "snare", 0.95))
            ev += [(o + x, "kick", rng.uniform(0.65, 0.95)) for x in range(0, 16, every)
                   if x != 8 or rng.random() < 0.5]
            ev += [(o + x, top, 0.8 if x == 0 else 0.6) for x in range(0, 16, top_every)]
    else:  # push: syncopated kicks; some bars anticipated on the last "and"
        figure = [(0, 6, 10), (0, 3, 8, 11), (0, 7, 10), (0, 2, 6, 10)][int(rng.integers(4))]
        pushed = False
        for b in range(bars):
            o = b * 16
            push = rng.random() < 0.4
            ev += [(o + 4, "snare", 0.95), (o + 12, "snare", 0.95)]
            ev += [(o + x, "kick", 0.9) for x in figure if not (x == 0 and pushed)]
            ev += [(o + x, top, 0.7 if x % 4 == 0 else 0.5) for x in range(0, 16, top_every)
                   if not (x == 0 and pushed) and not (push and x >= 14)]
            if push:
                ev += [(o + 14, "kick", 0.95), (o + 14, "cymbal", 0.9)]
            pushed = push
    for b in range(bars):  # crashes at some bar starts
        if b % 4 == 0 and rng.random() < 0.3:
            ev.append((b * 16, "cymbal", rng.uniform(0.7, 1.0)))
    return ev

"""Musical key from pitch-class evidence: key profiles, Camelot codes, confidence.

Key profiles are templates of how much each pitch class sounds in a key; the key is
the rotation of a profile that correlates best with the chroma of the music. Profiles
from classical corpora (Krumhansl-Kessler) weigh the major/minor third and leading
tone in ways electronic music does not; the EDMA profiles of Faraldo, Gómez, Jordà and
Herrera ("Key Estimation in Electronic Dance Music", ECIR 2016) were extracted from a
corpus of electronic dance music and are the default. The numbers are those published
with the paper (also in Essentia's ``Key`` algorithm, profile types ``edma``/``edmm``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: name -> (major profile, minor profile), both starting on the tonic.
PROFILES: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "edma": (
        (0.16519551, 0.04749026, 0.08293076, 0.06687112, 0.09994645, 0.09274123,
         0.05294487, 0.13159476, 0.05218986, 0.07443653, 0.06940723, 0.0642515),
        (0.17235348, 0.05336489, 0.0761009, 0.10043649, 0.05621498, 0.08527853,
         0.0497915, 0.13451001, 0.07458916, 0.05003023, 0.09187879, 0.05545106),
    ),
    "krumhansl": (
        (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
        (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
    ),
    "temperley": (
        (5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0),
        (5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0),
    ),
}

# Camelot wheel: minor keys are "A", major "B"; 8B = C major, 5A = C minor (each step
# clockwise is a fifth up).
_CAMELOT_MAJOR = {0: 8, 7: 9, 2: 10, 9: 11, 4: 12, 11: 1, 6: 2, 1: 3, 8: 4, 3: 5, 10: 6, 5: 7}


def camelot(tonic: int, mode: str) -> str:
    """Camelot code of a key: ``camelot(0, "major") == "8B"``, ``camelot(9, "minor") == "8A"``."""
    if mode == "major":
        return f"{_CAMELOT_MAJOR[tonic % 12]}B"
    return f"{_CAMELOT_MAJOR[(tonic + 3) % 12]}A"  # the relative major shares the number


def key_name(tonic: int, mode: str) -> str:
    """``"A minor"``-style name, in the spelling mir_eval reads."""
    return f"{PITCH_CLASSES[tonic % 12]} {mode}"


@dataclass(frozen=True)
class KeyGuess:
    """One key estimate: tonic pitch class (C=0), mode, Camelot code, confidence 0-1.

    ``confidence`` is the margin between the best and the second-best key's correlation
    (scaled to 0-1): near 0 when two keys fit almost equally (often the relative key).
    ``strength`` is the best correlation itself.
    """

    tonic: int
    mode: str
    confidence: float
    strength: float

    @property
    def name(self) -> str:
        return key_name(self.tonic, self.mode)

    @property
    def camelot(self) -> str:
        return camelot(self.tonic, self.mode)


def key_scores(pcp: np.ndarray, profile: str = "edma") -> np.ndarray:
    """``[24]`` Pearson correlations of ``pcp`` with the 12 major then 12 minor keys."""
    if profile not in PROFILES:
        raise ValueError(f"unknown key profile {profile!r}; choose from {', '.join(PROFILES)}")
    pcp = np.asarray(pcp, dtype=np.float64).ravel()
    if pcp.shape != (12,):
        raise ValueError(f"a pitch-class profile has 12 values, got {pcp.shape}")
    x = pcp - pcp.mean()
    scores = np.zeros(24)
    for m, prof in enumerate(PROFILES[profile]):
        p = np.asarray(prof)
        for tonic in range(12):
            q = np.roll(p, tonic)
            q = q - q.mean()
            den = np.linalg.norm(x) * np.linalg.norm(q)
            scores[12 * m + tonic] = float(x @ q / den) if den > 1e-12 else 0.0
    return scores


def estimate_key(pcp: np.ndarray, profile: str = "edma") -> KeyGuess | None:
    """The best key for a 12-bin pitch-class profile, or None when it is flat (silence,
    drums only: no pitch class stands out)."""
    pcp = np.asarray(pcp, dtype=np.float64)
    if not np.isfinite(pcp).all() or pcp.max() - pcp.min() <= 1e-9 * max(pcp.max(), 1e-12):
        return None
    scores = key_scores(pcp, profile)
    order = np.argsort(scores)[::-1]
    best, second = int(order[0]), int(order[1])
    margin = float(scores[best] - scores[second])
    return KeyGuess(tonic=best % 12, mode="major" if best < 12 else "minor",
                    confidence=float(np.clip(margin / 0.2, 0.0, 1.0)),
                    strength=float(scores[best]))


def span_profile(semitones: np.ndarray, times: np.ndarray, start: float | None = None,
                 end: float | None = None, phrases: list[tuple[float, float]] | tuple = (),
                 phrase_weight: float = 0.25) -> np.ndarray | None:
    """The 12-bin pitch-class profile of ``[start, end)`` from per-frame semitone
    amplitudes (:func:`heihachi.music.spectra.semitone_spectrum`), or None if no frame
    lies there.

    Amplitudes are scaled by the span's loudest semitone and log-compressed (a loud bass
    note must not hide the chord), averaged, folded to pitch classes. ``phrases`` are
    ``(start, end)`` spans of the first bar of each phrase (section starts, every 8 bars):
    their mean profile is added with ``phrase_weight``. Loops in dance music start on the
    tonic chord far more often than not, and that settles what pitch-class counts alone
    cannot: the relative key (A minor or C major over Am-F-C-G), and loops that dwell on
    the VII chord.
    """
    from heihachi.music.spectra import fold_octaves

    t = np.asarray(times, dtype=np.float64)
    lo = -np.inf if start is None else start
    hi = np.inf if end is None else end
    inside = (t >= lo) & (t < hi)
    if not inside.any():
        return None
    v = np.asarray(semitones, dtype=np.float64)[inside]
    peak = float(v.max())
    if peak <= 0:
        return np.zeros(12)
    v = np.log1p(10.0 * v / peak)
    profile = fold_octaves(v.mean(axis=0))
    if phrase_weight and len(phrases):
        tin = t[inside]
        mask = np.zeros(len(tin), dtype=bool)
        for a, b in phrases:
            mask |= (tin >= a) & (tin < b)
        if mask.any():
            profile = profile + phrase_weight * fold_octaves(v[mask].mean(axis=0))
    return profile


def phrase_spans(downbeats: np.ndarray, starts: list[float], bars: int = 8,
                 end: float | None = None) -> list[tuple[float, float]]:
    """``(start, end)`` of the first bar of every ``bars``-bar phrase counted from each
    of ``starts`` (section starts), on the ``downbeats`` grid."""
    db = np.sort(np.asarray(downbeats, dtype=np.float64))
    if len(db) < 2:
        return []
    bar = float(np.median(np.diff(db)))
    out: list[tuple[float, float]] = []
    bounds = [*sorted(starts), np.inf if end is None else end]
    for s0, s1 in itertools.pairwise(bounds):
        idx = np.flatnonzero((db >= s0 - 0.5 * bar) & (db < s1))
        for k in idx[::bars]:
            out.append((float(db[k]), float(db[k]) + bar))
    return out

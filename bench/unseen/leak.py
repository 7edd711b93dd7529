"""Leak check: no validation one-shot may be a copy of a training one-shot.

For every (validation, training) pair of one-shots, the maximum over lags of the
normalised cross-correlation of their first 0.34 s (at 24 kHz) is computed with FFTs;
a pair at or above :data:`THRESHOLD` (0.9) is a leak (the same recording, maybe
re-pitched a little, trimmed or re-sampled).  Training one-shots: every velocity layer
of the Hydrogen training kits and of the GM SoundFont kits drumnet trains on.
The synthesised training voices (``synth.py``, ``voices.py``) are drawn at random
during training and have no fixed set to compare with; a fixed draw of 40 per class
of each stands in for them.
"""

from __future__ import annotations

import numpy as np

THRESHOLD = 0.9
RATE = 24_000
WIN = 8192


def _sig(x: np.ndarray) -> np.ndarray:
    import soxr

    y = np.asarray(x, np.float32)
    y = (y if RATE == 24_000 else soxr.resample(y, 24_000, RATE))[:WIN]
    out = np.zeros(WIN, np.float32)
    out[: len(y)] = y
    return out / (np.linalg.norm(out) + 1e-12)


def training_one_shots() -> tuple[np.ndarray, list[str]]:
    """Signatures of every training one-shot and a name for each."""
    from heihachi_train.drumnet import kits, soundfonts
    from heihachi_train.drumnet.samples import load_bank
    from heihachi_train.drumnet.synth import synth_one_shot
    from heihachi_train.drumnet.voices import voice_one_shot

    sigs, names = [], []
    for kit in (*kits.TRAIN_KITS, *soundfonts.SOUNDFONT_KITS):
        for cls, instruments in load_bank(kit).items():
            for i, layers in enumerate(instruments):
                for j, s in enumerate(layers):
                    sigs.append(_sig(s.audio))
                    names.append(f"{kit}/{cls}{i}/layer{j}")
    for name, make in (("synth.py", synth_one_shot), ("voices.py", voice_one_shot)):
        for cls in kits.CLASSES:
            for k in range(40):
                sigs.append(_sig(make(cls, np.random.default_rng([7, k]))))
                names.append(f"{name}/{cls}{k}")
    return np.stack(sigs), names


def max_ncc(a: np.ndarray, train_fft: np.ndarray) -> np.ndarray:
    """Max over lags of the normalised cross-correlation of ``a`` with each training
    signature (``train_fft``: their rfft at size 2 * WIN)."""
    from scipy import fft

    fa = fft.rfft(a, 2 * WIN)
    xc = fft.irfft(train_fft * np.conj(fa).astype(np.complex64)[None, :], 2 * WIN, axis=1)
    return np.max(np.abs(xc), axis=1)


def check(validation: dict[str, list[np.ndarray]]) -> tuple[float, list[tuple[str, str, float]]]:
    """``validation``: name -> one-shots.  Returns the highest NCC over all pairs and
    every pair at or above THRESHOLD as (validation one-shot, training one-shot, NCC)."""
    train, names = training_one_shots()
    tf = np.fft.rfft(train, 2 * WIN, axis=1).astype(np.complex64)
    top, leaks = 0.0, []
    for vname, shots in validation.items():
        for k, x in enumerate(shots):
            ncc = max_ncc(_sig(x), tf)
            j = int(np.argmax(ncc))
            top = max(top, float(ncc[j]))
            for j in np.flatnonzero(ncc >= THRESHOLD):
                leaks.append((f"{vname}#{k}", names[j], float(ncc[j])))
    return top, leaks


def check_unseen_kits(kits: tuple[str, ...]) -> tuple[float, list[tuple[str, str, float]]]:
    from .sources import load_unseen_bank

    val = {}
    for kit in kits:
        for cls, instruments in load_unseen_bank(kit).items():
            val[f"{kit}/{cls}"] = [s.audio for layers in instruments for s in layers]
    return check(val)

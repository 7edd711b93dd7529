"""Production chains of the unseen-source validation, one named condition per clip.

Written independently of the training augmentation (``heihachi_train/drumnet/chain.py``),
with other designs where there is a choice: Chebyshev/elliptic filters instead of
Butterworth, a Schroeder-Moorer (Freeverb-style) comb/all-pass reverb instead of a
noise impulse response, an RMS compressor with a soft knee, arctan saturation, the
codecs written to real .mp3/.ogg files that the CLI decodes, and files written at 48
and 22.05 kHz that the CLI resamples.

Every step is causal with no latency (the codecs' delay is compensated by the
decoder), so the clip's annotations stay exact.
"""

from __future__ import annotations

import numpy as np

SR = 24_000

#: The conditions, each a processing group of the bench's table.
PROCESSING = ("clean", "low-pass ~3 kHz", "telephone 300-3400 Hz", "high-pass",
              "reverb", "compression + pumping", "saturation", "clipping", "bit-crush",
              "mp3", "ogg", "48 kHz", "22.05 kHz", "two steps")
#: Conditions that change the file written rather than the samples.
FILE_CONDITIONS = {"mp3": ("mp3", 44_100), "ogg": ("ogg", 44_100),
                   "48 kHz": ("wav", 48_000), "22.05 kHz": ("wav", 22_050)}
TWO_STEP_POOL = ("low-pass ~3 kHz", "telephone 300-3400 Hz", "high-pass", "reverb",
                 "compression + pumping", "saturation", "clipping", "bit-crush")


def _lowpass(x, rng):
    from scipy.signal import ellip, sosfilt

    fc = rng.uniform(2600, 3400)
    return sosfilt(ellip(int(rng.choice([4, 6])), 0.5, 50, fc, "low", fs=SR, output="sos"), x)


def _telephone(x, rng):
    from scipy.signal import cheby1, sosfilt

    return sosfilt(cheby1(4, 1.0, [300, 3400], "band", fs=SR, output="sos"), x)


def _highpass(x, rng):
    from scipy.signal import cheby2, sosfilt

    return sosfilt(cheby2(4, 40, rng.uniform(200, 600), "high", fs=SR, output="sos"), x)


def _reverb(x, rng):
    """Schroeder-Moorer reverb: 6 parallel damped combs, 2 series all-passes."""
    from scipy.signal import lfilter

    rt = rng.uniform(0.8, 3.0)
    wet = np.zeros(len(x))
    for d_ms in (29.7, 37.1, 41.1, 43.7, 47.3, 53.9):
        d = int(d_ms * rng.uniform(0.9, 1.1) * SR / 1000)
        g = 10 ** (-3 * d / (rt * SR))
        damp = rng.uniform(0.1, 0.5)
        # y[n] = x[n] + g * ((1 - damp) * y[n-d] + damp * y[n-d-1])
        a = np.zeros(d + 2)
        a[0], a[d], a[d + 1] = 1.0, -g * (1 - damp), -g * damp
        wet += lfilter([1.0], a, x)
    for d_ms, g in ((5.0, 0.7), (1.7, 0.7)):
        d = int(d_ms * SR / 1000)
        b = np.zeros(d + 1)
        b[0], b[d] = -g, 1.0
        a = np.zeros(d + 1)
        a[0], a[d] = 1.0, -g
        wet = lfilter(b, a, wet)
    rx = np.sqrt(np.mean(x**2)) + 1e-12
    rw = np.sqrt(np.mean(wet**2)) + 1e-12
    return x + rng.uniform(0.3, 0.8) * wet * rx / rw


def _compress(x, rng):
    """RMS (5 ms) compressor with a 6 dB soft knee, attack 1-10 ms, release 50-250 ms."""
    win = int(0.005 * SR)
    p = np.convolve(x**2, np.ones(win) / win)[: len(x)]
    lvl = 10 * np.log10(p + 1e-12)
    thr = 10 * np.log10(np.max(p) + 1e-12) - rng.uniform(10, 24)
    ratio, knee = rng.uniform(4, 12), 6.0
    over = lvl - thr
    gr = np.where(over <= -knee / 2, 0.0,
                  np.where(over >= knee / 2, over * (1 - 1 / ratio),
                           (1 - 1 / ratio) * (over + knee / 2) ** 2 / (2 * knee)))
    att = np.exp(-1 / (rng.uniform(0.001, 0.01) * SR))
    rel = np.exp(-1 / (rng.uniform(0.05, 0.25) * SR))
    g = np.zeros(len(x))
    s = 0.0
    for i, v in enumerate(gr):  # attack when the reduction grows, release otherwise
        c = att if v > s else rel
        s = c * s + (1 - c) * v
        g[i] = s
    return x * 10 ** (-g / 20)


def _duck(bed: np.ndarray, kicks: np.ndarray, rng) -> np.ndarray:
    """Sidechain pumping of ``bed`` keyed by the kicks: -6..-18 dB, 100-300 ms recovery."""
    depth = 1 - 10 ** (-rng.uniform(6, 18) / 20)
    rec = rng.uniform(0.1, 0.3)
    env = np.zeros(len(bed))
    t = np.arange(int(rec * SR)) / (rec * SR)
    shape = (1 - t) ** 2
    for k in (np.asarray(kicks) * SR).astype(int):
        m = min(len(shape), len(bed) - k)
        if m > 0:
            env[k : k + m] = np.maximum(env[k : k + m], shape[:m])
    return bed * (1 - depth * env)


def _saturate(x, rng):
    d = rng.uniform(3, 12)
    pk = np.max(np.abs(x)) + 1e-12
    return np.arctan(d * x / pk) / np.arctan(d) * pk


def _clip(x, rng):
    pk = np.max(np.abs(x)) + 1e-12
    g = 10 ** (rng.uniform(6, 15) / 20)
    return np.clip(x / pk * g, -1, 1) * pk


def _crush(x, rng):
    pk = np.max(np.abs(x)) + 1e-12
    bits = int(rng.integers(5, 9))
    hold = int(rng.integers(2, 4))
    y = (x / pk)[(np.arange(len(x)) // hold) * hold]
    q = 2 ** (bits - 1)
    return np.round(y * q) / q * pk


STEPS = {"low-pass ~3 kHz": _lowpass, "telephone 300-3400 Hz": _telephone,
         "high-pass": _highpass, "reverb": _reverb, "saturation": _saturate,
         "clipping": _clip, "bit-crush": _crush}


def apply(condition: str, drums: np.ndarray, bed: np.ndarray, kicks: np.ndarray,
          rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """The mix of ``drums`` and ``bed`` through ``condition``; returns (mix, steps)."""
    steps = [condition]
    if condition == "two steps":
        steps = [str(s) for s in rng.choice(TWO_STEP_POOL, size=2, replace=False)]
    x = None
    for step in steps:
        if step == "compression + pumping":
            base = drums + _duck(bed, kicks, rng) if x is None else x
            x = _compress(base, rng)
        else:
            x = drums + bed if x is None else x
            if step in STEPS:
                x = STEPS[step](x, rng)
    return x, steps


def write(path_stem, audio: np.ndarray, condition: str, rng: np.random.Generator):
    """Write the clip as its condition asks (a .wav at 24 kHz, or mp3/ogg/other rates);
    returns the path written."""
    from pathlib import Path

    import soundfile as sf
    import soxr

    ext, rate = FILE_CONDITIONS.get(condition, ("wav", SR))
    y = audio if rate == SR else soxr.resample(audio, SR, rate)
    path = Path(f"{path_stem}.{ext}")
    if ext == "mp3":
        sf.write(path, y.astype(np.float32), rate, format="MP3",
                 compression_level=float(rng.uniform(0.4, 0.9)))
    elif ext == "ogg":
        sf.write(path, y.astype(np.float32), rate, format="OGG", subtype="VORBIS",
                 compression_level=float(rng.uniform(0.3, 0.9)))
    else:
        sf.write(path, y.astype(np.float32), rate, subtype="FLOAT")
    return path

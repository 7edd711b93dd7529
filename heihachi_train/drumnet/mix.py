"""What a clip mixes around the drums, and the effects on the mix: a synthetic bass line,
pad chords, pink noise; EQ, filters, compression, synthetic reverb and gain.
"""

from __future__ import annotations

import numpy as np

from .samples import SR


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    w = rng.standard_normal(n // 2 + 1) + 1j * rng.standard_normal(n // 2 + 1)
    f = np.arange(n // 2 + 1, dtype=np.float64)
    f[0] = 1
    x = np.fft.irfft(w / np.sqrt(f), n)
    return (x / (np.std(x) + 1e-9)).astype(np.float32)


def _osc(freq: np.ndarray, kind: str, rng) -> np.ndarray:
    ph = 2 * np.pi * np.cumsum(freq) / SR + rng.uniform(0, 2 * np.pi)
    if kind == "sine":
        return np.sin(ph)
    if kind == "saw":
        return 2 * ((ph / (2 * np.pi)) % 1.0) - 1
    return np.sign(np.sin(ph)) * 0.7  # square


def _lowpass(x, fc, order=2):
    from scipy.signal import butter, sosfilt

    fc = min(fc, SR * 0.45)
    return sosfilt(butter(order, fc, "low", fs=SR, output="sos"), x)


def bass_line(n: int, tempo: float, rng) -> np.ndarray:
    step = 60.0 / tempo / 2  # 8th notes
    root = 55.0 * 2 ** (rng.integers(-5, 7) / 12)
    kind = str(rng.choice(["sine", "saw", "square", "sine"]))
    freq = np.zeros(n)
    env = np.zeros(n)
    t0 = 0.0
    while t0 * SR < n:
        dur = step * int(rng.choice([1, 2, 2, 4, 8]))
        a, b = int(t0 * SR), min(n, int((t0 + dur) * SR))
        semis = int(rng.choice([0, 0, 0, 3, 5, 7, -2, 12]))
        freq[a:b] = root * 2 ** (semis / 12)
        if rng.random() < 0.2:
            freq[a:b] *= np.linspace(1.5, 1.0, b - a)  # small glide
        e = np.ones(b - a)
        att = min(b - a, int(rng.uniform(0.002, 0.03) * SR))
        e[:att] = np.linspace(0, 1, att)
        e *= np.exp(-np.arange(b - a) / SR * rng.uniform(0, 4))
        env[a:b] = e
        if rng.random() < 0.15:
            env[a:b] = 0
        t0 += dur
    x = _osc(freq, kind, rng) * env
    return _lowpass(x, rng.uniform(150, 1500)).astype(np.float32)


def _string_note(f: float, m: int, tau: float, rng) -> np.ndarray:
    """A plucked string (Karplus-Strong): a burst of filtered noise one period long fed
    through a delay line whose loop gain makes the note decay with time constant ``tau``."""
    from scipy.signal import lfilter

    period = max(2, int(round(SR / f)))  # noqa: RUF046
    rho = float(np.exp(-1.0 / (tau * f)))
    burst = _lowpass(rng.uniform(-1, 1, period), rng.uniform(200, 1200), 4)  # finger to pick
    a = np.zeros(period + 2)
    a[0], a[period], a[period + 1] = 1.0, -rho / 2, -rho / 2
    x = np.zeros(m)
    x[: min(m, period)] = burst[:m]
    return lfilter([1.0], a, x)


def _synth_pluck(f: float, m: int, tau: float, rng) -> np.ndarray:
    """An additive synth pluck: harmonics up to 4 kHz whose decay quickens with their
    number (the bright attack that darkens, as a decaying filter envelope gives); at most
    40 harmonics."""
    t = np.arange(m) / SR
    k = np.arange(1, min(40, max(2, int(4000 // f))) + 1)
    amp = k ** -rng.uniform(1.2, 2.2)
    taus = tau / k ** rng.uniform(0.3, 1.0)
    ph = rng.uniform(0, 2 * np.pi, len(k))
    return (amp[:, None] * np.exp(-t[None, :] / taus[:, None])
            * np.sin(2 * np.pi * f * k[:, None] * t[None, :] + ph[:, None])).sum(axis=0)


def pluck_bass(n: int, tempo: float, rng) -> np.ndarray:
    """Plucked notes in the toms' register (35-220 Hz): a picked or fingered bass string or
    a synth pluck, each note decaying over 60-500 ms, on 8ths and 16ths.

    :func:`bass_line` holds its notes, and drumnet's first false toms on unseen material
    fell on a bed's decaying bass notes: a pitched thump that fades is a tom only if a
    drum made it.  Rms about 0.3, like :func:`bass_line`."""
    step = 60.0 / tempo / 4
    root = 35.0 * 2 ** (rng.integers(0, 24) / 12)
    kind = int(rng.integers(2))
    out = np.zeros(n)
    t0 = step * int(rng.integers(0, 4))
    while t0 * SR < n:
        dur = step * int(rng.choice([1, 2, 2, 3, 4, 6]))
        a = int(t0 * SR)
        m = min(n - a, int(rng.uniform(0.3, 0.7) * SR))
        if rng.random() < 0.8:
            f = root * 2 ** (int(rng.choice([0, 0, 12, 7, 5, 3, 10, -5])) / 12)
            tau = float(np.exp(rng.uniform(np.log(0.06), np.log(0.5))))
            note = (_string_note if kind == 0 else _synth_pluck)(f, m, tau, rng)
            out[a : a + m] += note * rng.uniform(0.5, 1.0)
        t0 += dur
    r = float(np.sqrt(np.mean(out**2)))
    return (out / r * 0.3).astype(np.float32) if r > 1e-9 else out.astype(np.float32)


def pad(n: int, rng) -> np.ndarray:
    root = 110.0 * 2 ** (rng.integers(-3, 9) / 12)
    chord = [0, 3, 7, 10] if rng.random() < 0.5 else [0, 4, 7, 11]
    x = np.zeros(n)
    for s in chord:
        for det in (-0.08, 0.08):
            f = np.full(n, root * 2 ** ((s + det) / 12))
            x += _osc(f, "saw", rng)
    att = int(rng.uniform(0.05, 1.0) * SR)
    env = np.ones(n)
    env[: min(att, n)] = np.linspace(0, 1, min(att, n))
    return _lowpass(x * env, rng.uniform(400, 4000)).astype(np.float32)


def rms(x):
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-9)


def augment(x: np.ndarray, rng) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    # random EQ: a peaking-ish band via band-pass added/subtracted, plus shelves by filters
    if rng.random() < 0.5:
        lo, hi = sorted(rng.uniform(80, 8000, size=2))
        hi = max(hi, lo * 1.5)
        band = sosfilt(butter(2, [lo, min(hi, SR * 0.45)], "band", fs=SR, output="sos"), x)
        x = x + rng.uniform(-0.6, 1.0) * band
    if rng.random() < 0.25:
        x = sosfilt(butter(2, rng.uniform(20, 150), "high", fs=SR, output="sos"), x)
    if rng.random() < 0.2:
        x = sosfilt(butter(2, rng.uniform(5000, 11000), "low", fs=SR, output="sos"), x)
    # compression (feed-forward, RMS envelope) or soft clipping
    if rng.random() < 0.4:
        env = np.sqrt(_lowpass(x * x, 20, order=1).clip(1e-10) + 1e-10)
        thr = rms(x) * rng.uniform(0.8, 2.0)
        ratio = rng.uniform(2, 6)
        g = np.where(env > thr, (env / thr) ** (1 / ratio - 1), 1.0)
        x = x * g
    if rng.random() < 0.15:
        d = rng.uniform(1.5, 4)
        x = np.tanh(d * x / (np.max(np.abs(x)) + 1e-9)) / np.tanh(d)
    return x


def reverb(x: np.ndarray, rng) -> np.ndarray:
    from scipy.signal import fftconvolve

    rt = rng.uniform(0.2, 1.5)
    n = int(rt * SR)
    t = np.arange(n) / SR
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt)
    ir = _lowpass(ir, rng.uniform(2000, 9000), order=1)
    ir /= np.sqrt(np.sum(ir**2)) + 1e-9
    wet = fftconvolve(x, ir)[: len(x)]
    mix = rng.uniform(0.05, 0.35)
    return x + mix * wet * rms(x) / (rms(wet) + 1e-9)

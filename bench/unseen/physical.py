"""A physically modelled drum kit, for validation only: no training code uses it.

drumnet trains on recordings (Hydrogen kits, GM SoundFonts) and on oscillator/noise/FM
synthesis (``heihachi_train/drumnet/synth.py`` and ``voices.py``).  This engine makes
drums of another design, from the physics of struck membranes and plates:

- membranes (kick, snare batter, toms): the modes of an ideal circular membrane (the
  zeros of Bessel functions, ratios 1, 1.594, 2.136, 2.296, ...), each a damped
  sinusoid whose decay shortens with frequency, driven by a mallet contact pulse (a
  raised cosine 0.3-6 ms long: a soft beater excites fewer high modes), with the
  tension-modulation pitch glide of a hard strike;
- the snare wires: noise gated by the rectified displacement of the batter head
  (the wires rattle only while the membrane moves), band-limited by the shell;
- plates (hats, cymbals): 60-400 modes with the dispersive spacing of a thin plate
  (frequency growing with the square of the mode number, jittered), random
  amplitudes, decays from 10 ms (closed hat: two plates pressed together) to
  seconds (crash, ride), the ride's bell a few strong low partials;
- a Karplus-Strong drum (a noise-filled delay line whose feedback flips sign at
  random) for some snares and toms.

A "kit" is a seed: every instrument's geometry, damping and beater are drawn from it,
so ``physical_kit(3)`` always gives the same kit.  Sample rate: 24 kHz.
"""

from __future__ import annotations

import numpy as np

SR = 24_000
BESSEL_RATIOS = np.array([1.0, 1.594, 2.136, 2.296, 2.653, 2.918, 3.156, 3.501, 3.600,
                          3.652, 4.060, 4.154, 4.601, 4.832, 4.903, 5.131])


def _mallet(width_s: float) -> np.ndarray:
    n = max(2, int(width_s * SR))
    return np.sin(np.pi * np.arange(n) / n) ** 2


def _modes(n: int, freqs: np.ndarray, amps: np.ndarray, decays: np.ndarray,
           glide: float = 0.0, glide_s: float = 0.05, rng=None) -> np.ndarray:
    """Sum of damped sinusoids; ``glide`` raises every mode's pitch by that fraction at
    the strike, relaxing over ``glide_s`` (tension modulation)."""
    t = np.arange(n) / SR
    bend = 1.0 + glide * np.exp(-t / glide_s)
    phase = 2 * np.pi * np.cumsum(bend) / SR
    out = np.zeros(n)
    ph0 = rng.uniform(0, 2 * np.pi, size=len(freqs)) if rng is not None else np.zeros(len(freqs))
    for f, a, d, p in zip(freqs, amps, decays, ph0, strict=True):
        if f >= SR * 0.48:
            continue
        out += a * np.sin(f * phase + p) * np.exp(-t / d)
    return out


def _resonators(n: int, freqs: np.ndarray, amps: np.ndarray, decays: np.ndarray) -> np.ndarray:
    """A bank of two-pole resonators (fixed-pitch modes) rung by one impulse."""
    from scipy.signal import lfilter

    imp = np.zeros(n)
    imp[0] = 1.0
    out = np.zeros(n)
    for f, a, d in zip(freqs, amps, decays, strict=True):
        if f >= SR * 0.48:
            continue
        r = np.exp(-1.0 / (d * SR))
        w = 2 * np.pi * f / SR
        out += a * lfilter([np.sin(w)], [1.0, -2 * r * np.cos(w), r * r], imp)
    return out


def _strike(x: np.ndarray, width_s: float) -> np.ndarray:
    from scipy.signal import fftconvolve

    return fftconvolve(x, _mallet(width_s))[: len(x)]


def membrane(rng: np.random.Generator, f0: float, decay: float, n_modes: int = 12,
             glide: float = 0.0, strike_pos: float = 0.3) -> np.ndarray:
    """The membrane's impulse response (struck by :func:`_strike` afterwards)."""
    n = int(min(3.0, 5 * decay + 0.05) * SR)
    ratios = BESSEL_RATIOS[:n_modes] * rng.uniform(0.985, 1.015, size=n_modes)
    freqs = f0 * ratios
    # striking off-centre excites the higher modes more
    amps = np.exp(-np.arange(n_modes) * (1 - strike_pos) * 0.6) * rng.uniform(0.5, 1.0, n_modes)
    decays = decay / ratios ** rng.uniform(0.6, 1.4)
    return _modes(n, freqs, amps, decays, glide, rng.uniform(0.02, 0.1), rng)


def plate(rng: np.random.Generator, f_lo: float, f_hi: float, n_modes: int, decay: float,
          bell: float = 0.0) -> np.ndarray:
    """The plate's impulse response (struck by :func:`_strike` afterwards)."""
    n = int(min(3.0, 5 * decay + 0.02) * SR)
    k = np.arange(1, n_modes + 1)
    # plate dispersion: f ~ k^2, spread between f_lo and f_hi, jittered
    freqs = f_lo + (f_hi - f_lo) * (k / n_modes) ** 2 * rng.uniform(0.9, 1.1, n_modes)
    amps = rng.uniform(0.2, 1.0, n_modes) * (k / n_modes) ** rng.uniform(0.0, 0.5)
    decays = decay * rng.uniform(0.3, 1.0, n_modes) * (f_lo / freqs) ** 0.15
    x = _resonators(n, freqs, amps, decays)
    if bell > 0:
        bf = rng.uniform(500, 1200) * np.array([1.0, 2.32, 4.25])
        x += bell * _resonators(n, bf, np.array([1.0, 0.6, 0.3]) * np.abs(x).max(),
                                np.full(3, decay * 0.6))
    return x


def karplus_drum(rng: np.random.Generator, f0: float, decay_blend: float, n_s: float) -> np.ndarray:
    """Karplus-Strong drum: delay line of noise, averaged feedback with random sign flips
    (blend 0.5 = snare-like noise, near 1 = pitched)."""
    L = max(4, int(SR / f0))
    n = int(n_s * SR)
    y = np.zeros(n + L + 1)
    y[: L + 1] = rng.uniform(-1, 1, L + 1)
    pos = L + 1
    while pos < len(y):
        m = min(L, len(y) - pos)
        prev = 0.5 * (y[pos - L : pos - L + m] + y[pos - L - 1 : pos - L - 1 + m])
        sign = np.where(rng.random(m) < decay_blend, 1.0, -1.0)
        y[pos : pos + m] = prev * sign * 0.995
        pos += m
    return y[L + 1 : L + 1 + n]


def _band(x, lo, hi):
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(2, [lo, min(hi, SR * 0.45)], "band", fs=SR, output="sos"), x)


def _norm(x: np.ndarray) -> np.ndarray:
    fade = min(len(x) // 4, int(0.02 * SR))
    if fade:
        x[-fade:] *= np.linspace(1, 0, fade)
    return (x / (np.abs(x).max() + 1e-12)).astype(np.float32)


def instrument(cls: str, rng: np.random.Generator) -> list[tuple[np.ndarray, float, float]]:
    """One instrument of class ``cls``: its velocity layers ``[(audio, vmin, vmax)]``;
    one body (impulse response + noise parts), struck harder and with a narrower
    contact at higher velocities."""
    r = np.random.default_rng(rng.integers(1 << 31))
    body, width, extra = _voice(cls, r)
    layers = []
    for vmin, vmax, soft, gain in ((0.0, 0.45, 2.5, 0.35), (0.45, 0.8, 1.5, 0.7),
                                   (0.8, 1.0, 1.0, 1.0)):
        x = _strike(body, width * soft) if width else body.copy()
        x = x / (np.abs(x).max() + 1e-12)
        if extra is not None:
            x = x + extra / soft
        layers.append((_norm(x) * gain, vmin, vmax))
    return layers


def _decay_env(n: int, tau: float) -> np.ndarray:
    return np.exp(-np.arange(n) / (tau * SR))


def _voice(cls: str, r: np.random.Generator) -> tuple[np.ndarray, float, np.ndarray | None]:
    """(body, contact width in s or 0 for a self-excited body, added part or None)."""
    if cls == "kick":
        x = membrane(r, r.uniform(42, 75), r.uniform(0.15, 0.6), 10, glide=r.uniform(0.1, 0.8))
        click = _band(r.standard_normal(len(x)), 1500, 6000) * _decay_env(len(x), 0.002)
        return x, r.uniform(0.002, 0.006), click * r.uniform(0.05, 0.4)
    if cls == "snare":
        if r.random() < 0.3:
            x = karplus_drum(r, r.uniform(150, 300), r.uniform(0.45, 0.6), 0.5)
            return x * _decay_env(len(x), r.uniform(0.05, 0.15)), 0.0, None
        head = membrane(r, r.uniform(160, 260), r.uniform(0.06, 0.2), 14, glide=0.1)
        from scipy.ndimage import maximum_filter1d

        env = maximum_filter1d(np.abs(head), int(0.004 * SR))
        wires = _band(r.standard_normal(len(head)), r.uniform(1500, 3500), r.uniform(7000, 11000))
        wires *= env / (env.max() + 1e-12) * _decay_env(len(head), r.uniform(0.08, 0.25))
        wires /= np.abs(wires).max() + 1e-12
        mix = r.uniform(0.3, 0.8)
        return head, r.uniform(0.0005, 0.002), wires / mix
    if cls == "tom":
        if r.random() < 0.25:
            x = karplus_drum(r, r.uniform(80, 250), r.uniform(0.9, 0.99), 1.0)
            return x * _decay_env(len(x), r.uniform(0.15, 0.4)), 0.0, None
        return (membrane(r, r.uniform(75, 280), r.uniform(0.2, 0.8), 12,
                         glide=r.uniform(0.02, 0.3), strike_pos=r.uniform(0.4, 0.8)),
                r.uniform(0.0004, 0.0015), None)
    if cls == "hihat":
        open_ = r.random() < 0.3
        decay = r.uniform(0.25, 0.8) if open_ else r.uniform(0.015, 0.07)
        x = plate(r, r.uniform(2500, 5000), 11900.0, int(r.integers(60, 160)), decay)
        from scipy.signal import butter, sosfilt

        x = sosfilt(butter(2, r.uniform(3000, 7000), "high", fs=SR, output="sos"), x)
        return x, r.uniform(0.00005, 0.0002), None
    ride = r.random() < 0.5  # cymbal: crash or ride
    x = plate(r, r.uniform(300, 900), r.uniform(9000, 11900), int(r.integers(100, 220)),
              r.uniform(1.0, 2.5) if ride else r.uniform(0.8, 2.5),
              bell=r.uniform(0.05, 0.3) if ride else 0.0)
    return x, r.uniform(0.00005, 0.00025), None


def physical_kit(seed: int) -> dict[str, list[list[tuple[np.ndarray, float, float]]]]:
    """Kit ``seed``: class -> 2 instruments (3 for cymbals) -> velocity layers."""
    rng = np.random.default_rng([20_260, seed])
    return {c: [instrument(c, rng) for _ in range(3 if c == "cymbal" else 2)]
            for c in ("kick", "snare", "hihat", "tom", "cymbal")}

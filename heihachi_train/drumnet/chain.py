"""Production-chain augmentation for training: what mixing and mastering do to drums.

Real drum tracks reach a listener through a chain of processors that the clean
renders never showed the model: a low-pass near 3 kHz (a filter sweep, a muffled
intro), a telephone band, a high-pass, reverb, bus compression and sidechain pumping
keyed by the kick, saturation and hard clipping, bit-crushing, lossy codecs and other
sample rates.  Unseen material with one or two of these steps scored far below clean
material (issue 15), so training renders put the drums through random chains:

- :func:`stem_chain` on one class's drum stem (a bit-crushed snare, a saturated kick,
  hats high-passed or low-passed, a short room on the toms), before the stems are
  summed;
- :func:`mix_chain` on the whole mix (drums + beds), 1-3 steps in random order.

Each step's parameters are drawn from wide ranges on purpose; hit times never move
(every step is causal and zero-latency, or, for the codecs, delay-compensated by
libsndfile), so the labels stay exact.  Used only when ``render_clip(chain_p > 0)``:
nothing here draws from the clip's RNG otherwise, so older recipes render bit for bit.
"""

from __future__ import annotations

import io

import numpy as np

SR = 24_000


def _sos(kind: str, fc, order: int = 2):
    from scipy.signal import butter

    if isinstance(fc, tuple | list):
        lo, hi = fc
        hi = min(hi, SR * 0.45)
        lo = min(lo, hi * 0.7)
        return butter(order, [lo, hi], kind, fs=SR, output="sos")
    return butter(order, min(float(fc), SR * 0.45), kind, fs=SR, output="sos")


def _filt(x: np.ndarray, kind: str, fc, order: int = 2) -> np.ndarray:
    from scipy.signal import sosfilt

    return sosfilt(_sos(kind, fc, order), x)


def _norm_like(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``y`` at ``x``'s peak level (a step changes the sound, not the loudness)."""
    px = float(np.max(np.abs(x))) if len(x) else 0.0
    py = float(np.max(np.abs(y))) if len(y) else 0.0
    return y * (px / py) if py > 1e-12 else y


def lowpass(x: np.ndarray, rng: np.random.Generator, lo: float = 1800.0,
            hi: float = 9000.0) -> np.ndarray:
    fc = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    return _filt(x, "low", fc, int(rng.choice([2, 4, 6])))


def highpass(x: np.ndarray, rng: np.random.Generator, lo: float = 60.0,
             hi: float = 1200.0) -> np.ndarray:
    fc = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    return _filt(x, "high", fc, int(rng.choice([2, 4])))


def telephone(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A narrow band-pass (telephone, radio, laptop speaker): about 300-3400 Hz."""
    lo = rng.uniform(200, 600)
    hi = rng.uniform(2500, 4500)
    return _filt(x, "band", (lo, hi), int(rng.choice([2, 3, 4])))


def thin(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A thin band on the whole mix: a steep high-pass at 150-700 Hz (a laptop or phone
    speaker, a DJ's low cut) or a narrow telephone band.  Both take the kick's body and
    leave its click, so the kick has to be told by its attack and its place in the
    groove.  Drawn per clip by ``render_clip(thin_p=...)``, on top of :func:`mix_chain`,
    whose own high-pass and telephone steps are rare and mostly gentle."""
    if rng.random() < 0.6:
        fc = float(np.exp(rng.uniform(np.log(150.0), np.log(700.0))))
        return _filt(x, "high", fc, int(rng.choice([4, 6, 8])))
    return telephone(x, rng)


def peaking(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A broad boost or cut of one band (an EQ move)."""
    lo = float(np.exp(rng.uniform(np.log(60), np.log(8000))))
    band = _filt(x, "band", (lo, lo * rng.uniform(1.5, 4.0)))
    return x + rng.uniform(-0.9, 2.0) * band


def saturate(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Tape/tube-like soft saturation, asymmetric drive, hard clipping or wave folding."""
    peak = float(np.max(np.abs(x))) + 1e-12
    y = x / peak
    kind = int(rng.integers(4))
    drive = float(np.exp(rng.uniform(np.log(1.5), np.log(20.0))))
    if kind == 0:
        y = np.tanh(drive * y)
    elif kind == 1:
        bias = rng.uniform(0.05, 0.4)
        y = np.tanh(drive * y + bias) - np.tanh(bias)
    elif kind == 2:  # hard clip: the loudest hits flattened
        y = np.clip(drive * y, -1.0, 1.0)
    else:  # wave folding
        y = np.sin(np.pi / 2 * np.clip(drive * y, -3, 3))
    return _norm_like(y, x)


def bitcrush(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Quantise to 3-10 bits and hold samples (a decimator without anti-alias filter)."""
    peak = float(np.max(np.abs(x))) + 1e-12
    bits = int(rng.integers(3, 11))
    hold = int(rng.choice([1, 1, 2, 3, 4, 6]))
    y = x / peak
    if hold > 1:
        idx = (np.arange(len(y)) // hold) * hold
        y = y[idx]
    q = 2.0 ** (bits - 1)
    return np.round(y * q) / q * peak


def compress(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Feed-forward compressor (peak detector, attack/release in the gain domain), fast
    attacks included: they flatten transients, which is what hurts onset detection."""
    from scipy.signal import lfilter

    peak = float(np.max(np.abs(x))) + 1e-12
    level = np.abs(x) / peak
    release = rng.uniform(0.02, 0.4)
    a = np.exp(-1.0 / (release * SR))
    env = lfilter([1 - a], [1, -a], level)  # smoothed level (release-dominated)
    env = np.maximum(env, 1e-6)
    thr = 10 ** (rng.uniform(-30, -6) / 20)
    ratio = rng.uniform(2, 20)
    gain_db = np.minimum(0.0, (20 * np.log10(env / thr)) * (1 / ratio - 1))
    att = rng.uniform(0.0005, 0.03)
    b = np.exp(-1.0 / (att * SR))
    gain_db = lfilter([1 - b], [1, -b], gain_db)  # attack smoothing of the gain
    y = x * 10 ** (gain_db / 20)
    return _norm_like(y, x)


def pump(x: np.ndarray, rng: np.random.Generator, times: np.ndarray) -> np.ndarray:
    """Sidechain pumping: the signal ducks by 4-20 dB at each of ``times`` (the kicks)
    and recovers over 60-400 ms, as a compressor keyed by the kick does to a bass/pad."""
    if len(times) == 0:
        return x
    depth = 10 ** (-rng.uniform(4, 20) / 20)
    rel = rng.uniform(0.06, 0.4)
    att = rng.uniform(0.001, 0.01)
    duck = np.zeros(len(x))
    n = int(4 * rel * SR)
    t = np.arange(n) / SR
    shape = np.minimum(1.0, t / att) * np.exp(-np.maximum(0.0, t - att) / (rel / 3))
    shape = np.maximum(0.0, shape)
    for s in (np.asarray(times) * SR).astype(int):
        if 0 <= s < len(x):
            m = min(n, len(x) - s)
            duck[s : s + m] = np.maximum(duck[s : s + m], shape[:m])
    return x * (1 - (1 - depth) * duck)


def room(x: np.ndarray, rng: np.random.Generator, lo: float = 0.1,
         hi: float = 2.5) -> np.ndarray:
    """Reverb: decaying noise impulse response with pre-delay and damping, wet mix
    up to fully drowned."""
    from scipy.signal import fftconvolve

    rt = float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
    n = int(rt * SR)
    t = np.arange(n) / SR
    ir = rng.standard_normal(n) * np.exp(-6.9 * t / rt)
    ir = _filt(ir, "low", rng.uniform(1500, 10000), 1)
    pre = int(rng.uniform(0, 0.03) * SR)
    ir = np.concatenate([np.zeros(pre), ir])
    ir /= np.sqrt(np.sum(ir**2)) + 1e-9
    wet = fftconvolve(x, ir)[: len(x)]
    rx = float(np.sqrt(np.mean(x**2))) + 1e-12
    rw = float(np.sqrt(np.mean(wet**2))) + 1e-12
    return x + rng.uniform(0.1, 1.2) * wet * rx / rw


def resample_trip(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Down to 8-22.05 kHz and back (a lower sample rate's missing top octave)."""
    import soxr

    rate = float(rng.choice([8000, 11025, 16000, 22050]))
    y = soxr.resample(soxr.resample(x, SR, rate), rate, SR)
    out = np.zeros_like(x)
    out[: min(len(x), len(y))] = y[: len(x)]
    return out


def codec(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MP3 or Ogg Vorbis round trip at a random quality (libsndfile; delay-free)."""
    import soundfile as sf

    peak = float(np.max(np.abs(x))) + 1e-12
    fmt = "MP3" if rng.random() < 0.6 else "OGG"
    level = float(rng.uniform(0.3, 1.0))
    buf = io.BytesIO()
    sf.write(buf, (x / peak * 0.9).astype(np.float32), SR, format=fmt,
             compression_level=level, **({"subtype": "VORBIS"} if fmt == "OGG" else {}))
    buf.seek(0)
    y, _ = sf.read(buf, dtype="float32")
    out = np.zeros(len(x))
    out[: min(len(x), len(y))] = y[: len(x)]
    return out * (peak / 0.9)


#: Steps applied to one class's stem, with their odds.
STEM_STEPS = (("lowpass", 0.15), ("highpass", 0.12), ("peaking", 0.15),
              ("saturate", 0.18), ("bitcrush", 0.12), ("compress", 0.15), ("room", 0.13))
#: Steps applied to the whole mix, with their odds.
MIX_STEPS = (("lowpass", 0.16), ("telephone", 0.08), ("highpass", 0.08), ("peaking", 0.07),
             ("room", 0.1), ("compress", 0.12), ("pump", 0.08), ("saturate", 0.1),
             ("bitcrush", 0.06), ("resample", 0.07), ("codec", 0.08))


def _pick(steps, rng: np.random.Generator, k: int) -> list[str]:
    names = [s for s, _ in steps]
    p = np.array([w for _, w in steps])
    return [str(s) for s in rng.choice(names, size=k, replace=False, p=p / p.sum())]


def stem_chain(x: np.ndarray, cls: str, rng: np.random.Generator) -> np.ndarray:
    """One or two random steps on the stem of class ``cls``."""
    for step in _pick(STEM_STEPS, rng, int(rng.integers(1, 3))):
        if step == "lowpass":  # never below 4 kHz on cymbals/hats: a stem keeps its band
            x = lowpass(x, rng, lo=4000.0 if cls in ("hihat", "cymbal") else 1200.0)
        elif step == "highpass":
            x = highpass(x, rng, hi=4000.0 if cls in ("hihat", "cymbal") else 400.0)
        elif step == "room":
            x = room(x, rng, 0.08, 1.2)
        else:
            x = STEP_FUNCS[step](x, rng)
    return x


def mix_chain(x: np.ndarray, rng: np.random.Generator, kicks: np.ndarray) -> np.ndarray:
    """One to three random steps on the mix ``x`` (float64); ``pump`` ducks the whole
    mix at the ``kicks`` times (a bus compressor keyed by the kick; the renderer also
    pumps the beds alone, see ``render_clip``)."""
    k = int(rng.choice([1, 1, 2, 2, 3]))
    for step in _pick(MIX_STEPS, rng, k):
        if step == "pump":
            x = pump(x, rng, kicks)
        elif step == "lowpass":
            x = lowpass(x, rng, 1800.0, 7000.0)
        else:
            x = STEP_FUNCS[step](x, rng)
    return x


STEP_FUNCS = {"lowpass": lowpass, "highpass": highpass, "telephone": telephone,
              "peaking": peaking, "saturate": saturate, "bitcrush": bitcrush,
              "compress": compress, "room": room, "resample": resample_trip, "codec": codec}

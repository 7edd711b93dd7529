"""Compact spectral features of audio: STFT magnitudes, log bands and chroma.

The whole-track analyses (sections, key, mix transitions) work from a few numbers per
frame at 5-10 frames per second, never from the audio: a 60-minute mix is then tens of
thousands of small rows. Everything here is plain numpy on one window of audio; the
callers cut long files into windows and stitch the frames by time.
"""

from __future__ import annotations

import functools

import numpy as np

A4_MIDI = 69
A4_HZ = 440.0


def stft_magnitude(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """``[frames, n_fft // 2 + 1]`` magnitudes of mono ``x``; frame ``k`` is centred on
    sample ``k * hop`` (zero padding at both ends), Hann-windowed."""
    x = np.asarray(x, dtype=np.float32).ravel()
    n_frames = 1 + len(x) // hop if len(x) else 0
    if n_frames == 0:
        return np.zeros((0, n_fft // 2 + 1), np.float32)
    pad = n_fft // 2
    padded = np.zeros(len(x) + 2 * pad + n_fft, np.float32)
    padded[pad:pad + len(x)] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop][:n_frames]
    window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
    out = np.empty((n_frames, n_fft // 2 + 1), np.float32)
    step = 512  # bounded temporary memory for long windows
    for i in range(0, n_frames, step):
        out[i:i + step] = np.abs(np.fft.rfft(frames[i:i + step] * window, axis=1))
    return out


@functools.cache
def band_matrix(sample_rate: int, n_fft: int, n_bands: int, fmin: float,
                fmax: float) -> np.ndarray:
    """``[n_bins, n_bands]`` triangular filters on a log-frequency axis (a mel-like bank
    whose bands are equally wide in octaves, so a bass band is not one FFT bin)."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    fmax = min(fmax, sample_rate / 2)
    edges = np.geomspace(fmin, fmax, n_bands + 2)
    # at least 1.5 bins wide, so low bands always collect some energy
    width = max(1.5 * sample_rate / n_fft, 0.0)
    m = np.zeros((len(freqs), n_bands), np.float32)
    for b in range(n_bands):
        lo, centre, hi = edges[b], edges[b + 1], edges[b + 2]
        lo, hi = min(lo, centre - width), max(hi, centre + width)
        up = (freqs - lo) / max(centre - lo, 1e-9)
        down = (hi - freqs) / max(hi - centre, 1e-9)
        m[:, b] = np.clip(np.minimum(up, down), 0.0, None)
    return m / np.maximum(m.sum(axis=0, keepdims=True), 1e-9)


def log_bands(power: np.ndarray, sample_rate: int, n_fft: int, n_bands: int = 24,
              fmin: float = 30.0, fmax: float = 11_000.0) -> np.ndarray:
    """``[frames, n_bands]`` log10 band energies of a power spectrogram."""
    m = band_matrix(sample_rate, n_fft, n_bands, fmin, fmax)
    return np.log10(power @ m + 1e-10).astype(np.float32)


#: The pitch range of :func:`semitone_spectrum`: MIDI 28 (E1, a bass's low E) to 99.
PITCH_RANGE: tuple[int, int] = (28, 100)


@functools.cache
def semitone_matrix(sample_rate: int, n_fft: int, pmin: int = PITCH_RANGE[0],
                    pmax: int = PITCH_RANGE[1]) -> np.ndarray:
    """``[n_bins, pmax - pmin]`` weights folding FFT bins onto equal-tempered semitones.

    A bin counts for the semitone its frequency is nearest to (A4 = 440 Hz), weighted
    ``cos^2`` of its distance in semitones, so energy between two notes (noise,
    detuning) counts little.
    """
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    m = np.zeros((len(freqs), pmax - pmin), np.float32)
    ok = freqs > 0
    midi = A4_MIDI + 12 * np.log2(freqs[ok] / A4_HZ)
    nearest = np.round(midi)
    inside = (nearest >= pmin) & (nearest < pmax)
    rows = np.flatnonzero(ok)[inside]
    m[rows, (nearest[inside] - pmin).astype(int)] = np.cos(np.pi * (midi - nearest)[inside]) ** 2
    return m


def peak_spectrum(mag: np.ndarray) -> np.ndarray:
    """Keep only local maxima along frequency (spectral peaks: the partials of notes),
    and only those above 1.5x the local mean: drums and noise fill every bin, tones
    stand out as peaks."""
    from scipy.ndimage import uniform_filter1d

    left = np.zeros_like(mag)
    left[:, 1:] = mag[:, :-1]
    right = np.zeros_like(mag)
    right[:, :-1] = mag[:, 1:]
    peaks = (mag >= left) & (mag > right)
    floor = uniform_filter1d(mag, size=31, axis=1, mode="nearest")
    return np.where(peaks & (mag > 1.5 * floor), mag, 0.0).astype(np.float32)


def semitone_spectrum(mag: np.ndarray, sample_rate: int, n_fft: int) -> np.ndarray:
    """``[frames, 72]`` amplitude of each semitone of :data:`PITCH_RANGE`, from the
    spectral peaks of a magnitude spectrogram (``n_fft`` of 8192 at 22.05 kHz resolves
    semitones down to the bass register)."""
    peaks = peak_spectrum(mag)
    return np.sqrt((peaks ** 2) @ semitone_matrix(sample_rate, n_fft)).astype(np.float32)


def fold_octaves(semitones: np.ndarray, pmin: int = PITCH_RANGE[0]) -> np.ndarray:
    """``[..., P]`` semitone values -> ``[..., 12]`` pitch classes (C = 0), summed."""
    out = np.zeros((*semitones.shape[:-1], 12), np.float64)
    for j in range(semitones.shape[-1]):
        out[..., (pmin + j) % 12] += semitones[..., j]
    return out

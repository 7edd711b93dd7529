"""A model-free spectral fingerprint extractor: robust, offline, no weights.

Each frame summarises one second of audio (hop 0.5 s) as three L2-normalised
blocks: the band profile of the log-mel spectrum with each STFT frame's mean
removed (so a gain change, which adds a constant in log space, cancels), the
per-band spread over time (also gain-free), and the autocorrelation of the
onset envelope (rhythm). Mean-pooled over a segment it identifies a track
through re-encoding, resampling, gain changes and trims, which is what
duplicate search needs; it is no substitute for a learned embedding when the
question is "what sounds alike".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import heihachi
from heihachi.tasks import AudioBatch, FeatureExtractor


class SpectralFingerprint(FeatureExtractor):
    """Gain-invariant log-mel + rhythm fingerprints (model-free, offline)."""

    name = "spectral"
    sample_rate = 22_050
    window_s = 60.0
    hop_s = 59.0  # 1 s overlap: each window's edge frames see full context

    @dataclass
    class Config:
        n_mels: int = 64
        block_s: float = 1.0
        block_hop_s: float = 0.5
        pooling: str = "mean"
        #: log-mel floor, dB below the window's loudest band (null: an absolute floor).
        #: Bands near digital silence hold only noise, which re-encoding, resampling or
        #: a mono downmix change completely; floored, they stop deciding the match.
        floor_db: float | None = 50.0

    def load(self) -> None:
        import numpy as np

        self.n_fft, self.hop = 2048, 512
        self.mel = _mel_filterbank(self.sample_rate, self.n_fft, self.config.n_mels)
        # Framing by a strided view + numpy's FFT is kept, not a library STFT: scipy's
        # ShortTimeFFT takes 1.8x as long, and torch.stft, though faster, is not
        # bit-identical, which would move the fingerprints of existing indexes
        # (bench/dsp_choices.py measures both).
        self.hann = np.hanning(self.n_fft).astype(np.float32)

    def embed(self, batch: AudioBatch) -> list[Any]:
        return [self._embed_one(x.float().cpu().numpy()) for x in batch.unpadded()]

    def _embed_one(self, x: Any) -> Any:
        import numpy as np

        from heihachi.results import Embeddings

        if len(x) < self.n_fft:
            x = np.pad(x, (0, self.n_fft - len(x)))
        frames = np.lib.stride_tricks.sliding_window_view(x, self.n_fft)[:: self.hop]
        spec = np.abs(np.fft.rfft(frames * self.hann, axis=1)) ** 2
        power = spec @ self.mel.T  # [F, n_mels]
        floor = 1e-8  # relative to the loudest band: still gain-invariant
        if self.config.floor_db is not None and power.size:
            floor = max(floor, float(power.max()) * 10 ** (-self.config.floor_db / 10))
        logmel = np.log(power + floor)
        rel = logmel - logmel.mean(axis=1, keepdims=True)
        onset = np.maximum(np.diff(logmel, axis=0, prepend=logmel[:1]), 0).mean(axis=1)
        fps = self.sample_rate / self.hop
        block, step = round(self.config.block_s * fps), max(1, round(self.config.block_hop_s * fps))
        starts = list(range(0, max(1, len(rel) - block + 1), step))
        vectors, stamps = [], []
        for s in starts:
            r, lm, on = rel[s:s + block], logmel[s:s + block], onset[s:s + block]
            on = on - on.mean()
            ac = np.correlate(on, on, "full")[len(on):len(on) + 40]
            ac = np.pad(ac, (0, 40 - len(ac))) / (on @ on + 1e-8)
            parts = [r.mean(axis=0), lm.std(axis=0), ac]
            vectors.append(np.concatenate([p / (np.linalg.norm(p) + 1e-8) for p in parts]))
            stamps.append((s + min(block, len(rel)) / 2) / fps)
        return Embeddings(frames=np.asarray(vectors, np.float32), timestamps=np.asarray(stamps),
                          pooling=self.config.pooling)


def _mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float = 30.0) -> Any:
    """Triangular mel filters ``[n_mels, n_fft // 2 + 1]`` (htk mel scale, Slaney area norm).

    torchaudio's ``melscale_fbanks``, computed in float64 and stored as float32: that is
    bit for bit the filterbank this plugin built by hand before, so fingerprints (and
    indexes built from them) do not change. torchaudio takes its dtype from torch's
    default, hence the switch around the call.
    """
    import torch
    from torchaudio.functional import melscale_fbanks

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        bank = melscale_fbanks(n_fft // 2 + 1, f_min=fmin, f_max=sr / 2 * 0.95, n_mels=n_mels,
                               sample_rate=sr, norm="slaney", mel_scale="htk")
    finally:
        torch.set_default_dtype(previous)
    return bank.T.numpy().astype("float32")


@heihachi.hookimpl
def register_extractors(register: Any) -> None:
    register(SpectralFingerprint)

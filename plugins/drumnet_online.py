"""drumnet-online: the causal beat tracker (issue 18), block by block.

A causal drumnet (forward-only GRU; ``heihachi/drumnet-online-v1``) runs on the stream
through ``drumnet/stream.py`` (stateful resampling to 24 kHz, incremental mel frames,
rolling conv window, one GRU step per frame) and its beat/downbeat activations go
through the forward-only beat HMM of :mod:`heihachi.music.online_beats`.  The latency
budget ``latency_s`` is split: the model needs ``lookahead_s`` (half an STFT window and
one frame per conv layer: 0.103 s for the shipped model) and the decoder gets the rest,
in whole frames, as hindsight before it decides a beat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import heihachi
from heihachi.errors import ConfigError
from heihachi.tasks import OnlineBeatTracker

MODEL_ID = "heihachi/drumnet-online-v1"


@dataclass
class DrumNetOnlineConfig:
    model: str = MODEL_ID
    latency_s: float = 0.15  # >= the model's look-ahead (0.103 s); the rest is the decoder's
    min_bpm: float = 60.0
    max_bpm: float = 200.0
    prior_bpm: float = 150.0  # centre of the tempo prior (drum & bass: 160-180 over 80-90)
    reentry: float = 1e-5  # share of the posterior re-spread per frame (tempo changes)
    tempo_bias: float = 2.0  # the tempo prior applied again at every beat, to this power
    support_threshold: float = 0.1  # activation needed within 0.6 beat periods (silence: .055)
    silence_threshold: float = 0.2  # beat activation peak (last 1.5 s) below which: silent
    octave_hold_s: float = 8.0  # a x2 / x1/2 tempo must last this long to be reported
    beats_per_bar: int = 4


class DrumNetOnline(OnlineBeatTracker):
    """drumnet-online: causal drumnet activations + forward-only beat HMM, block by block."""

    name = "drumnet-online"
    sample_rate = 24_000
    default_model = MODEL_ID
    tiny_model: ClassVar[str] = "tiny/drumnet-online"
    Config = DrumNetOnlineConfig

    model: Any = None

    def load(self) -> None:
        from heihachi.plugins.drumnet.model import load_drumnet

        path = self.resolve_model(self.config.model)
        model = load_drumnet(path, "cpu")  # one frame at a time: the CPU is the device
        if not model.causal:
            raise ConfigError(f"online-beat-tracker.model={self.config.model}: not a causal "
                              "drumnet (its config.json lacks \"causal\": true)")
        self.model = model
        self.fps = float(model.fps)

    def open(self, sample_rate: int) -> None:
        from heihachi.music.online_beats import OnlineBeatDecoder
        from heihachi.plugins.drumnet.stream import StreamingDrumNet

        if int(sample_rate) <= 0:
            raise ConfigError(f"sample_rate={sample_rate}: must be > 0")
        if self.model is None:
            self.load()
        self.input_rate = int(sample_rate)
        self.stream = StreamingDrumNet(self.model, self.input_rate, heads=("beats",))
        cfg = self.config
        spare = self.latency_s - self.stream.lookahead_s
        if spare < -1e-9:
            raise ConfigError(f"online-beat-tracker.latency_s={self.latency_s}: below the "
                              f"model's look-ahead of {self.stream.lookahead_s:.3f} s")
        self.lag = int(math.floor(max(spare, 0.0) * self.fps + 1e-6))  # noqa: RUF046
        self.decoder = OnlineBeatDecoder(
            fps=self.fps, min_bpm=cfg.min_bpm, max_bpm=cfg.max_bpm, lag=self.lag,
            reentry=cfg.reentry, prior_bpm=cfg.prior_bpm, tempo_bias=cfg.tempo_bias,
            support_threshold=cfg.support_threshold,
            silence_threshold=cfg.silence_threshold, octave_hold_s=cfg.octave_hold_s,
            beats_per_bar=cfg.beats_per_bar)
        self.reset()

    def reset(self) -> None:
        self.stream.reset()
        self.decoder.reset()
        self.n_fed = 0

    @staticmethod
    def _mono(block: Any) -> Any:
        import numpy as np

        x = np.asarray(block, dtype=np.float32)
        if x.ndim == 2:
            x = x.mean(axis=1)
        elif x.ndim != 1:
            raise ValueError(f"a block is [n] or [n, channels], got shape {x.shape}")
        return x

    def _events(self, acts: dict) -> list[Any]:
        from heihachi.streaming.events import BeatEvent

        if not acts:
            return []
        now = self.n_fed / self.input_rate
        out = []
        for b, d in acts["beats"]:
            for beat in self.decoder.step(float(b), float(d)):
                out.append(BeatEvent(t=beat.frame / self.fps, beat=beat.beat,
                                     downbeat=beat.downbeat, bpm=round(beat.bpm, 3),
                                     confidence=round(beat.confidence, 4), emitted_at=now))
        return out

    def process(self, block: Any) -> list[Any]:
        x = self._mono(block)
        self.n_fed += len(x)
        return self._events(self.stream.push(x))

    def flush(self) -> list[Any]:
        import numpy as np

        out = self._events(self.stream.flush())
        # the decoder's hindsight after the last frame: silence, as the padding
        pad = {"beats": np.zeros((self.lag, 2), np.float32)}
        return out + self._events(pad)

    @classmethod
    def make_tiny(cls, cache_dir: Any) -> list[Any]:
        from heihachi.plugins.drumnet.model import make_tiny

        return [make_tiny(cache_dir / "tiny" / "drumnet-online", causal=True)]


@heihachi.hookimpl
def register_online_beat_trackers(register: Any) -> None:
    register(DrumNetOnline)

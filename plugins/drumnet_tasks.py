"""The default drum transcriber and beat tracker, both on the project's own drumnet model.

drumnet (``plugins/drumnet/``) is a small CRNN trained here on renders of the real
drum recordings in Debian's hydrogen-drumkits; one forward pass gives onset
activations for kick/snare/hihat/tom/cymbal, velocities, and beat/downbeat
activations. The transcriber peak-picks hits per window and decodes beats over
the whole file in ``finish()`` (tempo needs the whole file, and a tempo curve
needs all of it); the beat tracker runs the same model for ``hf beats`` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import heihachi
from heihachi.tasks import AudioBatch, BeatTracker, DrumTranscriber

MODEL_ID = "heihachi/drumnet-v1"


@dataclass
class DrumNetConfig:
    model: str = MODEL_ID
    beats: bool = True  # decode beats/downbeats/tempo together with the hits
    min_bpm: float = 60.0
    max_bpm: float = 200.0
    threshold_scale: float = 1.0  # <1 finds more (quieter) hits, >1 fewer
    window_s: float = 30.0
    hop_s: float = 28.0


class _DrumNetBase:
    """Loading and inference shared by the two plugins."""

    sample_rate = 24_000
    default_model = MODEL_ID
    tiny_model: ClassVar[str] = "tiny/drumnet"
    batch_equal_lengths = True  # the bidirectional GRU would see zero padding
    config: Any
    device: Any

    def load(self) -> None:
        from heihachi.plugins.drumnet.model import load_drumnet

        self.model = load_drumnet(self.resolve_model(self.config.model), self.device)  # type: ignore[attr-defined]
        self.sample_rate = self.model.sample_rate
        self.fps = float(self.model.fps)
        self.hop = int(self.model.hop_length)

    def window(self) -> tuple[float | None, float | None]:
        return self.config.window_s, self.config.hop_s

    def _activations(self, batch: AudioBatch) -> list[dict[str, Any]]:
        out = self.model(batch.audio.float())
        rows = []
        for b, n in enumerate(batch.lengths):
            frames = n // self.hop + 1
            rows.append({k: v[b, :frames].float().cpu().numpy() for k, v in out.items()})
        return rows

    def _decode_beats(self, act: Any) -> Any:
        from heihachi.music.beat_decoding import decode_beats
        from heihachi.results import Beats

        if act is None or len(act.values) == 0:
            return Beats(beats=[], downbeats=[])
        beats, downbeats = decode_beats(act.values[:, 0], act.values[:, 1], act.fps,
                                        min_bpm=self.config.min_bpm,
                                        max_bpm=self.config.max_bpm)
        return Beats(beats=beats + act.start, downbeats=downbeats + act.start)

    @classmethod
    def make_tiny(cls, cache_dir: Any) -> list[Any]:
        from heihachi.plugins.drumnet.model import make_tiny

        return [make_tiny(cache_dir / "tiny" / "drumnet")]


class DrumNetTranscriber(_DrumNetBase, DrumTranscriber):
    """drumnet: kick/snare/hihat/tom/cymbal hits with velocity, plus beats (offline)."""

    name = "drumnet"
    window_s = 30.0
    hop_s = 28.0
    Config = DrumNetConfig

    def transcribe(self, batch: AudioBatch) -> list[Any]:
        from heihachi.plugins.drumnet.decode import activations_to_hits
        from heihachi.results import Activations, DrumHit, DrumHits

        scale = self.config.threshold_scale
        thresholds = {c: min(0.99, t * scale) for c, t in self.model.thresholds.items()}
        results = []
        for row in self._activations(batch):
            hits = [DrumHit(t, cls, conf, vel, cls) for t, cls, conf, vel in
                    activations_to_hits(row["onsets"], row["velocity"], self.fps, thresholds,
                                        suppress=self.model.suppress)]
            acts = Activations(row["beats"], self.fps) if self.config.beats else None
            results.append(DrumHits(hits, activations=acts))
        return results

    def finish(self, result: Any, duration: float | None) -> Any:
        if result.activations is not None:
            result.beats = self._decode_beats(result.activations)
            result.activations = None
        return result


class DrumNetBeats(_DrumNetBase, BeatTracker):
    """drumnet beats: beat/downbeat activations decoded with a tempo-aware DP (offline)."""

    name = "drumnet"
    window_s = 30.0
    hop_s = 28.0
    Config = DrumNetConfig

    def track(self, batch: AudioBatch) -> list[Any]:
        from heihachi.results import Activations

        return [Activations(row["beats"], self.fps) for row in self._activations(batch)]

    def finish(self, result: Any, duration: float | None) -> Any:
        return self._decode_beats(result)


@heihachi.hookimpl
def register_drum_models(register: Any) -> None:
    register(DrumNetTranscriber)


@heihachi.hookimpl
def register_beat_trackers(register: Any) -> None:
    register(DrumNetBeats)

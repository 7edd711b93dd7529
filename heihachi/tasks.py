"""The plugin base classes: one per kind, each with one batched method.

A plugin author subclasses one of these, sets the class attributes, declares a
``Config`` dataclass of its own settings and writes the one method. The runtime
does everything else: it decodes, resamples to ``sample_rate``, mixes to
``channels``, cuts files into ``window_s`` windows, batches windows across
files, moves the batch to the device and stitches window results per file.
A plugin never opens files or picks devices.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import torch

    from heihachi.analysis_results import Frames, KeyEstimate, Sections
    from heihachi.results import (
        Beats,
        Captions,
        DrumHits,
        Embeddings,
        SegmentEmbeddings,
        Stems,
    )


@dataclass
class AudioBatch:
    """Windows of audio from one or more files, padded to the same length.

    Attributes:
        audio: ``[B, T]`` for mono plugins, ``[B, C, T]`` for stereo ones; float32,
            already on the plugin's device.
        lengths: valid samples of each row (the rest is zero padding).
        sample_rate: the plugin's ``sample_rate``.
        starts: start of each window in its file, seconds (for plugins that care).
    """

    audio: torch.Tensor
    lengths: list[int]
    sample_rate: int
    starts: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lengths)

    def unpadded(self) -> Iterator[torch.Tensor]:
        """Each row without its padding."""
        for row, n in zip(self.audio, self.lengths, strict=True):
            yield row[..., :n]


class Plugin:
    """What every plugin kind shares.

    Class attributes:
        kind: the plugin kind (set by the base classes below).
        name: the name users select it by (``beats=<name>``).
        sample_rate: the rate the runtime resamples input to.
        channels: 1 (mono mix) or 2 (stereo; mono input is duplicated).
        window_s: window length for long files; ``None`` = the whole file at once.
        hop_s: window hop; ``None`` = ``window_s`` (no overlap).
        default_model: hub id or path of the default weights, shown by ``plugins``.
    """

    kind: ClassVar[str] = ""
    name: ClassVar[str] = ""
    sample_rate: ClassVar[int] = 16_000
    channels: ClassVar[int] = 1
    window_s: ClassVar[float | None] = None
    hop_s: ClassVar[float | None] = None
    default_model: ClassVar[str | None] = None
    #: True if zero padding changes a model's output (e.g. group norm over time): the
    #: runtime then batches only windows of equal length, so results never depend on
    #: which other files shared a batch (or on the number of processes).
    batch_equal_lengths: ClassVar[bool] = False

    @dataclass
    class Config:
        """Settings of this plugin (override in subclasses)."""

    def __init__(self, config: Any = None, device: Any = "cpu",
                 cache_dir: Path | None = None, offline: bool = False) -> None:
        self.config = config if config is not None else self.Config()
        self.device = device
        self.cache_dir = cache_dir
        self.offline = offline

    def resolve_model(self, ref: str | None = None, revision: str | None = None) -> Path:
        """Local directory of ``ref`` (default: this plugin's model), via the models cache."""
        from heihachi.models import resolve

        ref = ref or self.model_id()
        if not ref:
            raise ValueError(f"plugin {self.name!r} names no model")
        return resolve(ref, self.cache_dir, self.offline, revision)

    @classmethod
    def fetch_model(cls, ref: str, cache_dir: Path) -> Path | None:
        """Download weights this plugin knows by a name of its own (not a hub id).

        ``models fetch REF`` asks every plugin in turn; the first that returns a path
        has fetched ``ref`` into ``cache_dir``. The default knows no names: plugins
        whose weights are hub ids are fetched by the hub path instead.
        """
        return None

    @classmethod
    def verify_model(cls, path: Path) -> list[str] | None:
        """Load the model at ``path`` with this plugin's own loader (``models verify``).

        Returns the problems found (empty: it loads), or None when ``path`` is not a
        model in this plugin's format, so another plugin or the generic check (weights
        open with safetensors or ``torch.load(weights_only=True)``) decides.
        """
        return None

    def load(self) -> None:
        """Load weights; called once, before the first batch. Override to do heavy work."""

    def model_id(self) -> str | None:
        """The weights this instance uses (recorded in every output)."""
        return getattr(self.config, "model", None) or self.default_model

    def window(self) -> tuple[float | None, float | None]:
        """``(window_s, hop_s)`` for this instance; plugins may read them from config."""
        return self.window_s, self.hop_s

    def finish(self, result: Any, duration: float | None) -> Any:
        """Post-process one file's stitched result (e.g. decode beats over the whole file).

        Called once per file after its windows are joined; the default returns it as is.
        """
        return result


class FeatureExtractor(Plugin):
    """Audio -> frame embeddings ``[T, D]`` + timestamps (+ scene embedding)."""

    kind = "extractor"

    def embed(self, batch: AudioBatch) -> list[Embeddings]:
        raise NotImplementedError


class BeatTracker(Plugin):
    """Audio -> beat and downbeat times."""

    kind = "beats"

    def track(self, batch: AudioBatch) -> list[Beats]:
        raise NotImplementedError


class DrumTranscriber(Plugin):
    """Audio -> drum hits with class, confidence and velocity."""

    kind = "drums"

    def transcribe(self, batch: AudioBatch) -> list[DrumHits]:
        raise NotImplementedError


class StemSeparator(Plugin):
    """Audio -> separated stems.

    ``sources``: the stems the loaded model produces, set by ``load()``, so a request
    for a stem it lacks (``--stems``) fails before any file is separated (None: not
    known before the first result).
    """

    kind = "separator"
    channels = 2
    sources: list[str] | None = None

    def separate(self, batch: AudioBatch) -> list[Stems]:
        raise NotImplementedError


class Captioner(Plugin):
    """Audio -> text per segment."""

    kind = "captioner"

    def caption(self, batch: AudioBatch) -> list[Captions]:
        raise NotImplementedError


class SimilarityModel(Plugin):
    """A joint text-audio embedding space (CLAP)."""

    kind = "similarity"

    def embed_audio(self, batch: AudioBatch) -> list[SegmentEmbeddings]:
        raise NotImplementedError

    def embed_text(self, texts: list[str]) -> Any:
        """``[N, D]`` array of L2-normalised text embeddings."""
        raise NotImplementedError


@dataclass
class SectionContext:
    """What a segmenter gets besides its own frames, from the other analyses of the track.

    Attributes:
        duration: the track's length, seconds.
        beats, downbeats: beat and downbeat times (seconds; empty if unknown).
        hit_times, hit_classes: every drum hit's time and class (``kick``, ``snare``...).
    """

    duration: float
    beats: Any = None
    downbeats: Any = None
    hit_times: Any = None
    hit_classes: Any = None


class Segmenter(Plugin):
    """Audio (+ beats and drum hits) -> sections (intro, build-up, drop, ...).

    ``frames`` (batched, per window) turns audio into per-frame features (or a learned
    model's embeddings); ``segment`` (once per track) turns the stitched frames and the
    :class:`SectionContext` into :class:`~heihachi.analysis_results.Sections`.
    """

    kind = "segmenter"
    sample_rate = 22_050
    window_s = 30.0

    def frames(self, batch: AudioBatch) -> list[Frames]:
        raise NotImplementedError

    def segment(self, frames: Frames, context: SectionContext) -> Sections:
        raise NotImplementedError


class KeyDetector(Plugin):
    """Audio -> musical key, for a whole track and for any span of it (its sections).

    ``key_frames`` (batched, per window) gives per-frame key evidence (a DSP chroma, or
    a learned model's logits); ``estimate`` reads the key of ``[start, end)`` from the
    stitched frames, None when nothing tonal plays. ``phrases`` are the first bars of
    the span's phrases (section starts, every 8 bars) for detectors that weigh them.
    """

    kind = "key-detector"
    sample_rate = 22_050
    window_s = 30.0

    def key_frames(self, batch: AudioBatch) -> list[Frames]:
        raise NotImplementedError

    def estimate(self, frames: Frames, start: float | None = None, end: float | None = None,
                 phrases: list[tuple[float, float]] | tuple = ()) -> KeyEstimate | None:
        raise NotImplementedError


class OnlineBeatTracker(Plugin):
    """Causal beat tracking: audio in blocks, each beat out as soon as it is decided.

    Not run by the batch runtime: a caller (``heihachi.hf.RealtimeBeatTracker``, an audio
    callback) calls :meth:`open` with its stream's sample rate, then :meth:`process` with
    every block of that stream (float32 mono ``[n]`` or ``[n, channels]``, any ``n``) and
    :meth:`flush` at the end.  A beat is emitted at most ``latency_s`` of stream time after
    the audio frame it sits on (plus the time of the block it was decided in); event
    times are stream times (samples fed / ``input_rate``).  ``sample_rate`` is the
    model's own rate (what ``models`` and ``plugins`` show); ``input_rate`` the stream's.
    """

    kind: ClassVar[str] = "online-beat-tracker"
    input_rate: int = 0

    @dataclass
    class Config:
        model: str | None = None
        latency_s: float = 0.15

    @property
    def latency_s(self) -> float:
        """The configured latency budget in seconds."""
        return float(getattr(self.config, "latency_s", 0.15))

    def open(self, sample_rate: int) -> None:
        """Start a stream at ``sample_rate`` Hz (loads the model on first use; resets)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget the stream so far (time restarts at 0); the sample rate stays."""
        raise NotImplementedError

    def process(self, block: Any) -> list[Any]:
        """Feed one block; returns the ``BeatEvent`` s decided by it, in time order."""
        raise NotImplementedError

    def flush(self) -> list[Any]:
        """End of stream: the beats still pending (the end is padded with silence)."""
        raise NotImplementedError


#: kind -> (base class, batched method, registering hook, CLI command)
KINDS: dict[str, tuple[type[Plugin], str, str, str]] = {
    "extractor": (FeatureExtractor, "embed", "register_extractors", "extract"),
    "beats": (BeatTracker, "track", "register_beat_trackers", "beats"),
    "drums": (DrumTranscriber, "transcribe", "register_drum_models", "analyze-drums"),
    "separator": (StemSeparator, "separate", "register_separators", "separate"),
    "captioner": (Captioner, "caption", "register_captioners", "caption"),
    "similarity": (SimilarityModel, "embed_audio", "register_similarity_models", "similarity"),
    "segmenter": (Segmenter, "frames", "register_segmenters", "sections"),
    "key-detector": (KeyDetector, "key_frames", "register_key_detectors", "key"),
    "online-beat-tracker": (OnlineBeatTracker, "process", "register_online_beat_trackers",
                            "realtime"),
}

"""The built-in process tasks of the runtime's own plugins: drums, beats, patterns, stems,
index, and the click track.

``drums`` and ``beats`` run the configured plugins (``drums=drumnet``,
``beats=beat_this``...). When the drums plugin already finds beats with the same
model (drumnet does, in the same forward pass), ``beats`` takes them from the
``drums`` result instead of running the model a second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import heihachi
from heihachi.errors import HeihachiError
from heihachi.process.plugin_task import PluginTask
from heihachi.process.task import ProcessTask, TaskResult, TrackInfo


class DrumsTask(PluginTask):
    """Drum hits with class, velocity and confidence (the configured `drums` plugin)."""

    name = "drums"
    kind = "drums"


class BeatsTask(PluginTask):
    """Beats, downbeats and tempo: from the drums pass when it finds them, else `beats`."""

    name = "beats"
    kind = "beats"

    @dataclass
    class Config:
        from_drums: bool = True  # take the drums pass's beats when the same model finds them

    def uses_plugin(self) -> bool:
        ctx = self.context
        from heihachi.runtime.pipeline import plugin_from_config

        if not self.config.from_drums:
            return True
        try:
            drums = plugin_from_config(ctx.cfg, ctx.choices, "drums", ctx.overrides)
        except HeihachiError:  # no drums plugin chosen: beats runs its own
            return True
        beats = plugin_from_config(ctx.cfg, ctx.choices, "beats", ctx.overrides)
        same = (type(beats).__module__ == type(drums).__module__
                and beats.model_id() == drums.model_id()
                and bool(getattr(drums.config, "beats", False)))
        if same:
            self.requires = ("drums",)
        return not same

    def finish(self, results: dict[str, Any]) -> TaskResult:
        if self.plugin is not None:
            return TaskResult(self.run_plugin())
        beats = results["drums"].beats
        if beats is None:
            raise HeihachiError("the drums plugin found no beats (drums.beats=false?)")
        return TaskResult(beats)

    def describe(self) -> dict[str, Any]:
        doc = super().describe()
        doc["from_drums"] = self.plugin is None
        return doc


class PatternsTask(ProcessTask):
    """16-step bar patterns, swing, microtiming and pattern changes (from drums + beats)."""

    name = "patterns"
    requires = ("drums", "beats")
    inline = False

    @dataclass
    class Config:
        steps_per_bar: int = 16
        beats_per_bar: int = 4

    def finish(self, results: dict[str, Any]) -> TaskResult:
        from heihachi.music.patterns import analyze_patterns

        beats = results["beats"]
        return TaskResult(analyze_patterns(results["drums"], beats.beats, beats.downbeats,
                                           steps_per_bar=self.config.steps_per_bar,
                                           beats_per_bar=self.config.beats_per_bar))


class StemsTask(PluginTask):
    """Separated stems streamed to OUT/<track>/stems/ (the configured `separator`)."""

    name = "stems"
    kind = "separator"

    def load(self) -> None:
        from heihachi.runtime.stems import check_audio_output

        opts = self.context.options
        check_audio_output(opts.audio_format, opts.audio_subtype)
        super().load()

    def output_settings(self) -> dict[str, Any]:
        opts = self.context.options
        return {"stems": sorted(opts.stems) if opts.stems else None,
                "audio_format": opts.audio_format, "audio_subtype": opts.audio_subtype}

    def finish(self, results: dict[str, Any]) -> TaskResult:
        stems = self.run_plugin()
        return TaskResult(stems, files=[self.track.out_dir / f.file for f in stems.files])


@dataclass
class IndexedSegments:
    """What the ``index`` task added to the semantic index for one track."""

    schema: ClassVar[str] = "heihachi.index-entry/1"
    index: str
    segments: Any  # SegmentEmbeddings
    model: str
    changed: bool
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        seg = self.segments
        return {"index": self.index, "model": self.model, "segments": len(seg.starts),
                "dim": int(seg.vectors.shape[-1]) if len(seg.starts) else None,
                "changed": self.changed}

    def arrays(self) -> dict[str, Any]:
        return {"starts": self.segments.starts, "ends": self.segments.ends,
                "vectors": self.segments.vectors.astype("float32")}


class IndexTask(PluginTask):
    """Segment embeddings added to the semantic index at `index.path` (index.embedder)."""

    name = "index"

    def build_plugin(self, kind: str) -> Any:
        self.kind = str(self.context.cfg.index.embedder)  # type: ignore[misc]
        return super().build_plugin(self.kind)

    def load(self) -> None:
        from pathlib import Path

        from heihachi.index.collection import Embedder, _identity, open_index

        super().load()
        cfg = self.context.cfg
        self.index_dir = Path(cfg.index.path)
        self.embedder = Embedder.from_index(self.index_dir, cfg, self.context.overrides)
        if self.embedder.kind != self.kind:
            raise HeihachiError(f"{self.index_dir} holds {self.embedder.kind} embeddings; "
                                f"index.embedder={self.kind} would mix spaces: use another "
                                "index.path")
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self.embedder.record(self.index_dir)
        self.model_id, self.ident = _identity(self.plugin, self.embedder)
        self.index = open_index(self.index_dir, cfg)

    def finish(self, results: dict[str, Any]) -> TaskResult:
        from heihachi.index.collection import pool_segments
        from heihachi.index.semantic import TrackVectors
        from heihachi.results import Embeddings
        from heihachi.runtime.inputs import content_hash

        res = self.run_plugin()
        if isinstance(res, Embeddings):
            w = self.embedder.window_s or 10.0
            res = pool_segments(res.frames, res.timestamps, w, self.embedder.hop_s or w / 2,
                                self.state.duration)
        path = str(self.track.path)
        item = TrackVectors(path, content_hash(self.track.path), res.starts, res.ends,
                            res.vectors, self.model_id, self.ident)
        changed = bool(self.index.add_many([item])[0])
        return TaskResult(IndexedSegments(str(self.index_dir), res, self.model_id, changed))


class ClickTask(ProcessTask):
    """The audio with a click on every beat (accented downbeats): OUT/<track>/click.wav."""

    name = "click"
    requires = ("beats",)
    sample_rate = 44_100
    channels = 2

    @dataclass
    class Config:
        gain: float = 0.5  # click peak level
        subtype: str = "PCM_16"  # click.wav sample format (soundfile subtype)

    def start(self, track: TrackInfo) -> None:
        from heihachi.export.click import ClickSpool

        self.spool = ClickSpool(track.out_dir / "click.wav", self.sample_rate, self.channels,
                                self.config.subtype)

    def feed(self, window: Any) -> None:
        self.spool.write(window.audio)

    def finish(self, results: dict[str, Any]) -> TaskResult:
        beats = results["beats"]
        summary = self.spool.close(beats.beats, beats.downbeats, self.config.gain)
        return TaskResult(summary, files=[self.spool.path])

    def abort(self) -> None:
        spool = getattr(self, "spool", None)
        if spool is not None:
            spool.abort()


@heihachi.hookimpl
def register_process_tasks(register: Any) -> None:
    for cls in (DrumsTask, BeatsTask, PatternsTask, StemsTask, IndexTask, ClickTask):
        register(cls)

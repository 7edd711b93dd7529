"""A runtime plugin (drums, beats, separator, extractor, similarity...) as a process task.

The plugin is built from the run's composed config exactly as ``hf <task>`` builds it
(``drums=NAME drums.threshold_scale=0.8`` work the same), loaded once per run, and
fed the windows it declares (``plugin.window()``) cut from the shared decode. Windows
are batched (``runtime.batch_size``) through the runtime's
:class:`~heihachi.runtime.batching.BatchCaller` (device placement, autocast,
out-of-memory back-off) and stitched per track with
:func:`~heihachi.runtime.stitching.stitch`; results as long as the audio (stems)
stream to disk with the runtime's sinks, so memory stays bounded.
"""

from __future__ import annotations

from typing import Any, ClassVar

from heihachi.errors import HeihachiError
from heihachi.process.task import ProcessContext, ProcessTask, TaskResult, TrackInfo


class PluginTask(ProcessTask):
    """Base of tasks that run one runtime plugin of ``kind``."""

    kind: ClassVar[str] = ""
    inline = False

    def __init__(self, context: ProcessContext | None = None) -> None:
        super().__init__(context)
        self.plugin: Any = None
        if self.uses_plugin():
            self.plugin = self.build_plugin(self.kind)

    # -- building ------------------------------------------------------------------------
    def uses_plugin(self) -> bool:
        """False for a task that derives its result from another task's (no audio)."""
        return True

    def build_plugin(self, kind: str) -> Any:
        from heihachi.runtime.pipeline import plugin_from_config

        ctx = self.context
        shared = ctx.shared.setdefault("plugins", {})
        plugin = plugin_from_config(ctx.cfg, ctx.choices, kind, ctx.overrides)
        return shared.setdefault((kind, plugin.name), plugin)

    def load(self) -> None:
        if self.plugin is None:
            self.sample_rate = None
            return
        from heihachi.runtime.batching import BatchCaller

        pl = self.context.placement
        plugin = self.plugin
        plugin.device = pl.device
        if not getattr(plugin, "_heihachi_loaded", False):
            plugin.load()
            plugin._heihachi_loaded = True
        self.sample_rate = int(plugin.sample_rate)
        self.channels = int(plugin.channels)
        self.window_s, self.hop_s = plugin.window()
        self.whole_file = self.window_s is None
        batch = getattr(self.context.options, "batch_size", 4)
        self.caller = BatchCaller(plugin, pl, batch)

    def output_settings(self) -> dict[str, Any] | None:
        """Output settings that change this task's files (hashed with the plugin)."""
        return None

    def describe(self) -> dict[str, Any]:
        doc = super().describe()
        if self.plugin is not None:
            from heihachi.runtime.runner import plugin_config_dict, task_hash

            doc.update(plugin=self.plugin.name, kind=self.plugin.kind,
                       model=self.plugin.model_id(), plugin_config=plugin_config_dict(
                           self.plugin), plugin_hash=task_hash(self.plugin,
                                                               self.output_settings()))
        return doc

    # -- one track -----------------------------------------------------------------------
    def start(self, track: TrackInfo) -> None:
        from heihachi.runtime.stitching import FileState

        self.track = track
        self.state = FileState()
        self.pending: list[Any] = []

    def feed(self, window: Any) -> None:
        from heihachi.runtime.decoding import Item

        self.pending.append(Item(0, window))
        if len(self.pending) >= self.caller.batch_size:
            self._flush()

    def _flush(self) -> None:
        from heihachi.runtime.stitching import stream_ready_parts

        batch, self.pending = self.pending, []
        st = self.state
        for it, res in self.caller.run(batch):
            if isinstance(res, BaseException):
                raise res
            st.parts.append((it.window.index, it.window.start, res))
            st.received += 1
            if it.window.last:
                st.expected, st.duration = it.window.index + 1, it.window.duration
            if self._sink() is not None:
                stream_ready_parts(st, self.window_s, self.hop_s)

    def _sink(self) -> Any:
        """Open the streaming sink on the first part if its result type streams."""
        st = self.state
        if st.sink is None and st.next_index == 0 and st.parts:
            from heihachi.runtime.stems import open_sink

            first = min(st.parts, key=lambda p: p[0])[2]
            st.sink = open_sink(first, self.track.out_dir, self.context.options)
            if st.sink is None:
                st.next_index = -1  # this result type does not stream
        return st.sink

    def run_plugin(self) -> Any:
        """Flush the last batch and return the track's stitched, finished result."""
        from heihachi.runtime.stitching import stitch

        if self.pending:
            self._flush()
        st = self.state
        if st.expected is None or st.received != st.expected:
            raise HeihachiError(f"{self.track.path}: {self.name}: got {st.received} of "
                                f"{st.expected or '?'} windows")
        if st.sink is not None:
            result = st.sink.close()
            st.sink = None
            return result
        result = stitch(st.parts, self.window_s, self.hop_s, type(st.parts[0][2]))
        return self.plugin.finish(result, st.duration)

    def finish(self, results: dict[str, Any]) -> TaskResult:
        return TaskResult(self.run_plugin())

    def abort(self) -> None:
        st = getattr(self, "state", None)
        if st is not None and st.sink is not None:
            st.sink.abort()
            st.sink = None
        self.pending = []

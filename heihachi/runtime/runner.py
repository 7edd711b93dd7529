"""Run one plugin over many files: shard, skip what is done, batch, stitch, write.

The flow for a task (see DESIGN.md):

1. the sorted input list is sharded by rank (``accelerate launch`` /
   ``torchrun``), so every file is processed exactly once;
2. files whose output exists for the same config hash are skipped (resume);
3. DataLoader workers decode + resample files into the plugin's windows
   (:mod:`~heihachi.runtime.decoding`);
4. windows are batched across files, padded, moved to the device and passed to
   the plugin's one batched method under autocast (:mod:`~heihachi.runtime.batching`);
5. window results are shifted, cropped to the part each window owns and
   concatenated per file (:mod:`~heihachi.runtime.stitching`), then written
   atomically (:mod:`~heihachi.runtime.outputs`);
6. rank 0 merges every rank's summary into ``OUT/summary.json``.

A file that fails (bad audio, plugin error) is recorded as failed and the rest
go on. On CUDA out-of-memory the batch is halved and retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any

from heihachi.errors import ConfigError, ExportError, HeihachiError
from heihachi.results import Result
from heihachi.runtime.batching import BatchCaller
from heihachi.runtime.decoding import Item, iter_items
from heihachi.runtime.inputs import Track, assign_track_names
from heihachi.runtime.outputs import (
    Summary,
    SummaryEntry,
    config_hash,
    failed_entry,
    is_done,
    merge_rank_summaries,
    write_result,
)
from heihachi.runtime.placement import Placement, cpu_threads, place, shutdown
from heihachi.runtime.progress import Progress
from heihachi.runtime.stitching import FileState, stitch, stream_ready_parts
from heihachi.tasks import KINDS, Plugin

__all__ = ["Placement", "RunOptions", "Runner", "cpu_threads", "place", "plugin_config_dict",
           "shutdown", "stitch", "task_hash"]


@dataclass
class RunOptions:
    output_dir: Path
    batch_size: int = 4
    num_workers: int = 1
    device: str = "auto"
    precision: str = "fp32"
    threads: int | None = None
    overwrite: bool = False
    formats: list[str] = field(default_factory=lambda: ["json"])
    progress: bool = True
    stems: list[str] | None = None
    audio_format: str = "wav"
    audio_subtype: str = "float"
    plots_min_s: float = 0.0  # plots/timeline are left out for files shorter than this


def plugin_config_dict(plugin: Plugin) -> dict[str, Any]:
    cfg = plugin.config
    return asdict(cfg) if is_dataclass(cfg) else dict(vars(cfg))


def task_hash(plugin: Plugin, outputs: dict[str, Any] | None = None) -> str:
    """Hash of what changes results: plugin, its config, rate, channels, windows.

    ``outputs`` adds output settings that change what is written (stems kept, their
    file format), so a rerun with other settings redoes the file instead of skipping it.
    """
    window_s, hop_s = plugin.window()
    doc = {"kind": plugin.kind, "plugin": plugin.name, "config": plugin_config_dict(plugin),
           "sample_rate": plugin.sample_rate, "channels": plugin.channels,
           "window_s": window_s, "hop_s": hop_s}
    if outputs:
        doc["outputs"] = outputs
    return config_hash(doc)


def _result_task(kind: str) -> str:
    """The ``<task>`` of the JSON a kind writes (``OUT/<track>/<task>.json``)."""
    from heihachi import results

    return {"extractor": results.Embeddings, "beats": results.Beats,
            "drums": results.DrumHits, "separator": results.Stems,
            "captioner": results.Captions,
            "similarity": results.SegmentEmbeddings}[kind].task


class Runner:
    """Runs one plugin instance over files and writes results.

    Args:
        plugin: the plugin instance (loaded on the first ``run``).
        options: output directory, batching, device and output settings.
        placement: where to run (default: :func:`place` from ``options``).
        extra_writers: called per finished file as ``w(track_dir, result, track,
            options, envelope)``; return the paths they wrote.
        on_result: called per finished file with ``(track, result)``.
    """

    def __init__(self, plugin: Plugin, options: RunOptions, placement: Placement | None = None,
                 extra_writers: list[Callable[..., list[Path]]] | None = None,
                 on_result: Callable[[Track, Result], None] | None = None) -> None:
        self.plugin = plugin
        self.opts = options
        self.placement = placement
        self.extra_writers = extra_writers or []
        self.on_result = on_result
        self.task = KINDS[plugin.kind][3]
        self._caller: BatchCaller | None = None
        self._batch_size = options.batch_size

    @property
    def batch_size(self) -> int:
        """Windows per forward pass; halved for good after an out-of-memory error."""
        return self._caller.batch_size if self._caller is not None else self._batch_size

    # -- public --------------------------------------------------------------------------
    def run(self, paths: list[Path], tracks: list[Track] | None = None) -> Summary:
        """Process ``paths`` (all ranks' inputs; this rank takes its shard).

        ``tracks`` names each path's output directory (default: the file stems, see
        :func:`assign_track_names`); a caller that keeps its own folders (the server:
        one per job) passes :class:`Track` objects whose ``dir()`` points there.
        """
        if self.placement is None:
            self.placement = place(self.opts.device, self.opts.precision, self.opts.threads,
                                   self.opts.num_workers)
        pl = self.placement
        out = self.opts.output_dir
        if tracks is None:
            tracks = assign_track_names(paths)
        elif [t.path for t in tracks] != list(paths):
            raise ValueError("Runner.run: tracks must name the given paths, in order")
        mine = tracks[pl.rank::pl.world_size]
        self.plugin.device = pl.device
        if not getattr(self.plugin, "_heihachi_loaded", False):
            self.plugin.load()
            self.plugin._heihachi_loaded = True
        self._check_output_settings()
        if self._caller is None:
            self._caller = BatchCaller(self.plugin, pl, self._batch_size)
        chash = task_hash(self.plugin, self._output_settings())
        result_task = _result_task(self.plugin.kind)
        summary = Summary(task=self.task, plugin=self.plugin.name)
        todo: list[Track] = []
        for t in mine:
            if not self.opts.overwrite and is_done(t, out, result_task, chash,
                                                   self.opts.formats, self.opts.plots_min_s):
                summary.entries.append(SummaryEntry(str(t.path), "skipped", track=t.name))
            else:
                todo.append(t)
        self.envelope = {"plugin": self.plugin.name, "kind": self.plugin.kind,
                         "model": self.plugin.model_id(), "config_hash": chash,
                         "config": plugin_config_dict(self.plugin)}
        with Progress(enabled=self.opts.progress, total=len(todo),
                      label=f"{self.task} ({self.plugin.name})", rank=pl.rank,
                      world_size=pl.world_size) as progress:
            for entry in self._process(todo, progress):
                summary.entries.append(entry)
        for entry in summary.entries:
            entry.rank = pl.rank
        return merge_rank_summaries(summary, out, pl)

    # -- internals -----------------------------------------------------------------------
    def _check_output_settings(self) -> None:
        """Stems the loaded model cannot produce are a usage error before any file."""
        sources = getattr(self.plugin, "sources", None)
        if self.plugin.kind != "separator" or not self.opts.stems or not sources:
            return
        missing = [s for s in self.opts.stems if s not in sources]
        if missing:
            raise ConfigError(f"--stems/output.stems: no stem {', '.join(map(repr, missing))} "
                              f"in model {self.plugin.model_id()!r}; it produces "
                              f"{', '.join(sources)}")

    def _output_settings(self) -> dict[str, Any] | None:
        """Output settings that change a separator's files (other kinds: none)."""
        if self.plugin.kind != "separator":
            return None
        return {"stems": sorted(self.opts.stems) if self.opts.stems else None,
                "audio_format": self.opts.audio_format,
                "audio_subtype": self.opts.audio_subtype}

    def _process(self, tracks: list[Track], progress: Progress) -> Iterator[SummaryEntry]:
        if not tracks:
            return
        assert self._caller is not None
        window_s, hop_s = self.plugin.window()
        states: dict[int, FileState] = {}
        failed: set[int] = set()
        pending: list[Item] = []
        items = iter_items([t.path for t in tracks], self.plugin.sample_rate,
                           self.plugin.channels, window_s, hop_s, self.opts.num_workers)

        def fail(i: int, err: BaseException) -> SummaryEntry:
            failed.add(i)
            st = states.pop(i, FileState())
            if st.sink is not None:
                st.sink.abort()
            progress.advance(0.0, tracks[i].path.name, "failed")
            return failed_entry(tracks[i], err, st.started)

        def flush() -> Iterator[SummaryEntry]:
            batch = [it for it in pending if it.file not in failed]
            pending.clear()
            for it, res in self._caller.run(batch):
                st = states.setdefault(it.file, FileState())
                if isinstance(res, BaseException):
                    if it.file not in failed:
                        yield fail(it.file, res)
                    continue
                st.parts.append((it.window.index, it.window.start, res))
                st.received += 1
                if it.window.last:
                    st.expected, st.duration = it.window.index + 1, it.window.duration
                    st.warning = getattr(it.window, "warning", None)
                try:
                    self._stream(tracks[it.file], st, window_s, hop_s)
                except Exception as e:
                    yield fail(it.file, e)
            for i in [i for i, s in states.items() if s.expected == s.received]:
                yield self._finish(tracks[i], states.pop(i), window_s, hop_s, progress)

        for item in items:
            if item.error is not None:
                if item.file not in failed:
                    yield fail(item.file, item.error)
                continue
            if item.file in failed:
                continue
            if item.file not in states:
                progress.start(tracks[item.file].path.name)
            states.setdefault(item.file, FileState())
            pending.append(item)
            if len(pending) >= self.batch_size:
                yield from flush()
        yield from flush()
        for i, st in list(states.items()):  # only reachable if a decoder stopped early
            yield fail(i, HeihachiError(f"decoding stopped after {len(st.parts)} windows"))

    def _stream(self, track: Track, st: FileState, window_s: float | None,
                hop_s: float | None) -> None:
        """Write owned parts of a streaming result (e.g. stems) as soon as they are in order."""
        if st.sink is None:
            if st.next_index > 0 or not st.parts:
                return
            from heihachi.runtime.stems import open_sink

            st.sink = open_sink(st.parts[0][2], track.dir(self.opts.output_dir), self.opts)
            if st.sink is None:
                st.next_index = -1  # this result type does not stream
                return
        stream_ready_parts(st, window_s, hop_s)

    def _finish(self, track: Track, st: FileState, window_s: float | None,
                hop_s: float | None, progress: Progress) -> SummaryEntry:
        try:
            if st.sink is not None:
                result = st.sink.close()
            else:
                result = stitch(st.parts, window_s, hop_s, type(st.parts[0][2]))
                result = self.plugin.finish(result, st.duration)
            envelope = dict(self.envelope, duration=st.duration)
            writers = [lambda d, r, t, w=w: w(d, r, t, self.opts, envelope)
                       for w in self.extra_writers]
            if st.warning:
                progress.log(f"heihachi: warning: {track.path}: {st.warning}")
            write_result(track, self.opts.output_dir, result, envelope, writers,
                         formats=self.opts.formats, plots_min_s=self.opts.plots_min_s)
            if self.on_result is not None:
                self.on_result(track, result)
        except Exception as e:
            if st.sink is not None and not isinstance(e, ExportError):
                st.sink.abort()
            msg = str(e) if isinstance(e, HeihachiError) else f"{type(e).__name__}: {e}"
            progress.advance(st.duration or 0.0, track.path.name, "failed")
            return SummaryEntry(str(track.path), "failed", error=f"{track.path}: {msg}",
                                track=track.name, seconds=time.time() - st.started,
                                duration=st.duration, warning=st.warning)
        progress.advance(st.duration or 0.0, track.path.name)
        return SummaryEntry(str(track.path), "ok", seconds=time.time() - st.started,
                            track=track.name, duration=st.duration, warning=st.warning)

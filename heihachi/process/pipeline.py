"""``heihachi process``: every task of a track from one decode, over many files.

The flow mirrors the runtime's :class:`~heihachi.runtime.runner.Runner`:

1. the sorted inputs are sharded by rank (``accelerate launch``/``torchrun``);
2. tracks whose ``analysis.json`` exists for the same pipeline hash and unchanged
   source are skipped (resume);
3. one background process decodes each remaining file **once**, at every
   ``(rate, channels)`` the tasks ask for
   (:func:`~heihachi.runtime.decoding.iter_stream_items`);
4. each task gets its windows cut from those streams and batches its own model
   calls (:mod:`heihachi.process.plugin_task`);
5. tasks finish in dependency order, their files and ``analysis.json`` are written
   atomically (:mod:`heihachi.process.track`);
6. rank 0 merges the summary (``OUT/summary.json``), writes ``OUT/report.html`` and
   the collection exports in ``process.exports``.

A track that fails (bad audio, a task's error) is recorded as failed and the rest go on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heihachi.errors import ConfigError, HeihachiError
from heihachi.process.task import ProcessContext, ProcessTask
from heihachi.process.track import ANALYSIS_FILE, ANALYSIS_SCHEMA, TrackRun
from heihachi.runtime.inputs import Track
from heihachi.runtime.outputs import Summary, SummaryEntry, failed_entry

DEFAULT_TASKS = ("drums", "beats", "patterns", "sections", "key", "energy")


@dataclass
class ProcessOptions:
    """How a process run decodes and reports (the rest is each task's)."""

    output_dir: Path
    overwrite: bool = False
    progress: bool = True
    num_workers: int = 1
    block_s: float = 4.0
    report: bool = True
    exports: list[str] = field(default_factory=list)


def is_done(track: Track, out: Path, chash: str) -> bool:
    """True when ``analysis.json`` exists for this pipeline hash and the unchanged source."""
    import json

    from heihachi.runtime.inputs import source_fingerprint

    try:
        doc = json.loads((track.dir(out) / ANALYSIS_FILE).read_text())
        return (doc.get("schema") == ANALYSIS_SCHEMA and doc.get("config_hash") == chash
                and doc.get("path") == str(track.path)
                and doc.get("source") == source_fingerprint(track.path))
    except (OSError, ValueError):
        return False


class ProcessRunner:
    """Runs a list of tasks (dependency order) over files; one decode per file."""

    def __init__(self, tasks: list[ProcessTask], context: ProcessContext,
                 options: ProcessOptions,
                 on_track: Callable[[Track, dict[str, Any]], None] | None = None) -> None:
        self.tasks = tasks
        self.context = context
        self.opts = options
        self.on_track = on_track

    def pipeline_hash(self) -> tuple[str, dict[str, Any]]:
        from heihachi.runtime.outputs import config_hash

        describe = {t.name: t.describe() for t in self.tasks}
        formats = sorted(getattr(self.context.options, "formats", []) or [])
        return config_hash({"schema": ANALYSIS_SCHEMA, "tasks": describe,
                            "formats": formats}), describe

    def run(self, paths: list[Path]) -> Summary:
        from heihachi.runtime.inputs import assign_track_names
        from heihachi.runtime.outputs import merge_rank_summaries
        from heihachi.runtime.progress import Progress

        pl = self.context.placement
        out = self.opts.output_dir
        tracks = assign_track_names(paths)
        mine = tracks[pl.rank::pl.world_size]
        for t in self.tasks:
            t.load()
        chash, describe = self.pipeline_hash()
        summary = Summary(task="process", plugin=",".join(t.name for t in self.tasks))
        todo: list[Track] = []
        for t in mine:
            if not self.opts.overwrite and is_done(t, out, chash):
                summary.entries.append(SummaryEntry(str(t.path), "skipped", track=t.name))
            else:
                todo.append(t)
        with Progress(enabled=self.opts.progress and pl.is_main, total=len(todo),
                      label="process") as progress:
            for entry in self._process(todo, chash, describe, progress):
                summary.entries.append(entry)
        for entry in summary.entries:
            entry.rank = pl.rank
        merged = merge_rank_summaries(summary, out, pl)
        if pl.is_main:
            self._collection_outputs(tracks)
        return merged

    def _specs(self) -> list[tuple[int, int]]:
        return sorted({(int(t.sample_rate), int(t.channels)) for t in self.tasks
                       if t.sample_rate})

    def _process(self, tracks: list[Track], chash: str, describe: dict[str, Any],
                 progress: Any) -> Any:
        from heihachi.runtime.decoding import iter_stream_items

        if not tracks:
            return
        specs = self._specs() or [(16_000, 1)]  # no task takes audio: still check it decodes
        items = iter_stream_items([t.path for t in tracks], specs, self.opts.block_s,
                                  self.opts.num_workers)
        current: TrackRun | None = None
        current_i = -1
        done: set[int] = set()

        def failed(i: int, run: TrackRun | None, err: BaseException) -> SummaryEntry:
            if run is not None:
                run.abort()
            done.add(i)
            progress.advance(0.0)
            return failed_entry(tracks[i], err, run.started if run else time.time())

        for item in items:
            i = item.file
            if i in done:
                continue
            if i != current_i:
                if current is not None and current_i not in done:
                    yield failed(current_i, current, HeihachiError("decoding stopped early"))
                current, current_i = None, i
                if item.error is None:
                    try:
                        current = TrackRun(tracks[i], self.opts.output_dir, self.tasks)
                    except Exception as e:
                        yield failed(i, None, e)
                        continue
            if item.error is not None:
                yield failed(i, current, item.error)
                current = None
                continue
            assert current is not None
            try:
                current.push(item.window)
                if item.window.last:
                    results = current.finish(chash, describe)
                    if self.on_track is not None:
                        self.on_track(tracks[i], {n: r.result for n, r in results.items()})
                    done.add(i)
                    progress.advance(current.duration or 0.0)
                    yield SummaryEntry(str(tracks[i].path), "ok", track=tracks[i].name,
                                       seconds=time.time() - current.started,
                                       duration=current.duration)
                    current = None
            except Exception as e:
                yield failed(i, current, e)
                current = None
        for i in range(len(tracks)):
            if i not in done:
                yield failed(i, current if i == current_i else None,
                             HeihachiError("decoding stopped before the end of the file"))

    def _collection_outputs(self, tracks: list[Track]) -> None:
        """report.html and the collection exports of every analysed track (rank 0)."""
        out = self.opts.output_dir
        if self.opts.report:
            from heihachi.process.report import write_report

            write_report(out)
        if self.opts.exports:
            from heihachi.export.collection import export_run

            for fmt in self.opts.exports:
                export_run(out, fmt)


def run_process(inputs: list[str], overrides: list[str], *, output: str | None = None,
                overwrite: bool = False, config_dirs: list[str] | None = None,
                config_name: str = "config", progress: bool = True) -> Summary:
    """Compose the config, build the tasks and run them over ``inputs``."""
    from heihachi.config import compose
    from heihachi.runtime.inputs import expand_inputs
    from heihachi.runtime.placement import place, shutdown

    cfg, choices = compose(overrides, config_dirs, config_name=config_name)
    paths = expand_inputs(inputs)
    if not paths:
        raise ConfigError(f"no audio files found in {', '.join(inputs)}")
    context, tasks, opts = build_run(cfg, choices, overrides, output, overwrite, progress)
    rt = cfg.runtime
    context.placement = place(rt.device, rt.precision, rt.threads, min(rt.num_workers, 1))
    try:
        return ProcessRunner(tasks, context, opts).run(paths)
    finally:
        shutdown(context.placement)


def build_run(cfg: Any, choices: dict, overrides: list[str], output: str | None,
              overwrite: bool, progress: bool
              ) -> tuple[ProcessContext, list[ProcessTask], ProcessOptions]:
    """The context, the task instances (dependency order) and the options of a run."""
    from heihachi.process.registry import build_tasks, task_registry
    from heihachi.runtime.runner import RunOptions

    p = cfg.process
    rt = cfg.runtime
    out = Path(output or cfg.output.dir)
    formats = list(cfg.output.formats)
    run_opts = RunOptions(output_dir=out, batch_size=rt.batch_size,
                          num_workers=min(rt.num_workers, 1), device=rt.device,
                          precision=rt.precision, threads=rt.threads, overwrite=overwrite,
                          formats=formats, progress=progress,
                          stems=list(cfg.output.stems) if cfg.output.stems else None,
                          audio_format=cfg.output.audio_format,
                          audio_subtype=cfg.output.audio_subtype)
    context = ProcessContext(cfg=cfg, choices=choices, overrides=list(overrides),
                             options=run_opts)
    wanted = list(p.tasks)
    available = task_registry(list(p.modules))
    if tuple(wanted) == DEFAULT_TASKS and any(w not in available for w in wanted):
        missing = [w for w in wanted if w not in available]
        print(f"heihachi: warning: process: default tasks not installed: "
              f"{', '.join(missing)}; running {', '.join(w for w in wanted if w in available)}",
              file=sys.stderr)
        wanted = [w for w in wanted if w in available]
    if "click" in formats and "click" not in wanted:
        wanted.append("click")
    if p.report and "timeline" not in formats:  # the report opens each track's timeline
        formats.append("timeline")
    if not wanted:
        raise ConfigError("process.tasks is empty: name at least one task, e.g. "
                          "process.tasks=[drums,beats]")
    tasks = build_tasks(wanted, available, context)
    from heihachi.export.collection import COLLECTION_FORMATS

    bad = [f for f in p.exports if f not in COLLECTION_FORMATS]
    if bad:
        raise ConfigError(f"process.exports: unknown {', '.join(bad)}; choose from "
                          f"{', '.join(COLLECTION_FORMATS)}")
    opts = ProcessOptions(output_dir=out, overwrite=overwrite, progress=progress,
                          num_workers=min(rt.num_workers, 1), block_s=float(p.block_s),
                          report=bool(p.report), exports=list(p.exports))
    return context, tasks, opts

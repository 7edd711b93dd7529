"""One track through every task: feed the shared decode's blocks, finish, write.

:class:`TrackRun` holds a track's per-task windowers and timings; the pipeline
(:mod:`heihachi.process.pipeline`) creates one per track, pushes the decoded
:class:`~heihachi.runtime.audio.StreamBlock` s through :meth:`TrackRun.push` and
calls :meth:`TrackRun.finish` after the last block. Files are written atomically;
``analysis.json`` is written last, as the commit marker a rerun checks.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from heihachi.errors import HeihachiError
from heihachi.process.task import ProcessTask, TaskResult, TrackInfo
from heihachi.runtime.inputs import Track

ANALYSIS_SCHEMA = "heihachi.analysis/1"
ANALYSIS_FILE = "analysis.json"


def task_schema(name: str, result: Any) -> str:
    return str(getattr(result, "schema", "") or f"heihachi.{name}/1")


class TrackRun:
    """The state of one track while its blocks stream through the tasks."""

    def __init__(self, track: Track, out: Path, tasks: list[ProcessTask]) -> None:
        from heihachi.runtime.audio import Windower, probe

        self.track = track
        self.out = out
        self.tasks = tasks
        self.started = time.time()
        self.seconds = {t.name: 0.0 for t in tasks}
        try:
            info = probe(track.path)
            native = (info.duration, info.sample_rate, info.channels)
        except HeihachiError:  # the decoding worker reports the same error for this file
            native = (None, None, None)
        self.info = TrackInfo(track.path, track.name, track.dir(out), *native)
        self.windowers: dict[str, Any] = {}
        for t in tasks:
            if t.sample_rate:
                self.windowers[t.name] = Windower(int(t.sample_rate), int(t.channels),
                                                  t.window_s, t.hop_s, whole=t.whole_file)
        self.duration: float | None = None
        for t in tasks:
            self._timed(t, t.start, self.info)

    def _timed(self, task: ProcessTask, fn: Any, *args: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args)
        except HeihachiError as e:
            raise HeihachiError(f"{self.track.path}: {task.name}: {_strip(e, self.track)}"
                                ) from e
        except Exception as e:
            raise HeihachiError(f"{self.track.path}: {task.name}: {type(e).__name__}: {e}"
                                ) from e
        finally:
            self.seconds[task.name] += time.perf_counter() - t0

    def push(self, block: Any) -> None:
        """Feed one decoded block to every task that takes audio."""
        for t in self.tasks:
            w = self.windowers.get(t.name)
            if w is None:
                continue
            audio = block.audio[(int(t.sample_rate), int(t.channels))]  # type: ignore[arg-type]
            windows = list(w.push(audio)) if not block.last else list(w.close(audio))
            for window in windows:
                self._timed(t, t.feed, window)
        if block.last and block.durations:
            self.duration = max(block.durations.values())

    def finish(self, chash: str, describe: dict[str, Any]) -> dict[str, TaskResult]:
        """Finish every task in dependency order; write their files and analysis.json.

        Returns every task's result by name."""
        from heihachi.runtime.atomic import (
            atomic_save_npz,
            atomic_write_json,
            remove_stale_temp_files,
        )
        from heihachi.runtime.inputs import source_fingerprint

        results: dict[str, TaskResult] = {}
        for t in self.tasks:
            needs = {n: results[n].result for n in t.requires}
            res = self._timed(t, t.finish, needs)
            if not isinstance(res, TaskResult):
                raise HeihachiError(f"{self.track.path}: task {t.name!r} returned "
                                    f"{type(res).__name__}, not a TaskResult")
            results[t.name] = res
        tdir = self.info.out_dir
        remove_stale_temp_files(tdir)
        source = source_fingerprint(self.track.path)
        written: list[Path] = []
        entries: dict[str, Any] = {}
        for t in self.tasks:
            res = results[t.name]
            body = res.result.to_json() if hasattr(res.result, "to_json") else {}
            entry: dict[str, Any] = {"schema": task_schema(t.name, res.result),
                                     "seconds": round(self.seconds[t.name], 3),
                                     "files": [str(p.relative_to(tdir)) if p.is_relative_to(
                                         tdir) else str(p) for p in res.files]}
            arrays = res.result.arrays() if hasattr(res.result, "arrays") else {}
            if arrays:
                written.append(atomic_save_npz(tdir / f"{t.name}.npz", arrays))
                entry["arrays"] = f"{t.name}.npz"
            if res.write_json:
                doc = {"schema": entry["schema"], "track": self.track.name,
                       "path": str(self.track.path), "task": t.name,
                       "config_hash": chash, "config": describe.get(t.name),
                       "duration": self.duration, "source": source, **body}
                written.append(atomic_write_json(tdir / f"{t.name}.json", doc))
                entry["file"] = f"{t.name}.json"
            if t.inline or not res.write_json:
                entry["result"] = body
            entries[t.name] = entry
        written += self._exports({n: r.result for n, r in results.items()})
        doc = {"schema": ANALYSIS_SCHEMA, "track": self.track.name,
               "path": str(self.track.path), "config_hash": chash, "source": source,
               "duration": self.duration, "sample_rate": self.info.native_rate,
               "channels": self.info.native_channels,
               "seconds": round(time.time() - self.started, 3),
               "tasks": entries}
        written.append(atomic_write_json(tdir / ANALYSIS_FILE, doc))
        return results

    def _exports(self, results: dict[str, Any]) -> list[Path]:
        """The per-track ``output.formats`` (csv, midi, labels, jams, plots, timeline, sv)."""
        from heihachi.export import WRITERS

        formats = getattr(self.tasks[0].context.options, "formats", []) if self.tasks else []
        out: list[Path] = []
        for fmt in formats:
            if fmt not in WRITERS:  # json: always written; click: the click task
                continue
            try:
                out.extend(WRITERS[fmt](self.info.out_dir, results, self.track.name))
            except HeihachiError as e:
                raise HeihachiError(f"{self.track.path}: {fmt} export: {e}") from e
        return out

    def abort(self) -> None:
        for t in self.tasks:
            try:
                t.abort()
            except Exception as e:  # one task's cleanup must not hide the first error
                import sys

                print(f"heihachi: warning: {self.track.path}: {t.name}: abort failed: {e}",
                      file=sys.stderr)


def _strip(e: BaseException, track: Track) -> str:
    msg = str(e)
    prefix = f"{track.path}: "
    return msg[len(prefix):] if msg.startswith(prefix) else msg

"""Running claimed jobs in a worker: the CLI's ``Runner`` over every file of a batch.

Queued jobs with the same plugin and settings are claimed together and their files go
through one ``Runner.run`` call, so windows of different uploads share forward passes
exactly as the files of one CLI run do. Each file's output directory is its job's
``out/<track>/`` (a :class:`JobTrack`), so every job folder is a CLI output folder.

The loaded ``Runner`` (plugin + weights) of each setting is kept in a small LRU
(:class:`RunnerCache`) between batches: the model loads once per worker, not per job.

A job is finished only after all its files are written: a worker killed half way
leaves the job ``running``; it is queued again and the rerun skips every file whose
result is already on disk (the runtime's resume check), then finishes the job once.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heihachi.errors import HeihachiError
from heihachi.runtime.inputs import Track
from heihachi.serve.jobs import Job, JobStore
from heihachi.serve.settings import ServeSettings
from heihachi.serve.tasks import TASKS


@dataclass
class JobTrack(Track):
    """A track whose output directory is its job's ``out/`` folder, wherever the run's
    output directory is."""

    root: Path = field(default_factory=Path)

    def dir(self, out: Path) -> Path:
        return self.root / self.name


class RunnerCache:
    """Loaded runners by (kind, overrides), least recently used dropped past ``size``."""

    def __init__(self, work_dir: Path, workers: int, size: int = 4) -> None:
        self.work_dir = work_dir
        self.workers = workers
        self.size = size
        self.runners: OrderedDict[tuple[str, tuple[str, ...]], Any] = OrderedDict()

    def get(self, kind: str, overrides: list[str]) -> Any:
        from heihachi.runtime.pipeline import build_plugin, write_exports
        from heihachi.runtime.placement import cpu_threads, place
        from heihachi.runtime.runner import Runner, RunOptions

        key = (kind, tuple(overrides))
        if key in self.runners:
            self.runners.move_to_end(key)
            return self.runners[key]
        cfg, plugin = build_plugin(kind, list(overrides))
        rt, out = cfg.runtime, cfg.output
        # the CPUs are shared by the server's workers, as by the ranks of a CLI run
        threads = rt.threads or cpu_threads(None, rt.num_workers, self.workers)
        opts = RunOptions(output_dir=self.work_dir, batch_size=rt.batch_size,
                          num_workers=rt.num_workers, device=rt.device,
                          precision=rt.precision, threads=threads, overwrite=False,
                          formats=list(out.formats), progress=False,
                          stems=list(out.stems) if out.stems else None,
                          audio_format=out.audio_format, audio_subtype=out.audio_subtype)
        placement = place(rt.device, rt.precision, threads, rt.num_workers)
        writers = [write_exports] if kind in ("drums", "beats") else None
        runner = Runner(plugin, opts, placement, extra_writers=writers)
        self.runners[key] = runner
        while len(self.runners) > self.size:
            self.runners.popitem(last=False)
        return runner

    def loaded(self) -> list[dict[str, Any]]:
        return [{"kind": k, "plugin": r.plugin.name, "model": r.plugin.model_id(),
                 "loaded": bool(getattr(r.plugin, "_heihachi_loaded", False))}
                for (k, _), r in self.runners.items()]


def out_dir(settings: ServeSettings, job: Job) -> Path:
    return settings.jobs_dir / job.id / "out"


def run_batch(jobs: list[Job], store: JobStore, settings: ServeSettings, cache: RunnerCache,
              worker: str) -> None:
    """Run claimed jobs (one batch key) and finish each of them exactly once."""
    spec = TASKS[jobs[0].task]
    try:
        if spec.after in ("index", "search"):
            from heihachi.serve.semantic_jobs import run_semantic

            for job in jobs:
                result = run_semantic(job, settings, cache)
                store.finish(job.id, worker, "done", result)
            return
        results = _run_files(jobs, settings, cache)
    except Exception as e:  # the plugin could not load, a bad config...: every job says why
        msg = str(e) if isinstance(e, HeihachiError) else f"{type(e).__name__}: {e}"
        for job in jobs:
            store.finish(job.id, worker, "failed", None, msg)
        return
    for job in jobs:
        result = results[job.id]
        failed = result["counts"]["failed"]
        status = "failed" if failed and failed == len(job.inputs) else "done"
        error = "; ".join(f["error"] for f in result["files"] if f["error"]) or None
        if not store.finish(job.id, worker, status, result, error if status == "failed"
                            else None):
            _discard_if_deleted(store, settings, job)


def _discard_if_deleted(store: JobStore, settings: ServeSettings, job: Job) -> None:
    """A job deleted while it ran: remove what this worker wrote for it."""
    from heihachi.serve.storage import remove_tree

    if store.get(job.id) is None:
        remove_tree(settings.jobs_dir / job.id)


def _run_files(jobs: list[Job], settings: ServeSettings, cache: RunnerCache
               ) -> dict[str, dict[str, Any]]:
    """One runner pass over every file of ``jobs``; then each job's summary and post-steps."""
    from heihachi.runtime.atomic import atomic_write_json
    from heihachi.runtime.outputs import Summary

    params = jobs[0].params
    runner = cache.get(params["kind"], params["overrides"])
    tracks: list[JobTrack] = []
    owner: dict[str, Job] = {}
    for job in jobs:
        for inp in job.inputs:
            t = JobTrack(Path(inp["path"]), inp["track"], out_dir(settings, job))
            tracks.append(t)
            owner[str(t.path)] = job
    started = time.time()
    summary = runner.run([t.path for t in tracks], tracks=tracks)
    results: dict[str, dict[str, Any]] = {}
    for job in jobs:
        entries = [e for e in summary.entries if owner.get(e.path) is job]
        job_summary = Summary(task=summary.task, plugin=summary.plugin, entries=entries,
                              started=started)
        notes = _after(job, entries, runner, settings)
        doc = job_summary.to_json()
        atomic_write_json(out_dir(settings, job) / "summary.json", doc)
        names = {i["path"]: i["name"] for i in job.inputs}
        files = [dict(f, path=f"input/{names.get(f['path'], '?')}") for f in doc["files"]]
        results[job.id] = {"counts": doc["counts"], "files": files,
                           "plugin": summary.plugin, "model": runner.plugin.model_id(),
                           "notes": notes}
    return results


def _after(job: Job, entries: list[Any], runner: Any, settings: ServeSettings) -> list[str]:
    """The per-track steps a task adds after its runner pass; returns warnings."""
    spec = TASKS[job.task]
    notes: list[str] = []
    root = out_dir(settings, job)
    for e in entries:
        if e.status == "failed":
            continue
        try:
            if spec.after == "patterns":
                from heihachi.runtime.pipeline import write_patterns

                write_patterns(root / e.track, e.track)
            elif spec.after == "tag":
                from heihachi.serve.semantic_jobs import write_tags

                write_tags(root / e.track, e.track, e.path, job.params, runner.plugin)
        except HeihachiError as err:
            notes.append(f"{e.track}: {err}")
    return notes

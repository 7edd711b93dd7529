"""Accepting a job: check the request, stream its uploads to disk, probe them, queue it.

Everything a request can get wrong is found here, before the job exists, and
answered with a 4xx and a one-line message: a full queue (503), a refused or invalid
override (422), an upload that is too large (413), empty (400) or not audio (415).
Only then is the job's row committed: from that moment it is durable.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from fastapi import Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from heihachi.serve.jobs import Job, JobStore, new_job_id
from heihachi.serve.settings import ServeSettings
from heihachi.serve.storage import (
    RequestError,
    probe_upload,
    remove_tree,
    safe_filename,
    save_stream,
)
from heihachi.serve.tasks import TASKS, batch_key, client_overrides, resolve_kind, validate
from heihachi.serve.views import job_document


def state(request: Request) -> tuple[ServeSettings, JobStore]:
    settings: ServeSettings = request.app.state.settings
    store = request.app.state.store
    if store is None:
        raise RequestError(405, "this server only browses a results folder (--results); it "
                                "runs no jobs")
    return settings, store


async def submit(request: Request, task: str, uploads: list[UploadFile], *,
                 plugin: str | None = None, model: str | None = None,
                 overrides: list[str] | None = None, stems: str | None = None,
                 params: dict[str, Any] | None = None, wait: bool = False) -> JSONResponse:
    """Queue a job for ``task`` and answer 202 (or, with ``wait``, the finished job)."""
    settings, store = state(request)
    spec = TASKS[task]
    # the queue bound (--max-queue) is held by guards.QueueGate, before the body is read
    kind = resolve_kind(spec, settings.overrides)
    ov = settings.overrides + client_overrides(spec, kind, plugin, model, overrides, stems)
    await run_in_threadpool(validate, kind, ov)
    job_id = new_job_id()
    root = settings.jobs_dir / job_id
    try:
        inputs, audio_s = await run_in_threadpool(_save_all, uploads, root, settings)
    except BaseException:
        remove_tree(root)
        raise
    extra = dict(params or {})
    job = Job(id=job_id, task=task, status="queued",
              batch_key=batch_key(spec, kind, ov, job_id, extra or None),
              params={"kind": kind, "overrides": ov, **extra}, inputs=inputs,
              audio_s=audio_s, created=time.time(), client=_client(request))
    await run_in_threadpool(store.add, job)
    location = f"/api/v1/jobs/{job_id}"
    if wait and (audio_s or 0.0) <= settings.wait_max_audio_s:
        done = await wait_for(store, job_id, settings.wait_timeout_s)
        if done is not None:
            return JSONResponse(job_document(settings, store, done), status_code=200)
    return JSONResponse({"id": job_id, "status": "queued", "task": task, "url": location},
                        status_code=202, headers={"Location": location})


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _save_all(uploads: list[UploadFile], root: Path, settings: ServeSettings
              ) -> tuple[list[dict[str, Any]], float | None]:
    from heihachi.runtime.inputs import assign_track_names

    paths: list[Path] = []
    shown: list[str] = []
    total = 0.0
    budget = settings.max_upload_bytes
    for up in uploads:
        name = safe_filename(up.filename)
        stem, dot, ext = name.rpartition(".")
        n = 1
        while root / "input" / name in paths:
            n += 1
            name = f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"
        dest = root / "input" / name
        budget -= save_stream(up.file, dest, budget)
        duration = probe_upload(dest, up.filename or name)
        total += duration or 0.0
        paths.append(dest)
        shown.append(up.filename or name)
    tracks = assign_track_names(paths)
    inputs = [{"name": p.name, "upload": s, "path": str(p), "track": t.name}
              for p, s, t in zip(paths, shown, tracks, strict=True)]
    return inputs, total


async def wait_for(store: JobStore, job_id: str, timeout: float) -> Job | None:
    """The job once it is done or failed, polling the store; None after ``timeout``."""
    deadline = time.monotonic() + timeout
    delay = 0.05
    while time.monotonic() < deadline:
        job = await run_in_threadpool(store.get, job_id)
        if job is None:
            raise RequestError(404, f"job {job_id} was deleted while it ran")
        if job.status in ("done", "failed"):
            return job
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.5)
    return None

"""Jobs and result folders: ``/api/v1/jobs...``, ``/api/v1/results...``, ``/health``.

A finished job's folder (``DATA/jobs/<id>/out``) is a CLI output folder; with
``heihachi serve --results DIR`` the one folder ``DIR`` is browsed read-only under
``/api/v1/results``. Both answer the same track routes (timeline, waveform, audio,
files), which is all the explorer reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from heihachi.serve import folders
from heihachi.serve.jobs import Job, JobStore
from heihachi.serve.settings import ServeSettings
from heihachi.serve.storage import RequestError, inside, job_dir, remove_tree
from heihachi.serve.submit import state
from heihachi.serve.views import job_document

router = APIRouter(tags=["jobs"])


async def health(request: Request) -> dict[str, Any]:
    settings: ServeSettings = request.app.state.settings
    store = request.app.state.store
    sup = request.app.state.supervisor
    doc: dict[str, Any] = {"status": "ok", "read_only": settings.read_only}
    if store is not None:
        counts = await run_in_threadpool(store.counts)
        doc.update(queue_depth=counts["queued"], running=counts["running"], jobs=counts,
                   max_queue=settings.max_queue)
    doc["workers"] = sup.loaded_models() if sup is not None else []
    doc["models_loaded"] = sorted({f"{m['kind']}:{m['plugin']}" for w in doc["workers"]
                                   for m in w["models"] if m.get("loaded")})
    return doc


router.add_api_route("/health", health, methods=["GET"], tags=["server"],
                     summary="Liveness, models loaded and queue depth")


@router.get("/jobs", summary="Jobs, newest first (paginated)")
async def list_jobs(request: Request, offset: int = Query(0, ge=0, le=10**9),
                    limit: int = Query(50, ge=1, le=500),
                    status: str | None = Query(None, pattern="^(queued|running|done|failed)$")
                    ) -> dict[str, Any]:
    _settings, store = state(request)
    jobs, total = await run_in_threadpool(store.list, offset, limit, status)
    return {"total": total, "offset": offset, "limit": limit,
            "jobs": [dict(j.to_json(), result=None) for j in jobs]}


def _job(request: Request, job_id: str) -> tuple[ServeSettings, JobStore, Job]:
    settings, store = state(request)
    job_dir(settings.jobs_dir, job_id)  # 404 for anything that is not a job id
    job = store.get(job_id)
    if job is None:
        raise RequestError(404, f"no job {job_id!r}")
    return settings, store, job


@router.get("/jobs/{job_id}", summary="One job: state, results, files")
async def get_job(request: Request, job_id: str) -> dict[str, Any]:
    settings, store, job = await run_in_threadpool(_job, request, job_id)
    return await run_in_threadpool(job_document, settings, store, job)


@router.delete("/jobs/{job_id}", summary="Delete a job and its files")
async def delete_job(request: Request, job_id: str) -> dict[str, Any]:
    settings, store, _job_row = await run_in_threadpool(_job, request, job_id)
    status = await run_in_threadpool(store.delete, job_id)
    if status != "running":  # a running job's worker removes its folder when it finishes
        await run_in_threadpool(remove_tree, settings.jobs_dir / job_id)
    return {"id": job_id, "deleted": True, "was": status}


@router.get("/jobs/{job_id}/files/{name:path}",
            summary="A file of a job: input/<upload>, out/<track>/drums.mid, stems, plots...")
async def job_file(request: Request, job_id: str, name: str) -> FileResponse:
    settings, _store, _job_row = await run_in_threadpool(_job, request, job_id)
    return _file(inside(settings.jobs_dir / job_id, name), name)


def _file(path: Path, name: str) -> FileResponse:
    if not path.is_file() or any(p.startswith(".") for p in Path(name).parts):
        raise RequestError(404, f"no such file: {name!r}")
    return FileResponse(path)


def _job_out(request: Request, job_id: str) -> tuple[Path, Path]:
    settings, _store, _job_row = _job(request, job_id)
    return settings.jobs_dir / job_id / "out", settings.jobs_dir / job_id


def _results_root(request: Request) -> tuple[Path, None]:
    settings: ServeSettings = request.app.state.settings
    if settings.results is None:
        raise RequestError(404, "this server browses no results folder (start it with "
                                "--results DIR)")
    return settings.results, None


@router.get("/jobs/{job_id}/tracks", summary="Tracks of a job's result folder")
async def job_tracks(request: Request, job_id: str) -> list[dict[str, Any]]:
    out, _ = await run_in_threadpool(_job_out, request, job_id)
    return await run_in_threadpool(folders.list_tracks, out)


@router.get("/jobs/{job_id}/tracks/{track}", summary="A track's timeline: hits, beats, "
            "sections, key")
async def job_timeline(request: Request, job_id: str, track: str) -> dict[str, Any]:
    out, _ = await run_in_threadpool(_job_out, request, job_id)
    return await run_in_threadpool(folders.timeline, out, track)


@router.get("/jobs/{job_id}/tracks/{track}/waveform", summary="Min/max peaks of a track")
async def job_waveform(request: Request, job_id: str, track: str,
                       points: int = Query(2000, ge=10, le=20000)) -> dict[str, Any]:
    out, allowed = await run_in_threadpool(_job_out, request, job_id)
    return await run_in_threadpool(_waveform, request, out, track, allowed, points)


@router.get("/jobs/{job_id}/tracks/{track}/audio", summary="The track's source audio")
async def job_audio(request: Request, job_id: str, track: str) -> FileResponse:
    out, allowed = await run_in_threadpool(_job_out, request, job_id)
    return FileResponse(await run_in_threadpool(_audio_path, out, track, allowed))


@router.get("/results/tracks", summary="Tracks of the --results folder (read-only mode)")
async def results_tracks(request: Request) -> list[dict[str, Any]]:
    root, _ = _results_root(request)
    return await run_in_threadpool(folders.list_tracks, root)


@router.get("/results/tracks/{track}", summary="A --results track's timeline")
async def results_timeline(request: Request, track: str) -> dict[str, Any]:
    root, _ = _results_root(request)
    return await run_in_threadpool(folders.timeline, root, track)


@router.get("/results/tracks/{track}/waveform", summary="Min/max peaks of a --results track")
async def results_waveform(request: Request, track: str,
                           points: int = Query(2000, ge=10, le=20000)) -> dict[str, Any]:
    root, allowed = _results_root(request)
    return await run_in_threadpool(_waveform, request, root, track, allowed, points)


@router.get("/results/tracks/{track}/audio", summary="A --results track's source audio")
async def results_audio(request: Request, track: str) -> FileResponse:
    root, allowed = _results_root(request)
    return FileResponse(await run_in_threadpool(_audio_path, root, track, allowed))


@router.get("/results/files/{name:path}", summary="A file of the --results folder")
async def results_file(request: Request, name: str) -> FileResponse:
    root, _ = _results_root(request)
    return _file(inside(root, name), name)


def _audio_path(root: Path, track: str, allowed: Path | None) -> Path:
    """The source audio recorded in a track's documents (inside the job with ``allowed``)."""
    path = folders.source_path(folders.track_docs(root, track), allowed)
    if path is None:
        raise RequestError(404, f"the audio of track {track!r} is not available")
    return path


def _waveform(request: Request, root: Path, track: str, allowed: Path | None,
              points: int) -> dict[str, Any]:
    return request.app.state.waveforms.peaks(_audio_path(root, track, allowed), points)


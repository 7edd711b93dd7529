"""How a job looks in an answer: its state, inputs, tracks, files and small results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heihachi.serve import folders
from heihachi.serve.jobs import Job, JobStore
from heihachi.serve.settings import ServeSettings

_SMALL_DOC = 4 << 20  # result documents inlined into a job's answer up to this size


def job_document(settings: ServeSettings, store: JobStore, job: Job) -> dict[str, Any]:
    """A job as the API shows it: state, inputs, tracks, files, and its small results."""
    doc = job.to_json()
    root = settings.jobs_dir / job.id
    out = root / "out"
    doc["files"] = folders.list_files(root) if job.status in ("done", "failed") else []
    doc["tracks"] = [t["track"] for t in folders.list_tracks(out)]
    if job.status == "done":
        doc["results"] = {t: _small_docs(out / t) for t in doc["tracks"]}
    if job.task == "semantic/search" and job.result:
        doc["result"] = dict(job.result, hits=[_playable(settings, store, h)
                                               for h in job.result.get("hits", [])])
    return doc


def _small_docs(track_dir: Path) -> dict[str, Any]:
    out = {}
    for p in sorted(track_dir.glob("*.json")):
        if p.stat().st_size <= _SMALL_DOC and (d := folders.read_doc(p)) is not None:
            d.pop("path", None)  # the server's own file system stays private
            out[p.stem] = d
    return out


def _playable(settings: ServeSettings, store: JobStore, hit: dict[str, Any]) -> dict[str, Any]:
    """A search hit with the job, track and audio URL of its upload, when it is one."""
    hit = dict(hit)
    path = Path(hit["track"])
    try:
        rel = path.relative_to(settings.jobs_dir)
    except ValueError:
        return hit
    job = store.get(rel.parts[0]) if len(rel.parts) == 3 else None
    hit["track"] = path.name
    if job is not None:
        inp = next((i for i in job.inputs if i["path"] == str(path)), None)
        if inp is not None:
            hit.update(track=inp["upload"], job=job.id, track_name=inp["track"],
                       audio=f"/api/v1/jobs/{job.id}/files/input/{inp['name']}")
    return hit

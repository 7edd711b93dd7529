"""The task endpoints: ``POST /api/v1/{analyze,features,beats,drums,stems,batch-analyze}``.

Each takes an audio upload and the same choices as the CLI command it mirrors:
``plugin`` (``drums=NAME``), ``model`` (``drums.model=ID``) and repeated ``overrides``
(``drums.threshold=0.4``, ``profile=tiny``), validated before the job is queued.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from heihachi.serve.submit import submit
from heihachi.serve.tasks import TASKS

router = APIRouter(tags=["tasks"])

_RESPONSES = {202: {"description": "Accepted: the job id and its URL"},
              400: {"description": "Empty upload"}, 401: {"description": "No API key"},
              403: {"description": "Wrong API key"}, 413: {"description": "Upload too large"},
              415: {"description": "Not audio"}, 422: {"description": "Invalid field"},
              429: {"description": "Rate limited"}, 503: {"description": "Queue full"}}

PLUGIN = Form(None, description="Plugin name, as `<kind>=NAME` on the CLI")
MODEL = Form(None, description="Model id, as `<kind>.model=ID` on the CLI (no paths)")
OVERRIDES = Form([], description="KEY=VALUE overrides, as on the CLI: `<kind>.*`, "
                                 "`profile`, and the task's `output.*` settings")
WAIT = Query(False, description="Answer when the job is done (short files only); else 202")
AUDIO = File(..., description="An audio file (wav, flac, ogg, mp3, aiff, m4a, opus)")


def _single_file(task: str) -> Any:
    """The endpoint of a task that takes one file and the CLI's plugin choices."""

    async def endpoint(request: Request, file: UploadFile = AUDIO, plugin: str | None = PLUGIN,
                       model: str | None = MODEL, overrides: list[str] = OVERRIDES,
                       wait: bool = WAIT) -> JSONResponse:
        return await submit(request, task, [file], plugin=plugin, model=model,
                            overrides=overrides, wait=wait)

    return endpoint


for _task in ("analyze", "features", "beats", "drums"):
    router.add_api_route(f"/{_task}", _single_file(_task), methods=["POST"], name=_task,
                         summary=TASKS[_task].summary, responses=_RESPONSES)


@router.post("/batch-analyze", summary=TASKS["batch-analyze"].summary, responses=_RESPONSES)
async def batch_analyze(request: Request,
                        files: list[UploadFile] = File(..., description="Audio files"),
                        plugin: str | None = PLUGIN, model: str | None = MODEL,
                        overrides: list[str] = OVERRIDES, wait: bool = WAIT) -> JSONResponse:
    return await submit(request, "batch-analyze", files, plugin=plugin, model=model,
                        overrides=overrides, wait=wait)


@router.post("/stems", summary=TASKS["stems"].summary, responses=_RESPONSES)
async def stems(request: Request, file: UploadFile = AUDIO, plugin: str | None = PLUGIN,
                model: str | None = MODEL, overrides: list[str] = OVERRIDES,
                stems: str | None = Form(None, description="Keep only these stems, comma "
                                                           "separated (as --stems)"),
                wait: bool = WAIT) -> JSONResponse:
    return await submit(request, "stems", [file], plugin=plugin, model=model,
                        overrides=overrides, stems=stems, wait=wait)

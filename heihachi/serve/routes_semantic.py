"""``/api/v1/semantic/*``: the server's semantic index (add, search, stats) and tags.

The index lives in ``DATA/index`` and is the same kind of directory ``heihachi index
add`` writes; its embedder is the server's (``index.embedder=...`` and the plugin
overrides given to ``heihachi serve``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from heihachi.serve.routes_tasks import _RESPONSES, AUDIO, MODEL, OVERRIDES, PLUGIN, WAIT
from heihachi.serve.storage import RequestError
from heihachi.serve.submit import state, submit

router = APIRouter(prefix="/semantic", tags=["semantic"])


@router.post("/analyze", summary="Embed a track's segments into the server's semantic index",
             responses=_RESPONSES)
async def semantic_analyze(request: Request, file: UploadFile = AUDIO,
                           wait: bool = WAIT) -> JSONResponse:
    return await submit(request, "semantic/analyze", [file], wait=wait)


@router.post("/tag", summary="Zero-shot tags per category of labels (hf tag)",
             responses=_RESPONSES)
async def semantic_tag(request: Request, file: UploadFile = AUDIO,
                       categories: str = Form(..., min_length=1, max_length=4000,
                                              description='"genre:techno,house;mood:dark,'
                                                          'euphoric"'),
                       prompt: str = Form("this is a {label} track", max_length=500,
                                          description="Template with {label}"),
                       plugin: str | None = PLUGIN, model: str | None = MODEL,
                       overrides: list[str] = OVERRIDES, wait: bool = WAIT) -> JSONResponse:
    from heihachi.errors import UsageError
    from heihachi.serve.semantic_jobs import check_tag_params

    try:
        check_tag_params(categories, prompt)
    except UsageError as e:
        raise RequestError(422, str(e)) from None
    return await submit(request, "semantic/tag", [file], plugin=plugin, model=model,
                        overrides=overrides, wait=wait,
                        params={"categories": categories, "prompt": prompt})


@router.post("/search", summary="Search the index by text or by an audio clip",
             responses=_RESPONSES)
async def semantic_search(request: Request,
                          text: str | None = Form(None, max_length=1000,
                                                  description="Text query (CLAP index)"),
                          file: UploadFile | None = File(None, description="Audio query"),
                          k: int = Form(10, ge=1, le=200, description="How many hits"),
                          per_track: bool = Form(False, description="One hit per track"),
                          wait: bool = Query(True, description="Answer with the hits "
                                                               "(default); false: 202")
                          ) -> JSONResponse:
    if (text is None or not text.strip()) == (file is None):
        raise RequestError(422, "give a text query (text=...) or an audio clip (file=...), "
                                "one of them")
    params: dict[str, Any] = {"k": k, "per_track": per_track}
    if file is None:
        params["text"] = (text or "").strip()
    return await submit(request, "semantic/search", [file] if file is not None else [],
                        params=params, wait=wait)


@router.get("/stats", summary="What the server's index holds")
async def semantic_stats(request: Request) -> dict[str, Any]:
    settings, _store = state(request)
    return await run_in_threadpool(_stats, settings)


def _stats(settings: Any) -> dict[str, Any]:
    from heihachi.config import compose
    from heihachi.index.collection import open_index
    from heihachi.serve.semantic_jobs import index_embedder_kind
    from heihachi.serve.tasks import _compose_lock

    with _compose_lock:
        cfg, _ = compose(settings.overrides)
    stats = open_index(settings.index_dir, cfg).stats()
    stats["path"] = "index"  # relative to --data: the server's own paths stay private
    stats["embedder"] = index_embedder_kind(settings)
    return stats

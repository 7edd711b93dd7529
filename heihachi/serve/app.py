"""The FastAPI application: routes under /api/v1, the guards, the explorer at ``/``.

``create_app(settings)`` builds it; ``heihachi serve`` runs it with uvicorn. The
OpenAPI schema is at ``/openapi.json`` and the interactive docs at ``/docs``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from heihachi import __version__
from heihachi.errors import ConfigError, HeihachiError, UsageError
from heihachi.serve.guards import (
    BodyLimit,
    JsonErrors,
    QueueGate,
    RateLimit,
    TokenAuth,
    error_body,
)
from heihachi.serve.jobs import JobStore
from heihachi.serve.settings import ServeSettings
from heihachi.serve.storage import RequestError

API = "/api/v1"


def _json_error(status: int, message: str, headers: dict[str, str] | None = None
                ) -> JSONResponse:
    import json

    return JSONResponse(json.loads(error_body(status, message)), status_code=status,
                        headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path"))
        parts.append(f"{loc or 'request'}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _warm_up(settings: ServeSettings) -> None:
    """Import Hydra, the registry and the decoders, and validate the default settings."""
    from heihachi.runtime import audio  # noqa: F401
    from heihachi.serve.tasks import TASKS, client_overrides, resolve_kind, validate

    spec = TASKS["drums"]
    kind = resolve_kind(spec, settings.overrides)
    try:
        validate(kind, settings.overrides + client_overrides(spec, kind, None, None, []))
    except HeihachiError as e:  # a bad server override: say so now, requests will too
        print(f"heihachi serve: warning: {e}")


def static_dir() -> Path:
    return Path(str(resources.files("heihachi.serve") / "static"))


def create_app(settings: ServeSettings, start_workers: bool = True) -> FastAPI:
    """The server for ``settings``; ``start_workers=False`` runs the API alone (tests)."""
    from fastapi.middleware.cors import CORSMiddleware
    from fastapi.staticfiles import StaticFiles

    from heihachi.serve import routes_jobs, routes_semantic, routes_tasks
    from heihachi.serve.folders import Waveforms
    from heihachi.serve.supervisor import Supervisor

    store = None if settings.read_only else JobStore(settings.db_path)
    supervisor = Supervisor(settings, store) if store is not None and start_workers else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> Any:
        if supervisor is not None:
            supervisor.start()
        if store is not None:  # compose once now, not on the first upload
            from fastapi.concurrency import run_in_threadpool

            await run_in_threadpool(_warm_up, settings)
        try:
            yield
        finally:
            if supervisor is not None:
                supervisor.stop()

    app = FastAPI(title="Heihachi", version=__version__, lifespan=lifespan,
                  description="Neural audio analysis of music over HTTP: drums, beats, "
                              "features, stems, a semantic index; durable jobs.")
    app.state.settings = settings
    app.state.store = store
    app.state.supervisor = supervisor
    app.state.waveforms = Waveforms()

    @app.exception_handler(RequestError)
    async def _request_error(_r: Request, exc: RequestError) -> JSONResponse:
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return _json_error(exc.status, exc.message, headers)

    @app.exception_handler(HeihachiError)
    async def _heihachi_error(_r: Request, exc: HeihachiError) -> JSONResponse:
        status = 422 if isinstance(exc, UsageError | ConfigError) else 400
        return _json_error(status, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _json_error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        return _json_error(422, _validation_message(exc))

    app.include_router(routes_tasks.router, prefix=API)
    app.include_router(routes_semantic.router, prefix=API)
    app.include_router(routes_jobs.router, prefix=API)
    app.add_api_route("/health", routes_jobs.health, methods=["GET"], tags=["server"],
                      summary="Liveness, models loaded and queue depth (same as /api/v1/health)")
    app.mount("/", StaticFiles(directory=static_dir(), html=True), name="explorer")

    # add_middleware wraps: the last added is the outermost. Order, outside in: JSON
    # errors -> CORS (so refusals carry CORS headers) -> body limit -> auth -> rate limit
    # -> queue gate (a full queue, or too many uploads at once, refuses an upload before
    # its body is read).
    app.add_middleware(QueueGate, store=store, max_queue=settings.max_queue,
                       max_uploads=settings.max_uploads)
    app.add_middleware(RateLimit, rate=settings.rate_per_s, burst=settings.rate_burst)
    app.add_middleware(TokenAuth, keys=settings.api_keys)
    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(JsonErrors)
    return app

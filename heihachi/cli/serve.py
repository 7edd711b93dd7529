"""``heihachi serve``: the REST API, its job workers and the web explorer.

Only click is imported here; FastAPI and uvicorn load when the command runs (they are
the ``serve`` extra: ``pip install 'heihachi[serve]'``).
"""

from __future__ import annotations

from pathlib import Path

import click

from heihachi.errors import UsageError


@click.command("serve", context_settings={"ignore_unknown_options": True})
@click.argument("overrides", nargs=-1, type=click.UNPROCESSED)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (127.0.0.1: this machine only).")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--data", default="heihachi_data", show_default=True,
              type=click.Path(file_okay=False),
              help="Job store, uploads, results and the semantic index.")
@click.option("--workers", default=1, show_default=True, type=int,
              help="Worker processes (each keeps its models loaded).")
@click.option("--results", type=click.Path(exists=True, file_okay=False),
              help="Browse this CLI output folder read-only (no jobs, no uploads).")
@click.option("--api-key", "api_keys", multiple=True,
              help="Require 'Authorization: Bearer KEY' (repeatable; also HEIHACHI_API_KEY).")
@click.option("--cors-origin", "cors", multiple=True,
              help="Allow this browser origin (repeatable), e.g. http://localhost:3000.")
@click.option("--max-upload-mb", default=512.0, show_default=True, type=float,
              help="Largest request body; bigger uploads get 413.")
@click.option("--rate-limit", default=20.0, show_default=True, type=float,
              help="Requests per second per client (0: no limit); past it, 429.")
@click.option("--rate-burst", default=40, show_default=True, type=int,
              help="Requests a client may send at once before the rate limit applies.")
@click.option("--max-queue", default=1000, show_default=True, type=int,
              help="Queued jobs at most; past it, 503 with Retry-After.")
@click.option("--max-uploads", default=4, show_default=True, type=int,
              help="Uploads received at once at most (0: no limit); past it, 503 with "
                   "Retry-After before the body is read.")
@click.option("--batch-files", default=16, show_default=True, type=int,
              help="Queued files a worker runs in one batched pass at most.")
@click.option("--retention-hours", default=168.0, show_default=True, type=float,
              help="Delete finished jobs and their files after this long (0: keep).")
@click.option("--wait-timeout", default=120.0, show_default=True, type=float,
              help="How long ?wait=true waits before answering 202.")
def serve_cmd(overrides: tuple[str, ...], host: str, port: int, data: str, workers: int,
              results: str | None, api_keys: tuple[str, ...], cors: tuple[str, ...],
              max_upload_mb: float, rate_limit: float, rate_burst: int, max_queue: int,
              max_uploads: int, batch_files: int, retention_hours: float,
              wait_timeout: float) -> None:
    """Serve the REST API (/api/v1, docs at /docs) and the web explorer (/).

    Trailing KEY=VALUE overrides apply to every job, as on the CLI: `profile=tiny`,
    `runtime.device=cuda`, `drums=NAME`, `index.embedder=extractor extractor=spectral`.
    """
    from heihachi.config import is_override

    bad = [o for o in overrides if not is_override(o)]
    if bad:
        raise UsageError(f"serve: {bad[0]!r} is not a KEY=VALUE override")
    from heihachi.serve.run import run_server
    from heihachi.serve.settings import ServeSettings, api_keys_from

    settings = ServeSettings(data=Path(data), host=host, port=port, workers=workers,
                             overrides=list(overrides), api_keys=api_keys_from(api_keys),
                             cors_origins=list(cors), max_upload_mb=max_upload_mb,
                             rate_per_s=rate_limit, rate_burst=rate_burst,
                             max_queue=max_queue, max_uploads=max_uploads,
                             batch_files=batch_files,
                             retention_h=retention_hours, wait_timeout_s=wait_timeout,
                             results=Path(results) if results else None)
    run_server(settings)

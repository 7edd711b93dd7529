"""Start the server: check the extra is installed, set TMPDIR inside --data, run uvicorn."""

from __future__ import annotations

import os
import sys
import tempfile

from heihachi.errors import UsageError
from heihachi.serve.settings import ServeSettings


def run_server(settings: ServeSettings) -> None:
    """Run until interrupted (Ctrl-C / SIGTERM stop the workers too)."""
    try:
        import uvicorn

        from heihachi.serve.app import create_app
    except ImportError as e:
        raise UsageError(f"heihachi serve needs the serve extra ({e.name} is missing): "
                         "pip install 'heihachi[serve]'") from None
    if not settings.read_only:
        # request bodies are spooled here: a request never writes outside --data
        settings.tmp_dir.mkdir(parents=True, exist_ok=True)
        os.environ["TMPDIR"] = str(settings.tmp_dir)
        tempfile.tempdir = str(settings.tmp_dir)
    if not settings.read_only:
        _check_overrides(settings)
    app = create_app(settings)
    where = f"http://{settings.host}:{settings.port}"
    mode = f"browsing {settings.results} (read-only)" if settings.read_only else \
        f"data {settings.data}, {settings.workers} worker(s)"
    print(f"heihachi serve: {where}/ (explorer), {where}/docs (API); {mode}", file=sys.stderr)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning",
                timeout_graceful_shutdown=5)


def _check_overrides(settings: ServeSettings) -> None:
    """A bad KEY=VALUE given to ``heihachi serve`` is a usage error (exit 2), at start."""
    from heihachi.errors import ConfigError
    from heihachi.serve.storage import RequestError
    from heihachi.serve.tasks import TASKS, client_overrides, resolve_kind, validate

    spec = TASKS["drums"]
    kind = resolve_kind(spec, settings.overrides)
    try:
        validate(kind, settings.overrides + client_overrides(spec, kind, None, None, []))
    except RequestError as e:
        raise ConfigError(f"serve: {e.message}") from None

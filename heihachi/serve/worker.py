"""A worker process: claims queued jobs, runs them, keeps its models loaded.

Started by the server (``python -m heihachi.serve.worker DATA WORKER_ID``) with a lower
CPU priority than the API, so accepting uploads stays fast while models run. It dies
with the server (``PR_SET_PDEATHSIG``, and a parent check between batches), so a
``kill -9`` of the server never leaves a worker writing a job that a restarted
server hands to another.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path


def _heartbeat(store: object, worker: str, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        try:
            store.heartbeat(worker)  # type: ignore[attr-defined]
        except Exception as e:  # a locked database must not kill the worker
            print(f"heihachi worker {worker}: heartbeat failed: {e}", file=sys.stderr)


def serve_forever(data: Path, worker: str, poll_s: float = 0.05) -> None:
    """Claim and run jobs until the parent process goes away."""
    from heihachi.runtime.decoding import die_with_parent
    from heihachi.serve.execute import RunnerCache, run_batch
    from heihachi.serve.jobs import JobStore
    from heihachi.serve.settings import ServeSettings

    parent = os.getppid()
    die_with_parent()
    settings = ServeSettings.load(data)
    store = JobStore(settings.db_path)
    work = settings.data / "work" / worker
    cache = RunnerCache(work, settings.workers)
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(store, worker, settings.lease_s / 3, stop),
                     daemon=True).start()
    status = settings.data / "workers" / f"{worker}.json"
    idle = poll_s
    try:
        while os.getppid() == parent:
            jobs = store.claim(worker, settings.batch_files)
            if not jobs:
                time.sleep(idle)
                idle = min(idle * 1.5, 0.5)
                continue
            idle = poll_s
            run_batch(jobs, store, settings, cache, worker)
            _write_status(status, cache)
    finally:
        stop.set()


def _write_status(path: Path, cache: object) -> None:
    """What this worker has loaded, for ``GET /health``."""
    from heihachi.runtime.atomic import atomic_write_json

    atomic_write_json(path, {"pid": os.getpid(), "models": cache.loaded()})  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        sys.exit("usage: python -m heihachi.serve.worker DATA_DIR WORKER_ID")
    try:
        os.nice(5)
    except OSError:
        pass
    serve_forever(Path(args[0]), args[1])


if __name__ == "__main__":
    main()

"""The server's housekeeping: one server per ``--data``, its workers, leases, retention.

At start the supervisor takes an exclusive lock on ``DATA/server.lock`` (a second server
on the same data directory is refused; the kernel drops the lock of a killed one),
puts every job the previous server left ``running`` back in the queue, and starts the
worker processes. A thread then restarts any worker that exits (its jobs are queued
again at once), requeues jobs whose heartbeat stopped, and deletes finished jobs past
the retention time with their files.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from heihachi.errors import UsageError
from heihachi.serve.jobs import JobStore
from heihachi.serve.settings import ServeSettings


class Supervisor:
    """Owns the worker processes of one server."""

    def __init__(self, settings: ServeSettings, store: JobStore) -> None:
        self.settings = settings
        self.store = store
        self.workers: dict[str, subprocess.Popen] = {}
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock_file: Any = None
        self.last_cleanup = 0.0
        self.restarts = 0

    def start(self) -> None:
        s = self.settings
        s.data.mkdir(parents=True, exist_ok=True)
        self.lock_file = open(s.data / "server.lock", "w")  # held while the server runs
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise UsageError(f"--data {s.data}: another heihachi server is using it; stop it "
                             "or give another --data directory") from None
        s.save()
        (s.data / "workers").mkdir(exist_ok=True)
        for old in (s.data / "workers").glob("*.json"):
            old.unlink(missing_ok=True)
        s.tmp_dir.mkdir(exist_ok=True)
        self.store.requeue(all_running=True)
        for _ in range(s.workers):
            self._spawn()
        self.thread = threading.Thread(target=self._watch, name="heihachi-supervisor",
                                       daemon=True)
        self.thread.start()

    def _spawn(self) -> None:
        wid = f"w{os.getpid()}-{uuid.uuid4().hex[:8]}"
        env = dict(os.environ, TMPDIR=str(self.settings.tmp_dir), OMP_NUM_THREADS="1",
                   PYTHONUNBUFFERED="1")
        proc = subprocess.Popen([sys.executable, "-m", "heihachi.serve.worker",
                                 str(self.settings.data), wid], env=env,
                                stdin=subprocess.DEVNULL)
        self.workers[wid] = proc

    def _watch(self) -> None:
        while not self.stop_event.wait(0.5):
            try:
                self.check()
            except Exception as e:  # housekeeping must never stop
                print(f"heihachi serve: supervisor: {type(e).__name__}: {e}", file=sys.stderr)

    def check(self) -> None:
        """One round: restart dead workers, requeue stale jobs, apply retention."""
        for wid, proc in list(self.workers.items()):
            if proc.poll() is not None:
                del self.workers[wid]
                n = self.store.requeue(worker=wid)
                print(f"heihachi serve: worker {wid} exited ({proc.returncode}); "
                      f"{n} job(s) queued again", file=sys.stderr)
                (self.settings.data / "workers" / f"{wid}.json").unlink(missing_ok=True)
                if not self.stop_event.is_set():
                    self.restarts += 1
                    self._spawn()
        self.store.requeue(stale_before=time.time() - self.settings.lease_s)
        if time.time() - self.last_cleanup > 60:
            self.cleanup()

    def cleanup(self, now: float | None = None) -> int:
        """Delete finished jobs older than the retention time, rows and files."""
        from heihachi.serve.storage import remove_tree

        self.last_cleanup = time.time()
        if self.settings.retention_h <= 0:
            return 0
        now = time.time() if now is None else now
        ids = self.store.expired(now - self.settings.retention_h * 3600)
        for job_id in ids:
            self.store.delete(job_id)
            remove_tree(self.settings.jobs_dir / job_id)
        return len(ids)

    def loaded_models(self) -> list[dict[str, Any]]:
        from heihachi.serve.folders import read_doc

        out = []
        for wid in self.workers:
            doc = read_doc(self.settings.data / "workers" / f"{wid}.json")
            out.append({"worker": wid, "alive": self.workers[wid].poll() is None,
                        "models": doc.get("models", []) if doc else []})
        return out

    def stop(self) -> None:
        self.stop_event.set()
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.time() + 10
        for proc in self.workers.values():
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
        if self.lock_file is not None:
            self.lock_file.close()


def data_in_use(data: Path) -> bool:
    """True when a server holds ``data``'s lock (for tests and the bench)."""
    path = data / "server.lock"
    if not path.exists():
        return False
    with open(path) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False

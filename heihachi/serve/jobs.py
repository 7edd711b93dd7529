"""The durable job store: one SQLite file in ``--data``, shared by the API and the workers.

A job goes ``queued -> running -> done | failed``. Every transition is one SQLite
transaction (WAL mode, so readers never block the writer), which is what makes a
``kill -9`` of the server harmless:

- a job is accepted once its row is committed; the upload is already on disk then;
- a worker claims queued jobs in one ``BEGIN IMMEDIATE`` transaction, so two workers
  never hold the same job, and records its id and a heartbeat on them;
- a job whose worker died (the supervisor saw it exit, or its heartbeat is older than
  the lease, or the server restarted) goes back to ``queued``;
- finishing is guarded: ``... WHERE status='running' AND worker=?``, and the ``done``
  event is inserted in the same transaction only if that update hit the row. A job is
  therefore finished at most once, and every accepted job is eventually finished (one
  that took its worker down ``MAX_ATTEMPTS`` times is failed rather than retried).

The ``events`` table is the audit trail the crash test and the load bench count.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATUSES = ("queued", "running", "done", "failed")
#: a job whose worker died this many times while running it fails instead of running again
MAX_ATTEMPTS = 3

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    task TEXT NOT NULL,
    status TEXT NOT NULL,
    batch_key TEXT NOT NULL,
    params TEXT NOT NULL,
    inputs TEXT NOT NULL,
    audio_s REAL,
    client TEXT,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    worker TEXT,
    heartbeat REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, created);
CREATE TABLE IF NOT EXISTS events (
    job TEXT NOT NULL,
    event TEXT NOT NULL,
    at REAL NOT NULL,
    worker TEXT
);
CREATE INDEX IF NOT EXISTS events_job ON events (job);
"""


@dataclass
class Job:
    """One row of the job store."""

    id: str
    task: str
    status: str
    batch_key: str
    params: dict[str, Any]
    inputs: list[dict[str, Any]]
    audio_s: float | None
    created: float
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    attempts: int = 0
    result: dict[str, Any] | None = None
    error: str | None = None
    client: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The public view (what ``GET jobs/{id}`` answers, before the file list)."""
        return {"id": self.id, "task": self.task, "status": self.status,
                "created": self.created, "started": self.started, "finished": self.finished,
                "attempts": self.attempts, "audio_seconds": self.audio_s,
                "inputs": [{"name": i["name"], "track": i["track"]} for i in self.inputs],
                "params": self.params, "result": self.result, "error": self.error}


def new_job_id() -> str:
    return uuid.uuid4().hex


def _row_job(row: sqlite3.Row) -> Job:
    return Job(id=row["id"], task=row["task"], status=row["status"],
               batch_key=row["batch_key"], params=json.loads(row["params"]),
               inputs=json.loads(row["inputs"]), audio_s=row["audio_s"],
               created=row["created"], started=row["started"], finished=row["finished"],
               worker=row["worker"], attempts=row["attempts"],
               result=json.loads(row["result"]) if row["result"] else None,
               error=row["error"], client=row["client"])


class JobStore:
    """The job table and its transitions. Opens a short-lived connection per call, so
    one store object is safe to use from any thread of the API or a worker."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30.0)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        finally:
            db.close()

    @contextmanager
    def _db(self, immediate: bool = False) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL survives a process crash
            db.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    # -- the API side ------------------------------------------------------------------------
    def add(self, job: Job) -> None:
        with self._db(immediate=True) as db:
            db.execute(
                "INSERT INTO jobs (id, task, status, batch_key, params, inputs, audio_s, client,"
                " created) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
                (job.id, job.task, job.batch_key, json.dumps(job.params),
                 json.dumps(job.inputs), job.audio_s, job.client, job.created))
            db.execute("INSERT INTO events VALUES (?, 'accepted', ?, NULL)",
                       (job.id, job.created))

    def get(self, job_id: str) -> Job | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return _row_job(row) if row else None

    def list(self, offset: int = 0, limit: int = 50, status: str | None = None
             ) -> tuple[list[Job], int]:
        """Newest first; returns ``(jobs, total)``."""
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        with self._db() as db:
            total = db.execute(f"SELECT COUNT(*) FROM jobs {where}", args).fetchone()[0]
            rows = db.execute(f"SELECT * FROM jobs {where} ORDER BY created DESC, rowid DESC"
                              " LIMIT ? OFFSET ?", [*args, limit, offset]).fetchall()
        return [_row_job(r) for r in rows], int(total)

    def counts(self) -> dict[str, int]:
        with self._db() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        out = dict.fromkeys(STATUSES, 0)
        out.update({r[0]: int(r[1]) for r in rows})
        return out

    def delete(self, job_id: str) -> str | None:
        """Forget a job; returns its status then (None if unknown). A running job's worker
        finds its row gone when it finishes and discards what it wrote."""
        with self._db(immediate=True) as db:
            row = db.execute("SELECT status FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM jobs WHERE id = ?", (job_id,))
            db.execute("INSERT INTO events VALUES (?, 'deleted', ?, NULL)", (job_id, time.time()))
        return str(row[0])

    def expired(self, older_than: float) -> list[str]:
        """Ids of finished jobs that finished before ``older_than`` (epoch seconds)."""
        with self._db() as db:
            rows = db.execute("SELECT id FROM jobs WHERE status IN ('done', 'failed') AND "
                              "finished < ?", (older_than,)).fetchall()
        return [r[0] for r in rows]

    def events(self, job_id: str | None = None) -> list[tuple[str, str, str | None]]:
        """``(job, event, worker)`` rows in order (the audit trail)."""
        with self._db() as db:
            if job_id:
                rows = db.execute("SELECT job, event, worker FROM events WHERE job = ? "
                                  "ORDER BY rowid", (job_id,)).fetchall()
            else:
                rows = db.execute("SELECT job, event, worker FROM events ORDER BY rowid"
                                  ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    # -- the worker side ---------------------------------------------------------------------
    def claim(self, worker: str, max_files: int) -> list[Job]:
        """Take the oldest queued job and, if its task batches, more with the same batch key
        (up to ``max_files`` input files in all); they become ``running`` for ``worker``."""
        now = time.time()
        with self._db(immediate=True) as db:
            first = db.execute("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created, "
                               "rowid LIMIT 1").fetchone()
            if first is None:
                return []
            rows = [first]
            files = len(json.loads(first["inputs"]))
            if not first["batch_key"].startswith("single:"):
                more = db.execute("SELECT * FROM jobs WHERE status = 'queued' AND batch_key = ?"
                                  " AND id != ? ORDER BY created, rowid LIMIT ?",
                                  (first["batch_key"], first["id"], max_files)).fetchall()
                for r in more:
                    n = len(json.loads(r["inputs"]))
                    if files + n > max_files:
                        break
                    rows.append(r)
                    files += n
            for r in rows:
                db.execute("UPDATE jobs SET status = 'running', worker = ?, started = ?, "
                           "heartbeat = ?, attempts = attempts + 1 WHERE id = ?",
                           (worker, now, now, r["id"]))
                db.execute("INSERT INTO events VALUES (?, 'started', ?, ?)", (r["id"], now, worker))
        jobs = [_row_job(r) for r in rows]
        for j in jobs:
            j.status, j.worker, j.started, j.attempts = "running", worker, now, j.attempts + 1
        return jobs

    def heartbeat(self, worker: str) -> None:
        with self._db() as db:
            db.execute("UPDATE jobs SET heartbeat = ? WHERE worker = ? AND status = 'running'",
                       (time.time(), worker))

    def finish(self, job_id: str, worker: str, status: str, result: dict[str, Any] | None,
               error: str | None = None) -> bool:
        """Mark a running job ``done``/``failed``; False if it is no longer this worker's
        (deleted, or handed to another worker after a lease ran out)."""
        assert status in ("done", "failed")
        now = time.time()
        with self._db(immediate=True) as db:
            hit = db.execute("UPDATE jobs SET status = ?, finished = ?, result = ?, error = ? "
                             "WHERE id = ? AND status = 'running' AND worker = ?",
                             (status, now, json.dumps(result) if result is not None else None,
                              error, job_id, worker)).rowcount
            if hit:
                db.execute("INSERT INTO events VALUES (?, ?, ?, ?)", (job_id, status, now, worker))
        return bool(hit)

    def still_mine(self, job_id: str, worker: str) -> bool:
        with self._db() as db:
            row = db.execute("SELECT 1 FROM jobs WHERE id = ? AND status = 'running' AND "
                             "worker = ?", (job_id, worker)).fetchone()
        return row is not None

    # -- the supervisor side -----------------------------------------------------------------
    def requeue(self, *, worker: str | None = None, stale_before: float | None = None,
                all_running: bool = False) -> int:
        """Put running jobs back in the queue: those of a dead ``worker``, those whose
        heartbeat is older than ``stale_before``, or (at start-up) every running one."""
        if all_running:
            cond, args = "", []
        elif worker is not None:
            cond, args = " AND worker = ?", [worker]
        elif stale_before is not None:
            cond, args = " AND heartbeat < ?", [stale_before]
        else:
            raise ValueError("requeue: say which jobs")
        now = time.time()
        with self._db(immediate=True) as db:
            rows = db.execute(f"SELECT id, attempts FROM jobs WHERE status = 'running'{cond}",
                              args).fetchall()
            for i, attempts in rows:
                if attempts >= MAX_ATTEMPTS:  # a job that kills its worker every time
                    db.execute("UPDATE jobs SET status = 'failed', finished = ?, error = ? "
                               "WHERE id = ?", (now, f"the worker running this job died "
                                                     f"{attempts} times; it is not retried",
                                                i))
                    db.execute("INSERT INTO events VALUES (?, 'failed', ?, NULL)", (i, now))
                    continue
                db.execute("UPDATE jobs SET status = 'queued', worker = NULL WHERE id = ?", (i,))
                db.execute("INSERT INTO events VALUES (?, 'requeued', ?, NULL)", (i, now))
        return len(rows)

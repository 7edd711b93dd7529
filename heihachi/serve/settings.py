"""Every setting of ``heihachi serve`` in one dataclass, shared by the API and the workers.

The API process writes it to ``DATA/server.json`` at start; each worker process reads it
from there, so both sides agree on overrides, limits and layout without a second parser.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from heihachi.errors import ConfigError


@dataclass
class ServeSettings:
    """How the server runs.

    Attributes:
        data: the data directory: job store, uploads, results, index (``--data``).
        host, port: where the API listens (127.0.0.1 by default: local only).
        workers: worker processes; each keeps its plugins loaded between jobs.
        overrides: KEY=VALUE Hydra overrides applied to every job (``profile=tiny``).
        api_keys: bearer tokens accepted (empty: no auth).
        cors_origins: origins allowed by CORS (empty: none).
        max_upload_mb: largest request body; bigger uploads get 413.
        rate_per_s, rate_burst: per-client token bucket (0 = no limit).
        max_queue: queued jobs at most; more get 503 with Retry-After (the queue bound).
        max_uploads: uploads received at once at most; more get 503 with Retry-After
            before their body is read (0 = no limit). Keeps each accepted upload fast.
        batch_files: files one worker batches into one runner pass at most.
        wait_timeout_s: how long ``?wait=true`` waits before answering 202.
        wait_max_audio_s: ``?wait=true`` only for uploads shorter than this.
        retention_h: finished jobs (and their files) are deleted after this (0 = keep).
        results: a CLI output folder browsed read-only (``--results``); no jobs then.
        lease_s: a running job whose worker sent no heartbeat for this long runs again.
    """

    data: Path = Path("heihachi_data")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    overrides: list[str] = field(default_factory=list)
    api_keys: list[str] = field(default_factory=list)
    cors_origins: list[str] = field(default_factory=list)
    max_upload_mb: float = 512.0
    rate_per_s: float = 20.0
    rate_burst: int = 40
    max_queue: int = 1000
    max_uploads: int = 4
    batch_files: int = 16
    wait_timeout_s: float = 120.0
    wait_max_audio_s: float = 900.0
    retention_h: float = 168.0
    results: Path | None = None
    lease_s: float = 30.0

    def __post_init__(self) -> None:
        self.data = Path(self.data).absolute()
        if self.results is not None:
            self.results = Path(self.results).absolute()
        self.check()

    def check(self) -> None:
        """Raise :class:`ConfigError` naming the bad setting."""
        if self.workers < 1 and self.results is None:
            raise ConfigError(f"--workers={self.workers}: must be >= 1")
        if not 0 < self.port < 65536:
            raise ConfigError(f"--port={self.port}: must be 1..65535")
        if self.max_upload_mb <= 0:
            raise ConfigError(f"--max-upload-mb={self.max_upload_mb}: must be > 0")
        if self.rate_per_s < 0 or self.rate_burst < 1:
            raise ConfigError("--rate-limit must be >= 0 and --rate-burst >= 1")
        if self.max_queue < 1 or self.batch_files < 1:
            raise ConfigError("--max-queue and --batch-files must be >= 1")
        if self.max_uploads < 0:
            raise ConfigError(f"--max-uploads={self.max_uploads}: must be >= 0 (0: no limit)")
        if self.retention_h < 0:
            raise ConfigError(f"--retention-hours={self.retention_h}: must be >= 0")
        if self.results is not None and not self.results.is_dir():
            raise ConfigError(f"--results {self.results}: not a directory (give a folder "
                              "written by `heihachi hf ...` or `heihachi process`)")

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def read_only(self) -> bool:
        return self.results is not None

    # -- the layout of --data --------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.data / "jobs.sqlite"

    @property
    def jobs_dir(self) -> Path:
        return self.data / "jobs"

    @property
    def index_dir(self) -> Path:
        return self.data / "index"

    @property
    def tmp_dir(self) -> Path:
        return self.data / "tmp"

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["data"] = str(self.data)
        doc["results"] = str(self.results) if self.results else None
        doc.pop("api_keys")  # never written to disk
        return doc

    def save(self) -> Path:
        from heihachi.runtime.atomic import atomic_write_json

        self.data.mkdir(parents=True, exist_ok=True)
        return atomic_write_json(self.data / "server.json", self.to_json())

    @classmethod
    def load(cls, data: Path) -> ServeSettings:
        doc = json.loads((Path(data) / "server.json").read_text())
        doc["data"] = Path(doc["data"])
        doc["results"] = Path(doc["results"]) if doc.get("results") else None
        return cls(**doc)


def api_keys_from(option: tuple[str, ...] | list[str]) -> list[str]:
    """Keys from ``--api-key`` (repeatable) and ``HEIHACHI_API_KEY`` (comma separated)."""
    keys = [k for k in option if k]
    env = os.environ.get("HEIHACHI_API_KEY", "")
    keys += [k.strip() for k in env.split(",") if k.strip()]
    return keys

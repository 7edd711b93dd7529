"""The ``--data`` layout, safe names and uploads.

::

    DATA/jobs.sqlite                   the job store
    DATA/server.json                   the running server's settings (for its workers)
    DATA/jobs/<id>/input/<file>        what the client uploaded (name made safe)
    DATA/jobs/<id>/out/                a CLI output folder: summary.json, <track>/<task>.json
    DATA/index/                        the semantic index of ``semantic/analyze``
    DATA/tmp/                          spooled request bodies (TMPDIR of the server)

Every path a request names is resolved and checked to lie inside its root
(:func:`inside`), and every name a client sends becomes a plain file name
(:func:`safe_filename`), so no request can read or write outside ``--data``.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import BinaryIO

from heihachi.errors import HeihachiError

_CHUNK = 1 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9._+\-() ]+")
JOB_ID = re.compile(r"^[0-9a-f]{32}$")


class RequestError(HeihachiError):
    """A request the server refuses: carries the HTTP status and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def safe_filename(name: str | None, default: str = "upload") -> str:
    """A plain file name from whatever a client sent: the last path component only, no
    control or shell characters, no leading dot, at most 120 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFKC", base)
    base = "".join(ch for ch in base if ch.isprintable())
    base = _UNSAFE.sub("_", base).strip(" .")
    if not base or base in (".", ".."):
        base = default
    stem, dot, ext = base.rpartition(".")
    if dot and len(ext) <= 8:
        return stem[:110].rstrip(" .") + "." + ext.lower() if stem else default + "." + ext
    return base[:120]


def inside(root: Path, relative: str) -> Path:
    """``root/relative``, refused (404) unless it resolves to a path inside ``root``."""
    if not relative or "\x00" in relative or relative.startswith(("/", "\\")) or \
            re.match(r"^[A-Za-z]:", relative):
        raise RequestError(404, f"no such file: {relative!r}")
    root = root.resolve()
    target = (root / relative).resolve()
    if target != root and root not in target.parents:
        raise RequestError(404, f"no such file: {relative!r}")
    return target


def job_dir(jobs_root: Path, job_id: str) -> Path:
    if not JOB_ID.match(job_id):
        raise RequestError(404, f"no job {job_id!r}")
    return jobs_root / job_id


def save_stream(src: BinaryIO, dest: Path, max_bytes: int) -> int:
    """Copy ``src`` to ``dest`` in 1 MiB chunks (never whole in memory); 413 past
    ``max_bytes``, 400 for an empty file. Returns the size written.

    No fsync: like the job store (SQLite WAL, synchronous=NORMAL) an accepted upload
    survives a crash of the server process, which is what the queue promises; a power
    cut may lose the last moments of both, consistently."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    try:
        with open(dest, "wb") as out:
            while chunk := src.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise RequestError(413, f"{dest.name}: upload larger than the server's "
                                            f"limit of {max_bytes // (1 << 20)} MiB")
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    if size == 0:
        dest.unlink(missing_ok=True)
        raise RequestError(400, f"{dest.name}: the upload is empty (0 bytes); send an audio "
                                "file")
    return size


def probe_upload(path: Path, shown_name: str) -> float | None:
    """Probe the saved upload as audio (content, not extension): its duration in seconds.

    Raises:
        RequestError: 415 when it is not audio a decoder recognises, 400 when it holds
            no samples.
    """
    from heihachi.errors import AudioError, EmptyAudioError
    from heihachi.runtime.audio import probe

    try:
        info = probe(path)
    except EmptyAudioError as e:
        raise RequestError(400, f"{shown_name}: {e.reason}") from None
    except AudioError as e:
        raise RequestError(415, f"{shown_name}: not audio a decoder recognises ({e.reason}); "
                                "send wav, flac, ogg, mp3, aiff, m4a or opus") from None
    return info.duration


def remove_tree(path: Path) -> None:
    """Delete a job folder (ignores one that is already gone)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)

"""Atomic file writes: write a hidden temp file in the target's folder, then ``os.replace``.

An interrupted run never leaves a half-written file under a real name that a resumed
run would trust. Temp files are named ``.tmp-<name>.<random><suffix>`` (the real
suffix kept, so writers that pick a format by extension still do), and
:func:`remove_stale_temp_files` clears the ones a killed run left behind. Files get
the mode any tool's new files get (``0666`` less the umask), not mkstemp's ``0600``.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TMP_PREFIX = ".tmp-"


def current_umask() -> int:
    """The process umask, read without changing it where Linux allows (no race with
    threads creating files); elsewhere set and restored at once."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temp path next to ``path`` (same suffix); moved onto ``path`` if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{path.name}.", suffix=path.suffix,
                               dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes 0600; follow the umask
    finally:
        os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, write: Callable[[Any], None], mode: str = "wb") -> Path:
    """Write ``path`` through ``write(fileobj)`` on a temp file, fsync it, rename it in place."""
    with atomic_path(path) as tmp, open(tmp, mode) as f:
        write(f)
        f.flush()
        os.fsync(f.fileno())
    return Path(path)


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return ``path``."""
    return atomic_write(path, lambda f: f.write(data))


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return ``path``."""
    return write_bytes(path, text.encode("utf-8"))


def atomic_write_text(path: Path, text: str) -> Path:
    return write_text(path, text)


def atomic_write_json(path: Path, doc: Any) -> Path:
    return write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def atomic_save_npz(path: Path, arrays: dict[str, Any]) -> Path:
    import numpy as np

    buf = io.BytesIO()
    # Uncompressed: float32 embeddings shrink only ~7% with zlib, at 12x the write time
    # (0.24 s vs 0.02 s for 1500 x 768), which made writing a bottleneck of hf extract.
    np.savez(buf, **arrays)
    return write_bytes(path, buf.getvalue())


def remove_stale_temp_files(directory: Path) -> None:
    """Delete temp files a killed run left behind in ``directory``."""
    if directory.is_dir():
        for p in directory.glob(TMP_PREFIX + "*"):
            p.unlink(missing_ok=True)

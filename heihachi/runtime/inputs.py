"""What a run reads: input paths expanded to audio files, their track names and identity.

``expand_inputs`` turns files, directories and ``.txt`` lists into sorted absolute
paths; ``assign_track_names`` names each file's output directory; a file's
``source_fingerprint`` (size, mtime) tells a rerun whether it changed, and its
``content_hash`` (sha256 of the bytes) identifies it in the semantic index.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heihachi.errors import UsageError


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes: an unchanged file is a no-op to re-add."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def source_fingerprint(path: Path) -> dict[str, Any]:
    """Size and mtime: cheap, and enough to notice a file that changed since its output."""
    st = path.stat()
    return {"size": st.st_size, "mtime": round(st.st_mtime, 3)}


@dataclass
class Track:
    """One input file and the name of its output directory."""

    path: Path
    name: str

    def dir(self, out: Path) -> Path:
        return out / self.name


def assign_track_names(paths: list[Path]) -> list[Track]:
    """Name each output dir after the file stem; disambiguate equal stems with a path hash."""
    stems: dict[str, int] = {}
    for p in paths:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    tracks = []
    for p in paths:
        name = p.stem
        if stems[p.stem] > 1:
            name = f"{p.stem}-{hashlib.sha1(str(p).encode()).hexdigest()[:6]}"
        tracks.append(Track(p, name))
    return tracks


def expand_inputs(inputs: list[str | Path]) -> list[Path]:
    """Files, directories (recursive, audio extensions) and ``.txt`` file lists -> sorted paths.

    A named file that does not exist is kept, so it is reported as failed
    rather than silently dropped; a missing directory or list is a usage error.
    """
    from heihachi.runtime.audio import is_audio_path

    found: set[Path] = set()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for root, _dirs, files in os.walk(p):
                for name in files:
                    f = Path(root) / name
                    if is_audio_path(f):
                        found.add(f.absolute())
        elif p.suffix.lower() in (".txt", ".lst", ".m3u") and p.is_file():
            base = p.parent
            for line in p.read_text().splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    q = Path(line)
                    found.add((q if q.is_absolute() else base / q).absolute())
        elif p.exists() or is_audio_path(p):
            found.add(p.absolute())
        else:
            raise UsageError(f"input not found: {p} (give audio files, directories or a .txt "
                             "list of paths)")
    return sorted(found)

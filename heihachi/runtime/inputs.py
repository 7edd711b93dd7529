"""What a run reads: input paths expanded to audio files, their track names and identity.

``expand_inputs`` turns files, directories and ``.txt`` lists into sorted absolute
paths, each file once however many ways it was reached; ``assign_track_names``
names each file's output directory; a file's
``source_fingerprint`` (size, mtime) tells a rerun whether it changed, and its
``content_hash`` (sha256 of the bytes) identifies it in the semantic index.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


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

    Symlinked folders inside a directory are walked too (each real folder once, so a
    link to an ancestor cannot loop). A file reached by several paths (a symlink,
    ``..``, a list naming it again) is kept once, by its real path when that was given.
    An input that does not exist, file or folder alike, is kept, so the run reports it
    as failed and the other inputs still run.
    """
    found: dict[str, Path] = {}  # real path -> the path kept for it
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            for f in _walk_audio(p):
                _keep(found, f)
        elif p.suffix.lower() in (".txt", ".lst", ".m3u") and p.is_file():
            base = p.parent
            for line in p.read_text().splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    q = Path(line)
                    _keep(found, q if q.is_absolute() else base / q)
        else:
            _keep(found, p)  # an audio file, or a missing one: reported as failed
    return sorted(found.values())


def _walk_audio(folder: Path) -> list[Path]:
    """Audio files under ``folder``, following symlinked folders, each real folder once."""
    from heihachi.runtime.audio import is_audio_path

    seen: set[str] = set()
    out = []
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []  # a link back to a folder already walked
            continue
        seen.add(real)
        dirs.sort()
        out.extend(Path(root) / name for name in sorted(files)
                   if is_audio_path(Path(root) / name))
    return out


def _keep(found: dict[str, Path], path: Path) -> None:
    """Record ``path`` under its real path; prefer the path that is the real one, else the
    shortest, so output names do not depend on which alias came first."""
    path = Path(os.path.normpath(path.absolute()))
    real = os.path.realpath(path)
    kept = found.get(real)
    if kept is None or _rank(path, real) < _rank(kept, real):
        found[real] = path


def _rank(path: Path, real: str) -> tuple[bool, int, str]:
    return (str(path) != real, len(str(path)), str(path))

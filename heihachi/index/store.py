"""On-disk layout of the semantic index: manifest, lock and metadata store.

An index directory holds immutable *generations*. Each committed generation is
a pair of files written once and never modified afterwards::

    MANIFEST.json          the commit point: names the current pair
    index.<gen>.faiss      the FAISS vectors of generation <gen>
    meta.<gen>.sqlite      the metadata (tracks, segments) of generation <gen>
    .lock                  fcntl.flock target serialising writers
    .read.lock             shared by readers while they open a generation, exclusive
                           for garbage collection only — so a long write (IVF
                           training) never blocks readers, and GC never deletes
                           a file a reader is about to open

A writer (under the exclusive lock) copies the committed metadata file to a
temp file, changes it in one SQLite transaction, writes the FAISS index to a
temp file, fsyncs both, renames them to their generation names, and finally
renames a new ``MANIFEST.json`` into place. Until that last rename the old
manifest still names the old, untouched pair, so a process killed at any moment
leaves either the old or the new state, never a torn one. Files that no
manifest names (temp files of a killed writer, superseded generations) are
garbage-collected by the next writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from heihachi.errors import HeihachiError

MANIFEST = "MANIFEST.json"
LOCK = ".lock"  # writers: exclusive around a whole read-modify-write
READ_LOCK = ".read.lock"  # readers: shared while opening files; GC: exclusive
FORMAT = "heihachi.index/1"
_GENERATION_FILE = re.compile(r"^(index|meta)\.(\d+)\.(faiss|sqlite)$")
_TEMP_MARK = ".tmp-"


class IndexStoreError(HeihachiError):
    """The semantic index directory is unusable or a call does not fit it."""


class IndexDimensionError(IndexStoreError):
    """Vectors of the wrong dimension were given to an index."""


class IndexCorruptError(IndexStoreError):
    """The files of an index directory disagree with each other."""


@dataclass
class Manifest:
    """The commit record of an index directory: which pair of files is current.

    ``kind`` is the kind the user asked for (auto, flat, ivf, hnsw); ``index_type``
    the FAISS structure actually stored; ``trained_n`` how many vectors an IVF
    index was trained on (it is retrained when the index outgrows that fourfold).
    """

    generation: int
    meta_file: str
    index_file: str | None
    dim: int | None
    metric: str
    kind: str
    index_type: str = ""
    trained_n: int = 0
    format: str = FORMAT
    committed: float = field(default_factory=time.time)


def fsync_path(path: Path, *, directory: bool = False) -> None:
    """Flush a file (or a directory entry table) to stable storage."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(final: str) -> str:
    """A per-process temp name beside ``final``; GC removes it if never renamed."""
    return f"{final}{_TEMP_MARK}{os.getpid()}"


def read_manifest(root: Path) -> Manifest | None:
    """Read the committed manifest, or None when the directory holds no index yet."""
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"{path}: unreadable manifest ({exc}); the index directory is damaged — "
            f"rebuild it with `heihachi index add` into a new directory") from exc
    if data.get("format") != FORMAT:
        raise IndexStoreError(f"{path}: format {data.get('format')!r} is not {FORMAT!r}; "
                              f"this index was written by another version of Heihachi")
    return Manifest(**data)


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Atomically replace the manifest: the commit point of a write."""
    final = root / MANIFEST
    tmp = root / temp_name(MANIFEST)
    with open(tmp, "w") as fh:
        json.dump(asdict(manifest), fh, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    fsync_path(root, directory=True)


def collect_garbage(root: Path, manifest: Manifest) -> None:
    """Delete generation and temp files the manifest does not name (caller holds the lock)."""
    keep = {manifest.meta_file, manifest.index_file}
    for entry in root.iterdir():
        name = entry.name
        if name in keep:
            continue
        if _TEMP_MARK in name or _GENERATION_FILE.match(name):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()


@contextlib.contextmanager
def directory_lock(root: Path, *, exclusive: bool, name: str = LOCK) -> Iterator[None]:
    """Hold ``flock`` on ``root/name`` (exclusive or shared).

    The kernel drops the lock when its holder dies, so a SIGKILLed writer never
    leaves the directory locked. A read-only directory without a lock file is
    read unlocked: nobody can be writing to it.
    """
    path = root / name
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        if exclusive:
            raise
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            yield
            return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the flock


_SCHEMA = """
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tracks (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    model_id TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    dim INTEGER NOT NULL,
    added REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS segments (
    id INTEGER PRIMARY KEY,          -- the FAISS vector id
    track_id INTEGER NOT NULL REFERENCES tracks(id),
    start REAL NOT NULL,
    "end" REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS segments_track ON segments(track_id);
-- vector ids still inside an HNSW graph (which cannot delete) but no longer live
CREATE TABLE IF NOT EXISTS tombstones (id INTEGER PRIMARY KEY);
"""


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """One indexed track as stored in the ``tracks`` table."""

    id: int
    path: str
    content_hash: str
    model_id: str
    config_hash: str
    dim: int
    added: float


@dataclass
class MetadataSnapshot:
    """The metadata of one committed generation, held in memory for fast lookups.

    Segment arrays are sorted by vector id so a batch of FAISS labels maps to
    tracks and times with one ``np.searchsorted`` — no SQL on the query path.
    """

    tracks: dict[str, TrackRecord]
    track_paths: dict[int, str]
    seg_ids: np.ndarray  # int64, sorted
    seg_track: np.ndarray  # int64 track id per segment
    seg_start: np.ndarray  # float64
    seg_end: np.ndarray  # float64
    tombstones: np.ndarray  # int64, sorted
    next_id: int
    seg_path: np.ndarray = field(init=False)  # object: the track path of each segment
    _dense: np.ndarray | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        by_id = np.empty(max(self.track_paths, default=-1) + 1, dtype=object)
        for tid, path in self.track_paths.items():
            by_id[tid] = path
        self.seg_path = by_id[self.seg_track]
        # vector id -> segment position as one array lookup, when ids are not too sparse;
        # the extra last slot is -1 so FAISS's "no result" label -1 maps to "not found"
        if self.next_id <= 4 * len(self.seg_ids) + 1_000_000:
            dense = np.full(self.next_id + 1, -1, dtype=np.int64)
            dense[self.seg_ids] = np.arange(len(self.seg_ids))
            self._dense = dense

    @classmethod
    def empty(cls) -> MetadataSnapshot:
        z = np.zeros(0, np.int64)
        return cls({}, {}, z, z, np.zeros(0), np.zeros(0), z, 0)

    def positions(self, labels: np.ndarray) -> np.ndarray:
        """Segment positions of FAISS labels; -1 for -1 labels and dead (tombstoned) ids."""
        if self._dense is not None:
            return self._dense[labels]
        if not len(self.seg_ids):
            return np.full(len(labels), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.seg_ids, labels), len(self.seg_ids) - 1)
        return np.where(self.seg_ids[pos] == labels, pos, -1)


def connect(path: Path) -> sqlite3.Connection:
    """Open a private (temp) metadata file for writing.

    The file is invisible to others until it is fsynced and renamed, and a crash
    simply discards it, so SQLite's own journal would only cost time.
    """
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.executescript(_SCHEMA)
    return con


def prepare_meta(root: Path, committed: str | None, final: str) -> Path:
    """Copy the committed metadata file to a temp file the writer may change."""
    tmp = root / temp_name(final)
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    if committed is not None:
        shutil.copyfile(root / committed, tmp)
    return tmp


def get_info(con: sqlite3.Connection, key: str, default: str | None = None) -> str | None:
    row = con.execute("SELECT value FROM info WHERE key=?", (key,)).fetchone()
    return row[0] if row else default


def set_info(con: sqlite3.Connection, key: str, value: object) -> None:
    con.execute("INSERT OR REPLACE INTO info(key, value) VALUES (?, ?)", (key, str(value)))


def load_snapshot(path: Path, generation: int) -> MetadataSnapshot:
    """Load a committed metadata file into memory, checking it is the named generation."""
    # committed files never change, so ``immutable`` skips SQLite's own locking
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        stored = get_info(con, "generation")
        if stored is None or int(stored) != generation:
            raise IndexCorruptError(
                f"{path}: holds generation {stored}, the manifest names {generation}; "
                f"the index directory was altered by hand — rebuild it")
        tracks: dict[str, TrackRecord] = {}
        for row in con.execute("SELECT id, path, content_hash, model_id, config_hash, dim, "
                               "added FROM tracks"):
            rec = TrackRecord(*row)
            tracks[rec.path] = rec
        rows = con.execute('SELECT id, track_id, start, "end" FROM segments ORDER BY id')
        seg = np.array(rows.fetchall(), dtype=np.float64).reshape(-1, 4)
        tomb = np.array([r[0] for r in con.execute("SELECT id FROM tombstones ORDER BY id")],
                        dtype=np.int64)
        next_id = int(get_info(con, "next_id", "0") or 0)
    except sqlite3.DatabaseError as exc:
        raise IndexCorruptError(f"{path}: unreadable metadata ({exc}); rebuild the index") \
            from exc
    finally:
        con.close()
    # vector ids stay below 2**53, so the float64 round trip is exact
    return MetadataSnapshot(
        tracks=tracks,
        track_paths={rec.id: p for p, rec in tracks.items()},
        seg_ids=seg[:, 0].astype(np.int64),
        seg_track=seg[:, 1].astype(np.int64),
        seg_start=np.ascontiguousarray(seg[:, 2]),
        seg_end=np.ascontiguousarray(seg[:, 3]),
        tombstones=tomb,
        next_id=next_id,
    )


def generation_file(kind: str, generation: int) -> str:
    """File name of one half of a generation pair (``kind`` is index or meta)."""
    return f"{kind}.{generation}.{'faiss' if kind == 'index' else 'sqlite'}"


def disk_size(root: Path, manifest: Manifest | None) -> int:
    """Bytes on disk of the committed generation."""
    if manifest is None:
        return 0
    total = 0
    for name in (manifest.meta_file, manifest.index_file, MANIFEST):
        if name:
            with contextlib.suppress(FileNotFoundError):
                total += (root / name).stat().st_size
    return total

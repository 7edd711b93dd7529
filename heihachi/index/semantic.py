"""The FAISS semantic index: segment embeddings of tracks, searchable by example or text.

A :class:`SemanticIndex` is a directory holding a FAISS index of L2-normalised
segment vectors (so inner product is cosine similarity) and a SQLite store of
what each vector is: which track, which ``[start, end)`` seconds, from which
content hash, model and config. Re-adding an unchanged file is a no-op, so
``heihachi index add`` over a collection only embeds what is new or changed.

The rooms of this package: :mod:`~heihachi.index.structures` (which FAISS
structure, built how), :mod:`~heihachi.index.store` (the generation/manifest
scheme that makes a SIGKILL at any moment harmless), :mod:`~heihachi.index.commit`
(one write) and :mod:`~heihachi.index.lookup` (labels -> hits). This class ties
them together under the directory's locks.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from heihachi.index.commit import (
    Commit,
    IndexSettings,
    IndexState,
    TrackVectors,
    checked,
    load_committed,
)
from heihachi.index.lookup import Hit, search_rows
from heihachi.index.store import (
    MANIFEST,
    READ_LOCK,
    IndexCorruptError,
    IndexDimensionError,
    IndexStoreError,
    Manifest,
    MetadataSnapshot,
    directory_lock,
    disk_size,
)
from heihachi.index.structures import (
    FLAT_MAX,
    KINDS,
    METRICS,
    apply_search_params,
    describe,
    normalised,
)

__all__ = [
    "Hit",
    "IndexCorruptError",
    "IndexDimensionError",
    "IndexStoreError",
    "SemanticIndex",
    "TrackVectors",
]


class SemanticIndex:
    """A directory of segment embeddings, searchable by cosine similarity.

    Args:
        path: the index directory (created on the first write).
        dim: expected vector dimension; checked against an existing index, and
            otherwise taken from the first vectors added.
        metric: ``"ip"`` (inner product = cosine on the normalised vectors) or
            ``"l2"``; None keeps an existing index's metric (``"ip"`` for a new one).
        kind: ``"auto"`` (exact flat up to ``flat_max`` vectors, IVF beyond),
            ``"flat"``, ``"ivf"`` or ``"hnsw"``; None keeps an existing index's
            kind (``"auto"`` for a new one). A different kind converts the index
            on the next write.
        nprobe: IVF lists visited per query (recall vs speed).
        ef_search: HNSW candidate list size per query (recall vs speed).
        flat_max: the size up to which ``"auto"`` keeps exact search.
    """

    def __init__(self, path: str | Path, *, dim: int | None = None, metric: str | None = None,
                 kind: str | None = None, nprobe: int = 16, ef_search: int = 64,
                 flat_max: int = FLAT_MAX) -> None:
        self.root = Path(path)
        if self.root.exists() and not self.root.is_dir():
            raise IndexStoreError(f"{self.root}: is a file, not an index directory; "
                                  f"give a directory path for the index")
        if metric is not None and metric not in METRICS:
            raise IndexStoreError(f"{self.root}: metric {metric!r} is not one of {METRICS}")
        if kind is not None and kind not in KINDS:
            raise IndexStoreError(f"{self.root}: index kind {kind!r} is not one of {KINDS}")
        if dim is not None and dim <= 0:
            raise IndexStoreError(f"{self.root}: dim must be positive, got {dim}")
        self._want_dim = dim
        self._want_metric = metric
        self._want_kind = kind
        self._nprobe = int(nprobe)
        self._ef_search = int(ef_search)
        self.flat_max = int(flat_max)
        self._manifest: Manifest | None = None
        self._index: Any = None
        self._meta = MetadataSnapshot.empty()
        self._stamp: tuple[int, int, int] | None = None
        self._loaded = False

    # -- loading ----------------------------------------------------------------

    @property
    def _settings(self) -> IndexSettings:
        return IndexSettings(self._want_dim, self._want_metric, self._want_kind, self._nprobe,
                             self._ef_search, self.flat_max)

    def _manifest_stamp(self) -> tuple[int, int, int] | None:
        """Identity of the committed manifest; a writer's rename always changes it."""
        try:
            st = os.stat(self.root / MANIFEST)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _refresh(self, *, locked: bool = False) -> None:
        """Load the committed generation if another process (or nobody yet) loaded it."""
        if self._loaded and self._manifest_stamp() == self._stamp:
            return
        if locked:
            self._load()
        else:
            with directory_lock(self.root, exclusive=False, name=READ_LOCK):
                self._load()

    def _load(self) -> None:
        """Read the manifest and the pair of files it names (caller holds a lock)."""
        stamp = self._manifest_stamp()
        state = load_committed(self.root, self._want_dim, self._nprobe, self._ef_search)
        self._manifest, self._index, self._meta = state.manifest, state.index, state.meta
        self._stamp, self._loaded = stamp, True

    def _invalidate(self) -> None:
        """Forget in-memory state (after a failed write it may be half-changed)."""
        self._manifest, self._index, self._meta = None, None, MetadataSnapshot.empty()
        self._stamp, self._loaded = None, False

    @property
    def nprobe(self) -> int:
        """IVF lists visited per query."""
        return self._nprobe

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._nprobe = int(value)
        if self._index is not None:
            apply_search_params(self._index, self._nprobe, self._ef_search)

    @property
    def ef_search(self) -> int:
        """HNSW candidate list size per query."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._ef_search = int(value)
        if self._index is not None:
            apply_search_params(self._index, self._nprobe, self._ef_search)

    @property
    def faiss_index(self) -> Any:
        """The loaded FAISS index (for benchmarks and inspection; do not modify it)."""
        self._refresh()
        return self._index

    # -- queries ----------------------------------------------------------------

    def __len__(self) -> int:
        """Number of live segment vectors."""
        self._refresh()
        return len(self._meta.seg_ids)

    def has(self, track: str | Path, content_hash: str, model_id: str, config_hash: str) -> bool:
        """Whether ``track`` is indexed from this content, model and config (skip embedding it)."""
        self._refresh()
        rec = self._meta.tracks.get(str(track))
        return rec is not None and (rec.content_hash, rec.model_id, rec.config_hash) == (
            content_hash, model_id, config_hash)

    def tracks(self) -> list[str]:
        """Paths of every indexed track, sorted."""
        self._refresh()
        return sorted(self._meta.tracks)

    @overload
    def search(self, query: Sequence[float], k: int = 10, *,
               per_track: bool = False) -> list[Hit]: ...
    @overload
    def search(self, query: np.ndarray, k: int = 10, *,
               per_track: bool = False) -> list[Hit] | list[list[Hit]]: ...

    def search(self, query: Any, k: int = 10, *,
               per_track: bool = False) -> list[Hit] | list[list[Hit]]:
        """The ``k`` segments most similar to ``query``, best first.

        Args:
            query: one vector ``[D]`` (returns ``list[Hit]``) or a batch ``[Q, D]``
                (returns one ``list[Hit]`` per query). Normalised here.
            k: how many hits per query.
            per_track: keep only the best segment of each track (k distinct tracks).
        """
        q = np.asarray(query, dtype=np.float32)
        single = q.ndim == 1
        if single:
            q = q[None, :]
        if q.ndim != 2:
            raise IndexStoreError(f"{self.root}: query must be [D] or [Q, D], got shape "
                                  f"{q.shape}")
        self._refresh()
        index = self._index
        if index is None or index.ntotal == 0 or k <= 0 or len(self._meta.seg_ids) == 0:
            return [] if single else [[] for _ in range(len(q))]
        if q.shape[1] != index.d:
            raise IndexDimensionError(
                f"{self.root}: query has dimension {q.shape[1]} but the index holds "
                f"{index.d}-dimensional vectors; embed the query with the model the index "
                f"was built with")
        metric = self._manifest.metric if self._manifest is not None else "ip"
        rows = search_rows(index, self._meta, metric, normalised(q), int(k), per_track)
        return rows[0] if single else rows

    def stats(self) -> dict[str, Any]:
        """What the index holds: counts, dimension, structure, models, size on disk."""
        self._refresh()
        m, meta = self._manifest, self._meta
        models: dict[str, int] = {}
        for rec in meta.tracks.values():
            models[rec.model_id] = models.get(rec.model_id, 0) + 1
        return {
            "path": str(self.root),
            "tracks": len(meta.tracks),
            "segments": len(meta.seg_ids),
            "dim": m.dim if m else self._want_dim,
            "metric": m.metric if m else (self._want_metric or "ip"),
            "kind": m.kind if m else (self._want_kind or "auto"),
            "index_type": describe(self._index) if self._index is not None else None,
            "model_ids": dict(sorted(models.items())),
            "tombstones": len(meta.tombstones),
            "generation": m.generation if m else 0,
            "nprobe": self._nprobe,
            "ef_search": self._ef_search,
            "size_bytes": disk_size(self.root, m),
        }

    # -- writes -----------------------------------------------------------------

    def add(self, track: str | Path, content_hash: str, starts: Any, ends: Any,
            vectors: np.ndarray, model_id: str, config_hash: str) -> bool:
        """Index one track's segment vectors; False when it is already indexed unchanged.

        A track indexed before from other content, model or config has its old
        vectors replaced.
        """
        item = TrackVectors(str(track), content_hash, starts, ends, vectors, model_id,
                            config_hash)
        return self.add_many([item])[0]

    def add_many(self, items: Iterable[TrackVectors]) -> list[bool]:
        """Index many tracks in one commit (one FAISS write, one metadata file).

        Returns, per item, whether it changed the index (False: unchanged re-add).
        A track that appears twice in ``items`` ends with its last version.
        """
        batch = list(items)
        if not batch:
            return []
        dim = self._manifest.dim if self._manifest and self._manifest.dim else self._want_dim
        prepared = [checked(item, self.root, dim) for item in batch]
        self.root.mkdir(parents=True, exist_ok=True)
        with directory_lock(self.root, exclusive=True):
            self._refresh(locked=True)
            return self._write(prepared, [])

    def remove(self, track: str | Path) -> int:
        """Drop a track from the index; returns how many segment vectors went with it."""
        if not self.root.is_dir():
            return 0
        with directory_lock(self.root, exclusive=True):
            self._refresh(locked=True)
            rec = self._meta.tracks.get(str(track))
            if rec is None:
                return 0
            n = int(np.count_nonzero(self._meta.seg_track == rec.id))
            self._write([], [str(track)])
            return n

    def _write(self, adds: list[TrackVectors], removes: list[str]) -> list[bool]:
        """One commit on the loaded state; the caller holds the exclusive lock."""
        state = IndexState(self._manifest, self._index, self._meta)
        try:
            changed, new = Commit(self.root, state, self._settings).run(adds, removes)
        except BaseException:
            self._invalidate()
            raise
        if new is not None:
            self._manifest, self._index, self._meta = new.manifest, new.index, new.meta
            self._stamp = self._manifest_stamp()
        return changed

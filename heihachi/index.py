"""The FAISS semantic index: segment embeddings of tracks, searchable by example or text.

A :class:`SemanticIndex` is a directory holding a FAISS index of L2-normalised
segment vectors (so inner product is cosine similarity) and a SQLite store of
what each vector is: which track, which ``[start, end)`` seconds, from which
content hash, model and config. Re-adding an unchanged file is a no-op, so
``heihachi index add`` over a collection only embeds what is new or changed.

The index structure follows the collection size: exact ``IndexFlatIP`` up to
``flat_max`` vectors (a million by default), then IVF; HNSW when asked for.
Writes are crash-safe and process-safe; see :mod:`heihachi.index_store` for the
generation/manifest scheme that makes a SIGKILL at any moment harmless.

faiss is imported inside methods so that importing this module (and starting
the CLI) stays fast.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np

from heihachi.index_store import (
    MANIFEST,
    READ_LOCK,
    IndexCorruptError,
    IndexDimensionError,
    IndexStoreError,
    Manifest,
    MetadataSnapshot,
    collect_garbage,
    connect,
    directory_lock,
    disk_size,
    fsync_path,
    generation_file,
    get_info,
    load_snapshot,
    prepare_meta,
    read_manifest,
    set_info,
    temp_name,
    write_manifest,
)

if TYPE_CHECKING:
    from heihachi.results import SegmentEmbeddings

__all__ = [
    "Hit",
    "IndexCorruptError",
    "IndexDimensionError",
    "IndexStoreError",
    "SemanticIndex",
    "TrackVectors",
]

KINDS = ("auto", "flat", "ivf", "hnsw")
METRICS = ("ip", "l2")
FLAT_MAX = 1_000_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
IVF_TRAIN_PER_LIST = 50  # FAISS warns below 39 training points per list
IVF_NITER = 10
IVF_RETRAIN_GROWTH = 4  # retrain when the index holds 4x what IVF was trained on
HNSW_COMPACT_FRACTION = 0.25  # rebuild HNSW when this share of its vectors are dead
_SEED = 1234


def _faiss() -> Any:
    import faiss

    return faiss


@dataclass(slots=True)
class Hit:
    """One search result: a segment of a track and its similarity (higher is better).

    Not frozen: frozen dataclasses cost several times more to create, and search
    creates one per result on the hot path.
    """

    track: str
    start: float
    end: float
    score: float


@dataclass
class TrackVectors:
    """Everything the index stores for one track: one vector per ``[start, end)`` segment."""

    track: str
    content_hash: str
    starts: np.ndarray
    ends: np.ndarray
    vectors: np.ndarray  # [N, D]
    model_id: str
    config_hash: str

    @classmethod
    def from_segments(cls, track: str | Path, content_hash: str, segments: SegmentEmbeddings,
                      model_id: str, config_hash: str) -> TrackVectors:
        """Wrap an extractor's :class:`~heihachi.results.SegmentEmbeddings` for one track."""
        return cls(str(track), content_hash, segments.starts, segments.ends, segments.vectors,
                   model_id, config_hash)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    """A float32, C-contiguous, row-wise L2-normalised copy (zero rows stay zero)."""
    out = np.array(vectors, dtype=np.float32, copy=True, order="C")
    if out.size:
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
    return out


def _kind_of(index: Any) -> str:
    """Which of flat / ivf / hnsw a FAISS index is."""
    faiss = _faiss()
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(inner, faiss.IndexIVF):
        return "ivf"
    return "flat"


def _describe(index: Any) -> str:
    """A factory-string-like name of the stored structure, for ``stats()``."""
    faiss = _faiss()
    kind = _kind_of(index)
    if kind == "ivf":
        return f"IVF{faiss.extract_index_ivf(index).nlist},Flat"
    if kind == "hnsw":
        return f"IDMap2,HNSW{faiss.downcast_index(index.index).hnsw.nb_neighbors(1)},Flat"
    return "IDMap2,Flat"


def _export(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """All (ids, vectors) stored in an index, to rebuild it as another structure."""
    faiss = _faiss()
    if index.ntotal == 0:
        return np.zeros(0, np.int64), np.zeros((0, index.d), np.float32)
    if _kind_of(index) == "ivf":
        from faiss.contrib.inspect_tools import get_invlist

        ivf = faiss.extract_index_ivf(index)
        ids, vecs = [], []
        for lst in range(ivf.nlist):
            if ivf.invlists.list_size(lst):
                list_ids, codes = get_invlist(ivf.invlists, lst)
                ids.append(np.asarray(list_ids, np.int64))
                vecs.append(np.asarray(codes).view(np.float32).reshape(-1, ivf.d))
        return np.concatenate(ids), np.concatenate(vecs)
    ids = faiss.vector_to_array(index.id_map).astype(np.int64)
    inner = faiss.downcast_index(index.index)
    storage = faiss.downcast_index(inner.storage) if isinstance(inner, faiss.IndexHNSW) else inner
    return ids, storage.reconstruct_n(0, storage.ntotal)


def _nlist(n: int) -> int:
    """IVF list count: about 4*sqrt(N), but never so many that lists go untrained."""
    return max(1, min(int(4 * math.sqrt(n)), n // IVF_TRAIN_PER_LIST))


def _build(kind: str, dim: int, metric: str, ids: np.ndarray,
           vectors: np.ndarray) -> tuple[Any, int]:
    """A new FAISS index of ``kind`` holding ``vectors`` under ``ids``.

    Returns the index and how many vectors IVF was trained on (0 for others).
    """
    faiss = _faiss()
    mt = faiss.METRIC_INNER_PRODUCT if metric == "ip" else faiss.METRIC_L2
    trained = 0
    if kind == "ivf":
        nlist = _nlist(len(ids))
        index = faiss.IndexIVFFlat(faiss.IndexFlat(dim, mt), dim, nlist, mt)
        index.cp.niter = IVF_NITER
        index.cp.min_points_per_centroid = 1  # _nlist already keeps lists well fed
        index.cp.spherical = metric == "ip"  # centroids on the unit sphere, like the data
        n_train = min(len(ids), IVF_TRAIN_PER_LIST * nlist)
        sample = np.random.default_rng(_SEED).choice(len(ids), n_train, replace=False)
        index.train(vectors[np.sort(sample)])
        trained = len(ids)
    elif kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, HNSW_M, mt)
        hnsw.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index = faiss.IndexIDMap2(hnsw)
    else:
        index = faiss.IndexIDMap2(faiss.IndexFlat(dim, mt))
    if len(ids):
        index.add_with_ids(vectors, ids)
    return index, trained


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
        manifest = read_manifest(self.root)
        index: Any = None
        meta = MetadataSnapshot.empty()
        if manifest is not None:
            if self._want_dim is not None and manifest.dim not in (None, self._want_dim):
                raise IndexDimensionError(
                    f"{self.root}: index holds {manifest.dim}-dimensional vectors but "
                    f"dim={self._want_dim} was asked for; use the model the index was built "
                    f"with, or a new index directory")
            meta = load_snapshot(self.root / manifest.meta_file, manifest.generation)
            if manifest.index_file:
                index = _faiss().read_index(str(self.root / manifest.index_file))
                expected = len(meta.seg_ids) + len(meta.tombstones)
                if index.ntotal != expected:
                    raise IndexCorruptError(
                        f"{self.root}: {manifest.index_file} holds {index.ntotal} vectors but "
                        f"{manifest.meta_file} describes {expected}; rebuild the index")
                self._apply_search_params(index)
        self._manifest, self._index, self._meta = manifest, index, meta
        self._stamp, self._loaded = stamp, True

    def _invalidate(self) -> None:
        """Forget in-memory state (after a failed write it may be half-changed)."""
        self._manifest, self._index, self._meta = None, None, MetadataSnapshot.empty()
        self._stamp, self._loaded = None, False

    def _apply_search_params(self, index: Any) -> None:
        faiss = _faiss()
        kind = _kind_of(index)
        if kind == "ivf":
            faiss.extract_index_ivf(index).nprobe = self._nprobe
        elif kind == "hnsw":
            faiss.downcast_index(index.index).hnsw.efSearch = self._ef_search

    @property
    def nprobe(self) -> int:
        """IVF lists visited per query."""
        return self._nprobe

    @nprobe.setter
    def nprobe(self, value: int) -> None:
        self._nprobe = int(value)
        if self._index is not None:
            self._apply_search_params(self._index)

    @property
    def ef_search(self) -> int:
        """HNSW candidate list size per query."""
        return self._ef_search

    @ef_search.setter
    def ef_search(self, value: int) -> None:
        self._ef_search = int(value)
        if self._index is not None:
            self._apply_search_params(self._index)

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
        rows = self._search_rows(_normalised(q), int(k), per_track)
        return rows[0] if single else rows

    def _search_rows(self, q: np.ndarray, k: int, per_track: bool) -> list[list[Hit]]:
        """Search, map labels to segments, and over-fetch again where hits ran short."""
        index, meta = self._index, self._meta
        ntotal = index.ntotal
        fetch = k
        if per_track:
            fetch = max(4 * k, k + 32)
        if len(meta.tombstones):
            fetch += min(len(meta.tombstones), 4 * k)
        fetch = min(fetch, ntotal)
        out: list[list[Hit]] = [[] for _ in range(len(q))]
        pending = np.arange(len(q))
        while len(pending):
            scores, labels = index.search(q if len(pending) == len(q) else q[pending], fetch)
            if self._manifest is not None and self._manifest.metric == "l2":
                scores = -scores  # smaller distance = more similar; keep "higher is better"
            short: list[int] = []
            for row, hits in zip(pending.tolist(), self._to_hits(scores, labels, k, per_track),
                                 strict=True):
                out[row] = hits
                if len(hits) < k and fetch < ntotal:
                    short.append(row)
            pending = np.asarray(short, dtype=np.int64)
            fetch = min(ntotal, fetch * 4)
        return out

    def _to_hits(self, scores: np.ndarray, labels: np.ndarray, k: int,
                 per_track: bool) -> list[list[Hit]]:
        """Turn FAISS ``(scores, labels)`` rows into hits with one vectorised id lookup."""
        meta = self._meta
        pos = meta.positions(labels.ravel())  # -1: no result, or a tombstoned vector
        paths = meta.seg_path[pos].tolist()
        starts = meta.seg_start[pos].tolist()
        ends = meta.seg_end[pos].tolist()
        flat_scores = scores.ravel().tolist()
        width = labels.shape[1]
        if not per_track and width == k and bool((pos >= 0).all()):
            # the common case: k live hits per row, built without a Python-level loop
            hits = list(map(Hit, paths, starts, ends, flat_scores))
            return [hits[i:i + k] for i in range(0, len(hits), k)]
        valid = (pos >= 0).tolist()
        result: list[list[Hit]] = []
        for lo in range(0, len(paths), width):
            row: list[Hit] = []
            seen: set[str] = set()
            for i in range(lo, lo + width):
                if not valid[i] or (per_track and paths[i] in seen):
                    continue
                seen.add(paths[i])
                row.append(Hit(paths[i], starts[i], ends[i], flat_scores[i]))
                if len(row) == k:
                    break
            result.append(row)
        return result

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
            "index_type": _describe(self._index) if self._index is not None else None,
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
        prepared = [self._checked(item) for item in batch]
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

    def _checked(self, item: TrackVectors) -> TrackVectors:
        """Validate shapes and values; return a copy with normalised float32 vectors."""
        vectors = np.asarray(item.vectors)
        if vectors.ndim != 2:
            raise IndexStoreError(f"{item.track}: vectors must be [N, D], got shape "
                                  f"{vectors.shape}")
        starts = np.asarray(item.starts, dtype=np.float64).reshape(-1)
        ends = np.asarray(item.ends, dtype=np.float64).reshape(-1)
        if not len(starts) == len(ends) == len(vectors):
            raise IndexStoreError(f"{item.track}: {len(vectors)} vectors but {len(starts)} "
                                  f"starts and {len(ends)} ends; give one time span per vector")
        if not np.isfinite(vectors).all():
            raise IndexStoreError(f"{item.track}: vectors contain NaN or inf; the model output "
                                  f"is broken for this file, so it cannot be indexed")
        dim = self._manifest.dim if self._manifest and self._manifest.dim else self._want_dim
        if dim is not None and vectors.shape[1] != dim:
            raise IndexDimensionError(
                f"{self.root}: index holds {dim}-dimensional vectors but {item.track} has "
                f"{vectors.shape[1]}; embed with the model the index was built with, or use "
                f"a new index directory for this model")
        return TrackVectors(item.track, item.content_hash, starts, ends, _normalised(vectors),
                            item.model_id, item.config_hash)

    def _target_kind(self, kind: str, n: int) -> str:
        if n == 0:
            return "flat"  # IVF cannot train and HNSW gains nothing on nothing
        if kind == "auto":
            return "flat" if n <= self.flat_max else "ivf"
        return kind

    def _write(self, adds: list[TrackVectors], removes: list[str]) -> list[bool]:
        """One read-modify-write commit; the caller holds the exclusive lock."""
        old = self._manifest
        dims = {item.vectors.shape[1] for item in adds}
        dim = old.dim if old and old.dim else (self._want_dim or (min(dims) if dims else None))
        for item in adds:
            if item.vectors.shape[1] != dim:
                raise IndexDimensionError(
                    f"{self.root}: index holds {dim}-dimensional vectors but {item.track} has "
                    f"{item.vectors.shape[1]}; embed with the model the index was built with, "
                    f"or use a new index directory for this model")
        metric = old.metric if old else (self._want_metric or "ip")
        if self._want_metric and self._want_metric != metric:
            raise IndexStoreError(f"{self.root}: index uses metric {metric!r}, not "
                                  f"{self._want_metric!r}; open it without metric= or use a new "
                                  f"directory")
        kind = self._want_kind or (old.kind if old else "auto")
        generation = (old.generation if old else 0) + 1
        meta_final = generation_file("meta", generation)
        index_final = generation_file("index", generation)
        tmp_meta = prepare_meta(self.root, old.meta_file if old else None, meta_final)
        tmp_index = self.root / temp_name(index_final)
        try:
            con = connect(tmp_meta)
            try:
                con.execute("BEGIN")
                changed, next_id, removed, new_ids, new_vecs = self._write_metadata(
                    con, adds, removes)
                if not any(changed) and not len(removed):
                    con.execute("ROLLBACK")
                    return changed
                index, _, trained = self._apply_vectors(
                    con, kind, dim, metric, removed, new_ids, new_vecs)
                set_info(con, "generation", generation)
                set_info(con, "next_id", next_id)
                con.execute("COMMIT")
            finally:
                con.close()
            fsync_path(tmp_meta)
            _faiss().write_index(index, str(tmp_index))
            fsync_path(tmp_index)
            os.replace(tmp_index, self.root / index_final)
            os.replace(tmp_meta, self.root / meta_final)
            fsync_path(self.root, directory=True)
            manifest = Manifest(
                generation=generation, meta_file=meta_final, index_file=index_final, dim=dim,
                metric=metric, kind=kind, index_type=_describe(index),
                trained_n=trained if trained else (old.trained_n if old else 0))
            write_manifest(self.root, manifest)  # the commit point
        except BaseException:
            self._invalidate()
            for tmp in (tmp_meta, tmp_index):
                with contextlib.suppress(OSError):
                    tmp.unlink()
            raise
        finally:
            with contextlib.suppress(OSError):
                tmp_meta.unlink()  # left only when nothing changed (rolled back)
        self._manifest, self._index = manifest, index
        self._meta = load_snapshot(self.root / meta_final, generation)
        self._stamp = self._manifest_stamp()
        with directory_lock(self.root, exclusive=True, name=READ_LOCK):
            collect_garbage(self.root, manifest)
        return changed

    def _write_metadata(self, con: Any, adds: list[TrackVectors], removes: list[str]
                        ) -> tuple[list[bool], int, np.ndarray, np.ndarray, np.ndarray]:
        """Apply adds and removes to the metadata transaction; say which vectors change."""
        next_id = int(get_info(con, "next_id", "0") or 0)
        changed: list[bool] = []
        removed: list[np.ndarray] = []
        new_ids: list[np.ndarray] = []
        new_vecs: list[np.ndarray] = []
        now = time.time()
        for item in adds:
            row = con.execute("SELECT id, content_hash, model_id, config_hash FROM tracks "
                              "WHERE path=?", (item.track,)).fetchone()
            if row and tuple(row[1:]) == (item.content_hash, item.model_id, item.config_hash):
                changed.append(False)
                continue
            if row:
                removed.append(self._drop_track(con, row[0]))
            cur = con.execute(
                "INSERT INTO tracks(path, content_hash, model_id, config_hash, dim, added) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (item.track, item.content_hash, item.model_id, item.config_hash,
                 item.vectors.shape[1], now))
            n = len(item.vectors)
            ids = np.arange(next_id, next_id + n, dtype=np.int64)
            next_id += n
            con.executemany('INSERT INTO segments(id, track_id, start, "end") VALUES (?,?,?,?)',
                            zip(ids.tolist(), repeat(cur.lastrowid), item.starts.tolist(),
                                item.ends.tolist(), strict=False))
            # a track re-added in the same batch drops its earlier version's new vectors
            new_ids.append(ids)
            new_vecs.append(item.vectors)
            changed.append(True)
        for track in removes:
            row = con.execute("SELECT id FROM tracks WHERE path=?", (track,)).fetchone()
            if row:
                removed.append(self._drop_track(con, row[0]))
        removed_ids = np.concatenate(removed) if removed else np.zeros(0, np.int64)
        add_ids = np.concatenate(new_ids) if new_ids else np.zeros(0, np.int64)
        dim = new_vecs[0].shape[1] if new_vecs else 0
        add_vecs = np.concatenate(new_vecs) if new_vecs else np.zeros((0, dim), np.float32)
        if len(removed_ids) and len(add_ids):
            # vectors added and dropped within this batch never reach FAISS
            keep = ~np.isin(add_ids, removed_ids)
            removed_ids = removed_ids[~np.isin(removed_ids, add_ids)]
            add_ids, add_vecs = add_ids[keep], add_vecs[keep]
        return changed, next_id, removed_ids, add_ids, add_vecs

    @staticmethod
    def _drop_track(con: Any, track_id: int) -> np.ndarray:
        ids = np.array([r[0] for r in con.execute(
            "SELECT id FROM segments WHERE track_id=?", (track_id,))], dtype=np.int64)
        con.execute("DELETE FROM segments WHERE track_id=?", (track_id,))
        con.execute("DELETE FROM tracks WHERE id=?", (track_id,))
        return ids

    def _apply_vectors(self, con: Any, kind: str, dim: int, metric: str, removed: np.ndarray,
                       add_ids: np.ndarray, add_vecs: np.ndarray) -> tuple[Any, str, int]:
        """Bring the FAISS index to the new state, rebuilding it when its structure must change.

        Returns (index, its kind, vectors IVF was trained on — 0 unless retrained).
        """
        index = self._index
        tombstones = self._meta.tombstones
        add_vecs = add_vecs.reshape(len(add_ids), dim)
        n_live = len(self._meta.seg_ids) - len(removed) + len(add_ids)
        target = self._target_kind(kind, n_live)
        old = self._manifest
        rebuild = index is None or _kind_of(index) != target
        if not rebuild and target == "ivf":
            rebuild = n_live > IVF_RETRAIN_GROWTH * max(old.trained_n if old else 0, 1)
        if not rebuild and target == "hnsw":
            dead = len(tombstones) + len(removed)
            rebuild = dead > HNSW_COMPACT_FRACTION * (index.ntotal + len(add_ids))
        if rebuild:
            if index is not None and index.ntotal:
                ids, vecs = _export(index)
                dead_ids = np.concatenate([removed, tombstones])
                keep = ~np.isin(ids, dead_ids)
                ids = np.concatenate([ids[keep], add_ids])
                vecs = np.concatenate([vecs[keep], add_vecs])
            else:
                ids, vecs = add_ids, add_vecs
            index, trained = _build(target, dim, metric, ids, vecs)
            con.execute("DELETE FROM tombstones")
        else:
            trained = 0
            if len(removed):
                if target == "hnsw":  # HNSW graphs cannot delete: hide the ids instead
                    con.executemany("INSERT INTO tombstones(id) VALUES (?)",
                                    ((i,) for i in removed.tolist()))
                else:
                    gone = index.remove_ids(removed)
                    if gone != len(removed):
                        raise IndexCorruptError(
                            f"{self.root}: removed {gone} of {len(removed)} vectors; the index "
                            f"and its metadata disagree — rebuild the index")
            if len(add_ids):
                index.add_with_ids(add_vecs, add_ids)
        self._apply_search_params(index)
        return index, target, trained

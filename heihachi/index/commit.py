"""Writing to the semantic index: one read-modify-write commit per ``add``/``remove``.

A commit copies the committed metadata to a temp file, applies the adds and
removes in one SQLite transaction, brings the FAISS index to the new state
(rebuilding it when its structure must change), writes both files under the next
generation's names and renames a new manifest into place — the commit point (see
:mod:`heihachi.index.store`). The caller holds the directory's exclusive lock.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from heihachi.index.store import (
    READ_LOCK,
    IndexCorruptError,
    IndexDimensionError,
    IndexStoreError,
    Manifest,
    MetadataSnapshot,
    collect_garbage,
    connect,
    directory_lock,
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
from heihachi.index.structures import (
    HNSW_COMPACT_FRACTION,
    IVF_RETRAIN_GROWTH,
    apply_search_params,
    build,
    describe,
    export_vectors,
    faiss_module,
    kind_of,
    normalised,
    target_kind,
)


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
    def from_segments(cls, track: str | Path, content_hash: str, segments: Any,
                      model_id: str, config_hash: str) -> TrackVectors:
        """Wrap an extractor's :class:`~heihachi.results.SegmentEmbeddings` for one track."""
        return cls(str(track), content_hash, segments.starts, segments.ends, segments.vectors,
                   model_id, config_hash)


@dataclass
class IndexState:
    """One committed generation as loaded in memory."""

    manifest: Manifest | None
    index: Any
    meta: MetadataSnapshot


@dataclass(frozen=True)
class IndexSettings:
    """What the opener of an index asked for (None: keep what the index has)."""

    dim: int | None
    metric: str | None
    kind: str | None
    nprobe: int
    ef_search: int
    flat_max: int


def load_committed(root: Path, want_dim: int | None, nprobe: int, ef_search: int
                   ) -> IndexState:
    """The generation the manifest names, checked for consistency (caller holds a lock)."""
    manifest = read_manifest(root)
    index: Any = None
    meta = MetadataSnapshot.empty()
    if manifest is not None:
        if want_dim is not None and manifest.dim not in (None, want_dim):
            raise IndexDimensionError(
                f"{root}: index holds {manifest.dim}-dimensional vectors but dim={want_dim} "
                f"was asked for; use the model the index was built with, or a new index "
                f"directory")
        meta = load_snapshot(root / manifest.meta_file, manifest.generation)
        if manifest.index_file:
            try:
                index = faiss_module().read_index(str(root / manifest.index_file))
            except RuntimeError as e:  # FAISS' C++ error: one line, not 30 lines of context
                reason = str(e).strip().splitlines()[-1].split(": ", 1)[-1] if str(e) else ""
                raise IndexCorruptError(
                    f"{root / manifest.index_file}: not a readable FAISS index ({reason[:160]}); "
                    "the index directory is damaged — rebuild it with `heihachi index add` "
                    "into a new directory") from None
            expected = len(meta.seg_ids) + len(meta.tombstones)
            if index.ntotal != expected:
                raise IndexCorruptError(
                    f"{root}: {manifest.index_file} holds {index.ntotal} vectors but "
                    f"{manifest.meta_file} describes {expected}; rebuild the index")
            apply_search_params(index, nprobe, ef_search)
    return IndexState(manifest, index, meta)


def dimension_error(root: Path, dim: int, track: str, got: int) -> IndexDimensionError:
    return IndexDimensionError(
        f"{root}: index holds {dim}-dimensional vectors but {track} has {got}; embed with "
        f"the model the index was built with, or use a new index directory for this model")


def checked(item: TrackVectors, root: Path, dim: int | None) -> TrackVectors:
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
    if dim is not None and vectors.shape[1] != dim:
        raise dimension_error(root, dim, item.track, vectors.shape[1])
    return TrackVectors(item.track, item.content_hash, starts, ends, normalised(vectors),
                        item.model_id, item.config_hash)


class Commit:
    """One write of ``adds`` and ``removes`` on top of the committed ``state``."""

    def __init__(self, root: Path, state: IndexState, settings: IndexSettings) -> None:
        self.root = root
        self.state = state
        self.settings = settings

    def run(self, adds: list[TrackVectors], removes: list[str]
            ) -> tuple[list[bool], IndexState | None]:
        """Commit; returns per-add "changed" flags and the new state (None: nothing changed).

        On any error the temp files are removed and the committed state is untouched.
        """
        root, want = self.root, self.settings
        old = self.state.manifest
        dims = {item.vectors.shape[1] for item in adds}
        dim = old.dim if old and old.dim else (want.dim or (min(dims) if dims else None))
        for item in adds:
            if item.vectors.shape[1] != dim:
                raise dimension_error(root, dim, item.track, item.vectors.shape[1])
        metric = old.metric if old else (want.metric or "ip")
        if want.metric and want.metric != metric:
            raise IndexStoreError(f"{root}: index uses metric {metric!r}, not {want.metric!r};"
                                  f" open it without metric= or use a new directory")
        kind = want.kind or (old.kind if old else "auto")
        generation = (old.generation if old else 0) + 1
        meta_final = generation_file("meta", generation)
        index_final = generation_file("index", generation)
        tmp_meta = prepare_meta(root, old.meta_file if old else None, meta_final)
        tmp_index = root / temp_name(index_final)
        try:
            con = connect(tmp_meta)
            try:
                con.execute("BEGIN")
                changed, next_id, removed, new_ids, new_vecs = self._write_metadata(
                    con, adds, removes)
                if not any(changed) and not len(removed):
                    con.execute("ROLLBACK")
                    return changed, None
                index, trained = self._apply_vectors(con, kind, dim, metric, removed, new_ids,
                                                     new_vecs)
                set_info(con, "generation", generation)
                set_info(con, "next_id", next_id)
                con.execute("COMMIT")
            finally:
                con.close()
            fsync_path(tmp_meta)
            faiss_module().write_index(index, str(tmp_index))
            fsync_path(tmp_index)
            os.replace(tmp_index, root / index_final)
            os.replace(tmp_meta, root / meta_final)
            fsync_path(root, directory=True)
            manifest = Manifest(
                generation=generation, meta_file=meta_final, index_file=index_final, dim=dim,
                metric=metric, kind=kind, index_type=describe(index),
                trained_n=trained if trained else (old.trained_n if old else 0))
            write_manifest(root, manifest)  # the commit point
        except BaseException:
            for tmp in (tmp_meta, tmp_index):
                with contextlib.suppress(OSError):
                    tmp.unlink()
            raise
        finally:
            with contextlib.suppress(OSError):
                tmp_meta.unlink()  # left only when nothing changed (rolled back)
        state = IndexState(manifest, index, load_snapshot(root / meta_final, generation))
        with directory_lock(root, exclusive=True, name=READ_LOCK):
            collect_garbage(root, manifest)
        return changed, state

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
                removed.append(_drop_track(con, row[0]))
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
                removed.append(_drop_track(con, row[0]))
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

    def _apply_vectors(self, con: Any, kind: str, dim: int, metric: str, removed: np.ndarray,
                       add_ids: np.ndarray, add_vecs: np.ndarray) -> tuple[Any, int]:
        """Bring the FAISS index to the new state, rebuilding it when its structure must change.

        Returns (index, vectors IVF was trained on — 0 unless retrained).
        """
        index, meta, old = self.state.index, self.state.meta, self.state.manifest
        tombstones = meta.tombstones
        add_vecs = add_vecs.reshape(len(add_ids), dim)
        n_live = len(meta.seg_ids) - len(removed) + len(add_ids)
        target = target_kind(kind, n_live, self.settings.flat_max)
        rebuild = index is None or kind_of(index) != target
        if not rebuild and target == "ivf":
            rebuild = n_live > IVF_RETRAIN_GROWTH * max(old.trained_n if old else 0, 1)
        if not rebuild and target == "hnsw":
            dead = len(tombstones) + len(removed)
            rebuild = dead > HNSW_COMPACT_FRACTION * (index.ntotal + len(add_ids))
        if rebuild:
            if index is not None and index.ntotal:
                ids, vecs = export_vectors(index)
                dead_ids = np.concatenate([removed, tombstones])
                keep = ~np.isin(ids, dead_ids)
                ids = np.concatenate([ids[keep], add_ids])
                vecs = np.concatenate([vecs[keep], add_vecs])
            else:
                ids, vecs = add_ids, add_vecs
            index, trained = build(target, dim, metric, ids, vecs)
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
        apply_search_params(index, self.settings.nprobe, self.settings.ef_search)
        return index, trained


def _drop_track(con: Any, track_id: int) -> np.ndarray:
    ids = np.array([r[0] for r in con.execute(
        "SELECT id FROM segments WHERE track_id=?", (track_id,))], dtype=np.int64)
    con.execute("DELETE FROM segments WHERE track_id=?", (track_id,))
    con.execute("DELETE FROM tracks WHERE id=?", (track_id,))
    return ids

"""From FAISS results to hits: labels -> tracks and times, with over-fetching.

FAISS returns vector ids; the generation's :class:`~heihachi.index.store.MetadataSnapshot`
maps them to tracks and ``[start, end)`` seconds with one vectorised lookup. Ids
of removed vectors (HNSW tombstones) and ``per_track`` deduplication can leave a
row short of ``k`` hits; such rows are searched again with a larger fetch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from heihachi.index.store import MetadataSnapshot


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


def search_rows(index: Any, meta: MetadataSnapshot, metric: str, q: np.ndarray, k: int,
                per_track: bool) -> list[list[Hit]]:
    """Search ``q`` ``[Q, D]``, map labels to segments, over-fetch again where hits ran short."""
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
        if metric == "l2":
            scores = -scores  # smaller distance = more similar; keep "higher is better"
        short: list[int] = []
        for row, hits in zip(pending.tolist(), to_hits(meta, scores, labels, k, per_track),
                             strict=True):
            out[row] = hits
            if len(hits) < k and fetch < ntotal:
                short.append(row)
        pending = np.asarray(short, dtype=np.int64)
        fetch = min(ntotal, fetch * 4)
    return out


def to_hits(meta: MetadataSnapshot, scores: np.ndarray, labels: np.ndarray, k: int,
            per_track: bool) -> list[list[Hit]]:
    """Turn FAISS ``(scores, labels)`` rows into hits with one vectorised id lookup."""
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

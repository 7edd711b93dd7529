"""FAISS structures of the semantic index: build, inspect, export, tune.

The structure follows the collection size: exact ``IndexFlatIP`` (inside an
``IndexIDMap2``) up to ``flat_max`` vectors, then IVF; HNSW when asked for. Every
function here is pure FAISS: no files, no metadata. faiss is imported inside the
functions so that importing the index (and starting the CLI) stays fast.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

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


def faiss_module() -> Any:
    import faiss

    return faiss


def normalised(vectors: np.ndarray) -> np.ndarray:
    """A float32, C-contiguous, row-wise L2-normalised copy (zero rows stay zero)."""
    out = np.array(vectors, dtype=np.float32, copy=True, order="C")
    if out.size:
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
    return out


def kind_of(index: Any) -> str:
    """Which of flat / ivf / hnsw a FAISS index is."""
    faiss = faiss_module()
    inner = faiss.downcast_index(index.index) if isinstance(index, faiss.IndexIDMap) else index
    if isinstance(inner, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(inner, faiss.IndexIVF):
        return "ivf"
    return "flat"


def describe(index: Any) -> str:
    """A factory-string-like name of the stored structure, for ``stats()``."""
    faiss = faiss_module()
    kind = kind_of(index)
    if kind == "ivf":
        return f"IVF{faiss.extract_index_ivf(index).nlist},Flat"
    if kind == "hnsw":
        return f"IDMap2,HNSW{faiss.downcast_index(index.index).hnsw.nb_neighbors(1)},Flat"
    return "IDMap2,Flat"


def export_vectors(index: Any) -> tuple[np.ndarray, np.ndarray]:
    """All (ids, vectors) stored in an index, to rebuild it as another structure."""
    faiss = faiss_module()
    if index.ntotal == 0:
        return np.zeros(0, np.int64), np.zeros((0, index.d), np.float32)
    if kind_of(index) == "ivf":
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


def ivf_lists(n: int) -> int:
    """IVF list count: about 4*sqrt(N), but never so many that lists go untrained."""
    return max(1, min(int(4 * math.sqrt(n)), n // IVF_TRAIN_PER_LIST))


def build(kind: str, dim: int, metric: str, ids: np.ndarray,
           vectors: np.ndarray) -> tuple[Any, int]:
    """A new FAISS index of ``kind`` holding ``vectors`` under ``ids``.

    Returns the index and how many vectors IVF was trained on (0 for others).
    """
    faiss = faiss_module()
    mt = faiss.METRIC_INNER_PRODUCT if metric == "ip" else faiss.METRIC_L2
    trained = 0
    if kind == "ivf":
        lists = ivf_lists(len(ids))
        index = faiss.IndexIVFFlat(faiss.IndexFlat(dim, mt), dim, lists, mt)
        index.cp.niter = IVF_NITER
        index.cp.min_points_per_centroid = 1  # ivf_lists() already keeps lists well fed
        index.cp.spherical = metric == "ip"  # centroids on the unit sphere, like the data
        n_train = min(len(ids), IVF_TRAIN_PER_LIST * lists)
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


def apply_search_params(index: Any, nprobe: int, ef_search: int) -> None:
    """Set the recall/speed knobs of an IVF (``nprobe``) or HNSW (``efSearch``) index."""
    faiss = faiss_module()
    kind = kind_of(index)
    if kind == "ivf":
        faiss.extract_index_ivf(index).nprobe = nprobe
    elif kind == "hnsw":
        faiss.downcast_index(index.index).hnsw.efSearch = ef_search


def target_kind(kind: str, n: int, flat_max: int) -> str:
    """The structure ``n`` live vectors get under the configured ``kind``."""
    if n == 0:
        return "flat"  # IVF cannot train and HNSW gains nothing on nothing
    if kind == "auto":
        return "flat" if n <= flat_max else "ivf"
    return kind

"""The semantic index: segment embeddings of tracks in FAISS, searchable by text or example.

- ``semantic``: :class:`SemanticIndex`, the index directory (add, remove, search, stats)
- ``store``: the on-disk format: generations, manifest, SQLite metadata, locks
- ``collection``: filling and querying an index from audio files through the runtime
- ``query``: ranking segments and tracks, zero-shot tags
"""

from heihachi.index.semantic import (
    Hit,
    IndexCorruptError,
    IndexDimensionError,
    IndexStoreError,
    SemanticIndex,
    TrackVectors,
)

__all__ = ["Hit", "IndexCorruptError", "IndexDimensionError", "IndexStoreError",
           "SemanticIndex", "TrackVectors"]

"""The semantic index: add, no-op re-add, replace, remove, search, kinds, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("faiss")

from heihachi.errors import HeihachiError
from heihachi.index import Hit, IndexDimensionError, IndexStoreError, SemanticIndex, TrackVectors
from heihachi.results import SegmentEmbeddings

DIM = 32


def vectors(seed: int, n: int, dim: int = DIM) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def add(index: SemanticIndex, track: str, seed: int, n: int = 5, content: str = "h",
        model: str = "m", config: str = "c") -> bool:
    return index.add(track, content, np.arange(n, dtype=float), np.arange(n) + 1.0,
                     vectors(seed, n), model, config)


def consistent(root: Path) -> None:
    """Every FAISS id has a segment row (or a tombstone) and vice versa."""
    import faiss

    from heihachi.index.structures import export_vectors as _export

    index = SemanticIndex(root)
    fi = index.faiss_index
    meta = index._meta
    ids, _ = _export(fi) if fi is not None else (np.zeros(0, np.int64), None)
    assert sorted(ids.tolist()) == sorted(meta.seg_ids.tolist() + meta.tombstones.tolist())
    assert isinstance(fi, faiss.Index) or fi is None


@pytest.fixture()
def index(tmp_path: Path) -> SemanticIndex:
    return SemanticIndex(tmp_path / "idx")


def test_empty_index_answers_nothing(index: SemanticIndex) -> None:
    assert len(index) == 0
    assert index.search(vectors(0, 1)[0]) == []
    assert index.search(vectors(0, 3)) == [[], [], []]
    assert index.stats()["tracks"] == 0
    assert index.remove("nope") == 0
    assert not index.has("a", "h", "m", "c")


def test_add_search_finds_the_segment(index: SemanticIndex) -> None:
    for i in range(4):
        assert add(index, f"t{i}", seed=i)
    query = vectors(2, 5)[3] * 7.0  # scale must not matter: vectors are normalised
    hits = index.search(query, k=3)
    assert isinstance(hits[0], Hit)
    assert (hits[0].track, hits[0].start, hits[0].end) == ("t2", 3.0, 4.0)
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(index) == 20


def test_batch_search_matches_single(index: SemanticIndex) -> None:
    for i in range(3):
        add(index, f"t{i}", seed=i)
    queries = vectors(9, 4)
    batch = index.search(queries, k=4)
    assert len(batch) == 4
    for q, row in zip(queries, batch, strict=True):
        assert row == index.search(q, k=4)


def test_readd_unchanged_is_noop_and_has(index: SemanticIndex) -> None:
    assert add(index, "a", seed=1)
    generation = index.stats()["generation"]
    assert index.has("a", "h", "m", "c")
    assert not index.has("a", "h2", "m", "c")
    assert not index.has("a", "h", "other-model", "c")
    assert not index.has("a", "h", "m", "other-config")
    assert not add(index, "a", seed=1)
    assert index.stats()["generation"] == generation  # nothing written


def test_changed_file_replaces_its_vectors(index: SemanticIndex) -> None:
    add(index, "a", seed=1, n=5)
    add(index, "b", seed=2, n=5)
    assert add(index, "a", seed=3, n=2, content="h2")
    assert len(index) == 7
    assert index.has("a", "h2", "m", "c")
    hits = index.search(vectors(1, 5)[0], k=10)
    assert not any(h.track == "a" and h.score > 0.999 for h in hits)  # old vectors are gone
    assert index.search(vectors(3, 2)[1], k=1)[0].track == "a"
    consistent(index.root)


def test_add_many_commits_once(index: SemanticIndex) -> None:
    items = [TrackVectors(f"t{i}", "h", np.arange(3.0), np.arange(3.0) + 1, vectors(i, 3), "m",
                          "c") for i in range(10)]
    assert index.add_many(items) == [True] * 10
    assert index.stats()["generation"] == 1
    assert index.add_many(items[:3]) == [False] * 3
    # a track twice in one batch ends with its last version
    twice = [TrackVectors("x", "1", [0.0], [1.0], vectors(50, 1), "m", "c"),
             TrackVectors("x", "2", [0.0, 1.0], [1.0, 2.0], vectors(51, 2), "m", "c")]
    assert index.add_many(twice) == [True, True]
    assert index.has("x", "2", "m", "c") and len(index) == 32
    consistent(index.root)


def test_from_segment_embeddings(index: SemanticIndex) -> None:
    seg = SegmentEmbeddings(np.array([0.0, 2.0]), np.array([2.0, 4.0]), vectors(4, 2))
    index.add_many([TrackVectors.from_segments(Path("song.flac"), "h", seg, "m", "c")])
    assert index.search(vectors(4, 2)[1], k=1)[0] == Hit("song.flac", 2.0, 4.0,
                                                         pytest.approx(1.0, abs=1e-5))


def test_remove(index: SemanticIndex) -> None:
    add(index, "a", seed=1, n=4)
    add(index, "b", seed=2, n=3)
    assert index.remove("a") == 4
    assert index.remove("a") == 0
    assert index.tracks() == ["b"]
    assert {h.track for h in index.search(vectors(1, 1)[0], k=10)} == {"b"}
    consistent(index.root)


def test_per_track_keeps_best_segment_of_each_track(index: SemanticIndex) -> None:
    base = vectors(0, 1)[0]
    rng = np.random.default_rng(5)
    # track "near" has 50 segments all close to the query; others one each, further away
    near = base + 0.01 * rng.standard_normal((50, DIM)).astype(np.float32)
    index.add("near", "h", np.arange(50.0), np.arange(50.0) + 1, near, "m", "c")
    for i in range(5):
        far = base + (0.5 + i) * rng.standard_normal((1, DIM)).astype(np.float32)
        index.add(f"far{i}", "h", [0.0], [1.0], far, "m", "c")
    plain = index.search(base, k=5)
    assert {h.track for h in plain} == {"near"}
    best = index.search(base, k=4, per_track=True)
    assert len(best) == 4 and len({h.track for h in best}) == 4
    assert best[0].track == "near" and best[0].score == plain[0].score
    assert [h.score for h in best] == sorted((h.score for h in best), reverse=True)


def test_stats(index: SemanticIndex) -> None:
    add(index, "a", seed=1, n=3, model="clap")
    add(index, "b", seed=2, n=2, model="mert")
    add(index, "c", seed=3, n=2, model="mert")
    st = index.stats()
    assert st["tracks"] == 3 and st["segments"] == 7 and st["dim"] == DIM
    assert st["index_type"] == "IDMap2,Flat" and st["kind"] == "auto"
    assert st["model_ids"] == {"clap": 1, "mert": 2}
    assert st["size_bytes"] > 7 * DIM * 4


def test_persistence_and_other_instance_sees_commits(tmp_path: Path) -> None:
    first = SemanticIndex(tmp_path / "idx")
    second = SemanticIndex(tmp_path / "idx")
    add(first, "a", seed=1)
    assert second.tracks() == ["a"]  # second notices the new generation
    add(second, "b", seed=2)
    assert first.tracks() == ["a", "b"]
    reopened = SemanticIndex(tmp_path / "idx")
    assert reopened.search(vectors(2, 5)[0], k=1)[0].track == "b"
    names = sorted(p.name for p in (tmp_path / "idx").iterdir())
    # old generations are garbage-collected after each commit
    assert names == [".lock", ".read.lock", "MANIFEST.json", "index.2.faiss", "meta.2.sqlite"]


def test_dimension_mismatch_names_dir_dims_and_fix(tmp_path: Path) -> None:
    index = SemanticIndex(tmp_path / "idx")
    add(index, "a", seed=1)
    with pytest.raises(IndexDimensionError) as err:
        index.add("b", "h", [0.0], [1.0], vectors(1, 1, dim=DIM + 1), "m", "c")
    msg = str(err.value)
    assert str(tmp_path / "idx") in msg and str(DIM) in msg and str(DIM + 1) in msg
    assert "new index directory" in msg
    assert isinstance(err.value, HeihachiError)
    with pytest.raises(IndexDimensionError):
        index.search(np.zeros(DIM + 1, np.float32))
    with pytest.raises(IndexDimensionError):
        SemanticIndex(tmp_path / "idx", dim=DIM * 2).search(np.zeros(DIM * 2, np.float32))


@pytest.mark.parametrize("bad", [
    dict(starts=[0.0, 1.0]),  # one start for 5 vectors expected: mismatch
    dict(vectors=np.full((2, DIM), np.nan, np.float32)),
    dict(vectors=np.zeros(DIM, np.float32)),
])
def test_bad_input_is_refused(index: SemanticIndex, bad: dict) -> None:
    args = dict(starts=[0.0, 1.0], ends=[1.0, 2.0], vectors=vectors(1, 2))
    if "starts" in bad:
        args["ends"] = [1.0]
    args.update({k: v for k, v in bad.items() if k != "starts"})
    with pytest.raises(IndexStoreError):
        index.add("t", "h", args["starts"], args["ends"], args["vectors"], "m", "c")
    assert len(index) == 0


def test_bad_kind_or_metric(tmp_path: Path) -> None:
    with pytest.raises(IndexStoreError, match="kind"):
        SemanticIndex(tmp_path, kind="annoy")
    with pytest.raises(IndexStoreError, match="metric"):
        SemanticIndex(tmp_path, metric="cosine")


def _clustered(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim)).astype(np.float32)
    x = centres[rng.integers(0, 40, n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("kind,expected_type,min_recall", [
    ("ivf", "IVF", 0.9),
    ("hnsw", "HNSW", 0.9),
])
def test_approximate_kinds_recall_vs_exact(tmp_path: Path, kind: str, expected_type: str,
                                           min_recall: float) -> None:
    data = _clustered(4000, DIM, seed=0)
    queries = _clustered(50, DIM, seed=1)
    items = [TrackVectors(f"t{i}", "h", np.arange(40.0), np.arange(40.0) + 1,
                          data[i * 40:(i + 1) * 40], "m", "c") for i in range(100)]
    exact = SemanticIndex(tmp_path / "flat", kind="flat")
    approx = SemanticIndex(tmp_path / kind, kind=kind, nprobe=8, ef_search=64)
    exact.add_many(items)
    approx.add_many(items)
    assert expected_type in approx.stats()["index_type"]
    truth = exact.search(queries, k=10)
    found = approx.search(queries, k=10)
    hit = sum(len({(h.track, h.start) for h in t} & {(h.track, h.start) for h in f})
              for t, f in zip(truth, found, strict=True))
    assert hit / (10 * len(queries)) >= min_recall
    # removing and replacing work for the approximate kinds too
    assert approx.remove("t0") == 40
    assert approx.add("t1", "new", [0.0], [1.0], data[:1], "m", "c")
    assert len(approx) == 4000 - 80 + 1
    assert approx.search(data[0], k=1)[0].track == "t1"
    assert all(h.track != "t0" for row in approx.search(queries, k=20) for h in row)
    consistent(approx.root)
    again = SemanticIndex(tmp_path / kind)
    assert again.stats()["kind"] == kind and len(again) == len(approx)


def test_hnsw_tombstones_are_compacted(tmp_path: Path) -> None:
    index = SemanticIndex(tmp_path / "h", kind="hnsw")
    index.add_many([TrackVectors(f"t{i}", "h", np.arange(10.0), np.arange(10.0) + 1,
                                 vectors(i, 10), "m", "c") for i in range(10)])
    index.remove("t0")
    assert index.stats()["tombstones"] == 10
    consistent(index.root)
    for i in range(1, 5):
        index.remove(f"t{i}")
    st = index.stats()
    assert st["tombstones"] < 0.25 * (st["segments"] + st["tombstones"]) + 10
    assert index.faiss_index.ntotal == st["segments"] + st["tombstones"]
    consistent(index.root)


def test_auto_switches_to_ivf_beyond_flat_max(tmp_path: Path) -> None:
    index = SemanticIndex(tmp_path / "a", flat_max=500)
    data = _clustered(1200, DIM, seed=3)
    index.add("small", "h", np.arange(400.0), np.arange(400.0) + 1, data[:400], "m", "c")
    assert index.stats()["index_type"] == "IDMap2,Flat"
    index.add("big", "h", np.arange(800.0), np.arange(800.0) + 1, data[400:], "m", "c")
    assert index.stats()["index_type"].startswith("IVF")
    index.nprobe = 1000  # every list: exact
    assert index.search(data[10], k=1)[0] == Hit("small", 10.0, 11.0,
                                                  pytest.approx(1.0, abs=1e-5))
    consistent(index.root)


def test_l2_metric_scores_higher_is_better(tmp_path: Path) -> None:
    index = SemanticIndex(tmp_path / "l2", metric="l2")
    add(index, "a", seed=1)
    hits = index.search(vectors(1, 5)[2], k=3)
    assert hits[0].start == 2.0 and hits[0].score == pytest.approx(0.0, abs=1e-5)
    assert hits[0].score > hits[1].score
    assert SemanticIndex(tmp_path / "l2").stats()["metric"] == "l2"


def test_nprobe_and_ef_search_are_applied(tmp_path: Path) -> None:
    import faiss

    index = SemanticIndex(tmp_path / "i", kind="ivf", nprobe=3)
    index.add("a", "h", np.arange(2000.0), np.arange(2000.0) + 1, _clustered(2000, DIM, 0),
              "m", "c")
    assert faiss.extract_index_ivf(index.faiss_index).nprobe == 3
    index.nprobe = 7
    assert faiss.extract_index_ivf(index.faiss_index).nprobe == 7
    hnsw = SemanticIndex(tmp_path / "h", kind="hnsw", ef_search=33)
    add(hnsw, "a", seed=1)
    assert faiss.downcast_index(hnsw.faiss_index.index).hnsw.efSearch == 33


def test_leftover_temp_files_are_ignored_and_collected(tmp_path: Path) -> None:
    index = SemanticIndex(tmp_path / "idx")
    add(index, "a", seed=1)
    (tmp_path / "idx" / "index.2.faiss.tmp-99999").write_bytes(b"torn")
    (tmp_path / "idx" / "meta.2.sqlite").write_bytes(b"not committed")
    assert SemanticIndex(tmp_path / "idx").tracks() == ["a"]
    add(index, "b", seed=2)
    assert not (tmp_path / "idx" / "index.2.faiss.tmp-99999").exists()
    assert SemanticIndex(tmp_path / "idx").tracks() == ["a", "b"]


def test_ivf_is_retrained_as_it_grows(tmp_path: Path) -> None:
    index = SemanticIndex(tmp_path / "i", kind="ivf", nprobe=10_000)
    data = _clustered(3000, DIM, seed=7)
    index.add("a", "h", np.arange(100.0), np.arange(100.0) + 1, data[:100], "m", "c")
    assert index.stats()["index_type"] == "IVF2,Flat"
    # 30x more vectors: the IVF is rebuilt from its own stored vectors plus the new ones
    index.add("b", "h", np.arange(2900.0), np.arange(2900.0) + 1, data[100:], "m", "c")
    assert index.stats()["index_type"] == "IVF60,Flat"  # min(4*sqrt(N), N/50)
    assert index.search(data[5], k=1)[0] == Hit("a", 5.0, 6.0, pytest.approx(1.0, abs=1e-5))
    consistent(index.root)

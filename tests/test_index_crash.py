"""The semantic index survives SIGKILL at any moment and concurrent writers.

A child process adds and removes tracks in a loop and is killed — at random
times, and deterministically around each file rename of a commit. Afterwards
the index must load, every FAISS id must have metadata and vice versa, and every
track must hold exactly the vectors of one of its versions (never a mix).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("faiss")

from heihachi.index import SemanticIndex
from heihachi.index.structures import export_vectors as _export

ROOT = Path(__file__).resolve().parent.parent
DIM = 8

# The child: repeatedly commits random versions of 12 tracks (sometimes removing one).
# With KILL_AT=n it SIGKILLs itself at the n-th os.replace (before it, or after when
# KILL_AFTER=1): the commit protocol renames index, metadata, then the manifest.
CHILD = r"""
import os, random, signal, sys, zlib
import numpy as np
from heihachi.index import SemanticIndex, TrackVectors

root, seed, kind, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
tracks = sys.argv[5].split(",")
kill_at = int(os.environ.get("KILL_AT", "0"))
after = os.environ.get("KILL_AFTER") == "1"
real_replace, calls = os.replace, [0]

def replace(src, dst):
    calls[0] += 1
    if calls[0] == kill_at and not after:
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(src, dst)
    if calls[0] == kill_at and after:
        os.kill(os.getpid(), signal.SIGKILL)

os.replace = replace

def version(track, ver):
    h = zlib.crc32(f"{track}:{ver}".encode())
    n = 1 + h % 4
    vecs = np.random.default_rng(h).standard_normal((n, DIM)).astype(np.float32)
    return TrackVectors(track, ver, np.arange(n, dtype=float), np.arange(n) + 1.0, vecs, "m", "c")

DIM = int(os.environ["INDEX_DIM"])
rng = random.Random(seed)
index = SemanticIndex(root, kind=kind)
if os.environ.get("SEQUENTIAL") == "1":  # each track once, one commit each, no removes
    for t in tracks:
        index.add_many([version(t, "v0")])
        print("commit", flush=True)
    sys.exit(0)
r = 0
while rounds == 0 or r < rounds:
    r += 1
    if rng.random() < 0.15:
        index.remove(rng.choice(tracks))
    else:
        names = rng.sample(tracks, rng.randint(1, 3))
        batch = [version(t, f"v{rng.randrange(1000)}") for t in names]
        index.add_many(batch)
    print("commit", flush=True)
"""


def expected(track: str, ver: str) -> np.ndarray:
    """The normalised vectors the child writes for ``track`` at version ``ver``."""
    h = zlib.crc32(f"{track}:{ver}".encode())
    vecs = np.random.default_rng(h).standard_normal((1 + h % 4, DIM)).astype(np.float32)
    return vecs / np.linalg.norm(vecs, axis=1, keepdims=True)


def child(root: Path, seed: int, kind: str = "flat", rounds: int = 0,
          tracks: str = ",".join(f"t{i}" for i in range(12)), **env: str) -> subprocess.Popen:
    full_env = dict(os.environ, INDEX_DIM=str(DIM), PYTHONPATH=str(ROOT), **env)
    return subprocess.Popen([sys.executable, "-c", CHILD, str(root), str(seed), kind,
                             str(rounds), tracks], env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def check_consistent(root: Path) -> SemanticIndex:
    """Load the index and check vectors and metadata agree, track by track."""
    index = SemanticIndex(root)
    fi = index.faiss_index  # loads the committed generation
    meta = index._meta
    if fi is None:
        assert not meta.tracks
        return index
    ids, vecs = _export(fi)
    live, dead = set(meta.seg_ids.tolist()), set(meta.tombstones.tolist())
    assert not live & dead
    assert sorted(ids.tolist()) == sorted(live | dead), "FAISS ids and metadata disagree"
    by_id = dict(zip(ids.tolist(), vecs, strict=True))
    for path, rec in meta.tracks.items():
        mine = np.flatnonzero(meta.seg_track == rec.id)
        want = expected(path, rec.content_hash)
        assert len(mine) == len(want), f"{path}: torn segment list"
        order = np.argsort(meta.seg_start[mine])
        got = np.stack([by_id[int(i)] for i in meta.seg_ids[mine][order]])
        np.testing.assert_allclose(got, want, atol=1e-5, err_msg=f"{path}: torn vectors")
        np.testing.assert_array_equal(meta.seg_start[mine][order], np.arange(len(want)))
        top = index.search(want[0], k=1)[0]
        assert top.score == pytest.approx(1.0, abs=1e-4)
    return index


@pytest.mark.parametrize("seed", range(5))
def test_sigkill_at_random_moments_leaves_a_consistent_index(tmp_path: Path,
                                                              seed: int) -> None:
    root = tmp_path / "idx"
    rng = random.Random(seed)
    kind = "hnsw" if seed == 4 else "flat"
    for attempt in range(2):  # the second child starts from what the killed one left
        proc = child(root, seed * 10 + attempt, kind=kind)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # at least one commit happened
        assert first == "commit\n", proc.stderr.read() if proc.stderr else ""
        try:
            proc.wait(timeout=rng.uniform(0.0, 0.4))
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        assert proc.returncode == -signal.SIGKILL, "the child died on its own"
        check_consistent(root)
    # and the index is still writable: a clean commit garbage-collects the leftovers
    proc = child(root, 99, kind=kind, rounds=2)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    check_consistent(root)
    names = {p.name for p in root.iterdir()}
    assert len(names) == 5 and {".lock", ".read.lock", "MANIFEST.json"} <= names, names


@pytest.mark.parametrize("kill_at,after", [(1, False), (2, False), (3, False), (3, True),
                                           (4, False), (6, True)])
def test_sigkill_around_each_rename(tmp_path: Path, kill_at: int, after: bool) -> None:
    """Killed around the n-th rename (3 per commit: index, metadata, manifest)."""
    root = tmp_path / "idx"
    proc = child(root, kill_at, rounds=10, KILL_AT=str(kill_at), KILL_AFTER=str(int(after)))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    index = check_consistent(root)
    # the manifest rename is the commit point: before it, the commit did not happen
    committed = (kill_at - 1) // 3 + (1 if after and kill_at % 3 == 0 else 0)
    assert index.stats()["generation"] == committed


def test_two_concurrent_writers_keep_every_track(tmp_path: Path) -> None:
    root = tmp_path / "idx"
    left = [f"a{i}" for i in range(12)]
    right = [f"b{i}" for i in range(12)]
    procs = [child(root, 1, tracks=",".join(names), SEQUENTIAL="1") for names in (left, right)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    index = check_consistent(root)
    assert index.tracks() == sorted(left + right)
    assert index.stats()["generation"] == len(left) + len(right)  # no commit was lost

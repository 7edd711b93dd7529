"""`index add|search|stats|remove` end to end with the model-free spectral extractor."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf
from conftest import run_heihachi

SPECTRAL = ("index.embedder=extractor", "extractor=spectral")


def _track(path, seed, seconds=12.0, sr=22_050):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    notes = rng.uniform(60, 600, size=6)
    x = sum(np.sin(2 * np.pi * f * t) * (0.5 + 0.5 * np.sin(t * rng.uniform(0.5, 4)))
            for f in notes)
    clicks = np.zeros_like(t)
    period = rng.uniform(0.25, 0.6)
    clicks[(np.arange(0, seconds, period) * sr).astype(int)] = 1.0
    x = x / 6 + np.convolve(clicks, rng.standard_normal(200) * 0.5, "same")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (0.5 * x / np.abs(x).max()).astype(np.float32), sr)
    return path


def test_index_add_search_remove(tmp_path):
    tracks = [_track(tmp_path / "lib" / f"song{i}.wav", seed=i) for i in range(5)]
    index = str(tmp_path / "idx")
    add = run_heihachi("index", "add", str(tmp_path / "lib"), "--index", index, "-q", *SPECTRAL)
    assert add.returncode == 0, add.stderr
    assert "5 added" in add.stderr
    again = run_heihachi("index", "add", str(tmp_path / "lib"), "--index", index, "-q")
    assert again.returncode == 0 and "0 added, 5 unchanged" in again.stderr

    # a quieter, trimmed copy of song3 finds song3 first (the embedder is remembered)
    x, sr = sf.read(tracks[3])
    sf.write(tmp_path / "query.wav", 0.5 * x[2 * sr:], sr)
    found = run_heihachi("index", "search", "--audio", str(tmp_path / "query.wav"), "--index",
                         index, "--per-track", "--json", "-k", "3")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["track"] == str(tracks[3])
    assert set(hits[0]) == {"track", "start", "end", "score"}
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)
    assert len({h["track"] for h in hits}) == len(hits) == 3

    stats = json.loads(run_heihachi("index", "stats", "--index", index, "--json").stdout)
    assert stats["tracks"] == 5 and stats["segments"] >= 5

    text = run_heihachi("index", "search", "dark rolling bass", "--index", index)
    assert text.returncode == 2 and "text queries need a similarity" in text.stderr

    removed = run_heihachi("index", "remove", str(tracks[3]), "--index", index)
    assert removed.returncode == 0 and "segments removed" in removed.stderr
    found = run_heihachi("index", "search", "--audio", str(tmp_path / "query.wav"), "--index",
                         index, "--per-track", "--json")
    assert str(tracks[3]) not in {h["track"] for h in json.loads(found.stdout)}


def test_changed_file_replaces_its_vectors(tmp_path):
    song = _track(tmp_path / "lib" / "song.wav", seed=1)
    index = str(tmp_path / "idx")
    assert run_heihachi("index", "add", str(song), "--index", index, "-q",
                        *SPECTRAL).returncode == 0
    _track(song, seed=2, seconds=20.0)  # same path, new content
    again = run_heihachi("index", "add", str(song), "--index", index, "-q")
    assert again.returncode == 0 and "1 added" in again.stderr
    stats = json.loads(run_heihachi("index", "stats", "--index", index, "--json").stdout)
    assert stats["tracks"] == 1

"""CLAP similarity: the `clap` plugin on a tiny random ClapModel, `hf similarity`, `hf tag`.

A random model says nothing about meaning, so these test the plumbing: the real
loading path, shapes, unit norms, segment times, ranking consistency (a file's
own audio finds that file first), skip-and-reload on reruns and JSON schemas.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import run_heihachi, write_tone

from heihachi.errors import UsageError
from heihachi.index.query import (
    normalise,
    parse_categories,
    rank_segments,
    rank_tracks,
    scene_vector,
    tags_document,
    zero_shot,
)
from heihachi.results import SegmentEmbeddings

# --------------------------------------------------------------------------- query logic


def _seg(vectors: list[list[float]], hop: float = 10.0) -> SegmentEmbeddings:
    n = len(vectors)
    starts = np.arange(n) * hop
    return SegmentEmbeddings(starts, starts + hop, normalise(np.asarray(vectors)))


def test_rank_segments_and_tracks_order_and_self_match():
    coll = {"a": _seg([[1, 0, 0], [0.6, 0.8, 0]]), "b": _seg([[0, 1, 0]]),
            "c": _seg([[0, 0, 1], [0, 0.1, 1]])}
    hits = rank_segments(coll, np.array([0.0, 2.0, 0.0]), k=3)
    assert [(h.track, h.start) for h in hits] == [("b", 0.0), ("a", 10.0), ("c", 10.0)]
    assert hits[0].score == pytest.approx(1.0) and hits[0].end == 10.0
    assert all(x.score >= y.score for x, y in itertools.pairwise(hits))
    for track, seg in coll.items():  # each file's own scene vector ranks it first
        top = rank_tracks(coll, scene_vector(seg.vectors), k=1)[0]
        assert top.track == track and top.score == pytest.approx(1.0)
    assert set(hits[0].to_json()) == {"track", "start", "end", "score"}


def test_parse_categories_and_zero_shot():
    cats = parse_categories("genre: techno, house ,drum and bass; mood:dark,euphoric;")
    assert cats == {"genre": ["techno", "house", "drum and bass"], "mood": ["dark", "euphoric"]}
    for bad in ("", "genre", "genre:", ":a,b", "g:a;g:b"):
        with pytest.raises(UsageError):
            parse_categories(bad)
    labels = {"genre": normalise(np.eye(3)), "mood": normalise(np.eye(3)[:2])}
    probs = zero_shot(np.array([0.0, 1.0, 0.0]), labels, logit_scale=10.0)
    assert probs["genre"].shape == (3,) and probs["genre"].sum() == pytest.approx(1.0)
    assert int(np.argmax(probs["genre"])) == 1 and int(np.argmax(probs["mood"])) == 1
    doc = tags_document(cats, probs)
    assert doc["genre"]["top"] == "house" and next(iter(doc["genre"]["labels"])) == "house"


# --------------------------------------------------------------------------- the plugin


@pytest.fixture(scope="module")
def clap(tiny_cache: Path):
    """The `clap` plugin built and loaded the way the CLI does (profile=tiny)."""
    import os

    from heihachi.runtime.pipeline import build_plugin

    os.environ["HEIHACHI_MODELS_CACHE"] = str(tiny_cache)
    try:
        _cfg, plugin = build_plugin("similarity", ["profile=tiny"])
    finally:
        os.environ.pop("HEIHACHI_MODELS_CACHE")
    plugin.load()
    return plugin


def test_clap_plugin_matches_transformers_and_is_normalised(clap, tiny_cache):
    import torch
    from transformers import ClapModel, ClapProcessor

    from heihachi.tasks import AudioBatch

    assert clap.name == "clap" and clap.model_id() == "tiny/clap-full"
    assert clap.sample_rate == 48_000 and clap.window() == (10.0, None)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 48_000 * 2)).astype(np.float32)
    batch = AudioBatch(torch.from_numpy(x), [96_000, 48_000], 48_000)
    segs = clap.embed_audio(batch)
    assert len(segs) == 2 and segs[0].vectors.shape == (1, 16)
    assert segs[1].starts.tolist() == [0.0] and segs[1].ends.tolist() == [1.0]
    text = clap.embed_text(["heavy rolling bassline", "dark"])
    assert text.shape == (2, 16)
    for v in (segs[0].vectors, segs[1].vectors, text):
        np.testing.assert_allclose(np.linalg.norm(v, axis=-1), 1.0, rtol=1e-5)

    model_dir = tiny_cache / "tiny" / "clap-full"  # what a user gets from transformers
    model, proc = ClapModel.from_pretrained(model_dir).eval(), ClapProcessor.from_pretrained(
        model_dir)
    with torch.no_grad():
        feats = proc(audio=[x[1, :48_000]], sampling_rate=48_000, return_tensors="pt")
        ref = model.get_audio_features(input_features=feats["input_features"])
        ref = getattr(ref, "pooler_output", ref)
        t = proc(text=["dark"], return_tensors="pt")
        ref_t = model.get_text_features(input_ids=t["input_ids"],
                                        attention_mask=t["attention_mask"])
        ref_t = getattr(ref_t, "pooler_output", ref_t)
    np.testing.assert_allclose(segs[1].vectors[0], normalise(ref.numpy())[0], atol=1e-5)
    np.testing.assert_allclose(text[1], normalise(ref_t.numpy())[0], atol=1e-5)


def test_overlapping_windows_keep_one_segment_each():
    from heihachi.results import SegmentEmbeddings
    from heihachi.runtime import stitch

    parts = [(i, 5.0 * i, SegmentEmbeddings(np.zeros(1), np.array([10.0]), np.eye(4)[i:i + 1]))
             for i in range(4)]
    out = stitch(parts, 10.0, 5.0, SegmentEmbeddings)
    assert out.starts.tolist() == [0.0, 5.0, 10.0, 15.0]
    assert out.ends.tolist() == [10.0, 15.0, 20.0, 25.0]
    np.testing.assert_array_equal(out.vectors, np.eye(4))


# --------------------------------------------------------------------------- the CLI


@pytest.fixture(scope="module")
def music(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("music")
    write_tone(d / "long.wav", seconds=22.0, sr=22_050, freq=110.0)
    write_tone(d / "short.wav", seconds=3.0, sr=44_100, freq=880.0, channels=2)
    write_tone(d / "mid.wav", seconds=8.0, sr=16_000, freq=3000.0)
    return d


def _invoke(tiny_cache: Path, *args: str) -> tuple[int, str]:
    """The `hf` group in-process (models stay loaded between calls: fast tests)."""
    from heihachi.cli import cli

    res = CliRunner().invoke(cli, ["hf", *args], env={"HEIHACHI_MODELS_CACHE": str(tiny_cache),
                                                       "HF_HUB_OFFLINE": "1"})
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        raise res.exception
    return res.exit_code, res.stdout


def test_similarity_text_query_timestamps_and_tracks(tiny_cache, music, tmp_path):
    out = tmp_path / "out"
    result = run_heihachi("hf", "similarity", str(music), "--query", "heavy rolling bassline",
                          "--json", "-k", "50", "-o", str(out), "-q", "profile=tiny",
                          "similarity.hop_s=5", env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert all(set(r) == {"track", "start", "end", "score"} for r in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    long_rows = sorted((r["start"], r["end"]) for r in rows if r["track"] == "long")
    assert long_rows == [(0.0, 10.0), (5.0, 15.0), (10.0, 20.0), (15.0, 22.0)]
    assert sorted(r["track"] for r in rows) == ["long"] * 4 + ["mid", "short"]
    doc = json.loads((out / "long" / "embed.json").read_text())
    assert doc["schema"] == "heihachi.embed/1" and doc["segments"] == 4 and doc["dim"] == 16
    vecs = np.load(out / "long" / "embed.npz")["vectors"]
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, rtol=1e-5)

    # rerun in-process: everything is skipped and read back from embed.npz, same ranking
    code, stdout = _invoke(tiny_cache, "similarity", str(music), "--query",
                           "heavy rolling bassline", "--json", "-k", "50", "-o", str(out),
                           "-q", "profile=tiny", "similarity.hop_s=5")
    assert code == 0 and json.loads(stdout) == rows

    code, stdout = _invoke(tiny_cache, "similarity", str(music), "--query", "dark",
                           "--mode", "tracks", "--json", "-o", str(out), "-q", "profile=tiny",
                           "similarity.hop_s=5")
    tracks = json.loads(stdout)
    assert code == 0 and sorted(r["track"] for r in tracks) == ["long", "mid", "short"]
    assert next(r for r in tracks if r["track"] == "long")["end"] == 22.0


def test_similarity_query_audio_finds_itself_first(tiny_cache, music, tmp_path):
    out = tmp_path / "out"
    for name in ("long", "short"):
        code, stdout = _invoke(tiny_cache, "similarity", str(music), "--query-audio",
                               str(music / f"{name}.wav"), "--mode", "tracks", "--json",
                               "-o", str(out), "-q", "profile=tiny")
        rows = json.loads(stdout)
        assert code == 0 and rows[0]["track"] == name
        assert rows[0]["score"] == pytest.approx(1.0, abs=1e-4)
    # a query file outside the collection (same name as a track) is embedded apart
    ref = write_tone(tmp_path / "ref" / "short.wav", seconds=3.0, freq=880.0, channels=2)
    code, stdout = _invoke(tiny_cache, "similarity", str(music), "--query-audio", str(ref),
                           "-k", "1", "--json", "-o", str(out), "-q", "profile=tiny")
    rows = json.loads(stdout)
    assert code == 0 and rows[0]["track"] == "short" and rows[0]["start"] == 0.0
    assert rows[0]["score"] > 0.99  # the same audio at another rate and channel count
    assert json.loads((out / "short" / "embed.json").read_text())["path"] == str(
        music / "short.wav")


def test_tag_writes_tags_json(tiny_cache, music, tmp_path):
    out = tmp_path / "out"
    code, stdout = _invoke(tiny_cache, "tag", str(music), "--categories",
                           "genre:techno,house,drum and bass;mood:dark,euphoric",
                           "-o", str(out), "-q", "profile=tiny")
    assert code == 0 and "drum and bass" in stdout
    for track in ("long", "mid", "short"):
        doc = json.loads((out / track / "tags.json").read_text())
        assert doc["schema"] == "heihachi.tags/1" and doc["track"] == track
        assert doc["model"] == "tiny/clap-full" and doc["prompt"] == "this is a {label} track"
        assert doc["logit_scale"] > 0
        cats = doc["categories"]
        assert set(cats["genre"]["labels"]) == {"techno", "house", "drum and bass"}
        for c in cats.values():
            assert sum(c["labels"].values()) == pytest.approx(1.0, abs=1e-4)
            assert c["top"] == max(c["labels"], key=c["labels"].get)


@pytest.mark.parametrize("args", [
    ("--query", "x", "--query-audio", "{a}"),
    ("--categories", "genre"),
])
def test_usage_errors_exit_2(tmp_path, args):
    audio = write_tone(tmp_path / "a.wav", seconds=0.5)
    command = "tag" if "--categories" in args else "similarity"
    result = run_heihachi("hf", command, str(audio), *(a.format(a=audio) for a in args),
                          "-o", str(tmp_path / "o"), "profile=tiny")
    assert result.returncode == 2
    assert "not both" in result.stderr or "NAME:LABEL" in result.stderr

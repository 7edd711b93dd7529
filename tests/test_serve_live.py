"""A real ``heihachi serve`` (uvicorn + a worker process) driven by the Python client and
by Debian's chromium through Playwright.

Drums and beats run the shipped drumnet model; features, stems and the semantic index
run the tiny random-weight models (``profile=tiny`` per request, and the server's
``similarity.model=tiny/clap-full``), so everything is offline.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("fastapi")
from conftest import ROOT, run_heihachi, write_tone
from serve_support import LiveServer

from heihachi.client import Client, ServerError

CLIP = ROOT / "examples" / "audio" / "two_step_174.flac"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if Path("/usr/bin/chromium").exists() else None)
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture(scope="module")
def server(tiny_cache, tmp_path_factory):
    live = LiveServer(tmp_path_factory.mktemp("serve") / "data", "similarity.model=tiny/clap-full",
                      env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)}).start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def client(server):
    with Client(server.url) as c:
        yield c


def test_drums_match_the_local_api(client, server):
    from heihachi.hf import DrumAnalyzer

    remote = client.drums(CLIP)
    local = DrumAnalyzer().analyze(CLIP)
    assert type(remote) is type(local) and len(remote.hits) == len(local.hits) > 50
    for r, loc in zip(remote.hits, local.hits, strict=True):
        assert r.drum_class == loc.drum_class and r.time == pytest.approx(loc.time, abs=1e-3)
        assert r.velocity == pytest.approx(loc.velocity, abs=1e-3)
    np.testing.assert_allclose(remote.beats.beats, local.beats.beats, atol=1e-3)
    assert remote.beats.tempo == pytest.approx(local.beats.tempo, abs=0.05)
    beats = client.beats(CLIP)
    assert beats.tempo == pytest.approx(174, abs=2)


def test_analyze_writes_the_cli_layout(client, server, tmp_path):
    out = client.analyze(CLIP)
    job = client.job(out["job"])
    track = out["track"]
    assert out["drums"].hits and out["patterns"]["schema"].startswith("heihachi.patterns")
    cli_out = tmp_path / "cli"
    r = run_heihachi("hf", "analyze-drums", str(CLIP), "--output", str(cli_out), "-q")
    assert r.returncode == 0, r.stderr
    cli_files = {p.name for p in (cli_out / track).iterdir()}
    job_files = {Path(f).name for f in job["files"] if f.startswith(f"out/{track}/")}
    assert cli_files <= job_files and "patterns.json" in job_files
    assert "out/summary.json" in job["files"]
    assert client.file(out["job"], f"out/{track}/drums.mid")[:4] == b"MThd"
    health = client.health()
    assert health["queue_depth"] == 0 and "drums:drumnet" in health["models_loaded"]


def test_features_stems_batch(client, tmp_path):
    a = write_tone(tmp_path / "a.wav", seconds=2.0, sr=16_000)
    b = write_tone(tmp_path / "b.wav", seconds=3.0, sr=44_100, channels=2, freq=220)
    emb = client.features(a, overrides=["profile=tiny"])
    assert emb.frames.ndim == 2 and emb.timestamps[-1] > 1.5 and emb.scene.shape == (
        emb.frames.shape[1],)
    stems = client.stems(b, tmp_path / "stems", stems="drums,bass", overrides=["profile=tiny"])
    assert [f.name for f in stems.files] == ["drums", "bass"]
    assert (tmp_path / "stems" / "b" / "stems" / "bass.wav").stat().st_size > 1000
    job = client.batch_analyze([a, CLIP])
    assert sorted(job["tracks"]) == ["a", "two_step_174"]
    (tmp_path / "notes.wav").write_text("not audio")
    with pytest.raises(ServerError) as e:
        client.drums(tmp_path / "notes.wav")
    assert e.value.status == 415 and "notes.wav" in e.value.message


def test_semantic_index_search_and_tags(client, tmp_path):
    report = client.semantic_analyze(CLIP)
    assert report["added"] == 1
    hits = client.search("rolling drum and bass", k=3)
    assert hits and hits[0].track == CLIP.name and hits[0].end > hits[0].start
    by_audio = client.search(audio=CLIP, per_track=True)
    assert by_audio[0].track == CLIP.name
    tags = client.tag(CLIP, "genre:techno,drum and bass;mood:dark,happy")
    assert set(tags["categories"]) == {"genre", "mood"}
    assert sum(tags["categories"]["genre"]["labels"].values()) == pytest.approx(1, abs=1e-3)
    stats = client.stats()
    assert stats["tracks"] >= 1 and stats["embedder"] == "similarity"


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (/usr/bin/chromium); "
                    "CI installs it with `apt-get install -y chromium`")
def test_explorer_in_chromium(server, client, tmp_path):
    """Upload, wait, open the timeline, play, zoom, search, play a hit: no console error."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    client.semantic_analyze(CLIP)  # something to find
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(server.url + "/")
        page.set_input_files("#upload-file", str(CLIP))
        page.select_option("#upload-task", "analyze")
        page.click("#upload-go")
        page.wait_for_function("document.getElementById('upload-progress').value === 100")
        page.wait_for_selector("#upload-status[data-job]", timeout=30_000)
        job_id = page.get_attribute("#upload-status", "data-job")
        page.wait_for_selector(f"#job-list li[data-job='{job_id}'][data-status='done']",
                               timeout=120_000)
        page.click(f"#job-list li[data-job='{job_id}']")
        page.click("#track-list li[data-track='two_step_174']")
        page.wait_for_selector("#track-view:not([hidden])")
        meta = page.inner_text("#track-meta")
        assert re.search(r"17\d\.\d BPM", meta) and "hits" in meta
        assert "kick" in page.inner_text("#legend")
        span = page.evaluate("heihachiExplorer.timeline.view.span")
        page.click("#zoom-in")
        assert page.evaluate("heihachiExplorer.timeline.view.span") < span
        page.mouse.move(600, 300)
        page.mouse.wheel(0, 400)
        page.click("#play")
        page.wait_for_function("document.getElementById('player').currentTime > 0.5",
                               timeout=20_000)
        page.click("#play")  # pause
        page.fill("#search-text", "rolling drum and bass")
        page.click("#search-go")
        page.wait_for_selector("#search-hits li button.play-hit", timeout=60_000)
        assert CLIP.name in page.inner_text("#search-hits")
        page.click("#search-hits li:first-child button.play-hit")
        page.wait_for_function("!document.getElementById('player').paused", timeout=20_000)
        browser.close()
    assert errors == [], errors


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (/usr/bin/chromium)")
def test_results_folder_in_chromium_shows_sections_and_key(tmp_path):
    """``serve --results DIR``: a CLI folder with ``analysis.json`` (heihachi process)."""
    import json

    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    out = tmp_path / "out" / "mix"
    out.mkdir(parents=True)
    audio = write_tone(tmp_path / "mix.wav", seconds=8.0, sr=22_050)
    hits = [{"time": t, "class": c, "confidence": 0.9, "velocity": 0.7, "label": c}
            for t in np.arange(0.1, 8, 0.5) for c in ("kick", "hihat")]
    (out / "drums.json").write_text(json.dumps({"schema": "heihachi.drums/1",
                                                "path": str(audio), "hits": hits}))
    (out / "beats.json").write_text(json.dumps({"path": str(audio), "tempo": 120.0,
                                                "beats": list(np.arange(0.1, 8, 0.5)),
                                                "downbeats": list(np.arange(0.1, 8, 2.0))}))
    (out / "analysis.json").write_text(json.dumps({
        "schema": "heihachi.analysis/1", "path": str(audio),
        "sections": [{"start": 0.0, "end": 4.0, "label": "intro"},
                     {"start": 4.0, "end": 8.0, "label": "drop"}],
        "key": {"key": "F", "mode": "minor", "camelot": "4A"}}))
    server = LiveServer(tmp_path / "data", "--results", str(tmp_path / "out")).start()
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(server.url + "/")
            page.click("#job-list li:has-text('mix')")
            page.wait_for_selector("#track-view:not([hidden])")
            meta = page.inner_text("#track-meta")
            assert "key F minor (4A)" in meta and "2 sections" in meta and "120.0 BPM" in meta
            assert page.is_hidden("#upload-panel")
            page.click("#play")
            page.wait_for_function("document.getElementById('player').currentTime > 0.3")
            browser.close()
    finally:
        server.stop()
    assert errors == [], errors

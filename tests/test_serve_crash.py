"""SIGKILL the server mid-load, restart it: every accepted job completes, exactly once."""

from __future__ import annotations

import time
from collections import Counter

import httpx
import pytest

pytest.importorskip("fastapi")
from conftest import write_tone
from serve_support import LiveServer

from heihachi.serve.jobs import JobStore


def test_sigkill_mid_load_then_restart_finishes_every_job(tmp_path):
    clips = [write_tone(tmp_path / "in" / f"c{i:02d}.wav", seconds=4.0, sr=24_000,
                        freq=200 + 40 * i) for i in range(12)]
    data = tmp_path / "data"
    # two files per batch, so the kill finds jobs done, running and queued
    server = LiveServer(data, "--batch-files", "2", "--rate-limit", "0").start()
    accepted = []
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for clip in clips:
                with open(clip, "rb") as f:
                    r = http.post("/api/v1/drums", files={"file": (clip.name, f)})
                assert r.status_code == 202, r.text
                accepted.append(r.json()["id"])
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                counts = http.get("/api/v1/health").json()["jobs"]
                if counts["done"] >= 1:
                    break
                time.sleep(0.05)
        assert counts["done"] < len(clips), "everything finished before the kill"
    finally:
        server.kill()
    server.wait_workers_gone()
    store = JobStore(data / "jobs.sqlite")
    before = Counter(store.get(j).status for j in accepted)
    assert before["done"] < len(accepted)

    restarted = LiveServer(data, "--batch-files", "2", "--rate-limit", "0",
                           port=server.port).start()
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if all(store.get(j).status in ("done", "failed") for j in accepted):
                break
            time.sleep(0.2)
    finally:
        restarted.stop()
    statuses = {j: store.get(j).status for j in accepted}
    assert set(statuses.values()) == {"done"}, statuses
    events = store.events()
    finished = Counter(job for job, event, _w in events if event in ("done", "failed"))
    assert all(finished[j] == 1 for j in accepted), finished  # exactly once
    if before["running"]:
        assert any(event == "requeued" for _j, event, _w in events)
    for j in accepted:
        job = store.get(j)
        track = job.inputs[0]["track"]
        assert (data / "jobs" / j / "out" / track / "drums.json").is_file()
        assert job.result["counts"]["ok"] + job.result["counts"]["skipped"] == 1

"""The API in-process (no workers): what it accepts, what it refuses and how it says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from conftest import write_tone
from fastapi.testclient import TestClient

from heihachi.serve.app import create_app
from heihachi.serve.settings import ServeSettings

ISSUE_ENDPOINTS = {
    ("post", "/api/v1/analyze"), ("post", "/api/v1/features"), ("post", "/api/v1/beats"),
    ("post", "/api/v1/drums"), ("post", "/api/v1/stems"), ("post", "/api/v1/batch-analyze"),
    ("post", "/api/v1/semantic/analyze"), ("post", "/api/v1/semantic/search"),
    ("post", "/api/v1/semantic/tag"), ("get", "/api/v1/semantic/stats"),
    ("get", "/api/v1/jobs"), ("get", "/api/v1/jobs/{job_id}"),
    ("get", "/api/v1/jobs/{job_id}/files/{name}"), ("delete", "/api/v1/jobs/{job_id}"),
    ("get", "/api/v1/health"),
}


@pytest.fixture(scope="module")
def tone(tmp_path_factory) -> Path:
    return write_tone(tmp_path_factory.mktemp("audio") / "tone.wav", seconds=1.0, sr=16_000)


def client(tmp_path: Path, **settings) -> TestClient:
    s = ServeSettings(data=tmp_path / "data", rate_per_s=settings.pop("rate_per_s", 0),
                      **settings)
    return TestClient(create_app(s, start_workers=False))


def upload(c: TestClient, path: Path, task: str = "drums", name: str | None = None,
           **kw) -> object:
    with open(path, "rb") as f:
        return c.post(f"/api/v1/{task}", files={"file": (name or path.name, f)}, **kw)


def test_schema_docs_and_every_endpoint(tmp_path):
    with client(tmp_path) as c:
        schema = c.get("/openapi.json").json()
        have = {(m, p) for p, ops in schema["paths"].items() for m in ops}
        assert ISSUE_ENDPOINTS <= have
        form = schema["components"]["schemas"]["Body_drums_api_v1_drums_post"]["properties"]
        assert {"file", "plugin", "model", "overrides"} <= set(form)
        assert "swagger" in c.get("/docs").text.lower()
        assert c.get("/").headers["content-type"].startswith("text/html")


def test_accept_list_get_delete(tmp_path, tone):
    with client(tmp_path) as c:
        r = upload(c, tone, "drums", data={"overrides": ["drums.threshold_scale=0.8"]})
        assert r.status_code == 202, r.text
        job_id = r.json()["id"]
        assert r.headers["location"] == f"/api/v1/jobs/{job_id}"
        job = c.get(f"/api/v1/jobs/{job_id}").json()
        assert job["status"] == "queued" and job["inputs"] == [{"name": "tone.wav",
                                                                "track": "tone"}]
        assert "drums.threshold_scale=0.8" in job["params"]["overrides"]
        listed = c.get("/api/v1/jobs", params={"limit": 1}).json()
        assert listed["total"] == 1 and listed["jobs"][0]["id"] == job_id
        assert (tmp_path / "data" / "jobs" / job_id / "input" / "tone.wav").is_file()
        assert c.delete(f"/api/v1/jobs/{job_id}").json()["deleted"]
        assert c.get(f"/api/v1/jobs/{job_id}").status_code == 404
        assert not (tmp_path / "data" / "jobs" / job_id).exists()


def test_bad_uploads_get_4xx_with_a_message(tmp_path, tone):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.wav").write_bytes(b"")
    (bad / "text.wav").write_text("this is not audio at all\n" * 50)
    (bad / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    header = tone.read_bytes()
    (bad / "truncated.wav").write_bytes(header[:len(header) // 3])
    with client(tmp_path, max_upload_mb=0.05) as c:
        for name, status in (("empty.wav", 400), ("text.wav", 415), ("corrupt.wav", 415),
                             ("truncated.wav", 415)):
            r = upload(c, bad / name)
            assert r.status_code == status, (name, r.text)
            body = r.json()
            assert body["status"] == status and name in body["message"]
            assert "Traceback" not in r.text
        big = write_tone(tmp_path / "big.wav", seconds=60.0, sr=44_100)
        r = upload(c, big)  # declared Content-Length over the limit
        assert r.status_code == 413 and "limit" in r.json()["message"]

        def chunks():  # no Content-Length: refused while streaming
            yield (b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"'
                   b'\r\nContent-Type: audio/wav\r\n\r\n')
            for _ in range(200):
                yield b"x" * 65536
            yield b"\r\n--zz--\r\n"

        r = c.post("/api/v1/drums", content=chunks(),
                   headers={"content-type": "multipart/form-data; boundary=zz"})
        assert r.status_code == 413
        r = c.post("/api/v1/drums", data={"plugin": "drumnet"})  # no file at all
        assert r.status_code == 422 and "file" in r.json()["message"]
        assert c.get("/api/v1/jobs").json()["total"] == 0  # nothing was accepted
        assert not list((tmp_path / "data" / "jobs").glob("*/input/*"))


@pytest.mark.parametrize("fields, message", [
    ({"plugin": "nope"}, "no drums plugin"),
    ({"model": "/etc/passwd"}, "paths"),
    ({"overrides": ["runtime.device=cuda"]}, "not allowed"),
    ({"overrides": ["drums.threshold=high"]}, "threshold"),
])
def test_invalid_fields_are_422(tmp_path, tone, fields, message):
    with client(tmp_path) as c:
        r = upload(c, tone, data=fields)
        assert r.status_code == 422 and message in r.json()["message"], r.text


def test_semantic_fields(tmp_path, tone):
    with client(tmp_path) as c:
        r = c.post("/api/v1/semantic/search", data={"k": "5"})
        assert r.status_code == 422 and "text query" in r.json()["message"]
        r = upload(c, tone, "semantic/tag", data={"categories": "genre"})
        assert r.status_code == 422 and "NAME:LABEL" in r.json()["message"]
        r = c.post("/api/v1/semantic/search?wait=false", data={"text": "amen break"})
        assert r.status_code == 202
        assert c.get("/api/v1/semantic/stats").json()["tracks"] == 0


def test_api_key_401_403(tmp_path, tone, monkeypatch):
    monkeypatch.setenv("HEIHACHI_API_KEY", "env-key")
    from heihachi.serve.settings import api_keys_from

    keys = api_keys_from(["cli-key"])
    with client(tmp_path, api_keys=keys) as c:
        assert c.get("/api/v1/jobs").status_code == 401
        assert c.get("/api/v1/jobs").headers["www-authenticate"].startswith("Bearer")
        assert c.get("/api/v1/jobs", headers={"Authorization": "Bearer wrong"}
                     ).status_code == 403
        for key in ("cli-key", "env-key"):
            r = c.get("/api/v1/jobs", headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200
        assert upload(c, tone).status_code == 401
        assert c.get("/health").status_code == 200  # liveness and the explorer stay open
        assert c.get("/index.html").status_code == 200


def test_rate_limit_429(tmp_path):
    with client(tmp_path, rate_per_s=0.5, rate_burst=2) as c:
        codes = [c.get("/api/v1/jobs").status_code for _ in range(4)]
        assert codes[:2] == [200, 200] and codes[2:] == [429, 429]
        r = c.get("/api/v1/jobs")
        assert int(r.headers["retry-after"]) >= 1 and "too many" in r.json()["message"]


def test_queue_bound_503(tmp_path, tone):
    with client(tmp_path, max_queue=1) as c:
        assert upload(c, tone).status_code == 202
        r = upload(c, tone)
        assert r.status_code == 503 and r.headers["retry-after"] == "1"
        assert "queue is full" in r.json()["message"]
        assert len(list((tmp_path / "data" / "jobs").iterdir())) == 1  # nothing kept


def test_cors_origins(tmp_path):
    with client(tmp_path, cors_origins=["http://app.example"]) as c:
        ok = c.get("/api/v1/jobs", headers={"Origin": "http://app.example"})
        assert ok.headers["access-control-allow-origin"] == "http://app.example"
        other = c.get("/api/v1/jobs", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    with client(tmp_path / "2") as c:  # none configured: no CORS headers at all
        r = c.get("/api/v1/jobs", headers={"Origin": "http://app.example"})
        assert "access-control-allow-origin" not in r.headers


def test_no_path_leaves_data(tmp_path, tone):
    (tmp_path / "secret.txt").write_text("secret")
    with client(tmp_path) as c:
        r = upload(c, tone, name="../../../../secret.wav")
        assert r.status_code == 202
        job_id = r.json()["id"]
        data = tmp_path / "data"
        assert (data / "jobs" / job_id / "input" / "secret.wav").is_file()
        assert not (tmp_path / "secret.wav").exists()
        for name in ("../../../secret.txt", "..%2F..%2F..%2Fsecret.txt", "%2Fetc%2Fpasswd",
                     "input/../../../../secret.txt", "input/%00",
                     "input/..%2F..%2F..%2F..%2Fsecret.txt"):
            r = c.get(f"/api/v1/jobs/{job_id}/files/{name}")
            assert r.status_code == 404, name
            assert "secret" != r.text
        for bad_id in ("..", "..%2F..%2Fjobs.sqlite", "x" * 32, job_id + "/../x"):
            assert c.get(f"/api/v1/jobs/{bad_id}").status_code == 404
        assert c.get(f"/api/v1/jobs/{job_id}/tracks/..%2F..%2F..").status_code == 404
        assert c.get(f"/api/v1/jobs/{job_id}/files/input/secret.wav").status_code == 200


def test_unexpected_error_is_json_without_traceback(tmp_path, monkeypatch):
    from heihachi.serve.jobs import JobStore

    def boom(self, *a, **k):
        raise RuntimeError("database on fire at /secret/place")

    monkeypatch.setattr(JobStore, "list", boom)
    with client(tmp_path) as c:
        c_ = TestClient(c.app, raise_server_exceptions=False)
        r = c_.get("/api/v1/jobs")
        assert r.status_code == 500
        assert r.json()["message"].startswith("internal error")
        assert "Traceback" not in r.text and "/secret/place" not in r.text


def test_results_folder_read_only(tmp_path):
    out = tmp_path / "out"
    t = out / "song"
    t.mkdir(parents=True)
    audio = write_tone(tmp_path / "song.wav", seconds=2.0, sr=16_000)
    (t / "beats.json").write_text(json.dumps({"schema": "heihachi.beats/1", "path": str(audio),
                                              "beats": [0.5, 1.0], "downbeats": [0.5],
                                              "tempo": 120.0, "duration": 2.0}))
    (t / "drums.mid").write_bytes(b"MThd")
    s = ServeSettings(data=tmp_path / "unused", results=out, rate_per_s=0)
    with TestClient(create_app(s, start_workers=False)) as c:
        assert c.get("/api/v1/health").json()["read_only"] is True
        assert c.get("/api/v1/results/tracks").json() == [{"track": "song",
                                                          "tasks": ["beats"]}]
        assert c.get("/api/v1/results/tracks/song").json()["tempo"] == 120.0
        peaks = c.get("/api/v1/results/tracks/song/waveform", params={"points": 50}).json()
        assert len(peaks["max"]) == 50 and abs(peaks["duration"] - 2.0) < 0.01
        assert c.get("/api/v1/results/tracks/song/audio").content == audio.read_bytes()
        assert c.get("/api/v1/results/files/song/drums.mid").content == b"MThd"
        assert c.get("/api/v1/results/files/..%2Fsong.wav").status_code == 404
        assert c.get("/api/v1/jobs").status_code == 405
        with open(audio, "rb") as f:
            assert c.post("/api/v1/drums", files={"file": f}).status_code == 405
    assert not (tmp_path / "unused").exists()  # a read-only server writes nothing

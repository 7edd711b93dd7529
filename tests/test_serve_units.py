"""The server's parts without a server: names, paths, the job store, overrides, limits."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from heihachi.serve.jobs import Job, JobStore, new_job_id
from heihachi.serve.storage import RequestError, inside, safe_filename
from heihachi.serve.tasks import TASKS, client_overrides


@pytest.mark.parametrize("sent, kept", [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("/abs/path/Track 01.FLAC", "Track 01.flac"),
    ("..", "upload"),
    (".hidden.wav", "hidden.wav"),
    ("a;rm -rf $(x).wav", "a_rm -rf _(x).wav"),
    ("", "upload"),
    ("name\x00.wav", "name.wav"),
])
def test_safe_filename_keeps_only_a_plain_name(sent, kept):
    assert safe_filename(sent) == kept
    assert "/" not in kept and "\\" not in kept and not kept.startswith(".")


def test_inside_refuses_every_way_out(tmp_path):
    root = tmp_path / "job"
    (root / "out").mkdir(parents=True)
    (tmp_path / "secret").write_text("x")
    (root / "out" / "link").symlink_to(tmp_path / "secret")
    assert inside(root, "out") == (root / "out").resolve()
    for bad in ("../secret", "out/../../secret", "/etc/passwd", "out/link", "", "a\x00b",
                "C:/x", "\\\\server\\share"):
        with pytest.raises(RequestError) as e:
            inside(root, bad)
        assert e.value.status == 404


def _job(store: JobStore, key: str = "k", files: int = 1, task: str = "drums") -> str:
    jid = new_job_id()
    store.add(Job(jid, task, "queued", key, {"kind": "drums", "overrides": []},
                  [{"name": f"{i}.wav", "path": f"/x/{i}.wav", "track": str(i)}
                   for i in range(files)], 1.0, time.time()))
    return jid


def test_claim_batches_equal_settings_and_finishes_once(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    a, b = _job(store, "same"), _job(store, "same")
    c = _job(store, "other")
    d = _job(store, "single:x")
    claimed = store.claim("w1", max_files=16)
    assert [j.id for j in claimed] == [a, b]
    assert store.claim("w2", 16)[0].id == c
    assert [j.id for j in store.claim("w3", 16)] == [d]  # single: never batched
    assert store.claim("w4", 16) == []
    assert store.finish(a, "w1", "done", {"ok": 1})
    assert not store.finish(a, "w1", "done", {"ok": 1})  # at most once
    assert not store.finish(b, "w9", "done", None)  # not that worker's
    assert store.requeue(worker="w1") == 1  # b goes back, a stays done
    assert store.get(b).status == "queued" and store.get(a).status == "done"
    done = [e for e in store.events() if e[1] == "done"]
    assert done == [(a, "done", "w1")]


def test_claim_respects_the_file_budget(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    ids = [_job(store, "k", files=3) for _ in range(4)]
    assert [j.id for j in store.claim("w", max_files=7)] == ids[:2]


def test_stale_and_restart_requeue(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    a = _job(store)
    store.claim("w", 4)
    assert store.requeue(stale_before=time.time() - 60) == 0  # fresh heartbeat
    assert store.requeue(stale_before=time.time() + 1) == 1
    store.claim("w2", 4)
    assert store.requeue(all_running=True) == 1
    assert store.get(a).status == "queued" and store.get(a).attempts == 2


def test_a_job_that_keeps_killing_its_worker_fails(tmp_path):
    from heihachi.serve.jobs import MAX_ATTEMPTS

    store = JobStore(tmp_path / "jobs.sqlite")
    a = _job(store)
    for n in range(MAX_ATTEMPTS):
        assert [j.id for j in store.claim(f"w{n}", 4)] == [a]
        store.requeue(worker=f"w{n}")
    job = store.get(a)
    assert job.status == "failed" and "died 3 times" in job.error
    assert store.claim("w", 4) == []


def test_list_is_paginated_newest_first(tmp_path):
    store = JobStore(tmp_path / "jobs.sqlite")
    ids = [_job(store) for _ in range(5)]
    page, total = store.list(offset=1, limit=2)
    assert total == 5 and [j.id for j in page] == ids[::-1][1:3]
    assert store.delete(ids[0]) == "queued" and store.get(ids[0]) is None


@pytest.mark.parametrize("overrides, message", [
    (["runtime.device=cuda"], "not allowed"),
    (["models.cache_dir=/tmp"], "not allowed"),
    (["output.dir=/tmp/x"], "not allowed"),
    (["drums.model=/etc/passwd"], "paths"),
    (["drums.model=../../x"], "paths"),
    (["drums.model=~/x"], "paths"),
    (["drums.threshold=${oc.env:HOME}"], "interpolations"),
    (["hydra.run.dir=x"], "not allowed"),
    (["no equals sign"], "KEY=VALUE"),
])
def test_client_overrides_refused(overrides, message):
    with pytest.raises(RequestError) as e:
        client_overrides(TASKS["drums"], "drums", None, None, overrides)
    assert e.value.status == 422 and message in e.value.message


def test_client_overrides_accepted_and_formats_added():
    ov = client_overrides(TASKS["analyze"], "drums", "drumnet", "tiny/drumnet",
                          ["drums.threshold_scale=0.8", "profile=tiny"])
    assert ov[:2] == ["drums=drumnet", "drums.model=tiny/drumnet"]
    assert ov[-1].startswith("output.formats=[json,midi")
    stems = client_overrides(TASKS["stems"], "separator", None, None, [], stems="drums,bass")
    assert stems == ["output.stems=[drums,bass]"]
    with pytest.raises(RequestError):
        client_overrides(TASKS["stems"], "separator", None, None, [], stems="../x")
    with pytest.raises(RequestError):
        client_overrides(TASKS["drums"], "drums", "no-such-plugin", None, [])


def test_rate_limit_token_bucket():
    from heihachi.serve.guards import RateLimit

    rl = RateLimit(None, rate=2.0, burst=3)  # type: ignore[arg-type]
    assert [rl.take(b"a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert rl.take(b"a", now=0.0) == pytest.approx(0.5)
    assert rl.take(b"b", now=0.0) == 0.0  # per client
    assert rl.take(b"a", now=0.6) == 0.0  # refilled


def test_queue_gate_refuses_uploads_past_max_uploads_before_reading_them():
    """With ``max_uploads`` uploads streaming in, the next gets 503 + Retry-After at once,
    its body unread; small POSTs pass; in-flight uploads count against the queue bound."""
    import asyncio

    from heihachi.serve.guards import QueueGate

    class Store:
        queued = 0

        def counts(self) -> dict[str, int]:
            return {"queued": self.queued}

    async def scenario() -> None:
        release = asyncio.Event()
        reads: list[str] = []

        async def app(scope, receive, send):  # stands for FastAPI: reads the body, answers
            await receive()
            await release.wait()
            await send({"type": "http.response.start", "status": 202, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        store = Store()
        gate = QueueGate(app, store=store, max_queue=3, max_uploads=2)

        def request(kind: str) -> tuple[dict, object, object, list]:
            ctype = b"multipart/form-data; boundary=x" if kind == "upload" else b"text/plain"
            scope = {"type": "http", "method": "POST", "path": "/api/v1/drums",
                     "headers": [(b"content-type", ctype)]}
            sent: list[dict] = []

            async def receive() -> dict:
                reads.append(kind)
                return {"type": "http.request", "body": b"...", "more_body": False}

            async def send(msg: dict) -> None:
                sent.append(msg)
            return scope, receive, send, sent

        first, second = request("upload"), request("upload")
        running = [asyncio.create_task(gate(*r[:3])) for r in (first, second)]
        await asyncio.sleep(0.01)
        assert gate.receiving == 2
        third = request("upload")
        await gate(*third[:3])
        assert third[3][0]["status"] == 503 and (b"retry-after", b"1") in third[3][0]["headers"]
        assert b"--max-uploads" in third[3][1]["body"] and reads == ["upload", "upload"]
        store.queued = 1  # 1 queued + 2 being received = the bound of 3: the queue is full
        small = request("text")
        await gate(*small[:3])
        assert small[3][0]["status"] == 503 and b"queue is full" in small[3][1]["body"]
        release.set()
        await asyncio.gather(*running)
        assert [r[3][0]["status"] for r in (first, second)] == [202, 202]
        assert gate.receiving == 0
        store.queued = 0
        fourth = request("upload")
        await gate(*fourth[:3])
        assert fourth[3][0]["status"] == 202

    asyncio.run(scenario())


def test_timeline_reads_process_sections_and_key(tmp_path):
    from heihachi.serve.folders import list_tracks, timeline

    t = tmp_path / "mix"
    t.mkdir()
    (t / "drums.json").write_text(json.dumps({"schema": "heihachi.drums/1", "hits": [
        {"time": 0.5, "class": "kick", "confidence": 0.9, "velocity": 0.8, "label": "kick"}],
        "duration": 30.0}))
    (t / "beats.json").write_text(json.dumps({"beats": [0.5, 1.0], "downbeats": [0.5],
                                              "tempo": 120.0}))
    (t / "analysis.json").write_text(json.dumps({
        "schema": "heihachi.analysis/1",
        "sections": {"sections": [{"start": 0.0, "end": 16.0, "label": "intro"},
                                  {"start": 16.0, "end": 30.0, "label": "drop A"}]},
        "key": {"key": "F", "mode": "minor", "camelot": "4A", "confidence": 0.7}}))
    assert list_tracks(tmp_path) == [{"track": "mix", "tasks": ["drums", "beats",
                                                                "analysis"]}]
    doc = timeline(tmp_path, "mix")
    assert [s["label"] for s in doc["sections"]] == ["intro", "drop A"]
    assert doc["key"] == "F minor (4A)" and doc["duration"] == 30.0
    assert doc["hits"] == [[0.5, "kick", 0.9, 0.8, "kick"]]
    with pytest.raises(RequestError):
        timeline(tmp_path, "../mix")


def test_settings_round_trip_without_keys(tmp_path):
    from heihachi.serve.settings import ServeSettings

    s = ServeSettings(data=tmp_path / "d", api_keys=["secret"], overrides=["profile=tiny"])
    s.save()
    assert "secret" not in (tmp_path / "d" / "server.json").read_text()
    back = ServeSettings.load(tmp_path / "d")
    assert back.overrides == ["profile=tiny"] and back.api_keys == []
    assert Path(back.data) == tmp_path / "d"


def test_retention_deletes_old_finished_jobs_and_their_files(tmp_path):
    from heihachi.serve.settings import ServeSettings
    from heihachi.serve.supervisor import Supervisor

    s = ServeSettings(data=tmp_path / "d", retention_h=1.0)
    store = JobStore(s.db_path)
    old, fresh, waiting = _job(store), _job(store), _job(store, "single:w")
    for j in (old, fresh, waiting):
        (s.jobs_dir / j / "out").mkdir(parents=True)
    store.claim("w", 2)
    store.finish(old, "w", "done", {})
    store.finish(fresh, "w", "done", {})
    sup = Supervisor(s, store)
    assert sup.cleanup(now=time.time() + 1800) == 0  # both younger than an hour
    with store._db() as db:
        db.execute("UPDATE jobs SET finished = ? WHERE id = ?", (time.time() - 7200, old))
    assert sup.cleanup() == 1
    assert store.get(old) is None and not (s.jobs_dir / old).exists()
    assert store.get(fresh).status == "done" and (s.jobs_dir / fresh).exists()
    assert store.get(waiting).status == "queued"  # unfinished jobs are never removed
    assert Supervisor(ServeSettings(data=tmp_path / "k", retention_h=0), store).cleanup(
        now=time.time() + 10**9) == 0


def test_one_server_per_data_directory(tmp_path):
    import fcntl

    from heihachi.errors import UsageError
    from heihachi.serve.settings import ServeSettings
    from heihachi.serve.supervisor import Supervisor, data_in_use

    s = ServeSettings(data=tmp_path / "d", workers=1)
    s.data.mkdir()
    assert not data_in_use(s.data)
    with open(s.data / "server.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert data_in_use(s.data)
        with pytest.raises(UsageError, match="another heihachi server"):
            Supervisor(s, JobStore(s.db_path)).start()

"""Load on ``heihachi serve``: many uploads from concurrent clients, against the CLI.

    python bench/serve_load.py [--uploads 200] [--clients 20] [--seconds 30]
                               [--max-queue 40] [--max-uploads 4] [--crash] [--json FILE]

Renders ``--distinct`` 30-second drum & bass clips (the bundled example, tiled and
varied), hard-links them into ``--uploads`` files, then in the same run:

1. the baseline: ``heihachi hf analyze-drums FILES output.formats=[json]`` (one CLI run
   over every file: the same plugin, settings and outputs as the server's ``drums``),
   at the priority the server's workers run at (``nice 5``);
2. the server: ``heihachi serve`` with one worker and a bounded queue (``--max-queue``;
   a full queue, or ``--max-uploads`` uploads already streaming in, answers 503 +
   Retry-After before the body is read and the client retries), and ``--clients``
   threads uploading the same files (``POST /api/v1/drums``).

Prints latency to accept (POST -> 202) and to complete (POST -> the job's finish time),
p50/p95; throughput in audio-seconds per second for both; peak RSS of each process tree;
and checks that every accepted job finished exactly once (the job store's events).
With ``--crash`` the server is SIGKILLed half way and restarted on the same data
directory; clients retry what was in flight, and every accepted job must still finish
exactly once. Targets: accept p95 < 200 ms, throughput >= 0.8x the CLI's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKER_NICE = 5  # heihachi.serve.worker lowers its priority by this much
sys.path.insert(0, str(ROOT / "tests"))  # serve_support: the tests' server launcher


def make_clips(folder: Path, distinct: int, uploads: int, seconds: float) -> list[Path]:
    """``distinct`` varied clips of ``seconds`` (44.1 kHz mono PCM16), linked to ``uploads``."""
    import numpy as np
    import soundfile as sf

    from heihachi.runtime.audio import load

    base = load(ROOT / "examples" / "audio" / "two_step_174.flac", 44_100, 1)[0]
    rng = np.random.default_rng(7)
    src = folder / "distinct"
    src.mkdir(parents=True, exist_ok=True)
    made = []
    n = int(seconds * 44_100)
    for i in range(distinct):
        x = np.tile(np.roll(base, int(rng.integers(0, len(base)))), n // len(base) + 1)[:n]
        x = x * float(rng.uniform(0.5, 1.0)) + rng.normal(0, 0.003, n)
        path = src / f"clip{i:02d}.wav"
        sf.write(path, np.clip(x, -1, 1).astype(np.float32), 44_100, subtype="PCM_16")
        made.append(path)
    files = folder / "uploads"
    files.mkdir(exist_ok=True)
    out = []
    for i in range(uploads):
        p = files / f"u{i:03d}.wav"
        if not p.exists():
            os.link(made[i % distinct], p)
        out.append(p)
    return out


class PeakRSS(threading.Thread):
    """Samples the summed RSS of a process and all its children every 0.2 s."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stop_flag = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.stop_flag.wait(0.2):
            try:
                p = psutil.Process(self.pid)
                procs = [p, *p.children(recursive=True)]
            except psutil.Error:
                continue
            total = 0
            for q in procs:
                try:
                    total += q.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)

    def stop(self) -> int:
        self.stop_flag.set()
        self.join(5)
        return self.peak


def run_cli(files: list[Path], out: Path) -> dict[str, float]:
    listing = out.parent / "cli-inputs.txt"
    listing.write_text("\n".join(str(f) for f in files))
    t0 = time.perf_counter()
    # at the server's worker priority (nice 5), so both get the same share of a busy machine
    proc = subprocess.Popen(["nice", "-n", str(WORKER_NICE), sys.executable, "-m", "heihachi",
                             "hf", "analyze-drums",
                             str(listing), "--output", str(out), "-q",
                             "output.formats=[json]"], cwd=ROOT,
                            env=dict(os.environ, HF_HUB_OFFLINE="1"))
    rss = PeakRSS(proc.pid)
    rss.start()
    rc = proc.wait()
    wall = time.perf_counter() - t0
    if rc != 0:
        raise SystemExit(f"the CLI baseline failed (exit {rc})")
    return {"wall_s": wall, "peak_rss_mb": rss.stop() / 2**20}


class Uploader:
    """``clients`` threads, each taking the next file and POSTing it until accepted."""

    def __init__(self, url_of: object, files: list[Path], clients: int) -> None:
        self.url_of = url_of  # callable: the server's current URL
        self.files = files
        self.clients = clients
        self.next = 0
        self.lock = threading.Lock()
        self.accepted: dict[str, dict[str, float]] = {}
        self.codes: Counter[int | str] = Counter()
        self.pause = threading.Event()  # set while the server is down (crash mode)

    def take(self) -> int | None:
        with self.lock:
            if self.next >= len(self.files):
                return None
            self.next += 1
            return self.next - 1

    def client(self) -> None:
        import httpx

        with httpx.Client(timeout=120) as http:
            while (i := self.take()) is not None:
                first = time.time()
                while True:
                    start = time.perf_counter()
                    try:
                        with open(self.files[i], "rb") as f:
                            r = http.post(self.url_of() + "/api/v1/drums",
                                          files={"file": (self.files[i].name, f)})
                    except httpx.HTTPError:
                        self.codes["connection error"] += 1
                        time.sleep(0.5)  # the server is restarting (crash mode)
                        continue
                    self.codes[r.status_code] += 1
                    if r.status_code == 202:
                        with self.lock:
                            self.accepted[r.json()["id"]] = {
                                "accept_s": time.perf_counter() - start, "submitted": first}
                        break
                    if r.status_code in (429, 503):
                        time.sleep(float(r.headers.get("retry-after", "1")))
                        continue
                    raise SystemExit(f"upload refused: {r.status_code} {r.text}")

    def run(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.client, daemon=True)
                   for _ in range(self.clients)]
        for t in threads:
            t.start()
        return threads


def pct(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else float("nan")


def run_server(files: list[Path], data: Path, args: argparse.Namespace) -> dict:
    from serve_support import LiveServer

    from heihachi.serve.jobs import JobStore

    opts = ("--max-queue", str(args.max_queue), "--rate-limit", "0", "--workers",
            str(args.workers), "--max-uploads", str(args.max_uploads))
    server = LiveServer(data, *opts).start()
    rss = PeakRSS(server.proc.pid)
    rss.start()
    up = Uploader(lambda: server.url, files, args.clients)
    t0 = time.time()
    threads = up.run()
    crash: dict[str, object] = {}
    if args.crash:
        while len(up.accepted) < len(files) // 2:
            time.sleep(0.05)
        store = JobStore(data / "jobs.sqlite")
        crash["accepted_at_kill"] = len(up.accepted)
        crash["states_at_kill"] = dict(store.counts())
        server.kill()
        server.wait_workers_gone()
        t_kill = time.time()
        server = LiveServer(data, *opts, port=server.port).start()
        crash["restart_s"] = round(time.time() - t_kill, 2)
        rss.stop()
        rss = PeakRSS(server.proc.pid)
        rss.start()
    for t in threads:
        t.join()
    store = JobStore(data / "jobs.sqlite")
    ids = list(up.accepted)
    while True:
        jobs = {j: store.get(j) for j in ids}
        if all(j.status in ("done", "failed") for j in jobs.values()):
            break
        time.sleep(0.2)
    t_end = max(j.finished for j in jobs.values())
    # a 202 lost in the kill leaves a job the client never saw: it must finish too
    while store.counts()["queued"] or store.counts()["running"]:
        time.sleep(0.2)
    server_jobs = sum(store.counts().values())
    peak = rss.stop()
    server.stop()
    events = store.events()
    finished = Counter(job for job, ev, _w in events if ev in ("done", "failed"))
    audio = sum(j.audio_s or 0 for j in jobs.values())
    accept = [a["accept_s"] for a in up.accepted.values()]
    complete = [jobs[j].finished - a["submitted"] for j, a in up.accepted.items()]
    return {
        "accepted": len(ids), "done": sum(j.status == "done" for j in jobs.values()),
        "failed": sum(j.status == "failed" for j in jobs.values()),
        "finished_exactly_once": all(finished[j] == 1 for j in ids),
        "requeued": sum(ev == "requeued" for _j, ev, _w in events),
        "server_jobs": server_jobs, "server_unfinished": store.counts()["queued"],
        "answers": {str(k): v for k, v in up.codes.items()},
        "accept_p50_ms": 1000 * pct(accept, 50), "accept_p95_ms": 1000 * pct(accept, 95),
        "complete_p50_s": pct(complete, 50), "complete_p95_s": pct(complete, 95),
        "wall_s": t_end - t0, "audio_s": audio, "peak_rss_mb": peak / 2**20, **crash,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uploads", type=int, default=200)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--distinct", type=int, default=20)
    ap.add_argument("--max-queue", type=int, default=40)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--max-uploads", type=int, default=4,
                    help="The server's --max-uploads (uploads received at once; 0: no limit)")
    ap.add_argument("--crash", action="store_true", help="SIGKILL + restart half way")
    ap.add_argument("--work", type=Path, help="Working folder (default: a temp dir)")
    ap.add_argument("--json", type=Path, help="Write the figures here")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="heihachi-serve-load-"))
    files = make_clips(work, args.distinct, args.uploads, args.seconds)
    audio = args.uploads * args.seconds
    print(f"{args.uploads} uploads of {args.seconds:g} s ({audio:g} audio-seconds), "
          f"{args.clients} clients, queue bound {args.max_queue}, uploads at once "
          f"{args.max_uploads or 'unlimited'}", flush=True)
    cli = run_cli(files, work / "cli-out")
    cli["throughput"] = audio / cli["wall_s"]
    print(f"CLI  hf analyze-drums: {cli['wall_s']:.1f} s, {cli['throughput']:.1f} audio-s/s, "
          f"peak RSS {cli['peak_rss_mb']:.0f} MB", flush=True)
    srv = run_server(files, work / "data", args)
    srv["throughput"] = srv["audio_s"] / srv["wall_s"]
    ratio = srv["throughput"] / cli["throughput"]
    print(f"serve: {srv['wall_s']:.1f} s, {srv['throughput']:.1f} audio-s/s = {ratio:.2f}x the "
          f"CLI (target >= 0.8), peak RSS {srv['peak_rss_mb']:.0f} MB (API + workers)")
    print(f"  accept  p50 {srv['accept_p50_ms']:.0f} ms  p95 {srv['accept_p95_ms']:.0f} ms "
          "(target p95 < 200 ms)")
    print(f"  complete p50 {srv['complete_p50_s']:.1f} s  p95 {srv['complete_p95_s']:.1f} s")
    print(f"  {srv['accepted']} accepted, {srv['done']} done, {srv['failed']} failed, "
          f"finished exactly once: {srv['finished_exactly_once']}; answers {srv['answers']}")
    if args.crash:
        print(f"  crash: SIGKILL after {srv['accepted_at_kill']} accepted (jobs then "
              f"{srv['states_at_kill']}), restart {srv['restart_s']} s, "
              f"{srv['requeued']} job(s) requeued")
    ok = (srv["accepted"] == args.uploads and srv["done"] == args.uploads
          and srv["finished_exactly_once"])
    if args.json:
        args.json.write_text(json.dumps({"cli": cli, "serve": srv, "ratio": ratio,
                                         "args": {k: str(v) for k, v in vars(args).items()}},
                                        indent=2))
    if not ok:
        raise SystemExit("FAILED: not every upload was accepted and finished exactly once")


if __name__ == "__main__":
    main()

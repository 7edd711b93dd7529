"""A Python client of ``heihachi serve``, mirroring the API's nouns.

    from heihachi.client import Client
    client = Client("http://127.0.0.1:8000", api_key="...")
    hits = client.drums("a.wav")          # DrumHits, as DrumAnalyzer().analyze("a.wav")
    beats = client.beats("a.wav")         # Beats
    emb = client.features("a.wav")        # Embeddings (frames, timestamps, scene)
    job = client.submit("analyze", ["a.wav"], wait=False); client.wait(job["id"])
    client.search("rolling amen break")   # [Hit(track, start, end, score)], best first

Task methods upload the file (streamed, never read whole into memory), wait for the
job and build the same result dataclasses as the local API (:mod:`heihachi.results`)
from the job's documents. A refused request raises :class:`ServerError` with the
server's message; 429 and 503 are retried after the server's ``Retry-After``.
Needs ``httpx`` (``pip install 'heihachi[client]'``).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from heihachi.errors import HeihachiError


class ServerError(HeihachiError):
    """The server refused a request or a job failed: ``status`` and its message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}" if status else message)
        self.status = status
        self.message = message


class Client:
    """Talks to one server.

    Args:
        url: the server's base URL.
        api_key: the bearer token, if the server wants one.
        timeout: seconds a job may take before :meth:`wait` gives up.
        retries: how often a 429/503 answer is retried.
    """

    def __init__(self, url: str = "http://127.0.0.1:8000", api_key: str | None = None, *,
                 timeout: float = 600.0, retries: int = 20) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=url.rstrip("/") + "/api/v1", headers=headers,
                                 timeout=httpx.Timeout(60.0, read=timeout))
        self.timeout = timeout
        self.retries = retries

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ----------------------------------------------------------------------------
    def _request(self, method: str, path: str, **kw: Any) -> Any:
        for attempt in range(self.retries + 1):
            for f in kw.get("files") or []:
                f[1][1].seek(0)
            r = self.http.request(method, path, **kw)
            if r.status_code in (429, 503) and attempt < self.retries:
                time.sleep(min(float(r.headers.get("retry-after", "1") or 1), 30.0))
                continue
            if r.status_code >= 400:
                try:
                    msg = r.json().get("message", r.text)
                except ValueError:
                    msg = r.text
                raise ServerError(r.status_code, msg)
            return r
        raise AssertionError("unreachable")

    def health(self) -> dict[str, Any]:
        return self._request("GET", "/health").json()

    def submit(self, task: str, paths: Iterable[str | Path], *, plugin: str | None = None,
               model: str | None = None, overrides: Iterable[str] = (),
               wait: bool = False, **fields: Any) -> dict[str, Any]:
        """Upload ``paths`` to ``POST /api/v1/<task>``; the job (202 answer or finished)."""
        paths = [Path(p) for p in paths]
        field = "files" if task == "batch-analyze" else "file"
        data: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        data.update({k: v for k, v in (("plugin", plugin), ("model", model)) if v})
        if overrides:
            data["overrides"] = list(overrides)
        handles = [open(p, "rb") for p in paths]  # closed below
        try:
            files = [(field, (p.name, h, "application/octet-stream"))
                     for p, h in zip(paths, handles, strict=True)]
            r = self._request("POST", f"/{task}", params={"wait": str(wait).lower()},
                              data=data, files=files or None)
        finally:
            for h in handles:
                h.close()
        return r.json()

    def job(self, job_id: str) -> dict[str, Any]:
        return self._request("GET", f"/jobs/{job_id}").json()

    def jobs(self, offset: int = 0, limit: int = 50, status: str | None = None
             ) -> dict[str, Any]:
        params: dict[str, Any] = {"offset": offset, "limit": limit}
        if status:
            params["status"] = status
        return self._request("GET", "/jobs", params=params).json()

    def wait(self, job_id: str, timeout: float | None = None) -> dict[str, Any]:
        """Poll until the job is done; raises :class:`ServerError` if it failed."""
        deadline = time.monotonic() + (timeout or self.timeout)
        delay = 0.1
        while True:
            job = self.job(job_id)
            if job["status"] == "done":
                return job
            if job["status"] == "failed":
                raise ServerError(0, f"job {job_id} failed: {job.get('error')}")
            if time.monotonic() > deadline:
                raise ServerError(0, f"job {job_id} still {job['status']} after the timeout")
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def delete(self, job_id: str) -> dict[str, Any]:
        return self._request("DELETE", f"/jobs/{job_id}").json()

    def file(self, job_id: str, name: str) -> bytes:
        """A file of a job, e.g. ``out/<track>/drums.mid`` or ``input/<upload>``."""
        return self._request("GET", f"/jobs/{job_id}/files/{name}").content

    def download(self, job_id: str, name: str, dest: str | Path) -> Path:
        """Stream a job's file to ``dest`` (for stems and other large files)."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with self.http.stream("GET", f"/jobs/{job_id}/files/{name}") as r:
            if r.status_code >= 400:
                r.read()
                raise ServerError(r.status_code, r.json().get("message", r.text))
            with open(dest, "wb") as f:
                for chunk in r.iter_bytes(1 << 20):
                    f.write(chunk)
        return dest

    def _run(self, task: str, path: str | Path, **kw: Any) -> tuple[dict[str, Any], str]:
        job = self.submit(task, [path], wait=True, **kw)
        if job["status"] not in ("done", "failed"):
            job = self.wait(job["id"])
        if job["status"] == "failed":
            raise ServerError(0, f"{path}: {job.get('error')}")
        (track,) = job["tracks"]
        return job, track

    # -- tasks: the same result dataclasses as heihachi.hf -----------------------------------
    def drums(self, path: str | Path, **kw: Any) -> Any:
        """Drum hits (``DrumHits``, with ``beats`` when the model finds them)."""
        job, track = self._run("drums", path, **kw)
        docs = job["results"][track]
        return drum_hits_from(docs["drums"], docs.get("beats"))

    def beats(self, path: str | Path, **kw: Any) -> Any:
        """Beats, downbeats and tempo (``Beats``)."""
        job, track = self._run("beats", path, **kw)
        return beats_from(job["results"][track]["beats"])

    def features(self, path: str | Path, **kw: Any) -> Any:
        """Frame and scene embeddings (``Embeddings``), from the job's ``extract.npz``."""
        import numpy as np

        from heihachi.results import Embeddings

        job, track = self._run("features", path, **kw)
        doc = job["results"][track]["extract"]
        arrays = np.load(io.BytesIO(self.file(job["id"], f"out/{track}/extract.npz")))
        return Embeddings(arrays["frames"], arrays["timestamps"],
                          arrays["layers"] if "layers" in arrays else None,
                          doc.get("pooling", "mean"))

    def stems(self, path: str | Path, output_dir: str | Path = "heihachi_out",
              stems: str | None = None, **kw: Any) -> Any:
        """Separate; the stem files are downloaded to ``output_dir/<track>/stems/``.
        Returns the ``StemFiles`` result, as ``StemSeparator().separate``."""
        from heihachi.runtime.stems import StemFile, StemFiles

        job, track = self._run("stems", path, stems=stems, **kw)
        doc = job["results"][track]["separate"]
        for s in doc["stems"]:
            self.download(job["id"], f"out/{track}/{s['file']}",
                          Path(output_dir) / track / s["file"])
        files = [StemFile(s["name"], s["file"], s["frames"], s["sample_rate"], s["channels"])
                 for s in doc["stems"]]
        return StemFiles(files, doc["audio_format"], doc["audio_subtype"], doc["sources"])

    def analyze(self, path: str | Path, **kw: Any) -> dict[str, Any]:
        """``drums`` (DrumHits), ``beats`` (Beats), ``patterns`` and every other document
        of the track, plus ``job`` (the job id, for :meth:`file`)."""
        job, track = self._run("analyze", path, **kw)
        docs = dict(job["results"][track])
        out: dict[str, Any] = {"job": job["id"], "track": track, **docs}
        if "drums" in docs:
            out["drums"] = drum_hits_from(docs["drums"], docs.get("beats"))
        if "beats" in docs:
            out["beats"] = beats_from(docs["beats"])
        return out

    def batch_analyze(self, paths: Iterable[str | Path], **kw: Any) -> dict[str, Any]:
        """One ``batch-analyze`` job over ``paths``; returns the finished job."""
        job = self.submit("batch-analyze", paths, **kw)
        return self.wait(job["id"])

    # -- the semantic index ------------------------------------------------------------------
    def semantic_analyze(self, path: str | Path) -> dict[str, Any]:
        """Add a track to the server's index; returns the index report."""
        job = self.submit("semantic/analyze", [path], wait=True)
        job = job if job["status"] in ("done", "failed") else self.wait(job["id"])
        if job["status"] == "failed":
            raise ServerError(0, f"{path}: {job.get('error')}")
        return job["result"]["index"]

    def search(self, text: str | None = None, *, audio: str | Path | None = None, k: int = 10,
               per_track: bool = False) -> list[Any]:
        """The index's best segments (``Hit``) for a text or an audio query."""
        from heihachi.index.query import Hit

        if (text is None) == (audio is None):
            raise HeihachiError("give a text query or audio=FILE (one of them)")
        fields = {"k": str(k), "per_track": str(per_track).lower()}
        if text is not None:
            fields["text"] = text
        job = self.submit("semantic/search", [audio] if audio is not None else [], wait=True,
                          **fields)
        job = job if job["status"] in ("done", "failed") else self.wait(job["id"])
        if job["status"] == "failed":
            raise ServerError(0, f"search failed: {job.get('error')}")
        return [Hit(h["track"], h["start"], h["end"], h["score"])
                for h in job["result"]["hits"]]

    def tag(self, path: str | Path, categories: str,
            prompt: str = "this is a {label} track", **kw: Any) -> dict[str, Any]:
        """Zero-shot tags (the ``tags.json`` document of ``hf tag``)."""
        job, track = self._run("semantic/tag", path, categories=categories, prompt=prompt,
                               **kw)
        return job["results"][track]["tags"]

    def stats(self) -> dict[str, Any]:
        return self._request("GET", "/semantic/stats").json()


def beats_from(doc: dict[str, Any]) -> Any:
    """A ``Beats`` from its JSON document (``beats.json``)."""
    from heihachi.results import Beats

    return Beats(doc["beats"], doc.get("downbeats") or [], doc.get("confidence"))


def drum_hits_from(doc: dict[str, Any], beats_doc: dict[str, Any] | None = None) -> Any:
    """A ``DrumHits`` from ``drums.json`` (and ``beats.json``, found with the hits)."""
    from heihachi.results import DrumHit, DrumHits

    hits = [DrumHit(h["time"], h["class"], h["confidence"], h["velocity"],
                    "" if h.get("label") == h["class"] else h.get("label", ""))
            for h in doc["hits"]]
    return DrumHits(hits, beats_from(beats_doc) if beats_doc else None)

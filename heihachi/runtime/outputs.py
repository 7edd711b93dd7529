"""Where results go on disk, and how a rerun knows what is done.

Layout: ``OUT/<track>/<task>.json`` (+ ``<task>.npz``) and ``OUT/summary.json``.
Every file is written atomically (:mod:`heihachi.runtime.atomic`), so a killed run
never leaves a partial file under a real name. The JSON document is written last:
it is the commit marker a rerun checks (same config hash, same source size and
mtime, every requested format written and every file it lists still there) to skip
work already done.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heihachi.errors import ExportError
from heihachi.results import Result
from heihachi.runtime.atomic import atomic_save_npz, atomic_write_json, remove_stale_temp_files
from heihachi.runtime.inputs import Track, source_fingerprint


def config_hash(doc: dict[str, Any]) -> str:
    """A short stable hash of the settings that change a result."""
    blob = json.dumps(doc, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


#: formats left out for files shorter than ``output.plots_min_s`` (one-shots, short loops)
SHORT_FILE_SKIPS = ("plots", "timeline")


def expected_formats(formats: list[str], duration: float | None,
                     plots_min_s: float | None = 0.0) -> list[str]:
    """The formats a file of ``duration`` seconds gets: ``formats`` less plots and
    timeline when it is shorter than ``plots_min_s``."""
    if duration is not None and plots_min_s and duration < plots_min_s:
        return [f for f in formats if f not in SHORT_FILE_SKIPS]
    return list(formats)


def is_done(track: Track, out: Path, task: str, chash: str,
            formats: list[str] | None = None, plots_min_s: float | None = 0.0) -> bool:
    """True when ``<task>.json`` exists for this config hash and the unchanged source,
    holds every format in ``formats``, and every file it lists is still there.

    So a rerun with more output formats, or after an export failed or a file was
    deleted, makes what is missing instead of skipping the track.
    """
    tdir = track.dir(out)
    try:
        doc = json.loads((tdir / f"{task}.json").read_text())
        if not (doc.get("config_hash") == chash and doc.get("path") == str(track.path)
                and doc.get("source") == source_fingerprint(track.path)):
            return False
    except (OSError, ValueError):
        return False
    wanted = expected_formats(formats or [], doc.get("duration"), plots_min_s)
    if not set(wanted) <= set(doc.get("formats", ["json"])):
        return False
    return all((tdir / name).is_file() for name in doc.get("files", []))


def write_result(track: Track, out: Path, result: Result, envelope: dict[str, Any],
                 extra_writers: list[Callable[[Path, Result, Track], list[Path]]] = (),
                 formats: list[str] | None = None, plots_min_s: float | None = 0.0
                 ) -> list[Path]:
    """Write one file's result: arrays, then extra formats, then the JSON commit marker.

    The marker records the formats written (``formats`` less any that failed) and
    the files, for :func:`is_done`. If an extra format failed
    (:class:`~heihachi.errors.ExportError`), the results and the other formats are
    still committed, and the error is raised afterwards so the file is reported.
    """
    tdir = track.dir(out)
    remove_stale_temp_files(tdir)
    written = []
    arrays = result.arrays()
    if arrays:
        written.append(atomic_save_npz(tdir / f"{result.task}.npz", arrays))
    failed: dict[str, str] = {}
    for writer in extra_writers:
        try:
            written.extend(writer(tdir, result, track))
        except ExportError as e:
            written.extend(e.written)
            failed.update(e.failed)
    formats = [f for f in expected_formats(formats or ["json"], envelope.get("duration"),
                                           plots_min_s) if f not in failed]
    files = sorted({str(Path(p).relative_to(tdir)) for p in written
                    if Path(p).is_relative_to(tdir)})
    doc = {"schema": result.schema, "track": track.name, "path": str(track.path),
           **envelope, "formats": formats, "files": files,
           "source": source_fingerprint(track.path), **result.to_json()}
    written.append(atomic_write_json(tdir / f"{result.task}.json", doc))
    if failed:
        raise ExportError(failed, written)
    return written


@dataclass
class SummaryEntry:
    path: str
    status: str  # ok | failed | skipped
    error: str | None = None
    seconds: float = 0.0
    track: str | None = None
    duration: float | None = None
    rank: int = 0
    warning: str | None = None  # e.g. NaN/inf samples replaced by zeros

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "status": self.status, "error": self.error,
                "warning": self.warning, "seconds": round(self.seconds, 3),
                "track": self.track,
                "duration": round(self.duration, 3) if self.duration is not None else None,
                "rank": self.rank}


def failed_entry(track: Track, err: BaseException, started: float) -> SummaryEntry:
    """The summary entry of a file that failed: one line naming the file and the error."""
    from heihachi.errors import HeihachiError

    msg = str(err) if isinstance(err, HeihachiError) else f"{type(err).__name__}: {err}"
    if str(track.path) not in msg:
        msg = f"{track.path}: {msg}"
    return SummaryEntry(str(track.path), "failed", error=msg, track=track.name,
                        seconds=time.time() - started)


@dataclass
class Summary:
    task: str
    plugin: str
    entries: list[SummaryEntry] = field(default_factory=list)
    started: float = field(default_factory=time.time)

    @property
    def failed(self) -> int:
        return sum(e.status == "failed" for e in self.entries)

    def counts(self) -> dict[str, int]:
        return {s: sum(e.status == s for e in self.entries) for s in ("ok", "failed", "skipped")}

    def to_json(self) -> dict[str, Any]:
        return {"schema": "heihachi.summary/1", "task": self.task, "plugin": self.plugin,
                "counts": self.counts(), "seconds": round(time.time() - self.started, 3),
                "files": [e.to_json() for e in self.entries]}


def merge_rank_summaries(summary: Summary, out: Path, placement: Any) -> Summary:
    """Every rank writes its part; rank 0 merges them into ``OUT/summary.json``.

    With one process this just writes the summary. Every rank returns the merged one.
    """
    pl = placement
    out.mkdir(parents=True, exist_ok=True)
    if pl.world_size == 1:
        summary.entries.sort(key=lambda e: e.path)
        atomic_write_json(out / "summary.json", summary.to_json())
        return summary
    part = out / f".summary.rank{pl.rank}.json"
    atomic_write_json(part, [e.to_json() for e in summary.entries])
    pl.state.wait_for_everyone()
    if pl.is_main:
        entries = []
        for r in range(pl.world_size):
            p = out / f".summary.rank{r}.json"
            entries.extend(SummaryEntry(**d) for d in json.loads(p.read_text()))
            p.unlink()
        summary.entries = sorted(entries, key=lambda e: e.path)
        atomic_write_json(out / "summary.json", summary.to_json())
    pl.state.wait_for_everyone()
    if not pl.is_main:
        files = json.loads((out / "summary.json").read_text())["files"]
        summary = Summary(summary.task, summary.plugin, [SummaryEntry(**d) for d in files])
    return summary

"""Progress of a run on stderr: files done, the current file, speed and time left.

On a terminal it is a live bar (rich). Off a terminal (stderr redirected to a log, a
batch job, CI) a live bar shows nothing until the end, so it writes plain lines
instead: one per finished file, and one a minute while a long file is still running.
Under ``torchrun``/``accelerate launch`` every process writes its own lines, labelled
``[rank r/N]`` with its share of the files, so no count pretends to be the whole run.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, TextIO


def clock(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) of a duration."""
    s = max(0, round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """Files done, the file being worked on, audio seconds per wall second and an ETA.

    Args:
        enabled: show progress at all (``-q`` turns it off; :meth:`log` still prints).
        total: files this process will process.
        label: what runs, e.g. ``"analyze-drums (drumnet)"``.
        rank, world_size: this process and how many there are (labels the lines).
        stream: where to write (default: stderr); a terminal gets a live bar.
        heartbeat_s: off a terminal, the longest silence while a file is running.
    """

    def __init__(self, enabled: bool, total: int, label: str, *, rank: int = 0,
                 world_size: int = 1, stream: TextIO | None = None,
                 heartbeat_s: float = 60.0) -> None:
        self.enabled = enabled and total > 0
        self.total = total
        self.label = label if world_size == 1 else f"[rank {rank}/{world_size}] {label}"
        self.stream = stream
        self.audio_s = 0.0
        self.done = 0
        self.current = ""
        self.t0 = time.time()
        self.last_line = self.t0
        self.heartbeat_s = heartbeat_s
        out = self._out()
        self.live = self.enabled and world_size == 1 and bool(getattr(out, "isatty", bool)())
        self.bar: Any = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _out(self) -> TextIO:
        return self.stream if self.stream is not None else sys.stderr

    def __enter__(self) -> Progress:
        if self.live:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import Progress as Bar

            self.bar = Bar(TextColumn("[bold]{task.description}"), BarColumn(),
                           MofNCompleteColumn(), TextColumn("{task.fields[speed]}"),
                           TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                           TextColumn("{task.fields[current]}"),
                           console=Console(file=self._out()), transient=False)
            self.bar.__enter__()
            self.task = self.bar.add_task(self.label, total=self.total, speed="", current="")
        elif self.enabled:
            self._thread = threading.Thread(target=self._beat, daemon=True,
                                            name="heihachi-progress")
            self._thread.start()
        return self

    # -- events from the runner ------------------------------------------------------
    def start(self, name: str) -> None:
        """A file began (its first window arrived)."""
        self.current = name
        if self.bar is not None:
            self.bar.update(self.task, current=name)

    def advance(self, audio_seconds: float, name: str = "", status: str = "ok") -> None:
        """A file finished, ``ok`` or ``failed``: it counts either way."""
        with self._lock:
            self.audio_s += audio_seconds
            self.done += 1
            if not self.enabled:
                return
            if self.bar is not None:
                self.bar.update(self.task, advance=1, speed=self._speed(),
                                current="" if self.done >= self.total else self.current)
                return
            what = f"{status} {name}" if name else status
            self._line(f"{self.label}: {self.done}/{self.total} {what} "
                       f"({self._speed()}, {clock(time.time() - self.t0)} elapsed, "
                       f"eta {self.eta()})")

    def log(self, message: str) -> None:
        """A line (e.g. a warning) that does not break the bar; printed even with -q."""
        if self.bar is not None:
            self.bar.console.print(message, markup=False, highlight=False)
        else:
            with self._lock:
                self._line(message)

    # -- helpers -----------------------------------------------------------------------
    def eta(self) -> str:
        """Time left at the pace so far (files per second), ``?`` before the first file."""
        if self.done == 0:
            return "?"
        left = (time.time() - self.t0) / self.done * max(0, self.total - self.done)
        return clock(left)

    def _speed(self) -> str:
        return f"{self.audio_s / max(1e-6, time.time() - self.t0):,.1f} audio-s/s"

    def _line(self, text: str) -> None:
        out = self._out()
        print(text, file=out, flush=True)
        self.last_line = time.time()

    def heartbeat(self, now: float | None = None) -> bool:
        """Off a terminal: a line when nothing was written for ``heartbeat_s``."""
        now = time.time() if now is None else now
        with self._lock:
            if now - self.last_line < self.heartbeat_s or self.done >= self.total:
                return False
            current = f"working on {self.current}, " if self.current else ""
            self._line(f"{self.label}: {self.done}/{self.total} done, {current}"
                       f"{clock(now - self.t0)} elapsed, eta {self.eta()}")
            return True

    def _beat(self) -> None:
        while not self._stop.wait(min(5.0, self.heartbeat_s)):
            self.heartbeat()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        if self.bar is not None:
            self.bar.__exit__(*exc)

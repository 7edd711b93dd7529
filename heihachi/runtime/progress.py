"""Progress of a run on stderr: files done and audio seconds per wall second."""

from __future__ import annotations

import time


class Progress:
    """A rich progress bar: files done and audio seconds per wall second."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self.enabled = enabled and total > 0
        self.total = total
        self.label = label
        self.audio_s = 0.0
        self.t0 = time.time()

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TextColumn("{task.fields[speed]}"),
                                TimeElapsedColumn(), console=Console(stderr=True),
                                transient=False)
            self.bar.__enter__()
            self.task = self.bar.add_task(self.label, total=self.total, speed="")
        return self

    def advance(self, audio_seconds: float) -> None:
        self.audio_s += audio_seconds
        if self.enabled:
            rate = self.audio_s / max(1e-6, time.time() - self.t0)
            self.bar.update(self.task, advance=1, speed=f"{rate:,.1f} audio-s/s")

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.bar.__exit__(*exc)

"""What every command shares: exit codes, splitting inputs from overrides, reporting.

Exit codes: 0 all files ok (or skipped), 1 some files failed (the others
completed), 2 usage or configuration error.
"""

from __future__ import annotations

import sys
from typing import Any

import click

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
TASK_HELP = """Trailing KEY=VALUE arguments are Hydra overrides, e.g. `{kind}=NAME`,
`{kind}.model=ID`, `runtime.device=cuda`, `runtime.batch_size=16`, `profile=tiny`.
Inputs are audio files, directories (searched recursively) or .txt lists of paths."""


def split_args(args: tuple[str, ...]) -> tuple[list[str], list[str]]:
    from pathlib import Path

    from heihachi.config import is_override
    from heihachi.errors import UsageError

    inputs, overrides = [], []
    for a in args:
        if a.startswith("-") and not Path(a).exists():  # options pass through UNPROCESSED
            raise UsageError(f"no such option: {a} (see --help)")
        (overrides if is_override(a) else inputs).append(a)
    return inputs, overrides


def report(summary: Any, output: str | None) -> None:
    import os

    if int(os.environ.get("RANK", "0")) != 0:
        return  # rank 0 reports for everyone
    c = summary.counts()
    click.echo(f"{summary.task}: {c['ok']} ok, {c['skipped']} skipped, {c['failed']} failed",
               err=True)
    for e in summary.entries:
        if e.status == "failed":
            click.echo(f"  failed: {e.error}", err=True)


def table_console() -> Any:
    """A rich Console for tables: the terminal's width, or 200 columns when piped, so
    plugin names and track paths are never cut to fit an assumed 80."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def clock(seconds: float) -> str:
    m, s = divmod(float(seconds), 60)
    return f"{int(m)}:{s:05.2f}"

"""``index add|search|stats|remove``: the semantic index from the command line."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from heihachi.cli.common import EXIT_OK, EXIT_SOME_FAILED, clock, split_args, table_console
from heihachi.errors import UsageError


@click.group("index")
def index_group() -> None:
    """The semantic index: embed segments, then search by text or by example."""


def _index_dir(index: str | None, overrides: list[str]) -> Any:
    from pathlib import Path

    if index:
        return Path(index)
    from heihachi.config import compose

    cfg, _ = compose(overrides)
    return Path(cfg.index.path)


_index_option = click.option("--index", "index", type=click.Path(file_okay=False),
                             help="Index directory (default: index.path, 'heihachi_index').")


@index_group.command("add", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@_index_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def index_add(args: tuple[str, ...], index: str | None, quiet: bool) -> None:
    """Embed PATHS into segments and add them (unchanged files are skipped).

    Trailing KEY=VALUE overrides choose the embedder: `index.embedder=extractor
    extractor=spectral` (model-free, offline) or the default CLAP similarity plugin.
    """
    from heihachi.index import collection as indexing

    inputs, overrides = split_args(args)
    if not inputs:
        raise UsageError("index add: give at least one audio file or directory")
    report = indexing.add(_index_dir(index, overrides), inputs, overrides, not quiet)
    click.echo(f"index: {report['added']} added, {report['unchanged']} unchanged, "
               f"{len(report['failed'])} failed", err=True)
    for f in report["failed"]:
        click.echo(f"  failed: {f['error']}", err=True)
    sys.exit(EXIT_SOME_FAILED if report["failed"] else EXIT_OK)


@index_group.command("search", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@_index_option
@click.option("--audio", "audio", type=click.Path(dir_okay=False),
              help="Find segments/tracks like this audio file.")
@click.option("-k", "--k", "k", type=int, default=10, show_default=True)
@click.option("--per-track", is_flag=True, help="One hit per track.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of hits.")
def index_search(args: tuple[str, ...], index: str | None, audio: str | None, k: int,
                 per_track: bool, as_json: bool) -> None:
    """Search by text (`index search "dark rolling bass"`) or by example (--audio FILE)."""
    from heihachi.index import collection as indexing

    words, overrides = split_args(args)
    directory = _index_dir(index, overrides)
    if bool(words) == bool(audio):
        raise UsageError("index search: give a text query or --audio FILE (one of them)")
    if audio:
        hits = indexing.search_audio(directory, audio, k, per_track, overrides)
    else:
        hits = indexing.search_text(directory, " ".join(words), k, per_track, overrides)
    rows = [{"track": h.track, "start": round(float(h.start), 3),
             "end": round(float(h.end), 3), "score": round(float(h.score), 5)} for h in hits]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("#", "track", "start", "end", "score")
    for i, r in enumerate(rows, 1):
        table.add_row(str(i), r["track"], clock(r["start"]), clock(r["end"]),
                      f"{r['score']:.3f}")
    table_console().print(table)


@index_group.command("stats")
@_index_option
@click.option("--json", "as_json", is_flag=True)
def index_stats(index: str | None, as_json: bool) -> None:
    """Tracks, segments, dimension, index type and size."""
    from heihachi.config import compose
    from heihachi.index.collection import open_index, require_index

    cfg, _ = compose([])
    require_index(_index_dir(index, []))
    stats = open_index(_index_dir(index, []), cfg).stats()
    if as_json:
        click.echo(json.dumps(stats, indent=2, default=str))
    else:
        for key, value in stats.items():
            click.echo(f"{key:>14}: {value}")


@index_group.command("remove")
@click.argument("paths", nargs=-1, required=True)
@_index_option
def index_remove(paths: tuple[str, ...], index: str | None) -> None:
    """Remove tracks (by the path they were added with) from the index."""
    from pathlib import Path

    from heihachi.config import compose
    from heihachi.index.collection import open_index, require_index

    cfg, _ = compose([])
    require_index(_index_dir(index, []))
    idx = open_index(_index_dir(index, []), cfg)
    for p in paths:
        n = idx.remove(str(Path(p).absolute()))
        click.echo(f"{p}: {n} segments removed" if n else f"{p}: not in the index", err=True)

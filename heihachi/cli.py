"""The ``heihachi`` command line (click). Heavy imports happen inside commands.

Exit codes: 0 all files ok (or skipped), 1 some files failed (the others
completed), 2 usage or configuration error.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from heihachi import __version__
from heihachi.errors import HeihachiError, UsageError

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2
TASK_HELP = """Trailing KEY=VALUE arguments are Hydra overrides, e.g. `{kind}=NAME`,
`{kind}.model=ID`, `runtime.device=cuda`, `runtime.batch_size=16`, `profile=tiny`.
Inputs are audio files, directories (searched recursively) or .txt lists of paths."""


def _split_args(args: tuple[str, ...]) -> tuple[list[str], list[str]]:
    from heihachi.config import is_override

    inputs, overrides = [], []
    for a in args:
        (overrides if is_override(a) else inputs).append(a)
    return inputs, overrides


def task_command(kind: str, command: str, summary: str) -> click.Command:
    """Build the ``hf <command>`` click command that runs the ``kind`` plugin."""
    stems_option = click.option(
        "--stems", help="Keep only these stems, comma separated (e.g. drums,bass).")

    @click.command(command, help=f"{summary}\n\n{TASK_HELP.format(kind=kind)}",
                   context_settings={"ignore_unknown_options": True})
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    @click.option("-o", "--output", type=click.Path(file_okay=False),
                  help="Output directory (default: output.dir, 'heihachi_out').")
    @click.option("--overwrite", is_flag=True, help="Redo files whose outputs already exist.")
    @click.option("--cfg", "show_cfg", is_flag=True, help="Print the resolved config and exit.")
    @click.option("--config-dir", multiple=True, type=click.Path(exists=True, file_okay=False),
                  help="Extra Hydra config directory (searched before the built-in conf/).")
    @click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
    def cmd(args: tuple[str, ...], output: str | None, overwrite: bool, show_cfg: bool,
            config_dir: tuple[str, ...], quiet: bool, stems: str | None = None) -> None:
        inputs, overrides = _split_args(args)
        if stems:
            names = [s.strip() for s in stems.split(",") if s.strip()]
            overrides.append(f"output.stems=[{','.join(names)}]")
        if kind == "drums" and not any(o.startswith("output.formats=") for o in overrides):
            from heihachi.pipeline import DRUM_FORMATS

            overrides.append(f"output.formats=[{','.join(DRUM_FORMATS)}]")
        if show_cfg:
            from omegaconf import OmegaConf

            from heihachi.config import compose

            cfg, _ = compose(overrides, list(config_dir))
            click.echo(OmegaConf.to_yaml(cfg))
            return
        if not inputs:
            raise UsageError(f"hf {command}: give at least one audio file or directory")
        from heihachi.pipeline import run_task

        summary = run_task(kind, inputs, overrides, output=output, overwrite=overwrite,
                           config_dirs=list(config_dir), progress=not quiet)
        _report(summary, output)
        sys.exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)

    return stems_option(cmd) if kind == "separator" else cmd


def _report(summary: Any, output: str | None) -> None:
    import os

    if int(os.environ.get("RANK", "0")) != 0:
        return  # rank 0 reports for everyone
    c = summary.counts()
    click.echo(f"{summary.task}: {c['ok']} ok, {c['skipped']} skipped, {c['failed']} failed",
               err=True)
    for e in summary.entries:
        if e.status == "failed":
            click.echo(f"  failed: {e.error}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="heihachi")
def cli() -> None:
    """Heihachi: neural audio models as plugins over music collections."""


@cli.group()
def hf() -> None:
    """Run a model plugin over audio files (one command per plugin kind)."""


for _kind, _cmd, _summary in (
    ("extractor", "extract", "Frame and scene embeddings (HEAR shapes) per file."),
    ("beats", "beats", "Beat and downbeat times and tempo per file."),
    ("drums", "analyze-drums", "Every drum hit with class, time, velocity and confidence."),
    ("separator", "separate", "Separate each file into stems."),
    ("captioner", "caption", "Text captions per segment."),
    ("similarity", "similarity", "Embed audio segments in a joint text-audio space."),
):
    hf.add_command(task_command(_kind, _cmd, _summary))

from heihachi.search_cli import similarity_command, tag_command  # noqa: E402

hf.add_command(similarity_command)  # replaces the generic `hf similarity`
hf.add_command(tag_command)


@hf.command("drum-patterns", context_settings={"ignore_unknown_options": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.option("-o", "--output", type=click.Path(file_okay=False),
              help="Output directory (default: output.dir, 'heihachi_out').")
@click.option("--overwrite", is_flag=True, help="Redo files whose outputs already exist.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--top", type=int, default=3, show_default=True,
              help="How many of each track's most frequent bar patterns to print.")
def drum_patterns(args: tuple[str, ...], output: str | None, overwrite: bool, quiet: bool,
                  top: int) -> None:
    """Drum patterns on the beat grid: 16-step bars per class, the most frequent patterns,
    swing, microtiming per class and section boundaries (writes patterns.json).

    Runs `hf analyze-drums` first (files already analysed with the same settings are
    reused), then reads each track's hits and beats.
    """
    from pathlib import Path

    from heihachi.pipeline import DRUM_FORMATS, run_task, write_patterns

    inputs, overrides = _split_args(args)
    if not inputs:
        raise UsageError("hf drum-patterns: give at least one audio file or directory")
    if not any(o.startswith("output.formats=") for o in overrides):
        overrides.append(f"output.formats=[{','.join(DRUM_FORMATS)}]")
    summary = run_task("drums", inputs, overrides, output=output, overwrite=overwrite,
                       progress=not quiet)
    out = Path(output) if output else Path(_output_dir(overrides))
    failed = summary.failed
    for e in summary.entries:
        if e.status == "failed":
            click.echo(f"  failed: {e.error}", err=True)
            continue
        try:
            p = write_patterns(out / e.track, e.track)
        except HeihachiError as err:
            click.echo(f"  failed: {err}", err=True)
            failed += 1
            continue
        swing = f"{p.swing:.2f}" if p.swing is not None else "-"
        click.echo(f"{e.track}: {len(p.bars)} bars, swing {swing}, "
                   f"sections at bars {[b for b in p.boundaries] or '-'}")
        for steps, count in p.common[:top]:
            click.echo(f"  x{count}")
            for cls, line in steps.items():
                if "x" in line:
                    click.echo(f"    {cls:<7} {line}")
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _output_dir(overrides: list[str]) -> str:
    from heihachi.config import compose

    cfg, _ = compose(overrides)
    return str(cfg.output.dir)


@cli.group("index")
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
    from heihachi import indexing

    inputs, overrides = _split_args(args)
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
    from heihachi import indexing

    words, overrides = _split_args(args)
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
        table.add_row(str(i), r["track"], _clock(r["start"]), _clock(r["end"]),
                      f"{r['score']:.3f}")
    table_console().print(table)


def table_console() -> Any:
    """A rich Console for tables: the terminal's width, or 200 columns when piped, so
    plugin names and track paths are never cut to fit an assumed 80."""
    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=200)


def _clock(seconds: float) -> str:
    m, s = divmod(float(seconds), 60)
    return f"{int(m)}:{s:05.2f}"


@index_group.command("stats")
@_index_option
@click.option("--json", "as_json", is_flag=True)
def index_stats(index: str | None, as_json: bool) -> None:
    """Tracks, segments, dimension, index type and size."""
    from heihachi.config import compose
    from heihachi.indexing import open_index

    cfg, _ = compose([])
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
    from heihachi.indexing import open_index

    cfg, _ = compose([])
    idx = open_index(_index_dir(index, []), cfg)
    for p in paths:
        n = idx.remove(str(Path(p).absolute()))
        click.echo(f"{p}: {n} segments removed" if n else f"{p}: not in the index", err=True)


@cli.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins: kind, name, package, version, default model."""
    from heihachi.registry import get_registry

    rows = [p.to_json() for p in get_registry().all()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("kind", "name", "package", "version", "default model", "rate", "window")
    for r in rows:
        table.add_row(r["kind"], r["name"], r["package"], r["version"],
                      r["default_model"] or "-", str(r["sample_rate"]),
                      f"{r['window_s']} s" if r["window_s"] else "whole file")
    table_console().print(table)


@cli.group("models")
def models_group() -> None:
    """Manage model weights in the models cache."""


def _cache(cache_dir: str | None) -> Any:
    from pathlib import Path

    from heihachi.models import default_cache_dir

    return Path(cache_dir) if cache_dir else default_cache_dir()


_cache_option = click.option("--cache-dir", type=click.Path(file_okay=False),
                             help="Models cache (default: $HEIHACHI_MODELS_CACHE or "
                                  "models_cache/).")


@models_group.command("list")
@_cache_option
@click.option("--json", "as_json", is_flag=True)
def models_list(cache_dir: str | None, as_json: bool) -> None:
    """List models in the cache."""
    from heihachi.models import list_cached

    rows = list_cached(_cache(cache_dir))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no models in {_cache(cache_dir)}")
    for r in rows:
        click.echo(f"{r['id']:<45} {r['kind']:<6} {r['size']:>8}  {r['path']}")


@models_group.command("fetch")
@click.argument("model_id")
@_cache_option
@click.option("--revision", help="Branch, tag or commit (hub ids).")
def models_fetch(model_id: str, cache_dir: str | None, revision: str | None) -> None:
    """Download MODEL_ID into the cache: a plugin's own model name (final0, htdemucs, ...)
    or a Hugging Face hub id (owner/name)."""
    from heihachi.models import resolve
    from heihachi.registry import get_registry

    cache = _cache(cache_dir)
    if "/" not in model_id:
        for info in get_registry().all():
            path = info.cls.fetch_model(model_id, cache)
            if path is not None:
                click.echo(f"{info.kind}/{info.name}: {path}")
                return
    path = resolve(model_id, cache, offline=False, revision=revision)
    click.echo(str(path))


@models_group.command("verify")
@_cache_option
def models_verify(cache_dir: str | None) -> None:
    """Check every cached model's weight files load safely (exit 1 if any is broken)."""
    from pathlib import Path

    from heihachi.models import list_cached, verify

    bad = 0
    for r in list_cached(_cache(cache_dir)):
        problems = verify(Path(r["path"]))
        click.echo(f"{'ok' if not problems else 'BROKEN':<7} {r['id']}")
        for p in problems:
            click.echo(f"        {p}")
        bad += bool(problems)
    sys.exit(EXIT_SOME_FAILED if bad else EXIT_OK)


@models_group.command("make-tiny")
@_cache_option
def models_make_tiny(cache_dir: str | None) -> None:
    """Write tiny random-weight models of every built-in architecture to <cache>/tiny/."""
    from heihachi.registry import get_registry

    cache = _cache(cache_dir)
    done: set[Any] = set()
    for info in get_registry().all():
        maker = getattr(info.cls, "make_tiny", None)
        if maker is None or getattr(maker, "__func__", maker) in done:
            continue
        done.add(getattr(maker, "__func__", maker))
        for path in maker(cache):
            click.echo(f"{info.kind}/{info.name}: {path}")


def _load_plugin_commands() -> None:
    from heihachi.registry import get_registry

    for impl in get_registry().pm.hook.register_commands.get_hookimpls():
        try:
            impl.function(cli=cli)
        except Exception as e:
            click.echo(f"heihachi: warning: plugin {impl.plugin_name!r}: register_commands "
                       f"failed: {e}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and map errors to exit codes."""
    try:
        _load_plugin_commands()
        cli.main(args=argv, prog_name="heihachi", standalone_mode=False)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except UsageError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_USAGE)
    except HeihachiError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_SOME_FAILED)

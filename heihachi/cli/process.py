"""``process``, ``batch``, ``export`` and ``compare``: whole tracks and mixes, and their runs.

Only click is imported at module top; the pipeline loads inside the commands, so
``--help`` stays fast.
"""

from __future__ import annotations

import json
import sys

import click

from heihachi.cli.common import EXIT_OK, EXIT_SOME_FAILED, report, split_args
from heihachi.errors import UsageError

PROCESS_HELP = """Every analysis of each track from ONE decode: drums, beats, patterns,
sections, key and energy by default (`process.tasks=[...]`; also stems, index, click),
written per track to OUT/<track>/ (analysis.json beside each task's file) with
OUT/report.html over the run.

\b
  heihachi process tracks/ --output out
  heihachi process mix.flac --output out process.tasks=[drums,beats,sections]
  heihachi process tracks/ -o out output.formats=[midi,click] process.exports=[rekordbox]

Trailing KEY=VALUE arguments are Hydra overrides (`drums.threshold_scale=0.8`,
`process.settings.<task>.<key>=V`, `runtime.device=cuda`, `profile=tiny`). Inputs are
audio files, directories (searched recursively) or .txt lists of paths. Rerunning
skips tracks already analysed with the same settings; exit 0 all ok, 1 some files
failed, 2 usage error."""


def _run(args: tuple[str, ...], output: str | None, overwrite: bool, quiet: bool,
         show_cfg: bool, config_dirs: list[str], config_name: str, what: str) -> None:
    inputs, overrides = split_args(args)
    if show_cfg:
        from omegaconf import OmegaConf

        from heihachi.config import compose

        cfg, _ = compose(overrides, config_dirs, config_name=config_name)
        click.echo(OmegaConf.to_yaml(cfg))
        return
    if not inputs:
        raise UsageError(f"{what}: give at least one audio file or directory")
    from heihachi.process.pipeline import run_process

    summary = run_process(inputs, overrides, output=output, overwrite=overwrite,
                          config_dirs=config_dirs, config_name=config_name,
                          progress=not quiet)
    report(summary, output)
    sys.exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)


def _common(f: click.Command) -> click.Command:
    f = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")(f)
    f = click.option("--cfg", "show_cfg", is_flag=True,
                     help="Print the resolved config and exit.")(f)
    f = click.option("--overwrite", is_flag=True,
                     help="Redo tracks whose analysis already exists.")(f)
    f = click.option("-o", "--output", type=click.Path(file_okay=False),
                     help="Output directory (default: output.dir, 'heihachi_out').")(f)
    return click.argument("args", nargs=-1, type=click.UNPROCESSED)(f)


@click.command("process", help=PROCESS_HELP, context_settings={"ignore_unknown_options": True})
@_common
@click.option("--config-dir", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Extra Hydra config directory (searched before the built-in conf/).")
def process_cmd(args: tuple[str, ...], output: str | None, overwrite: bool, show_cfg: bool,
                quiet: bool, config_dir: tuple[str, ...]) -> None:
    _run(args, output, overwrite, quiet, show_cfg, list(config_dir), "config", "process")


@click.command("batch", context_settings={"ignore_unknown_options": True})
@_common
@click.option("--config-name", default="config", show_default=True,
              help="Named config: `performance` (DJ prep: grid, key, cues, Rekordbox and "
                   "Traktor files), `mix` (a continuous DJ mix), or one in --config-dir.")
@click.option("--config-dir", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Directory of your own named configs (searched before conf/).")
def batch_cmd(args: tuple[str, ...], output: str | None, overwrite: bool, show_cfg: bool,
              quiet: bool, config_name: str, config_dir: tuple[str, ...]) -> None:
    """`process` with a named Hydra config: DIR... [KEY=VALUE...].

    \b
      heihachi batch crate/ --config-name performance -o out
      heihachi batch sets/ --config-name mix -o out
      heihachi batch crate/ --config-dir my_configs --config-name club -o out
    """
    _run(args, output, overwrite, quiet, show_cfg, list(config_dir), config_name, "batch")


@click.command("export")
@click.argument("out", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "fmt", required=True,
              type=click.Choice(["json", "csv", "markdown", "jams", "rekordbox", "traktor"]),
              help="json/csv/markdown: one row per track; jams: one file per track; "
                   "rekordbox (XML) / traktor (NML): a collection with grid, key and cues.")
@click.option("--dest", type=click.Path(), help="Where to write (default: inside OUT).")
def export_cmd(out: str, fmt: str, dest: str | None) -> None:
    """Collect the `process` run in OUT into one file (one row per track)."""
    from heihachi.export.collection import export_run

    path = export_run(out, fmt, dest)
    click.echo(str(path))


def register(cli: click.Group) -> None:
    """Add process, batch, export and compare to the top command group."""
    for cmd in (process_cmd, batch_cmd, export_cmd, compare_cmd):
        cli.add_command(cmd)




@click.command("compare")
@click.argument("out_a", type=click.Path(exists=True, file_okay=False))
@click.argument("out_b", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
def compare_cmd(out_a: str, out_b: str, as_json: bool) -> None:
    """Compare two `process` runs of the same files, B against A: tempo difference, beat F,
    drum-hit F per class, key agreement and section boundary F (mir_eval)."""
    from heihachi.process.compare import compare_runs

    doc = compare_runs(out_a, out_b)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    from rich.table import Table

    from heihachi.cli.common import table_console

    classes = sorted(doc["mean"]["hit_f"])
    table = Table("track", "BPM A", "BPM B", "diff", "beat F", *[f"{c} F" for c in classes],
                  "key A", "key B", "key", "bound. F", title=f"{out_b} against {out_a}")

    def f(x: object) -> str:
        return "-" if x is None else str(x)

    for r in doc["tracks"]:
        table.add_row(r["track"], f(r.get("tempo_a")), f(r.get("tempo_b")),
                      f(r.get("tempo_diff")), f(r.get("beat_f")),
                      *[f(r.get("hit_f", {}).get(c)) for c in classes], f(r.get("key_a")),
                      f(r.get("key_b")), f(r.get("key_score")), f(r.get("boundary_f")))
    m = doc["mean"]
    table.add_row("mean", "", "", f(m["abs_tempo_diff"]), f(m["beat_f"]),
                  *[f(m["hit_f"].get(c)) for c in classes], "", "", f(m["key_score"]),
                  f(m["boundary_f"]))
    table_console().print(table)
    for side in ("a", "b"):
        if doc[f"only_in_{side}"]:
            click.echo(f"only in {side.upper()}: {', '.join(doc[f'only_in_{side}'])}", err=True)

"""``hf <task>``: one command per plugin kind, plus ``hf drum-patterns``.

Only click is imported at module top; the runtime loads inside the commands, so
``--help`` stays fast.
"""

from __future__ import annotations

import sys

import click

from heihachi.cli.common import EXIT_OK, EXIT_SOME_FAILED, TASK_HELP, report, split_args
from heihachi.cli.realtime import realtime_beats
from heihachi.cli.search import similarity_command, tag_command
from heihachi.errors import HeihachiError, UsageError


@click.group()
def hf() -> None:
    """Run a model plugin over audio files (one command per plugin kind)."""


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
        inputs, overrides = split_args(args)
        if stems:
            names = [s.strip() for s in stems.split(",") if s.strip()]
            overrides.append(f"output.stems=[{','.join(names)}]")
        if kind == "drums" and not any(o.startswith("output.formats=") for o in overrides):
            from heihachi.runtime.pipeline import DRUM_FORMATS

            overrides.append(f"output.formats=[{','.join(DRUM_FORMATS)}]")
        if show_cfg:
            click.echo(_resolved_config(overrides, list(config_dir)))
            return
        if not inputs:
            raise UsageError(f"hf {command}: give at least one audio file or directory")
        from heihachi.runtime.pipeline import run_task

        summary = run_task(kind, inputs, overrides, output=output, overwrite=overwrite,
                           config_dirs=list(config_dir), progress=not quiet)
        report(summary, output)
        sys.exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)

    return stems_option(cmd) if kind == "separator" else cmd


for _kind, _cmd, _summary in (
    ("extractor", "extract", "Frame and scene embeddings (HEAR shapes) per file."),
    ("beats", "beats", "Beat and downbeat times and tempo per file."),
    ("drums", "analyze-drums", "Every drum hit with class, time, velocity and confidence."),
    ("separator", "separate", "Separate each file into stems."),
    ("captioner", "caption", "Text captions per segment."),
    ("similarity", "similarity", "Embed audio segments in a joint text-audio space."),
):
    hf.add_command(task_command(_kind, _cmd, _summary))


hf.add_command(similarity_command)  # replaces the generic `hf similarity`
hf.add_command(tag_command)
hf.add_command(realtime_beats)  # issue 18: live beats, NDJSON/click/MIDI clock/OSC


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

    from heihachi.runtime.pipeline import DRUM_FORMATS, run_task, write_patterns

    inputs, overrides = split_args(args)
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


def _resolved_config(overrides: list[str], config_dirs: list[str]) -> str:
    """``--cfg``: which plugin (class, model) each kind resolves to, then the YAML config."""
    from omegaconf import OmegaConf

    from heihachi.config import compose, plugin_config
    from heihachi.registry import get_registry
    from heihachi.tasks import KINDS

    cfg, choices = compose(overrides, config_dirs)
    lines = ["# plugins (kind: name = class, model):"]
    for kind in KINDS:
        if not choices.get(kind) or cfg.get(kind) is None:
            lines.append(f"#   {kind}: none chosen")
            continue
        name, obj = plugin_config(cfg, kind, choices, overrides)
        cls = get_registry().get(kind, name).cls
        model = getattr(obj, "model", None) or cls.default_model
        lines.append(f"#   {kind}: {name} = {cls.__module__}.{cls.__qualname__}"
                     + (f", model {model}" if model else ""))
    return "\n".join(lines) + "\n" + OmegaConf.to_yaml(cfg)


def _output_dir(overrides: list[str]) -> str:
    from heihachi.config import compose

    cfg, _ = compose(overrides)
    return str(cfg.output.dir)

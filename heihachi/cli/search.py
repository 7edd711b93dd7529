"""``hf similarity`` and ``hf tag``: search and zero-shot tagging with a similarity plugin.

Both embed their inputs through the normal runtime (``pipeline.run_task``), which
writes ``OUT/<track>/embed.json`` + ``embed.npz``; files already embedded with
the same settings are skipped by the runtime and their vectors are read back from
``embed.npz``. Only click is imported at module top (``--help`` stays fast).
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from heihachi.cli.common import EXIT_OK, EXIT_SOME_FAILED
from heihachi.errors import UsageError

_COMMON_HELP = """Trailing KEY=VALUE arguments are Hydra overrides, e.g. `similarity=clap`,
`similarity.model=laion/clap-htsat-unfused`, `similarity.hop_s=5`, `profile=tiny`.
Inputs are audio files, directories (searched recursively) or .txt lists of paths."""


def _common(f: Any) -> Any:
    """Options both commands share with the other `hf` task commands."""
    f = click.option("-q", "--quiet", is_flag=True, help="No progress bar.")(f)
    f = click.option("--overwrite", is_flag=True,
                     help="Re-embed files whose outputs already exist.")(f)
    f = click.option("-o", "--output", type=click.Path(file_okay=False),
                     help="Output directory (default: output.dir, 'heihachi_out').")(f)
    f = click.argument("args", nargs=-1, type=click.UNPROCESSED)(f)
    return f


def embed_collection(inputs: list[str], overrides: list[str], output: str | None,
                     overwrite: bool, quiet: bool) -> tuple[Any, dict[str, Any], Any]:
    """Embed ``inputs`` with the configured similarity plugin (skipping finished files).

    Returns:
        ``(summary, track -> SegmentEmbeddings, output dir)``; failed files are absent.
    """
    from pathlib import Path

    import numpy as np

    from heihachi.config import compose
    from heihachi.results import SegmentEmbeddings
    from heihachi.runtime.pipeline import run_task

    collected: dict[str, Any] = {}

    def on_result(track: Any, result: Any) -> None:
        collected[track.name] = result

    summary = run_task("similarity", inputs, overrides, output=output, overwrite=overwrite,
                       progress=not quiet, on_result=on_result)
    out = Path(output) if output else Path(compose(overrides)[0].output.dir)
    segments: dict[str, Any] = {}
    for e in summary.entries:
        if e.status == "failed":
            continue
        if e.track in collected:
            segments[e.track] = collected[e.track]
        else:  # skipped: embedded by an earlier run with the same settings
            arrays = np.load(out / e.track / f"{SegmentEmbeddings.task}.npz")
            segments[e.track] = SegmentEmbeddings(arrays["starts"], arrays["ends"],
                                                  arrays["vectors"])
    return summary, segments, out


def _text_plugin(overrides: list[str]) -> Any:
    """The configured similarity plugin, loaded (reusing weights the runtime loaded)."""
    from heihachi.runtime.pipeline import build_plugin

    _cfg, plugin = build_plugin("similarity", overrides)
    plugin.load()
    return plugin


def _query_audio_vector(query_audio: str, summary: Any, segments: dict[str, Any],
                        overrides: list[str], out: Any) -> Any:
    """The scene vector of ``query_audio``: from the collection if it is in it, else embedded.

    A query file outside the collection is embedded into ``OUT/.query/`` so it never
    overwrites the outputs of a collection track with the same file name.
    """
    from pathlib import Path

    from heihachi.index.query import scene_vector

    wanted = Path(query_audio).resolve()
    for e in summary.entries:
        if e.track in segments and Path(e.path).resolve() == wanted:
            return scene_vector(segments[e.track].vectors)
    q_summary, q_segments, _ = embed_collection([query_audio], overrides,
                                                str(out / ".query"), False, True)
    if not q_segments:
        errors = "; ".join(e.error or "" for e in q_summary.entries)
        raise UsageError(f"hf similarity: cannot embed --query-audio {query_audio}: {errors}")
    return scene_vector(next(iter(q_segments.values())).vectors)


@click.command("similarity", help=f"""Embed audio segments in a joint text-audio space
(CLAP) and, with --query or --query-audio, rank segments or tracks by similarity.

\b
  hf similarity music/ --query "heavy rolling bassline" --mode timestamps
  hf similarity music/ --query-audio ref.wav --mode tracks --json

{_COMMON_HELP}""", context_settings={"ignore_unknown_options": True})
@_common
@click.option("--query", help="Text to search for.")
@click.option("--query-audio", type=click.Path(exists=True, dir_okay=False),
              help="Find audio like this file (the mean of its segment vectors).")
@click.option("--mode", type=click.Choice(["timestamps", "tracks"]), default="timestamps",
              show_default=True, help="Rank segments (with times) or whole tracks.")
@click.option("-k", "--k", "k", type=int, default=10, show_default=True,
              help="How many results.")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list of {track, start, end, score}.")
def similarity_command(args: tuple[str, ...], output: str | None, overwrite: bool,
                       quiet: bool, query: str | None, query_audio: str | None, mode: str,
                       k: int, as_json: bool) -> None:
    from heihachi.cli.common import clock, report, split_args
    from heihachi.index.query import rank_segments, rank_tracks

    inputs, overrides = split_args(args)
    if not inputs:
        raise UsageError("hf similarity: give at least one audio file or directory")
    if query is not None and query_audio is not None:
        raise UsageError("hf similarity: give --query or --query-audio, not both")
    if query is not None and not query.strip():
        raise UsageError("hf similarity: --query is empty")
    if k < 1:
        raise UsageError(f"hf similarity: --k={k}: must be >= 1")
    summary, segments, out = embed_collection(inputs, overrides, output, overwrite, quiet)
    report(summary, output)
    if query is None and query_audio is None:
        sys.exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)
    if query_audio is not None:
        vector = _query_audio_vector(query_audio, summary, segments, overrides, out)
    else:
        vector = _text_plugin(overrides).embed_text([query])[0]
    rank = rank_tracks if mode == "tracks" else rank_segments
    hits = rank(segments, vector, k)
    rows = [h.to_json() for h in hits]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        from rich.table import Table

        from heihachi.cli.common import table_console

        title = f"query: {query!r}" if query is not None else f"like: {query_audio}"
        table = Table("#", "track", "start", "end", "score", title=title)
        for i, r in enumerate(rows, 1):
            table.add_row(str(i), r["track"], clock(r["start"]), clock(r["end"]),
                          f"{r['score']:.3f}")
        table_console().print(table)
    sys.exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)


@click.command("tag", help=f"""Zero-shot tags per file: for each category, a softmax over
its labels of CLAP similarity between the file (mean of its segment vectors) and
prompts like "this is a {{label}} track". Prints a table and writes
OUT/<track>/tags.json.

\b
  hf tag music/ --categories "genre:techno,house,drum and bass;mood:dark,euphoric"

{_COMMON_HELP}""", context_settings={"ignore_unknown_options": True})
@_common
@click.option("--categories", required=True,
              help='Groups of labels: "NAME:LABEL,LABEL;NAME:LABEL,...".')
@click.option("--prompt", default="this is a {label} track", show_default=True,
              help="Text template CLAP embeds for each label.")
@click.option("--json", "as_json", is_flag=True, help="Print the tags of every file as JSON.")
def tag_command(args: tuple[str, ...], output: str | None, overwrite: bool, quiet: bool,
                categories: str, prompt: str, as_json: bool) -> None:
    from heihachi.cli.common import report, split_args
    from heihachi.index.query import (
        TAGS_SCHEMA,
        parse_categories,
        prompts,
        scene_vector,
        tags_document,
        zero_shot,
    )
    from heihachi.runtime.atomic import atomic_write_json

    inputs, overrides = split_args(args)
    if not inputs:
        raise UsageError("hf tag: give at least one audio file or directory")
    cats = parse_categories(categories)
    texts = {c: prompts(labels, prompt) for c, labels in cats.items()}
    summary, segments, out = embed_collection(inputs, overrides, output, overwrite, quiet)
    report(summary, output)
    plugin = _text_plugin(overrides)
    label_vectors = {c: plugin.embed_text(t) for c, t in texts.items()}
    scale = float(getattr(plugin, "logit_scale", 1.0 / 0.07))
    paths = {e.track: e.path for e in summary.entries}
    docs = []
    for track, seg in segments.items():
        probs = zero_shot(scene_vector(seg.vectors), label_vectors, scale)
        doc = {"schema": TAGS_SCHEMA, "track": track, "path": paths.get(track),
               "plugin": plugin.name, "model": plugin.model_id(), "prompt": prompt,
               "logit_scale": round(scale, 5), "segments": len(seg.vectors),
               "categories": tags_document(cats, probs)}
        atomic_write_json(out / track / "tags.json", doc)
        docs.append(doc)
    if as_json:
        click.echo(json.dumps(docs, indent=2))
    else:
        from rich.table import Table

        from heihachi.cli.common import table_console

        table = Table("track", *cats)
        for doc in docs:
            cells = []
            for c in cats:
                top = list(doc["categories"][c]["labels"].items())[:2]
                cells.append(", ".join(f"{label} {p:.2f}" for label, p in top))
            table.add_row(doc["track"], *cells)
        table_console().print(table)
    sys.exit(EXIT_SOME_FAILED if summary.failed else EXIT_OK)

"""``plugins`` and ``models``: what is installed, and the weights in the models cache."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from heihachi.cli.common import EXIT_OK, EXIT_SOME_FAILED, table_console


def _quiet_transformers() -> None:
    """No "Writing model shards" bars per tiny model: the paths printed say what was made."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins: kind, name (* = the kind's default), package, version,
    default model."""
    from heihachi.config import compose
    from heihachi.registry import get_registry

    _cfg, choices = compose([])
    rows = [dict(p.to_json(), default=choices.get(p.kind) == p.name)
            for p in get_registry().all()]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table

    table = Table("kind", "name", "package", "version", "default model", "rate", "window",
                  caption="* the plugin a kind uses unless `KIND=NAME` chooses another")
    for r in rows:
        table.add_row(r["kind"], r["name"] + (" *" if r["default"] else ""), r["package"],
                      r["version"],
                      r["default_model"] or "-", str(r["sample_rate"]),
                      _window(r))
    table_console().print(table)


def _window(row: dict[str, Any]) -> str:
    """What one model call sees: a fixed window, the whole file, or a live stream's blocks."""
    if row["kind"] == "online-beat-tracker":
        return "stream"  # audio blocks as they arrive; no window over the file
    return f"{row['window_s']} s" if row["window_s"] else "whole file"


@click.group("models")
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
    """Check every cached model loads (exit 1 if any is broken): with the loader of the
    plugin whose format it is (demucs, beat_this, ...), else by opening its weights safely."""
    from pathlib import Path

    from heihachi.models import list_cached, verify
    from heihachi.registry import get_registry

    verifiers: list[Any] = []
    for info in get_registry().all():
        fn = getattr(info.cls.verify_model, "__func__", None)
        if fn is not None and fn not in [getattr(v, "__func__", v) for v in verifiers]:
            verifiers.append(info.cls.verify_model)
    bad = 0
    for r in list_cached(_cache(cache_dir)):
        path = Path(r["path"])
        problems = next((p for p in (v(path) for v in verifiers) if p is not None), None)
        if problems is None:
            problems = verify(path)
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

    _quiet_transformers()

    cache = _cache(cache_dir)
    done: set[Any] = set()
    for info in get_registry().all():
        maker = getattr(info.cls, "make_tiny", None)
        if maker is None or getattr(maker, "__func__", maker) in done:
            continue
        done.add(getattr(maker, "__func__", maker))
        for path in maker(cache):
            click.echo(f"{info.kind}/{info.name}: {path}")

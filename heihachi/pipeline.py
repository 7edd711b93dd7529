"""One task end to end: config -> plugin -> runner -> outputs. Used by the CLI and the API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from heihachi.errors import ConfigError
from heihachi.outputs import Summary, expand_inputs


def build_plugin(kind: str, overrides: list[str], config_dirs: list[str] | None = None
                 ) -> tuple[Any, Any]:
    """Compose the config and instantiate the chosen ``kind`` plugin (not loaded yet)."""
    from heihachi.config import compose, plugin_config
    from heihachi.models import default_cache_dir
    from heihachi.registry import get_registry

    cfg, choices = compose(overrides, config_dirs)
    name, plugin_cfg = plugin_config(cfg, kind, choices, overrides)
    info = get_registry().get(kind, name)
    plugin = info.cls(plugin_cfg, cache_dir=default_cache_dir(cfg.models.cache_dir),
                      offline=bool(cfg.models.offline))
    return cfg, plugin


def run_task(kind: str, inputs: list[str], overrides: list[str], *,
             output: str | None = None, overwrite: bool = False,
             config_dirs: list[str] | None = None, progress: bool = True,
             extra_writers: list[Callable[..., list[Path]]] | None = None,
             on_result: Callable[..., None] | None = None) -> Summary:
    """Run the ``kind`` plugin chosen by the config over ``inputs``; returns the summary."""
    from heihachi.runtime import Runner, RunOptions, place, shutdown

    cfg, plugin = build_plugin(kind, overrides, config_dirs)
    paths = expand_inputs(inputs)
    if not paths:
        raise ConfigError(f"no audio files found in {', '.join(inputs)}")
    rt = cfg.runtime
    opts = RunOptions(output_dir=Path(output or cfg.output.dir), batch_size=rt.batch_size,
                      num_workers=rt.num_workers, device=rt.device, precision=rt.precision,
                      overwrite=overwrite, formats=list(cfg.output.formats), progress=progress,
                      stems=list(cfg.output.stems) if cfg.output.stems else None,
                      audio_format=cfg.output.audio_format,
                      audio_subtype=cfg.output.audio_subtype)
    placement = place(rt.device, rt.precision)
    try:
        runner = Runner(plugin, opts, placement, extra_writers=extra_writers,
                        on_result=on_result)
        return runner.run(paths)
    finally:
        shutdown(placement)

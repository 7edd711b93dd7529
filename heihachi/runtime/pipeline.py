"""One task end to end: config -> plugin -> runner -> outputs. Used by the CLI and the API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from heihachi.errors import ConfigError, ExportError, HeihachiError
from heihachi.runtime.inputs import expand_inputs
from heihachi.runtime.outputs import Summary, expected_formats


def build_plugin(kind: str, overrides: list[str], config_dirs: list[str] | None = None
                 ) -> tuple[Any, Any]:
    """Compose the config and instantiate the chosen ``kind`` plugin (not loaded yet)."""
    from heihachi.config import compose

    cfg, choices = compose(overrides, config_dirs)
    return cfg, plugin_from_config(cfg, choices, kind, overrides)


def plugin_from_config(cfg: Any, choices: dict, kind: str, overrides: list[str]) -> Any:
    """The ``kind`` plugin an already composed config chooses (not loaded yet)."""
    from heihachi.config import plugin_config
    from heihachi.models import default_cache_dir
    from heihachi.registry import get_registry

    name, plugin_cfg = plugin_config(cfg, kind, choices, overrides)
    info = get_registry().get(kind, name)
    return info.cls(plugin_cfg, cache_dir=default_cache_dir(cfg.models.cache_dir),
                    offline=bool(cfg.models.offline))


#: formats `hf analyze-drums` writes unless output.formats is given
DRUM_FORMATS = ("json", "midi", "csv", "labels", "plots", "timeline")


def write_exports(track_dir: Path, result: Any, track: Any, options: Any,
                  envelope: dict[str, Any]) -> list[Path]:
    """Beats found with drum hits (beats.json) and the formats in ``output.formats``."""
    from heihachi.export import AUDIO_WRITERS, WRITERS
    from heihachi.results import Beats, DrumHits
    from heihachi.runtime.atomic import atomic_write_json
    from heihachi.runtime.inputs import source_fingerprint

    written: list[Path] = []
    results: dict[str, Any] = {}
    if isinstance(result, DrumHits):
        results["drums"] = result
        if result.beats is not None:
            results["beats"] = result.beats
            doc = {"schema": Beats.schema, "track": track.name, "path": str(track.path),
                   **envelope, "source": source_fingerprint(track.path),
                   **result.beats.to_json()}
            written.append(atomic_write_json(track_dir / "beats.json", doc))
    elif isinstance(result, Beats):
        results["beats"] = result
    if results and envelope.get("duration") is not None:
        results["duration"] = envelope["duration"]  # the audio length, for plots/timeline
    failed: dict[str, str] = {}
    # plots/timeline of a one-shot cost more than its analysis (output.plots_min_s)
    wanted = expected_formats(options.formats, envelope.get("duration"),
                              getattr(options, "plots_min_s", 0.0))
    for fmt in wanted:
        if fmt == "json" or not results:
            continue
        try:  # one export's failure must not lose the others
            if fmt in AUDIO_WRITERS:  # e.g. the click track: decodes the file again
                written.extend(AUDIO_WRITERS[fmt](track_dir, results, track.name,
                                                  source=track.path))
                continue
            written.extend(WRITERS[fmt](track_dir, results, track.name))
        except Exception as e:
            failed[fmt] = str(e) if isinstance(e, HeihachiError) else f"{type(e).__name__}: {e}"
    if failed:
        raise ExportError(failed, written)
    return written


def run_task(kind: str, inputs: list[str], overrides: list[str], *,
             output: str | None = None, overwrite: bool = False,
             config_dirs: list[str] | None = None, progress: bool = True,
             extra_writers: list[Callable[..., list[Path]]] | None = None,
             on_result: Callable[..., None] | None = None) -> Summary:
    """Run the ``kind`` plugin chosen by the config over ``inputs``; returns the summary."""
    from heihachi.runtime.placement import place, shutdown
    from heihachi.runtime.runner import Runner, RunOptions

    cfg, plugin = build_plugin(kind, overrides, config_dirs)
    if kind == "separator":  # a bad format/subtype pair is a usage error, not N file errors
        from heihachi.runtime.stems import check_audio_output

        check_audio_output(cfg.output.audio_format, cfg.output.audio_subtype)
    paths = expand_inputs(inputs)
    if not paths:
        raise ConfigError(f"no audio files found in {', '.join(inputs)}")
    rt = cfg.runtime
    if kind in ("drums", "beats") and extra_writers is None:
        extra_writers = [write_exports]
    opts = RunOptions(output_dir=Path(output or cfg.output.dir), batch_size=rt.batch_size,
                      num_workers=rt.num_workers, device=rt.device, precision=rt.precision,
                      threads=rt.threads,
                      overwrite=overwrite, formats=list(cfg.output.formats), progress=progress,
                      stems=list(cfg.output.stems) if cfg.output.stems else None,
                      audio_format=cfg.output.audio_format,
                      audio_subtype=cfg.output.audio_subtype,
                      plots_min_s=float(cfg.output.plots_min_s))
    placement = place(rt.device, rt.precision, rt.threads, rt.num_workers)
    try:
        runner = Runner(plugin, opts, placement, extra_writers=extra_writers,
                        on_result=on_result)
        return runner.run(paths)
    finally:
        shutdown(placement)


def write_patterns(track_dir: Path, track_name: str) -> Any:
    """Bar patterns of one analysed track (reads drums.json + beats.json, writes patterns.json)."""
    import json

    import numpy as np

    from heihachi.music.patterns import analyze_patterns
    from heihachi.results import DrumHit
    from heihachi.runtime.atomic import atomic_write_json

    drums = json.loads((track_dir / "drums.json").read_text())
    beats_path = track_dir / "beats.json"
    if not beats_path.is_file():
        raise ConfigError(f"{track_dir}: no beats.json; drum-patterns needs a drums plugin "
                          "that also finds beats (drums=drumnet) or run `hf beats` first")
    beats = json.loads(beats_path.read_text())
    hits = [DrumHit(h["time"], h["class"], h["confidence"], h["velocity"], h.get("label", ""))
            for h in drums["hits"]]
    patterns = analyze_patterns(hits, np.asarray(beats["beats"]), np.asarray(beats["downbeats"]))
    doc = {"schema": patterns.schema, "track": track_name, "path": drums["path"],
           "plugin": drums["plugin"], "model": drums["model"],
           "config_hash": drums["config_hash"], "tempo": beats.get("tempo"),
           **patterns.to_json()}
    atomic_write_json(track_dir / "patterns.json", doc)
    return patterns

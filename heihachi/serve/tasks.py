"""What each task endpoint runs, and the checking of the overrides a client sends.

A task is one plugin kind run through the CLI's runtime, plus what the CLI command
adds around it: ``analyze`` is ``hf analyze-drums`` (every export format) followed by
``hf drum-patterns``; ``drums`` writes the JSON only; ``semantic/analyze`` is
``index add`` into the server's index.

Clients choose plugins and settings the way the CLI does (``plugin``, ``model`` and
``KEY=VALUE`` overrides) but only within their task: ``<kind>.*`` settings, the
``profile``, and the output settings that task writes. Values that name a path
(absolute, ``~``, ``..``) or use an OmegaConf interpolation (``${...}``, which could
read the server's environment) are refused, so a request can never point a plugin
at a file outside ``--data``. Everything is then composed and the plugin's typed
config built exactly as the CLI would; a bad value is a 422 with Hydra's message.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from heihachi.serve.storage import RequestError


@dataclass(frozen=True)
class TaskSpec:
    """One task endpoint.

    Attributes:
        name: the endpoint under /api/v1 and the job's ``task``.
        kind: the plugin kind it runs (None: no runner pass, e.g. a text search).
        formats: ``output.formats`` it writes unless the client sets them.
        after: what runs on each finished track: ``patterns`` (analyze), ``index``
            (semantic/analyze), ``tag`` (semantic/tag), ``search`` (audio query).
        multi: the job takes several files (``files`` field).
        batchable: queued jobs with equal settings share one runner pass.
        summary: one line for the OpenAPI docs.
    """

    name: str
    kind: str | None
    formats: tuple[str, ...] | None = None
    after: str | None = None
    multi: bool = False
    batchable: bool = True
    summary: str = ""


def _drum_formats() -> tuple[str, ...]:
    from heihachi.runtime.pipeline import DRUM_FORMATS

    return tuple(DRUM_FORMATS)


TASKS: dict[str, TaskSpec] = {s.name: s for s in (
    TaskSpec("analyze", "drums", formats=None, after="patterns",
             summary="Drum hits, beats, bar patterns, MIDI, plots and timeline of a track "
                     "(hf analyze-drums + hf drum-patterns)."),
    TaskSpec("batch-analyze", "drums", formats=None, after="patterns", multi=True,
             summary="`analyze` over several files in one job."),
    TaskSpec("features", "extractor", summary="Frame and scene embeddings (hf extract)."),
    TaskSpec("beats", "beats", formats=("json",), summary="Beats, downbeats, tempo (hf beats)."),
    TaskSpec("drums", "drums", formats=("json",),
             summary="Every drum hit with class, time, velocity, confidence (drums.json)."),
    TaskSpec("stems", "separator", summary="Separated stems as audio files (hf separate)."),
    TaskSpec("semantic/analyze", "index", after="index", batchable=False,
             summary="Embed a track's segments into the server's semantic index."),
    TaskSpec("semantic/tag", "similarity", after="tag", batchable=False,
             summary="Zero-shot tags per category (hf tag)."),
    TaskSpec("semantic/search", "index", after="search", batchable=False,
             summary="Search the semantic index by text or by an audio clip."),
)}

#: output settings a client may set, by plugin kind
OUTPUT_KEYS: dict[str, tuple[str, ...]] = {
    "drums": ("output.formats",), "beats": ("output.formats",),
    "separator": ("output.stems", "output.audio_format", "output.audio_subtype"),
}
_OVERRIDE = re.compile(r"^[A-Za-z_][\w.\-]*=[^\x00-\x1f]*$")
_PATHLIKE = re.compile(r"(^|[\[,=\s'\"])(/|~|\\)|\.\.|\$\{|^[A-Za-z]:[\\/]")
_STEM = re.compile(r"^[A-Za-z0-9_\-]{1,32}$")
_compose_lock = threading.Lock()


def resolve_kind(spec: TaskSpec, server_overrides: list[str]) -> str | None:
    """The plugin kind a task runs; ``index`` means the index's embedder (server config)."""
    if spec.kind != "index":
        return spec.kind
    for o in reversed(server_overrides):
        if o.startswith("index.embedder="):
            return o.split("=", 1)[1]
    return "similarity"


def check_value(key: str, value: str) -> None:
    if _PATHLIKE.search(value):
        raise RequestError(422, f"{key}={value!r}: paths and ${{...}} interpolations are not "
                                "accepted from clients; name a model id or a plain value")


def client_overrides(spec: TaskSpec, kind: str | None, plugin: str | None, model: str | None,
                     overrides: list[str] | None, stems: str | None = None) -> list[str]:
    """The Hydra overrides of a request's form fields, checked (422 on anything refused)."""
    out: list[str] = []
    if kind is None:
        if plugin or model or overrides:
            raise RequestError(422, f"{spec.name} takes no plugin settings")
        return out
    if plugin:
        names = plugin_names(kind)
        if plugin not in names:
            raise RequestError(422, f"plugin={plugin!r}: no {kind} plugin of that name "
                                    f"(available: {', '.join(names) or 'none'})")
        out.append(f"{kind}={plugin}")
    if model:
        check_value("model", model)
        out.append(f"{kind}.model={model}")
    allowed = OUTPUT_KEYS.get(kind, ())
    for o in overrides or []:
        o = o.strip()
        if not o:
            continue
        if not _OVERRIDE.match(o):
            raise RequestError(422, f"override {o!r}: use KEY=VALUE, e.g. {kind}.NAME=VALUE")
        key, value = o.split("=", 1)
        if not (key == "profile" or key.startswith(f"{kind}.") or key in allowed):
            raise RequestError(422, f"override {key!r} is not allowed here: a {spec.name} "
                                    f"request may set {kind}.*, profile"
                                    + "".join(f", {a}" for a in allowed))
        check_value(key, value)
        out.append(o)
    if stems:
        names = [s.strip() for s in stems.split(",") if s.strip()]
        bad = [s for s in names if not _STEM.match(s)]
        if bad or not names:
            raise RequestError(422, f"stems={stems!r}: give stem names separated by commas, "
                                    "e.g. drums,bass")
        out.append(f"output.stems=[{','.join(names)}]")
    formats = spec.formats if spec.formats is not None else (
        _drum_formats() if spec.after == "patterns" else None)
    if formats and not any(o.startswith("output.formats=") for o in out):
        out.append(f"output.formats=[{','.join(formats)}]")
    return out


@lru_cache(maxsize=8)
def plugin_names(kind: str) -> tuple[str, ...]:
    from heihachi.registry import get_registry

    return tuple(get_registry().names(kind))


def validate(kind: str | None, overrides: list[str]) -> None:
    """Compose the config and build the plugin (not loaded) as the CLI would; 422 if bad."""
    if kind is None:
        return
    _validated(kind, tuple(overrides))


@lru_cache(maxsize=256)
def _validated(kind: str, overrides: tuple[str, ...]) -> bool:
    from heihachi.errors import HeihachiError
    from heihachi.runtime.pipeline import build_plugin

    with _compose_lock:  # Hydra's GlobalHydra is one per process
        try:
            cfg, _plugin = build_plugin(kind, list(overrides))
            if kind == "separator":
                from heihachi.runtime.stems import check_audio_output

                check_audio_output(cfg.output.audio_format, cfg.output.audio_subtype)
        except HeihachiError as e:
            raise RequestError(422, str(e)) from None
    return True


def batch_key(spec: TaskSpec, kind: str | None, overrides: list[str], job_id: str,
              extra: dict[str, Any] | None = None) -> str:
    """Jobs with equal keys may share one runner pass (same plugin, same settings)."""
    if not spec.batchable or extra:
        return f"single:{job_id}"
    return json.dumps({"kind": kind, "after": spec.after, "overrides": overrides})

"""The semantic jobs of a worker: index add, search (text or audio) and zero-shot tags.

Index writes and audio queries go through :mod:`heihachi.index.collection`, the code
behind ``index add`` / ``index search --audio``, so the server's index is the same
thing the CLI builds (``heihachi index search --index DATA/index`` reads it). Text
queries and tags use the worker's cached, already loaded similarity plugin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from heihachi.errors import ConfigError, UsageError
from heihachi.serve.jobs import Job
from heihachi.serve.settings import ServeSettings


def run_semantic(job: Job, settings: ServeSettings, cache: Any) -> dict[str, Any]:
    """Run a ``semantic/analyze`` or ``semantic/search`` job; returns its result document."""
    from heihachi.index import collection

    p = job.params
    index = settings.index_dir
    if job.task == "semantic/analyze":
        report = collection.add(index, [i["path"] for i in job.inputs], p["overrides"],
                                progress=False)
        return {"index": report}
    if job.inputs:
        hits = collection.search_audio(index, job.inputs[0]["path"], p["k"], p["per_track"],
                                       p["overrides"])
    else:
        hits = _search_text(index, p["text"], p["k"], p["per_track"], p["overrides"], cache)
    return {"hits": [{"track": str(h.track), "start": round(float(h.start), 3),
                      "end": round(float(h.end), 3), "score": round(float(h.score), 5)}
                     for h in hits]}


def _loaded_plugin(cache: Any, kind: str, overrides: list[str]) -> Any:
    runner = cache.get(kind, overrides)
    plugin = runner.plugin
    if not getattr(plugin, "_heihachi_loaded", False):
        plugin.device = runner.placement.device
        plugin.load()
        plugin._heihachi_loaded = True
    return plugin


def _search_text(index: Path, text: str, k: int, per_track: bool, overrides: list[str],
                 cache: Any) -> list[Any]:
    import numpy as np

    from heihachi.config import compose
    from heihachi.index.collection import EMBEDDER_FILE, Embedder, open_index

    if not (index / EMBEDDER_FILE).is_file():
        raise UsageError("the server's index is empty: add tracks with "
                         "POST /api/v1/semantic/analyze first")
    cfg, _ = compose(overrides)
    embedder = Embedder.from_index(index, cfg, overrides)
    if embedder.kind != "similarity":
        raise ConfigError("the server's index was built with an extractor "
                          f"({' '.join(embedder.overrides)}); text queries need a similarity "
                          "(CLAP) index: search with an audio clip instead")
    plugin = _loaded_plugin(cache, "similarity", embedder.overrides)
    query = np.asarray(plugin.embed_text([text]))[0]
    return open_index(index, cfg).search(query, k=k, per_track=per_track)


def write_tags(track_dir: Path, track: str, path: str, params: dict[str, Any],
               plugin: Any) -> dict[str, Any]:
    """``tags.json`` of one embedded track, as ``hf tag`` writes it."""
    import numpy as np

    from heihachi.index.query import (
        TAGS_SCHEMA,
        parse_categories,
        prompts,
        scene_vector,
        tags_document,
        zero_shot,
    )
    from heihachi.runtime.atomic import atomic_write_json

    cats = parse_categories(params["categories"])
    vectors = np.load(track_dir / "embed.npz")["vectors"]
    label_vectors = {c: plugin.embed_text(prompts(labels, params["prompt"]))
                     for c, labels in cats.items()}
    scale = float(getattr(plugin, "logit_scale", 1.0 / 0.07))
    probs = zero_shot(scene_vector(vectors), label_vectors, scale)
    doc = {"schema": TAGS_SCHEMA, "track": track, "path": path, "plugin": plugin.name,
           "model": plugin.model_id(), "prompt": params["prompt"],
           "logit_scale": round(scale, 5), "segments": len(vectors),
           "categories": tags_document(cats, probs)}
    atomic_write_json(track_dir / "tags.json", doc)
    return doc


def check_tag_params(categories: str, prompt: str) -> None:
    """422-worthy mistakes in a tag request, found before the job is queued."""
    from heihachi.index.query import parse_categories, prompts

    cats = parse_categories(categories)
    prompts(next(iter(cats.values())), prompt)


def index_embedder_kind(settings: ServeSettings) -> str | None:
    """The kind the server's index was built with (None: no index yet)."""
    import json

    from heihachi.index.collection import EMBEDDER_FILE

    path = settings.index_dir / EMBEDDER_FILE
    if not path.is_file():
        return None
    return str(json.loads(path.read_text())["kind"])

"""Query logic over CLAP segment embeddings: text/audio search and zero-shot tagging.

Pure numpy on purpose: ``hf similarity`` and ``hf tag`` embed through the normal
runtime (so files are batched, skipped when done and resumable), then score the
collected vectors here. Every vector is L2-normalised first, so a dot product is
a cosine similarity whatever the plugin returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from heihachi.errors import UsageError

TAGS_SCHEMA = "heihachi.tags/1"
DEFAULT_PROMPT = "this is a {label} track"


@dataclass(frozen=True)
class Hit:
    """One search result: a segment (or a whole track) and its cosine score."""

    track: str
    start: float
    end: float
    score: float

    def to_json(self) -> dict[str, Any]:
        return {"track": self.track, "start": round(float(self.start), 3),
                "end": round(float(self.end), 3), "score": round(float(self.score), 5)}


def normalise(x: Any) -> np.ndarray:
    """Rows of ``x`` scaled to unit length (zero rows stay zero)."""
    a = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(a, axis=-1, keepdims=True)
    return a / np.maximum(norm, 1e-12)


def scene_vector(vectors: np.ndarray) -> np.ndarray:
    """One unit vector for a whole file: the normalised mean of its segment vectors."""
    if len(vectors) == 0:
        raise UsageError("cannot pool a file with no segments")
    return normalise(normalise(vectors).mean(axis=0))


def rank_segments(collection: dict[str, Any], query: np.ndarray, k: int) -> list[Hit]:
    """The ``k`` segments of ``collection`` (track -> SegmentEmbeddings) closest to ``query``.

    Ties keep track order, then time order, so the ranking is deterministic.
    """
    q = normalise(query).reshape(-1)
    hits: list[Hit] = []
    for track, seg in collection.items():
        scores = normalise(seg.vectors) @ q
        hits.extend(Hit(track, float(s), float(e), float(c))
                    for s, e, c in zip(seg.starts, seg.ends, scores, strict=True))
    hits.sort(key=lambda h: -h.score)  # stable sort: ties keep insertion order
    return hits[:max(k, 0)]


def rank_tracks(collection: dict[str, Any], query: np.ndarray, k: int) -> list[Hit]:
    """The ``k`` tracks whose scene vector (mean of segments) is closest to ``query``.

    Scene vectors, not best segments, so a query made from a file's own audio
    (its scene vector) always ranks that file first with score 1.
    """
    q = normalise(query).reshape(-1)
    hits = [Hit(track, float(seg.starts.min()), float(seg.ends.max()),
                float(scene_vector(seg.vectors) @ q))
            for track, seg in collection.items() if len(seg.vectors)]
    hits.sort(key=lambda h: -h.score)
    return hits[:max(k, 0)]


def parse_categories(spec: str) -> dict[str, list[str]]:
    """``"genre:techno,house;mood:dark,euphoric"`` -> ``{"genre": [...], "mood": [...]}``.

    Raises:
        UsageError: a category without a name or labels, or a repeated name.
    """
    out: dict[str, list[str]] = {}
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        name, sep, labels_text = part.partition(":")
        labels = [w.strip() for w in labels_text.split(",") if w.strip()]
        if not sep or not name.strip() or not labels:
            raise UsageError(f"categories: {part!r} is not NAME:LABEL,LABEL,... "
                             "(e.g. \"genre:techno,house;mood:dark,euphoric\")")
        if name.strip() in out:
            raise UsageError(f"categories: {name.strip()!r} is given twice")
        out[name.strip()] = list(dict.fromkeys(labels))
    if not out:
        raise UsageError("categories: give at least one NAME:LABEL,LABEL,... group")
    return out


def prompts(labels: list[str], template: str = DEFAULT_PROMPT) -> list[str]:
    """The text prompts CLAP embeds for ``labels`` (``{label}`` is replaced)."""
    if "{label}" not in template:
        raise UsageError(f"prompt template {template!r} must contain {{label}}")
    return [template.replace("{label}", label) for label in labels]


def zero_shot(audio: np.ndarray, label_vectors: dict[str, np.ndarray], logit_scale: float
              ) -> dict[str, np.ndarray]:
    """Per category, probabilities over its labels for each audio vector.

    Args:
        audio: ``[D]`` or ``[N, D]`` audio vectors.
        label_vectors: category -> ``[L, D]`` text vectors of its prompts.
        logit_scale: CLAP's learned temperature (cosine x scale = logits).

    Returns:
        category -> ``[L]`` (or ``[N, L]``) probabilities, softmax over the labels.
    """
    from scipy.special import softmax

    a = normalise(audio)
    return {cat: softmax(logit_scale * (a @ normalise(vecs).T), axis=-1)
            for cat, vecs in label_vectors.items()}


def tags_document(categories: dict[str, list[str]], probs: dict[str, np.ndarray]
                  ) -> dict[str, Any]:
    """The per-category part of ``tags.json``: labels with probabilities, best first."""
    doc: dict[str, Any] = {}
    for cat, labels in categories.items():
        p = probs[cat]
        order = np.argsort(-p, kind="stable")
        doc[cat] = {"top": labels[int(order[0])],
                    "labels": {labels[int(i)]: round(float(p[i]), 5) for i in order}}
    return doc

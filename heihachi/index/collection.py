"""Fill and query the semantic index with any extractor or similarity (CLAP) plugin.

``index add`` embeds files through the normal runtime (so it batches, shards,
skips unchanged work and resumes), pools each file into segment vectors and
commits them to a :class:`~heihachi.index.SemanticIndex`. The embedder (plugin
kind + overrides) is recorded in the index directory when the first add commits,
so searches embed their queries the same way without being told again (a first add
that fails records nothing, so the next one may choose another embedder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heihachi.errors import ConfigError, HeihachiError, UsageError
from heihachi.results import Embeddings, SegmentEmbeddings

EMBEDDER_FILE = "embedder.json"
WORK_DIR = "work"
#: up to this many segment vectors, an audio query scores every segment (exact)
EXACT_SEGMENTS = 4096
#: audio queries up to this long are also searched at index.query_speeds
SPEED_SEARCH_MAX_S = 900.0
#: an extractor index's audio query is cut into segments at up to this many offsets
#: within one segment hop (no finer than the extractor's frames), each track keeping its
#: best: a copy that starts later or earlier than its original (a trim, a DJ's cue
#: point) then meets the original's segment grid, as an unaligned copy would not
QUERY_ALIGNMENTS = 10


def pool_segments(frames: np.ndarray, stamps: np.ndarray, window_s: float, hop_s: float,
                  duration: float | None = None, offset: float = 0.0) -> SegmentEmbeddings:
    """Mean-pool frame embeddings into ``[start, start + window_s)`` segments every ``hop_s``,
    the first starting at ``offset`` seconds (0 for what is indexed; a query is also cut at
    other offsets, see :data:`QUERY_ALIGNMENTS`)."""
    end = duration if duration is not None else (float(stamps[-1]) if len(stamps) else 0.0)
    starts = np.arange(offset, max(end - window_s, offset) + 1e-9, hop_s)
    if len(starts) == 0:
        starts = np.zeros(1)
    vecs, s_out, e_out = [], [], []
    for s in starts:
        keep = (stamps >= s) & (stamps < s + window_s)
        if not keep.any():
            continue
        vecs.append(frames[keep].mean(axis=0))
        s_out.append(s)
        e_out.append(min(s + window_s, end) if end else s + window_s)
    if not vecs:  # shorter than one frame hop: the whole file is one segment
        vecs, s_out, e_out = [frames.mean(axis=0)], [0.0], [end]
    return SegmentEmbeddings(np.asarray(s_out), np.asarray(e_out),
                             np.asarray(vecs, dtype=np.float32))


@dataclass
class Embedder:
    """A plugin kind + the overrides that configure it; embeds files into segments."""

    kind: str  # "similarity" | "extractor"
    overrides: list[str]
    window_s: float | None = None
    hop_s: float | None = None

    @classmethod
    def from_index(cls, index_dir: Path, cfg: Any, overrides: list[str]) -> Embedder:
        """The embedder recorded in ``index_dir``, or a new one from the config."""
        from heihachi.index.store import MANIFEST

        path = index_dir / EMBEDDER_FILE
        if path.is_file() and (index_dir / MANIFEST).is_file():  # recorded by a commit
            doc = json.loads(path.read_text())
            extra = [o for o in overrides if o not in doc["overrides"]]
            return cls(doc["kind"], doc["overrides"] + extra, doc.get("window_s"),
                       doc.get("hop_s"))
        return cls(cfg.index.embedder, list(overrides), cfg.index.window_s, cfg.index.hop_s)

    def record(self, index_dir: Path) -> None:
        """Write ``embedder.json`` (after the first commit; later adds keep it)."""
        from heihachi.index.store import MANIFEST
        from heihachi.runtime.atomic import atomic_write_json

        path = index_dir / EMBEDDER_FILE
        if not path.is_file() or not (index_dir / MANIFEST).is_file():
            atomic_write_json(path, {"kind": self.kind, "overrides": self.overrides,
                                     "window_s": self.window_s, "hop_s": self.hop_s})

    def embed_files(self, inputs: list[str], work: Path, progress: bool = True
                    ) -> tuple[dict[str, SegmentEmbeddings], Any, Any]:
        """Embed ``inputs`` (reusing finished work in ``work``); returns vectors per path."""
        cuts, summary, task = self._embed(inputs, work, progress, 1)
        return {p: c[0] for p, c in cuts.items()}, summary, task

    def embed_query(self, inputs: list[str], work: Path, progress: bool = False
                    ) -> tuple[dict[str, list[SegmentEmbeddings]], Any]:
        """Embed query files; each path's segments cut at every alignment to the index's
        segment grid (one cut for a similarity plugin, whose segments are its own windows)."""
        cuts, summary, _task = self._embed(inputs, work, progress, QUERY_ALIGNMENTS)
        return cuts, summary

    def _embed(self, inputs: list[str], work: Path, progress: bool, alignments: int
               ) -> tuple[dict[str, list[SegmentEmbeddings]], Any, str]:
        from heihachi.runtime.pipeline import run_task

        summary = run_task(self.kind, inputs, self.overrides, output=str(work),
                           progress=progress)
        task = "embed" if self.kind == "similarity" else "extract"
        out: dict[str, list[SegmentEmbeddings]] = {}
        for e in summary.entries:
            if e.status == "failed":
                continue
            out[e.path] = self._load(work / e.track, task, alignments)
        return out, summary, task

    def _load(self, track_dir: Path, task: str, alignments: int = 1
              ) -> list[SegmentEmbeddings]:
        """A finished file's segments, cut at up to ``alignments`` offsets in one hop."""
        arrays = np.load(track_dir / f"{task}.npz")
        if task == "embed":
            return [SegmentEmbeddings(arrays["starts"], arrays["ends"], arrays["vectors"])]
        doc = json.loads((track_dir / f"{task}.json").read_text())
        emb = Embeddings(arrays["frames"], arrays["timestamps"])
        window = self.window_s or 10.0
        hop = self.hop_s or window / 2
        frame_step = float(np.median(np.diff(emb.timestamps))) if len(emb.timestamps) > 1 \
            else hop
        step = max(frame_step, hop / alignments)
        return [pool_segments(emb.frames, emb.timestamps, window, hop, doc.get("duration"),
                              offset=float(o))
                for o in np.arange(0.0, hop - 1e-6, step)[:alignments]]

    def plugin(self) -> Any:
        """The loaded plugin (for text queries)."""
        from heihachi.runtime.pipeline import build_plugin

        _cfg, plugin = build_plugin(self.kind, self.overrides)
        plugin.load()
        return plugin


def require_index(index_dir: Path) -> None:
    """A usage error unless ``index_dir`` holds a committed index."""
    from heihachi.index.store import MANIFEST

    if not (index_dir / MANIFEST).is_file():
        raise UsageError(f"no index at {index_dir}: build one with `python -m heihachi index "
                         f"add PATHS --index {index_dir}`, or give --index DIR of an index")


def open_index(index_dir: Path, cfg: Any) -> Any:
    from heihachi.index.semantic import SemanticIndex

    return SemanticIndex(index_dir, kind=cfg.index.kind, nprobe=cfg.index.nprobe,
                         ef_search=cfg.index.ef_search)


def add(index_dir: Path, inputs: list[str], overrides: list[str], progress: bool = True
        ) -> dict[str, Any]:
    """Embed and index ``inputs``; unchanged files are skipped by content hash."""
    from heihachi.config import compose
    from heihachi.index.semantic import TrackVectors
    from heihachi.runtime.inputs import content_hash, expand_inputs

    cfg, _ = compose(overrides)
    embedder = Embedder.from_index(index_dir, cfg, overrides)
    paths = expand_inputs(inputs)
    if not paths:
        raise UsageError(f"no audio files found in {', '.join(inputs)}")
    index = open_index(index_dir, cfg)
    _cfg, plugin = _built(embedder)
    model_id, chash = _identity(plugin, embedder)
    hashes: dict[str, str] = {}
    todo: list[str] = []
    failed: list[dict[str, str]] = []
    for p in paths:
        try:
            hashes[str(p)] = content_hash(p)
        except OSError as e:
            failed.append({"path": str(p), "error": f"{p}: cannot read ({e.strerror})"})
            continue
        if not index.has(str(p), hashes[str(p)], model_id, chash):
            todo.append(str(p))
    added = 0
    if todo:
        index_dir.mkdir(parents=True, exist_ok=True)
        vectors, summary, _task = embedder.embed_files(todo, index_dir / WORK_DIR, progress)
        failed += [{"path": e.path, "error": e.error or ""} for e in summary.entries
                   if e.status == "failed"]
        items = [TrackVectors(p, hashes[p], seg.starts, seg.ends, seg.vectors, model_id, chash)
                 for p, seg in vectors.items()]
        for i in range(0, len(items), 256):  # one commit per batch, not per file
            added += sum(index.add_many(items[i:i + 256]))
        if items:
            embedder.record(index_dir)  # only now: a failed first add leaves no choice behind
    return {"files": len(paths), "added": added, "unchanged": len(paths) - len(todo),
            "failed": failed}


def _built(embedder: Embedder) -> tuple[Any, Any]:
    from heihachi.runtime.pipeline import build_plugin

    return build_plugin(embedder.kind, embedder.overrides)


def _identity(plugin: Any, embedder: Embedder) -> tuple[str, str]:
    from heihachi.runtime.outputs import config_hash
    from heihachi.runtime.runner import plugin_config_dict

    ident = {"plugin": plugin.name, "config": plugin_config_dict(plugin),
             "window_s": embedder.window_s, "hop_s": embedder.hop_s}
    return str(plugin.model_id() or plugin.name), config_hash(ident)


def search_text(index_dir: Path, text: str, k: int, per_track: bool,
                overrides: list[str]) -> list[Any]:
    """Segments best matching a text query (needs a similarity-plugin index)."""
    from heihachi.config import compose

    cfg, _ = compose(overrides)
    require_index(index_dir)
    embedder = Embedder.from_index(index_dir, cfg, overrides)
    if embedder.kind != "similarity":
        raise ConfigError(f"{index_dir} was built with an extractor ({embedder.overrides}); "
                          "text queries need a similarity (CLAP) index: use --audio, or "
                          "rebuild with index.embedder=similarity")
    query = np.asarray(embedder.plugin().embed_text([text]))[0]
    return open_index(index_dir, cfg).search(query, k=k, per_track=per_track)


def search_audio(index_dir: Path, path: str, k: int, per_track: bool,
                 overrides: list[str], progress: bool = False) -> list[Any]:
    """Tracks/segments most like the audio file ``path``.

    Every segment of the query searches the index; a track's score is the mean of
    two means over the query's segments: of each one's best-matching segment of the
    track (so a whole-track match beats one lucky segment), and of the track's
    segments met in order at the track's best single lag (a copy is its original in
    order; another excerpt of a looping track holds the same loops out of order).
    ``per_track`` returns one hit per track.

    An extractor index's segments start every ``hop_s`` from each file's start, so a
    copy trimmed by 2 s, cut at the same grid, compares every segment with an original
    segment 2 s away from it, while another version of the same music that happens to
    start 2 s later lines up exactly, and won (two renders of one Drascula theme did). So
    the query is cut at each offset of :data:`QUERY_ALIGNMENTS` within a hop too, and
    each track keeps its best cut: the original's grid is among them.

    The query is also searched as played at each speed of ``index.query_speeds``
    (default 0.97-1.03: a DJ's pitch fader moves pitch and tempo by a few percent),
    and each track keeps its best speed.
    """
    import tempfile

    from heihachi.config import compose
    from heihachi.index.semantic import Hit

    cfg, _ = compose(overrides)
    require_index(index_dir)
    embedder = Embedder.from_index(index_dir, cfg, overrides)
    speeds = [float(s) for s in cfg.index.query_speeds]
    with tempfile.TemporaryDirectory() as tmp:
        copies = [path, *_speed_copies(path, [s for s in speeds if s != 1.0], Path(tmp))]
        vectors, summary = embedder.embed_query(copies, Path(tmp) / "work", progress)
    if not vectors:
        raise HeihachiError(summary.entries[0].error if summary.entries else
                            f"{path}: could not be embedded")
    index = open_index(index_dir, cfg)
    track_score: dict[str, float] = {}
    best: dict[str, dict[tuple[float, float], float]] = {}
    for seg in (cut for cuts in vectors.values() for cut in cuts):
        scores, segments = _track_scores(index, seg, k)
        for track, score in scores.items():
            if score > track_score.get(track, -np.inf):
                track_score[track], best[track] = score, segments[track]
    if per_track:
        hits = []
        for track, score in sorted(track_score.items(), key=lambda t: -t[1])[:k]:
            (s, e), _ = max(best[track].items(), key=lambda kv: kv[1])
            hits.append(Hit(track, s, e, score))
        return hits
    flat = [Hit(t, s, e, sc) for t, segs in best.items() for (s, e), sc in segs.items()]
    return sorted(flat, key=lambda h: -h.score)[:k]


def _speed_copies(path: str, speeds: list[float], folder: Path) -> list[str]:
    """``path`` as played at each speed: its samples unchanged, its rate scaled, so the
    runtime's resampling undoes a copy that was sped up or slowed down by that much.
    None for a query over SPEED_SEARCH_MAX_S (a long mix: disk and time)."""
    import soundfile as sf

    from heihachi.runtime.audio import _blocks, probe

    if not speeds:
        return []
    info = probe(path)
    if info.duration is None or info.duration > SPEED_SEARCH_MAX_S:
        return []
    out = []
    for speed in speeds:
        target = folder / f"speed-{speed:.4f}-{Path(path).stem}.wav"
        with sf.SoundFile(str(target), "w", samplerate=max(1, round(info.sample_rate * speed)),
                          channels=info.channels, subtype="FLOAT") as f:
            for block in _blocks(info):
                f.write(block)
        out.append(str(target))
    return out


def _track_scores(index: Any, query: SegmentEmbeddings, k: int
                  ) -> tuple[dict[str, float], dict[str, dict[tuple[float, float], float]]]:
    """Each track's score for one cut of the query, and its segments' best scores.

    A track's score is the mean of two scores over the query's segments: its *bag* score,
    each query segment's best match anywhere in the track, and its *in-order* score, the
    best single lag at which the query's segments, in their order, meet the track's
    segments (a copy of a track is the track in order; another excerpt of a looping
    track matches segment by segment but out of order, and it won stretched copies
    while only the bag counted).
    """
    # Every segment of an index up to EXACT_SEGMENTS, so each track's score is exact;
    # a larger index gives the nearest EXACT_SEGMENTS per query segment, and a track a
    # row did not reach counts that row's lowest score, not zero: otherwise a quiet or
    # generic query segment (an intro, a fade) whose true match ranked just beyond the
    # cut took a whole segment's share from the right track.
    fetch = max(k * 10, min(len(index), EXACT_SEGMENTS))
    rows = index.search(query.vectors, k=fetch)
    best: dict[str, dict[tuple[float, float], float]] = {}
    per_row: list[dict[str, float]] = []
    lowest_of_row: list[float] = []
    lags: dict[str, dict[float, float]] = {}  # track -> lag -> sum of (score - row lowest)
    for row, q_start in zip(rows, query.starts, strict=True):
        seen: dict[str, float] = {}
        lowest = min((h.score for h in row), default=0.0)
        lowest_of_row.append(lowest)
        for h in row:
            seen[h.track] = max(seen.get(h.track, -1.0), h.score)
            seg = best.setdefault(h.track, {})
            seg[(h.start, h.end)] = max(seg.get((h.start, h.end), -1.0), h.score)
            at = lags.setdefault(h.track, {})
            lag = round(float(h.start - q_start), 3)
            at[lag] = at.get(lag, 0.0) + h.score - lowest
        per_row.append(seen)
    n = max(len(rows), 1)
    lowest_sum = sum(lowest_of_row)
    track_score: dict[str, float] = {}
    for track in best:
        bag = sum(seen.get(track, lowest)
                  for seen, lowest in zip(per_row, lowest_of_row, strict=True)) / n
        in_order = (lowest_sum + max(lags[track].values())) / n
        track_score[track] = (bag + in_order) / 2
    return track_score, best

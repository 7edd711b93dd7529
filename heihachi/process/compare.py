"""``heihachi compare OUT_A OUT_B``: two ``process`` runs of the same files, B against A.

Per track (matched by track name): tempo of both and the difference, beat F-measure
(``mir_eval.beat.f_measure``, 70 ms window), drum-hit F per class
(``mir_eval.onset.f_measure``, 50 ms window), key agreement (same key, and the
MIREX weighted score of ``mir_eval.key``), and section boundary agreement
(``mir_eval.segment.detection`` F at 3 s). A is the reference. Tracks in only one
run are listed as such.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from heihachi.process.summary import TrackDoc, read_run

HIT_WINDOW_S = 0.05
BOUNDARY_WINDOW_S = 3.0


def _key_name(key: str | None) -> str | None:
    """``"A minor"`` as mir_eval.key writes it, or None."""
    from heihachi.export.dj_common import PITCHES, parse_key

    parsed = parse_key(key)
    if parsed is None:
        return None
    pc, minor = parsed
    return f"{PITCHES[pc]} {'minor' if minor else 'major'}"


def _intervals(track: TrackDoc) -> np.ndarray:
    rows = [(float(s["start"]), float(s.get("end") or s["start"])) for s in track.sections()]
    rows = [(a, b) for a, b in rows if b > a]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 2)


def compare_tracks(a: TrackDoc, b: TrackDoc) -> dict[str, Any]:
    """Every figure of one track, B against A."""
    import warnings

    import mir_eval

    row: dict[str, Any] = {"track": a.name}
    ta, tb = a.tempo(), b.tempo()
    row["tempo_a"], row["tempo_b"] = ta, tb
    row["tempo_diff"] = None if ta is None or tb is None else round(tb - ta, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mir_eval warns on empty beat/onset lists
        if a.has("beats") and b.has("beats"):
            ba, bb = (np.asarray(x.beats()[0], dtype=np.float64) for x in (a, b))
            row["beat_f"] = round(float(mir_eval.beat.f_measure(ba, bb)), 4)
        if a.has("drums") and b.has("drums"):
            classes = sorted({h["class"] for h in a.hits()} | {h["class"] for h in b.hits()})
            per = {}
            for c in classes:
                ha = np.asarray(sorted(h["time"] for h in a.hits() if h["class"] == c))
                hb = np.asarray(sorted(h["time"] for h in b.hits() if h["class"] == c))
                if len(ha) == 0 and len(hb) == 0:
                    continue
                f, _p, _r = mir_eval.onset.f_measure(ha, hb, window=HIT_WINDOW_S)
                per[c] = round(float(f), 4)
            row["hit_f"] = per
        ka, kb = _key_name(a.key()[0]), _key_name(b.key()[0])
        if ka and kb:
            row["key_a"], row["key_b"] = ka, kb
            row["key_agree"] = ka == kb
            row["key_score"] = round(float(mir_eval.key.weighted_score(ka, kb)), 3)
        ia, ib = _intervals(a), _intervals(b)
        if len(ia) and len(ib):
            _p, _r, f = mir_eval.segment.detection(ia, ib, window=BOUNDARY_WINDOW_S)
            row["boundary_f"] = round(float(f), 4)
    return row


def compare_runs(out_a: str | Path, out_b: str | Path) -> dict[str, Any]:
    """The comparison document (what ``--json`` prints)."""
    a = {t.name: t for t in read_run(out_a)}
    b = {t.name: t for t in read_run(out_b)}
    rows = [compare_tracks(a[n], b[n]) for n in sorted(a) if n in b]
    means: dict[str, Any] = {}
    for k in ("beat_f", "key_score", "boundary_f"):
        vals = [r[k] for r in rows if r.get(k) is not None]
        means[k] = round(float(np.mean(vals)), 4) if vals else None
    diffs = [abs(r["tempo_diff"]) for r in rows if r.get("tempo_diff") is not None]
    means["abs_tempo_diff"] = round(float(np.mean(diffs)), 3) if diffs else None
    agree = [r["key_agree"] for r in rows if "key_agree" in r]
    means["key_agreement"] = round(float(np.mean(agree)), 4) if agree else None
    classes = sorted({c for r in rows for c in r.get("hit_f", {})})
    means["hit_f"] = {c: round(float(np.mean([r["hit_f"][c] for r in rows
                                              if c in r.get("hit_f", {})])), 4)
                      for c in classes}
    return {"schema": "heihachi.compare/1", "a": str(out_a), "b": str(out_b),
            "tracks": rows, "mean": means,
            "only_in_a": sorted(set(a) - set(b)), "only_in_b": sorted(set(b) - set(a))}

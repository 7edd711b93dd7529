"""Beats on real recordings: heihachi beside madmom and librosa on charted rock/metal songs.

The set (see ``bench/fof_charts.py`` for the charts and the sync rule): the eight songs
of Debian's ``fretsonfire-songs-muldjord`` and ``fretsonfire-songs-sectoid``, real recorded
full mixes (distorted guitars, bass, live or programmed drums, some vocals) by two
authors, rock and metal only, each at one constant tempo between 95 and 190 BPM, all in
4/4, about 26 minutes in all.  It is small and genre-bound: eight songs cannot rank
trackers finely (one song is 12 % of every mean), and nothing here says how a tracker
does on electronic music, jazz, swing, tempo changes or other metres.  It is a
validation set only: never trained on, no stem used as a mixing bed.

Every run applies the sync rule to every chart first and scores only what passes (the
rule was written down before any tracker ran on these songs); the rule's figures and
its two perturbed controls are printed.  Then, in the same run and on the same audio:

- **heihachi**: ``python -m heihachi hf beats`` (the default drumnet beat tracker, or
  variants given as ``--variant LABEL=OVERRIDE[,OVERRIDE...]``);
- **madmom downbeats**: RNNDownBeatProcessor + DBNDownBeatTrackingProcessor (bars of 3
  or 4), and **madmom DBN**: RNNBeatProcessor + DBNBeatTrackingProcessor, through the
  optional ``beats=madmom`` plugin (skipped with a note when madmom is not installed);
- **librosa**: ``librosa.beat.beat_track``.

Figures per song, averaged over songs: beat F-measure (mir_eval, 70 ms window), CMLt
and AMLt (mir_eval continuity), downbeat F-measure (70 ms; songs whose downbeats pass
the rule, trackers that give downbeats), and tempo within 4 % of the chart's (heihachi:
``beats.json``'s tempo; madmom: 60 / median inter-beat interval; librosa: its tempo
estimate).  Estimates are cropped to the charted span (±70 ms) before scoring.

Anchor results (madmom, librosa) are cached per audio hash and tool version under
``--cache`` (default ``~/.cache/heihachi/bench/real_beats``): madmom runs at a few
times real time on one core.  heihachi is always run afresh.

    python bench/real_beats.py [--variant LABEL=OVERRIDES ...] [--json out.json]

Needs Debian's fretsonfire-songs-muldjord and fretsonfire-songs-sectoid, and librosa +
mir_eval (the ``dev`` extra); madmom optionally (the ``madmom`` extra).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fof_charts import SyncResult, check_sync, find_songs, load_chart, load_mono

WINDOW = 0.07
TEMPO_TOL = 0.04


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def _cached(cache: Path | None, key: str, compute) -> dict:
    if cache is None:
        return compute()
    path = cache / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    out = compute()
    from heihachi.runtime.atomic import atomic_write_json

    cache.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, out)
    return out


def _as_json(beats: np.ndarray, downbeats: np.ndarray | None, tempo: float | None) -> dict:
    return {"beats": [float(t) for t in beats],
            "downbeats": None if downbeats is None else [float(t) for t in downbeats],
            "tempo": tempo}


def ibi_tempo(beats: np.ndarray) -> float | None:
    return float(60.0 / np.median(np.diff(beats))) if len(beats) > 1 else None


def run_librosa(path: Path) -> dict:
    import librosa

    y = load_mono(path, 22050)
    tempo, frames = librosa.beat.beat_track(y=y, sr=22050, units="frames")
    return _as_json(librosa.frames_to_time(frames, sr=22050), None,
                    float(np.atleast_1d(tempo)[0]))


def madmom_trackers() -> dict:
    """``{label: tracker}`` for the two madmom anchors, or {} when madmom is missing."""
    try:
        from heihachi.plugins.madmom_beats import MadmomBeats, import_madmom

        import_madmom()
    except ImportError as e:
        print(f"note: madmom not installed ({e}); its columns are left out", file=sys.stderr)
        return {}
    out = {}
    for label, mode in (("madmom downbeats", "downbeats"), ("madmom DBN", "beats")):
        tracker = MadmomBeats(MadmomBeats.Config(mode=mode))
        tracker.load()
        out[label] = tracker
    return out


def run_madmom(tracker, path: Path) -> dict:
    res = tracker.track_array(load_mono(path, tracker.sample_rate))
    down = res.downbeats if tracker.config.mode == "downbeats" else None
    return _as_json(res.beats, down, ibi_tempo(res.beats))


def run_heihachi(paths: dict[str, Path], overrides: list[str], work: Path) -> dict[str, dict]:
    """``hf beats`` over all songs in one CLI run; ``{song name: result}``."""
    inp, out = work / "in", work / "out"
    inp.mkdir(parents=True, exist_ok=True)
    names = {}
    for name, path in paths.items():
        safe = name.replace("/", "__").replace(" ", "_")
        link = inp / f"{safe}{path.suffix}"
        if not link.exists():
            link.symlink_to(path)
        names[name] = safe
    cmd = [sys.executable, "-m", "heihachi", "hf", "beats", str(inp), "-o", str(out), "-q",
           "--overwrite", "output.formats=[json]", *overrides]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"heihachi failed ({run.returncode}): {' '.join(cmd)}\n"
                         f"{run.stderr[-2000:]}")
    res = {}
    for name, safe in names.items():
        doc = json.loads((out / safe / "beats.json").read_text())
        res[name] = _as_json(np.asarray(doc["beats"]), np.asarray(doc["downbeats"]),
                             doc.get("tempo"))
        res[name]["confidence"] = doc.get("confidence")
    return res


def score(sync: SyncResult, est: dict) -> dict:
    """Beat F, CMLt, AMLt, downbeat F (or None) and tempo hit of one estimate."""
    import mir_eval

    chart = sync.chart
    lo, hi = chart.span[0] - WINDOW, chart.span[1] + WINDOW
    beats = np.asarray(est["beats"], dtype=np.float64)
    beats = np.sort(beats[(beats >= lo) & (beats <= hi)])
    ref = chart.beats
    f = mir_eval.beat.f_measure(ref, beats, WINDOW)
    if len(beats) > 1:
        _cmlc, cmlt, _amlc, amlt = mir_eval.beat.continuity(ref, beats)
    else:
        cmlt = amlt = 0.0
    down_f = None
    if sync.downbeats_ok and est.get("downbeats") is not None:
        d = np.asarray(est["downbeats"], dtype=np.float64)
        d = np.sort(d[(d >= lo) & (d <= hi)])
        down_f = mir_eval.beat.f_measure(chart.downbeats, d, WINDOW)
    tempo = est.get("tempo")
    ok = tempo is not None and abs(tempo - chart.bpm) <= TEMPO_TOL * chart.bpm
    return {"beat_f": float(f), "cmlt": float(cmlt), "amlt": float(amlt),
            "downbeat_f": down_f, "tempo": tempo, "tempo_ok": bool(ok)}


def summary(rows: list[dict]) -> dict:
    downs = [r["downbeat_f"] for r in rows if r["downbeat_f"] is not None]
    return {"beat_f": float(np.mean([r["beat_f"] for r in rows])),
            "cmlt": float(np.mean([r["cmlt"] for r in rows])),
            "amlt": float(np.mean([r["amlt"] for r in rows])),
            "downbeat_f": float(np.mean(downs)) if downs else None,
            "tempo": float(np.mean([r["tempo_ok"] for r in rows])), "n": len(rows),
            "n_downbeat": len(downs)}


def _parse_variants(items: list[str]) -> dict[str, list[str]]:
    out = {}
    for item in items:
        label, _, ovr = item.partition("=")
        if not label or not ovr:
            raise SystemExit(f"--variant {item!r}: write LABEL=KEY=VALUE[,KEY=VALUE...]")
        out[label] = [o for o in ovr.split(",") if o]
    return out


def print_sync(results: list[SyncResult]) -> None:
    print("sync rule (bench/fof_charts.py): a-c = mix onsets vs the chart grid, d = notes on "
          "the chart's grid; downbeats = bar phase with the largest harmonic change")
    print(f"{'song':<34}{'BPM':>6}{'beats':>6}{'lag ms':>8}{'contr':>7}{'seg spread':>11}"
          f"{'grid':>6}  {'beats':<10}{'downbeats':<10} controls (shift50ms / stretch0.5%)")
    for r in results:
        c = r.chart
        ctrl = " / ".join("pass" if v["ok"] else "fail" for v in r.controls.values())
        verdict = "pass" if r.beats_ok else f"FAIL({r.reasons()})"
        print(f"{c.name:<34}{c.bpm:>6.0f}{len(c.beats):>6}{r.beats['lag_ms']:>+8.0f}"
              f"{r.beats['contrast']:>7.1f}{r.beats['segment_spread_ms']:>11.0f}"
              f"{r.on_grid:>6.2f}  {verdict:<10}{'pass' if r.downbeats_ok else 'not scored':<10} "
              f"{ctrl}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", action="append", default=[],
                    help="extra heihachi run: LABEL=KEY=VALUE[,KEY=VALUE...] (Hydra overrides)")
    ap.add_argument("--no-default", action="store_true", help="skip the default heihachi run")
    ap.add_argument("--no-anchors", action="store_true", help="skip madmom and librosa")
    ap.add_argument("--cache", type=Path,
                    default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                    / "heihachi" / "bench" / "real_beats")
    ap.add_argument("--json", type=Path, help="write every per-song figure here")
    args = ap.parse_args()

    songs = find_songs()
    if not songs:
        raise SystemExit("no songs: apt-get install fretsonfire-songs-muldjord "
                         "fretsonfire-songs-sectoid")
    syncs = [check_sync(load_chart(d)) for d in songs]
    print(f"{len(syncs)} real recorded songs (rock/metal, two authors, constant tempo, 4/4, "
          f"{sum(s.chart.span[1] - s.chart.span[0] for s in syncs) / 60:.0f} min charted): "
          "a small, genre-bound validation; one song is 1/8 of every mean")
    print_sync(syncs)
    kept = [s for s in syncs if s.beats_ok]
    paths = {s.chart.name: s.chart.audio for s in kept}

    estimates: dict[str, dict[str, dict]] = {}
    variants = {} if args.no_default else {"heihachi": []}
    variants |= _parse_variants(args.variant)
    with tempfile.TemporaryDirectory(prefix="heihachi-real-beats-") as tmp:
        for i, (label, ovr) in enumerate(variants.items()):
            estimates[label] = run_heihachi(paths, ovr, Path(tmp) / f"v{i}")
    if not args.no_anchors:
        import librosa

        for label, tracker in madmom_trackers().items():
            from heihachi.plugins.madmom_beats import import_madmom

            ver = import_madmom().__version__
            estimates[label] = {
                n: _cached(args.cache, f"{label.replace(' ', '-')}-{ver}-{_sha(p)}",
                           lambda t=tracker, p=p: run_madmom(t, p)) for n, p in paths.items()}
        estimates["librosa"] = {
            n: _cached(args.cache, f"librosa-{librosa.__version__}-{_sha(p)}",
                       lambda p=p: run_librosa(p)) for n, p in paths.items()}

    scores = {label: {s.chart.name: score(s, est[s.chart.name]) for s in kept}
              for label, est in estimates.items()}
    sums = {label: summary(list(rows.values())) for label, rows in scores.items()}
    n_down = sum(s.downbeats_ok for s in kept)
    print(f"\n{len(kept)} songs scored (beats), {n_down} for downbeats; window 70 ms, "
          "tempo within 4 %")
    print(f"{'tracker':<22}{'beat F':>8}{'CMLt':>8}{'AMLt':>8}{'downbeat F':>12}{'tempo':>8}")
    for label, s in sums.items():
        down = f"{s['downbeat_f']:.3f}" if s["downbeat_f"] is not None else "-"
        print(f"{label:<22}{s['beat_f']:>8.3f}{s['cmlt']:>8.3f}{s['amlt']:>8.3f}{down:>12}"
              f"{s['tempo']:>8.2f}")
    print("\nbeat F per song (estimated tempo)")
    labels = list(scores)
    print(f"{'song':<34}{'BPM':>5} " + " ".join(f"{lab[:16]:>16}" for lab in labels))
    for s in kept:
        n = s.chart.name
        cells = []
        for lab in labels:
            r = scores[lab][n]
            t = f"{r['tempo']:.0f}" if r["tempo"] else "-"
            cells.append(f"{r['beat_f']:.2f} ({t:>3})".rjust(16))
        print(f"{n:<34}{s.chart.bpm:>5.0f} " + " ".join(cells))
    for label in (lab for lab in labels if lab in variants):
        s = sums[label]
        md = sums.get("madmom downbeats")
        goal = 0.90 if md is None else max(0.90, md["beat_f"])
        print(f"{label}: beat F {s['beat_f']:.3f} (target >= {goal:.3f}: "
              f"{'met' if s['beat_f'] >= goal else 'NOT met'}), downbeat F "
              f"{(s['downbeat_f'] or 0):.3f} (target >= 0.70: "
              f"{'met' if (s['downbeat_f'] or 0) >= 0.70 else 'NOT met'})")
    if args.json:
        from heihachi.runtime.atomic import atomic_write_json

        atomic_write_json(args.json, {
            "command": "python bench/real_beats.py " + " ".join(sys.argv[1:]),
            "songs": [{"name": s.chart.name, "bpm": s.chart.bpm, "beats_ok": s.beats_ok,
                       "downbeats_ok": s.downbeats_ok, "sync": s.beats, "on_grid": s.on_grid,
                       "controls": s.controls} for s in syncs],
            "scores": scores, "summary": sums, "estimates": estimates})


if __name__ == "__main__":
    main()

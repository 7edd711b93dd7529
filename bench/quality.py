"""Beat, tempo and drum-onset quality of the default plugins, end to end through the CLI.

Two validation sets, neither ever trained on:

- held-out kits (default): renders of the Hydrogen kits held out of drumnet's training
  (real recorded drums; two-step DnB at 160-180 BPM, half-time, amen breaks, house,
  hip hop, ... over bass, pads, noise).  They share recording style and rendering
  with the training kits;
- ``--unseen``: sound-source families disjoint from every training source (the OPL3 FM
  SoundFont, the Sonivox EAS wavetable, a physically modelled engine; see
  ``bench/unseen/``), each clip through one production condition (low-pass near 3 kHz,
  telephone band, high-pass, reverb, compression with sidechain pumping, saturation,
  clipping, bit-crush, mp3, ogg, 48 kHz, 22.05 kHz, two steps, or clean).  Before
  scoring, a leak check compares every validation one-shot with every training
  one-shot and stops the bench if one matches (normalised cross-correlation >= 0.9).

Runs `hf analyze-drums` (hits + beats) on the clips, and librosa's beat tracker and
onset detector on the same audio, and prints beat F-measure (mir_eval, 70 ms), tempo
accuracy (within 4 %), drum onset F (50 ms) per class with 95 % bootstrap intervals
(clips resampled), then tables per kit and, for ``--unseen``, per processing group and
per family.  ``--models A B`` scores several drumnet directories on the same clips
(first table per model, then one comparison row each with the selection score of
``/work/ml-notes.md``: 0.6 mean k/s/h + 0.2 tom + 0.2 cymbal).

Held-out kits: beats and tempo are scored on the clips with a metre (the random-grid
clips, about 12 %, have no beat to find; printed apart).  The default seeds (2026
held-out, 2027 unseen) are not those drumnet's thresholds were tuned on (1234), its card
reports (4321) or candidates are selected on (77 unseen, 9999 held-out).

    python bench/quality.py [--clips 100] [--seed 2026] [--duration 12] [KEY=VALUE ...]
    python bench/quality.py --unseen [--clips 168] [--seed 2027] [--models DIR ...]
    python bench/quality.py --extra 40     # + 3/4, 6/8, hats intros, swing: bar length too

Needs Debian's hydrogen-drumkits + hydrogen-data, fluid-soundfont-gm, timgm6mb-soundfont
and fluidsynth; ``--unseen`` also opl3-soundfont and libsonivox3; librosa + mir_eval.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # heihachi_train: from the checkout
sys.path.insert(0, str(ROOT / "bench"))  # bench/unseen

from unseen.scoring import (  # noqa: E402
    CLASSES,
    bootstrap_interval,
    ci_text,
    clip_counts,
    f_measure,
    group_table,
    matched,
    mean_interval,
    mean_ksh,
    score_beats,
    selection_score,
)

# (beat F, tempo, mean k/s/h, tom, cymbal, every processing group)
TARGETS = {"held-out": (0.92, 0.9, 0.85, 0.6, 0.6, None),
           "unseen": (0.95, 0.95, 0.85, 0.65, 0.60, 0.75)}


def merge_times(times: list[float], within: float = 0.03) -> np.ndarray:
    out: list[float] = []
    for t in sorted(times):
        if not out or t - out[-1] > within:
            out.append(t)
    return np.asarray(out)


def librosa_estimates(y: np.ndarray, sr: int) -> tuple[np.ndarray, float, np.ndarray]:
    import librosa

    tempo, frames = librosa.beat.beat_track(y=y, sr=sr, units="frames")
    beats = librosa.frames_to_time(frames, sr=sr)
    onsets = librosa.onset.onset_detect(y=y, sr=sr, units="time", backtrack=False)
    return beats, float(np.atleast_1d(tempo)[0]), onsets


def band(bpm: float) -> str:
    return "80-120" if bpm < 120 else "120-160" if bpm < 160 else "160-180"


def write_set(args, clips_dir: Path) -> list[tuple[Path, dict]]:
    """Render the chosen set into ``clips_dir``: [(file, annotation)].  With ``--keep``, a
    set already rendered there with the same settings is reused (its annotations.json
    names them), so candidates can be scored one after another on the same clips."""
    key = {"unseen": args.unseen, "clips": args.clips, "seed": args.seed,
           "duration": args.duration}
    index = clips_dir / "annotations.json"
    if args.keep and index.is_file():
        doc = json.loads(index.read_text())
        if doc["settings"] == key:
            print(f"reusing the clips rendered in {clips_dir}")
            return [(clips_dir / name, ann) for name, ann in doc["clips"]]
    items = _render_set(args, clips_dir)
    from heihachi.runtime.atomic import atomic_write_json

    atomic_write_json(index, {"settings": key, "clips": [(p.name, a) for p, a in items]})
    return items


def _render_set(args, clips_dir: Path) -> list[tuple[Path, dict]]:
    clips_dir.mkdir(parents=True, exist_ok=True)
    if not args.unseen:
        from heihachi_train.drumnet.render import render_validation_set

        out = []
        for i, (audio, sr, ann) in enumerate(render_validation_set(args.clips, seed=args.seed,
                                                                   duration=args.duration)):
            path = clips_dir / f"clip{i:03d}.wav"
            sf.write(path, audio, sr, subtype="FLOAT")
            out.append((path, ann))
        return out
    from unseen import chains, leak, sources
    from unseen.clips import render_unseen_set

    top, leaks = leak.check_unseen_kits(sources.ALL_KITS)
    if leaks:
        for v, t, ncc in leaks[:20]:
            print(f"LEAK: {v} matches training one-shot {t} (NCC {ncc:.3f})", file=sys.stderr)
        raise SystemExit(f"leak check failed: {len(leaks)} validation one-shot(s) match a "
                         f"training one-shot (NCC >= {leak.THRESHOLD})")
    print(f"leak check passed: highest normalised cross-correlation of any unseen one-shot "
          f"with any training one-shot {top:.3f} (< {leak.THRESHOLD})")
    out = []
    for i, (audio, ann) in enumerate(render_unseen_set(args.clips, args.seed, args.duration)):
        path = chains.write(clips_dir / f"clip{i:03d}", audio, ann["processing"],
                            np.random.default_rng([args.seed, i, 99]))
        out.append((path, ann))
    return out


def run_cli(clips_dir: Path, out_dir: Path, overrides: list[str]) -> None:
    run = subprocess.run([sys.executable, "-m", "heihachi", "hf", "analyze-drums",
                          str(clips_dir), "-o", str(out_dir), "-q", "output.formats=[json]",
                          *overrides], capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"heihachi failed ({run.returncode}):\n{run.stderr[-2000:]}")


def librosa_scores(items) -> list[tuple[float, int, tuple[int, int, int]]]:
    out = []
    for path, ann in items:
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        lb, lt, lo = librosa_estimates(y.mean(axis=1), sr)
        import mir_eval

        lbf = float(mir_eval.beat.f_measure(np.asarray(ann["beats"]), lb, 0.07))
        lok = int(abs(lt - ann["tempo"]) <= 0.04 * ann["tempo"])
        ref_all = merge_times([t for t, _, _ in ann["hits"]])
        out.append((lbf, lok, (matched(ref_all, lo, 0.05), len(ref_all), len(lo))))
    return out


def summary(items, counts: np.ndarray, bfs: list[float], oks: list[int]) -> dict:
    """The figures of one model on the set, for ``--json`` (and the model card)."""
    tot = counts.sum(axis=0)

    def block(idx: list[int]) -> dict:
        t = counts[idx].sum(axis=0)
        lo, hi = bootstrap_interval(counts[idx], mean_ksh)
        return {"clips": len(idx),
                "onset_f": {c: round(f_measure(*t[k]), 4) for k, c in enumerate(CLASSES)},
                "mean_ksh": round(mean_ksh(t), 4), "mean_ksh_95": [round(lo, 4), round(hi, 4)],
                "beat_f": round(float(np.mean([bfs[i] for i in idx])), 4),
                "tempo": round(float(np.mean([oks[i] for i in idx])), 4)}

    out = block(list(range(len(items))))
    out["onset_f_95"] = {c: [round(v, 4) for v in bootstrap_interval(
        counts, lambda t, k=k: f_measure(*t[k]))] for k, c in enumerate(CLASSES)}
    out["beat_f_95"] = [round(v, 4) for v in mean_interval(bfs)]
    out["tempo_95"] = [round(v, 4) for v in mean_interval(oks)]
    out["selection_score"] = round(selection_score(tot), 4)
    for key in ("kit", "family", "processing"):
        if all(key in a for _, a in items):
            groups: dict[str, list[int]] = defaultdict(list)
            for i, (_, a) in enumerate(items):
                groups[a[key]].append(i)
            out[f"by_{key}"] = {g: block(idx) for g, idx in sorted(groups.items())}
    return out


def report(args, items, out_dir: Path, lib) -> tuple[np.ndarray, dict]:
    mode = "unseen" if args.unseen else "held-out"
    t_beat, t_tempo, t_ksh, t_tom, t_cym, t_group = TARGETS[mode]
    counts = np.zeros((len(items), len(CLASSES), 3), dtype=np.int64)
    any_counts = np.zeros(3, dtype=np.int64)
    bfs, oks, metre = [], [], []
    bands: dict[str, list[int]] = defaultdict(list)
    for i, (path, ann) in enumerate(items):
        track = out_dir / path.stem
        drums = json.loads((track / "drums.json").read_text())
        beats = json.loads((track / "beats.json").read_text())
        counts[i] = clip_counts(ann, drums["hits"])
        bf, ok = score_beats(ann, beats)
        bfs.append(bf)
        oks.append(ok)
        has_metre = ann["style"] != "random"
        metre.append(has_metre)
        if has_metre:
            bands[band(ann["tempo"])].append(ok)
        ref_all = merge_times([t for t, _, _ in ann["hits"]])
        est_all = merge_times([h["time"] for h in drums["hits"]])
        any_counts += (matched(ref_all, est_all, 0.05), len(ref_all), len(est_all))

    def target(value: float, goal: float) -> str:
        return f">= {goal:<5} {'met' if value >= goal else 'NOT met'}"

    m = [i for i in range(len(items)) if metre[i]]
    bf_m = float(np.mean([bfs[i] for i in m])) if m else 0.0
    ok_m = float(np.mean([oks[i] for i in m])) if m else 0.0
    lib_bf = float(np.mean([lib[i][0] for i in m])) if lib and m else float("nan")
    lib_ok = float(np.mean([lib[i][1] for i in m])) if lib and m else float("nan")
    print(f"{'metric':<34} {'heihachi':>10} {'95% interval':>16} {'librosa':>8}   target")
    print(f"{'beat F-measure (70 ms), mean':<34} {bf_m:>10.3f} "
          f"{ci_text(mean_interval([bfs[i] for i in m])):>16} {lib_bf:>8.3f}   "
          f"{target(bf_m, t_beat)}")
    print(f"{'tempo within 4%':<34} {ok_m:>10.3f} "
          f"{ci_text(mean_interval([oks[i] for i in m])):>16} {lib_ok:>8.3f}   "
          f"{target(ok_m, t_tempo)}")
    for b in ("80-120", "120-160", "160-180"):
        v = bands.get(b, [])
        print(f"{'  tempo ' + b + ' BPM':<34} {f'{sum(v)}/{len(v)}':>10}")
    tot = counts.sum(axis=0)
    for k, c in enumerate(CLASSES):
        f = f_measure(*tot[k])
        goal = {"tom": t_tom, "cymbal": t_cym}.get(c)
        ci = bootstrap_interval(counts, lambda t, k=k: f_measure(*t[k]))
        print(f"{'onset F (50 ms) ' + c:<34} {f:>10.3f} {ci_text(ci):>16} {'-':>8}   "
              + (target(f, goal) if goal else ""))
    mk = mean_ksh(tot)
    print(f"{'onset F mean kick/snare/hihat':<34} {mk:>10.3f} "
          f"{ci_text(bootstrap_interval(counts, mean_ksh)):>16} {'-':>8}   {target(mk, t_ksh)}")
    lib_any = np.sum([x[2] for x in lib], axis=0) if lib else None
    print(f"{'onset F any class (merged 30 ms)':<34} {f_measure(*any_counts):>10.3f} {'':>16} "
          f"{f_measure(*lib_any) if lib_any is not None else float('nan'):>8.3f}")
    if len(m) < len(items):
        g = [i for i in range(len(items)) if not metre[i]]
        print(f"{'random grids: beat F (no metre)':<34} {np.mean([bfs[i] for i in g]):>10.3f}")
        print(f"{'all clips: beat F':<34} {np.mean(bfs):>10.3f}")
    print()
    for line in group_table("kit", [a.get("kit", "?") for _, a in items], counts, bfs, oks):
        print(line)
    if args.unseen:
        print()
        for line in group_table("family", [a["family"] for _, a in items], counts, bfs, oks):
            print(line)
        print()
        keys = [a["processing"] for _, a in items]
        for line in group_table("processing", keys, counts, bfs, oks):
            print(line)
        worst = min((mean_ksh(counts[[i for i, k in enumerate(keys) if k == g]].sum(axis=0)), g)
                    for g in set(keys))
        print(f"lowest processing group, mean k/s/h: {worst[1]} {worst[0]:.3f}   "
              f"{target(worst[0], t_group)}")
    print()
    print("beat F by style: " + ", ".join(
        f"{s} {np.mean([bfs[i] for i, (_, a) in enumerate(items) if a['style'] == s]):.2f}"
        for s in sorted({a["style"] for _, a in items})))
    return tot, summary(items, counts, bfs, oks)  # beat F: all clips (random grids too)


def extra_block(args, work: Path, model: Path | None) -> None:
    """Held-out kits in the extra metres and feels (3/4, 6/8, hats-only intros, swung hip
    hop): per style, beat F, tempo within 4 % and bar length (beats.json's
    ``beats_per_bar`` against the annotation's)."""
    from heihachi_train.drumnet.render import render_extra_validation_set

    clips_dir = work / "extra_clips"
    clips_dir.mkdir(parents=True, exist_ok=True)
    items = []
    for i, (audio, sr, ann) in enumerate(render_extra_validation_set(args.extra, args.seed,
                                                                     args.duration)):
        path = clips_dir / f"extra{i:03d}.wav"
        sf.write(path, audio, sr, subtype="FLOAT")
        items.append((path, ann))
    out = work / "extra_out"
    run_cli(clips_dir, out, list(args.overrides)
            + ([f"drums.model={model.resolve()}"] if model else []))
    rows: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
    for path, ann in items:
        beats = json.loads((out / path.stem / "beats.json").read_text())
        bf, ok = score_beats(ann, beats)
        rows[ann["style"]].append((bf, ok, int(beats.get("beats_per_bar") == ann["beats_per_bar"])))
    print(f"\nextra metres and feels ({args.extra} clips, held-out kits, seed {args.seed})")
    print(f"{'style':<12} {'clips':>5} {'beat F':>7} {'tempo':>6} {'bar length':>11}")
    for style, r in sorted(rows.items()):
        a = np.array(r, dtype=float)
        print(f"{style:<12} {len(r):>5} {a[:, 0].mean():>7.3f} {a[:, 1].mean():>6.2f} "
              f"{a[:, 2].mean():>11.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--unseen", action="store_true",
                    help="the unseen-source set (bench/unseen) instead of held-out kits")
    ap.add_argument("--clips", type=int, default=None, help="default 100 (unseen: 168)")
    ap.add_argument("--seed", type=int, default=None, help="default 2026 (unseen: 2027)")
    ap.add_argument("--duration", type=float, default=12.0)
    ap.add_argument("--models", type=Path, nargs="+", default=None,
                    help="drumnet directories to score on the same clips (default: shipped)")
    ap.add_argument("--no-librosa", action="store_true", help="skip the librosa baseline")
    ap.add_argument("--extra", type=int, default=0, metavar="N",
                    help="also N held-out-kit clips in 3/4, 6/8, hats-intro and swing: beat F, "
                         "tempo and bar length per style")
    ap.add_argument("--keep", type=Path, help="keep the rendered clips and outputs here")
    ap.add_argument("--json", type=Path, default=None,
                    help="also write each model's figures here (with the command and seed); "
                         "the model card includes MODEL_DIR/unseen_validation.json")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides for the CLI run")
    args = ap.parse_args()
    for m in args.models or []:  # nargs="+" also swallows overrides written after it
        if not m.is_dir():
            ap.error(f"--models {m}: not a drumnet directory (write Hydra overrides before "
                     "--models, or after --)")
    args.clips = args.clips or (168 if args.unseen else 100)
    args.seed = args.seed if args.seed is not None else (2027 if args.unseen else 2026)

    work = args.keep or Path(tempfile.mkdtemp(prefix="heihachi-quality-"))
    items = write_set(args, work / "clips")
    lib = None if args.no_librosa else librosa_scores(items)
    name = "unseen sources" if args.unseen else "held-out kits"
    print(f"{len(items)} clips x {args.duration:.0f} s from {name}, seed {args.seed}")
    rows, figures = [], []
    for k, model in enumerate(args.models or [None]):
        over = list(args.overrides) + ([f"drums.model={model.resolve()}"] if model else [])
        # one output folder per model, so runs scoring other models on the same kept
        # clips (at the same time, too) never share one
        out_dir = work / ("out-shipped" if model is None else
                          "out-" + "".join(ch if ch.isalnum() else "_"
                                           for ch in str(model.resolve())))
        run_cli(work / "clips", out_dir, over)
        print(f"\n=== model: {model or 'shipped (default)'} ===")
        tot, fig = report(args, items, out_dir, lib)
        if args.extra:
            extra_block(args, work / f"x{k}", model)
        rows.append((model, tot))
        figures.append({"model": str(model or "shipped"), "figures": fig})
    if args.json:
        from heihachi.runtime.atomic import atomic_write_json

        cmd = "python bench/quality.py " + " ".join(sys.argv[1:])
        atomic_write_json(args.json, {"set": name, "seed": args.seed, "clips": len(items),
                                      "duration_s": args.duration, "command": cmd,
                                      "models": figures})
    if len(rows) > 1:
        print(f"\n{'model':<40} {'mean k/s/h':>10} {'tom':>6} {'cymbal':>7} {'score':>7}")
        for model, tot in rows:
            print(f"{model!s:<40} {mean_ksh(tot):>10.3f} {f_measure(*tot[3]):>6.3f} "
                  f"{f_measure(*tot[4]):>7.3f} {selection_score(tot):>7.3f}")


if __name__ == "__main__":
    main()

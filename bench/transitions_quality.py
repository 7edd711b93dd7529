"""Mix transitions on DJ mixes built from real tracks of Debian's music packages.

Builds ``--mixes`` continuous mixes of ``--tracks`` tracks each (bench/mixes.py: game
soundtracks from singularity-music, hyperrogue-music, asc-music and planetblupi-music-ogg;
beat-matched when tempos allow, cuts, fades and long blends, key clashes, tempo drifting
with each track), runs ``heihachi process`` with the ``transitions`` task (and the beats
it needs), and prints in the same run, beside a novelty baseline (librosa MFCCs once per
second, cosine self-similarity, Foote checkerboard of the same 30 s each side, peaks
with the same 40 s spacing and threshold rule):

- hit rate: the share of true transitions (where the gains cross) with a detected one
  within 5 s and within 15 s (one-to-one matching, mir_eval.util.match_events), and the
  precision at 15 s (detections that are true transitions),
- for the transitions found within 15 s: how often the blend type (cut / fade / long
  blend) and beat-matched or not are right, and the median blend-length error.

    python bench/transitions_quality.py [--mixes 6] [--tracks 7] [--seed 2026]

Needs the four Debian packages above, librosa and mir_eval.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def novelty_baseline(x: np.ndarray, sr: int, kernel_s: int = 30, gap_s: int = 40
                     ) -> np.ndarray:
    import librosa

    hop = sr // 4
    mfcc = librosa.feature.mfcc(y=x, sr=sr, n_mfcc=20, hop_length=hop)
    n = mfcc.shape[1] // 4
    f = mfcc[:, :n * 4].reshape(20, n, 4).mean(axis=2)  # one column per second
    f = (f - f.mean(axis=1, keepdims=True)) / (f.std(axis=1, keepdims=True) + 1e-9)
    f /= np.linalg.norm(f, axis=0, keepdims=True) + 1e-9
    s = f.T @ f
    k = kernel_s
    lag = np.arange(-k, k) + 0.5
    g = np.exp(-(lag / (k / 2)) ** 2)
    kernel = np.outer(np.sign(lag) * g, np.sign(lag) * g)
    nov = np.zeros(n)
    for t in range(k, n - k):
        nov[t] = (s[t - k:t + k, t - k:t + k] * kernel).sum()
    med = np.median(nov)
    mad = 1.4826 * np.median(np.abs(nov - med)) + 1e-9
    level = max(med + mad, 0.1 * nov.max())
    cand = [t for t in range(n) if nov[t] > level
            and nov[t] >= nov[max(0, t - gap_s // 2):t + gap_s // 2 + 1].max()]
    chosen: list[int] = []
    for t in sorted(cand, key=lambda t: -nov[t]):
        if all(abs(t - c) >= gap_s for c in chosen):
            chosen.append(t)
    return np.sort(np.asarray(chosen, dtype=float))


def main(argv: list[str] | None = None) -> int:
    import mir_eval
    import soundfile as sf
    from analysis_common import run_process
    from mixes import SR, build_mix

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mixes", type=int, default=6)
    ap.add_argument("--tracks", type=int, default=7)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--keep", type=Path, help="keep mixes and outputs here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="heihachi-mixes-") as tmp:
        root = args.keep or Path(tmp)
        folder, out = root / "audio", root / "out"
        folder.mkdir(parents=True, exist_ok=True)
        truth = {}
        for m in range(args.mixes):
            x, trans, _ = build_mix(args.seed * 100 + m, args.tracks)
            sf.write(folder / f"mix{m:02d}.wav", x, SR, subtype="FLOAT")
            truth[f"mix{m:02d}"] = (trans, x)
        run_process(folder, out, "transitions")
        tally = {k: [0, 0, 0] for k in ("heihachi", "novelty baseline")}  # h5, h15, n_est
        n_ref = 0
        kind_ok, beat_ok, blend_err = [], [], []
        for name, (trans, x) in truth.items():
            ref = np.array([t.time for t in trans])
            found = json.loads((out / name / "transitions.json").read_text())["transitions"]
            est = np.array([t["time"] for t in found])
            base = novelty_baseline(x, SR)
            n_ref += len(ref)
            for label, e in (("heihachi", est), ("novelty baseline", base)):
                tally[label][0] += len(mir_eval.util.match_events(ref, e, 5.0))
                tally[label][1] += len(mir_eval.util.match_events(ref, e, 15.0))
                tally[label][2] += len(e)
            for i, j in mir_eval.util.match_events(ref, est, 15.0):
                kind_ok.append(found[j]["kind"] == trans[i].kind)
                if found[j]["beatmatched"] is not None:
                    beat_ok.append(found[j]["beatmatched"] == trans[i].beatmatched)
                blend_err.append(abs(found[j]["blend_s"] - trans[i].blend_s))
    print(f"transitions: {args.mixes} mixes of {args.tracks} tracks (seed {args.seed}), "
          f"{n_ref} transitions")
    print(f"{'':20}{'within 5 s':>12}{'within 15 s':>13}{'precision@15':>14}")
    for label, (h5, h15, ne) in tally.items():
        target = "   target >= 0.90, ahead" if label == "heihachi" else ""
        print(f"{label:20}{h5 / n_ref:>12.3f}{h15 / n_ref:>13.3f}{h15 / max(ne, 1):>14.3f}"
              f"{target}")
    if kind_ok:
        print(f"found transitions: blend type right {np.mean(kind_ok):.3f}, beat-matched right "
              f"{np.mean(beat_ok) if beat_ok else float('nan'):.3f}, median blend-length "
              f"error {np.median(blend_err):.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Isolated one-shots of unseen sound sources: drumnet through the CLI vs MFCC + logistic
regression trained on drumnet's training sources, in the same run.

Every velocity layer of every instrument of the unseen-source kits (``bench/unseen``:
the OPL3 FM SoundFont, the Sonivox EAS wavetable, four physically modelled kits) is
written as its own file (0.5 s of silence, the trimmed one-shot, silence to 2.5 s).
``hf analyze-drums`` runs on the folder; the answer for a file is the class of its most
confident hit within 50 ms of the onset (no hit there counts as wrong).

The baseline is the obvious 20-line classifier: the mean and standard deviation of 20
MFCCs (and of their deltas) over the first 250 ms, standardised, then a multinomial
logistic regression (scikit-learn), trained on every one-shot drumnet trains on: each
velocity layer of the Hydrogen training kits and of the FluidR3 / TimGM6mb SoundFont
kits, plus 100 draws per class of each synthesis (``synth.py`` and ``voices.py``).

Prints the accuracy of both with 95 % bootstrap intervals (one-shots resampled), per
class and per family, drumnet's confusion matrix, and the issue-15 targets
(accuracy >= 0.90 and >= the baseline + 0.05).

    python bench/oneshots.py [--models DIR ...] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CLASSES = ("kick", "snare", "hihat", "tom", "cymbal")
SR = 24_000
LEAD_S = 0.5
FILE_S = 2.5


def unseen_one_shots() -> list[tuple[str, str, np.ndarray]]:
    """[(kit, class, audio)] for every velocity layer of every unseen instrument."""
    from unseen.sources import ALL_KITS, load_unseen_bank

    out = []
    for kit in ALL_KITS:
        for cls, instruments in load_unseen_bank(kit).items():
            for layers in instruments:
                for s in layers:
                    out.append((kit, cls, s.audio))
    return out


def training_one_shots() -> list[tuple[str, np.ndarray]]:
    from heihachi_train.drumnet import kits, soundfonts
    from heihachi_train.drumnet.samples import load_bank
    from heihachi_train.drumnet.synth import synth_one_shot
    from heihachi_train.drumnet.voices import voice_one_shot

    out = []
    for kit in (*kits.TRAIN_KITS, *soundfonts.SOUNDFONT_KITS):
        for cls, instruments in load_bank(kit).items():
            out += [(cls, s.audio) for layers in instruments for s in layers]
    for make in (synth_one_shot, voice_one_shot):
        for cls in CLASSES:
            out += [(cls, make(cls, np.random.default_rng([11, k]))) for k in range(100)]
    return out


def mfcc_features(x: np.ndarray) -> np.ndarray:
    import librosa

    y = np.zeros(int(0.25 * SR), np.float32)
    y[: min(len(x), len(y))] = x[: len(y)]
    m = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=20, n_fft=1024, hop_length=240)
    d = librosa.feature.delta(m, width=5)
    return np.concatenate([m.mean(1), m.std(1), d.mean(1), d.std(1)])


def baseline_predictions(train, test_audio) -> list[str]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.stack([mfcc_features(a) for _, a in train])
    y = [c for c, _ in train]
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=1.0))
    clf.fit(X, y)
    return list(clf.predict(np.stack([mfcc_features(a) for a in test_audio])))


def write_files(shots, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (_, _, a) in enumerate(shots):
        y = np.zeros(int(FILE_S * SR), np.float32)
        s = int(LEAD_S * SR)
        m = min(len(a), len(y) - s)
        y[s : s + m] = a[:m] * 0.5
        p = folder / f"shot{i:04d}.wav"
        sf.write(p, y, SR, subtype="FLOAT")
        paths.append(p)
    return paths


def drumnet_predictions(folder: Path, paths: list[Path], out: Path,
                        model: Path | None, overrides: list[str] = ()) -> list[str]:
    cmd = [sys.executable, "-m", "heihachi", "hf", "analyze-drums", str(folder), "-o", str(out),
           "-q", "output.formats=[json]", "drums.beats=false", *overrides]
    if model is not None:
        cmd.append(f"drums.model={model.resolve()}")
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"heihachi failed ({run.returncode}):\n{run.stderr[-2000:]}")
    preds = []
    for p in paths:
        hits = json.loads((out / p.stem / "drums.json").read_text())["hits"]
        near = [h for h in hits if abs(h["time"] - LEAD_S) <= 0.05]
        preds.append(max(near, key=lambda h: h["confidence"])["class"] if near else "none")
    return preds


def acc_interval(correct: np.ndarray, n: int = 2000) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    m = correct[rng.integers(0, len(correct), size=(n, len(correct)))].mean(axis=1)
    lo, hi = np.percentile(m, [2.5, 97.5])
    return float(lo), float(hi)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, nargs="+", default=None,
                    help="drumnet directories (default: the shipped model)")
    ap.add_argument("--keep", type=Path, help="keep the files and outputs here")
    ap.add_argument("overrides", nargs="*", help="Hydra overrides for the CLI run")
    ap.add_argument("--json", type=Path, default=None,
                    help="also write the figures here (the model card includes "
                         "MODEL_DIR/oneshots.json)")
    args = ap.parse_args()
    for m in args.models or []:  # nargs="+" also swallows overrides written after it
        if not m.is_dir():
            ap.error(f"--models {m}: not a drumnet directory (write Hydra overrides before "
                     "--models, or after --)")

    from unseen.sources import family_of

    shots = unseen_one_shots()
    work = args.keep or Path(tempfile.mkdtemp(prefix="heihachi-oneshots-"))
    paths = write_files(shots, work / "shots")
    truth = np.array([c for _, c, _ in shots])
    fams = np.array([family_of(k) for k, _, _ in shots])
    base = np.array(baseline_predictions(training_one_shots(), [a for _, _, a in shots]))
    b_ok = base == truth
    print(f"{len(shots)} isolated one-shots of unseen sources "
          f"({', '.join(f'{c} {int((truth == c).sum())}' for c in CLASSES)})")
    doc = []
    for k, model in enumerate(args.models or [None]):
        pred = np.array(drumnet_predictions(work / "shots", paths, work / f"out{k}", model,
                                            args.overrides))
        ok = pred == truth
        acc, bacc = float(ok.mean()), float(b_ok.mean())
        print(f"\n=== model: {model or 'shipped (default)'} ===")
        print(f"{'':<22} {'accuracy':>9} {'95% interval':>16}")
        for name, a, c in (("drumnet (CLI)", acc, ok), ("MFCC + LR baseline", bacc, b_ok)):
            lo, hi = acc_interval(c)
            print(f"{name:<22} {a:>9.3f} {f'[{lo:.3f}, {hi:.3f}]':>16}")
        print(f"target: accuracy >= 0.90: {'met' if acc >= 0.9 else 'NOT met'}; "
              f">= baseline + 0.05 ({bacc + 0.05:.3f}): "
              f"{'met' if acc >= bacc + 0.05 else 'NOT met'}")
        print(f"\n{'class / family':<16} {'n':>4} {'drumnet':>8} {'baseline':>9}")
        for name, mask in [*((c, truth == c) for c in CLASSES),
                           *((f, fams == f) for f in sorted(set(fams)))]:
            print(f"{name:<16} {int(mask.sum()):>4} {ok[mask].mean():>8.3f} "
                  f"{b_ok[mask].mean():>9.3f}")
        doc.append({"model": str(model or "shipped"), "n": len(shots), "accuracy": acc,
                    "accuracy_95": list(acc_interval(ok)), "baseline": bacc,
                    "baseline_95": list(acc_interval(b_ok)),
                    "per_class": {c: float(ok[truth == c].mean()) for c in CLASSES}})
        cols = (*CLASSES, "none")
        print("\nconfusion (rows: truth, columns: drumnet's top hit)")
        print(f"{'':<8}" + "".join(f"{c:>8}" for c in cols))
        for c in CLASSES:
            print(f"{c:<8}" + "".join(f"{int(((truth == c) & (pred == p)).sum()):>8}"
                                      for p in cols))
    if args.json:
        from heihachi.runtime.atomic import atomic_write_json

        atomic_write_json(args.json, {"command": "python bench/oneshots.py "
                                      + " ".join(sys.argv[1:]), "models": doc})


if __name__ == "__main__":
    main()

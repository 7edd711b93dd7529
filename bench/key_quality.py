"""Key detection on clips rendered in known keys with General MIDI SoundFonts.

Renders ``--clips`` clips (bench/key_renders.py: chord progressions on pads/keys/strings,
bass lines on the roots, arpeggios and leads, half with GM drums, 100-175 BPM, spread
evenly over the 24 keys, alternating FluidR3_GM and TimGM6mb), runs ``heihachi process``
with the ``key`` task (which brings drums, beats and sections: the phrase starts the
key detector weighs come from them), and prints in the same run, beside a librosa
baseline (``chroma_cqt`` averaged over the clip, Krumhansl-Kessler profiles, Pearson
correlation: the classic Krumhansl-Schmuckler method):

- the MIREX weighted score (mir_eval.key.weighted_score: 1 exact, 0.5 fifth, 0.3
  relative, 0.2 parallel),
- the share of exact answers,
- the score per progression (some start away from the tonic on purpose),
- the default detector without phrase weighting (``phrase_weight=0``), to show what the
  phrase prior adds and where it costs.

    python bench/key_quality.py [--clips 96] [--seed 2026]

Needs fluidsynth and Debian's fluid-soundfont-gm + timgm6mb-soundfont. The default seed
is not one the detector was tuned on (7 and 8 were).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def krumhansl_baseline(x: np.ndarray, sr: int) -> str:
    import librosa

    from heihachi.music.key import PROFILES, key_name

    c = librosa.feature.chroma_cqt(y=x, sr=sr).mean(axis=1)
    best = (-2.0, 0, "major")
    for mode, prof in zip(("major", "minor"), PROFILES["krumhansl"], strict=True):
        for tonic in range(12):
            r = float(np.corrcoef(c, np.roll(np.asarray(prof), tonic))[0, 1])
            if r > best[0]:
                best = (r, tonic, mode)
    return key_name(best[1], best[2])


def without_phrases(x: np.ndarray, sr: int) -> str:
    import torch

    from heihachi.plugins.music_dsp import ProfileKeyDetector
    from heihachi.tasks import AudioBatch

    det = ProfileKeyDetector(ProfileKeyDetector.Config(phrase_weight=0.0))
    frames = det.key_frames(AudioBatch(torch.from_numpy(x)[None], [len(x)], sr, [0.0]))[0]
    est = det.estimate(frames)
    return est.key if est is not None else "N"


def main(argv: list[str] | None = None) -> int:
    import mir_eval
    import soundfile as sf
    from analysis_common import run_process
    from key_renders import SR, key_set, render_key_clip

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=96)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--keep", type=Path, help="keep renders and outputs here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="heihachi-key-") as tmp:
        root = args.keep or Path(tmp)
        folder, out = root / "audio", root / "out"
        folder.mkdir(parents=True, exist_ok=True)
        clips = {}
        for i, tonic, mode in key_set(args.clips, args.seed):
            clip = render_key_clip(args.seed, i, tonic, mode)
            name = f"clip{i:03d}"
            sf.write(folder / f"{name}.wav", clip.audio, SR, subtype="FLOAT")
            clips[name] = clip
        run_process(folder, out, "key")
        scores: dict[str, list[float]] = defaultdict(list)
        by_prog: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for name, clip in clips.items():
            doc = json.loads((out / name / "key.json").read_text())
            ours = doc["key"] or "N"
            guesses = {"heihachi": ours, "librosa KS": krumhansl_baseline(clip.audio, SR),
                       "heihachi, no phrase weight": without_phrases(clip.audio, SR)}
            prog = clip.description.split()[0].split("=")[1]
            for k, g in guesses.items():
                s = float(mir_eval.key.weighted_score(clip.key, g)) if g != "N" else 0.0
                scores[k].append(s)
                by_prog[k][prog].append(s)
    print(f"key: {args.clips} clips over 24 keys (seed {args.seed}), GM SoundFonts")
    print(f"{'':28}{'weighted':>10}{'exact':>8}")
    for k, v in scores.items():
        target = "   target >= 0.85, ahead of librosa KS" if k == "heihachi" else ""
        print(f"{k:28}{np.mean(v):>10.3f}{np.mean(np.asarray(v) == 1.0):>8.3f}{target}")
    progs = sorted(by_prog["heihachi"])
    print("per progression (weighted):", "  ".join(progs))
    for k in scores:
        print(f"  {k:26}", "  ".join(f"{np.mean(by_prog[k][p]):.2f}" for p in progs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

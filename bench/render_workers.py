"""Rendering drumnet's training clips in worker processes against one process.

Baseline (same script, same clips): ``render.render_set(..., workers=1)``, the loop every
training before this option used.  Candidate: the same call with ``--workers`` processes
(``train.py --render-workers``, default every usable CPU).  Both render the shipped
drumnet-v4 recipe's training options; the bench checks that the two lists of clips are
identical (audio bit for bit, annotations equal) and prints clips per second for each
and the speed ratio.  Each run starts cold (every process loads its own drum banks and
beds), as a training does.

    python bench/render_workers.py [--clips 640] [--workers 2]

Needs Debian's hydrogen-drumkits (and, for the recipe's extra kits and beds,
fluid-soundfont-gm, timgm6mb-soundfont, hydrogen-drumkits-effects, klettres-data,
ktuberling-data).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def recipe_options() -> tuple[tuple[str, ...], dict]:
    """The training kits and render options of drumnet-v4's recipe."""
    from heihachi_train.drumnet import kits
    from heihachi_train.drumnet.soundfonts import expand_kits

    train_kits = (*kits.TRAIN_KITS, *expand_kits("fluidr3,timgm6mb"))
    opts = {"sample_aug_p": 0.6, "synth_p": 0.3, "lofi_p": 0.3,
            "lofi_classes": ("kick", "snare"), "voices_p": 0.3, "layer_p": 0.2,
            "layer_kits": train_kits, "wide_pitch": True, "chain_p": 0.6,
            "contrast_p": 0.25, "extra_styles_p": 0.2, "real_beds_p": 0.7,
            "negatives_p": 0.03, "isolated_p": 0.2, "thin_p": 0.08, "pluck_p": 0.4}
    return train_kits, opts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=640)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=10_003)
    args = ap.parse_args()
    from heihachi_train.drumnet import render

    train_kits, opts = recipe_options()
    runs = {}
    for label, workers in (("one process", 1), (f"{args.workers} workers", args.workers)):
        t0 = time.perf_counter()
        clips = render.render_set(args.clips, args.seed, train_kits, duration=4.0,
                                  workers=workers, **opts)
        runs[label] = (time.perf_counter() - t0, clips)
    (t1, a), (t2, b) = runs.values()
    same = all(np.array_equal(x[0], y[0]) and x[2] == y[2] for x, y in zip(a, b, strict=True))
    for label, (t, _clips) in runs.items():
        print(f"{label:>12}: {args.clips} clips of 4 s in {t:6.1f} s = {args.clips / t:5.1f} "
              "clips/s")
    print(f"speed ratio (workers / one process): {t1 / t2:.2f}x; clips identical: {same}")
    if not same:
        raise SystemExit("the workers rendered other clips than one process")


if __name__ == "__main__":
    main()

"""Rendering drumnet's training clips in worker processes against one process.

Baseline (same script, same clips): ``render.render_set(..., workers=1)``, the loop every
training before this option used.  Candidate: the same call with ``--workers`` processes
(``train.py --render-workers``, default every usable CPU).  Both render the shipped
drumnet-v4 recipe's training options (read from its metrics.json); the bench checks
that the two lists of clips are identical (audio bit for bit, annotations equal) and
prints clips per second for each and the speed ratio.  Each run starts cold (every
process loads its own drum banks and beds), as a training does.

    python bench/render_workers.py [--clips 640] [--workers 2]

Needs Debian's hydrogen-drumkits (and, for the recipe's extra kits and beds,
fluid-soundfont-gm, timgm6mb-soundfont, hydrogen-drumkits-effects, klettres-data,
ktuberling-data).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHIPPED = ROOT / "models_cache" / "heihachi" / "drumnet-v4"


#: The render options a recipe's metrics.json records under render_clip's own names.
RENDER_KEYS = ("sample_aug_p", "synth_p", "lofi_p", "voices_p", "layer_p", "chain_p",
               "contrast_p", "extra_styles_p", "real_beds_p", "negatives_p", "isolated_p",
               "thin_p", "pluck_p", "metal_p")


def recipe_options(model: Path = SHIPPED) -> tuple[tuple[str, ...], dict]:
    """The training kits and render options of a shipped model's recipe, read from its
    metrics.json (options left off are not passed, as train.py does)."""
    from heihachi_train.drumnet import kits
    from heihachi_train.drumnet.soundfonts import expand_kits

    m = json.loads((model / "metrics.json").read_text())
    train_kits = (*kits.TRAIN_KITS, *expand_kits(m.get("extra_kits_arg", "")))
    opts = {k: m[k] for k in RENDER_KEYS if m.get(k)}
    opts |= {"lofi_classes": tuple(m.get("lofi_classes", ())), "layer_kits": train_kits,
             "wide_pitch": m.get("pitch_range") == "wide"}
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

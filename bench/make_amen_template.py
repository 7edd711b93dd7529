"""Build heihachi/music/amen_template.json from the project's own drum renders.

Renders clips of the drumnet renderer (:func:`heihachi_train.drumnet.render.render_clip`,
training kits only, so the bench's held-out kits stay unseen) in the ``amen`` style and
in every other style with a metre (dnb, halftime, breakbeat, hiphop, house, rock), puts
each clip's labelled kick and snare hits on the 16-step grid of its labelled bars, and
writes how often each step holds a kick or a snare, per group; and, in ``amen_any`` /
``other_any``, how often it holds a hit of any class (hats and cymbals too): a
transcriber that hears a ghost snare as a hi-hat still puts a hit on that step. Swing,
micro-timing, fills, ghost notes and muted classes of the renders are all in there.

    python bench/make_amen_template.py [--clips 300] [--seed 77]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OTHER_STYLES = ("dnb", "halftime", "breakbeat", "hiphop", "house", "rock")
OUT = ROOT / "heihachi" / "music" / "amen_template.json"


def style_counts(style: str, clips: int, seed: int) -> tuple[np.ndarray, int]:
    """``([3, 16] kick / snare / any-class step counts, bars)`` over ``clips`` renders of
    ``style``."""
    from heihachi.music.breaks import bar_steps
    from heihachi_train.drumnet.kits import TRAIN_KITS
    from heihachi_train.drumnet.render import render_clip

    counts = np.zeros((3, 16))
    bars = 0
    for i in range(clips):
        rng = np.random.default_rng([seed, i, len(style)])
        _, _, ann = render_clip(rng, TRAIN_KITS, duration=12.0, style=style, augment_p=0.0)
        db = np.asarray(ann["downbeats"])
        if len(db) < 2:
            continue
        ends = np.append(db[1:], db[-1] + np.median(np.diff(db)))
        hits = ann["hits"]
        grid = bar_steps(np.array([h[0] for h in hits]), np.array([h[1] for h in hits]),
                         db, ends)
        counts += grid.sum(axis=0)
        bars += len(db)
    return counts, bars


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=300, help="clips per style group")
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    amen, amen_bars = style_counts("amen", args.clips, args.seed)
    other = np.zeros((3, 16))
    other_bars = 0
    per = max(1, args.clips // len(OTHER_STYLES))
    for style in OTHER_STYLES:
        c, b = style_counts(style, per, args.seed)
        other += c
        other_bars += b
    doc = {
        "about": "kick (row 0) and snare (row 1) occupancy of each 16th step of a 4/4 bar "
                 "in the project's drum renders: Amen breaks vs every other style",
        "made_by": f"python bench/make_amen_template.py --clips {args.clips} --seed {args.seed}",
        "bars": {"amen": amen_bars, "other": other_bars},
        "amen": np.round(amen[:2] / max(amen_bars, 1), 4).tolist(),
        "other": np.round(other[:2] / max(other_bars, 1), 4).tolist(),
        "amen_any": np.round(amen[2] / max(amen_bars, 1), 4).tolist(),
        "other_any": np.round(other[2] / max(other_bars, 1), 4).tolist(),
    }
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {args.out} ({amen_bars} Amen bars, {other_bars} other bars)")
    for name in ("amen", "other"):
        for row, cls in enumerate(("kick", "snare")):
            print(f"{name:>5} {cls:<5}", " ".join(f"{v:.2f}" for v in doc[name][row]))
        print(f"{name:>5} any  ", " ".join(f"{v:.2f}" for v in doc[name + "_any"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

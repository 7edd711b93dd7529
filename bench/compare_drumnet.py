"""Score drumnet candidates side by side on fresh validation renders of the held-out kits.

Choosing between trained drum models on the 100-clip validation set that training
reports (seed 4321) is noisy: two seeds of one recipe differ by about .01 on the mean
kick/snare/hi-hat F and .04 on tom.  This script renders a larger, fresh validation set
(never the bench's seed 2026, nor the tuning seed 1234 or the card's 4321) and scores
every model given with its own saved thresholds, through the same ``train.evaluate``
that training uses, so a decision can rest on more clips without touching the bench.
The first model is the baseline; the other rows print their difference from it.

    python bench/compare_drumnet.py models_cache/heihachi/drumnet-v1 RUN_DIR... \\
        [--seed 9999] [--clips 300]

Needs Debian's hydrogen-drumkits + hydrogen-data, and mir_eval.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # heihachi_train: from the checkout

RESERVED_SEEDS = {1234: "threshold tuning", 4321: "the model card", 2026: "bench/quality.py"}
COLUMNS = ("kick", "snare", "hihat", "tom", "cymbal")


def score(model_dir: Path, clips) -> dict[str, float]:
    from heihachi.plugins.drumnet.model import load_drumnet
    from heihachi_train.drumnet import train

    model = load_drumnet(model_dir)
    cfg = json.loads((model_dir / "config.json").read_text())
    outs = train.run_model(model, clips)  # inference without gradients
    res = train.evaluate(outs, clips, model.fps, cfg["thresholds"],
                         cfg.get("beat_threshold", 0.5), suppress=cfg.get("suppress"))
    row = {c: res["onset_f"][c] for c in COLUMNS}
    row["mean k/s/h"] = res["onset_f_mean_kick_snare_hihat"]
    row["beat F"] = res["beat_f_metrical_styles"]
    row["tempo"] = res["tempo_acc_metrical_styles"]
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", type=Path, help="model directories; first = baseline")
    ap.add_argument("--seed", type=int, default=9999)
    ap.add_argument("--clips", type=int, default=300)
    ap.add_argument("--json", type=Path, default=None,
                    help="also write the unrounded figures here ({seed, clips, models: "
                         "[{model, figures}]}), e.g. to average several seeds")
    args = ap.parse_args(argv)
    if args.seed in RESERVED_SEEDS:
        ap.error(f"seed {args.seed} is used by {RESERVED_SEEDS[args.seed]}; pick a fresh one")
    for d in args.models:
        if not (d / "model.safetensors").is_file() or not (d / "config.json").is_file():
            ap.error(f"{d}: not a drumnet directory (model.safetensors + config.json)")

    import torch

    from heihachi_train.drumnet import render

    torch.set_num_threads(1)
    print(f"rendering {args.clips} clips of 8 s from the held-out kits, seed {args.seed}",
          file=sys.stderr)
    clips = render.render_validation_set(args.clips, args.seed)
    rows = []
    for d in args.models:
        print(f"scoring {d}", file=sys.stderr)
        rows.append(score(d, clips))
    keys = list(rows[0])
    width = max(len(str(d)) for d in args.models)
    print(f"{'model':<{width}}  " + "  ".join(f"{k:>14}" for k in keys))
    for i, (d, row) in enumerate(zip(args.models, rows, strict=True)):
        cells = [f"{row[k]:14.3f}" if i == 0
                 else f"{row[k]:.3f} ({row[k] - rows[0][k]:+.3f})".rjust(14) for k in keys]
        print(f"{d!s:<{width}}  " + "  ".join(cells))
    print("(beat F and tempo on the clips with a metre; onset F pooled over clips, 50 ms; "
          "rows after the first: figure and difference from the first)")
    if args.json:
        from heihachi.runtime.atomic import atomic_write_json

        doc = {"seed": args.seed, "clips": args.clips,
               "models": [{"model": str(d), "figures": row}
                          for d, row in zip(args.models, rows, strict=True)]}
        atomic_write_json(args.json, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Retrain a shipped drumnet from scratch, every fine-tuning stage in order, and check
that each stage's weights come out byte-identical to the shipped ones.

    python -m heihachi_train.drumnet.reproduce models_cache/heihachi/drumnet-v4 --out DIR
    python -m heihachi_train.drumnet.reproduce models_cache/heihachi/drumnet-v4 --dry-run
    python -m heihachi_train.drumnet.reproduce models_cache/heihachi/drumnet-v4 --out DIR --last

A shipped model fine-tuned with ``--init`` names its initial weights in its
``metrics.json`` (the training command and the initial weights' sha256); this follows
that chain back to the model trained from random weights and replays the commands,
oldest first, each stage starting from the previous stage's *reproduced* weights in
``--out``.  ``--last`` replays only the final stage, from the shipped initial weights.

Before training, the chain itself is checked: each stage's recorded ``init_sha256`` must
be the sha256 of the shipped weights it names (a mismatch means a shipped file was
replaced without retraining what depends on it).  Exit codes: 0 every stage matched,
1 a stage's weights differ, 2 the shipped chain is inconsistent or incomplete.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from heihachi.runtime.inputs import content_hash

from .options import init_sha

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stage:
    """One shipped model and the command that trained it."""

    directory: Path
    argv: list[str]
    init: Path | None  # the shipped initial weights' directory, or None (random init)
    init_sha256: str | None

    @property
    def name(self) -> str:
        return self.directory.name


def _flag(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


def _resolve(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else ROOT / p


def load_chain(model_dir: Path) -> list[Stage]:
    """The stages that lead to ``model_dir``, oldest first.

    Raises:
        SystemExit(2): a metrics.json is missing or unreadable, an initial model is
            not shipped, the chain loops, or a recorded init sha256 does not match.
    """
    chain: list[Stage] = []
    seen: set[Path] = set()
    current: Path | None = model_dir.resolve()
    while current is not None:
        if current in seen:
            print(f"error: {current.name}'s --init chain loops back to itself", file=sys.stderr)
            raise SystemExit(2)
        seen.add(current)
        metrics = current / "metrics.json"
        try:
            doc = json.loads(metrics.read_text())
            argv = [str(a) for a in doc["argv"]]
        except (OSError, ValueError, KeyError) as e:
            print(f"error: {metrics}: no training command ({e}); retrain it with "
                  "heihachi_train.drumnet.train, which writes one", file=sys.stderr)
            raise SystemExit(2) from None
        init = _flag(argv, "--init")
        init_dir = _resolve(init).resolve() if init else None
        if init_dir is not None and not (init_dir / "model.safetensors").is_file():
            print(f"error: {current.name} was fine-tuned from {init}, which is not shipped "
                  "here", file=sys.stderr)
            raise SystemExit(2)
        chain.append(Stage(current, argv, init_dir, doc.get("init_sha256")))
        current = init_dir
    chain.reverse()
    for stage in chain:
        if stage.init is None:
            continue
        actual = init_sha(str(stage.init))  # what train.py records as init_sha256
        if stage.init_sha256 and actual != stage.init_sha256:
            print(f"error: {stage.name} was trained from {stage.init.name} with sha256 "
                  f"{stage.init_sha256[:12]}..., but the shipped {stage.init.name} is "
                  f"{actual[:12]}...: retrain {stage.name} from it", file=sys.stderr)
            raise SystemExit(2)
    return chain


def stage_argv(stage: Stage, out: Path, init: Path | None) -> list[str]:
    """``stage``'s training command with ``--out`` (and ``--init``) moved to ``out``."""
    argv = list(stage.argv)
    argv[argv.index("--out") + 1] = str(out)
    if init is not None:
        argv[argv.index("--init") + 1] = str(init)
    return argv


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path, help="a shipped model directory")
    ap.add_argument("--out", type=Path, help="write each reproduced stage to OUT/<name>")
    ap.add_argument("--last", action="store_true",
                    help="replay only the final stage, from the shipped initial weights")
    ap.add_argument("--dry-run", action="store_true", help="print the commands, train nothing")
    args = ap.parse_args(argv)
    if not args.dry_run and args.out is None:
        ap.error("--out DIR is required unless --dry-run")
    chain = load_chain(args.model)
    if args.last:
        chain = chain[-1:]
    out = args.out or Path("OUT")
    previous: Path | None = chain[0].init
    failed = []
    for i, stage in enumerate(chain, 1):
        target = out / stage.name
        cmd = [sys.executable, "-m", "heihachi_train.drumnet.train",
               *stage_argv(stage, target, previous if stage.init else None)]
        print(f"[{i}/{len(chain)}] {stage.name}: {' '.join(cmd[1:])}", flush=True)
        previous = target
        if args.dry_run:
            continue
        t0 = time.time()
        run = subprocess.run(cmd, cwd=ROOT)
        if run.returncode != 0:
            print(f"error: training {stage.name} failed ({run.returncode})", file=sys.stderr)
            return 1
        want = content_hash(stage.directory / "model.safetensors")
        got = content_hash(target / "model.safetensors")
        same = want == got
        print(f"[{i}/{len(chain)}] {stage.name}: {time.time() - t0:.0f} s, sha256 {got[:16]} "
              f"{'== shipped' if same else '!= shipped ' + want[:16]}", flush=True)
        if not same:
            failed.append(stage.name)
    if failed:
        print(f"not byte-identical: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

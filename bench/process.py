"""`heihachi process` on a long mix: x real time, peak RSS, and decoding once vs per task.

Builds a continuous mix (44.1 kHz stereo FLAC) from held-out-kit renders (tempos
80-180 BPM, DnB-heavy; see bench/long_mix.py), then in the same run:

- ``python -m heihachi process MIX`` with the default tasks (those installed), timed,
  peak RSS summed over its process tree (decoding worker included), sampled every 0.1 s;
- baseline: the same tasks one command at a time, each command decoding the file
  itself (``--step TASK``: one task per process; ``beats`` runs its own model pass as
  ``hf beats`` does; a task's required results are handed over from the earlier
  steps, so no work is done twice except the decode and the beat model).

Prints x real time and peak RSS of both and the speed ratio; run at two lengths to see
memory stay flat:

    python bench/process.py --minutes 10 60
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # heihachi_train, bench
sys.path.insert(0, str(Path(__file__).resolve().parent))


def build_mix(path: Path, minutes: float, seed: int = 7, rate: int = 44_100) -> float:
    """Write ``minutes`` of rendered clips as 44.1 kHz stereo FLAC (a DJ mix's format)."""
    import soxr

    from heihachi_train.drumnet.render import render_validation_set

    clips = render_validation_set(16, seed=seed, duration=30.0)
    stereo = []
    for audio, sr, *_ in clips:
        x = soxr.resample(np.asarray(audio, np.float32), sr, rate)
        stereo.append(np.stack([x, np.roll(x, 7) * 0.95], axis=1).astype(np.float32))
    total = int(minutes * 60 * rate)
    written = 0
    with sf.SoundFile(path, "w", samplerate=rate, channels=2, format="FLAC",
                      subtype="PCM_16") as f:
        i = 0
        while written < total:
            chunk = stereo[i % len(stereo)][: total - written]
            f.write(chunk)
            written += len(chunk)
            i += 1
    return written / rate


def measure(cmd: list[str]) -> tuple[float, int, float]:
    """Wall time, peak RSS of the process tree (sampled every 0.1 s) and CPU seconds
    (user + system of the command and every process it started)."""
    import resource

    from long_mix import measure as wall_and_peak

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, peak = wall_and_peak(cmd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, peak, cpu


def cli_process(mix: Path, out: Path, overrides: list[str]) -> tuple[float, int, float]:
    return measure([sys.executable, "-m", "heihachi", "process", str(mix), "-o", str(out),
                    "-q", "--overwrite", "process.report=false", *overrides])


def task_order(overrides: list[str]) -> list[str]:
    """The tasks `process` runs with these overrides, in dependency order."""
    from heihachi.config import compose
    from heihachi.process.pipeline import build_run

    cfg, choices = compose(overrides)
    _ctx, tasks, _opts = build_run(cfg, choices, overrides, None, False, False)
    return [t.name for t in tasks]


def step(task: str, mix: Path, state: Path, overrides: list[str]) -> None:
    """One baseline command: decode ``mix`` and run ``task`` alone on it."""
    from heihachi.config import compose
    from heihachi.process.pipeline import ProcessOptions, ProcessRunner
    from heihachi.process.registry import task_registry
    from heihachi.process.task import ProcessContext, ProcessTask, TaskResult
    from heihachi.runtime.placement import place
    from heihachi.runtime.runner import RunOptions

    overrides = [*overrides, "process.settings.beats.from_drums=false"]
    cfg, choices = compose(overrides)
    rt = cfg.runtime
    out = state / f"out_{task}"
    ctx = ProcessContext(cfg=cfg, choices=choices, overrides=overrides,
                         options=RunOptions(output_dir=out, batch_size=rt.batch_size,
                                            formats=["json"]))
    ctx.placement = place(rt.device, rt.precision, rt.threads, 1)
    main = task_registry()[task](ctx)
    given = []
    for dep in main.requires:
        result = pickle.loads((state / f"{dep}.pkl").read_bytes())

        class Given(ProcessTask):
            name = dep

            def __init__(self, context: ProcessContext) -> None:
                self.context, self.config = context, None  # no settings of its own

            def finish(self, results: dict[str, Any], _r: Any = result) -> TaskResult:
                return TaskResult(_r, write_json=False)

        given.append(Given(ctx))
    got: dict[str, Any] = {}
    runner = ProcessRunner([*given, main], ctx, ProcessOptions(out, progress=False,
                                                               report=False),
                           on_track=lambda _t, res: got.update(res))
    summary = runner.run([mix])
    if summary.failed:
        raise SystemExit(summary.entries[0].error)
    (state / f"{task}.pkl").write_bytes(pickle.dumps(got[task]))


def baseline(mix: Path, state: Path, tasks: list[str], overrides: list[str]
             ) -> tuple[float, int, float]:
    wall, peak, cpu = 0.0, 0, 0.0
    for t in tasks:
        w, p, c = measure([sys.executable, __file__, "--step", t, "--mix", str(mix),
                           "--state", str(state), *overrides])
        print(f"    baseline step {t:<12} {w:7.1f} s wall {c:7.1f} s CPU {p / 2**20:6.0f} MB",
              flush=True)
        wall, peak, cpu = wall + w, max(peak, p), cpu + c
    return wall, peak, cpu


def task_seconds(track_dir: Path) -> str:
    """Seconds each task spent in the main process (analysis.json), for the record."""
    import json

    doc = track_dir / "analysis.json"
    if not doc.is_file():
        return ""
    tasks = json.loads(doc.read_text())["tasks"]
    return ", ".join(f"{n} {e['seconds']:.0f}s" for n, e in tasks.items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    ap.add_argument("--no-baseline", action="store_true",
                    help="Only time `process` (memory at several lengths).")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--mix", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    args, overrides = ap.parse_known_args()
    if args.step:
        step(args.step, args.mix, args.state, overrides)
        return
    tasks = task_order(overrides)
    print(f"tasks: {', '.join(tasks)}; cpus: {len(os.sched_getaffinity(0))}; "
          f"load average at start: {os.getloadavg()[0]:.1f}")
    print("x RT = audio seconds per wall second; CPU x RT = audio seconds per CPU second "
          "(user+system, all processes): what the work costs, whatever else runs")
    print(f"{'length':>8} {'process':>9} {'x RT':>6} {'CPU x RT':>9} {'peak RSS':>9} "
          f"{'one task/cmd':>13} {'x RT':>6} {'CPU x RT':>9} {'peak RSS':>9} "
          f"{'speed-up':>9} {'CPU ratio':>10}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            mix = Path(tmp) / f"mix_{minutes:g}min.flac"
            seconds = build_mix(mix, minutes)
            t0 = time.time()
            ours, peak, cpu = cli_process(mix, Path(tmp) / "out", overrides)
            print(f"    process: {ours:.1f} s wall, {cpu:.1f} s CPU; in the main process: "
                  f"{task_seconds(Path(tmp) / 'out' / mix.stem)}", flush=True)
            line = (f"{minutes:>6g} m {ours:>8.1f}s {seconds / ours:>6.1f} {seconds / cpu:>9.1f} "
                    f"{peak / 2**20:>7.0f}MB")
            print(f"    process: peak RSS {peak / 2**20:.0f} MB (x RT {seconds / ours:.1f}, "
                  f"CPU x RT {seconds / cpu:.1f})", flush=True)
            if not args.no_baseline:
                state = Path(tmp) / f"state_{minutes:g}"
                state.mkdir()
                theirs, their_peak, their_cpu = baseline(mix, state, tasks, overrides)
                line += (f" {theirs:>12.1f}s {seconds / theirs:>6.1f} "
                         f"{seconds / their_cpu:>9.1f} {their_peak / 2**20:>7.0f}MB "
                         f"{theirs / ours:>8.2f}x {their_cpu / cpu:>9.2f}x")
            print(line + f"   (load average now {os.getloadavg()[0]:.1f}, "
                         f"{time.time() - t0:.0f} s)", flush=True)
            mix.unlink()


if __name__ == "__main__":
    main()

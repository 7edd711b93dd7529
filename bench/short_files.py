"""Files per second of `hf analyze-drums` on one-shots: default formats vs JSON only.

A producer sorting a sample library runs thousands of short files. Plots cost about a
second a file, more than the analysis, so the default (`output.plots_min_s=10`) leaves
plots and the timeline out below 10 s. Three runs over the same one-shots, in this
process, with the shipped drumnet model (each on a fresh output folder):

* the default formats (json, midi, csv, labels; plots and timeline skipped: short files)
* `output.formats=[json]`, the baseline
* the default formats with `output.plots_min_s=0` (every plot, as before the default)

    python bench/short_files.py [--n 175] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def one_shots(folder: Path, n: int, sr: int = 44_100) -> None:
    """``n`` drum-like one-shots of 0.2-1.5 s: pitched-down sine kicks, noise snares/hats."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        seconds = float(rng.uniform(0.2, 1.5))
        t = np.arange(int(seconds * sr)) / sr
        kind = i % 3
        if kind == 0:
            x = np.sin(2 * np.pi * (50 + 120 * np.exp(-t * 30)) * t) * np.exp(-t * 8)
        elif kind == 1:
            x = rng.standard_normal(len(t)) * np.exp(-t * 20) + 0.4 * np.sin(2 * np.pi * 190 * t)
        else:
            x = rng.standard_normal(len(t)) * np.exp(-t * 60)
        x = np.concatenate([np.zeros(int(0.01 * sr)), x])
        sf.write(folder / f"shot_{i:04d}.wav", (0.8 * x / np.abs(x).max()).astype(np.float32),
                 sr)


def files_per_second(folder: Path, out: Path, overrides: list[str]) -> float:
    from heihachi.runtime.pipeline import DRUM_FORMATS, run_task

    if not any(o.startswith("output.formats=") for o in overrides):
        overrides = [*overrides, f"output.formats=[{','.join(DRUM_FORMATS)}]"]
    t0 = time.perf_counter()
    summary = run_task("drums", [str(folder)], overrides, output=str(out), progress=False)
    seconds = time.perf_counter() - t0
    assert summary.failed == 0, [e.error for e in summary.entries if e.error]
    return len(summary.entries) / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=175)
    ap.add_argument("--threads", type=int, default=2, help="runtime.threads (2 cores)")
    args = ap.parse_args()
    common = [f"runtime.threads={args.threads}", "runtime.num_workers=1"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one_shots(tmp / "shots", args.n)
        files_per_second(tmp / "shots", tmp / "warm", [*common, "output.formats=[json]"])
        rows = [("default formats", files_per_second(tmp / "shots", tmp / "a", common)),
                ("json only (baseline)", files_per_second(
                    tmp / "shots", tmp / "b", [*common, "output.formats=[json]"])),
                ("default, plots_min_s=0", files_per_second(
                    tmp / "shots", tmp / "c", [*common, "output.plots_min_s=0"]))]
    base = rows[1][1]
    print(f"{args.n} one-shots of 0.2-1.5 s, hf analyze-drums (drumnet), {args.threads} threads")
    print(f"{'run':<24} {'files/s':>8} {'vs json':>8}")
    for name, fps in rows:
        print(f"{name:<24} {fps:>8.1f} {fps / base:>8.2f}")


if __name__ == "__main__":
    main()

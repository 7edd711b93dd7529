"""Peak memory of `hf separate` on a short and a long file: it should not grow with length.

Baseline: the same command on a short file (default 2 minutes). Measured: a long
file (default 10 minutes). Each runs as its own ``python -m heihachi hf separate``
process with the tiny HTDemucs (``profile=tiny``); the peak resident memory of the
whole process tree (the CLI and its DataLoader worker) is sampled every 50 ms with
psutil. Stems stream to disk window by window, so the ratio long/short should be
about 1.0, while the stems of the long file alone (4 stems, stereo, float32) are
hundreds of MB. Also checks that every stem has exactly the input's frames and rate.

    python bench/separate_memory.py [--short 120] [--long 600] [--batch-size 2]

``runtime.batch_size`` is kept small so the short file already fills a batch of
windows: peak memory is bounded by batch size x window length, not file length.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def make_file(path: Path, seconds: float, sr: int = 44_100) -> Path:
    """A stereo PCM16 file written block by block (the generator stays small too)."""
    rng = np.random.default_rng(0)
    block = sr * 10
    with sf.SoundFile(str(path), "w", samplerate=sr, channels=2, subtype="PCM_16") as f:
        done = 0
        total = round(seconds * sr)
        while done < total:
            n = min(block, total - done)
            t = (done + np.arange(n)) / sr
            kick = np.sin(2 * np.pi * 55 * t) * np.exp(-8 * (t % 0.35))
            x = 0.4 * kick + 0.1 * np.sin(2 * np.pi * 440 * t) + 0.03 * rng.standard_normal(n)
            f.write(np.stack([x, 0.8 * x], axis=1).astype(np.float32))
            done += n
    return path


def peak_rss_of(cmd: list[str], env: dict[str, str]) -> tuple[int, float, int]:
    """Run ``cmd``; return (peak RSS of its process tree in bytes, seconds, exit code)."""
    import psutil

    start = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                rss = 0
                for p in procs:
                    try:
                        rss += p.memory_info().rss
                    except psutil.NoSuchProcess:
                        pass
                peak = max(peak, rss)
            except psutil.NoSuchProcess:
                return
            time.sleep(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, err = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode != 0:
        print(err, file=sys.stderr)
    return peak, time.time() - start, proc.returncode


def check_stems(out: Path, src: Path) -> str:
    doc = json.loads((out / src.stem / "separate.json").read_text())
    frames = sf.info(str(src)).frames
    for stem in doc["stems"]:
        info = sf.info(str(out / src.stem / stem["file"]))
        assert (info.frames, info.samplerate) == (frames, 44_100), (stem, info.frames, frames)
    return f"{len(doc['stems'])} stems x {frames} frames at 44100 Hz: exact"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--short", type=float, default=120.0,
                    help="baseline file, seconds (default: two full windows = one batch)")
    ap.add_argument("--long", type=float, default=600.0, help="long file, seconds")
    ap.add_argument("--batch-size", type=int, default=2, help="runtime.batch_size")
    ap.add_argument("--shifts", type=int, default=0, help="separator.shifts (speed only)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        cache = d / "models"
        env = dict(os.environ, HEIHACHI_MODELS_CACHE=str(cache), HF_HUB_OFFLINE="1")
        subprocess.run([sys.executable, "-m", "heihachi", "models", "make-tiny"], env=env,
                       check=True, capture_output=True)
        rows = []
        for label, seconds in (("short", args.short), ("long", args.long)):
            src = make_file(d / f"{label}.wav", seconds)
            out = d / f"out-{label}"
            cmd = [sys.executable, "-m", "heihachi", "hf", "separate", str(src), "-o", str(out),
                   "-q", "profile=tiny", f"runtime.batch_size={args.batch_size}",
                   f"separator.shifts={args.shifts}"]
            peak, wall, rc = peak_rss_of(cmd, env)
            if rc != 0:
                raise SystemExit(f"hf separate failed on the {label} file (exit {rc})")
            stems_mb = sum(p.stat().st_size for p in (out / src.stem / "stems").iterdir()) / 2**20
            rows.append((label, seconds, peak / 2**20, wall, stems_mb, check_stems(out, src)))
        print(f"{'file':<6} {'audio s':>8} {'peak RSS MB':>12} {'wall s':>8} {'stems MB':>9}")
        for label, seconds, peak_mb, wall, stems_mb, check in rows:
            print(f"{label:<6} {seconds:>8.0f} {peak_mb:>12.0f} {wall:>8.1f} {stems_mb:>9.0f}"
                  f"  {check}")
        ratio = rows[1][2] / rows[0][2]
        print(f"peak RSS long/short: {ratio:.2f} (baseline: the {args.short:.0f} s file; "
              f"audio {args.long / args.short:.0f}x longer)")


if __name__ == "__main__":
    main()

"""Speed and memory of beats + drums on a long mix, against librosa on the same audio.

Builds a continuous mix from held-out-kit renders (tempos 80-180 BPM, DnB-heavy),
writes it as FLAC, then in the same run:

- heihachi: `python -m heihachi hf analyze-drums MIX` (drums + beats + exports),
  timed, with the peak RSS summed over its whole process tree (DataLoader workers
  included), sampled every 0.1 s;
- baseline: librosa.load + librosa.beat.beat_track + librosa.onset.onset_detect.

Prints x real time for both, the speed ratio and peak memory. Run at two lengths
to see memory stay flat as the file grows:

    python bench/long_mix.py --minutes 10 60
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # heihachi_train: from the checkout


def build_mix(path: Path, minutes: float, seed: int = 7) -> float:
    """Write a mix of ``minutes`` by streaming rendered 30 s clips into a FLAC file."""
    from heihachi_train.drumnet.render import render_validation_set

    clips = render_validation_set(16, seed=seed, duration=30.0)
    sr = clips[0][1]
    total = int(minutes * 60 * sr)
    written = 0
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, format="FLAC") as f:
        i = 0
        while written < total:
            audio = clips[i % len(clips)][0]
            chunk = audio[: total - written]
            f.write(chunk)
            written += len(chunk)
            i += 1
    return written / sr


def tree_rss(pid: int) -> int:
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs if p.is_running())
    except psutil.Error:
        return 0


def measure(cmd: list[str]) -> tuple[float, int]:
    """Wall time and peak RSS of ``cmd``'s whole process tree, sampled every 0.1 s."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.1)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr.read().decode()[-2000:] if proc.stderr else "failed")
    return elapsed, peak


def run_heihachi(mix: Path, out: Path) -> tuple[float, int]:
    return measure([sys.executable, "-m", "heihachi", "hf", "analyze-drums", str(mix), "-o",
                    str(out), "-q", "--overwrite"])


def run_librosa(mix: Path) -> tuple[float, int]:
    code = ("import librosa,sys; y,sr=librosa.load(sys.argv[1], sr=22050);"
            "librosa.beat.beat_track(y=y, sr=sr); librosa.onset.onset_detect(y=y, sr=sr)")
    return measure([sys.executable, "-c", code, str(mix)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, nargs="+", default=[10.0, 60.0])
    args = ap.parse_args()
    print(f"{'length':>8} {'heihachi':>10} {'x RT':>7} {'peak RSS':>10} "
          f"{'librosa':>9} {'x RT':>7} {'librosa RSS':>12} {'speed ratio':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            mix = Path(tmp) / f"mix_{minutes:g}min.flac"
            seconds = build_mix(mix, minutes)
            ours, peak = run_heihachi(mix, Path(tmp) / "out")
            theirs, lib_peak = run_librosa(mix)
            print(f"{minutes:>6g} m {ours:>9.1f}s {seconds / ours:>7.1f} {peak / 2**20:>8.0f}MB "
                  f"{theirs:>8.1f}s {seconds / theirs:>7.1f} {lib_peak / 2**20:>10.0f}MB "
                  f"{theirs / ours:>11.2f}x")
            mix.unlink()


if __name__ == "__main__":
    main()

"""Throughput of `hf extract` against the loop users write today.

Baseline (in the same process, same tiny model, same files): for each file,
``librosa.load(sr=model rate)``, the model's feature extractor, one forward
pass. Heihachi: the runtime (decoding + resampling in DataLoader workers,
windows batched across files). Prints audio-seconds per second for both and
the ratio.

    python bench/extract_throughput.py [--files 40] [--seconds 30] [--arch wav2vec2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf


def make_files(d: Path, n: int, seconds: float, sr: int = 44_100) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        t = np.arange(int(seconds * sr)) / sr
        x = 0.3 * np.sin(2 * np.pi * (110 + 5 * i) * t) + 0.05 * rng.standard_normal(len(t))
        p = d / f"track{i:03d}.wav"
        sf.write(p, np.stack([x, x], axis=1).astype(np.float32), sr, subtype="PCM_16")
        paths.append(p)
    return paths


def baseline(paths: list[Path], model_dir: Path) -> float:
    import librosa
    import torch
    from transformers import AutoFeatureExtractor, AutoModel

    fe = AutoFeatureExtractor.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    t0 = time.perf_counter()
    for p in paths:
        y, _ = librosa.load(p, sr=fe.sampling_rate)
        inputs = fe(y, sampling_rate=fe.sampling_rate, return_tensors="pt")
        with torch.inference_mode():
            model(**inputs).last_hidden_state.numpy()
    return time.perf_counter() - t0


def run_runtime(paths: list[Path], model_ref: str, cache: Path, out: Path, workers: int,
                batch: int) -> float:
    from heihachi.plugins.hf_extractor import HFExtractor
    from heihachi.runtime import Runner, RunOptions, place

    plugin = HFExtractor(HFExtractor.Config(model=model_ref), cache_dir=cache, offline=True)
    runner = Runner(plugin, RunOptions(output_dir=out, batch_size=batch, num_workers=workers,
                                       progress=False), place("cpu", "fp32", num_workers=workers))
    t0 = time.perf_counter()
    summary = runner.run(paths)
    elapsed = time.perf_counter() - t0
    assert summary.counts()["ok"] == len(paths), summary.to_json()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--arch", default="wav2vec2")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--batch", type=int, default=4)
    args = ap.parse_args()

    from heihachi.plugins.hf_extractor import make_tiny_model

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cache = tmp / "cache"
        model_dir = make_tiny_model(args.arch, cache / "tiny" / args.arch)
        paths = make_files(tmp, args.files, args.seconds)
        audio_s = args.files * args.seconds
        base = baseline(paths, model_dir)
        ours = run_runtime(paths, f"tiny/{args.arch}", cache, tmp / "out", args.workers,
                           args.batch)
        print(f"files: {args.files} x {args.seconds:.0f} s, model: tiny {args.arch}")
        print(f"baseline (librosa.load + feature extractor + forward, per file): "
              f"{base:6.2f} s  ({audio_s / base:7.1f} audio-s/s)")
        print(f"heihachi runtime (workers={args.workers}, batch={args.batch}):"
              f"{' ' * 12}{ours:6.2f} s  ({audio_s / ours:7.1f} audio-s/s)")
        print(f"speed-up: {base / ours:.2f}x")


if __name__ == "__main__":
    main()

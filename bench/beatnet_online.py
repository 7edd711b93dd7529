"""BeatNet's online (causal) mode on clips, run inside BeatNet's own environment.

    BEATNET_PYTHON bench/beatnet_online.py IN.npz OUT.json [--model 1]

``bench/realtime.py --beatnet-python PATH`` calls this with the interpreter of a separate
virtual environment that has BeatNet (1.1.1) installed, because BeatNet's requirements
(its own torch, numba through librosa, madmom) must not enter the project's environment.
It imports numpy and BeatNet only, never heihachi.

``IN.npz``: one float32 array per clip, mono at 22 050 Hz (BeatNet's rate), keyed by
clip name.  For each clip a fresh ``BeatNet(model, mode="online", inference_model="PF")``
(its LSTM keeps state between calls, so one instance per clip keeps the clips
independent) runs the causal CRNN over the clip and its particle-filter cascade, which
decides every beat from the activations up to that frame: BeatNet's online mode.  The
particle filter draws random numbers, so numpy's global generator is seeded per clip.
``OUT.json``: ``{"beatnet": version, "model": n, "clips": {name: {"beats": [s...],
"downbeats": [s...], "seconds": compute}}}``.
"""

from __future__ import annotations

import argparse
import json
import time
from importlib.metadata import version


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--model", type=int, default=1, help="BeatNet weights 1 (GTZAN), 2, 3")
    args = ap.parse_args()

    import numpy as np
    import torch
    from BeatNet.BeatNet import BeatNet

    torch.set_num_threads(1)
    clips = np.load(args.inp)
    res: dict = {"beatnet": version("BeatNet"), "model": args.model, "mode": "online/PF",
                 "clips": {}}
    for k, name in enumerate(clips.files):
        tracker = BeatNet(args.model, mode="online", inference_model="PF", plot=[],
                          thread=False)
        np.random.seed(k)
        t0 = time.perf_counter()
        out = np.asarray(tracker.process(clips[name].astype(np.float32)))
        out = out.reshape(-1, 2) if out.size else np.zeros((0, 2))
        res["clips"][name] = {"beats": [round(float(t), 4) for t in out[:, 0]],
                              "downbeats": [round(float(t), 4) for t, b in out if b == 1],
                              "seconds": round(time.perf_counter() - t0, 3)}
    with open(args.out, "w") as f:
        json.dump(res, f)


if __name__ == "__main__":
    main()

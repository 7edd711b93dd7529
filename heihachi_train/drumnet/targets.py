"""What the network is asked to output: per-frame onset, velocity and beat/downbeat
targets from a clip's annotations (hits and beats in seconds)."""

from __future__ import annotations

import numpy as np

from .kits import CLASSES


def frame_targets(ann: dict, n_frames: int, fps: float):
    on = np.zeros((n_frames, 5), np.float32)
    vel = np.zeros((n_frames, 5), np.float32)
    vmask = np.zeros((n_frames, 5), np.float32)
    bt = np.zeros((n_frames, 2), np.float32)
    for t, cls, v in ann["hits"]:
        k = CLASSES.index(cls)
        i = int(round(t * fps))  # noqa: RUF046
        for d, val in ((-1, 0.5), (1, 0.5), (0, 1.0)):
            j = i + d
            if 0 <= j < n_frames:
                on[j, k] = max(on[j, k], val)
        if 0 <= i < n_frames:
            vel[i, k] = max(vel[i, k], v)
            vmask[i, k] = 1.0
    for col, key in ((0, "beats"), (1, "downbeats")):
        for t in ann[key]:
            i = int(round(t * fps))  # noqa: RUF046
            for d, val in ((-2, 0.25), (2, 0.25), (-1, 0.5), (1, 0.5), (0, 1.0)):
                j = i + d
                if 0 <= j < n_frames:
                    bt[j, col] = max(bt[j, col], val)
    return on, vel, vmask, bt

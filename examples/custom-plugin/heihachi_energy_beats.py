"""Beats at peaks of low-band energy; a toy that shows the whole plugin contract."""
from dataclasses import dataclass

import numpy as np

import heihachi
from heihachi.results import Beats
from heihachi.tasks import BeatTracker


class EnergyBeats(BeatTracker):
    """Beats at local maxima of the smoothed amplitude envelope."""

    name = "energy"
    sample_rate = 22_050

    @dataclass
    class Config:
        min_bpm: float = 60.0

    def track(self, batch):
        hop, gap = 512, int(60.0 / self.config.min_bpm * self.sample_rate / 512 / 2)
        out = []
        for x in batch.unpadded():
            env = np.convolve(np.abs(x.cpu().numpy()), np.ones(hop) / hop, "same")[::hop]
            peaks = [i for i in range(1, len(env) - 1)
                     if env[i] == env[max(0, i - gap):i + gap].max()]
            out.append(Beats(beats=np.array(peaks) * hop / self.sample_rate))
        return out


@heihachi.hookimpl
def register_beat_trackers(register):
    register(EnergyBeats)

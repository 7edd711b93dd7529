"""Runtime behaviour with in-test plugins: OOM back-off, error isolation, stitching."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pytest
from conftest import write_tone

from heihachi.results import Beats
from heihachi.runtime import Runner, RunOptions, place
from heihachi.tasks import BeatTracker


class CountingTracker(BeatTracker):
    """Beats at every whole second of each window; records batch sizes."""

    name = "counting"
    sample_rate = 8_000
    window_s = 2.0
    hop_s = 1.5

    @dataclass
    class Config:
        oom_above: int = 0
        fail_length: int = -1

    def load(self) -> None:
        self.batch_sizes: list[int] = []

    def track(self, batch):
        import torch

        if self.config.oom_above and len(batch) > self.config.oom_above:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        self.batch_sizes.append(len(batch))
        out = []
        for x in batch.unpadded():
            if x.shape[-1] == self.config.fail_length:
                raise ValueError("this window upsets the model")
            n = x.shape[-1] / self.sample_rate
            out.append(Beats(beats=np.arange(0.0, n, 0.5)))
        return out


def _run(tmp_path, config, paths, batch_size=8):
    plugin = CountingTracker(config)
    runner = Runner(plugin, RunOptions(output_dir=tmp_path / "out", batch_size=batch_size,
                                       num_workers=0, progress=False),
                    place("cpu", "fp32"))
    return plugin, runner, runner.run(paths)


def test_out_of_memory_halves_the_batch_and_finishes(tmp_path):
    paths = [write_tone(tmp_path / f"f{i}.wav", seconds=1.0) for i in range(6)]
    plugin, runner, summary = _run(tmp_path, CountingTracker.Config(oom_above=2), paths)
    assert summary.counts()["ok"] == 6
    assert runner.batch_size == 2 and max(plugin.batch_sizes) == 2


def test_a_plugin_error_fails_only_that_file(tmp_path):
    paths = [write_tone(tmp_path / f"f{i}.wav", seconds=1.0) for i in range(3)]
    odd = write_tone(tmp_path / "odd.wav", seconds=0.5, sr=8_000)
    cfg = CountingTracker.Config(fail_length=4_000)
    _, _, summary = _run(tmp_path, cfg, [*paths, odd])
    status = {e.track: e for e in summary.entries}
    assert [status[f"f{i}"].status for i in range(3)] == ["ok"] * 3
    assert status["odd"].status == "failed" and "upsets the model" in status["odd"].error
    assert str(odd) in status["odd"].error


def test_windows_are_stitched_without_duplicates_or_gaps(tmp_path):
    path = write_tone(tmp_path / "long.wav", seconds=7.0, sr=8_000)
    _run(tmp_path, CountingTracker.Config(), [path], batch_size=3)
    beats = json.loads((tmp_path / "out" / "long" / "beats.json").read_text())["beats"]
    # every window reports beats every 0.5 s from its own start (0, 1.5, 3, ...):
    # stitching keeps each beat once, from the window that owns that time
    assert beats == pytest.approx(sorted(set(beats)))
    assert np.all(np.diff(beats) > 0) and np.diff(beats).max() <= 0.5 + 1e-9
    assert beats[0] == 0.0 and beats[-1] >= 6.5


def test_cpu_threads_never_oversubscribe(monkeypatch):
    """Torch threads + decoding workers fit the CPUs this process may use."""
    import os

    from heihachi.runtime import cpu_threads

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert cpu_threads(None, num_workers=1) == 1  # 2 cores: 1 torch thread + 1 decoder
    assert cpu_threads(None, num_workers=0) == 2
    assert cpu_threads(None, num_workers=1, local_processes=2) == 1  # never below one
    assert cpu_threads(3, num_workers=1) == 3  # runtime.threads wins
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert cpu_threads(None, num_workers=2, local_processes=4) == 2

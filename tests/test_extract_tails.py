"""Every extractor takes a file whose last window is a few samples long (N x window + 1...400).

A wav2vec2-style conv front end needs 400 samples for one frame: a 160,001-sample
file used to fail whole on its 1-sample tail window. The windows here are 1 s (the
models' own 10-30 s windows take the same code path, only slower), except one file
of 160,001 samples through wav2vec2's own 10 s window, the case first reported.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from heihachi.runtime import Runner, RunOptions, place

TAILS = (1, 80, 320, 399, 400)
EXTRACTORS = [("hf", f"tiny/{a}") for a in ("wav2vec2", "hubert", "wavlm", "ast", "whisper",
                                              "clap")] + [("spectral", None)]


def _plugin(name: str, model: str | None, cache, window_s: float | None):
    from heihachi.registry import get_registry

    cls = get_registry().get("extractor", name).cls
    cfg = cls.Config(model=model, window_s=window_s) if model else cls.Config()
    return cls(cfg, cache_dir=cache, offline=True)


@pytest.mark.parametrize(("name", "model"), EXTRACTORS, ids=[m or n for n, m in EXTRACTORS])
def test_short_tail_windows_give_results(tiny_cache, tmp_path, name, model):
    plugin = _plugin(name, model, tiny_cache, 1.0)
    plugin.load()
    plugin._heihachi_loaded = True
    sr = plugin.sample_rate
    window = round(plugin.window()[0] * sr)
    lengths = [window + t for t in TAILS] + [2 * window + 3]
    _check(plugin, lengths, tmp_path)


def test_wav2vec2_own_window_plus_one_sample(tiny_cache, tmp_path):
    plugin = _plugin("hf", "tiny/wav2vec2", tiny_cache, None)
    plugin.load()
    plugin._heihachi_loaded = True
    assert plugin.window()[0] == 10.0
    _check(plugin, [160_001], tmp_path)


def _check(plugin, lengths: list[int], tmp_path) -> None:
    sr = plugin.sample_rate
    rng = np.random.default_rng(0)
    paths = []
    for n in lengths:
        p = tmp_path / "in" / f"n{n}.wav"
        p.parent.mkdir(exist_ok=True)
        sf.write(p, (0.1 * rng.standard_normal(n)).astype(np.float32), sr, subtype="FLOAT")
        paths.append(p)
    runner = Runner(plugin, RunOptions(output_dir=tmp_path / "out", num_workers=0,
                                       progress=False), place("cpu", "fp32"))
    summary = runner.run(paths)
    errors = [e.error for e in summary.entries if e.status != "ok"]
    assert not errors, errors
    for n in lengths:
        arrays = np.load(tmp_path / "out" / f"n{n}" / "extract.npz")
        frames, stamps = arrays["frames"], arrays["timestamps"]
        assert len(frames) == len(stamps) > 0 and np.isfinite(frames).all()
        assert np.all(np.diff(stamps) > 0) and stamps[-1] <= n / sr

"""Shared fixtures: tiny models built once per session, audio files, CLI runners."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models cache holding every built-in tiny model (``models make-tiny``)."""
    cache = tmp_path_factory.mktemp("models_cache")
    result = run_heihachi("models", "make-tiny", "--cache-dir", str(cache))
    assert result.returncode == 0, result.stderr
    return cache


def write_tone(path: Path, seconds: float = 3.0, sr: int = 44_100, channels: int = 1,
               freq: float = 440.0, subtype: str | None = None) -> Path:
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * t) + 0.05 * np.random.default_rng(0).standard_normal(len(t))
    data = np.repeat(x[:, None], channels, axis=1).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, sr, subtype=subtype)
    return path


def run_heihachi(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m heihachi ARGS`` in a subprocess (the real CLI, real exit codes)."""
    full_env = dict(os.environ, HF_HUB_OFFLINE="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "heihachi", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd or ROOT, timeout=timeout)


@pytest.fixture()
def fresh_registry():
    """A registry loaded from scratch, forgotten again after the test."""
    from heihachi.registry import get_registry, reset_registry

    reset_registry()
    yield get_registry()
    reset_registry()


@pytest.fixture(scope="session")
def process_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One `heihachi process` run (shipped drumnet) over the example clip, the same clip
    starting 0.5 s later, and an empty file; drums, beats, patterns and the click track,
    with Sonic Visualiser layers and MIDI. Shared by the process tests (read only)."""
    import soundfile as sf

    base = tmp_path_factory.mktemp("process_run")
    clip = ROOT / "examples" / "audio" / "two_step_174.flac"
    inputs = base / "in"
    inputs.mkdir()
    (inputs / "clip.flac").write_bytes(clip.read_bytes())
    audio, sr = sf.read(clip, dtype="float32", always_2d=True)
    late = np.concatenate([np.zeros((sr // 2, audio.shape[1]), np.float32), audio])
    sf.write(inputs / "late.wav", late, sr)
    (inputs / "broken.wav").write_bytes(b"")
    out = base / "out"
    result = run_heihachi("process", str(inputs), "-o", str(out), "-q",
                          "process.tasks=[drums,beats,patterns]",
                          "output.formats=[json,sv,midi,click]")
    assert result.returncode == 1, result.stderr  # broken.wav fails, the rest finish
    return {"in": inputs, "out": out, "clip": inputs / "clip.flac", "stderr": result.stderr}

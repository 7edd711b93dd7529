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
    result = run_heihachi("models", "make-tiny", "--cache-dir", str(cache), subprocess_=True)
    assert result.returncode == 0, result.stderr
    (cache / ".make-tiny.stderr").write_text(result.stderr)  # checked by test_plugins
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
                 timeout: float = 300, subprocess_: bool = False
                 ) -> subprocess.CompletedProcess:
    """Run the heihachi CLI with ``ARGS``: its real ``main()``, real exit codes.

    In this process by default (``env`` set and ``cwd`` entered for the call, stdout and
    stderr captured): a fresh interpreter costs seconds of imports per call, which made
    the suite slow. ``subprocess_=True`` runs ``python -m heihachi`` instead, for what
    needs a process of its own (warnings shown once per process, newly installed
    plugins, the module entry point); ``HEIHACHI_TEST_SUBPROCESS=1`` makes every call so.
    """
    if subprocess_ or os.environ.get("HEIHACHI_TEST_SUBPROCESS") == "1":
        full_env = dict(os.environ, HF_HUB_OFFLINE="1", **(env or {}))
        return subprocess.run([sys.executable, "-m", "heihachi", *args], capture_output=True,
                              text=True, env=full_env, cwd=cwd or ROOT, timeout=timeout)
    return _run_in_process(list(args), env or {}, cwd or ROOT)


def _run_in_process(args: list[str], env: dict[str, str], cwd: Path
                    ) -> subprocess.CompletedProcess:
    import contextlib
    import io

    from heihachi.cli.app import main
    from heihachi.registry import reset_registry

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.update(HF_HUB_OFFLINE="1", **env)
    os.chdir(cwd)
    reset_registry()  # env may choose the plugins (HEIHACHI_LOAD_PLUGINS, ...)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(args)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (1 if e.code else 0)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        reset_registry()
    return subprocess.CompletedProcess(["heihachi", *args], code, out.getvalue(),
                                       err.getvalue())


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


#: Tests of more than about ten seconds on 2 cores: end-to-end CLI runs over several
#: files, multi-process runs, SIGKILL/resume, wheel builds, training smoke runs,
#: separation, a browser. ``pytest -m "not slow"`` is the quick subset; CI runs all.
SLOW_TESTS = (
    "test_batch.py::test_rerun_skips_done_files_and_overwrite_redoes_them",
    "test_batch.py::test_a_run_killed_midway_resumes_with_every_output_exactly_once",
    "test_distributed.py::",
    "test_drumnet.py::test_saved_weights_are_byte_identical_across_processes",
    "test_drumnet.py::test_wheel_carries_the_shipped_model",
    "test_drumnet.py::test_compare_drumnet_scores_candidates_against_the_first",
    "test_drumnet_training.py::test_soundfont_kits_render_every_class_at_rising_velocity",
    "test_drumnet_training.py::test_train_smoke_then_decode",
    "test_drums_cli.py::test_bad_and_degenerate_inputs_never_crash_the_batch",
    "test_extract.py::test_extract_each_architecture_resamples_and_matches_transformers",
    "test_extract.py::test_all_layers_and_max_pooling",
    "test_extract.py::test_long_file_is_windowed_and_stitched_in_order",
    "test_extract_tails.py::",
    "test_hf_drums.py::test_cli_analyze_drums_end_to_end",
    "test_index_cli.py::",
    "test_index_crash.py::",
    "test_separate.py::test_separate_end_to_end_exact_lengths_bad_file_and_resume",
    "test_separate.py::test_stems_filter_flac_pcm24_and_unknown_stem",
    "test_separate.py::test_batched_chunks_match_demucs_apply_model",
    "test_timeline_browser.py::",
    "test_realtime_e2e.py::",  # the tiny models' cache, the shipped tracker on 36 s
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the tests named in :data:`SLOW_TESTS` ``slow`` (one list, not a decorator in
    every file, so the quick subset is easy to review)."""
    for item in items:
        nodeid = item.nodeid.split("tests/", 1)[-1]
        if any(nodeid.startswith(prefix) for prefix in SLOW_TESTS):
            item.add_marker(pytest.mark.slow)

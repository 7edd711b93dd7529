"""Batch semantics: bad files fail alone, outputs are atomic, killed runs resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import soundfile as sf
from conftest import ROOT, run_heihachi, write_tone


def _mixed_directory(d):
    write_tone(d / "stereo_44k.wav", seconds=1.5, sr=44_100, channels=2)
    write_tone(d / "eight_channels.wav", seconds=1.0, sr=48_000, channels=8)
    write_tone(d / "low_8k.flac", seconds=1.2, sr=8_000)
    write_tone(d / "nested" / "high_192k.wav", seconds=1.0, sr=192_000, channels=2)
    good = write_tone(d / "tmp_source.wav", seconds=1.0)
    data = good.read_bytes()
    good.unlink()
    (d / "truncated.wav").write_bytes(data[: len(data) // 3])
    (d / "empty.wav").write_bytes(b"")
    sf.write(d / "all_nan.wav", np.full(16_000, np.nan, np.float32), 16_000, subtype="FLOAT")
    (d / "readme.wav").write_text("not audio at all\n" * 100)
    return {"stereo_44k", "eight_channels", "low_8k", "high_192k"}, {
        "truncated", "empty", "all_nan", "readme"}


def test_bad_files_fail_alone_with_clear_reasons(tiny_cache, tmp_path):
    good, bad = _mixed_directory(tmp_path / "in")
    out = tmp_path / "out"
    result = run_heihachi("hf", "extract", str(tmp_path / "in"), "-o", str(out), "-q",
                          "profile=tiny", "runtime.batch_size=3",
                          env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert result.returncode == 1, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    status = {e["track"]: e for e in summary["files"]}
    assert {t for t, e in status.items() if e["status"] == "ok"} == good
    assert {t for t, e in status.items() if e["status"] == "failed"} == bad
    reasons = {t: status[t]["error"] for t in bad}
    assert "truncated" in reasons["truncated"]
    assert "empty" in reasons["empty"]
    assert "NaN" in reasons["all_nan"]
    assert "not a recognised audio file" in reasons["readme"]
    for t in bad:
        assert status[t]["path"] in reasons[t]
        assert not (out / t).exists()  # no partial outputs
    for t in good:
        assert (out / t / "extract.json").is_file() and (out / t / "extract.npz").is_file()
    assert not [p for p in out.rglob("*") if p.name.startswith(".tmp-")]


def test_rerun_skips_done_files_and_overwrite_redoes_them(tiny_cache, tmp_path):
    write_tone(tmp_path / "in" / "a.wav", seconds=1.0)
    write_tone(tmp_path / "in" / "b.wav", seconds=1.0)
    out = tmp_path / "out"
    env = {"HEIHACHI_MODELS_CACHE": str(tiny_cache)}
    args = ("hf", "extract", str(tmp_path / "in"), "-o", str(out), "-q", "profile=tiny")
    assert run_heihachi(*args, env=env).returncode == 0
    first = (out / "a" / "extract.json").stat().st_mtime_ns
    assert run_heihachi(*args, env=env).returncode == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"ok": 0, "failed": 0, "skipped": 2}
    assert (out / "a" / "extract.json").stat().st_mtime_ns == first
    # a different config is different work
    assert run_heihachi(*args, "extractor.pooling=max", env=env).returncode == 0
    assert json.loads((out / "summary.json").read_text())["counts"]["ok"] == 2
    assert run_heihachi(*args, "extractor.pooling=max", "--overwrite", env=env).returncode == 0
    assert json.loads((out / "summary.json").read_text())["counts"]["ok"] == 2


def test_a_run_killed_midway_resumes_with_every_output_exactly_once(tiny_cache, tmp_path):
    n = 24
    for i in range(n):
        write_tone(tmp_path / "in" / f"t{i:02d}.wav", seconds=2.0, freq=200 + 10 * i)
    out = tmp_path / "out"
    env = dict(os.environ, HEIHACHI_MODELS_CACHE=str(tiny_cache), HF_HUB_OFFLINE="1")
    cmd = [sys.executable, "-m", "heihachi", "hf", "extract", str(tmp_path / "in"), "-o",
           str(out), "-q", "profile=tiny", "runtime.batch_size=1", "runtime.num_workers=1"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("*/extract.json"))) < 4:
        time.sleep(0.02)
    import psutil

    workers = psutil.Process(proc.pid).children(recursive=True)  # the decoding worker
    assert workers, "the run should have a decoding worker"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    _gone, alive = psutil.wait_procs(workers, timeout=15)
    assert not alive, f"decoding workers outlived the killed run: {alive}"
    done_before = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("*/extract.json")}
    assert 4 <= len(done_before) < n, "the kill should land mid-run"
    for p in out.glob("*/extract.json"):  # whatever exists is whole
        json.loads(p.read_text())

    result = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["files"]) == n
    skipped = {e["track"] for e in summary["files"] if e["status"] == "skipped"}
    assert skipped == set(done_before)
    assert summary["counts"]["ok"] == n - len(done_before)
    for i in range(n):
        files = sorted(p.name for p in (out / f"t{i:02d}").iterdir())
        assert files == ["extract.json", "extract.npz"], files
        np.load(out / f"t{i:02d}" / "extract.npz")["frames"]
    for track, mtime in done_before.items():  # finished work was not redone
        assert (out / track / "extract.json").stat().st_mtime_ns == mtime

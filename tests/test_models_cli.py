"""`models make-tiny` and `models verify`: quiet, and each model checked by its plugin's loader."""

from __future__ import annotations

import shutil

from conftest import run_heihachi


def test_make_tiny_prints_no_progress_bars(tiny_cache):
    stderr = (tiny_cache / ".make-tiny.stderr").read_text()
    assert "Writing model shards" not in stderr and "it/s" not in stderr, stderr


def test_verify_passes_every_fresh_tiny_model(tiny_cache):
    result = run_heihachi("models", "verify", "--cache-dir", str(tiny_cache))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    listed = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("ok")}
    # demucs' pickled checkpoint (its own safe loader) and beat_this' single .ckpt file
    assert {"tiny/htdemucs", "tiny/beat_this.ckpt", "tiny/wav2vec2"} <= listed, result.stdout


def test_verify_reports_a_damaged_checkpoint(tiny_cache, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(tiny_cache / "tiny" / "htdemucs", cache / "tiny" / "htdemucs")
    shutil.copy(tiny_cache / "tiny" / "beat_this.ckpt", cache / "tiny" / "beat_this.ckpt")
    th = cache / "tiny" / "htdemucs" / "htdemucs.th"
    th.write_bytes(th.read_bytes()[:2000])
    ckpt = cache / "tiny" / "beat_this.ckpt"
    ckpt.write_bytes(b"not a checkpoint")
    result = run_heihachi("models", "verify", "--cache-dir", str(cache))
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [line for line in result.stdout.splitlines() if line.startswith("BROKEN")]
    assert {line.split()[1] for line in broken} == {"tiny/htdemucs", "tiny/beat_this.ckpt"}

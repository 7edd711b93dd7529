"""Two CPU processes (gloo) give the same outputs as one, every file exactly once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, run_heihachi, write_tone


def _launchers():
    bindir = os.path.dirname(sys.executable)
    torchrun = shutil.which("torchrun", path=bindir) or shutil.which("torchrun")
    accelerate = shutil.which("accelerate", path=bindir) or shutil.which("accelerate")
    return [
        pytest.param([torchrun, "--nproc_per_node", "2", "-m", "heihachi"], id="torchrun"),
        # `accelerate launch --cpu` would start ONE process; --multi_gpu starts two (gloo).
        pytest.param([accelerate, "launch", "--multi_gpu", "--num_processes", "2",
                      "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend",
                      "no", "-m", "heihachi"], id="accelerate"),
    ]


@pytest.mark.parametrize("launcher", _launchers())
def test_two_processes_match_one_and_process_every_file_once(tiny_cache, tmp_path, launcher):
    n = 7
    for i in range(n):
        write_tone(tmp_path / "in" / f"f{i}.wav", seconds=1.0 + 0.3 * i, freq=300 + 50 * i)
    write_tone(tmp_path / "in" / "sub" / "f0.wav", seconds=0.7)  # same stem, other dir
    env = {"HEIHACHI_MODELS_CACHE": str(tiny_cache)}
    args = ["hf", "extract", str(tmp_path / "in"), "profile=tiny", "runtime.device=cpu"]
    one = run_heihachi(*args, "-q", "-o", str(tmp_path / "one"), env=env)
    assert one.returncode == 0, one.stderr
    two = subprocess.run([*launcher, *args, "-o", str(tmp_path / "two")], cwd=ROOT,
                         env=dict(os.environ, **env, HF_HUB_OFFLINE="1"),
                         capture_output=True, text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    # progress: each process counts its own share, labelled, never rank 0's alone as all
    for rank in (0, 1):
        assert f"[rank {rank}/2] extract (hf):" in two.stderr, two.stderr[-2000:]

    s1 = json.loads((tmp_path / "one" / "summary.json").read_text())
    s2 = json.loads((tmp_path / "two" / "summary.json").read_text())
    paths = [e["path"] for e in s2["files"]]
    assert len(paths) == len(set(paths)) == n + 1
    assert all(e["status"] == "ok" for e in s2["files"])
    assert {e["rank"] for e in s2["files"]} == {0, 1}  # both processes did work
    assert [e["track"] for e in s1["files"]] == [e["track"] for e in s2["files"]]
    assert not list((tmp_path / "two").glob(".summary.rank*"))
    for e in s1["files"]:
        a = np.load(tmp_path / "one" / e["track"] / "extract.npz")
        b = np.load(tmp_path / "two" / e["track"] / "extract.npz")
        np.testing.assert_allclose(a["frames"], b["frames"], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(a["timestamps"], b["timestamps"])

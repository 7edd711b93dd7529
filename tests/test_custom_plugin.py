"""The example plugin package installs and runs through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT, run_heihachi, write_tone


@pytest.fixture()
def installed_example():
    pkg = ROOT / "examples" / "custom-plugin"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    done = subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(pkg)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    yield
    subprocess.run([*pip, "uninstall", "-y", "heihachi-energy-beats"], capture_output=True)


def test_custom_plugin_installs_lists_and_runs(installed_example, tmp_path):
    # a plugin installed during the run: each call in a process of its own
    listed = json.loads(run_heihachi("plugins", "--json", subprocess_=True).stdout)
    energy = [p for p in listed if p["kind"] == "beats" and p["name"] == "energy"]
    assert energy and energy[0]["package"] == "heihachi-energy-beats"

    clip = ROOT / "examples" / "audio" / "two_step_174.flac"
    write_tone(tmp_path / "in" / "tone.wav", seconds=2.0)
    (tmp_path / "in" / "clip.flac").write_bytes(clip.read_bytes())
    out = tmp_path / "out"
    result = run_heihachi("hf", "beats", str(tmp_path / "in"), "-o", str(out), "-q",
                          "beats=energy", "beats.min_bpm=80", subprocess_=True)
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "clip" / "beats.json").read_text())
    assert doc["schema"] == "heihachi.beats/1" and doc["plugin"] == "energy"
    assert doc["config"] == {"min_bpm": 80.0} and len(doc["beats"]) > 4

    bad = run_heihachi("hf", "beats", str(tmp_path / "in"), "beats=energy",
                       "beats.min_bpm=fast", subprocess_=True)
    assert bad.returncode == 2 and "min_bpm" in bad.stderr

    gated = run_heihachi("plugins", "--json", env={"HEIHACHI_LOAD_PLUGINS": ""},
                         subprocess_=True)
    assert not [p for p in json.loads(gated.stdout) if p["name"] == "energy"]

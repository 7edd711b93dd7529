"""`heihachi process`: one decode per file, every task's files, analysis.json, report,
resume, per-file status, exit codes, named configs, and two processes (gloo)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from conftest import ROOT, run_heihachi, write_tone


def test_process_writes_every_task_analysis_and_report(process_run):
    out = process_run["out"]
    summary = json.loads((out / "summary.json").read_text())
    status = {e["track"]: e for e in summary["files"]}
    assert {t: e["status"] for t, e in status.items()} == {
        "clip": "ok", "late": "ok", "broken": "failed"}
    assert "broken.wav" in status["broken"]["error"] and "empty" in status["broken"]["error"]
    assert "failed:" in process_run["stderr"]
    for track in ("clip", "late"):
        d = out / track
        doc = json.loads((d / "analysis.json").read_text())
        assert doc["schema"] == "heihachi.analysis/1" and doc["track"] == track
        assert list(doc["tasks"]) == ["drums", "beats", "patterns", "click"]
        for name, entry in doc["tasks"].items():
            assert entry["schema"].startswith("heihachi.")
            if "file" in entry:
                sub = json.loads((d / entry["file"]).read_text())
                assert sub["schema"] == entry["schema"] and sub["task"] == name
                assert sub["config_hash"] == doc["config_hash"]
        assert doc["tasks"]["click"]["result"]["clicks"] > 10  # inline result
        assert abs(doc["duration"] - sf.info(process_run["in"] / (
            "clip.flac" if track == "clip" else "late.wav")).duration) < 1e-3
        for name in ("drums.json", "beats.json", "patterns.json", "click.wav", "beats.beats",
                     "drums.mid", "timeline.html"):
            assert (d / name).is_file(), (track, name)
    assert not list(out.rglob(".tmp-*"))
    report = (out / "report.html").read_text()
    assert report.count('data-timeline="clip/timeline.html"') == 1
    assert 'data-timeline="late/timeline.html"' in report
    assert "1 failed" in report and "broken.wav" in report


def test_process_results_equal_the_hf_commands(process_run, tmp_path):
    """Feeding drumnet from the shared decode gives exactly what `hf analyze-drums` gives."""
    result = run_heihachi("hf", "analyze-drums", str(process_run["clip"]), "-o",
                          str(tmp_path), "-q", "output.formats=[json]")
    assert result.returncode == 0, result.stderr
    for name in ("drums.json", "beats.json"):
        a = json.loads((process_run["out"] / "clip" / name).read_text())
        b = json.loads((tmp_path / "clip" / name).read_text())
        key = "hits" if name == "drums.json" else "beats"
        assert a[key] == b[key] and len(a[key]) > 10
    late = json.loads((process_run["out"] / "late" / "beats.json").read_text())["beats"]
    clip = json.loads((process_run["out"] / "clip" / "beats.json").read_text())["beats"]
    # the same music 0.5 s later: beats move with it (most within 20 ms)
    shifted = np.asarray(clip) + 0.5
    near = [np.min(np.abs(np.asarray(late) - t)) < 0.02 for t in shifted[2:-2]]
    assert np.mean(near) > 0.8


PROBE = '''
"""A test task: records what it is fed (22.05 kHz stereo blocks)."""
from dataclasses import dataclass
import numpy as np
import heihachi
from heihachi.process.task import ProcessTask, TaskResult


@dataclass
class Fed:
    schema = "heihachi.probe/1"
    samples: int
    contiguous: bool
    channels: int
    tempo: float

    def to_json(self):
        return {"samples": self.samples, "contiguous": self.contiguous,
                "channels": self.channels, "tempo": self.tempo}


class Probe(ProcessTask):
    name = "probe"
    requires = ("beats",)
    sample_rate = 22_050
    channels = 2

    def start(self, track):
        self.n, self.ok, self.ch = 0, True, None

    def feed(self, window):
        self.ok &= abs(window.start - self.n / self.sample_rate) < 1e-9
        self.n += window.audio.shape[1]
        self.ch = window.audio.shape[0]

    def finish(self, results):
        return TaskResult(Fed(self.n, self.ok, self.ch, results["beats"].tempo))


@heihachi.hookimpl
def register_process_tasks(register):
    register(Probe)
'''


def test_each_file_is_decoded_once_for_every_task(process_run, tmp_path, monkeypatch):
    """A user task (process.modules) at its own rate is fed from the same single decode."""
    from heihachi.process.pipeline import run_process
    from heihachi.runtime import audio

    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "probe_task.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path / "mods"))
    opened: list[str] = []
    real_blocks = audio._blocks

    def counting(info):
        opened.append(info.path.name)
        return real_blocks(info)

    monkeypatch.setattr(audio, "_blocks", counting)
    inputs = [str(process_run["clip"]), str(process_run["in"] / "late.wav")]
    summary = run_process(inputs, ["process.tasks=[drums,beats,patterns,probe]",
                                   "process.modules=[probe_task]", "runtime.num_workers=0",
                                   "output.formats=[click]"],
                          output=str(tmp_path / "out"), progress=False)
    assert summary.failed == 0
    assert sorted(opened) == ["clip.flac", "late.wav"]  # one decode each, five tasks
    for name, path in (("clip", process_run["clip"]), ("late", process_run["in"] / "late.wav")):
        doc = json.loads((tmp_path / "out" / name / "analysis.json").read_text())
        probe = doc["tasks"]["probe"]["result"]
        assert probe["contiguous"] and probe["channels"] == 2
        assert abs(probe["samples"] - sf.info(path).duration * 22_050) <= 2
        assert probe["tempo"] == pytest.approx(174, abs=2)
        assert "click" in doc["tasks"]


def test_rerun_skips_done_tracks_and_redoes_changed_settings(process_run, tmp_path):
    from heihachi.process.pipeline import run_process

    args = [str(process_run["clip"])]
    common = ["process.tasks=[drums,beats,patterns]", "process.report=false"]
    out = str(tmp_path / "out")
    first = run_process(args, common, output=out, progress=False)
    assert [e.status for e in first.entries] == ["ok"]
    again = run_process(args, common, output=out, progress=False)
    assert [e.status for e in again.entries] == ["skipped"]
    changed = run_process(args, [*common, "process.settings.patterns.steps_per_bar=8"],
                          output=out, progress=False)
    assert [e.status for e in changed.entries] == ["ok"]
    doc = json.loads((tmp_path / "out" / "clip" / "patterns.json").read_text())
    assert doc["steps_per_bar"] == 8
    assert not (tmp_path / "out" / "report.html").exists()


def test_usage_errors_exit_2_with_one_line(tmp_path):
    write_tone(tmp_path / "a.wav", seconds=1.0)
    bad_task = run_heihachi("process", str(tmp_path / "a.wav"), "-o", str(tmp_path / "o"),
                            "process.tasks=[drums,nope]")
    assert bad_task.returncode == 2
    assert "no task named 'nope'" in bad_task.stderr and "drums" in bad_task.stderr
    bad_setting = run_heihachi("process", str(tmp_path / "a.wav"),
                               "process.settings.patterns.stepz=3")
    assert bad_setting.returncode == 2 and "stepz" in bad_setting.stderr
    bad_export = run_heihachi("process", str(tmp_path / "a.wav"), "process.exports=[pdf]")
    assert bad_export.returncode == 2 and "process.exports" in bad_export.stderr
    nothing = run_heihachi("process", "-o", str(tmp_path / "o"))
    assert nothing.returncode == 2
    (tmp_path / "bad.wav").write_bytes(b"RIFF....WAVEfmt ")
    all_failed = run_heihachi("process", str(tmp_path / "bad.wav"), "-o", str(tmp_path / "o"),
                              "-q", "process.tasks=[drums]")
    assert all_failed.returncode == 1, all_failed.stderr
    report = (tmp_path / "o" / "report.html").read_text()
    assert "0 tracks" in report and "1 failed" in report and "bad.wav" in report


def test_batch_runs_a_named_config_from_conf_or_a_user_directory(process_run, tmp_path):
    shown = run_heihachi("batch", "x", "--config-name", "performance", "--cfg")
    assert shown.returncode == 0, shown.stderr
    assert "rekordbox" in shown.stdout and "traktor" in shown.stdout
    mix = run_heihachi("batch", "x", "--config-name", "mix", "--cfg")
    assert mix.returncode == 0 and "transitions" in mix.stdout
    user = tmp_path / "confs"
    user.mkdir()
    (user / "club.yaml").write_text(
        "defaults:\n  - config\n  - _self_\nprocess:\n  tasks: [drums, beats]\n"
        "  exports: [csv]\n  report: false\noutput:\n  formats: [json, sv]\n")
    ran = run_heihachi("batch", str(process_run["clip"]), "-o", str(tmp_path / "out"), "-q",
                       "--config-dir", str(user), "--config-name", "club")
    assert ran.returncode == 0, ran.stderr
    doc = json.loads((tmp_path / "out" / "clip" / "analysis.json").read_text())
    assert list(doc["tasks"]) == ["drums", "beats"]
    assert (tmp_path / "out" / "clip" / "beats.beats").is_file()
    rows = (tmp_path / "out" / "collection.csv").read_text().splitlines()
    assert rows[0].startswith("track,duration,tempo,key,camelot") and rows[1].startswith("clip,")
    missing = run_heihachi("batch", str(process_run["clip"]), "--config-name", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr


def test_click_track_has_a_click_on_every_beat(process_run):
    d = process_run["out"] / "clip"
    click, sr = sf.read(d / "click.wav", dtype="float32", always_2d=True)
    original, osr = sf.read(process_run["clip"], dtype="float32", always_2d=True)
    assert sr == 44_100 and osr == 44_100 and click.shape[1] == 2
    assert abs(len(click) - len(original)) <= 1
    residual = click[:, 0] - original[:len(click), 0]
    beats = json.loads((d / "beats.json").read_text())
    on = np.zeros(len(residual), bool)
    for t in beats["beats"]:  # beats.json rounds to 0.1 ms: +-2.2 samples at 44.1 kHz
        on[int(t * sr) - 3:int(t * sr) + int(0.03 * sr) + 3] = True
    assert np.abs(residual[on]).max() > 0.2  # a click at every beat ...
    assert np.abs(residual[~on]).max() < 1e-3  # ... and the music untouched elsewhere
    per_beat = [np.abs(residual[int(t * sr):int(t * sr) + 200]).max() for t in beats["beats"]]
    assert min(per_beat) > 0.1


def _launcher():
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    return [torchrun or "torchrun", "--nproc_per_node", "2", "-m", "heihachi"]


def test_two_processes_match_one_and_process_every_file_once(tmp_path):
    for i in range(5):
        write_tone(tmp_path / "in" / f"t{i}.wav", seconds=2.0 + 0.5 * i, freq=200 + 60 * i)
    args = ["process", str(tmp_path / "in"), "-q", "process.tasks=[drums,beats,patterns]",
            "runtime.device=cpu"]
    one = run_heihachi(*args, "-o", str(tmp_path / "one"))
    assert one.returncode == 0, one.stderr
    two = subprocess.run([*_launcher(), *args, "-o", str(tmp_path / "two")], cwd=ROOT,
                         env=dict(os.environ, HF_HUB_OFFLINE="1"), capture_output=True,
                         text=True, timeout=300)
    assert two.returncode == 0, two.stderr[-3000:]
    s2 = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert sorted(e["track"] for e in s2["files"]) == [f"t{i}" for i in range(5)]
    assert all(e["status"] == "ok" for e in s2["files"])
    assert {e["rank"] for e in s2["files"]} == {0, 1}
    assert (tmp_path / "two" / "report.html").read_text().count("data-timeline=") == 5
    for i in range(5):
        for name in ("drums.json", "beats.json"):
            a = json.loads((tmp_path / "one" / f"t{i}" / name).read_text())
            b = json.loads((tmp_path / "two" / f"t{i}" / name).read_text())
            assert a.get("hits", a.get("beats")) == b.get("hits", b.get("beats"))


def test_stems_and_index_tasks_on_request(tiny_cache, tmp_path):
    """`stems` streams the separator's stems to disk; `index` adds segments to the index."""
    write_tone(tmp_path / "in" / "a.wav", seconds=3.0, freq=330, channels=2)
    write_tone(tmp_path / "in" / "b.wav", seconds=2.0, freq=550)
    index = tmp_path / "idx"
    res = run_heihachi("process", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "-q",
                       "profile=tiny", "process.tasks=[stems,index]",
                       "index.embedder=extractor", "extractor=spectral",
                       f"index.path={index}", "output.stems=[drums,bass]",
                       env={"HEIHACHI_MODELS_CACHE": str(tiny_cache)})
    assert res.returncode == 0, res.stderr
    for name, seconds in (("a", 3.0), ("b", 2.0)):
        doc = json.loads((tmp_path / "out" / name / "analysis.json").read_text())
        stems = doc["tasks"]["stems"]
        assert sorted(stems["files"]) == ["stems/bass.wav", "stems/drums.wav"]
        info = sf.info(tmp_path / "out" / name / "stems" / "drums.wav")
        assert info.samplerate == 44_100 and abs(info.duration - seconds) < 1e-3
        entry = json.loads((tmp_path / "out" / name / "index.json").read_text())
        assert entry["segments"] >= 1 and entry["changed"] is True
    stats = run_heihachi("index", "stats", "--index", str(index), "--json")
    assert stats.returncode == 0 and json.loads(stats.stdout)["tracks"] == 2
    hits = run_heihachi("index", "search", "--audio", str(tmp_path / "in" / "a.wav"),
                        "--index", str(index), "--per-track", "--json")
    assert hits.returncode == 0, hits.stderr
    assert json.loads(hits.stdout)[0]["track"].endswith("a.wav")


def test_hf_commands_write_the_click_track_too(process_run, tmp_path):
    """`output.formats=[click]` outside `process`: the writer decodes the file itself."""
    res = run_heihachi("hf", "beats", str(process_run["clip"]), "-o", str(tmp_path), "-q",
                       "output.formats=[json,click]")
    assert res.returncode == 0, res.stderr
    ours, sr = sf.read(tmp_path / "clip" / "click.wav", dtype="float32", always_2d=True)
    theirs, _ = sf.read(process_run["out"] / "clip" / "click.wav", dtype="float32",
                        always_2d=True)
    assert sr == 44_100 and ours.shape[0] == theirs.shape[0]
    np.testing.assert_allclose(ours[:, 0], theirs[:, 0], atol=2e-4)  # same beats, same clicks

"""What a run leaves on disk: every export despite one failing, reruns that make missing
outputs, warnings in summary.json, file modes, and progress that counts every file.

These run the real Runner + ``write_exports`` with a tiny in-test drum plugin (no model),
so they are fast; the CLI tests elsewhere cover the same path end to end.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from conftest import write_tone

from heihachi.results import Beats, DrumHit, DrumHits
from heihachi.runtime import Runner, RunOptions, place
from heihachi.runtime.pipeline import DRUM_FORMATS, write_exports
from heihachi.tasks import DrumTranscriber


class FakeDrums(DrumTranscriber):
    """A kick every half second and beats every half second, whatever the audio."""

    name = "fake-drums"
    sample_rate = 8_000
    window_s = None

    @dataclass
    class Config:
        pass

    def transcribe(self, batch):
        out = []
        for x in batch.unpadded():
            n = x.shape[-1] / self.sample_rate
            t = np.arange(0.0, n, 0.5)
            out.append(DrumHits([DrumHit(float(s), "kick", 0.9, 0.8) for s in t],
                                beats=Beats(beats=t)))
        return out


def run(tmp_path: Path, paths: list[Path], formats: list[str], progress: bool = False,
        **kw) -> object:
    opts = RunOptions(output_dir=tmp_path / "out", num_workers=0, formats=formats,
                      progress=progress, **kw)
    runner = Runner(FakeDrums(), opts, place("cpu", "fp32"), extra_writers=[write_exports])
    return runner.run(paths)


def test_a_non_latin1_name_writes_every_output(tmp_path):
    paths = [write_tone(tmp_path / "in" / name, seconds=2.0, sr=8_000)
             for name in ("ドラム.wav", "uni_dash—only.wav")]
    summary = run(tmp_path, paths, list(DRUM_FORMATS))
    assert summary.counts() == {"ok": 2, "failed": 0, "skipped": 0}, summary.entries
    for stem in ("ドラム", "uni_dash—only"):
        track = tmp_path / "out" / stem
        assert (track / "drums.json").is_file() and (track / "drums.mid").is_file()
        # the MIDI track name is stored as UTF-8 bytes, so the name survives
        assert stem.encode("utf-8") in (track / "drums.mid").read_bytes()


def test_one_failing_export_does_not_lose_the_others(tmp_path, monkeypatch):
    from heihachi import export

    def broken(track_dir, results, track_name):
        raise RuntimeError("the MIDI writer broke")

    monkeypatch.setitem(export.WRITERS, "midi", broken)
    path = write_tone(tmp_path / "in" / "a.wav", seconds=2.0, sr=8_000)
    summary = run(tmp_path, [path], ["json", "midi", "csv", "labels"])
    (entry,) = summary.entries
    assert entry.status == "failed" and "midi" in entry.error and "broke" in entry.error
    track = tmp_path / "out" / "a"
    for name in ("drums.json", "beats.json", "hits.csv", "labels.txt"):
        assert (track / name).is_file(), name
    # the rerun (writer fixed) makes the missing MIDI file instead of skipping the track
    monkeypatch.undo()
    summary = run(tmp_path, [path], ["json", "midi", "csv", "labels"])
    assert summary.counts()["ok"] == 1 and (track / "drums.mid").is_file()


def test_more_formats_on_a_rerun_produce_the_missing_outputs(tmp_path):
    path = write_tone(tmp_path / "in" / "a.wav", seconds=2.0, sr=8_000)
    assert run(tmp_path, [path], ["json"]).counts()["ok"] == 1
    track = tmp_path / "out" / "a"
    assert not (track / "drums.mid").exists()
    summary = run(tmp_path, [path], ["json", "midi", "csv"])
    assert summary.counts() == {"ok": 1, "failed": 0, "skipped": 0}
    assert (track / "drums.mid").is_file() and (track / "hits.csv").is_file()
    # fewer formats than were written: nothing to do
    assert run(tmp_path, [path], ["json", "midi"]).counts()["skipped"] == 1
    # an output deleted since: made again
    (track / "hits.csv").unlink()
    assert run(tmp_path, [path], ["json", "csv"]).counts()["ok"] == 1
    assert (track / "hits.csv").is_file()


def test_partial_nan_samples_are_a_warning_in_the_summary_and_the_log(tmp_path, capsys):
    x = 0.3 * np.sin(np.linspace(0, 800, 16_000)).astype(np.float32)
    x[1000:1100] = np.nan
    x[5000] = np.inf
    path = tmp_path / "in" / "bad.wav"
    path.parent.mkdir()
    sf.write(path, x, 8_000, subtype="FLOAT")
    good = write_tone(tmp_path / "in" / "good.wav", seconds=1.0, sr=8_000)
    summary = run(tmp_path, [path, good], ["json"])
    doc = json.loads((tmp_path / "out" / "summary.json").read_text())
    files = {Path(f["path"]).name: f for f in doc["files"]}
    assert files["bad.wav"]["status"] == "ok"
    assert "101 NaN/inf samples" in files["bad.wav"]["warning"]
    assert files["good.wav"]["warning"] is None
    assert "101 NaN/inf samples" in capsys.readouterr().err
    assert summary.counts()["ok"] == 2


def test_output_files_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_tone(tmp_path / "in" / "a.wav", seconds=1.0, sr=8_000)
        run(tmp_path, [path], ["json", "midi", "csv"])
    finally:
        os.umask(old)
    for f in [*(tmp_path / "out" / "a").iterdir(), tmp_path / "out" / "summary.json"]:
        assert f.stat().st_mode & 0o777 == 0o644, f


def test_progress_counts_a_file_that_fails_in_export(tmp_path, monkeypatch, capsys):
    from heihachi import export

    calls = {"n": 0}
    original = export.WRITERS["csv"]

    def sometimes(track_dir, results, track_name):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full (simulated)")
        return original(track_dir, results, track_name)

    monkeypatch.setitem(export.WRITERS, "csv", sometimes)
    paths = [write_tone(tmp_path / "in" / f"f{i}.wav", seconds=0.5, sr=8_000) for i in range(3)]
    summary = run(tmp_path, paths, ["json", "csv"], progress=True)
    assert summary.counts() == {"ok": 2, "failed": 1, "skipped": 0}
    err = capsys.readouterr().err  # stderr is not a terminal here: one line per file
    assert "3/3" in err, err


def test_progress_off_a_terminal_names_each_file_with_an_eta(tmp_path, capsys):
    paths = [write_tone(tmp_path / "in" / f"f{i}.wav", seconds=0.5, sr=8_000) for i in range(3)]
    run(tmp_path, paths, ["json"], progress=True)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    done = [ln for ln in lines if "/3" in ln]
    assert len(done) >= 3, lines
    assert "f0" in done[0] and "eta" in done[0].lower(), done[0]
    assert "3/3" in done[-1]


def test_short_files_skip_plots_and_timeline_by_default(tmp_path):
    from heihachi.config import compose

    cfg, _ = compose([])
    limit = cfg.output.plots_min_s
    assert limit >= 5  # one-shots and short loops: plots cost more than their analysis
    short = write_tone(tmp_path / "in" / "oneshot.wav", seconds=1.0, sr=8_000)
    run(tmp_path, [short], list(DRUM_FORMATS), plots_min_s=limit)
    track = tmp_path / "out" / "oneshot"
    assert (track / "drums.mid").is_file() and (track / "hits.csv").is_file()
    assert not list(track.glob("*.png")) and not (track / "timeline.html").exists()
    # the same command again: nothing to do; with output.plots_min_s=0 the rerun makes them
    assert run(tmp_path, [short], list(DRUM_FORMATS), plots_min_s=limit).counts()["skipped"]
    assert run(tmp_path, [short], list(DRUM_FORMATS), plots_min_s=0.0).counts()["ok"] == 1
    assert (track / "tempo.png").is_file() and (track / "timeline.html").is_file()

"""Exports of a `process` run round-trip: Rekordbox XML (read back by pyrekordbox), Traktor
NML (traktor-nml-utils' schema models, strict), JAMS (validated), Sonic Visualiser layers
(mir_eval's readers), the collection tables; and `compare` on runs with known differences.

The run here is written the way the pipeline writes one, with known beats, hits,
sections, key and loudness, so every exported value can be checked exactly.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import run_heihachi

BPM = 174.0
BEATS = [round(0.1 + i * 60 / BPM, 4) for i in range(64)]
DOWNBEATS = BEATS[::4]
SECTIONS = [{"start": DOWNBEATS[0], "end": DOWNBEATS[8], "label": "intro"},
            {"start": DOWNBEATS[8], "end": BEATS[-1], "label": "drop"}]
KICKS = DOWNBEATS
SNARES = BEATS[2::4]


def write_track(out: Path, name: str, beats: list[float], kicks: list[float],
                key: str = "A minor", camelot: str = "8A") -> Path:
    """A track directory as `heihachi process` leaves it (analysis.json + task files)."""
    d = out / name
    d.mkdir(parents=True)
    audio = d / f"{name}.flac"  # the 'source' the collection files point at
    audio.write_bytes(b"fLaC")
    hits = [{"time": t, "class": "kick", "confidence": 0.9, "velocity": 0.8, "label": "kick"}
            for t in kicks] + [{"time": t, "class": "snare", "confidence": 0.8,
                                "velocity": 0.7, "label": "snare"} for t in SNARES]
    hits.sort(key=lambda h: h["time"])
    downbeats = beats[::4]
    (d / "drums.json").write_text(json.dumps({
        "schema": "heihachi.drums/1", "hits": hits,
        "counts": {"kick": len(kicks), "snare": len(SNARES)}}))
    (d / "beats.json").write_text(json.dumps({
        "schema": "heihachi.beats/1", "beats": beats, "downbeats": downbeats,
        "tempo": round(60 / float(np.median(np.diff(beats))), 2)}))
    doc = {"schema": "heihachi.analysis/1", "track": name, "path": str(audio),
           "duration": 23.0, "tasks": {
               "drums": {"schema": "heihachi.drums/1", "file": "drums.json"},
               "beats": {"schema": "heihachi.beats/1", "file": "beats.json"},
               "sections": {"schema": "heihachi.sections/1", "result": {"sections": SECTIONS}},
               "key": {"schema": "heihachi.key/1", "result": {
                   "key": key, "camelot": camelot, "confidence": 0.9}},
               "energy": {"schema": "heihachi.energy/1",
                          "result": {"integrated_lufs": -9.5}}}}
    (d / "analysis.json").write_text(json.dumps(doc))
    return d


@pytest.fixture()
def run_dir(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    write_track(out, "alpha", BEATS, KICKS)
    return out


def test_rekordbox_xml_loads_back_with_grid_key_and_section_cues(run_dir):
    from pyrekordbox import RekordboxXml

    res = run_heihachi("export", str(run_dir), "--format", "rekordbox")
    assert res.returncode == 0, res.stderr
    xml = RekordboxXml(str(run_dir / "rekordbox.xml"))
    (track,) = xml.get_tracks()
    assert track["Name"] == "alpha" and track["Tonality"] == "Am"
    assert track["AverageBpm"] == pytest.approx(BPM, abs=0.01)
    assert track["TotalTime"] == 23
    assert Path("/" + track["Location"]) == run_dir / "alpha" / "alpha.flac"
    tempos = track.tempos
    assert [t["Inizio"] for t in tempos] == pytest.approx(DOWNBEATS, abs=1e-3)
    assert all(t["Battito"] == 1 and t["Metro"] == "4/4" for t in tempos)
    assert [t["Bpm"] for t in tempos] == pytest.approx([BPM] * len(tempos), abs=0.05)
    memory = [m for m in track.marks if m["Num"] == -1]
    hot = [m for m in track.marks if m["Num"] >= 0]
    assert [(m["Name"], m["Start"]) for m in memory] == [
        (s["label"], pytest.approx(s["start"], abs=1e-3)) for s in SECTIONS]
    assert [m["Num"] for m in hot] == [0, 1]
    assert xml.get_playlist("heihachi").get_tracks() == [1]


def test_traktor_nml_parses_strictly_with_grid_key_and_cues(run_dir):
    from traktor_nml_utils.models.collection import Nml
    from xsdata.formats.dataclass.parsers import XmlParser
    from xsdata.formats.dataclass.parsers.config import ParserConfig

    res = run_heihachi("export", str(run_dir), "--format", "traktor")
    assert res.returncode == 0, res.stderr
    parser = XmlParser(config=ParserConfig(fail_on_unknown_properties=True,
                                           fail_on_unknown_attributes=True))
    nml = parser.parse(str(run_dir / "collection.nml"), Nml)
    assert nml.version == 19 and nml.collection.entries == 1
    (entry,) = nml.collection.entry
    assert entry.title == "alpha" and entry.location.file == "alpha.flac"
    assert entry.location.dir == "".join(f"/:{p}" for p in (run_dir / "alpha").parts[1:]) + "/:"
    assert entry.tempo.bpm == pytest.approx(BPM, abs=0.01)
    assert entry.musical_key.value_attribute == 21  # A minor: minor keys are 12 + pitch class
    assert entry.info.key == "8A"
    grid = [c for c in entry.cue_v2 if c.type == 4]
    cues = [c for c in entry.cue_v2 if c.type == 0]
    assert len(grid) == 1 and grid[0].start == pytest.approx(DOWNBEATS[0] * 1000, abs=0.01)
    assert grid[0].grid.bpm == pytest.approx(BPM, abs=0.01)
    assert [(c.name, c.start, c.hotcue) for c in cues] == [
        (s["label"], pytest.approx(s["start"] * 1000, abs=0.01), i)
        for i, s in enumerate(SECTIONS)]
    (pl_entry,) = nml.playlists.node.subnodes.node[0].playlist.entry
    assert pl_entry.primarykey.key == entry.location.volume + entry.location.dir + "alpha.flac"


def test_jams_and_tables_carry_beats_sections_key_and_hits(run_dir):
    import jams

    for fmt in ("jams", "json", "csv", "markdown"):
        res = run_heihachi("export", str(run_dir), "--format", fmt)
        assert res.returncode == 0, res.stderr
    jam = jams.load(str(run_dir / "jams" / "alpha.jams"))  # validates against the schema
    beat = jam.search(namespace="beat")[0]
    assert [o.time for o in beat.data] == pytest.approx(BEATS)
    assert [o.value for o in beat.data][:5] == [1, 2, 3, 4, 1]
    seg = jam.search(namespace="segment_open")[0]
    assert [(o.time, o.value) for o in seg.data] == [
        (pytest.approx(s["start"]), s["label"]) for s in SECTIONS]
    assert jam.search(namespace="key_mode")[0].data[0].value == "A:minor"
    assert len(jam.search(namespace="onset")[0].data) == len(KICKS) + len(SNARES)
    doc = json.loads((run_dir / "collection.json").read_text())
    (row,) = doc["tracks"]
    assert row["tempo"] == pytest.approx(BPM, abs=0.01) and row["camelot"] == "8A"
    assert row["loudness_lufs"] == -9.5 and row["counts"] == {"kick": 16, "snare": 16}
    assert [s["label"] for s in row["sections"]] == ["intro", "drop"]
    (csv_row,) = list(csv.DictReader((run_dir / "collection.csv").open()))
    assert csv_row["key"] == "A minor" and csv_row["kick"] == "16"
    assert csv_row["sections"].startswith("intro@0.1 drop@")
    md = (run_dir / "collection.md").read_text().splitlines()
    assert md[0].startswith("| track |") and md[2].startswith("| alpha | 23.0 |")


def test_sonic_visualiser_layers_read_back_with_mir_eval(process_run):
    import mir_eval

    d = process_run["out"] / "clip"
    times, labels = mir_eval.io.load_labeled_events(str(d / "beats.beats"))
    beats = json.loads((d / "beats.json").read_text())
    assert times.tolist() == pytest.approx(beats["beats"], abs=6e-5)  # json keeps 4 digits
    ones = [t for t, lab in zip(times, labels, strict=True) if lab == "1"]
    assert ones == pytest.approx(beats["downbeats"], abs=6e-5)

    from heihachi.export.sonic_visualiser import write_sv
    from heihachi.results import Beats

    class Sections:
        def to_json(self):
            return {"sections": SECTIONS}

    (_beats, txt) = write_sv(d.parent / "sv_test", {"beats": Beats(BEATS, DOWNBEATS),
                                                    "sections": Sections()}, "t")
    intervals, names = mir_eval.io.load_labeled_intervals(str(txt))
    assert names == ["intro", "drop"]
    assert intervals.ravel().tolist() == pytest.approx([v for s in SECTIONS
                                                        for v in (s["start"], s["end"])])
    shutil.rmtree(d.parent / "sv_test")


def test_compare_reports_known_differences(run_dir, tmp_path):
    other = tmp_path / "other"
    late = [round(t + 0.1, 4) for t in BEATS]  # every beat 100 ms late: outside 70 ms
    write_track(other, "alpha", late, KICKS[::2], key="C major", camelot="8B")
    res = run_heihachi("compare", str(run_dir), str(other), "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    (row,) = doc["tracks"]
    assert row["beat_f"] == 0.0
    assert row["tempo_diff"] == pytest.approx(0.0, abs=0.01)
    assert row["hit_f"] == {"kick": pytest.approx(2 / 3, abs=1e-3), "snare": 1.0}
    assert row["key_a"] == "A minor" and row["key_b"] == "C major"
    assert row["key_agree"] is False and row["key_score"] == 0.3  # relative major
    assert row["boundary_f"] == 1.0
    same = json.loads(run_heihachi("compare", str(run_dir), str(run_dir), "--json").stdout)
    assert same["tracks"][0]["beat_f"] == 1.0 and same["mean"]["key_agreement"] == 1.0
    table = run_heihachi("compare", str(run_dir), str(other))
    assert table.returncode == 0 and "alpha" in table.stdout and "kick F" in table.stdout


def test_compare_two_real_runs_with_another_threshold(process_run, tmp_path):
    """Raising the hit threshold loses hits (F < 1) but not beats (same activations)."""
    res = run_heihachi("process", str(process_run["clip"]), "-o", str(tmp_path / "b"), "-q",
                       "process.tasks=[drums,beats]", "drums.threshold_scale=1.6")
    assert res.returncode == 0, res.stderr
    doc = json.loads(run_heihachi("compare", str(process_run["out"]), str(tmp_path / "b"),
                                  "--json").stdout)
    (row,) = doc["tracks"]
    assert doc["only_in_a"] == ["late"] and row["track"] == "clip"
    assert row["beat_f"] == 1.0 and row["tempo_diff"] == 0.0
    assert min(row["hit_f"].values()) < 1.0


def test_export_and_compare_refuse_a_directory_without_a_run(tmp_path):
    res = run_heihachi("export", str(tmp_path), "--format", "csv")
    assert res.returncode == 2 and "no analysed tracks" in res.stderr

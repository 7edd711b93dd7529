"""Every writer: CSV, MIDI (re-read with mido, tempo map), labels, JAMS, plots, timeline."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from heihachi.errors import HeihachiError
from heihachi.export import WRITERS, drums_to_midi
from heihachi.export.midi import PPQ, gm_note
from heihachi.music.patterns import analyze_patterns
from heihachi.results import Beats, DrumHit, DrumHits


def beat_grid(segments: list[tuple[float, float]], start: float = 0.3) -> np.ndarray:
    out, t, end = [], start, start
    for bpm, dur in segments:
        end += dur
        while t < end:
            out.append(t)
            t += 60.0 / bpm
    return np.array(out)


def make_results(beats: np.ndarray, seed: int = 0) -> dict[str, object]:
    """Two-step DnB-ish hits on ``beats`` plus off-grid hits, with beats and patterns."""
    rng = np.random.default_rng(seed)
    hits: list[DrumHit] = []
    for i, b in enumerate(beats[:-1]):
        ibi = beats[i + 1] - b
        if i % 4 == 0:
            hits.append(DrumHit(b, "kick", 0.95, 0.9))
        if i % 4 == 2:
            hits.append(DrumHit(b + ibi / 2, "kick", 0.8, 0.7))
        if i % 2 == 1:
            hits.append(DrumHit(b + 0.003, "snare", 0.9, 1.0))
        hits.append(DrumHit(b, "hihat", float(rng.uniform(0.3, 1)), 0.4, "closed hat"))
        hits.append(DrumHit(b + ibi / 2, "hihat", 0.6, 0.3, "open hat"))
        if i % 16 == 15:
            hits.append(DrumHit(b + ibi / 4, "tom", 0.7, 0.5, "floor tom"))
            hits.append(DrumHit(b + ibi / 4 + 0.0005, "cymbal", 0.7, 0.01, "ride"))
    hits.sort(key=lambda h: h.time)
    downbeats = beats[::4]
    return {"beats": Beats(beats, downbeats, confidence=0.9), "drums": DrumHits(hits),
            "patterns": analyze_patterns(hits, beats, downbeats)}


def read_midi_notes(path: Path) -> list[tuple[float, int, int]]:
    """``(seconds, note, velocity)`` of every note_on with velocity > 0, as mido plays it."""
    import mido

    t, out = 0.0, []
    for msg in mido.MidiFile(str(path)):
        t += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            assert msg.channel == 9
            out.append((t, msg.note, msg.velocity))
    return out


@pytest.mark.parametrize("segments", [[(174, 20)], [(128, 15), (174, 15)],
                                      [(90, 10), (140, 5), (100, 10)]])
def test_midi_notes_at_right_times(tmp_path: Path, segments: list[tuple[float, float]]) -> None:
    beats = beat_grid(segments)
    beats = beats + np.random.default_rng(1).normal(0, 0.004, len(beats))  # tracker wobble
    hits = make_results(beats)["drums"].hits  # type: ignore[attr-defined]
    path = drums_to_midi(hits, beats, tmp_path / "d.mid")
    notes = read_midi_notes(path)
    expected = sorted((h.time, gm_note(h)) for h in hits)
    assert len(notes) == len(expected)
    got = sorted((t, n) for t, n, _ in notes)
    for (te, ne), (tg, ng) in zip(expected, got, strict=True):
        assert ng == ne
        assert abs(tg - te) < 0.005
    import mido

    mid = mido.MidiFile(str(path))
    assert mid.ticks_per_beat == PPQ
    tempos = [m.tempo for m in mid.tracks[0] if m.type == "set_tempo"]
    bpms = {round(mido.tempo2bpm(t)) for t in tempos}
    assert {round(b) for b, _ in segments} <= {b for b in range(0, 400) if any(
        abs(b - x) <= 3 for x in bpms)}


def test_midi_notes_velocities_and_no_beats(tmp_path: Path) -> None:
    hits = [DrumHit(0.1, "kick", 1, 1.0), DrumHit(0.2, "snare", 1, 0.5),
            DrumHit(0.3, "hihat", 1, 0.0), DrumHit(0.4, "tom", 1, 0.5, "high tom"),
            DrumHit(0.5, "tom", 1, 0.5), DrumHit(0.6, "cymbal", 1, 0.5, "ride"),
            DrumHit(0.7, "cymbal", 1, 0.5, "crash"), DrumHit(0.8, "tom", 1, 0.5, "low tom"),
            DrumHit(0.9, "kick", 1, 0.5), DrumHit(0.9, "kick", 1, 0.5)]  # duplicate
    notes = read_midi_notes(drums_to_midi(hits, None, tmp_path / "d.mid"))
    assert [n for _, n, _ in notes] == [36, 38, 42, 50, 47, 51, 49, 45, 36]
    assert [v for _, _, v in notes][:3] == [127, 64, 1]
    assert all(abs(t - h.time) < 0.005 for (t, _, _), h in zip(notes, hits, strict=False))


def test_csv(tmp_path: Path) -> None:
    res = make_results(beat_grid([(174, 5)]))
    paths = WRITERS["csv"](tmp_path, res, "t")
    assert {p.name for p in paths} == {"hits.csv", "beats.csv"}
    rows = list(csv.DictReader((tmp_path / "hits.csv").open()))
    assert len(rows) == len(res["drums"].hits)  # type: ignore[attr-defined]
    assert rows[0].keys() == {"time", "class", "confidence", "velocity", "label"}
    beats = list(csv.DictReader((tmp_path / "beats.csv").open()))
    assert [b["beat"] for b in beats[:5]] == ["1", "2", "3", "4", "1"]
    assert beats[4]["bar"] == "2" and beats[4]["downbeat"] == "1"
    assert not list(tmp_path.glob(".*tmp*"))  # atomic: no temp files left


def test_labels(tmp_path: Path) -> None:
    beats = beat_grid([(120, 4)])
    res = make_results(beats)
    res["beats"] = Beats(beats, beats[1::4])  # a pickup beat before the first bar
    (path,) = WRITERS["labels"](tmp_path, res, "t")
    lines = [ln.split("\t") for ln in path.read_text().splitlines()]
    assert all(len(ln) == 3 for ln in lines)
    beat_labels = [lab for _, _, lab in lines if lab.startswith("beat")]
    assert beat_labels[:3] == ["beat 0.4", "beat 1.1", "beat 1.2"]
    assert "hihat:open hat" in {lab for _, _, lab in lines}
    starts = [float(a) for a, _, _ in lines]
    assert starts == sorted(starts)
    assert WRITERS["labels"](tmp_path, {}, "t") == []
    # a tracker that found no beat still gets its (empty) label track
    empty = WRITERS["labels"](tmp_path / "empty", {"beats": Beats(beats=np.zeros(0),
                                                                   downbeats=np.zeros(0))}, "t")
    assert [p.name for p in empty] == ["labels.txt"] and empty[0].read_text() == ""


def test_jams(tmp_path: Path) -> None:
    jams = pytest.importorskip("jams")
    res = make_results(beat_grid([(174, 5)]))
    (path,) = WRITERS["jams"](tmp_path, res, "my track")
    jam = jams.load(str(path))
    assert jam.file_metadata.title == "my track"
    beat = jam.search(namespace="beat")[0]
    assert len(beat.data) == len(res["beats"].beats)  # type: ignore[attr-defined]
    assert [o.value for o in beat.data[:5]] == [1, 2, 3, 4, 1]
    assert jam.search(namespace="tempo")[0].data[0].value == pytest.approx(174, rel=0.01)
    tags = jam.search(namespace="tag_open")[0]
    assert len(tags.data) == len(res["drums"].hits)  # type: ignore[attr-defined]
    assert len(jam.search(namespace="onset")[0].data) == len(tags.data)


def test_jams_missing_gives_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jams", None)
    with pytest.raises(HeihachiError, match="pip install jams"):
        WRITERS["jams"](tmp_path, make_results(beat_grid([(174, 2)])), "t")


def test_plots(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    res = make_results(beat_grid([(128, 10), (174, 10)]))
    paths = WRITERS["plots"](tmp_path, res, "t")
    assert len(paths) == 5
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 2000
    # empty results still plot (no crash on no hits / no beats)
    empty = {"beats": Beats(np.zeros(0)), "drums": DrumHits([])}
    assert len(WRITERS["plots"](tmp_path / "empty", empty, "t")) == 5


def test_timeline_is_self_contained(tmp_path: Path) -> None:
    res = make_results(beat_grid([(174, 8)]))
    res["drums"].hits.append(DrumHit(1.0, "snare", 0.5, 0.5, "</script><b>x"))  # type: ignore
    (path,) = WRITERS["timeline"](tmp_path, res, "a <track> & co")
    text = path.read_text()
    assert "http://" not in text and "https://" not in text and "src=" not in text
    assert text.count("</script>") == 2
    blob = text.split('type="application/json">')[1].split("</script>")[0]
    data = json.loads(blob)
    assert len(data["hits"]) == len(res["drums"].hits)  # type: ignore[attr-defined]
    assert data["beats"][0][1:] == [1, 1]
    assert "a &lt;track&gt; &amp; co" in text


def test_writers_registry_signature(tmp_path: Path) -> None:
    res = make_results(beat_grid([(174, 4)]))
    assert set(WRITERS) >= {"csv", "midi", "labels", "jams", "plots", "timeline"}
    for name, writer in WRITERS.items():
        paths = writer(tmp_path / name, res, "track")
        assert paths and all(p.exists() and p.parent == tmp_path / name for p in paths)
        assert writer(tmp_path / f"{name}-none", {}, "track") == []


def _captured_figures(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Plot functions' figures by file name, instead of PNG files."""
    from heihachi.export import plots

    figures: dict[str, object] = {}

    def keep(fig, path):
        figures[Path(path).name] = fig
        return path

    monkeypatch.setattr(plots, "_save", keep)
    return figures


def test_density_plot_shows_the_last_bin_and_starts_at_zero(tmp_path, monkeypatch) -> None:
    from heihachi.export.plots import plot_hit_density

    figures = _captured_figures(monkeypatch)
    hits = [DrumHit(t, "kick", 0.9, 0.8) for t in (0.5, 1.0, 2.5, 4.2, 4.4, 4.6, 4.8, 5.0)]
    plot_hit_density(DrumHits(hits), tmp_path, bin_s=2.0)
    ax = figures["drums_density.png"].axes[0]  # type: ignore[attr-defined]
    drawn = [(x, y) for artist in [*ax.lines, *ax.patches, *ax.collections]
             for x, y in _xy(artist)]
    assert max(x for x, _ in drawn) >= 6.0  # the bin [4, 6) holding 5 hits is drawn
    assert any(y == pytest.approx(2.5) for _, y in drawn)  # 5 hits / 2 s
    assert ax.get_ylim()[0] == 0


def _xy(artist: object) -> list[tuple[float, float]]:
    """The data points of a line, or the outline of a step patch."""
    if hasattr(artist, "get_xydata"):
        return [tuple(p) for p in artist.get_xydata()]  # type: ignore[attr-defined]
    path = artist.get_path()  # type: ignore[attr-defined]
    return [tuple(p) for p in path.vertices]


@pytest.mark.parametrize("confidence", [None, 0.05])
def test_tempo_plot_claims_no_tempo_without_a_pulse(tmp_path, monkeypatch, confidence) -> None:
    from heihachi.export.plots import plot_tempo_curve

    figures = _captured_figures(monkeypatch)
    if confidence is None:  # no beats at all: tempo is null
        beats = Beats(np.zeros(0))
    else:  # beats of silence at 176.5 BPM, with a confidence that says there is no pulse
        beats = Beats(np.arange(30) * 60 / 176.5, confidence=confidence)
    plot_tempo_curve(beats, tmp_path)
    title = figures["tempo.png"].axes[0].get_title()  # type: ignore[attr-defined]
    assert "176" not in title and "BPM" not in title.replace("no tempo", ""), title
    steady = Beats(np.arange(30) * 60 / 174.0, confidence=0.9)
    plot_tempo_curve(steady, tmp_path)
    assert "174.0 BPM" in figures["tempo.png"].axes[0].get_title()  # type: ignore[attr-defined]


def test_timeline_duration_is_the_audio_length(tmp_path: Path) -> None:
    from heihachi.export.timeline import timeline_data

    res = make_results(beat_grid([(174, 8)]))
    res["duration"] = 42.5
    assert timeline_data(res, "t")["duration"] == 42.5


def _tracked_beats(bpm: float, seconds: float, fps: float = 100.0, start: float = 0.31
                   ) -> np.ndarray:
    """Beats of a steady tempo as a frame-based tracker reports them (whole frames)."""
    beats = start + np.arange(int(seconds * bpm / 60)) * 60.0 / bpm
    return np.round(beats * fps) / fps


def test_midi_tempo_map_is_steady_where_the_tempo_is_steady(tmp_path: Path) -> None:
    import mido

    beats = _tracked_beats(174.0, 60.0)  # IBIs of 34 and 35 frames: 171.4-176.5 BPM
    hits = make_results(beats)["drums"].hits  # type: ignore[attr-defined]
    path = drums_to_midi(hits, beats, tmp_path / "steady.mid")
    tempos = [mido.tempo2bpm(m.tempo) for m in mido.MidiFile(str(path)).tracks[0]
              if m.type == "set_tempo"]
    assert len(tempos) == 1 and tempos[0] == pytest.approx(174.0, abs=0.2), tempos
    notes = read_midi_notes(path)  # notes still play at their own times
    expected = sorted(h.time for h in hits)
    assert np.abs(np.array([t for t, _, _ in notes]) - np.array(expected)).max() < 0.005


def test_midi_tempo_map_changes_where_the_tempo_changes(tmp_path: Path) -> None:
    import mido

    first = _tracked_beats(128.0, 20.0)
    second = _tracked_beats(174.0, 20.0, start=first[-1] + 60 / 128.0)
    beats = np.concatenate([first, second])
    hits = make_results(beats)["drums"].hits  # type: ignore[attr-defined]
    path = drums_to_midi(hits, beats, tmp_path / "change.mid")
    msgs = [m for m in mido.MidiFile(str(path)).tracks[0] if m.type == "set_tempo"]
    bpms = [mido.tempo2bpm(m.tempo) for m in msgs]
    assert 2 <= len(bpms) <= 4, bpms
    assert bpms[0] == pytest.approx(128.0, abs=0.3) and bpms[-1] == pytest.approx(174.0, abs=0.3)
    notes = read_midi_notes(path)
    expected = sorted(h.time for h in hits)
    assert np.abs(np.array([t for t, _, _ in notes]) - np.array(expected)).max() < 0.005

"""The whole-track analyses as ``heihachi process`` tasks: sections, key, energy, transitions.

Each keeps compact per-frame features while the track streams past and finishes from
those (costs per hour of audio are in the README's process section):

- ``energy`` (44.1 kHz stereo, the decode as it comes): EBU R128 loudness through
  pyloudnorm's K-weighting, an energy and bass curve, drops
  (:mod:`heihachi.music.loudness`).
- ``sections`` (the configured ``segmenter`` plugin; needs ``beats`` and ``drums``):
  sections with labels and letters, and per section whether an Amen break and a reese
  bass play.
- ``key`` (the configured ``key-detector`` plugin; needs ``beats`` and ``sections``):
  the key of the track and of every section, with Camelot codes and confidence; the
  first bar of every phrase (each section start and every 8 bars) weighs more.
- ``transitions`` (22.05 kHz mono; needs ``beats``): for continuous mixes, where each
  track gives way to the next, blend length and type (:mod:`heihachi.music.transitions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import heihachi
from heihachi.process.plugin_task import PluginTask
from heihachi.process.task import ProcessTask, TaskResult, TrackInfo


class EnergyTask(ProcessTask):
    """Loudness (EBU R128: integrated, range, short-term), energy curve and drops."""

    name = "energy"
    sample_rate = 44_100
    channels = 2

    @dataclass
    class Config:
        curve_step_s: float = 0.5  # one value of the energy curve per this many seconds
        drop_window_s: float = 8.0  # compared before/after each candidate drop
        drop_rise_lu: float = 3.0  # loudness rise of a drop
        drop_bass_rise_db: float = 6.0  # bass rise of a drop

    def start(self, track: TrackInfo) -> None:
        from heihachi.music.loudness import LoudnessMeter

        # a mono file is measured as one channel (BS.1770), not as two copies of it (+3 LU)
        self.mono = track.native_channels == 1
        self.meter = LoudnessMeter(int(self.sample_rate or 44_100),
                                   1 if self.mono else self.channels)

    def feed(self, window: Any) -> None:
        self.meter.feed(window.audio[:1] if self.mono else window.audio)

    def finish(self, results: dict[str, Any]) -> TaskResult:
        import numpy as np

        from heihachi.analysis_results import Energy
        from heihachi.music.loudness import find_drops

        data = self.meter.result()
        cfg = self.config
        t, lufs, bass = data.curve(cfg.curve_step_s)
        st = data.short_term()
        drops = find_drops(t, lufs, bass, None, cfg.drop_window_s, cfg.drop_rise_lu,
                           cfg.drop_bass_rise_db)
        peak = 20 * np.log10(data.peak) if data.peak > 0 else None
        return TaskResult(Energy(data.integrated(), data.loudness_range(),
                                 data.momentary_max(), float(st.max()) if len(st) else None,
                                 peak, cfg.curve_step_s, t, lufs, bass, drops))

    def abort(self) -> None:
        self.meter = None


class SectionsTask(PluginTask):
    """Sections (intro, build-up, drop, breakdown, outro + letters), Amen and reese."""

    name = "sections"
    kind = "segmenter"
    requires = ("beats", "drums")
    inline = True

    def finish(self, results: dict[str, Any]) -> TaskResult:
        from heihachi.tasks import SectionContext

        frames = self.run_plugin()
        beats, drums = results["beats"], results["drums"]
        duration = float(self.state.duration or self.track.duration or 0.0)
        ctx = SectionContext(duration, beats.beats, beats.downbeats,
                             [h.time for h in drums.hits], [h.drum_class for h in drums.hits])
        return TaskResult(self.plugin.segment(frames, ctx))


class KeyTask(PluginTask):
    """Key, mode, Camelot code and confidence of the track and of each section."""

    name = "key"
    kind = "key-detector"
    requires = ("beats", "sections")
    inline = True

    @dataclass
    class Config:
        phrase_bars: int = 8  # a phrase starts at each section start and every N bars

    def finish(self, results: dict[str, Any]) -> TaskResult:
        from heihachi.analysis_results import KeyResult
        from heihachi.music.key import phrase_spans

        frames = self.run_plugin()
        downbeats = results["beats"].downbeats
        sections = results["sections"].sections
        starts = [s.start for s in sections] or [0.0]
        phrases = phrase_spans(downbeats, starts, self.config.phrase_bars)
        whole = self.plugin.estimate(frames, None, None, phrases)
        per = []
        for s in sections:
            est = self.plugin.estimate(frames, s.start, s.end,
                                       phrase_spans(downbeats, [s.start],
                                                    self.config.phrase_bars, s.end))
            row: dict[str, Any] = {"start": round(s.start, 3), "end": round(s.end, 3),
                                   "label": s.label}
            row.update(est.to_json() if est is not None else {"key": None, "camelot": None})
            per.append(row)
        return TaskResult(KeyResult(whole, per))


class TransitionsTask(ProcessTask):
    """Mix transitions: where each track gives way to the next, blend length and type."""

    name = "transitions"
    requires = ("beats",)
    sample_rate = 22_050
    channels = 1
    window_s = 30.0

    @dataclass
    class Config:
        min_gap_s: float = 30.0  # shortest time between two transitions (a track alone)
        penalty: float = 4.5  # cost of one more cut: higher finds fewer transitions
        kernel_s: float = 30.0  # seconds compared each side for a transition's strength

    def start(self, track: TrackInfo) -> None:
        self.rows: list[Any] = []

    def feed(self, window: Any) -> None:
        from heihachi.music.transitions import mix_frames

        self.rows.append(mix_frames(window.audio.reshape(-1), int(self.sample_rate or 22_050)))

    def finish(self, results: dict[str, Any]) -> TaskResult:
        import numpy as np

        from heihachi.analysis_results import Transitions
        from heihachi.music.transitions import N_FEATURES, find_transitions

        rows = (np.concatenate(self.rows) if self.rows
                else np.zeros((0, N_FEATURES), np.float32))
        cfg = self.config
        found = find_transitions(rows, results["beats"].beats, kernel_s=cfg.kernel_s,
                                 penalty=cfg.penalty, min_gap_s=cfg.min_gap_s)
        return TaskResult(Transitions(found))

    def abort(self) -> None:
        self.rows = []


@heihachi.hookimpl
def register_process_tasks(register: Any) -> None:
    for cls in (EnergyTask, SectionsTask, KeyTask, TransitionsTask):
        register(cls)

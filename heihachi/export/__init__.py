"""Writers of per-track outputs: ``WRITERS`` maps a format name to its writer.

Every writer has the signature ``write_<fmt>(track_dir, results, track_name) -> [paths]``
where ``results`` maps task names (``"beats"``, ``"drums"``, ``"patterns"``) to result
objects; a writer writes only what its results allow and writes atomically. Writers
import their heavy dependencies (mido, jams, matplotlib) only when called.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from heihachi.export.click import write_click
from heihachi.export.csv_writer import write_csv
from heihachi.export.jams_writer import write_jams
from heihachi.export.labels import write_labels
from heihachi.export.midi import drums_to_midi, write_midi
from heihachi.export.plots import write_plots
from heihachi.export.sonic_visualiser import write_sv
from heihachi.export.timeline import write_timeline

Writer = Callable[[Path, dict[str, Any], str], list[Path]]

WRITERS: dict[str, Writer] = {
    "csv": write_csv,
    "midi": write_midi,
    "labels": write_labels,
    "jams": write_jams,
    "plots": write_plots,
    "timeline": write_timeline,
    "sv": write_sv,
}

#: writers that also need the audio file: ``w(track_dir, results, track_name, source=path)``
#: (``hf`` commands call them with the input; ``process`` feeds its ``click`` task instead)
AUDIO_WRITERS: dict[str, Callable[..., list[Path]]] = {"click": write_click}

__all__ = [
    "AUDIO_WRITERS",
    "WRITERS",
    "Writer",
    "drums_to_midi",
    "write_click",
    "write_csv",
    "write_jams",
    "write_labels",
    "write_midi",
    "write_plots",
    "write_sv",
    "write_timeline",
]

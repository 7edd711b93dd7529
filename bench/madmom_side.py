"""madmom beside heihachi in the rendered benches, when the optional extra is installed.

``madmom_beat_rows(items)`` runs the ``beats=madmom`` plugin's two trackers (the RNN +
bar-aware DBN downbeat tracker, and the RNN + DBN beat tracker) on ``[(wav path, ann)]``
(``ann`` with ``beats``, ``downbeats``, ``tempo``, ``style``) and returns their beat F
(70 ms), tempo within 4 % and downbeat F over the clips with a metre, or ``{}`` when
madmom is not installed.  ``bench/quality.py`` prints them as extra columns.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def madmom_beat_rows(items: list[tuple[Path, dict]]) -> dict[str, dict[str, float]]:
    """``{tracker label: {"beat_f", "tempo", "downbeat_f", "n"}}`` (empty without madmom)."""
    import mir_eval

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.fof_charts import load_mono
    from heihachi.plugins.madmom_beats import MadmomBeats, import_madmom

    try:
        import_madmom()
    except ImportError:
        return {}
    out: dict[str, dict[str, float]] = {}
    for label, mode in (("madmom downbeats", "downbeats"), ("madmom DBN", "beats")):
        tracker = MadmomBeats(MadmomBeats.Config(mode=mode))
        tracker.load()
        bf, ok, dfs = [], [], []
        for path, ann in items:
            if ann.get("style") == "random":
                continue
            res = tracker.track_array(load_mono(Path(path), tracker.sample_rate))
            bf.append(mir_eval.beat.f_measure(np.asarray(ann["beats"]), res.beats, 0.07))
            tempo = res.tempo or 0.0
            ok.append(abs(tempo - ann["tempo"]) <= 0.04 * ann["tempo"])
            if mode == "downbeats":
                dfs.append(mir_eval.beat.f_measure(np.asarray(ann["downbeats"]),
                                                   res.downbeats, 0.07))
        out[label] = {"beat_f": float(np.mean(bf)) if bf else 0.0,
                      "tempo": float(np.mean(ok)) if ok else 0.0,
                      "downbeat_f": float(np.mean(dfs)) if dfs else float("nan"),
                      "n": float(len(bf))}
    return out

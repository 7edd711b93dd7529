"""PNG plots of drum and beat results (matplotlib, Agg, imported only when plotting).

Each ``plot_*`` function takes result objects and an output folder and returns the
path it wrote. Figures are made with ``matplotlib.figure.Figure`` (no pyplot state),
so plotting is safe in worker threads and leaves no figures open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from heihachi.export.grid import has_pulse
from heihachi.results import DRUM_CLASSES, Beats, DrumHits
from heihachi.runtime.atomic import atomic_path

COLOURS = {"kick": "#d62728", "snare": "#1f77b4", "hihat": "#2ca02c", "tom": "#9467bd",
           "cymbal": "#ff7f0e"}


def _figure(width: float = 8.0, height: float = 4.0) -> Any:
    # Figure + savefig use the Agg renderer for PNG without touching pyplot's backend.
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return path


def _classes(drums: DrumHits) -> list[str]:
    present = {h.drum_class for h in drums.hits}
    return [c for c in DRUM_CLASSES if c in present] + sorted(present - set(DRUM_CLASSES))


def plot_class_distribution(drums: DrumHits, out_dir: Path) -> Path:
    """Bar chart: number of hits per class."""
    counts = drums.counts()
    fig = _figure(6, 3.5)
    ax = fig.add_subplot()
    names = list(counts)
    ax.bar(names, [counts[n] for n in names], color=[COLOURS.get(n, "grey") for n in names])
    ax.set_ylabel("hits")
    ax.set_title("Drum hits per class")
    return _save(fig, Path(out_dir) / "drums_classes.png")


def _bins(drums: DrumHits, bin_s: float, duration: float | None = None) -> np.ndarray:
    """Bin edges from 0 to the end of the audio (when known) or the last hit; the last
    bin is closed, so a hit right at the end is counted."""
    end = max([h.time for h in drums.hits] + [duration or 0.0])
    return np.arange(max(1, int(np.ceil(end / bin_s))) + 1) * bin_s


def plot_hit_density(drums: DrumHits, out_dir: Path, bin_s: float = 2.0,
                     duration: float | None = None) -> Path:
    """Hits per second over time, all classes together (every bin drawn, y from 0)."""
    edges = _bins(drums, bin_s, duration)
    counts, _ = np.histogram([h.time for h in drums.hits], bins=edges)
    fig = _figure(8, 3)
    ax = fig.add_subplot()
    ax.stairs(counts / bin_s, edges, color="black")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("hits / s")
    ax.set_title("Hit density")
    return _save(fig, Path(out_dir) / "drums_density.png")


def plot_class_heatmap(drums: DrumHits, out_dir: Path, bin_s: float = 2.0,
                       duration: float | None = None) -> Path:
    """Heatmap: hits per second of each class (rows) over time (columns)."""
    edges = _bins(drums, bin_s, duration)
    classes = _classes(drums) or list(DRUM_CLASSES)
    grid = np.stack([np.histogram([h.time for h in drums.hits if h.drum_class == c],
                                  bins=edges)[0] / bin_s for c in classes])
    fig = _figure(8, 0.5 * len(classes) + 1.5)
    ax = fig.add_subplot()
    im = ax.imshow(grid, aspect="auto", interpolation="nearest", cmap="magma", origin="upper",
                   extent=(float(edges[0]), float(edges[-1]), len(classes) - 0.5, -0.5))
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("time (s)")
    fig.colorbar(im, ax=ax, label="hits / s")
    ax.set_title("Hit density per class")
    return _save(fig, Path(out_dir) / "drums_heatmap.png")


def plot_confidence_velocity(drums: DrumHits, out_dir: Path) -> Path:
    """Scatter: confidence against velocity, one colour per class."""
    fig = _figure(5, 4)
    ax = fig.add_subplot()
    for c in _classes(drums):
        hs = [h for h in drums.hits if h.drum_class == c]
        ax.scatter([h.velocity for h in hs], [h.confidence for h in hs], s=8, alpha=0.6,
                   label=c, color=COLOURS.get(c, "grey"))
    ax.set_xlabel("velocity")
    ax.set_ylabel("confidence")
    if drums.hits:
        ax.legend(fontsize="small")
    ax.set_title("Confidence vs velocity")
    return _save(fig, Path(out_dir) / "drums_confidence_velocity.png")


def tempo_title(beats: Beats) -> str:
    """``Tempo 174.0 BPM``, or a title that claims no tempo when there is no pulse."""
    if beats.tempo is None:
        return "Tempo: none (no beats)"
    if not has_pulse(beats):
        return f"Tempo: none (no steady pulse, confidence {beats.confidence:.2f})"
    return f"Tempo {beats.tempo:.1f} BPM"


def plot_tempo_curve(beats: Beats, out_dir: Path) -> Path:
    """Local tempo over time, with downbeats marked along the bottom."""
    curve = beats.tempo_curve() if has_pulse(beats) else []
    fig = _figure(8, 3)
    ax = fig.add_subplot()
    if curve:
        t, bpm = zip(*curve, strict=True)
        ax.plot(t, bpm, color="#1f77b4", lw=1.2, label="local tempo")
        lo, hi = min(bpm), max(bpm)
        ax.set_ylim(lo - 5, hi + 5)
        if len(beats.downbeats):
            ax.plot(beats.downbeats, np.full(len(beats.downbeats), lo - 4), "|", color="grey",
                    label="downbeats")
        ax.legend(fontsize="small", loc="upper right")
    ax.set_title(tempo_title(beats))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("BPM")
    return _save(fig, Path(out_dir) / "tempo.png")


def write_plots(track_dir: Path, results: dict[str, Any], track_name: str) -> list[Path]:
    """Every plot the given results allow."""
    out: list[Path] = []
    drums = results.get("drums")
    duration = results.get("duration")  # the audio length, when the runtime knows it
    if isinstance(drums, DrumHits):
        out += [plot_class_distribution(drums, track_dir),
                plot_hit_density(drums, track_dir, duration=duration),
                plot_class_heatmap(drums, track_dir, duration=duration),
                plot_confidence_velocity(drums, track_dir)]
    beats = results.get("beats")
    if isinstance(beats, Beats):
        out.append(plot_tempo_curve(beats, track_dir))
    return out

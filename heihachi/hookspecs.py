"""The whole plugin contract of Heihachi, in one page.

A plugin module implements any of these hooks with ``@heihachi.hookimpl``.
Each ``register_*`` hook receives a ``register`` callback; call it once per
plugin class you provide, e.g. ``register(MyTracker)``. The class must subclass
the matching base class in :mod:`heihachi.tasks`.

Built-in plugins (``heihachi.plugins``) are registered through exactly these
hooks; third-party packages declare an entry point in the ``heihachi`` group::

    [project.entry-points.heihachi]
    energy_beats = "heihachi_energy_beats"
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("heihachi")
hookimpl = pluggy.HookimplMarker("heihachi")

Register = Callable[[type], None]


@hookspec
def register_extractors(register: Register) -> None:
    """Register feature extractor classes (``heihachi.tasks.FeatureExtractor``)."""


@hookspec
def register_beat_trackers(register: Register) -> None:
    """Register beat tracker classes (``heihachi.tasks.BeatTracker``)."""


@hookspec
def register_drum_models(register: Register) -> None:
    """Register drum transcriber/classifier classes (``heihachi.tasks.DrumTranscriber``)."""


@hookspec
def register_separators(register: Register) -> None:
    """Register stem separator classes (``heihachi.tasks.StemSeparator``)."""


@hookspec
def register_captioners(register: Register) -> None:
    """Register captioner classes (``heihachi.tasks.Captioner``)."""


@hookspec
def register_similarity_models(register: Register) -> None:
    """Register joint text-audio models (``heihachi.tasks.SimilarityModel``), e.g. CLAP."""


@hookspec
def register_segmenters(register: Register) -> None:
    """Register segmenter classes (``heihachi.tasks.Segmenter``): sections of a track."""


@hookspec
def register_key_detectors(register: Register) -> None:
    """Register key detector classes (``heihachi.tasks.KeyDetector``): key per track/section."""


@hookspec
def register_online_beat_trackers(register: Register) -> None:
    """Register causal beat trackers (``heihachi.tasks.OnlineBeatTracker``): audio in
    blocks, ``BeatEvent`` s out as soon as each beat is decided."""


@hookspec
def register_process_tasks(register: Register) -> None:
    """Register ``heihachi process`` tasks (``heihachi.process.task.ProcessTask`` subclasses);
    ``process.tasks=[NAME,...]`` selects them by their ``name``."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add commands to the ``heihachi`` click group: ``@cli.command()`` on a function."""

"""The contract of a ``heihachi process`` task: fed from one shared decode, finished from that.

``heihachi process`` decodes each file **once** and feeds every task of the pipeline
from that decode: a task declares the rate and channel count it wants
(``sample_rate``, ``channels``) and, if it needs them, fixed windows (``window_s``,
``hop_s``); the pipeline resamples the shared decode once per distinct
``(rate, channels)`` and cuts each task's windows from it. No task opens the file.

Per track the pipeline calls, for every task in dependency order::

    task.start(track)             # a new file: reset per-track state
    task.feed(window) ...         # its windows, in time order (none when sample_rate is None)
    task.finish(results)          # -> TaskResult; ``results`` maps each name in
                                  #    ``requires`` to that task's result object

and ``task.abort()`` instead of ``finish`` when the track failed. Memory must stay
flat in track length: a task keeps compact per-frame or per-beat features, never
the audio. ``load()`` runs once per run, before the first track (weights).

A task is registered by name (:func:`heihachi.process.registry.task_registry`) through
the ``register_process_tasks`` hook, like every plugin, so an installed package or a
module named in ``process.modules`` can add tasks; ``process.tasks=[...]`` picks
them. A task's own settings are its ``Config`` dataclass, set as
``process.settings.<task>.<key>=VALUE`` (typed and validated like plugin settings).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from heihachi.runtime.audio import Window

__all__ = ["ProcessContext", "ProcessTask", "TaskResult", "TrackInfo", "Window"]


@dataclass(frozen=True)
class TrackInfo:
    """The file a task is about to be fed.

    Attributes:
        path: the input file (never to be opened by a task).
        name: the track's output directory name (``OUT/<name>/``).
        out_dir: ``OUT/<name>/``: where a task may write its own files (atomically,
            through :mod:`heihachi.runtime.atomic`).
        duration: seconds, from the file header; ``None`` when the header does not say
            (the last window's ``duration`` always does).
        native_rate: the file's own sample rate.
        native_channels: the file's own channel count.
    """

    path: Path
    name: str
    out_dir: Path
    duration: float | None = None
    native_rate: int | None = None
    native_channels: int | None = None


@dataclass
class TaskResult:
    """What a task gives for one track.

    Attributes:
        result: the result object. It has ``to_json() -> dict`` (the document body)
            and a ``schema`` (default ``heihachi.<task>/1``), and may have
            ``arrays() -> dict[str, ndarray]`` (written to ``<task>.npz``). The
            pipeline writes ``OUT/<track>/<task>.json`` from it (with the run's
            envelope) and puts the body, or a reference to that file, in
            ``analysis.json``. Tasks that require this one get this object.
        files: files the task wrote itself in the track's directory (reported in
            ``analysis.json``).
        write_json: False for a task whose result needs no ``<task>.json`` of its own.
    """

    result: Any
    files: list[Path] = field(default_factory=list)
    write_json: bool = True


@dataclass
class ProcessContext:
    """What every task of one run shares (read-only for tasks).

    Attributes:
        cfg: the composed Hydra config of the run (``cfg.drums``, ``cfg.runtime``...).
        choices: the config group choices (``{"drums": "drumnet", ...}``).
        overrides: the command line's ``KEY=VALUE`` overrides (plugin tasks build
            their plugins from them the way ``hf`` commands do).
        placement: :class:`heihachi.runtime.placement.Placement` (device, rank,
            autocast); set before ``load()``.
        options: :class:`heihachi.runtime.runner.RunOptions` of the run (output dir,
            batch size, formats, stems).
        shared: a scratch dict tasks of one run may use to share one loaded model
            (e.g. drums and beats both from one drumnet pass).
    """

    cfg: Any = None
    choices: dict[str, Any] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)
    placement: Any = None
    options: Any = None
    shared: dict[str, Any] = field(default_factory=dict)

    def task_config(self, name: str, config_cls: type) -> Any:
        """The typed ``Config`` of task ``name``: its dataclass defaults merged with
        ``process.settings.<name>`` from the config (a wrong key or type raises
        :class:`~heihachi.errors.ConfigError` naming the setting)."""
        from omegaconf import OmegaConf

        from heihachi.errors import ConfigError

        node = OmegaConf.select(self.cfg, f"process.settings.{name}") if self.cfg else None
        if not is_dataclass(config_cls):
            return config_cls()
        try:
            merged = OmegaConf.merge(OmegaConf.structured(config_cls), node or {})
            return OmegaConf.to_object(merged)
        except Exception as e:
            raise ConfigError(f"process.settings.{name}: {str(e).splitlines()[0]}") from None


class ProcessTask:
    """Base of every ``heihachi process`` task. Subclass, set the class attributes and
    write ``start``/``feed``/``finish``.

    Class attributes (an instance may override them in ``load()``, e.g. with the rate
    its model was trained at):
        name: what users select it by in ``process.tasks`` (``"key"``).
        requires: tasks whose results ``finish()`` needs (e.g. ``("beats", "drums")``);
            the pipeline adds them to the run and finishes them first. Read from the
            instance after ``__init__``, so a task may choose them from its config.
        sample_rate: the rate of the windows it is fed; ``None``: it takes no audio
            and works from ``requires`` alone (e.g. ``patterns``).
        channels: 1 (mono mix) or 2 (stereo; mono input duplicated).
        window_s: fixed window length in seconds; ``None``: contiguous blocks as they
            are decoded (no overlap, any length; concatenated they are the file).
        hop_s: window hop (``None``: ``window_s``, no overlap).
        whole_file: with ``window_s=None``, one window of the whole file instead of
            blocks (for plugins that need it; memory then grows with the file).
        inline: put the body in ``analysis.json`` (small results); False references
            ``<task>.json`` instead (hit lists, beat lists).
        Config: the task's own settings (``process.settings.<name>.<key>``).
    """

    name: ClassVar[str] = ""
    requires: ClassVar[tuple[str, ...]] = ()
    sample_rate: ClassVar[int | None] = None
    channels: ClassVar[int] = 1
    window_s: ClassVar[float | None] = None
    hop_s: ClassVar[float | None] = None
    whole_file: ClassVar[bool] = False
    inline: ClassVar[bool] = True

    @dataclass
    class Config:
        """Settings of this task (override in subclasses)."""

    def __init__(self, context: ProcessContext | None = None) -> None:
        self.context = context if context is not None else ProcessContext()
        self.config = self.context.task_config(self.name, self.Config)

    def load(self) -> None:
        """Load weights or build tables once per run, before the first track."""

    def describe(self) -> dict[str, Any]:
        """What changes this task's results (hashed: a rerun with other settings redoes
        the track). Plugin-backed tasks add the plugin, its model and config."""
        cfg = asdict(self.config) if is_dataclass(self.config) else {}
        return {"task": self.name, "class": f"{type(self).__module__}.{type(self).__qualname__}",
                "config": cfg, "sample_rate": self.sample_rate, "channels": self.channels,
                "window_s": self.window_s, "hop_s": self.hop_s}

    def start(self, track: TrackInfo) -> None:
        """A new track begins; forget the previous one."""

    def feed(self, window: Window) -> None:
        """The next window of the track: ``window.start`` seconds, ``window.audio``
        ``[channels, n]`` float32 at ``sample_rate``; ``window.last`` on the final one,
        whose ``window.duration`` is the track's decoded length."""

    def finish(self, results: dict[str, Any]) -> TaskResult:
        """The track's result, from what was fed and the results of ``requires``."""
        raise NotImplementedError

    def abort(self) -> None:
        """The track failed (in this or another task): drop per-track state and files."""
